"""``costlib plan``: what a workload costs a month on each option, ranked, without writing a YAML file.

    python -m costlib plan --requests-per-day 100000 --prompt-tokens 1500 --output-tokens 300 \\
        --ttft-ms 1000 --tpot-ms 50 --option self:llama-3.2-3b@l4 --option self:llama-3.1-70b@h100-sxmx2:fp8 \\
        --option api:small --option api:large --json

Options: ``self:MODEL@GPU[xK][:precision][:engine][:offer]`` (K GPUs per replica, tensor parallel; without
xK the smallest of 1, 2, 4, 8 that meets the targets), ``api:ID`` (or ``api:small`` / ``api:mid`` /
``api:large``: the first current API of that tier) and ``hybrid:SMALL,LARGE,SHARE``. ``--write-scenario``
writes the same question as a scenario YAML for ``costlib enterprise``.
"""
from __future__ import annotations

from . import emit, quantity


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "plan",
        help="monthly cost of a workload on self-hosted, API and hybrid options, ranked (no YAML needed)",
    )
    p.add_argument("--requests-per-day", type=quantity("requests_per_day"), default=None,
                   help="requests per active day (e.g. 100000 or 100k)")
    p.add_argument("--users", type=quantity("users"), default=None, help="users (with --requests-per-user)")
    p.add_argument("--requests-per-user", type=quantity("requests_per_user"), default=None,
                   help="requests per user per active day (with --users)")
    p.add_argument("--prompt-tokens", type=quantity("prompt_tokens"), default=None, help="prompt tokens per request")
    p.add_argument("--output-tokens", type=quantity("output_tokens"), default=None, help="output tokens per request")
    p.add_argument("--task", action="extend", nargs="+", default=None, metavar="NAME:SHARE:PROMPT:OUTPUT",
                   help="a task type of a mix (repeat; shares sum to 1), instead of --prompt-tokens/--output-tokens")
    p.add_argument("--peak-factor", type=float, default=None, help="peak-hour rate over the mean (default 2)")
    p.add_argument("--active-hours", type=float, default=24.0, help="hours a day the traffic is spread over (default 24)")
    p.add_argument("--active-days", type=float, default=365.0, help="active days a year (default 365; 250 for working days)")
    p.add_argument("--growth", type=float, default=0.0, help="traffic growth over the year, a fraction (default 0)")
    p.add_argument("--ttft-ms", type=float, default=None, help="mean time-to-first-token target, ms (default none)")
    p.add_argument("--tpot-ms", type=float, default=None, help="mean time-per-output-token target, ms (default none)")
    p.add_argument("--option", action="extend", nargs="+", required=True, metavar="SPEC",
                   help="self:MODEL@GPU[xK][:precision][:engine][:offer] | api:ID | hybrid:SMALL,LARGE,SHARE (repeat)")
    p.add_argument("--gpu-price", action="extend", nargs="+", default=None, metavar="GPU=USD",
                   help="the on-demand $/GPU-hour you pay for GPU (repeat; default the catalog median); "
                        "reserved and spot offers are derived from it")
    p.add_argument("--max-utilization", type=float, default=None,
                   help="share of the replicas' capacity used at peak (default 0.8)")
    p.add_argument("--min-replicas", type=int, default=1, help="replicas kept however low the traffic (default 1)")
    p.add_argument("--cached-share", type=float, default=0.0, help="share of prompt tokens billed as cached input by APIs")
    p.add_argument("--samples", type=int, default=None, help="Monte Carlo samples for P10-P90 (default 4000, seed 0)")
    p.add_argument("--write-scenario", default=None, metavar="PATH",
                   help="also write the question as a scenario YAML for `costlib enterprise`")
    p.add_argument("--json", action="store_true", help="machine-readable output (strict JSON)")
    p.set_defaults(handler=run)


def _prices(items) -> dict[str, float]:
    from ..errors import InputError
    from ..hardware import get_device

    out = {}
    for item in items or []:
        if "=" not in item:
            raise InputError("gpu_price", item, "GPU=USD, e.g. h100-sxm=2.49")
        gpu, usd = item.split("=", 1)
        try:
            value = float(usd)
        except ValueError:
            raise InputError("gpu_price", item, "GPU=USD with USD a number, e.g. h100-sxm=2.49") from None
        if not value > 0 or value != value or value == float("inf"):
            raise InputError("gpu_price", item, "a price > 0 $/GPU-hour")
        out[get_device(gpu, "gpu_price").id] = value
    return out


def _tasks(items):
    from ..errors import InputError

    out = []
    for item in items:
        bits = item.split(":")
        if len(bits) != 4:
            raise InputError("task", item, "NAME:SHARE:PROMPT:OUTPUT, e.g. completion:0.8:1500:60")
        name, share, p, o = bits
        try:
            out.append((name, float(share), float(p), float(o)))
        except ValueError:
            raise InputError("task", item, "NAME:SHARE:PROMPT:OUTPUT with numbers for SHARE, PROMPT and OUTPUT") from None
    return out


