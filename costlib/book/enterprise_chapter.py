"""The enterprise chapter's analyses (``notebooks/06_enterprise.ipynb``): an SDLC assistant's annual cost.

Every table, number and sweep the chapter shows is computed here from :mod:`costlib.enterprise` (the cost model,
which sizes self-hosted fleets on the continuous-batching serving model of :mod:`costlib.serving` through
:func:`costlib.planner.replica_capacity`: the same model as the budget memo and ``costlib plan``), the dated
price catalogs and the three scenario files in ``costlib/data/scenarios/``. The chapter keeps prose and one
visible call per exhibit; its figures are in :mod:`costlib.book.enterprise_figures`.

The APIs compared are current offers of :func:`costlib.prices.api_tiers` (the superseded GPT-4o rows stay in the
price catalog as dated history only): :data:`LARGE_API` (the large OpenAI tier, GPT-4o's successor) and
:data:`SMALL_API` (the small OpenAI tier, GPT-4o mini's successor) in the scenarios, plus :data:`COMPARED_APIS`
in the break-even section.

The seed's own claims (seed 001's annual table, seed 000's monthly range) are shown through
:mod:`costlib.book.claims` (the seed audit's one verdict per claim), never judged here.

References: [1] seed 001, section 8 "Enterprise example (annual)"; [2] seed 000, section 5 "Recommendation";
[3] L. Chen et al., FrugalGPT (2023); [4] I. Ong et al., RouteLLM (2024).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .. import enterprise as ent
from .. import routing
from ..planner import offer_price_factor
from ..prices import api_tiers, get_api_price, gpu_price_band, prices_for
from ..present.notebook import rounded
from .claims import claims_frame
from ..units import HOURS_PER_MONTH

REFERENCE = "sdlc_assistant"
SEED001 = "seed001_sdlc"
SEED000 = "seed000_single_l4"
"""The chapter's three scenario files (``costlib/data/scenarios/<name>.yaml``)."""

LARGE_API = "openai-gpt-6.1-sol"
SMALL_API = "openai-gpt-6-luna"
"""The API options of the scenarios: OpenAI's current large and small tiers (genai-prices 0.2.3, priced
2026-12-01), the successors of GPT-4o and GPT-4o mini (``successor`` in ``data/api_prices.csv``)."""

COMPARED_APIS = (LARGE_API, "anthropic-claude-sonnet-5.5", "deepseek-v4.1-flash", SMALL_API)
"""The APIs of the break-even section: the scenarios' two, and the current successors of the 2024 rows the chapter
compared before (Claude 3.5 Sonnet -> Claude Sonnet 5.5, DeepSeek-V3.2 -> DeepSeek V4.1 Flash)."""

SEED001_LINES = (
    ("LLM-only: inference", 300_000, "llm_api", "inference"),
    ("LLM-only: infrastructure (input)", 80_000, "llm_api", "operations"),
    ("LLM-only: total", 380_000, "llm_api", None),
    ("SLM-first: fine-tuning (input)", 10_000, "slm_l40s", "finetune"),
    ("SLM-first: inference (7B on L40S, on demand)", 40_000, "slm_l40s", "inference"),
    ("SLM-first: infrastructure (input)", 20_000, "slm_l40s", "operations"),
    ("SLM-first: total", 70_000, "slm_l40s", None),
)
"""Seed 001's annual table [1] (line, seed's $/year, option, component; None: the option's total)."""

SEED001_CLAIMS = ("s1-ent-ft-slm", "s1-ent-ft-llm", "s1-ent-infer-slm", "s1-ent-infer-llm", "s1-ent-infra-slm",
                  "s1-ent-infra-llm", "s1-ent-total-slm", "s1-ent-total-llm", "s1-ent-reduction")
SEED000_CLAIMS = ("s0-rec-monthly",)
"""The seed claims the chapter discusses (``CHAPTER_CLAIMS["enterprise"]`` of :mod:`costlib.book.claims`)."""

SEED_SAVING = (0.70, 0.80)
"""Seed 001's "reduce cost by 70-80%" [1], the band the saving curves are read against."""

SEED000_BUDGET_INR = (8_000, 25_000)
"""Seed 000's "Monthly Cost: ₹8k-₹25k (India cloud)" [2]."""

SAVING_DEVELOPERS = (20, 20_000, 300)
"""Developers swept in the saving exhibit (from, to, log-spaced points)."""

ESCALATION_RATES = (0.05, 0.10, 0.25)
"""Escalation rates compared in the hybrid section (the reference scenario's low, mid and high)."""

VOLUME_SCALE_MAX = 30.0
"""Largest volume of the break-even section, times the reference volume."""

SELF_HOSTED_GPUS = (("l4", "int4", 2), ("l40s", "fp8", 1), ("h100-sxm", "fp8", 1))
"""The 7B model's GPUs in the break-even section, each at the precision it runs best and with the fewest GPUs per
replica that meet the completion targets (one L4 cannot: the scenario's slm_l4 option says why)."""

TORNADO_N = 12
"""Inputs shown in the tornado."""

MC_SEED = 0
"""Seed of the Monte Carlo draws (fixed: re-executing the chapter gives the same numbers)."""

WORKED_GPU_PRICE = 1.20
"""The L40S on-demand price of worked problem 2 (USD per GPU-hour; a reader's quote, not a catalog figure)."""

SEED000_MAX_USERS = 1000
"""Largest team size searched for what one L4 serves."""


