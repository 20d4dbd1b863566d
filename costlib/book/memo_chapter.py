"""The budget memo chapter's tables and numbers (``notebooks/01a_budget_memo.ipynb``).

The memo's case (workload, targets, options) is :func:`costlib.book.memo.memo_case`, which the seed audit also
uses for claim ``s1-ent-reduction-memo``; this module turns it into the chapter's exhibits with
:mod:`costlib.planner` (continuous-batching serving model). Figures: :mod:`costlib.book.memo_figures`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .. import planner as pl
from .. import serving
from .. import inference as inf, memory as mem, training as tr
from ..hardware import get_device
from ..models import get_model
from ..present.notebook import rounded
from .memo import memo_case, memo_plan, seed001_saving

SELF_KEYS = ("3B", "8B", "70B", "MoE")
API_KEYS = ("small API", "large API", "frontier API")
"""The memo's self-hosted and API option keys (:data:`costlib.book.memo.SELF_HOSTED` and the three API tiers)."""

DEVELOPER_GRID = (20, 50_000, 400)
"""Developers swept in the break-even figure (from, to, log-spaced points)."""

FLIP_CHANGES = (
    ("requests_per_day", "developers x0.5 / x4", 0.5, 4.0),
    ("peak_to_average", "peak-to-average 2 / 5", 2.0, 5.0),
    ("prompt_tokens", "prompt tokens x0.5 / x2", 0.5, 2.0),
    ("output_tokens", "output tokens x0.5 / x2", 0.5, 2.0),
    ("gpu_price", "GPU $/hour x0.5 / x1.5", 0.5, 1.5),
    ("max_utilization", "max utilization 0.5 / 0.95", 0.5, 0.95),
    ("api_price", "API list price x0.5 / x1.5", 0.5, 1.5),
    ("tpot_s", "TPOT target 20 / 100 ms", 0.02, 0.1),
    ("ttft_s", "TTFT target 0.25 / 2 s", 0.25, 2.0),
)
"""What the flip tornado moves (:func:`costlib.planner.flip_tornado`): (input, label, low, high); the ranges are
this book's choice of a plausible pilot surprise, not measured spreads."""

KEY_POINT = dict(prompt_tokens=1000, output_tokens=250, ttft_s=1.0, tpot_s=0.05)
"""The operating point of the key-numbers page's $/1M tokens figures."""
KEY_SERVING = (("3b", "llama-3.2-3b", "l4", "fp8"), ("8b", "llama-3.1-8b", "l40s", "fp8"), ("70b", "llama-3.1-70b", "h100-sxm", "fp8"))
"""(key, model, GPU, precision) of the key-numbers page's serving figures."""


def results() -> dict:
    """Each option's :class:`costlib.planner.OptionPlan` at the memo's workload, by key."""
    case, plan = memo_case(), memo_plan()
    return {k: plan.option(o.name) for k, o in case.options.items()}


def options_frame() -> pd.DataFrame:
    """One row per option: monthly cost (mid, low, high, P10, P90), USD per 1,000 requests, GPUs and the binding
    constraint (or why it cannot serve)."""
    rows = []
    for r in results().values():
        if not r.feasible:
            rows.append({"option": r.label, "binding constraint": "cannot serve: " + r.reason})
            continue
        rows.append({"option": r.label, "USD per month (mid)": r.monthly_usd.mid, "low": r.monthly_usd.low,
                     "high": r.monthly_usd.high, "P10": r.p10_p90_monthly_usd[0], "P90": r.p10_p90_monthly_usd[1],
                     "USD per 1,000 requests": r.usd_per_1k_requests.mid, "GPUs per replica": r.gpus_per_replica,
                     "GPUs at peak": None if r.gpus is None else r.gpus.mid, "binding constraint": r.binding})
    return pd.DataFrame(rows)


@lru_cache(maxsize=1)
def breakeven_frame() -> pd.DataFrame:
    """Developers above which each self-hosted option costs less than each API (:func:`costlib.planner.break_even`)."""
    case, res = memo_case(), results()
    words = {"above": "above", "below": "below", "always": "at every volume", "never": "never"}
    rows = []
    for k in SELF_KEYS:
        for a in API_KEYS:
            if not (res[k].feasible and res[a].feasible):
                continue
            b = pl.break_even(case.options[k], case.options[a], case.workload, case.targets)
            devs = None if b.requests_per_day is None else b.requests_per_day / case.requests_per_developer_per_day
            rows.append({"self-hosted": case.options[k].label, "against": case.options[a].label, "key": k, "api": a,
                         "self-hosted is cheaper": words[b.cheaper], "developers": devs})
    return pd.DataFrame(rows)


