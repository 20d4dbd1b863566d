"""Chapter 05's analysis: named small / large pairs, capability next to cost, latency meanings, deployment.

Seed 001's comparison tables recomputed for named model pairs (:data:`PAIRS`) with the physics modules;
the seed claims themselves are judged once in :mod:`costlib.book.audit`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv
from ..errors import CostlibError, InputError, UnknownIdError
from ..hardware import get_device
from ..serving import estimate_continuous
from ..memory import inference_memory, min_gpus
from ..models import get_model, models
from ..training import estimate_training, get_run
from ..uncertainty import Band
from .audit import TRAIN_SEQ_LEN, Judgement, _band_text, _fit_gpus, claimed_text, get_claim, judge


BENCHMARK_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("model_id"),
        Column("benchmark", choices=("MMLU", "HumanEval")),
        Column("variant", choices=("base", "instruct")),
        Column("shots", "int", non_negative=True),
        Column("metric"),
        Column("score", "float", non_negative=True, unit="percent"),
        Column("level", choices=("P", "S")),
        SOURCE,
        AS_OF,
        NOTES,
    ),
    row_checks=(lambda r: None if r["score"] <= 100 else f"score: {r['score']} is above 100 percent",),
)

PAIRS = (("llama-3.2-3b", "llama-3.1-70b"), ("qwen2.5-3b", "qwen2.5-72b"), ("llama-3.1-8b", "llama-3.1-405b"))
"""The small / large pairs chapter 05 compares (same maker, same generation)."""

PRETRAIN_TOKENS = {
    "llama-3.2-3b": ("run", "llama3.2-3b"),
    "llama-3.1-8b": ("run", "llama3.1-8b"),
    "llama-3.1-70b": ("run", "llama3.1-70b"),
    "llama-3.1-405b": ("run", "llama3.1-405b"),
    "qwen2.5-3b": ("tokens", 18e12),
    "qwen2.5-72b": ("tokens", 18e12),
}
"""Pre-training tokens of the pair models: Meta's from ``published_runs.csv``; Qwen2.5 "18 trillion tokens"
(Qwen2.5 Technical Report, arXiv 2412.15115, abstract). Llama 3.2 1B/3B were partly distilled, so 6·N·D is
an approximation for them (published_runs.csv notes the trap)."""

SEED_TRAINING_GPUS = {"slm": 8, "llm": 2048}
"""GPU counts the durations are computed on: the top of seed 001's 'GPUs Required' cells (1-8 and 64-2048+)."""

PROFILE = {"prompt": 1000, "output": 250, "batch": 16, "context": 4096}
"""The request profile of the inference comparison (book assumption, stated in chapter 05): a 1,000-token
prompt, a 250-token answer, 16 requests batched for cost, one 4,096-token sequence for memory."""

HARDWARE_CLASSES = (("laptop", "m1-max", 1), ("one L4", "l4", 1), ("one A100", "a100-80gb", 1), ("one 8-GPU node", "a100-80gb", 8))
"""Deployment classes, smallest first: a 64 GB Apple M1 Max laptop, one 24 GB L4, one A100-80GB, one node of
eight A100-80GB (hardware.csv)."""


@lru_cache(maxsize=1)
def benchmark_scores():
    """Published MMLU / HumanEval scores per catalog model (``data/benchmark_scores.csv``) as a DataFrame."""
    import pandas as pd  # on demand: the CLI imports costlib.book modules and must start fast

    rows = load_csv("benchmark_scores.csv", BENCHMARK_SCHEMA)
    known = models()
    for r in rows:
        if r["model_id"] not in known:
            raise UnknownIdError("model_id", r["model_id"], sorted(known))
    df = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    df["as_of"] = df["as_of"].astype(str)
    return df


def score(model_id: str, benchmark: str = "MMLU", variant: str | None = "base") -> float | None:
    """A model's published score (percent); ``variant=None`` takes base, else instruct; None if unpublished."""
    df = benchmark_scores()
    sel = df[(df.model_id == model_id) & (df.benchmark == benchmark)]
    if variant is not None:
        sel = sel[sel.variant == variant]
    if sel.empty:
        return None
    sel = sel.sort_values("variant")  # base before instruct
    return float(sel.iloc[0]["score"])


def pareto_frontier(cost, quality) -> np.ndarray:
    """True for points no other point beats: none is at most as costly and at least as good, and better in one."""
    c = np.asarray(cost, dtype=float)
    q = np.asarray(quality, dtype=float)
    if c.shape != q.shape or c.ndim != 1:
        raise InputError("cost", c.shape, "two 1-D arrays of the same length")
    out = np.ones(len(c), dtype=bool)
    for i in range(len(c)):
        dominated = (c <= c[i]) & (q >= q[i]) & ((c < c[i]) | (q > q[i]))
        out[i] = not dominated.any()
    return out


def pretrain_tokens(model_id: str) -> float:
    kind, value = PRETRAIN_TOKENS[model_id]
    if kind == "run":

        return float(get_run(value).tokens)
    return float(value)


def serving_estimate(model_id: str, gpu: str = "a100-80gb", precision: str = "bf16", batch: int = 1,
                     prompt: int = PROFILE["prompt"], output: int = PROFILE["output"]):
    """Continuous batching (:func:`costlib.serving.estimate_continuous`, ``batch`` requests in flight) on the fewest GPUs
    that hold the model at a valid tensor-parallel degree."""

    k = _fit_gpus(model_id, gpu, precision, prompt + output, batch)
    return k, estimate_continuous(model_id, gpu, precision, batch, prompt, output, gpus=k)


def cost_per_1m_output(model_id: str, gpu: str = "a100-80gb", precision: str = "bf16", batch: int = PROFILE["batch"]) -> Band:
    return serving_estimate(model_id, gpu, precision, batch)[1].cost_per_1m_output_tokens_usd