# ------------------------------------------------------------------------------------------- scenarios
@lru_cache(maxsize=None)
def scenario(name: str = REFERENCE) -> ent.Scenario:
    """One of the chapter's scenarios, loaded once."""
    return ent.load_scenario(name)


@lru_cache(maxsize=None)
def result(name: str = REFERENCE) -> ent.AnnualCost:
    """:func:`costlib.enterprise.annual_cost` of a scenario at its mid inputs, computed once."""
    return ent.annual_cost(scenario(name))


def api_note(api_id: str) -> str:
    """'GPT-6.1 Sol (OpenAI large tier, $2 in / $10 out per 1M tokens, priced 2026-12-01)'."""
    p = get_api_price(api_id)
    tier = next((t for t, ids in api_tiers().items() if api_id in ids), p.tier)
    return (f"{p.model} ({p.provider} {tier} tier, ${p.input_usd_per_1m:g} in / ${p.output_usd_per_1m:g} out per 1M "
            f"tokens, priced {p.as_of})")


def _pct(x: float) -> float:
    return rounded(100.0 * x, 2)


def developers_text(x: float, *, none: str) -> str:
    """'about 1,400 developers' (2 significant figures), or ``none`` when ``x`` is not finite (never in range)."""
    return f"about {rounded(x, 2):,.0f} developers" if np.isfinite(x) else none


def in_words(text: str, sc: ent.Scenario | None = None) -> str:
    """A parameter label with each option's id (``slm_l40s: ...``) replaced by the option's label."""
    sc = sc or scenario()
    for name in sorted(sc.option_names, key=len, reverse=True):
        if text.startswith(name + ":"):
            return sc.option(name).label + text[len(name):]
    return text


def claims_exhibit(claim_ids, label: str):
    """The seed audit's rows for ``claim_ids`` (:func:`costlib.book.claims.claims_frame`, markers kept) with the
    verdict next to the claim id, so that it stays on screen on a narrow page; a Styler like ``claims_table``."""
    df = claims_frame(claim_ids)
    df = df[["claim id", "verdict", "claim", "claimed", "costlib"]]
    plain = [c for c in df.columns if c != "verdict"]
    return df.style.hide(axis="index").set_uuid(label.replace("-", "_")).format(escape="html", subset=plain)


# ------------------------------------------------------------------------------------------- section 1
def seed001_frame() -> pd.DataFrame:
    """Seed 001's annual lines [1] against this model at the seed-001 scenario's volume."""
    r = result(SEED001)
    rows = []
    for line, seed_usd, opt, comp in SEED001_LINES:
        o = r.options[opt]
        v = o.annual_usd if comp is None else o.components_usd[comp]
        rows.append({"line": line, "seed 001 (USD/year)": seed_usd, "this model (USD/year)": v, "model / seed": v / seed_usd})
    return pd.DataFrame(rows)


