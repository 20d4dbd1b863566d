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