def _cell(claim_id: str | None, band: Band | None, unit: str, *, claimed=None) -> dict:
    """One cell of a pair table: the seed's claim (a claim id, or ``claimed`` = (text, low, high, better)),
    costlib's band and the verdict for this one named model."""
    c = get_claim(claim_id) if claim_id else None
    if c is not None:
        j = judge(c.claimed_low, c.claimed_high, band, better=c.better, scope="point")
        text = claimed_text(c)
    elif claimed is not None:
        text, lo, hi, better = claimed
        j = judge(lo, hi, band, better=better, scope="point")
    else:
        j, text = Judgement("not checkable"), "(no number)"
    return {"claim": text, "costlib": "" if band is None else _band_text(band, unit),
            "verdict": str(j), "label": j.label, "band": band}


def pair_training_rows(pairs=PAIRS, gpu: str = "a100-80gb") -> list[dict]:
    """Seed 001's training table (GPUs, duration, cost, energy) recomputed for named pairs on ``gpu``."""

    rows = []
    for small, large in pairs:
        for side, mid in (("slm", small), ("llm", large)):
            m = get_model(mid)
            n, d = float(m.active_params), pretrain_tokens(mid)
            k = SEED_TRAINING_GPUS[side]  # the duration metric's name states these counts
            est = estimate_training(float(m.total_params), d, gpu, gpus=k, active_params=n)
            need = min_gpus(mid, gpu, "bf16", context=TRAIN_SEQ_LEN, batch=1, mode="full", recompute="full")
            cells = {
                "GPUs to hold the training state": _cell(f"s1-train-gpus-{side}", Band.point(float(need)), "gpus"),
                "duration (days) on 8 (SLM) or 2,048 (LLM) GPUs": _cell(f"s1-train-days-{side}", est.wall_days, "days"),
                "cost (USD)": _cell(f"s1-train-cost-{side}", est.cost_usd, "usd"),
                "energy (MWh)": _cell(None, est.energy_kwh.scale(1e-3), "MWh"),
            }
            for metric, cell in cells.items():
                rows.append({"pair": f"{small} vs {large}", "side": side.upper(), "model": mid, "tokens": d, "metric": metric, **cell})
    return rows


def pair_inference_rows(pairs=PAIRS, gpu: str = "a100-80gb", precision: str = "bf16") -> list[dict]:
    """Seed 001's inference table (VRAM, tokens/s, latency, cost per 1M, edge) for named pairs."""

    rows = []
    for small, large in pairs:
        for side, mid in (("slm", small), ("llm", large)):
            mem = inference_memory(mid, precision, PROFILE["context"]).total_gb
            k1, one = serving_estimate(mid, gpu, precision, 1)
            kb, many = serving_estimate(mid, gpu, precision, PROFILE["batch"])
            laptops = _fit_gpus(mid, "m1-max", "int4", PROFILE["context"]) if _fits_at_all(mid, "m1-max", "int4") else 2
            cells = {
                "memory to serve (GB)": _cell(f"s1-vram-{side}", Band.point(mem), "gb"),
                "tokens/s, one stream": _cell(f"s1-tps-{side}", one.tokens_per_s_per_sequence, "tokens/s"),
                f"latency, {PROFILE['output']}-token answer (ms)": _cell(f"s1-latency-{side}", one.request_latency_s.scale(1000.0), "ms"),
                "cost per 1M output tokens": _cell(f"s1-cost1m-{side}", many.cost_per_1m_output_tokens_usd, "usd/1M tokens"),
                "laptops needed (INT4)": _cell("s1-edge-slm", Band.point(float(laptops)), "devices") if side == "slm" else
                _cell(None, Band.point(float(laptops)), "devices", claimed=("No (mostly): ≥ 2", 2.0, None, "lower")),
            }
            for metric, cell in cells.items():
                rows.append({"pair": f"{small} vs {large}", "side": side.upper(), "model": mid, "metric": metric, **cell})
    return rows


def _fits_at_all(model_id: str, device: str, precision: str) -> bool:
    return inference_memory(model_id, precision, PROFILE["context"]).total_gb <= get_device(device).memory_gb


def pair_table(rows: list[dict]):
    """Wide table: one row per pair and metric, the SLM and LLM cells side by side."""
    import pandas as pd  # on demand: the CLI imports costlib.book modules and must start fast

    out = []
    for (pair, metric), group in pd.DataFrame(rows).groupby(["pair", "metric"], sort=False):
        s = group[group.side == "SLM"].iloc[0]
        l = group[group.side == "LLM"].iloc[0]
        out.append({"pair": pair, "metric": metric, "seed SLM": s["claim"], "SLM (costlib)": s["costlib"],
                    "SLM verdict": s["verdict"], "seed LLM": l["claim"], "LLM (costlib)": l["costlib"], "LLM verdict": l["verdict"]})
    return pd.DataFrame(out)


def deployment_class(model_id: str, precision: str, context: int = PROFILE["context"]) -> str:
    """The smallest of :data:`HARDWARE_CLASSES` that holds the model at ``precision`` with one ``context`` sequence."""

    for label, dev, k in HARDWARE_CLASSES:
        d = get_device(dev)
        if k == 1:
            ok = inference_memory(model_id, precision, context).total_gb <= d.memory_gb
        else:
            need = _fit_gpus(model_id, dev, precision, context)
            ok = need <= k
        if ok:
            return label
    return "more than one node"