def breakeven_summary() -> pd.DataFrame:
    """One row per self-hosted option, one column per API: 'cheaper above N developers', 'never', 'always'."""
    df = breakeven_frame()
    case = memo_case()

    def cell(r) -> str:
        if r["self-hosted is cheaper"] == "above":
            return f"cheaper above {r['developers']:,.0f} developers"
        return {"never": "never cheaper", "at every volume": "cheaper at every volume", "below": "cheaper only below "
                f"{(r['developers'] or 0):,.0f} developers"}[r["self-hosted is cheaper"]]

    rows = []
    for k in SELF_KEYS:
        sub = df[df["key"] == k]
        if sub.empty:
            continue
        rows.append({"self-hosted": case.options[k].label, **{case.options[r["api"]].label: cell(r) for _, r in sub.iterrows()}})
    return pd.DataFrame(rows)


def breakeven_sentence(k: str, a: str) -> str:
    """'undercuts the large API above about 1,200 developers' (or never / always / cannot be compared)."""
    df = breakeven_frame()
    row = df[(df["key"] == k) & (df["api"] == a)]
    if row.empty:
        return f"cannot be compared with the {a}"
    row = row.iloc[0]
    if row["self-hosted is cheaper"] == "above":
        return f"undercuts the {a} above about {row['developers']:,.0f} developers"
    if row["self-hosted is cheaper"] == "at every volume":
        return f"is cheaper than the {a} at every volume searched"
    return f"never undercuts the {a} in the range searched"


def monthly_curves() -> tuple[np.ndarray, dict[str, pl.Band]]:
    """Developers swept and each option's monthly cost band along them (options that cannot serve left out)."""
    case = memo_case()
    lo, hi, n = DEVELOPER_GRID
    devs = np.geomspace(lo, hi, n)
    out = {}
    for k, o in case.options.items():
        try:
            out[k] = pl.monthly_cost(o, case.workload, case.targets, devs / case.developers)
        except pl.InputError:
            continue
    return devs, out


def best_pair() -> tuple[str, str]:
    """Keys of the cheapest self-hosted option and the cheapest API (mid monthly cost) among those that serve."""
    res = results()
    best_self = min((k for k in SELF_KEYS if res[k].feasible), key=lambda k: res[k].monthly_usd.mid)
    best_api = min((k for k in API_KEYS if res[k].feasible), key=lambda k: res[k].monthly_usd.mid)
    return best_self, best_api


@lru_cache(maxsize=1)
def flip():
    """:func:`costlib.planner.flip_tornado` of the cheapest self-hosted option minus the cheapest API."""
    case = memo_case()
    s, a = best_pair()
    return pl.flip_tornado(case.workload, case.options[s], case.options[a], case.targets, list(FLIP_CHANGES))


def memo_numbers() -> dict[str, float | str]:
    """Every number the memo's prose glues (keys kept: book/key-numbers.md quotes several)."""
    case, plan, res = memo_case(), memo_plan(), results()
    w, W = case.workload, case.scenario.workload
    out: dict[str, float | str] = {
        "m_devs": case.developers, "m_rpd": rounded(w.requests_per_day, 3), "m_days": W.working_days_per_year,
        "m_hours": W.active_hours_per_day, "m_peak": rounded(w.peak_to_average, 3), "m_growth": rounded(100 * w.growth_per_year, 3),
        "m_ttft_ms": rounded(1e3 * case.targets.ttft_s, 3), "m_tpot_ms": rounded(1e3 * case.targets.tpot_s, 3),
        "m_peak_rps": rounded(w.peak_rate_per_s(), 3), "m_req_month_m": rounded(w.requests_per_month() / 1e6, 3),
        "m_ops_self": rounded(case.operations_self_usd_per_month, 3), "m_ops_api": rounded(case.operations_api_usd_per_month, 3),
        "m_cheapest": plan.cheapest.label, "m_cheapest_month": rounded(plan.cheapest.monthly_usd.mid, 3),
        "m_small_api": case.small_api, "m_large_api": case.large_api, "m_frontier_api": case.frontier_api,
        "m_70b_binding": res["70B"].binding,
    }
    for k, key in (("3B", "3b"), ("8B", "8b"), ("70B", "70b"), ("MoE", "moe"), ("small API", "small"),
                   ("large API", "large"), ("frontier API", "frontier")):
        r = res[k]
        if r.feasible:
            out.update({f"m_{key}_month": rounded(r.monthly_usd.mid, 3), f"m_{key}_p10": rounded(r.p10_p90_monthly_usd[0], 3),
                        f"m_{key}_p90": rounded(r.p10_p90_monthly_usd[1], 3), f"m_{key}_per1k": rounded(r.usd_per_1k_requests.mid, 3)})
            if r.gpus is not None:
                out.update({f"m_{key}_gpus": r.gpus.mid, f"m_{key}_k": r.gpus_per_replica})
    out["m_be_sentence"] = "the 8B fleet " + "; it ".join(breakeven_sentence("8B", a) for a in API_KEYS) + "."
    out["m_be_8b_frontier_text"] = breakeven_sentence("8B", "frontier API")
    s, a = best_pair()
    base_gap, rows = flip()
    top = rows[0]
    flippers = [r.label for r in rows if r.flips]
    out.update({"m_flip_self": case.options[s].label, "m_flip_api": case.options[a].label, "m_flip_base": rounded(base_gap, 3),
                "m_flip_top": f"{top.label} (the gap moves from ${(top.difference_at_low or 0):,.0f} to "
                              f"${(top.difference_at_high or 0):,.0f} a month)",
                "m_flippers": ", ".join(flippers) if flippers else "none of them"})
    s1 = seed001_saving()
    out.update({"m_s1_slm_year": rounded(s1.self_hosted_annual_usd, 3), "m_s1_llm_year": rounded(s1.api_annual_usd, 3),
                "m_s1_saving": rounded(100 * s1.saving.mid, 2)})
    out.update(worked_numbers())
    return out


