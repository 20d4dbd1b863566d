"""The training chapter's analyses (notebooks/01_training.ipynb): its tables, the numbers its prose quotes, its
worked problems and its stated scenarios.

The physics is :mod:`costlib.training` (6ND, the calibrated MFU bands, the back-tests) and :mod:`costlib.finetune`
(fine-tuning FLOPs, efficiency band, memory); the seed claims are judged once, in :mod:`costlib.book.audit`, and shown
through :mod:`costlib.book.claims`. This module only arranges them for the chapter: each ``*_facts`` function returns
``{glue key: value}`` for :func:`costlib.present.exhibits.glue_facts`, each ``*_table`` a DataFrame (what the CSV
download holds) and each ``*_exhibit`` what the page shows.

References
----------
[1] Kaplan et al. 2020, "Scaling Laws for Neural Language Models", arXiv:2001.08361 (6ND, attention FLOPs).
[2] Wilks 1941, "Determination of sample sizes for setting tolerance limits", Ann. Math. Stat. 12(1) (order
    statistics as distribution-free prediction limits).
[3] Touvron et al. 2023, "Llama 2", arXiv:2307.09288, Table 2 (184,320 A100-80GB hours for the 7B model).
[4] Dettmers et al. 2023, "QLoRA", arXiv:2305.14314 (LLaMA-65B on one 48 GB GPU; rank 64 on all linear layers).
[5] Taori et al. 2023, tatsu-lab/stanford_alpaca README, 2023-03-13 (52K examples, 3 epochs, 3 h on 8 A100-80GB).
[6] DeepSeek-AI 2024, "DeepSeek-V2", arXiv:2405.04434 (236B total, 21B active parameters, 8.1T tokens).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import finetune as ft
from .. import training as tr
from ..errors import InputError
from ..hardware import get_device
from ..memory import training_memory
from ..models import get_model
from ..uncertainty import order_statistic_coverage
from ..present.notebook import band_text, significant
from ..present.report import exhibit_table, table
from ..prices import gpu_price_band, prices_for
from .audit import evaluate, get_claim
from .claims import CHAPTER_CLAIMS, claims_frame

# ----------------------------------------------------------------------------------------------- chapter settings
WORKED_MODEL = "llama-2-7b"
"""The chapter's worked example: Llama-2-7B, 6.74B parameters on 2T tokens, 4,096-token context [3]."""
WORKED_PARAMS = 6.74e9
WORKED_TOKENS = 2e12
WORKED_CONTEXT = 4096
WORKED_GPU = "a100-80gb"

CURVE_GPUS = ("a100-80gb", "h100-sxm", "b200")
"""Three GPU generations for the cost curves (book choice, catalog ids)."""
CURVE_GPU_NAMES = {"a100-80gb": "A100", "h100-sxm": "H100", "b200": "B200"}
"""Short names for the curves' legend and table headers (the full names are in the assumptions table)."""
FIXED_TOKENS = 1e12
"""The seeds' largest token count (seed 000's 7B row: 1T tokens)."""
CURVE_POINTS = (1e9, 3e9, 7e9, 13e9, 70e9)
"""Model sizes tabulated under the cost curves (book choice)."""

SLM_GPUS, LLM_GPUS = 8, 2048
"""The largest GPU counts seed 001's section 4.2 gives for each class ("1-8 GPUs", "64-2048+ GPUs")."""


@dataclass(frozen=True)
class Scenario:
    """One pre-training run the chapter prices (a reading of a seed's class, or a published model's recipe)."""

    key: str
    name: str
    params: float
    tokens: float
    gpu: str
    gpus: int


def scenarios() -> tuple[Scenario, ...]:
    """The runs of the SLM-vs-LLM table: both ends of seed 001's size classes at 20 tokens per parameter
    (Hoffmann et al. 2022), and the token counts real models were trained on (Llama 2 [3]: 2T; Llama 3.1: 15.6T on
    16,384 H100s, model card 2024-07-23), at the largest GPU count seed 001 allows for the class."""
    c = tr.chinchilla_tokens
    return (
        Scenario("slm05", "SLM 0.5B, 20 tokens per parameter", 0.5e9, float(c(0.5e9)), "a100-80gb", SLM_GPUS),
        Scenario("slm7c", "SLM 7B, 20 tokens per parameter", 7e9, float(c(7e9)), "a100-80gb", SLM_GPUS),
        Scenario("slm7", "SLM 7B, 2T tokens (as Llama 2)", 7e9, 2e12, "a100-80gb", SLM_GPUS),
        Scenario("s3", "SLM 3B, 500B tokens (seed 000's 3B run)", 3e9, 500e9, "a100-80gb", SLM_GPUS),
        Scenario("l13", "LLM 13B, 20 tokens per parameter", 13e9, float(c(13e9)), "a100-80gb", LLM_GPUS),
        Scenario("l70", "LLM 70B, 2T tokens (as Llama 2 70B)", 70e9, 2e12, "a100-80gb", LLM_GPUS),
        Scenario("l405", "LLM 405B, 15.6T tokens (as Llama 3.1)", 405e9, 15.6e12, "h100-sxm", 16384),
    )