def latency_meanings(models_ids, gpu: str = "a100-80gb", precision: str = "bf16", prompt: int = PROFILE["prompt"], output: int = 500):
    """Time to first token, time per output token and time to a whole answer (ms) at batch 1."""
    import pandas as pd  # on demand: the CLI imports costlib.book modules and must start fast

    rows = []
    for mid in models_ids:
        k, e = serving_estimate(mid, gpu, precision, 1, prompt, output)
        rows.append({"model": mid, "gpus": k, "ttft_ms": e.ttft_s.scale(1000.0), "tpot_ms": e.tpot_s.scale(1000.0),
                     "answer_ms": e.request_latency_s.scale(1000.0)})
    return pd.DataFrame(rows)


def smallest_fitting_model(task, candidates, gpu: str = "l4", precision: str = "int4", batch: int = 1):
    """The first of ``candidates`` (smallest first) whose whole answer to ``task`` (prompt and output at their
    high values) arrives within the task's latency budget at mid efficiency, with the latencies tried."""

    tried = []
    p, o = int(task.prompt_tokens.high), int(task.output_tokens.high)
    for mid in candidates:
        try:
            k = _fit_gpus(mid, gpu, precision, p + o, batch)
            e = estimate_continuous(mid, gpu, precision, batch, p, o, gpus=k)
        except CostlibError:
            tried.append((mid, None, None))
            continue
        t = float(e.request_latency_s.mid)
        tried.append((mid, k, t))
        if t <= task.latency_budget_s:
            return mid, tried
    return None, tried


def best_precision(model_id: str, device: str, gpus: int = 1, precisions=("bf16", "int8", "int4"),
                   context: int = PROFILE["context"]) -> str | None:
    """The widest of ``precisions`` at which ``model_id`` with one ``context`` sequence fits on ``gpus`` x
    ``device`` (tensor parallel when ``gpus`` > 1), or None."""

    for p in precisions:
        need = min_gpus(model_id, device, p, context=context, max_gpus=gpus)
        if need is not None and need <= gpus:
            return p
    return None


def deployment_table(model_ids, context: int = PROFILE["context"]):
    """One row per model, one column per :data:`HARDWARE_CLASSES` entry: the widest format that fits there."""
    import pandas as pd  # on demand: the CLI imports costlib.book modules and must start fast

    rows = []
    for m in model_ids:
        row = {"model": m}
        for label, dev, k in HARDWARE_CLASSES:
            p = best_precision(m, dev, k, context=context)
            row[label] = p.upper() if p else "does not fit"
        rows.append(row)
    return pd.DataFrame(rows)




# ------------------------------------------------------------------------------------------------ chapter exhibits
# The chapter's exhibits (notebooks/05_slm_vs_llm.ipynb), each an Exhibits of glued values, tables and the data its
# figure (costlib.book.slm_vs_llm_figures) needs. Seed claims are shown as the audit's rows (inference_chapter.
# seed_claims); the pair tables show the seed's class figure next to each named model without judging it again.
REALITY_CHECK_CLAIMS = ("s0-rc-train-3b", "s0-rc-train-70b", "s0-rc-infer-3b", "s0-rc-infer-70b", "s0-rc-latency-3b",
                        "s0-rc-latency-70b", "s0-rc-deploy-3b", "s0-rc-deploy-70b")
TRAINING_CLASS_CLAIMS = ("s1-train-gpus-slm", "s1-train-gpus-llm", "s1-train-days-slm", "s1-train-days-llm",
                         "s1-train-cost-slm", "s1-train-cost-llm")
CAPABILITY_GPU, CAPABILITY_PRECISION = "h100-sxm", "fp8"
"""Where the capability chart's models are self-hosted (the fewest GPUs of this kind that hold them)."""
MOE_BATCH = 128
"""Requests in flight for the mixture-of-experts comparison (continuous batching; book assumption)."""
WORKED_TOKENS_PER_MONTH = 50e6
"""Output tokens a month of worked problem 1 (book assumption)."""
DEPLOYMENT_MODELS = ("qwen2.5-0.5b", "llama-3.2-1b", "llama-3.2-3b", "qwen2.5-3b", "qwen2.5-7b", "llama-3.1-8b",
                     "qwen2.5-72b", "llama-3.1-70b", "llama-3.1-405b")
SDLC_CANDIDATES = ("qwen2.5-0.5b", "llama-3.2-1b", "llama-3.2-3b", "qwen2.5-7b", "llama-3.1-8b", "qwen2.5-72b",
                   "llama-3.1-70b")
TRAINING_BACKTEST_RUNS = ("llama2-70b", "llama3.1-405b", "llama3.1-70b", "llama3.2-3b")


def _name(model_id: str) -> str:
    return get_model(model_id).name


def chapter_profile():
    """The chapter's shared inputs: MFU band, A100 price band and the request profile (glued for the prose)."""
    from ..prices import gpu_price_band, prices_for
    from ..present.exhibits import Exhibits
    from ..training import mfu_band

    mfu, price = mfu_band(), gpu_price_band("a100-80gb")
    return Exhibits(values={"mfu_low": 100 * mfu.low, "mfu_high": 100 * mfu.high, "a100_price_low": price.low,
                            "a100_price_high": price.high, "price_date": max(p.as_of for p in prices_for("a100-80gb")),
                            "profile_prompt": PROFILE["prompt"], "profile_output": PROFILE["output"],
                            "profile_batch": PROFILE["batch"], "profile_context": PROFILE["context"],
                            "laptop_gb": get_device("m1-max").memory_gb, "l4_gb": get_device("l4").memory_gb,
                            "node_gpus": HARDWARE_CLASSES[-1][2]})