def build(args):
    """(workload, targets, options) from parsed arguments."""
    from .. import planner as pl
    from ..errors import InputError

    kw = {}
    if args.peak_factor is not None:
        kw["peak_to_average"] = args.peak_factor
    if args.task:
        if args.prompt_tokens is not None or args.output_tokens is not None:
            raise InputError("task", args.task[0], "either --task (repeated) or --prompt-tokens/--output-tokens, not both")
        kw["tasks"] = _tasks(args.task)
    else:
        if args.prompt_tokens is None or args.output_tokens is None:
            raise InputError("prompt_tokens", args.prompt_tokens, "--prompt-tokens and --output-tokens (or --task)")
        kw["prompt_tokens"], kw["output_tokens"] = args.prompt_tokens, args.output_tokens
    if args.requests_per_day is None and args.users is None:
        raise InputError("requests_per_day", None, "--requests-per-day, or --users with --requests-per-user")
    w = pl.workload(args.requests_per_day, users=args.users, requests_per_user_per_day=args.requests_per_user,
                    active_hours_per_day=args.active_hours, active_days_per_year=args.active_days,
                    growth_per_year=args.growth, **kw)
    targets = pl.Targets(None if args.ttft_ms is None else _ms("ttft_ms", args.ttft_ms),
                         None if args.tpot_ms is None else _ms("tpot_ms", args.tpot_ms))
    prices = _prices(args.gpu_price)
    util = pl.DEFAULT_MAX_UTILIZATION if args.max_utilization is None else args.max_utilization
    options = [pl.parse_option(s, prices=prices, max_utilization=util, min_replicas=args.min_replicas,
                               cached_input_share=args.cached_share) for s in args.option]
    return w, targets, options


def _ms(name, v) -> float:
    from ..validate import positive

    return float(positive(name, v)) / 1e3


def payload(args) -> dict:
    from .. import planner as pl

    w, targets, options = build(args)
    if args.samples is not None:
        from ..validate import whole

        whole("samples", args.samples)
    p = pl.plan(w, options, targets, samples=args.samples or pl.MC_SAMPLES)
    out = pl.plan_to_dict(p)
    out["assumptions"] = [
        "self-hosted: replicas = max(min_replicas, ceil(sum_k q_k R_peak / C_k / max_utilization)); GPUs rented "
        f"{pl.HOURS_PER_MONTH:g} h a month; C_k from costlib.serving.capacity_at_slo (continuous batching, mean TTFT/TPOT)",
        "reserved and spot prices = the chosen on-demand price x the offer factor of data/offer_discounts.csv",
        "API: dated list prices of the price catalog (costlib.prices.get_api_price), no volume or batch discounts",
    ]
    if args.write_scenario:
        from pathlib import Path

        from ..errors import InputError

        text = pl.scenario_yaml(p, options)
        path = Path(args.write_scenario)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError("write_scenario", args.write_scenario, f"a writable path ({exc.strerror})") from None
        out["scenario_written"] = str(path)
    return out


def _usd(x) -> str:
    return f"{x:,.0f}"


def _text(p: dict) -> str:
    w = p["workload"]
    t = p["targets"]
    tgt = ", ".join(x for x in (f"TTFT <= {t['ttft_s'] * 1e3:g} ms" if t["ttft_s"] else "",
                                f"TPOT <= {t['tpot_s'] * 1e3:g} ms" if t["tpot_s"] else "") if x) or "no latency target"
    shape = "; ".join(f"{x['name']} {x['share']:.0%}: {x['prompt_tokens']:,}+{x['output_tokens']:,} tokens" for x in w["tasks"])
    lines = [f"{w['requests_per_day']:,.0f} requests/day ({p['requests_per_month'] / 1e6:,.2f}M/month), peak "
             f"{p['peak_requests_per_s']:.2f} req/s; {shape}; {tgt} (means)", ""]
    head = f"{'#':>2} {'option':<52} {'GPUs':>9} {'$/month mid (low-high)':>27} {'P10-P90 $/month':>19} {'$/1K req':>9} {'binding':>10}"
    lines += [head, "-" * len(head)]
    for i, o in enumerate(p["options"], 1):
        if not o["feasible"]:
            lines.append(f"{'-':>2} {o['name'][:52]:<52} cannot serve: {o['reason']}")
            continue
        g = o["gpus"]
        gpus = "-" if g is None else (f"{g['mid']:.0f}" if g["low"] == g["high"] else f"{g['mid']:.0f} ({g['low']:.0f}-{g['high']:.0f})")
        m = o["monthly_usd"]
        band = _usd(m["mid"]) if m["low"] == m["high"] else f"{_usd(m['mid'])} ({_usd(m['low'])}-{_usd(m['high'])})"
        pp = o["p10_p90_monthly_usd"]
        lines.append(f"{i:>2} {o['name'][:52]:<52} {gpus:>9} {band:>27} {_usd(pp['p10']) + '-' + _usd(pp['p90']):>19} "
                     f"{o['usd_per_1k_requests']['mid']:>9.3f} {o['binding']:>10}")
    lines.append("")
    shown = set()
    lo, hi = p["break_even_range_requests_per_day"]
    for b in p["break_even"]:
        if b["cheaper"] == "always":
            lines.append(f"break-even: none; {b['option']} is cheaper than {b['against']} at every volume from "
                         f"{lo:,.0f} to {hi:,.0f} requests/day")
            continue
        if b["cheaper"] not in ("above", "below"):
            continue
        key = (frozenset((b["option"], b["against"])), round(b["requests_per_day"], 6))
        if key in shown:  # the same crossing seen from the other side
            continue
        shown.add(key)
        lines.append(f"break-even: {b['option']} is cheaper than {b['against']} {b['cheaper']} "
                     f"{b['requests_per_day']:,.0f} requests/day")
    if p.get("scenario_written"):
        lines.append(f"scenario written to {p['scenario_written']} (run: python -m costlib enterprise {p['scenario_written']})")
    lines.append("Bands: " + p["bands"] + ". Full detail: --json")
    return "\n".join(lines)


def run(args) -> None:
    emit(args, payload(args), _text)