# ----------------------------------------------------------------------------------------------- 1. the rule
def rule_facts() -> dict:
    """Section 1: 6ND for the worked example, its effective MFU, the causal attention share, the default band."""
    run = tr.get_run("llama2-7b")
    flops = float(tr.training_flops(WORKED_PARAMS, WORKED_TOKENS))
    attn = float(tr.attention_training_flops_per_token(WORKED_MODEL, WORKED_CONTEXT))
    six_n = 6 * WORKED_PARAMS
    # without the causal mask every token attends to the whole context, not to (n_ctx + 1) / 2 tokens on average
    no_mask = attn * WORKED_CONTEXT / ((WORKED_CONTEXT + 1) / 2)
    band, fit = tr.mfu_band(), tr.fit_runs()
    k = tr.prediction_interval_rank(len(fit))
    return {
        "l2_flops": flops, "l2_n": WORKED_PARAMS, "l2_d": WORKED_TOKENS, "l2_ctx": WORKED_CONTEXT,
        "l2_hours": run.gpu_hours, "l2_mfu": float(tr.implied_mfu(flops, WORKED_GPU, run.gpu_hours)),
        "a100_peak": get_device(WORKED_GPU).peak_tflops("bf16"),
        "attn_share": attn / six_n, "attn_share_nomask": no_mask / six_n,
        "n_fit": len(fit), "mfu_low": band.low, "mfu_mid": band.mid, "mfu_high": band.high,
        "pi_rank": k, "pi_cov": order_statistic_coverage(len(fit), k),
    }


# ----------------------------------------------------------------------------------------------- 2. the seeds
def claims_exhibit(claim_ids, label: str):
    """The audit's rows for ``claim_ids`` as a narrow table: seed (when they come from both), claim, verdict (carrying the claim marker of
    :func:`costlib.book.claims.claim_html`), the seed's figure and costlib's band; the verdict sits before the
    figures so it stays visible on a narrow page."""
    df = claims_frame(claim_ids)[["seed", "claim", "verdict", "claimed", "costlib"]]
    df = df.rename(columns={"claimed": "seed's figure", "costlib": "costlib computes"})
    if df["seed"].nunique() == 1:  # one seed: its number is in the caption, the column would repeat it
        df = df.drop(columns="seed")
    plain = [c for c in df.columns if c != "verdict"]
    return df.style.hide(axis="index").set_uuid(label.replace("-", "_")).format(escape="html", subset=plain)


def claims_data(claim_ids) -> pd.DataFrame:
    """The CSV behind :func:`claims_exhibit`: the same rows with the verdict as plain text."""
    df = claims_frame(claim_ids)
    df["verdict"] = [str(evaluate(get_claim(c)).verdict) for c in claim_ids]
    return df


def seed_claim_ids(chapter: str, seed: str) -> tuple[str, ...]:
    """The ids of ``CHAPTER_CLAIMS[chapter]`` from seed ``"0"`` (000) or ``"1"`` (001), checkable ones only."""
    if chapter not in CHAPTER_CLAIMS:
        raise InputError("chapter", chapter, "one of " + ", ".join(CHAPTER_CLAIMS))
    if seed not in ("0", "1"):
        raise InputError("seed", seed, '"0" (seed 000) or "1" (seed 001)')
    return tuple(c for c in CHAPTER_CLAIMS[chapter] if c.startswith(f"s{seed}-") and get_claim(c).checkable)


SEED000_SIZES = ("1b", "3b", "7b")
"""The rows of seed 000's training table (claim ids s0-train-<size>-flops / -time / -cost)."""


def seed000_mfu_table() -> pd.DataFrame:
    """Seed 000's three runs as the audit reads them (GPUs, days and FLOPs from the claim rows): the MFU the stated
    durations need of the GPUs' dense peak (above 100 %: impossible) and the days at 100 % MFU."""
    rows = []
    for size in SEED000_SIZES:
        t = get_claim(f"s0-train-{size}-time")
        e = evaluate(t)
        f = get_claim(f"s0-train-{size}-flops")
        rows.append({
            "model": size.upper(), "tokens (billions)": float(t.params["tokens"]) / 1e9,
            "seed's FLOPs": f.claimed_low, "GPUs": int(t.params["gpus"]),
            "seed's days": f"{t.claimed_low:g}-{t.claimed_high:g}",
            "MFU needed (%)": f"{100 * e.details['mfu_needed_low']:.0f}-{100 * e.details['mfu_needed_high']:.0f}",
            "days at 100 % MFU": e.details["days_at_100pct_mfu"],
        })
    return pd.DataFrame(rows)


def seed000_mfu_exhibit(df: pd.DataFrame):
    return table(df, "tbl-train-seed000-mfu", {"tokens (billions)": "{:,.0f}", "seed's FLOPs": "{:.2g}",
                                               "days at 100 % MFU": "{:.1f}"})


def seed_facts() -> dict:
    """The numbers section 2's prose quotes about seed 000's table."""
    d = {s: evaluate(f"s0-train-{s}-time").details for s in SEED000_SIZES}
    seven = evaluate("s0-train-7b-time")
    cost7 = evaluate("s0-train-7b-cost").computed
    return {
        "s7_gpus": int(get_claim("s0-train-7b-time").params["gpus"]),
        "s7_mfu_short": d["7b"]["mfu_needed_high"], "s7_mfu_long": d["7b"]["mfu_needed_low"],
        "s7_days_low": seven.computed.low, "s7_days_mid": seven.computed.mid, "s7_days_high": seven.computed.high,
        "s7_cost_mid": cost7.mid, "s1_mfu_long": d["1b"]["mfu_needed_low"], "s3_mfu_long": d["3b"]["mfu_needed_low"],
        "seed_min_mfu": min(v["mfu_needed_low"] for v in d.values()),
    }