def reality_check():
    """Seed 000's Reality Check as the audit's rows, with the figures the prose adds (compute-optimal tokens of a
    70B, GPUs the 70B needs by precision)."""
    from ..training import chinchilla_tokens
    from .audit import evaluate
    from .inference_chapter import seed_claims

    ex = seed_claims(REALITY_CHECK_CLAIMS, "tbl-reality-check")
    dep70 = evaluate("s0-rc-deploy-70b").details["counts"]
    ex.values.update({"rc_70b_tokens": chinchilla_tokens(70e9) / 1e12, "rc_dep70_bf16": dep70["bf16"],
                      "rc_dep70_int4": dep70["int4"],
                      "rc_gpus70": evaluate("s0-rc-latency-70b").details["gpus"]})
    return ex


def _pair_frame(rows):
    """The pair table without a second verdict: seed's class figure and costlib's value per named model."""
    t = pair_table(rows)
    t = t.drop(columns=["SLM verdict", "LLM verdict"])
    t["pair"] = [" vs ".join(_name(m) for m in p.split(" vs ")) for p in t["pair"]]
    t["pair"] = t["pair"].where(t["pair"] != t["pair"].shift(), "")
    return t.rename(columns={"seed SLM": "seed, SLM class", "seed LLM": "seed, LLM class",
                             "SLM (costlib)": "small model (costlib)", "LLM (costlib)": "large model (costlib)"})


def pair_tables():
    """Seed 001's training and inference tables for the named pairs, the audit's rows for the training class
    claims, and the figures the prose quotes."""
    import pandas as pd

    from ..present.exhibits import Exhibits, Table
    from ..units import HOURS_PER_DAY, HOURS_PER_YEAR
    from .inference_chapter import seed_claims

    train, infer = pair_training_rows(), pair_inference_rows()
    tr, ir = pd.DataFrame(train), pd.DataFrame(infer)

    def band(df, model, prefix):
        return df[(df.model == model) & df.metric.str.startswith(prefix)].iloc[0]["band"]

    ex = seed_claims(TRAINING_CLASS_CLAIMS, "tbl-pairs-claims")
    ex.tables["tbl-pairs-training"] = Table(_pair_frame(train), key=("pair", "metric"))
    ex.tables["tbl-pairs-inference"] = Table(_pair_frame(infer), key=("pair", "metric"))
    ex.values.update({
        "qwen_tokens": pretrain_tokens("qwen2.5-72b") / 1e12, "gpus_slm": SEED_TRAINING_GPUS["slm"],
        "gpus_llm": SEED_TRAINING_GPUS["llm"],
        "l32_3b_years": band(tr, "llama-3.2-3b", "duration").mid / (HOURS_PER_YEAR / HOURS_PER_DAY),
        "l32_3b_tokens": pretrain_tokens("llama-3.2-3b") / 1e12,
        "l32_3b_cost_mid": band(tr, "llama-3.2-3b", "cost").mid / 1e6,
        "l405_cost_mid": band(tr, "llama-3.1-405b", "cost").mid / 1e6,
        "l405_energy_mid": band(tr, "llama-3.1-405b", "energy").mid / 1000,
        "inf_3b_cost": band(ir, "llama-3.2-3b", "cost").mid, "inf_70b_cost": band(ir, "llama-3.1-70b", "cost").mid,
        "inf_405b_cost": band(ir, "llama-3.1-405b", "cost").mid,
        "inf_3b_lat": band(ir, "llama-3.2-3b", "latency").mid / 1000,
        "inf_70b_lat": band(ir, "llama-3.1-70b", "latency").mid / 1000})
    return ex


def capability_pairs():
    """Published MMLU / HumanEval of each pair next to its cost per 1M output tokens (mid, A100-80GB)."""
    import pandas as pd

    from ..present.exhibits import Exhibits, Table

    rows = []
    for s, l in PAIRS:
        cs, cl = cost_per_1m_output(s).mid, cost_per_1m_output(l).mid
        rows.append({"pair": f"{_name(s)} vs {_name(l)}", "large / small cost": f"{cl / cs:.0f}x",
                     "MMLU, small": score(s, "MMLU"), "MMLU, large": score(l, "MMLU"),
                     "HumanEval, small": score(s, "HumanEval", None), "HumanEval, large": score(l, "HumanEval", None),
                     "US$ per 1M output tokens, small": cs, "US$ per 1M output tokens, large": cl})
    df = pd.DataFrame(rows)
    return Exhibits(tables={"tbl-pairs-capability": Table(df, key="pair", max_columns=7)},
                    values={"mmlu_3b": score("llama-3.2-3b", "MMLU"), "mmlu_70b": score("llama-3.1-70b", "MMLU"),
                            "ratio_l3": cost_per_1m_output("llama-3.1-70b").mid / cost_per_1m_output("llama-3.2-3b").mid})