@lru_cache(maxsize=1)
def saving_curves() -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Developers swept, and per (fixed costs, option) the saving 1 - option / LLM API along them."""
    lo, hi, n = SAVING_DEVELOPERS
    devs = np.geomspace(lo, hi, n)
    curves = {}
    for set_name, name, keys in (("seed 001", SEED001, ("slm_l40s", "slm_l40s_reserved", "hybrid", "slm_l4")),
                                 ("reference", REFERENCE, ("slm_l40s", "slm_l40s_reserved", "hybrid"))):
        sc = scenario(name)
        tot = ent.sweep(sc, "volume_scale", devs / sc.workload.users.mid)
        for k in keys:
            curves[(set_name, k)] = 1.0 - np.broadcast_to(tot[k], devs.shape) / np.broadcast_to(tot["llm_api"], devs.shape)
    return devs, curves


def saving_frame() -> pd.DataFrame:
    """Where the seed's 70-80% holds: per fixed-cost set and option, the developers over which the saving is in the
    band, where the option costs more than the LLM API, and its best saving over the sweep."""
    devs, curves = saving_curves()
    lo, hi = SEED_SAVING
    rows = []
    for (set_name, k), s in curves.items():
        win, neg = np.flatnonzero((s >= lo) & (s <= hi)), np.flatnonzero(s < 0)
        sc = scenario(SEED001 if set_name == "seed 001" else REFERENCE)
        rows.append({"fixed costs": set_name, "option": sc.option(k).label, "key": k,
                     "70-80% from (developers)": float(devs[win[0]]) if win.size else np.nan,
                     "70-80% up to (developers)": float(devs[win[-1]]) if win.size else np.nan,
                     "costs more than the LLM API (developers)": f"{devs[neg[0]]:,.0f} to {devs[neg[-1]]:,.0f}" if neg.size else "never",
                     "costs more up to": float(devs[neg[-1]]) if neg.size else np.nan,
                     "best saving (%)": float(100 * s.max())})
    return pd.DataFrame(rows)


def _cell(df: pd.DataFrame, set_name: str, key: str, col: str) -> float:
    return float(df.loc[(df["fixed costs"] == set_name) & (df["key"] == key), col].iloc[0])


def seed001_numbers() -> dict[str, float | str]:
    """The glued numbers of section 1 (seed 001's table and where its saving holds)."""
    sc1, r1 = scenario(SEED001), result(SEED001)
    users = sc1.workload.users.mid
    llm, slm, slm_r, hyb = (r1.options[k] for k in ("llm_api", "slm_l40s", "slm_l40s_reserved", "hybrid"))
    saving = {k: 1 - r1.options[k].annual_usd / llm.annual_usd for k in ("slm_l40s", "slm_l40s_reserved", "hybrid", "slm_l4")}
    big = get_api_price(LARGE_API)
    ref = scenario(REFERENCE)
    sav = saving_frame()
    neg_seed = [_cell(sav, "seed 001", k, "costs more up to") for k in ("slm_l40s", "slm_l40s_reserved")]
    sign = ("self-hosting is cheaper than the LLM API at every volume plotted" if not np.isfinite(neg_seed).any()
            else f"self-hosting costs more than the LLM API up to about {np.nanmax(neg_seed):,.0f} developers")
    return {
        "s1_users": users, "s1_requests_m": rounded(r1.annual_requests / 1e6, 3),
        "s1_llm_total": rounded(llm.annual_usd, 3), "s1_llm_inf": rounded(llm.components_usd["inference"], 3),
        "s1_slm_total": rounded(slm.annual_usd, 3), "s1_slm_inf": rounded(slm.components_usd["inference"], 3),
        "s1_slm_gpus": slm.gpus, "s1_slm_r_total": rounded(slm_r.annual_usd, 3), "s1_hyb_total": rounded(hyb.annual_usd, 3),
        "s1_saving_slm": _pct(saving["slm_l40s"]), "s1_saving_slm_r": _pct(saving["slm_l40s_reserved"]),
        "s1_saving_hyb": _pct(saving["hybrid"]), "s1_saving_l4": _pct(saving["slm_l4"]),
        "s1_dev_llm": rounded(users * ent.volume_for_annual_cost(sc1, "llm_api", 380_000), 2),
        "s1_dev_slm": rounded(users * ent.volume_for_annual_cost(sc1, "slm_l40s", 70_000), 2),
        "s1_seed_saving": _pct(1 - 70 / 380),
        "s1_compl_budget": next(t for t in sc1.workload.tasks if t.name == "completion").latency_budget_s,
        "llm_api_name": big.model, "llm_api_note": api_note(LARGE_API), "llm_api_as_of": big.as_of,
        "llm_api_in": big.input_usd_per_1m, "llm_api_out": big.output_usd_per_1m,
        "small_api_name": get_api_price(SMALL_API).model, "small_api_note": api_note(SMALL_API),
        "sav_dev_lo": SAVING_DEVELOPERS[0], "sav_dev_hi": SAVING_DEVELOPERS[1],
        "ref_api_ops": ref.option("llm_api").operations_usd_per_year.mid,
        "ref_slm_ops": ref.option("slm_l40s").operations_usd_per_year.mid,
        "ref_ft": ref.option("slm_l40s").finetune_usd.mid,
        "s1_od_from": developers_text(_cell(sav, "seed 001", "slm_l40s", "70-80% from (developers)"),
                                      none=f"at no volume up to {SAVING_DEVELOPERS[1]:,} developers"),
        "s1_od_best": rounded(_cell(sav, "seed 001", "slm_l40s", "best saving (%)"), 2),
        "s1_r_from": developers_text(_cell(sav, "seed 001", "slm_l40s_reserved", "70-80% from (developers)"),
                                     none=f"at no volume up to {SAVING_DEVELOPERS[1]:,} developers"),
        "s1_hyb_best": rounded(_cell(sav, "seed 001", "hybrid", "best saving (%)"), 2),
        "ref_od_neg": developers_text(_cell(sav, "reference", "slm_l40s", "costs more up to"), none="no volume"),
        "ref_r_neg": developers_text(_cell(sav, "reference", "slm_l40s_reserved", "costs more up to"), none="no volume"),
        "ref_od_best": rounded(_cell(sav, "reference", "slm_l40s", "best saving (%)"), 2),
        "ref_r_best": rounded(_cell(sav, "reference", "slm_l40s_reserved", "best saving (%)"), 2),
        "s1_sign": sign,
    }


# ------------------------------------------------------------------------------------------- section 2
def workload_frame() -> pd.DataFrame:
    """The reference workload per developer (mid values) with each task's targets and yearly requests."""
    sc, r = scenario(), result()
    rows = []
    for t in sc.workload.tasks:
        tg = ent.task_targets(t)
        rows.append({"task": t.name, "requests per developer per day": t.requests_per_user_per_day.mid,
                     "prompt tokens": t.prompt_tokens.mid, "output tokens": t.output_tokens.mid,
                     "mean TTFT target (ms)": tg.ttft_s * 1e3, "mean TPOT target (ms)": tg.tpot_s * 1e3,
                     "requests per year (millions)": r.requests_by_task[t.name] / 1e6})
    return pd.DataFrame(rows)


def totals_frame() -> pd.DataFrame:
    """Per option: annual and monthly cost, USD per 1,000 requests, self-hosted GPUs (the decisive columns)."""
    r = result()
    return pd.DataFrame([{"option": o.label, "annual cost (USD)": o.annual_usd, "monthly cost (USD)": o.monthly_usd,
                          "USD per 1,000 requests": 1000 * o.usd_per_request,
                          "GPUs": np.nan if o.gpus is None else o.gpus} for o in r.options.values()])


COMPONENT_LABELS = {"finetune": "fine-tuning", "inference": "inference", "large_routed": "LLM routed",
                    "large_escalated": "LLM escalated", "router": "router", "operations": "operations"}
"""Component columns of the breakdown, in words ('operations' sums a hybrid's router and both models' operations)."""


def components_frame() -> pd.DataFrame:
    """Per option: the annual cost by component (USD a year, mid inputs); all-zero components dropped."""
    r = result()
    rows = []
    for o in r.options.values():
        c = o.components_usd
        ops = sum(c.get(k, 0.0) for k in ("operations", "small_operations", "large_operations"))
        row = {"option": o.label, **{COMPONENT_LABELS[k]: c.get(k, 0.0) for k in COMPONENT_LABELS if k != "operations"},
               "operations": ops}
        rows.append(row)
    df = pd.DataFrame(rows)
    keep = ["option"] + [c for c in df.columns[1:] if df[c].abs().sum() > 0]
    return df[keep]


def per_task_frame() -> pd.DataFrame:
    """USD per 1,000 requests of each task type, per option (fixed costs spread evenly over all requests)."""
    r = result()
    return pd.DataFrame([{"option": o.label, **{t: 1000 * v for t, v in o.usd_per_request_by_task.items()}}
                         for o in r.options.values()])


def reference_numbers() -> dict[str, float | str]:
    """The glued numbers of section 2 (the reference assistant at mid inputs)."""
    sc, r = scenario(), result()
    w = sc.workload
    compl = next(t for t in w.tasks if t.name == "completion")
    cheap, slm40 = r.options[r.cheapest], r.options["slm_l40s"]
    prof40, prof4 = (ent.serving_profile(sc.option(k), w) for k in ("slm_l40s", "slm_l4"))
    o40 = sc.option("slm_l40s")
    ftc = ent.finetune_compute(o40)
    out: dict[str, float | str] = {
        "r_users": w.users.mid, "r_days": w.working_days_per_year, "r_n_tasks": len(w.tasks),
        "r_compl_budget": compl.latency_budget_s, "r_compl_ttft_ms": 1e3 * ent.task_targets(compl).ttft_s,
        "r_compl_tpot_ms": 1e3 * ent.task_targets(compl).tpot_s, "r_compl_prompt": compl.prompt_tokens.mid,
        "r_growth": 100 * w.growth_per_year.mid, "r_peak": w.peak_to_average.mid, "r_hours": w.active_hours_per_day,
        "r_cached": 100 * w.cached_prompt_share.mid, "r_requests_m": rounded(r.annual_requests / 1e6, 3),
        "r_peak_rps": rounded(r.peak_requests_per_s, 3),
        "r_cheapest": cheap.label, "r_cheapest_annual": rounded(cheap.annual_usd, 3),
        "r_slm40_gpus": slm40.gpus, "r_slm4_gpus": r.options["slm_l4"].gpus,
        "r_ops_share": _pct((slm40.components_usd["operations"] + slm40.components_usd["finetune"]) / slm40.annual_usd),
        "r_l4_completion_batch": prof4.batch["completion"], "r_l40_completion_batch": prof40.batch["completion"],
        "r_l4_completion_tps": rounded(prof4.throughput_tokens_per_s["completion"], 3),
        "r_l40_completion_tps": rounded(prof40.throughput_tokens_per_s["completion"], 3),
        "r_l4_completion_binding": prof4.binding["completion"], "r_l40_completion_binding": prof40.binding["completion"],
        "ft_lo": rounded(ftc.low, 2), "ft_hi": rounded(ftc.high, 2), "ft_runs": o40.finetune_runs_per_year,
        "ft_tokens_m": o40.finetune_tokens / 1e6, "ft_gpu": o40.finetune_gpu, "ft_people": o40.finetune_usd.mid,
    }
    for key, opt in (("llm", "llm_api"), ("small", "small_api"), ("slm40", "slm_l40s"), ("slm4", "slm_l4"),
                     ("slm40r", "slm_l40s_reserved"), ("hyb", "hybrid"), ("hybapi", "hybrid_api")):
        out[f"r_{key}_annual"] = rounded(r.options[opt].annual_usd, 3)
    out["r_llm_monthly"] = rounded(r.options["llm_api"].monthly_usd, 3)
    return out


# ------------------------------------------------------------------------------------------- section 3
SHARES = np.linspace(0.0, 1.0, 201)
"""Shares of traffic routed to the small model, swept in the hybrid section."""


def hybrid_curves() -> dict[tuple[str, float], np.ndarray]:
    """Annual cost of each hybrid along :data:`SHARES`, per (hybrid, escalation rate)."""
    sc = scenario()
    return {(h, e): np.broadcast_to(ent.sweep(sc, f"{h}.small_share", SHARES, {f"{h}.escalation_rate": e})[h], SHARES.shape)
            for h in ("hybrid", "hybrid_api") for e in ESCALATION_RATES}


def breakeven_share_frame() -> pd.DataFrame:
    """Smallest share routed to the small model at which each hybrid costs less than the LLM API alone."""
    sc = scenario()
    return pd.DataFrame([{"hybrid": sc.option(h).label, "escalation rate (%)": 100 * e,
                          "break-even share (%)": 100 * ent.break_even_share(sc, h, values={f"{h}.escalation_rate": e})}
                         for h in ("hybrid", "hybrid_api") for e in ESCALATION_RATES])


def hybrid_numbers() -> dict[str, float | str]:
    """Section 3's numbers, with the closed form of :func:`costlib.routing.break_even_share` as a check."""
    sc, r = scenario(), result()
    esc_mid, esc_high = ESCALATION_RATES[1], ESCALATION_RATES[-1]
    c_s = float(r.options["small_api"].components_usd["inference"]) / r.annual_requests
    c_l = float(r.options["llm_api"].components_usd["inference"]) / r.annual_requests
    fixed = sum(r.options["hybrid_api"].components_usd[k] for k in ("small_operations", "operations"))
    closed = routing.break_even_share(c_s, c_l, escalation_rate=esc_mid, router_usd_per_request=sc.option("hybrid_api").router_usd_per_request.mid,
                                      fixed_usd=fixed, requests=r.annual_requests)
    x25 = 100 * ent.break_even_share(sc, "hybrid", values={"hybrid.escalation_rate": esc_high})
    return {"h_esc_rates": ", ".join(f"{e:.0%}" for e in ESCALATION_RATES[:-1]) + f" and {ESCALATION_RATES[-1]:.0%}",
            "h_esc_mid": 100 * esc_mid, "h_esc_high": 100 * esc_high,
            "h_be_api_10": _pct(ent.break_even_share(sc, "hybrid_api")), "h_be_api_closed": _pct(closed),
            "h_be_slm_10": _share_text(100 * ent.break_even_share(sc, "hybrid")),
            "h_be_slm_25": _share_text(x25),
            "h_share_mid": 100 * sc.option("hybrid").small_share.mid,
            "c_s_per_1k": rounded(1000 * c_s, 3), "c_l_per_1k": rounded(1000 * c_l, 3)}


def _share_text(x_pct: float) -> str:
    return f"{x_pct:.0f}% of the traffic" if np.isfinite(x_pct) else "never reached (no share makes it cheaper)"


# ------------------------------------------------------------------------------------------- section 4
@lru_cache(maxsize=1)
def volume_scenario() -> ent.Scenario:
    """The reference workload with one API option per :data:`COMPARED_APIS` and the 7B model self-hosted on each
    of :data:`SELF_HOSTED_GPUS` (the L40S option's other inputs)."""
    base = ent.scenario_to_dict(scenario())
    tmpl = next(o for o in base["options"] if o["name"] == "slm_l40s")
    ops = next(o for o in base["options"] if o["name"] == "llm_api")["operations_usd_per_year"]
    opts = [{"name": a.replace(".", "_").replace("-", "_"), "kind": "api", "api": a, "label": get_api_price(a).model,
             "operations_usd_per_year": ops} for a in COMPARED_APIS]
    for gpu, prec, k in SELF_HOSTED_GPUS:
        o = {key: v for key, v in tmpl.items() if key not in ("price_usd_per_gpu_hour", "label")}
        o.update(name=f"self_{gpu.replace('-', '_')}", gpu=gpu, precision=prec, gpus_per_replica=k,
                 label=f"{tmpl['model']} {prec.upper()} on " + (f"{k} x {gpu.upper()}" if k > 1 else gpu.upper()))
        opts.append(o)
    return ent.scenario_from_dict(dict(base, options=opts))


def volume_curves() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Monthly requests (millions) swept, and each option's monthly cost (USD) along them."""
    sc4 = volume_scenario()
    month_req = ent.annual_cost(sc4).annual_requests / 12
    scales = np.geomspace(0.01, VOLUME_SCALE_MAX, 400)
    tot = ent.sweep(sc4, "volume_scale", scales)
    return scales * month_req / 1e6, {n: np.broadcast_to(tot[n], scales.shape) / 12 for n in sc4.option_names}


def breakeven_volume_frame() -> pd.DataFrame:
    """Monthly requests above which each self-hosted option costs less than each API, and the developers that is."""
    sc4 = volume_scenario()
    month_req = ent.annual_cost(sc4).annual_requests / 12
    users = scenario().workload.users.mid
    rows = []
    for gname in (n for n in sc4.option_names if n.startswith("self")):
        o = sc4.option(gname)
        for a in COMPARED_APIS:
            x = ent.break_even_volume(sc4, gname, a.replace(".", "_").replace("-", "_"))
            p = get_api_price(a)
            rows.append({"self-hosted": f"{o.label} (${o.price_usd_per_gpu_hour.mid:.2f} per GPU-hour)",
                         "API": f"{p.model} (${p.input_usd_per_1m:g} / ${p.output_usd_per_1m:g} per 1M, {p.as_of})",
                         "api_id": a, "gpu": o.gpu,
                         "break-even (million requests per month)": x * month_req / 1e6, "about (developers)": x * users})
    return pd.DataFrame(rows)


def _never_text() -> str:
    return f"never, up to {VOLUME_SCALE_MAX * scenario().workload.users.mid:,.0f} developers"


def breakeven_volume_summary() -> pd.DataFrame:
    """One row per self-hosted GPU, one column per API: the developers above which self-hosting costs less."""
    bev = breakeven_volume_frame()
    rows = []
    for label, sub in bev.groupby("self-hosted", sort=False):
        rows.append({"self-hosted (7B)": label, **{get_api_price(r["api_id"]).model: developers_text(
            r["about (developers)"], none=_never_text()) for _, r in sub.iterrows()}})
    return pd.DataFrame(rows)


def volume_numbers() -> dict[str, float | str]:
    """Section 4's numbers: break-even developers of the L40S and H100 options against each API."""
    bev = breakeven_volume_frame()
    sc4 = volume_scenario()

    def dev(gpu: str, api: str) -> float:
        return float(bev.loc[(bev["gpu"] == gpu) & (bev["api_id"] == api), "about (developers)"].iloc[0])

    def text(x: float) -> str:
        return developers_text(x, none=_never_text())

    return {"v_scale_max": VOLUME_SCALE_MAX, "v_n_gpus": len(SELF_HOSTED_GPUS), "v_n_apis": len(COMPARED_APIS),
            "v_min_replicas": scenario().option("slm_l40s").min_replicas,
            "v_l40s_llm_dev": text(dev("l40s", LARGE_API)), "v_h100_llm_dev": text(dev("h100-sxm", LARGE_API)),
            "v_l40s_mid_dev": text(dev("l40s", COMPARED_APIS[1])), "v_l40s_ds_dev": text(dev("l40s", COMPARED_APIS[2])),
            "v_l40s_small_dev": text(dev("l40s", SMALL_API)),
            "v_mid_api": get_api_price(COMPARED_APIS[1]).model, "v_ds_api": get_api_price(COMPARED_APIS[2]).model,
            "v_month_req_m": rounded(ent.annual_cost(sc4).annual_requests / 12 / 1e6, 3)}


# ------------------------------------------------------------------------------------------- section 5
def tornado_rows() -> list[ent.TornadoRow]:
    """The :data:`TORNADO_N` inputs that move the self-hosted L40S option's annual cost most."""
    return ent.sensitivity(scenario(), "slm_l40s")[:TORNADO_N]


def tornado_frame() -> pd.DataFrame:
    """One-at-a-time sensitivity of the self-hosted L40S option: each input's low and high and the cost at each."""
    return pd.DataFrame([{"input": in_words(r.label), "low": r.low_value, "high": r.high_value, "cost at low (USD)": r.cost_at_low,
                          "cost at high (USD)": r.cost_at_high} for r in tornado_rows()])


@lru_cache(maxsize=1)
def monte_carlo() -> ent.MonteCarlo:
    """:func:`costlib.enterprise.monte_carlo` of the reference scenario (:data:`MC_SEED`)."""
    return ent.monte_carlo(scenario(), n=ent.MC_SAMPLES, seed=MC_SEED)


def monte_carlo_frame() -> pd.DataFrame:
    """Per option: cost at mid inputs, P10 / P50 / P90 and the share of samples in which it is the cheapest."""
    sc, r, mc = scenario(), result(), monte_carlo()
    return pd.DataFrame([{"option": sc.option(k).label, "cheapest in (% of samples)": 100 * mc.probability_cheapest[k],
                          "mid inputs (USD)": r.options[k].annual_usd, "P10 (USD)": mc.p10[k], "P50 (USD)": mc.p50[k],
                          "P90 (USD)": mc.p90[k]} for k in sc.option_names])


def uncertainty_numbers() -> dict[str, float | str]:
    """Section 5's numbers (tornado and Monte Carlo)."""
    sc, mc = scenario(), monte_carlo()
    rows = tornado_rows()
    thr = next(r for r in ent.sensitivity(sc, "slm_l40s") if r.key == "slm_l40s.throughput_factor")
    best = max(mc.probability_cheapest, key=mc.probability_cheapest.get)
    second = max((k for k in sc.option_names if k != best), key=mc.probability_cheapest.get)
    p2 = mc.probability_cheapest[second]
    overlap = mc.p10["slm_l40s"] < mc.p90["llm_api"] and mc.p10["llm_api"] < mc.p90["slm_l40s"]
    return {"t_n": TORNADO_N, "t_top": in_words(rows[0].label), "t_second": in_words(rows[1].label),
            "t_top_lo": rounded(min(rows[0].cost_at_low, rows[0].cost_at_high), 3),
            "t_top_hi": rounded(max(rows[0].cost_at_low, rows[0].cost_at_high), 3),
            "t_thr_lo": rounded(min(thr.cost_at_low, thr.cost_at_high), 3),
            "t_thr_hi": rounded(max(thr.cost_at_low, thr.cost_at_high), 3),
            "t_thr_f_lo": rounded(thr.low_value, 2), "t_thr_f_hi": rounded(thr.high_value, 2),
            "t_n_l40s_prices": len(prices_for("l40s")), "mc_n": mc.n, "mc_seed": MC_SEED,
            "mc_best": sc.option(best).label, "mc_best_p": rounded(100 * mc.probability_cheapest[best], 3),
            "mc_second": f"next: {sc.option(second).label}, {100 * p2:.1f}%" if p2 > 0 else "no other option is cheapest in any sample",
            "mc_llm_p10": rounded(mc.p10["llm_api"], 3), "mc_llm_p90": rounded(mc.p90["llm_api"], 3),
            "mc_slm_p10": rounded(mc.p10["slm_l40s"], 3), "mc_slm_p90": rounded(mc.p90["slm_l40s"], 3),
            "mc_overlap": ("the two ranges overlap, so for this organisation cost alone does not settle the choice between them"
                           if overlap else "the two ranges do not overlap, so cost settles the choice between them"),
            "mc_p_slm_lt_llm": _pct(float(np.mean(mc.samples["slm_l40s"] < mc.samples["llm_api"])))}


# ------------------------------------------------------------------------------------------- section 6
@dataclass(frozen=True)
class SingleL4:
    """Seed 000's monthly budget [2] against one L4 rented all month, and what that L4 serves."""

    budget_usd: tuple[float, float]
    gpu_hours: tuple[float, float]
    month_share: tuple[float, float]
    l4_usd_per_hour: float
    l4_provider: str
    l4_as_of: str
    l4_month_usd: float
    max_users: float


def single_l4() -> SingleL4:
    """One L4 (the catalog's first dated on-demand offer) for :data:`costlib.units.HOURS_PER_MONTH` hours against
    seed 000's rupee budget converted at the catalog's latest INR rate; the largest team one L4 serves."""
    lo, hi = (ent.to_usd(x) for x in SEED000_BUDGET_INR)
    l4 = prices_for("l4")[0]
    (h_lo, s_lo), (h_hi, s_hi) = (ent.gpu_hours_for_budget(b, l4.price_usd_per_gpu_hour) for b in (lo, hi))
    users = np.arange(1, SEED000_MAX_USERS + 1, dtype=float)
    gpus = np.broadcast_to(ent.evaluate(scenario(SEED000), {"users": users})["slm_l4"]["gpus"], users.shape)
    return SingleL4((lo, hi), (float(h_lo), float(h_hi)), (float(s_lo), float(s_hi)), l4.price_usd_per_gpu_hour,
                    l4.provider, l4.as_of, l4.price_usd_per_gpu_hour * HOURS_PER_MONTH, float(users[gpus <= 1].max()))


def seed000_frame() -> pd.DataFrame:
    """Seed 000's monthly range against one always-on L4 and against the two APIs, in rupees and dollars."""
    s, r0, fx = single_l4(), result(SEED000), ent.fx_rate("INR")
    n = scenario(SEED000).workload.users.mid
    rows = [("seed 000 budget, low", SEED000_BUDGET_INR[0], s.budget_usd[0], f"{s.gpu_hours[0]:.0f} L4-hours ({s.month_share[0]:.0%} of a month)"),
            ("seed 000 budget, high", SEED000_BUDGET_INR[1], s.budget_usd[1], f"{s.gpu_hours[1]:.0f} L4-hours ({s.month_share[1]:.0%} of a month)"),
            (f"one L4 all month ({s.l4_provider}, {s.l4_as_of})", s.l4_month_usd * fx.per_usd, s.l4_month_usd, f"{HOURS_PER_MONTH:.0f} hours")]
    for k in ("small_api", "llm_api"):
        m = r0.options[k].monthly_usd
        rows.append((f"{n:.0f} developers on {get_api_price(scenario(SEED000).option(k).api).model} (mid)", m * fx.per_usd, m, "API"))
    return pd.DataFrame(rows, columns=["item", "rupees per month", "USD per month", "what it buys"])


def seed000_numbers() -> dict[str, float | str]:
    """Section 6's numbers."""
    s, fx, fx_old = single_l4(), ent.fx_rate("INR"), ent.fx_rate("INR", as_of="2024-12-31")
    return {"fx_rate": rounded(fx.per_usd, 4), "fx_date": fx.as_of, "fx_old": rounded(fx_old.per_usd, 4), "fx_old_date": fx_old.as_of,
            "s0_lo_usd": rounded(s.budget_usd[0], 3), "s0_hi_usd": rounded(s.budget_usd[1], 3),
            "s0_l4_month": rounded(s.l4_month_usd, 3), "s0_l4_month_inr": rounded(s.l4_month_usd * fx.per_usd, 3),
            "s0_l4_price": s.l4_usd_per_hour, "s0_l4_date": s.l4_as_of,
            "s0_share_lo": _pct(s.month_share[0]), "s0_share_hi": _pct(s.month_share[1]),
            "s0_max_users": rounded(s.max_users, 2), "s0_users": scenario(SEED000).workload.users.mid,
            "s0_small_month": rounded(result(SEED000).options["small_api"].monthly_usd, 3),
            "s0_hi_usd_old": rounded(SEED000_BUDGET_INR[1] / fx_old.per_usd, 3)}


# ------------------------------------------------------------------------------------------- worked problems
def worked_numbers() -> dict[str, float | str]:
    """Worked problem 1 (twice the completions) and 2 (reserved at a quoted on-demand price)."""
    sc = scenario()
    mid_c = float(next(t for t in sc.workload.tasks if t.name == "completion").requests_per_user_per_day.mid)
    r2 = ent.annual_cost(sc, {"completion.requests_per_user_per_day": 2 * mid_c})
    rw = ent.annual_cost(sc, {"slm_l40s.price_usd_per_gpu_hour": WORKED_GPU_PRICE,
                              "slm_l40s_reserved.price_usd_per_gpu_hour": WORKED_GPU_PRICE})
    od, res = rw.options["slm_l40s"].annual_usd, rw.options["slm_l40s_reserved"].annual_usd
    return {"wp6_compl": 2 * mid_c, "wp6_compl_mid": mid_c, "wp6_gpus": r2.options["slm_l40s"].gpus,
            "wp6_slm": rounded(r2.options["slm_l40s"].annual_usd, 3), "wp6_llm": rounded(r2.options["llm_api"].annual_usd, 3),
            "wp6_price": WORKED_GPU_PRICE, "wp6_factor": offer_price_factor("reserved-1y").mid,
            "wp6_res": rounded(res, 3), "wp6_od": rounded(od, 3), "wp6_saved": rounded(od - res, 3)}


# ------------------------------------------------------------------------------------------- assumptions
def _band_text(b, key: str) -> str:
    def f(x):
        if any(w in key for w in ("share", "rate", "growth", "utilization")):
            return f"{100 * x:.0f}%"
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"
    return f(b.mid) if b.low == b.high else f"{f(b.mid)} ({f(b.low)}–{f(b.high)})"


def source_of(key: str) -> str:
    """Where a scenario parameter's range comes from (a catalog, a chapter's band, or this book's assumption)."""
    if key.endswith("price_usd_per_gpu_hour"):
        return "prices.csv (dated on-demand offers)"
    if key.endswith("offer_price_factor"):
        return "offer_discounts.csv (reserved / on-demand)"
    if key.endswith("throughput_factor"):
        return "the serving model's calibrated efficiency band"
    if key.endswith("finetune_compute_usd_per_year"):
        return "costlib.finetune.estimate_finetune"
    return "assumption"


def assumptions_frame() -> pd.DataFrame:
    """Every input of the chapter's scenarios with its value (mid, low–high), source and date."""
    sc, sc0, sc1 = scenario(), scenario(SEED000), scenario(SEED001)
    rows = [(in_words(p.label, sc), _band_text(p.band, k), source_of(k), sc.as_of) for k, p in ent.parameters(sc).items()]
    rows += [(f"{t.name}: mean TTFT / TPOT targets", f"{ent.task_targets(t).ttft_s:g} s / {1e3 * ent.task_targets(t).tpot_s:g} ms",
              "assumption", sc.as_of) for t in sc.workload.tasks]
    for a in COMPARED_APIS:
        p = get_api_price(a)
        cached = f", cached input ${p.cached_input_usd_per_1m:g}" if p.cached_input_usd_per_1m else ""
        rows.append((f"{p.model} API list price", f"${p.input_usd_per_1m:g} in / ${p.output_usd_per_1m:g} out per 1M tokens{cached}",
                     p.source, p.as_of))
    for gpu in ("l4", "l40s", "h100-sxm"):
        b, offers = gpu_price_band(gpu), prices_for(gpu)
        rows.append((f"{gpu.upper()} on-demand price", f"${b.mid:.2f} (${b.low:.2f}–${b.high:.2f}) per GPU-hour, {len(offers)} offers",
                     "prices.csv: " + ", ".join(sorted({o.provider for o in offers})), max(o.as_of for o in offers)))
    for rate in (ent.fx_rate("INR"), ent.fx_rate("INR", as_of="2024-12-31")):
        rows.append(("rupees per US dollar", f"{rate.per_usd:.2f}", "RBI reference rate via NSE (fx_rates.csv)", rate.as_of))
    rows.append(("seed 001 scenario (fixed costs: the seed's)", f"{sc1.workload.users.mid:,.0f} developers as the base volume",
                 f"costlib/data/scenarios/{SEED001}.yaml", sc1.as_of))
    rows.append(("seed 000 scenario (one L4, 3B INT4)", f"{sc0.workload.users.mid:,.0f} developers",
                 f"costlib/data/scenarios/{SEED000}.yaml", sc0.as_of))
    rows.append(("Monte Carlo", f"{ent.MC_SAMPLES:,} samples, seed {MC_SEED}, triangular over each range", "costlib.enterprise.monte_carlo", "—"))
    return pd.DataFrame(rows, columns=["input", "value (mid, low–high)", "source", "as of"])


def assumption_numbers() -> dict[str, float | str]:
    """The assumptions box's numbers."""
    o = scenario().option("slm_l40s")
    f = offer_price_factor(scenario().option("slm_l40s_reserved").offer)
    return {"a_hours_rented": o.hours_per_day, "a_min_replicas": o.min_replicas,
            "a_disc_lo": _pct(1 - f.high), "a_disc_hi": _pct(1 - f.low)}


def chapter_numbers() -> dict[str, float | str]:
    """Every number the chapter's prose glues, by glue key."""
    out: dict[str, float | str] = {}
    for part in (seed001_numbers, reference_numbers, hybrid_numbers, volume_numbers, uncertainty_numbers,
                 seed000_numbers, worked_numbers, assumption_numbers):
        out.update(part())
    return out


# ------------------------------------------------------------------------------------------- what-if
def what_if_values(users, completion, llm_mult, gpu_price, share, escalation) -> dict[str, float]:
    """The reference scenario's inputs the chapter's explorer moves (the reserved option's price derives from the
    same on-demand price, so it is never above it)."""
    return {"users": float(users), "completion.requests_per_user_per_day": float(completion),
            "llm_api.price_multiplier": float(llm_mult), "slm_l40s.price_usd_per_gpu_hour": float(gpu_price),
            "slm_l40s_reserved.price_usd_per_gpu_hour": float(gpu_price), "hybrid.small_share": float(share),
            "hybrid_api.small_share": float(share), "hybrid.escalation_rate": float(escalation),
            "hybrid_api.escalation_rate": float(escalation)}


def what_if_frame(values: dict[str, float] | None = None) -> tuple[pd.DataFrame, str]:
    """Annual and monthly cost and USD per 1,000 requests of every option at ``values``, and the cheapest's label."""
    rows, cheapest = ent.option_summary(scenario(), values)
    df = pd.DataFrame(rows).rename(columns={"label": "option", "annual_usd": "annual cost (USD)",
                                            "monthly_usd": "monthly cost (USD)", "usd_per_1k_requests": "USD per 1,000 requests"})
    return df, cheapest


def what_if_annual(developers, completions, llm_price, gpu_price, share) -> dict[str, float | str]:
    """The explorer's result: annual cost per option label and the cheapest, at the escalation rate's mid."""
    esc = float(scenario().option("hybrid").escalation_rate.mid)
    rows, cheapest = ent.option_summary(scenario(), what_if_values(developers, completions, llm_price, gpu_price, share, esc))
    return {**{r["label"]: r["annual_usd"] for r in rows}, "cheapest": cheapest}
