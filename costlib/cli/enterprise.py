"""``costlib enterprise SCENARIO.yaml``: annual cost of every option in a scenario, with break-evens and uncertainty."""
from __future__ import annotations

from . import emit


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "enterprise",
        help="annual cost per option for a workload scenario (YAML), break-evens, Monte Carlo P10/P50/P90",
    )
    p.add_argument("scenario", help="a scenario YAML file, or the name of a shipped example (e.g. sdlc_assistant)")
    p.add_argument("--samples", type=int, default=None, help="Monte Carlo samples (default 20000, seed 0)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def payload(path: str, samples: int | None = None) -> dict:
    from .. import enterprise as ent

    sc = ent.load_scenario(path)
    res = ent.annual_cost(sc)
    mc = ent.monte_carlo(sc, samples or ent.MC_SAMPLES)
    options = {}
    for name, o in res.options.items():
        options[name] = {
            "label": o.label,
            "kind": o.kind,
            "annual_usd": o.annual_usd,
            "monthly_usd": o.monthly_usd,
            "components_usd": dict(o.components_usd),
            "usd_per_request": o.usd_per_request,
            "usd_per_request_by_task": dict(o.usd_per_request_by_task),
            "gpus": o.gpus,
            "detail": dict(o.detail),
            "monte_carlo_usd": {"p10": mc.p10[name], "p50": mc.p50[name], "p90": mc.p90[name]},
            "probability_cheapest": mc.probability_cheapest[name],
        }
    names = list(res.options)
    api = [n for n in names if res.options[n].kind == "api"]
    hosted = [n for n in names if res.options[n].kind == "self_hosted"]
    break_even_volume = []
    for h in hosted:
        for a in api:
            x = ent.break_even_volume(sc, h, a)
            break_even_volume.append({
                "self_hosted": h, "api": a, "volume_multiple": x,
                "requests_per_month": x * res.annual_requests / 12.0 if x == x else None,
            })
    break_even_share = {n: ent.break_even_share(sc, n) for n in names if res.options[n].kind == "hybrid"}
    return {
        "scenario": sc.name,
        "as_of": sc.as_of,
        "annual_requests": res.annual_requests,
        "requests_by_task": dict(res.requests_by_task),
        "peak_requests_per_s": res.peak_requests_per_s,
        "cheapest_at_mid": res.cheapest,
        "options": options,
        "break_even_volume": break_even_volume,
        "break_even_small_share": {k: (v if v == v else None) for k, v in break_even_share.items()},
        "monte_carlo": {"samples": mc.n, "seed": mc.seed, "distribution": "independent triangular(low, mid, high) per input"},
    }


def _text(p: dict) -> str:
    lines = [f"{p['scenario']}  ({p['annual_requests'] / 1e6:,.1f}M requests/year, peak {p['peak_requests_per_s']:.1f} req/s)", ""]
    head = f"{'option':<46} {'annual $':>11} {'monthly $':>10} {'$/request':>10} {'P10-P90 annual $':>21} {'P(cheapest)':>11}"
    lines += [head, "-" * len(head)]
    for o in p["options"].values():
        mc = o["monte_carlo_usd"]
        lines.append(
            f"{o['label'][:46]:<46} {o['annual_usd']:>11,.0f} {o['monthly_usd']:>10,.0f} {o['usd_per_request']:>10.5f} "
            f"{mc['p10']:>10,.0f}-{mc['p90']:<10,.0f} {o['probability_cheapest']:>11.0%}"
        )
    lines.append(f"cheapest at mid inputs: {p['cheapest_at_mid']}")
    for b in p["break_even_volume"]:
        if b["requests_per_month"] is None:
            lines.append(f"break-even: {b['self_hosted']} never beats {b['api']} up to 100x this volume")
        else:
            lines.append(f"break-even: {b['self_hosted']} beats {b['api']} above {b['requests_per_month'] / 1e6:,.2f}M requests/month "
                         f"({b['volume_multiple']:.2f}x this volume)")
    for k, v in p["break_even_small_share"].items():
        lines.append(f"break-even small-model share for {k}: " + ("none in [0, 1]" if v is None else f"{v:.0%}"))
    lines.append("Monte Carlo: independent triangular inputs, seed 0. Full detail: --json")
    return "\n".join(lines)


def run(args) -> None:
    emit(args, payload(args.scenario, args.samples), _text)