def capability():
    """MMLU-Pro and EvalPlus on one basis (one harness) against self-hosted cost, with the cost-score frontier."""
    import pandas as pd

    from ..models import quality_axis
    from ..present.exhibits import Exhibits, Table

    know, code = quality_axis("knowledge"), quality_axis("coding")
    pts = []
    for mid in sorted(know["scores"]):
        k, e = serving_estimate(mid, CAPABILITY_GPU, CAPABILITY_PRECISION, PROFILE["batch"])
        c = e.cost_per_1m_output_tokens_usd
        pts.append({"model": _name(mid), "id": mid, "released": get_model(mid).as_of[:7],
                    "MMLU-Pro": know["scores"][mid], "EvalPlus": code["scores"].get(mid), "GPUs": int(k),
                    "low": c.low, "mid": c.mid, "high": c.high})
    cap = pd.DataFrame(pts)
    cap["frontier"] = pareto_frontier(cap["mid"], cap["MMLU-Pro"])
    cap = cap.sort_values("mid").reset_index(drop=True)
    shown = pd.DataFrame({"model": cap.model, "on the frontier": cap.frontier, "released": cap.released,
                          "MMLU-Pro (%)": cap["MMLU-Pro"], "EvalPlus (%)": cap["EvalPlus"], "GPUs": cap.GPUs,
                          "US$ per 1M output tokens": [f"{m:.3g} ({lo:.3g}-{hi:.3g})" for lo, m, hi in
                                                       zip(cap.low, cap.mid, cap.high)]})
    r = cap.set_index("id")
    q30, q72 = r.loc["qwen3-30b-a3b"], r.loc["qwen2.5-72b"]
    same = q30["GPUs"] == q72["GPUs"] == 1
    gpu = get_device(CAPABILITY_GPU).name
    return Exhibits(data={"capability": cap}, tables={"tbl-capability": Table(shown, max_columns=7)}, values={
        "n_frontier": int(cap.frontier.sum()), "n_cap": len(cap), "cap_gpu": gpu,
        "cap_precision": CAPABILITY_PRECISION.upper(), "cap_harness_source": know["source"],
        "q30_pro": q30["MMLU-Pro"], "q72_pro": q72["MMLU-Pro"], "q30_ep": q30["EvalPlus"], "q72_ep": q72["EvalPlus"],
        "q30_cost": q30["mid"], "q72_cost": q72["mid"], "q72_over_q30_cost": q72["mid"] / q30["mid"],
        "q_gpus_text": f"both on one {gpu} in {CAPABILITY_PRECISION.upper()}" if same
        else f"on {int(q30['GPUs'])} GPU(s) instead of {int(q72['GPUs'])}"})


def api_tier_table():
    """Every current hosted-API offer by tier (:func:`costlib.prices.api_tiers`) and what the chapter's request
    costs there per 1M output tokens."""
    import pandas as pd

    from .. import market, prices
    from ..present.exhibits import Exhibits, Table

    rows = []
    for tier, ids in prices.api_tiers().items():
        for i in ids:
            pr = prices.get_api_price(i, current=True)
            rows.append({"offer": pr.model, "tier": tier,
                         "US$ per 1M output tokens, this request": market.api_cost_per_1m_output(pr, PROFILE["prompt"], PROFILE["output"]),
                         "US$ per 1M tokens, input / output": f"{pr.input_usd_per_1m:g} / {pr.output_usd_per_1m:g}",
                         "open model": _name(pr.open_model) if pr.open_model else "",
                         "price since": pr.price_since or pr.as_of})
    df = pd.DataFrame(rows)
    small = df[df.tier == "small"]
    closed = small[small["open model"] == ""]
    col = "US$ per 1M output tokens, this request"
    mini = prices.get_api_price("gpt-4o-mini")
    return Exhibits(tables={"tbl-api-tiers": Table(df, key="offer", max_columns=6)}, values={
        "genai_version": prices.genai_prices_version(), "api_small_low": small[col].min(),
        "api_small_high": small[col].max(), "api_closed_small_low": closed[col].min(),
        "api_closed_small_high": closed[col].max(),
        "mini_cost": market.api_cost_per_1m_output(mini, PROFILE["prompt"], PROFILE["output"]), "mini_as_of": mini.as_of,
        "l3b_a100": cost_per_1m_output("llama-3.2-3b").mid})


def moe_vs_api():
    """The 2025 open mixtures of experts self-hosted (continuous batching, :data:`MOE_BATCH` in flight, H100 FP8)
    against their API hosts (:func:`costlib.market.self_hosted_vs_api`)."""
    import pandas as pd

    from .. import market
    from ..present.exhibits import Exhibits, Table

    moe = market.self_hosted_vs_api(gpu="h100-sxm", precision="fp8", batch=MOE_BATCH)
    moe["name"] = [_name(m) for m in moe.model]
    shown = pd.DataFrame({"model": moe.name, "self-hosted cheaper than the cheapest host":
                          moe.self_hosted_mid < moe.api_low,
                          "total parameters (billions)": moe.total_params_b, "active parameters (billions)": moe.active_params_b,
                          "H100s": moe.gpus.astype(int),
                          "self-hosted, US$ per 1M output tokens": [f"{m:.3g} ({lo:.3g}-{hi:.3g})" for lo, m, hi in
                                                                     zip(moe.self_hosted_low, moe.self_hosted_mid, moe.self_hosted_high)],
                          "API hosts, US$ per 1M output tokens": [f"{m:.3g} ({lo:.3g}-{hi:.3g})" for lo, m, hi in
                                                                   zip(moe.api_low, moe.api_mid, moe.api_high)],
                          "hosts": moe.api_hosts})
    cheaper, losers = moe[moe.self_hosted_mid < moe.api_low], moe[moe.self_hosted_mid >= moe.api_low]
    r = moe.set_index("model")
    return Exhibits(data={"moe": moe}, tables={"tbl-moe-vs-api": Table(shown, max_columns=6)}, values={
        "moe_n": len(moe), "moe_n_cheaper": len(cheaper), "moe_batch": MOE_BATCH,
        "moe_cheaper_names": ", ".join(cheaper.name) or "none", "moe_loser_names": " and ".join(losers.name) or "none",
        "oss20_sh": r.loc["gpt-oss-20b", "self_hosted_mid"], "oss20_api": r.loc["gpt-oss-20b", "api_mid"],
        "ds_sh": r.loc["deepseek-v3.1", "self_hosted_mid"], "ds_api": r.loc["deepseek-v3.1", "api_mid"],
        "ds_gpus": r.loc["deepseek-v3.1", "gpus"]})