def scenario_table() -> pd.DataFrame:
    """costlib's estimate for each :func:`scenarios` run: mid (low-high) days, dollars, MWh and tonnes of CO2."""
    rows = []
    for s in scenarios():
        e = tr.estimate_training(s.params, s.tokens, s.gpu, gpus=s.gpus)
        rows.append({"run": s.name, "GPUs": f"{s.gpus:,} x {get_device(s.gpu).name}",
                     "days": band_text(e.wall_days, None), "cost (USD)": band_text(e.cost_usd, None),
                     "energy (MWh)": band_text(e.energy_kwh, None, 1e-3), "CO2 (tonnes)": band_text(e.co2_kg, None, 1e-3)})
    return pd.DataFrame(rows)


def scenario_facts() -> dict:
    """The numbers the prose under the SLM-vs-LLM table quotes."""
    e = {s.key: tr.estimate_training(s.params, s.tokens, s.gpu, gpus=s.gpus) for s in scenarios()}
    slm05, slm7c, slm7, l13, l70, s3 = (e[k] for k in ("slm05", "slm7c", "slm7", "l13", "l70", "s3"))
    return {
        "chin": tr.CHINCHILLA_TOKENS_PER_PARAM, "slm_gpus": SLM_GPUS, "llm_gpus": LLM_GPUS, "pue": tr.PUE_DEFAULT,
        "slm7_2t_days": slm7.wall_days.mid, "slm7_2t_cost": slm7.cost_usd.mid, "slm7_2t_tokens_t": next(x.tokens for x in scenarios() if x.key == "slm7") / 1e12,
        "slm7_c_days": slm7c.wall_days.mid, "slm7_c_cost": slm7c.cost_usd.mid,
        "l13_cost": l13.cost_usd.mid, "l13_days": l13.wall_days.mid,
        "s3_cost_mid": s3.cost_usd.mid, "s3_cost_low": s3.cost_usd.low,
        "l70_cost_mid": l70.cost_usd.mid, "l70_mwh": l70.energy_kwh.mid / 1e3,
        "slm05_kwh": slm05.energy_kwh.mid, "slm05_hours": slm05.wall_days.mid * 24,
        "energy_ratio": float(f"{l70.energy_kwh.mid / slm05.energy_kwh.mid:.2g}"),
        "l405_cost": e["l405"].cost_usd.mid,
    }


# ----------------------------------------------------------------------------------------------- 3. back-test
def backtest_table(bt: pd.DataFrame) -> pd.DataFrame:
    """The runs of a :func:`costlib.training.backtest` frame, in words: inside, error, GPU-hours, band, MFU."""
    return pd.DataFrame({
        "model": bt.model.values, "GPU": bt.gpu.values,
        "inside the band": bt.inside.map({True: "yes", False: "no"}).values,
        "error (%)": (100 * bt.error).values,
        "reported GPU-hours": bt.reported_gpu_hours.values, "predicted GPU-hours": bt.predicted_mid.values,
        "band (GPU-hours)": [f"{lo:,.0f}-{hi:,.0f}" for lo, hi in zip(bt.predicted_low, bt.predicted_high)],
        "effective MFU (%)": (100 * bt.effective_mfu).values,
        "parameters (billions)": bt.params_b.values, "tokens (trillions)": bt.tokens_t.values,
    })


BACKTEST_SHOWN = ["model", "inside the band", "error (%)", "reported GPU-hours", "predicted GPU-hours",
                  "band (GPU-hours)", "effective MFU (%)"]
"""The columns the page shows (seven: the verdict and the error stay in view at 1280 px; the CSV has them all)."""
_BT_FORMATS = {"error (%)": "{:+.1f}", "reported GPU-hours": "{:,.0f}", "predicted GPU-hours": "{:,.0f}",
               "effective MFU (%)": "{:.1f}"}


def backtest_exhibit(df: pd.DataFrame, label: str = "tbl-train-backtest"):
    return table(df[BACKTEST_SHOWN], label, _BT_FORMATS)


def backtest_summary_table() -> tuple[pd.DataFrame, dict]:
    """One row per reading of the dense back-test (in-sample and leave-one-out): runs, median and largest
    absolute error, share inside the band next to the nominal coverage; and the facts the prose quotes."""
    bt = tr.backtest()
    loo = tr.backtest(leave_one_out=True)
    s_in = tr.backtest_summary(bt[bt.use_in_fit])
    s_loo = tr.backtest_summary(loo[loo.use_in_fit])
    rows = [{"test": name, "runs": int(bt.use_in_fit.sum()), "median error (%)": 100 * s["median_abs_error"],
             "largest error (%)": 100 * s["max_abs_error"], "inside the band (%)": 100 * s["share_inside"],
             "nominal coverage (%)": 100 * tr.MFU_BAND_COVERAGE}
            for name, s in (("each run in the fit", s_in), ("each run left out of the fit", s_loo))]
    facts = {"bt_mae": s_in["median_abs_error"], "bt_inside": s_in["share_inside"], "bt_max": s_in["max_abs_error"],
             "loo_mae": s_loo["median_abs_error"], "loo_inside": s_loo["share_inside"],
             "fit_floor": tr.MFU_FIT_MIN_PARAMS / 1e9}
    return pd.DataFrame(rows), facts


def summary_exhibit(df: pd.DataFrame, label: str):
    fmt = {c: "{:.0f}" if "inside" in c or "coverage" in c else "{:.1f}" for c in df.columns if "(%)" in c}
    return table(df, label, fmt)


