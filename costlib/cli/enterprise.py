"""``costlib enterprise SCENARIO.yaml``: annual cost of every option in a scenario, with break-evens and uncertainty.

The JSON is strict: a quantity with no value (a break-even never reached, a cost per request when there are no
requests) is ``null`` with a ``reason`` in the same object.
"""
from __future__ import annotations

import math

from . import emit

MAX_SAMPLES = 1_000_000
"""Most Monte Carlo samples one run draws (20,000 give P10/P50/P90 stable to well under 1%)."""
NEVER_REASON = "never reached: {h} costs more than {a} at every volume up to {x:g}x this scenario's"
NO_REQUESTS_REASON = "no requests in this scenario: a cost per request is undefined"
NO_SHARE_REASON = "no small-model share in [0, 1] makes the hybrid cheaper than its large API alone"


def _samples(text: str) -> int:
    from ..errors import InputError

    try:
        value = float(text)
    except ValueError:
        raise InputError("samples", text, f"a whole number of Monte Carlo samples, 100 to {MAX_SAMPLES:,}") from None
    if not math.isfinite(value) or value != int(value) or not 100 <= value <= MAX_SAMPLES:
        shown = int(value) if math.isfinite(value) and value == int(value) else text
        raise InputError("samples", shown, f"a whole number of Monte Carlo samples, 100 to {MAX_SAMPLES:,} (default 20,000)")
    return int(value)


def register(subparsers) -> None:
    import argparse

    class Samples(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            setattr(namespace, self.dest, _samples(values))

    p = subparsers.add_parser(
        "enterprise",
        help="annual cost per option for a workload scenario (YAML), break-evens, Monte Carlo P10/P50/P90",
    )
    p.add_argument("scenario", help="a scenario YAML file, or the name of a shipped example (e.g. sdlc_assistant)")
    p.add_argument("--samples", action=Samples, default=None,
                   help=f"Monte Carlo samples, a whole number 100 to {MAX_SAMPLES:,} (default 20000, seed 0)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def _finite(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def payload(path: str, samples: int | None = None) -> dict:
    from .. import enterprise as ent

    if samples is not None:
        samples = _samples(str(samples))
    sc = ent.load_scenario(path)
    res = ent.annual_cost(sc)
    mc = ent.monte_carlo(sc, ent.MC_SAMPLES if samples is None else samples)
    options = {}
    for name, o in res.options.items():
        per_request = _finite(o.usd_per_request)
        by_task = {k: _finite(v) for k, v in o.usd_per_request_by_task.items()}
        entry = {
            "label": o.label,
            "kind": o.kind,
            "annual_usd": o.annual_usd,
            "monthly_usd": o.monthly_usd,
            "components_usd": dict(o.components_usd),
            "usd_per_request": per_request,
            "usd_per_request_by_task": by_task,
            "gpus": o.gpus,
            "detail": dict(o.detail),
            "monte_carlo_usd": {"p10": mc.p10[name], "p50": mc.p50[name], "p90": mc.p90[name]},
            "probability_cheapest": mc.probability_cheapest[name],
        }
        reasons = {}
        if per_request is None:
            reasons["usd_per_request"] = NO_REQUESTS_REASON
        if any(v is None for v in by_task.values()):
            reasons["usd_per_request_by_task"] = "a task with no requests has no cost per request (null)"
        if reasons:
            entry["null_reasons"] = reasons
        options[name] = entry
    names = list(res.options)
    api = [n for n in names if res.options[n].kind == "api"]
    hosted = [n for n in names if res.options[n].kind == "self_hosted"]
    break_even_volume = []
    max_scale = 100.0
    for h in hosted:
        for a in api:
            x = _finite(ent.break_even_volume(sc, h, a, max_scale=max_scale))
            row = {
                "self_hosted": h, "api": a, "volume_multiple": x,
                "requests_per_month": None if x is None else x * res.annual_requests / 12.0,
            }
            if x is None:
                row["reason"] = NEVER_REASON.format(h=h, a=a, x=max_scale)
            break_even_volume.append(row)
    shares = {n: _finite(ent.break_even_share(sc, n)) for n in names if res.options[n].kind == "hybrid"}
    out = {
        "scenario": sc.name,
        "as_of": sc.as_of,
        "annual_requests": res.annual_requests,
        "requests_by_task": dict(res.requests_by_task),
        "peak_requests_per_s": res.peak_requests_per_s,
        "cheapest_at_mid": res.cheapest,
        "options": options,
        "break_even_volume": break_even_volume,
        "break_even_small_share": shares,
        "monte_carlo": {"samples": mc.n, "seed": mc.seed, "distribution": "independent triangular(low, mid, high) per input"},
    }
    if any(v is None for v in shares.values()):
        out["null_reasons"] = {"break_even_small_share": NO_SHARE_REASON}
    return out


def _money(x, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)


def _text(p: dict) -> str:
    lines = [f"{p['scenario']}  ({p['annual_requests'] / 1e6:,.1f}M requests/year, peak {p['peak_requests_per_s']:.1f} req/s)", ""]
    head = f"{'option':<46} {'annual $':>11} {'monthly $':>10} {'$/request':>10} {'P10-P90 annual $':>21} {'P(cheapest)':>11}"
    lines += [head, "-" * len(head)]
    for o in p["options"].values():
        mc = o["monte_carlo_usd"]
        lines.append(
            f"{o['label'][:46]:<46} {o['annual_usd']:>11,.0f} {o['monthly_usd']:>10,.0f} {_money(o['usd_per_request'], '.5f'):>10} "
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