def tier_history():
    """Closed-model API prices per tier over time (:func:`costlib.prices.tier_price_history`)."""
    import pandas as pd

    from .. import market, prices
    from ..present.exhibits import Exhibits, Table

    hist = {t: prices.tier_price_history(t) for t in prices.TIERS}
    tbl = pd.concat([h.assign(tier=t) for t, h in hist.items()])[["offer", "tier", "date", "provider", "status",
                                                                   "blended_usd_per_1m", "from"]]
    tbl = tbl.rename(columns={"blended_usd_per_1m": "US$ per 1M tokens, 3:1 blend"})
    lg, sm = hist["large"], hist["small"]
    return Exhibits(data={"history": hist}, tables={"tbl-tier-history": Table(tbl, key="offer", max_columns=7)}, values={
        "large_2024": lg[lg.offer == "GPT-4o"]["blended_usd_per_1m"].iloc[0],
        "large_now_low": market.tier_cheapest_band("large").low,
        "small_2024": sm[sm.offer == "GPT-4o mini"]["blended_usd_per_1m"].iloc[0],
        "small_now_low": market.tier_cheapest_band("small").low})


def monthly_problem(tokens_per_month: float = WORKED_TOKENS_PER_MONTH, model: str = "qwen3-30b-a3b"):
    """Worked problem 1: self-host ``model`` on H100s or buy the cheapest closed small-tier API, for
    ``tokens_per_month`` output tokens."""
    from .. import market, prices
    from ..prices import gpu_price_band
    from ..present.exhibits import Exhibits
    from ..units import HOURS_PER_MONTH

    row = market.self_hosted_vs_api((model,), gpu="h100-sxm", precision="fp8", batch=MOE_BATCH).iloc[0]
    closed = [i for i in prices.api_tiers()["small"] if not prices.get_api_price(i).open_model]
    cc = prices.get_api_price(min(closed, key=lambda i: market.api_cost_per_1m_output(prices.get_api_price(i))))
    api_per_m = market.api_cost_per_1m_output(cc)
    h100 = gpu_price_band("h100-sxm").mid
    gpu_month = h100 * HOURS_PER_MONTH * row["gpus"]
    return Exhibits(values={
        "wp_tokens_m": tokens_per_month / 1e6, "wp_api_name": cc.model, "wp_api_per_m": api_per_m,
        "wp_api_month": api_per_m * tokens_per_month / 1e6, "wp_sh_per_m": row["self_hosted_mid"],
        "wp_sh_busy_month": row["self_hosted_mid"] * tokens_per_month / 1e6, "wp_gpu_month": gpu_month,
        "wp_h100_mid": h100, "wp_util": row["self_hosted_mid"] * tokens_per_month / 1e6 / gpu_month,
        "wp_breakeven_m": gpu_month / api_per_m})


def latency_table(answer_tokens: int | None = None):
    """The three meanings of a latency figure (first token, per token, whole answer) at batch 1 for the pairs'
    models, and which one each seed figure matches (at the mid; a reading, not a verdict)."""
    import pandas as pd

    from ..present.exhibits import Exhibits, Table

    slm_c, llm_c = get_claim("s0-rc-latency-3b"), get_claim("s0-rc-latency-70b")  # "< 50 ms", "300–800 ms"
    out_tokens = int(answer_tokens or slm_c.params["output"])
    lm = latency_meanings([m for pair in PAIRS for m in pair], output=out_tokens)

    def meanings(t, p, a, ok):
        return ", ".join(n for n, b in (("first token", t), ("per token", p), ("answer", a)) if ok(b.mid)) or "nothing"

    below = lambda v: v < slm_c.claimed_high  # noqa: E731
    within = lambda v: llm_c.claimed_low <= v <= llm_c.claimed_high  # noqa: E731
    df = pd.DataFrame({
        "model": [_name(m) for m in lm.model], "GPUs": lm.gpus.astype(int),
        f"{claimed_text(slm_c)} fits": [meanings(t, p, a, below) for t, p, a in zip(lm.ttft_ms, lm.tpot_ms, lm.answer_ms)],
        f"{claimed_text(llm_c)} fits": [meanings(t, p, a, within) for t, p, a in zip(lm.ttft_ms, lm.tpot_ms, lm.answer_ms)],
        "first token (ms)": [_band_text(b, "ms") for b in lm.ttft_ms],
        "per token (ms)": [_band_text(b, "ms") for b in lm.tpot_ms],
        f"{out_tokens}-token answer (s)": [_band_text(b.scale(1e-3), "s") for b in lm.answer_ms]})
    r70, r3 = lm[lm.model == "llama-3.1-70b"].iloc[0], lm[lm.model == "llama-3.2-3b"].iloc[0]
    c1, c2 = df.columns[2], df.columns[3]
    return Exhibits(tables={"tbl-latency-meanings": Table(df, key="model", max_columns=5)}, values={
        "lat_answer_tokens": out_tokens, "lat70_ttft": r70.ttft_ms.mid, "lat70_tpot": r70.tpot_ms.mid,
        "lat3_tpot": r3.tpot_ms.mid, "lat3_answer": r3.answer_ms.mid / 1000,
        "meaning3": df[lm.model == "llama-3.2-3b"].iloc[0][c1], "meaning70": df[lm.model == "llama-3.1-70b"].iloc[0][c2]})


def latency_backtest():
    """Published first-token times and single-stream speeds against costlib's leave-one-out prediction (the
    inference chapter's back-test, these two metrics), with the median absolute error."""
    import pandas as pd

    from ..inference import backtest
    from ..present.exhibits import Exhibits, Table

    bt = backtest()
    bt = bt[bt.metric.isin(["ttft_s", "decode_tokens_per_s_per_sequence"])]
    df = pd.DataFrame({"case": [f"{_name(m)}, {g}, {p.upper()}, {io} tokens" for m, g, p, io in
                                zip(bt.model, bt.gpu, bt.precision, bt["in/out"])],
                       "error": bt.error_loo, "engine class": bt.engine_class,
                       "metric": bt.metric.map({"ttft_s": "first token (s)",
                                                "decode_tokens_per_s_per_sequence": "tokens/s, one stream"}),
                       "published": bt.published, "costlib, leave-one-out": bt.predicted_loo})
    mae = float(np.nanmedian(np.abs(bt.error_loo.astype(float))))
    return Exhibits(tables={"tbl-latency-backtest": Table(df, key="case", percent=("error",), max_columns=6)},
                    values={"bt_n": len(df), "bt_median_abs": mae})