def outlier_facts() -> dict:
    """Per-run errors and effective MFUs the prose on outliers and traps quotes (``err_<id>``, ``mfu_<id>``)."""
    bt = tr.backtest()
    out = {}
    for _, r in bt.iterrows():
        out[f"err_{r.id}"] = float(r.error)
        out[f"mfu_{r.id}"] = float(r.effective_mfu)
    bbg, l38 = tr.get_run("bloomberggpt-50b"), tr.get_run("llama3-8b")
    sc_ratio = tr.STARCODERBASE_CONTEXT_TOKENS / get_model(WORKED_MODEL).max_context
    fit = tr.fit_runs()
    pythia = [r for r in tr.load_published_runs() if r.id.startswith("pythia") and not r.use_in_fit]
    out.update({
        "bbg_gpus": bbg.gpu_count, "bbg_days": bbg.gpu_hours / bbg.gpu_count / 24,
        "falcon_hours": tr.get_run("falcon-180b").gpu_hours,
        "l38_hours": l38.gpu_hours / 1e6, "l38_tokens": l38.tokens / 1e12,
        "ds_active": tr.get_run("deepseek-v3").active_params / 1e9,
        "sc_ctx_ratio": "twice" if sc_ratio == 2 else f"{sc_ratio:g} times",
        "err_llama3_8b": out["err_llama3-8b"],
        "sens_mid": tr.mfu_band_from(list(fit) + pythia).mid,
    })
    return out


def excluded_table() -> pd.DataFrame:
    """Runs kept out of the fit, with the reason the catalog records."""
    bt = tr.backtest()
    ex = bt[~bt.use_in_fit]
    return pd.DataFrame({"model": ex.model.values, "error (%)": (100 * ex.error).values,
                         "effective MFU (%)": (100 * ex.effective_mfu).values,
                         "why it is not in the fit": ex.exclude_reason.values})


def excluded_exhibit(df: pd.DataFrame):
    return table(df, "tbl-train-excluded", {"effective MFU (%)": "{:.1f}", "error (%)": "{:+.1f}"})


SLICE_KEYS = {"a100": "A100-class (Ampere)", "h100": "H100/H800-class (Hopper)", "moe": "mixture of experts (Hopper runs)"}
"""Glue prefix -> the slice names of :func:`costlib.training.slice_summary`."""


MODEL_WORDS = {"median": "one band", "log-params": "size term"}
"""The MFU models of :data:`costlib.training.MFU_MODELS` in words."""