def worked_numbers() -> dict[str, float | str]:
    """Worked problem 1 (twice the traffic on the 8B fleet) and 2 (the 70B's break-even against the large API)."""
    case, res = memo_case(), results()
    w2 = case.workload.scaled(2)
    m8 = pl.evaluate_option(case.options["8B"], w2, case.targets)
    ml = pl.evaluate_option(case.options["large API"], w2, case.targets)
    out: dict[str, float | str] = {
        "wp1_8b": rounded(m8.monthly_usd.mid, 3), "wp1_8b_gpus": m8.gpus.mid, "wp1_large": rounded(ml.monthly_usd.mid, 3),
        "wp1_growth": rounded(100 * (m8.monthly_usd.mid / res["8B"].monthly_usd.mid - 1), 2),
        "wp1_verdict": "still cheaper" if m8.monthly_usd.mid < ml.monthly_usd.mid else "now dearer"}
    if not res["70B"].feasible:
        out["wp2_text"] = "the 70B cannot serve these targets on this GPU: " + res["70B"].reason
        return out
    b = pl.break_even(case.options["70B"], case.options["large API"], case.workload, case.targets)
    if b.cheaper == "above":
        out["wp2_text"] = (f"above about {b.requests_per_day / case.requests_per_developer_per_day:,.0f} developers "
                           f"({b.requests_per_day:,.0f} requests a working day), where {res['70B'].label} starts to cost less.")
    elif b.cheaper == "always":
        out["wp2_text"] = "at every volume searched the 70B fleet is the cheaper one."
    else:
        out["wp2_text"] = ("at no volume in that range does the 70B fleet cost less than the large API: its per-request "
                           "GPU cost stays above the API's list price.")
    return out


def key_numbers() -> dict[str, float | str]:
    """Reference figures of other chapters quoted on ``book/key-numbers.md`` (same costlib calls as those chapters)."""
    w7 = inf.model_weight_bytes(get_model("llama-2-7b"), "fp16")
    q65 = mem.training_memory(mem.LLAMA_65B, "qlora", seq_len=512, batch=1, recompute="full", lora_rank=mem.QLORA_PAPER_RANK)
    out: dict[str, float | str] = {
        "k_ceil7_a100": rounded(get_device("a100-80gb").bandwidth_bytes_s / w7, 3),
        "k_l2_7b_gpu_hours": rounded(tr.get_run("llama2-7b").gpu_hours, 3), "k_qlora65_gb": rounded(q65.total_gb, 3),
        "k_point": "1,000-token prompts, 250-token answers, mean TTFT 1 s and TPOT 50 ms, catalog median on-demand price",
        "k_r1y_off_mid": rounded(100 * (1 - pl.offer_price_factor("reserved-1y").mid), 2),
        "k_spot_off_mid": rounded(100 * (1 - pl.offer_price_factor("spot").mid), 2)}
    p = KEY_POINT
    for key, model, gpu, prec in KEY_SERVING:
        cap = pl.replica_capacity(model, gpu, None, prec, "vllm", (("request", p["prompt_tokens"], p["output_tokens"]),),
                                  pl.Targets(p["ttft_s"], p["tpot_s"]))
        pt = serving.capacity_at_slo(model, gpu, gpus=cap.gpus_per_replica, precision=prec, **p)
        c = serving.costs(pt, pl.catalog_on_demand_price(gpu))["cost_per_1m_output_tokens_usd"]
        out.update({f"k_usd1m_{key}": rounded(c.mid, 3), f"k_usd1m_{key}_lo": rounded(c.low, 3),
                    f"k_usd1m_{key}_hi": rounded(c.high, 3), f"k_rps_{key}": rounded(pt.max_rate_per_replica.mid, 3),
                    f"k_k_{key}": cap.gpus_per_replica})
    return out


def workload_frame() -> pd.DataFrame:
    """The memo's task mix per developer: requests a day, share of requests, prompt and output tokens."""
    case = memo_case()
    per_dev = dict(case.requests_per_developer)
    return pd.DataFrame([{"task": t.name, "requests per developer per day": per_dev[t.name],
                          "share of requests (%)": 100 * t.share, "prompt tokens": t.prompt_tokens,
                          "output tokens": t.output_tokens} for t in case.workload.tasks])