def deployment():
    """The widest format each model fits at on each hardware class (:func:`deployment_table`)."""
    from ..present.exhibits import Exhibits, Table

    dep = deployment_table(DEPLOYMENT_MODELS)
    d = dep.set_index("model")
    shown = dep.assign(model=[_name(m) for m in dep.model])
    return Exhibits(tables={"tbl-deployment": Table(shown)}, values={
        "mem70_int4": inference_memory("llama-3.1-70b", "int4", PROFILE["context"]).total_gb,
        "mem405_int4": inference_memory("llama-3.1-405b", "int4", PROFILE["context"]).total_gb,
        "dep8_l4": d.loc["llama-3.1-8b", "one L4"], "dep70_laptop": d.loc["llama-3.1-70b", "laptop"],
        "dep70_a100": d.loc["llama-3.1-70b", "one A100"], "dep405_node": d.loc["llama-3.1-405b", "one 8-GPU node"]})


def sdlc():
    """Time to the whole answer per SDLC task and candidate (batch 1, INT4 on L4; tensor-parallel when needed)
    against the task's latency budget; the smallest and largest candidate that meets it."""
    import pandas as pd

    from ..enterprise import load_scenario
    from ..present.exhibits import Exhibits, Table

    scenario = load_scenario("sdlc_assistant")
    rows, times_by_task = [], {}
    for task in scenario.workload.tasks:
        times = {m: smallest_fitting_model(task, [m], gpu="l4", precision="int4")[1][0][2] for m in SDLC_CANDIDATES}
        times_by_task[task.name] = times
        meets = [m for m in SDLC_CANDIDATES if times[m] is not None and times[m] <= task.latency_budget_s]
        rows.append({"task": task.name, "smallest that meets it": _name(meets[0]) if meets else "none",
                     "largest that meets it": _name(meets[-1]) if meets else "none",
                     "budget (s)": task.latency_budget_s,
                     "prompt / answer (tokens)": f"{task.prompt_tokens.high:,.0f} / {task.output_tokens.high:,.0f}",
                     **{_name(m): (times[m] if times[m] is not None else "does not fit") for m in SDLC_CANDIDATES}})
    df = pd.DataFrame(rows)
    by = df.set_index("task")
    values = {"sdlc_completion_largest": by.loc["completion", "largest that meets it"],
              "sdlc_completion_budget": by.loc["completion", "budget (s)"],
              "sdlc_review_70b": float(times_by_task["review"]["llama-3.1-70b"]),
              "sdlc_smallest_all": ", ".join(sorted(set(df["smallest that meets it"]))),
              "l4_bw": get_device("l4").bandwidth_gb_s, "sdlc_as_of": scenario.as_of}
    for t in ("review", "docs", "chat"):
        values[f"sdlc_{t}_largest"] = by.loc[t, "largest that meets it"]
        values[f"sdlc_{t}_budget"] = by.loc[t, "budget (s)"]
    for task in scenario.workload.tasks:
        if task.name in ("review", "docs", "chat"):
            values[f"sdlc_{task.name}_70b_a100"] = smallest_fitting_model(task, ["llama-3.1-70b"], gpu="a100-80gb",
                                                                          precision="int4")[1][0][2]
    return Exhibits(tables={"tbl-sdlc": Table(df, key="task", max_columns=6)}, values=values)


def training_backtest():
    """Published pre-training GPU-hours of the Llama runs against costlib's band (6·N·D at the calibrated MFU)."""
    import pandas as pd

    from ..present.exhibits import Exhibits, Table
    from ..training import gpu_hours, training_flops

    rows = []
    for run_id in TRAINING_BACKTEST_RUNS:
        r = get_run(run_id)
        pred = gpu_hours(training_flops(r.compute_params, r.tokens), r.gpu_id, params=r.compute_params)
        rows.append({"run": r.model, "inside the band": bool(pred.low <= r.gpu_hours <= pred.high),
                     "error of mid": pred.mid / r.gpu_hours - 1, "GPU": get_device(r.gpu_id).name,
                     "tokens (trillions)": r.tokens / 1e12, "published GPU-hours": round(r.gpu_hours),
                     "costlib GPU-hours": f"{pred.mid:,.0f} ({pred.low:,.0f}-{pred.high:,.0f})"})
    df = pd.DataFrame(rows)
    return Exhibits(tables={"tbl-training-backtest": Table(df, key="run", percent=("error of mid",))},
                    values={"bt_l2_err": 100 * df.loc[0, "error of mid"]})


def explorer_cell(model: str, precision: str, gpu: str, batch: int) -> dict:
    """One grid point of the chapter's explorer (:func:`serving_estimate`, continuous batching)."""
    k, e = serving_estimate(model, gpu, precision, batch)
    return {"gpus": k, "memory_gb": inference_memory(model, precision, PROFILE["context"]).total_gb,
            "ttft_ms": e.ttft_s.scale(1000.0), "answer_s": e.request_latency_s, "usd_per_1m": e.cost_per_1m_output_tokens_usd}


def _band_fmt(unit: str, digits: int):
    return lambda b: f"{b.mid:,.{digits}f}{unit} ({b.low:,.{digits}f}–{b.high:,.{digits}f})"