def slice_table(per_slice: pd.DataFrame, comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`costlib.training.slice_summary` in words, with the leave-one-out error of the slice-median model alone
    (before the size term) and of the nested back-test (:func:`costlib.training.slice_comparison`)."""
    comp = (tr.slice_comparison() if comparison is None else comparison).set_index("slice")
    names = per_slice.slice.values
    words = [MODEL_WORDS[m] + (" x MoE factor" if n == SLICE_KEYS["moe"] else "") for m, n in zip(per_slice.model.values, names)]
    return pd.DataFrame({
        "slice": names, "runs": per_slice.runs.values, "MFU model": words,
        "median error, one band (%)": [100 * comp.loc[n, "loo_median_abs_error_median_model"] for n in names],
        "median error, now (%)": (100 * per_slice.loo_median_abs_error).values,
        "median error, nested (%)": [100 * comp.loc[n, "loo_median_abs_error_nested"] for n in names],
        "inside the band (%)": (100 * per_slice.loo_coverage).values,
        "nominal coverage (%)": (100 * per_slice.nominal_coverage).values,
        "target coverage (%)": (100 * per_slice.target_coverage).values,
        "largest error (%)": (100 * per_slice.loo_max_abs_error).values,
        "band method": per_slice.method.values,
    })


def slice_exhibit(df: pd.DataFrame):
    cols = ["slice", "runs", "MFU model", "median error, one band (%)", "median error, now (%)",
            "median error, nested (%)", "inside the band (%)", "nominal coverage (%)", "target coverage (%)"]
    pct0 = {c: "{:.0f}" for c in ("inside the band (%)", "nominal coverage (%)", "target coverage (%)")}
    pct1 = {c: "{:.1f}" for c in ("median error, one band (%)", "median error, now (%)", "median error, nested (%)")}
    return table(df[cols], "tbl-train-slices", {**pct0, **pct1})


def slice_facts(per_slice: pd.DataFrame, comparison: pd.DataFrame | None = None) -> dict:
    """Per-slice errors and coverage (before and after the size term, nested), the Hopper size term and band, the
    MoE factor, the rank correlations."""
    comp = (tr.slice_comparison() if comparison is None else comparison).set_index("slice")
    out = {}
    for key, name in SLICE_KEYS.items():
        row = per_slice[per_slice.slice == name].iloc[0]
        out.update({f"sl_{key}_n": int(row.runs), f"sl_{key}_err": float(row.loo_median_abs_error),
                    f"sl_{key}_cov": float(row.loo_coverage), f"sl_{key}_claimed": float(row.nominal_coverage),
                    f"sl_{key}_err_before": float(comp.loc[name, "loo_median_abs_error_median_model"]),
                    f"sl_{key}_cov_before": float(comp.loc[name, "loo_coverage_median_model"]),
                    f"sl_{key}_err_nested": float(comp.loc[name, "loo_median_abs_error_nested"])})
    mf, h = tr.moe_factor(), tr.mfu_band_for("h100-sxm")
    h8, h405 = tr.mfu_band_for("h100-sxm", params=8e9), tr.mfu_band_for("h100-sxm", params=405e9)
    info = tr.mfu_model_info("h100-sxm", params=8e9)
    loo_all = tr.slice_backtest()
    oos = loo_all[(~loo_all.use_in_fit) & (loo_all.slice == "moe")]
    rho_n, n_rho = tr.mfu_rank_correlation("a100", "params")
    rho_g, n_rho_g = tr.mfu_rank_correlation("a100", "gpus")
    rho_h, n_rho_h = tr.mfu_rank_correlation("h100", "params")
    out.update({
        "tk_a100_err": out["sl_a100_err"], "tk_a100_cov": out["sl_a100_cov"], "tk_h100_err": out["sl_h100_err"],
        "tk_a100_mid": tr.mfu_band_for("a100-80gb").mid, "tk_h100_mid": h.mid,
        "tk_moe_factor": mf.mid, "tk_moe_n": len(tr.fit_runs("moe")), "moe_f_low": mf.low, "moe_f_high": mf.high,
        "h100_low": h.low, "h100_high": h.high, "moe_oos_n": len(oos), "moe_oos_inside": int(oos.inside.sum()),
        "rho_params": rho_n, "rho_gpus": rho_g, "rho_n": n_rho, "rho_g_n": n_rho_g, "rho_h_params": rho_h, "rho_h_n": n_rho_h,
        "h100_slope": info["slope"], "h100_8b_low": h8.low, "h100_8b_mid": h8.mid, "h100_8b_high": h8.high,
        "h100_405b_mid": h405.mid, "a100_size_err": info_err("a100-80gb"), "a100_median_err": info_err("a100-80gb", "median"),
        "h100_size_err": info_err("h100-sxm"), "h100_median_err": info_err("h100-sxm", "median"),
        "sl_h100_step": 1.0 / out["sl_h100_n"], "size_min_runs": tr.MFU_SIZE_MIN_RUNS,
    })
    return out


def info_err(gpu: str, kind: str = "log-params") -> float:
    """Leave-one-out median absolute error of one MFU candidate on a slice (the score :data:`costlib.training.MFU_MODEL_RULE` compares)."""
    return float(tr.mfu_model_info(gpu, params=7e9)["candidates_loo_median_abs_error"][kind])


def slice_long_table() -> pd.DataFrame:
    """Every published run predicted from its slice's band refitted without it (training.slice_backtest)."""
    loo = tr.slice_backtest()
    df = backtest_table(loo)
    df.insert(1, "slice", loo.slice.values)
    df["in the fit"] = loo.use_in_fit.map({True: "yes", False: "no (out of sample)"}).values
    return df


def slice_long_exhibit(df: pd.DataFrame):
    return table(df[["model", "inside the band", "error (%)", "reported GPU-hours", "predicted GPU-hours",
                     "band (GPU-hours)", "in the fit"]], "tbl-train-slices-long", _BT_FORMATS)


# ----------------------------------------------------------------------------------------------- 4. cost curves
def curve_table() -> pd.DataFrame:
    """Mid GPU-hours and dollars for :data:`CURVE_POINTS` at 1T tokens and at 20 tokens per parameter."""
    rows = []
    for n in CURVE_POINTS:
        for rule, d in (("1T", FIXED_TOKENS), ("20 per parameter", float(tr.chinchilla_tokens(n)))):
            row = {"parameters": f"{n / 1e9:g}B", "tokens": rule}
            est = {gid: tr.estimate_training(n, d, gid) for gid in CURVE_GPUS}
            row.update({f"{CURVE_GPU_NAMES[g]} GPU-hours": e.gpu_hours.mid for g, e in est.items()})
            row.update({f"{CURVE_GPU_NAMES[g]} cost (USD)": e.cost_usd.mid for g, e in est.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def curve_exhibit(df: pd.DataFrame):
    """Two parts: the GPU-hours of the three generations, then their costs (each part repeats the key columns)."""
    return exhibit_table(df, "tbl-train-curves", key=["parameters", "tokens"], max_columns=2 + len(CURVE_GPUS),
                         formats={c: "{:,.0f}" for c in df.columns[2:]})


def curve_facts() -> dict:
    e7 = {gid: tr.estimate_training(7e9, FIXED_TOKENS, gid) for gid in CURVE_GPUS}
    fit = tr.fit_runs()
    return {"fixed_tokens_t": FIXED_TOKENS / 1e12,
            "c7_a100": e7["a100-80gb"].cost_usd.mid, "c7_h100": e7["h100-sxm"].cost_usd.mid,
            "c7_b200": e7["b200"].cost_usd.mid, "h7_a100": e7["a100-80gb"].gpu_hours.mid,
            "h7_b200": e7["b200"].gpu_hours.mid, "n_h100_fit": sum(r.gpu_id == "h100-sxm" for r in fit),
            "h100_min_b": min(r.compute_params for r in fit if r.gpu_id == "h100-sxm") / 1e9,
            "n_a100_fit": sum(r.gpu_id.startswith("a100") for r in fit)}


# ----------------------------------------------------------------------------------------------- 5. fine-tuning
def lora_facts() -> dict:
    """Per-token LoRA saving, memory of the three methods, the tokens the seed's LoRA hours buy."""
    m7 = get_model(WORKED_MODEL)
    full_pt = tr.finetune_flops_per_token(m7.active_params, "full")
    lora_pt = tr.finetune_flops_per_token(m7.active_params, "lora", tr.lora_adapter_params(m7))
    lora_tokens = {h: ft.finetune_tokens_for_hours(m7, "lora", "a100-80gb", h) for h in (4, 8)}
    pretrain = tr.training_flops(m7.active_params, FIXED_TOKENS)
    return {"lora_saving": 1 - lora_pt / full_pt, "lora_rank": tr.LORA_RANK_DEFAULT, "q_passes": tr.QLORA_PASSES_PER_STEP,
            "mem_full": ft.finetune_memory_gb(m7, "full"), "mem_lora": ft.finetune_memory_gb(m7, "lora"),
            "mem_qlora": ft.finetune_memory_gb(m7, "qlora"), "lora_tok_low": lora_tokens[4].mid / 1e6,
            "lora_tok_high": lora_tokens[8].mid / 1e6, "ratio_pct": pretrain / (lora_pt * lora_tokens[8].mid)}


FINETUNE_SEED_ROWS = (("LoRA", "lora", "a100-80gb", (4, 8)), ("QLoRA", "qlora", "t4", (6, 10)))
"""Seed 000's fine-tuning table (section 5): method, GPU and the hours it states (claim rows s0-lora-*, s0-qlora-*)."""


def finetune_budget_table() -> pd.DataFrame:
    """What the seed's fine-tuning hours buy on its GPU (7B model): memory, whether it fits, tokens processed."""
    m7 = get_model(WORKED_MODEL)
    rows = []
    for name, method, gid, hours in FINETUNE_SEED_ROWS:
        tok = [ft.finetune_tokens_for_hours(m7, method, gid, h).mid / 1e6 for h in hours]
        mem = ft.finetune_memory_gb(m7, method)
        rows.append({"method": name, "GPU": get_device(gid).name, "hours (seed)": f"{hours[0]}-{hours[1]}",
                     "memory (GB)": mem, "fits": "yes" if mem <= get_device(gid).memory_gb else "no",
                     "tokens in that time (millions)": f"{tok[0]:,.0f}-{tok[1]:,.0f}"})
    return pd.DataFrame(rows)


def qlora65_table() -> tuple[pd.DataFrame, dict]:
    """LLaMA-65B fine-tuning memory by component, QLoRA (paper setting [4]) against a 16-bit full fine-tune."""
    b, s = tr.QLORA_PAPER_MICROBATCH
    q = training_memory(tr.LLAMA_65B, "qlora", "bf16", batch=b, seq_len=s, recompute="full", lora_rank=64)
    f = training_memory(tr.LLAMA_65B, "full", "bf16", batch=b, seq_len=s, recompute="full")
    parts = {"weights": "weights_gb", "gradients": "gradients_gb", "optimizer": "optimizer_gb",
             "activations": "activations_gb", "runtime": "overhead_gb", "total": "total_gb"}
    df = pd.DataFrame([{"LLaMA-65B, GB per GPU": name, **{k: round(float(getattr(br, v)), 1) for k, v in parts.items()}}
                       for name, br in (("QLoRA (NF4 base, rank 64)", q), ("full fine-tune (BF16, Adam)", f))])
    facts = {"q65_total": q.total_gb, "full65_total": f.total_gb, "q65_gpu": tr.QLORA_65B_GPU_MEMORY_GB,
             "q65_paper_full": tr.QLORA_FULL_FINETUNE_65B_GB, "q65_rank": 64, "q65_seq": s}
    return df, facts


ALPACA_SETTINGS = {"seq_len": 512, "micro_batch": 4, "packed": False, "checkpointing": "none", "optimizer": "adamw",
                   "framework": "hf-peft"}
"""Alpaca's own recipe [5]: HF Trainer with FSDP full_shard (train.py and the README command), per-device batch 4,
model_max_length 512, examples padded to the longest in the batch (not packed), no gradient checkpointing, AdamW."""


def alpaca_facts() -> dict:
    """Alpaca [5] against the pre-training band (pinned) and against the fine-tuning model with Alpaca's own settings
    (:data:`ALPACA_SETTINGS`; out of sample), with the step's compute and FSDP communication per micro-step."""
    tokens = tr.ALPACA_EXAMPLES * tr.ALPACA_EPOCHS * tr.ALPACA_MAX_TOKENS
    alp = ft.estimate_finetune("llama-7b", "full", tokens, tr.ALPACA_GPU, gpus=tr.ALPACA_GPUS,
                               mfu=tr.mfu_band_for(tr.ALPACA_GPU))
    alp_ft = ft.estimate("llama-7b", "full", tr.ALPACA_GPU, gpus=tr.ALPACA_GPUS, tokens=tokens, **ALPACA_SETTINGS)
    step_tokens = ALPACA_SETTINGS["micro_batch"] * ALPACA_SETTINGS["seq_len"]
    compute_s = alp_ft.flops_per_token * step_tokens / (get_device(tr.ALPACA_GPU).peak_flops("bf16") * alp_ft.efficiency.mid)
    hours = tr.ALPACA_HOURS * tr.ALPACA_GPUS
    return {"alp_tokens": tokens / 1e6, "alp_n": tr.ALPACA_EXAMPLES, "alp_epochs": tr.ALPACA_EPOCHS,
            "alp_hours": tr.ALPACA_HOURS, "alp_gpus": tr.ALPACA_GPUS, "alp_gpu_hours": hours,
            "alp_maxlen": tr.ALPACA_MAX_TOKENS, "alp_wall_mid": alp.gpu_hours.mid / tr.ALPACA_GPUS,
            "alp_wall_low": alp.gpu_hours.low / tr.ALPACA_GPUS, "alp_wall_high": alp.gpu_hours.high / tr.ALPACA_GPUS,
            "alp_mfu": float(tr.implied_mfu(alp.flops, tr.ALPACA_GPU, hours)), "alp_factor": hours / alp.gpu_hours.mid,
            "alp_ft_mid": alp_ft.wall_hours.mid, "alp_ft_low": alp_ft.wall_hours.low, "alp_ft_high": alp_ft.wall_hours.high,
            "alp_ft_factor": tr.ALPACA_HOURS / alp_ft.wall_hours.mid,
            "alp_comm_s": alp_ft.assumptions["step_overheads_s"]["comm"], "alp_compute_s": compute_s,
            "alp_comm_share": alp_ft.assumptions["step_overheads_s"]["comm"] / compute_s,
            "alp_fixed_s": alp_ft.assumptions["step_overheads_s"]["fixed_per_step"]}


def finetune_validation_table(bt: pd.DataFrame) -> pd.DataFrame:
    """:func:`costlib.finetune.backtest` in words: inside, error, tokens/s published and predicted, memory."""
    return pd.DataFrame({
        "measurement": bt.id.values, "inside the band": bt.inside.map({True: "yes", False: "no"}).values,
        "error (%)": (100 * bt.error).values, "published (tokens/s)": bt.published_tokens_per_s.values,
        "predicted (tokens/s)": bt.predicted_mid.values,
        "band (tokens/s)": [f"{lo:,.0f}-{hi:,.0f}" for lo, hi in zip(bt.predicted_low, bt.predicted_high)],
        "memory error (%)": (100 * bt.memory_error).values,
        "GPUs": bt.gpus.values, "GPU": bt.gpu.values, "implied efficiency (%)": (100 * bt.implied_efficiency).values,
        "published peak (GB)": bt.published_memory_gb.values, "costlib (GB)": bt.costlib_memory_gb.values,
        "in the fit": bt.use_in_fit.map({True: "yes", False: "no"}).values,
    })


def finetune_validation_exhibit(df: pd.DataFrame):
    shown = ["measurement", "inside the band", "error (%)", "published (tokens/s)", "predicted (tokens/s)",
             "band (tokens/s)", "memory error (%)"]
    return table(df[shown], "tbl-train-ft-validation", {"error (%)": "{:+.1f}", "memory error (%)": "{:+.1f}",
                                                        "published (tokens/s)": "{:,.0f}", "predicted (tokens/s)": "{:,.0f}"})


def finetune_summary(bt: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """One summary row of the fine-tuning back-test, and the facts the prose and the takeaway quote."""
    fs = ft.backtest_summary(bt)
    eb = ft.efficiency_band()
    df = pd.DataFrame([{"test": "each measurement left out of the fit", "measurements": int(fs["measurements"]),
                        "median error (%)": 100 * fs["loo_median_abs_error"],
                        "inside the band (%)": 100 * fs["loo_coverage"],
                        "nominal coverage (%)": 100 * ft.FINETUNE_COVERAGE,
                        "memory median error (%)": 100 * fs["memory_median_abs_error"]}])
    facts = {"ft_n": fs["measurements"], "ft_err": fs["loo_median_abs_error"], "ft_cov": fs["loo_coverage"],
             "ft_mem_err": fs["memory_median_abs_error"], "ft_mem_max": fs["memory_max_abs_error"],
             "ft_mem_n": fs["memory_cases"], "tk_ft_mid": eb.mid, "tk_ft_n": fs["measurements"],
             "tk_ft_err": fs["loo_median_abs_error"], "ft_eff_low": eb.low, "ft_eff_high": eb.high}
    return df, facts


# ----------------------------------------------------------------------------------------------- worked problems
def worked_problem_facts() -> dict:
    """Problem 1: a full fine-tune of Llama 3.1 8B on one RTX 4090 (torchtune's single-device recipe), 50M tokens.
    Problem 2: a DeepSeek-V2-sized MoE [6] on H100s, against a dense model of its active size.
    Problem 3: how many A100-80GB make seed 000's 7B run (1T tokens) finish in its three weeks."""
    wp1 = ft.estimate("llama-3.1-8b", "full", "rtx-4090", tokens=50e6, optimizer="adamw8bit-paged",
                      checkpointing="full", micro_batch=2, seq_len=2048)
    wp2 = tr.estimate_training(236e9, 8.1e12, "h100-sxm", active_params=21e9)
    wp2d = tr.estimate_training(21e9, 8.1e12, "h100-sxm")
    one = tr.estimate_training(7e9, FIXED_TOKENS, "a100-80gb", gpus=1)
    days = 21
    return {
        "wp1_mem": wp1.memory.total_gb, "wp1_host": wp1.memory.host_gb,
        "wp1_cap": get_device("rtx-4090").memory_bytes / 1e9, "wp1_h_mid": wp1.wall_hours.mid,
        "wp1_h_low": wp1.wall_hours.low, "wp1_h_high": wp1.wall_hours.high,
        "wp1_fits": "fits" if wp1.fits else "does not fit",
        "wp2_mid": wp2.gpu_hours.mid / 1e6, "wp2_low": wp2.gpu_hours.low / 1e6, "wp2_high": wp2.gpu_hours.high / 1e6,
        "wp2d_mid": wp2d.gpu_hours.mid / 1e6, "wp2_dense_txt": f"{wp2d.gpu_hours.mid / 1e6:.2f}",
        "wp2_pub": tr.get_run("deepseek-v2").gpu_hours / 1e6,
        "wp3_days": days, "wp3_gpu_hours": one.gpu_hours.mid,
        "wp3_gpus_mid": int(np.ceil(one.gpu_hours.mid / (24 * days))),
        "wp3_gpus_high": int(np.ceil(one.gpu_hours.high / (24 * days))),
        "wp3_cost_mid": one.cost_usd.mid,
    }


# ----------------------------------------------------------------------------------------------- explorer, assumptions
EXPLORER_INPUTS = {"params": [1e9, 3e9, 7e9, 13e9, 70e9], "tokens": [1e11, 1e12, 2e12, 15e12],
                   "gpu": ["a100-80gb", "h100-sxm", "h200", "b200"], "gpus": [8, 64, 512, 2048]}
EXPLORER_DEFAULT = {"params": 7e9, "tokens": 1e12, "gpu": "a100-80gb", "gpus": 64}


def explorer_cell(params, tokens, gpu, gpus) -> dict:
    """One point of the kernel-free explorer: GPU-hours, days, dollars and kWh (Bands)."""
    e = tr.estimate_training(params, tokens, gpu, gpus=gpus)
    return {"gpu_hours": e.gpu_hours, "days": e.wall_days, "usd": e.cost_usd, "kwh": e.energy_kwh}


def _count(n: float) -> str:
    return f"{n / 1e12:g}T" if n >= 1e12 else f"{n / 1e9:g}B"


def explorer():
    """The chapter's static explorer (``costlib.present.explore.static_explorer``) over :data:`EXPLORER_INPUTS`."""
    from ..present.explore import static_explorer

    return static_explorer(
        "Training run: GPU-hours, days, dollars and energy (mid, band)", inputs=EXPLORER_INPUTS, compute=explorer_cell,
        fmt=lambda b: f"{significant(b.mid)} ({significant(b.low)}–{significant(b.high)})",
        labels={"params": "parameters", "tokens": "tokens", "gpu": "GPU", "gpus": "GPU count", "gpu_hours": "GPU-hours",
                "days": "wall-clock days", "usd": "cost (USD)", "kwh": "energy (kWh)"},
        input_fmt={"params": _count, "tokens": _count}, default=EXPLORER_DEFAULT,
        note="Calibrated MFU band and the catalog's price band for the GPU; 3 significant figures.")


def default_estimate_text() -> str:
    """The widget's result at its default inputs, as text (kept in a removed cell for the tests)."""
    e = tr.estimate_training(EXPLORER_DEFAULT["params"], EXPLORER_DEFAULT["tokens"], EXPLORER_DEFAULT["gpu"],
                             gpus=EXPLORER_DEFAULT["gpus"])
    return pd.Series({"GPU-hours": band_text(e.gpu_hours), "wall-clock days": band_text(e.wall_days, "{:,.1f}"),
                      "cost (USD)": band_text(e.cost_usd), "energy (kWh)": band_text(e.energy_kwh)}).to_string()


def assumptions_table() -> pd.DataFrame:
    """Every input of the chapter's estimates with its value, source and date."""
    band, fit = tr.mfu_band(), tr.fit_runs()
    rows = [("training FLOPs", "6·N·D (8·N·D with full recompute)", "Kaplan et al. 2020; Korthikanti et al. 2022", "2020 / 2022"),
            ("MFU band (low / mid / high)", band_text(band, "{:.1%}"), f"{len(fit)} published runs, costlib/data/published_runs.csv",
             max(r.as_of for r in fit)),
            ("compute-optimal tokens", f"{tr.CHINCHILLA_TOKENS_PER_PARAM:g} per parameter", "Hoffmann et al. 2022", "2022-03-29")]
    for gid in CURVE_GPUS:
        d = get_device(gid)
        offers = prices_for(gid)
        rows += [(f"{d.name} dense BF16 peak", f"{d.peak_tflops('bf16'):g} TFLOP/s", d.source, d.as_of),
                 (f"{d.name} board power", f"{d.tdp_w:g} W", d.source, d.as_of),
                 (f"{d.name} price (low / mid / high)", band_text(gpu_price_band(gid), "${:.2f}"),
                  "costlib/data/prices.csv (" + ", ".join(sorted({o.provider for o in offers})) + ")",
                  f"{min(o.as_of for o in offers)} to {max(o.as_of for o in offers)}")]
    rows += [("PUE", f"{tr.PUE_DEFAULT:g}", "Google 2024 Environmental Report (fleet 2023)", "2024-07"),
             ("grid intensity", f"{tr.GRID_KG_CO2_PER_KWH_DEFAULT:g} kg CO2/kWh", "Ember Global Electricity Review 2024 (world 2023)", "2024-05-08"),
             ("LoRA", "4·N + 6·adapters per token; rank 16, all linear layers", "Hu et al. 2021", "2021-06-17"),
             ("QLoRA", "NF4 4.127 bits/weight; dequantise 3x per micro-batch of 2,048 tokens", "Dettmers et al. 2023", "2023-05-23"),
             ("fine-tuning memory", "mixed-precision Adam, gradient checkpointing", "costlib.memory (Transformer Math 101; Korthikanti et al. 2022)", "2023"),
             ("Alpaca", f"{tr.ALPACA_EXAMPLES:,} examples x {tr.ALPACA_EPOCHS} epochs x <= {tr.ALPACA_MAX_TOKENS} tokens; "
                        f"{tr.ALPACA_HOURS:g} h on {tr.ALPACA_GPUS} x A100-80GB", "tatsu-lab/stanford_alpaca README", "2023-03-13")]
    return pd.DataFrame(rows, columns=["input", "value", "source", "as of"])