def explorer():
    """The kernel-free explorer of the chapter: one model on one kind of GPU."""
    from ..present.explore import static_explorer

    return static_explorer(
        "One model on one kind of GPU",
        inputs={"model": [m for pair in PAIRS for m in pair], "precision": ["bf16", "int8", "int4"],
                "gpu": ["l4", "a100-80gb", "h100-sxm"], "batch": [1, 4, PROFILE["batch"], 64]},
        compute=explorer_cell,
        fmt={"gpus": ",.0f", "memory_gb": ",.0f| GB", "ttft_ms": _band_fmt(" ms", 0), "answer_s": _band_fmt(" s", 1),
             "usd_per_1m": lambda b: f"${b.mid:,.2f} (${b.low:,.2f}–${b.high:,.2f})"},
        labels={"precision": "number format", "gpu": "GPU", "batch": "requests in flight",
                "gpus": "GPUs needed (tensor parallel)", "memory_gb": f"memory, one {PROFILE['context']:,}-token sequence",
                "ttft_ms": f"first token ({PROFILE['prompt']:,}-token prompt)",
                "answer_s": f"whole {PROFILE['output']}-token answer", "usd_per_1m": "$ per 1M output tokens"},
        default={"model": "llama-3.1-70b", "precision": "bf16", "gpu": "a100-80gb", "batch": PROFILE["batch"]},
        note="Mid estimate with the low–high band; continuous batching with that many requests in flight (the "
             "inference chapter's serving model), GPUs rented on demand at the catalog's mid price and busy all the time.")


def assumptions():
    """Every input of the chapter with its value, source and date."""
    import pandas as pd

    from .. import prices
    from ..enterprise import load_scenario
    from ..inference import backtest
    from ..models import quality_axis
    from ..present.exhibits import Exhibits, Table
    from ..prices import gpu_price_band, prices_for
    from ..training import fit_runs, mfu_band
    from .audit import HOLD_TOLERANCE

    def price_row(gpu_id):
        b, offers = gpu_price_band(gpu_id), prices_for(gpu_id)
        return (f"{get_device(gpu_id).name} rental price", f"US${b.low:.2f}–{b.high:.2f} per GPU-hour (mid {b.mid:.2f}), "
                f"{len(offers)} offers", "costlib/data/prices.csv: " + ", ".join(sorted({p.provider for p in offers})),
                max(p.as_of for p in offers))

    def device_row(gpu_id):
        d = get_device(gpu_id)
        peak = d.peak_tflops_by_precision.get("bf16")
        peak_text = f", {peak:,.0f} TFLOP/s BF16" if peak and peak == peak else ""
        return (f"{d.name} specification", f"{d.memory_gb:,.0f} GB, {d.bandwidth_gb_s:,.0f} GB/s{peak_text}", d.source, d.as_of)

    runs, mfu, scores, know = fit_runs(), mfu_band(), benchmark_scores(), quality_axis("knowledge")
    rows = [device_row(g) for g in ("a100-80gb", "l4", "h100-sxm", "m1-max")] + \
           [price_row(g) for g in ("a100-80gb", "l4", "h100-sxm")] + [
        ("MFU band (training)", f"{100 * mfu.low:.0f}%–{100 * mfu.high:.0f}% (mid {100 * mfu.mid:.0f}%)",
         f"the training chapter: calibrated on {len(runs)} published runs (costlib/data/published_runs.csv)",
         max(r.as_of for r in runs)),
        ("serving", "continuous batching with the engines' calibrated bands (vLLM), the inference chapter's model",
         f"the inference chapter: {len(backtest())} published serving measurements (costlib/data/inference_benchmarks.csv)",
         "see the inference chapter"),
        ("request profile", f"{PROFILE['prompt']:,}-token prompt, {PROFILE['output']}-token answer, "
         f"{PROFILE['batch']} requests in flight, {PROFILE['context']:,}-token context",
         "this book's assumption (costlib.book.slm_vs_llm.PROFILE)", "—"),
        ("training GPUs (seed 001 ranges' top)", f"{SEED_TRAINING_GPUS['slm']:,} (SLM), {SEED_TRAINING_GPUS['llm']:,} (LLM)",
         "seed 001 (costlib.book.slm_vs_llm.SEED_TRAINING_GPUS)", "—"),
        ("pre-training tokens", "; ".join(f"{_name(m)}: {pretrain_tokens(m) / 1e12:g}T" for pair in PAIRS for m in pair),
         "model cards (costlib/data/published_runs.csv, costlib.book.slm_vs_llm.PRETRAIN_TOKENS)", max(r.as_of for r in runs)),
        ("benchmark scores (pairs)", f"{len(scores)} published MMLU / HumanEval scores",
         "model cards and papers (costlib/data/benchmark_scores.csv)", f"{scores.as_of.min()} to {scores.as_of.max()}"),
        ("quality axes (one basis each)", f"MMLU-Pro and EvalPlus of {len(know['scores'])} base models, one harness",
         f"Qwen3 Technical Report ({know['source']}; costlib/data/quality_scores.csv, level S)", "2025-05-14"),
        ("hosted-API prices", f"{sum(len(v) for v in prices.api_tiers().values())} current offers in 3 tiers",
         f"genai-prices {prices.genai_prices_version()} (pinned; costlib/data/api_prices.csv lists the offers)",
         prices.PRICE_DATE.isoformat()),
        ("verdict tolerance", f"±{100 * (HOLD_TOLERANCE - 1):.0f}% around costlib's band",
         "the seed audit's rules (costlib.book.audit.HOLD_TOLERANCE)", "—"),
        ("SDLC scenario", "task mix, tokens and latency budgets of the enterprise chapter",
         "costlib/data/scenarios/sdlc_assistant.yaml", load_scenario("sdlc_assistant").as_of)]
    return Exhibits(tables={"tbl-assumptions-05": Table(pd.DataFrame(rows, columns=["input", "value", "source", "as of"]))})
