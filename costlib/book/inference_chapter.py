"""The inference chapter's analyses (notebooks/02_inference.ipynb): every table and glued number it shows.

Each function computes one exhibit from the physics (:mod:`costlib.inference`, :mod:`costlib.serving`,
:mod:`costlib.memory`, :mod:`costlib.prices`) and returns an :class:`~costlib.present.exhibits.Exhibits`: the
glue values its prose quotes, its tables (label -> frame) and the data the next exhibit needs. Figures are drawn
in :mod:`costlib.book.inference_figures`. Seed claims are never judged here: the seed tables are the audit's
rows (:func:`claims_exhibit`, from :mod:`costlib.book.claims`).

The chapter's request and service level are named constants (book assumptions, stated in its prose):
:data:`PROMPT_TOKENS` + :data:`OUTPUT_TOKENS` at a mean TTFT of :data:`SLO_TTFT_S` and a mean TPOT of
:data:`SLO_TPOT_S`.

References: [1] Kwon et al. 2023, vLLM (PagedAttention); [2] Agrawal et al. 2024, Sarathi-Serve (chunked
prefill); [3] Williams et al. 2009, roofline; [4] Kaplan et al. 2020, Table 1 (FLOPs per token).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import inference as inf
from .. import serving as sv
from ..errors import CostlibError
from ..hardware import get_device
from ..models import get_model
from ..prices import api_tiers, get_api_price, gpu_price_band, prices_for
from ..present.exhibits import Exhibits, Table
from ..present.notebook import band_text, significant
from .claims import claim_html, claim_summary

# ------------------------------------------------------------------------------------------------ assumptions
PROMPT_TOKENS = 1000
"""Prompt tokens of the chapter's chat request (book assumption)."""
OUTPUT_TOKENS = 250
"""Output tokens of the chapter's chat request (book assumption)."""
SLO_TTFT_S = 1.0
"""The chapter's service level: mean time to first token (s), a typical interactive target (book assumption)."""
SLO_TPOT_S = 0.050
"""The chapter's service level: mean time per output token (s): 20 tokens/s, faster than reading (book assumption)."""
MIN_CONCURRENCY = 64
"""A replica must hold at least this many requests of the chapter's shape in its KV cache (sets the GPUs per
replica of the large model; book assumption)."""
ROOF_MODEL = "llama-2-7b"
ROOF_GPUS = ("l4", "a100-80gb", "h100-sxm")
ROOF_BATCHES = (1, 8, 64, 256)
ROOF_CONTEXT = 1000
"""Context of the roofline's decode points: a 500-token prompt half-way through a 1,000-token answer."""
ROOF_PREFILL_TOKENS = 512
FRONTIER_MODELS = (("3B", "llama-3.2-3b", "bf16"), ("8B", "llama-3.1-8b", "bf16"), ("70B", "llama-3.1-70b", "fp8"))
FRONTIER_GPUS = ("l4", "l40s", "a100-80gb", "h100-sxm", "h200")
SELF_HOSTED = (("llama-3.1-8b", "l4", "fp8"), ("llama-3.1-8b", "a100-80gb", "bf16"), ("llama-3.1-8b", "h100-sxm", "bf16"),
               ("llama-3.1-70b", "h100-sxm", "bf16"))
"""The self-hosted set-ups priced against the APIs: the 8B in FP8 on an L4 (in BF16 its token floor is above the
50 ms target), in BF16 on an A100 and an H100, the 70B in BF16 on the fewest H100s that hold it."""
SAME_MODEL_API = {"llama-3.1-8b": "groq-llama-3.1-8b", "llama-3.1-70b": "groq-llama-3.3-70b"}
"""The current hosted offer of the same open model (Llama 3.3 70B has the 3.1-70B architecture), the API each
self-hosted set-up is compared with first."""
API_TIER_FOR = {"llama-3.1-8b": "small", "llama-3.1-70b": "mid"}
"""The current API tier (:func:`costlib.prices.api_tiers`) a self-hosted model competes with."""
UTILIZATIONS = (0.1, 0.5, 1.0)
"""Shares of paid GPU-hours busy at which the self-hosted cost is tabled."""
EDGE_DEVICES = ("m1-max", "m2-max", "i9-13900k", "epyc-9654")
EDGE_MODELS = ("llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b")
EDGE_PROMPT, EDGE_OUTPUT = 500, 200
WORKED_RATE = 30.0
"""Peak request rate (requests/s) of worked problem 1 (book assumption)."""

SEED_000_CLAIMS = ("s0-infer-rule", "s0-infer-1b-flops", "s0-infer-1b-latency", "s0-infer-1b-cost",
                   "s0-infer-3b-flops", "s0-infer-3b-latency", "s0-infer-3b-cost", "s0-infer-7b-flops",
                   "s0-infer-7b-latency", "s0-infer-7b-cost")
SEED_001_CLAIMS = ("s1-vram-slm", "s1-vram-llm", "s1-tps-slm", "s1-tps-llm", "s1-latency-slm", "s1-latency-llm",
                   "s1-cost1m-slm", "s1-cost1m-llm", "s1-edge-slm", "s1-edge-llm")
REALITY_CHECK_CLAIMS = ("s0-rc-infer-3b", "s0-rc-infer-70b", "s0-rc-latency-3b", "s0-rc-latency-70b")


def _key(gpu_id: str) -> str:
    return gpu_id.replace("-", "_").replace(".", "_")


def _bound(intensity: float, gpu_id: str) -> str:
    return "compute" if intensity > get_device(gpu_id).ridge_flops_per_byte("fp16") else "memory"


# ------------------------------------------------------------------------------------------------ section 1
def roofline() -> Exhibits:
    """Arithmetic intensity of :data:`ROOF_MODEL` in FP16 (decode at :data:`ROOF_BATCHES`, one prefill) against
    the FP16 ridge point of each of :data:`ROOF_GPUS` [3]."""
    intens = [float(i) for i in inf.decode_arithmetic_intensity(ROOF_MODEL, "fp16", list(ROOF_BATCHES), ROOF_CONTEXT)]
    pre = float(inf.prefill_arithmetic_intensity(ROOF_MODEL, "fp16", 1, ROOF_PREFILL_TOKENS))
    rows = []
    for phase, i in [(f"decode, batch {b}", i) for b, i in zip(ROOF_BATCHES, intens)] + \
            [(f"prefill, {ROOF_PREFILL_TOKENS}-token prompt", pre)]:
        rows.append({"phase": phase, "FLOP per byte": significant(i, 3),
                     **{f"bound on {get_device(g).name}": _bound(i, g) for g in ROOF_GPUS}})
    rows.append({"phase": "ridge point (FP16 peak / bandwidth)", "FLOP per byte": "",
                 **{f"bound on {get_device(g).name}": f"{get_device(g).ridge_flops_per_byte('fp16'):.0f} FLOP/byte"
                    for g in ROOF_GPUS}})
    a100 = get_device("a100-80gb").ridge_flops_per_byte("fp16")
    values = {"i_bs1": intens[0], "i_bs256": intens[-1], "i_prefill": pre, "ctx": ROOF_CONTEXT,
              "i_8b_bs256": float(inf.decode_arithmetic_intensity("llama-3.1-8b", "fp16", ROOF_BATCHES[-1], ROOF_CONTEXT)),
              "a100_busy": intens[0] / a100, "b_last": ROOF_BATCHES[-1], "pre_tokens": ROOF_PREFILL_TOKENS,
              "heads_7b": get_model(ROOF_MODEL).kv_heads, "heads_8b": get_model("llama-3.1-8b").kv_heads,
              "roof_batches": ", ".join(map(str, ROOF_BATCHES[:-1])) + f" and {ROOF_BATCHES[-1]}"}
    values.update({f"ridge_{_key(g)}": get_device(g).ridge_flops_per_byte("fp16") for g in ROOF_GPUS})
    return Exhibits(values=values, tables={"tbl-inf-roofline": Table(pd.DataFrame(rows))},
                    data={"intensities": intens, "prefill": pre})


def batch1() -> Exhibits:
    """Every published batch-1 generation speed against the bandwidth ceiling and costlib's band for its engine."""
    cases = [c for c in inf.benchmarks() if c.metric == "decode_tokens_per_s_per_sequence"]
    rows = []
    for c in cases:
        ceiling = get_device(c.gpu_id).bandwidth_bytes_s / inf.model_weight_bytes(c.model_id, c.precision,
                                                                                  engine=c.engine_class)
        est = inf.estimate_inference(c.model_id, c.gpu_id, c.precision, 1, c.prompt_tokens, c.output_tokens,
                                     engine=c.engine_class, check_fit=False)
        rows.append({"model and GPU": f"{get_model(c.model_id).name} on {get_device(c.gpu_id).name}, {c.precision}",
                     "engine": c.engine, "published (tokens/s)": c.value,
                     "share of the ceiling": c.value / ceiling,
                     "bandwidth ceiling (tokens/s)": ceiling,
                     "costlib band, its engine class (tokens/s)": band_text(est.tokens_per_s_per_sequence, None)})
    w7 = inf.model_weight_bytes(ROOF_MODEL, "fp16")
    ceil7 = get_device("a100-80gb").bandwidth_bytes_s / w7
    e7 = inf.estimate_inference(ROOF_MODEL, "a100-80gb", "fp16", 1, 500, 500).tokens_per_s_per_sequence
    e7hf = inf.estimate_inference(ROOF_MODEL, "a100-80gb", "fp16", 1, 500, 500,
                                  engine="hf-transformers").tokens_per_s_per_sequence
    by_id = {c.id: c for c in cases}
    h2o, h2o4090 = by_id["h2ogpt-a100-7b-fp16-bs1"], by_id["h2ogpt-4090-7b-fp16-bs1"]
    n_hf = len(inf.calibration()["hf-transformers"].bandwidth_cases)
    words = ("one", "two", "three", "four", "five")
    values = {"ceil7": ceil7, "w7_gb": w7 / 1e9, "e7_lo": e7.low, "e7_mid": e7.mid, "e7_hi": e7.high,
              "e7hf_lo": e7hf.low, "e7hf_hi": e7hf.high, "h2o_a100": h2o.value, "h2o_4090": h2o4090.value,
              "n_hf_cases": words[n_hf - 1] if 1 <= n_hf <= len(words) else str(n_hf),
              "bw_4090_vs_a100": get_device(h2o4090.gpu_id).bandwidth_gb_s / get_device(h2o.gpu_id).bandwidth_gb_s,
              "ms_per_token_floor": 1000 / ceil7}
    return Exhibits(values=values, tables={"tbl-inf-bs1": Table(pd.DataFrame(rows), percent=("share of the ceiling",),
                                                                max_columns=6)})


# ------------------------------------------------------------------------------------------------ section 2
def claims_frame(claim_ids) -> pd.DataFrame:
    """The audit's rows for ``claim_ids``, verdict second: claim, verdict (with the claim marker), the seed's
    figure, costlib's band, why. One answer per claim: nothing is judged here."""
    rows = []
    for cid in claim_ids:
        s = claim_summary(cid)
        rows.append({"seed claim": s["claim"], "verdict": claim_html(cid, s["verdict_text"]),
                     "seed's figure": s["claimed"], "costlib": s["computed"], "why": s["reason"]})
    return pd.DataFrame(rows)


def claims_exhibit(claim_ids, label: str) -> Table:
    """:func:`claims_frame` as a table exhibit (stable id, the verdict's marker span kept as HTML)."""
    df = claims_frame(claim_ids)
    plain = [c for c in df.columns if c != "verdict"]
    styled = df.style.hide(axis="index").set_uuid(label.replace("-", "_")).format(escape="html", subset=plain)
    csv = df.assign(verdict=[claim_summary(c)["verdict_text"] for c in claim_ids])
    return Table(csv, styled=styled)


def seed_claims(claim_ids, label: str) -> Exhibits:
    """The audit's rows for ``claim_ids`` as the table ``label``, with each claim's fields glued
    (``claim-<id>-claimed|computed|verdict``, the :mod:`costlib.book.claims` convention)."""
    values = {}
    for cid in claim_ids:
        s = claim_summary(cid)
        values.update({f"claim-{s['id']}-claimed": s["claimed"], f"claim-{s['id']}-computed": s["computed"],
                       f"claim-{s['id']}-verdict": s["verdict_text"]})
    return Exhibits(values=values, tables={label: claims_exhibit(claim_ids, label)})


# ------------------------------------------------------------------------------------------------ section 3
def _layout(model: str, gpu: str, precision: str) -> int:
    return sv.min_gpus_for(model, gpu, precision=precision, prompt_tokens=PROMPT_TOKENS, output_tokens=OUTPUT_TOKENS,
                           min_concurrency=MIN_CONCURRENCY)


def _point(model: str, gpu: str, precision: str, gpus: int = 1, *, tpot_s: float = SLO_TPOT_S,
           ttft_s: float = SLO_TTFT_S) -> sv.ServingPoint:
    return sv.capacity_at_slo(model, gpu, gpus=gpus, precision=precision, prompt_tokens=PROMPT_TOKENS,
                              output_tokens=OUTPUT_TOKENS, ttft_s=ttft_s, tpot_s=tpot_s)


def _unattainable(pt: sv.ServingPoint) -> str:
    """'unattainable: TPOT floor 62.1 ms' (the target that fails and its floor, from the serving point's reason)."""
    import re

    floor = re.search(r"floor ([0-9.]+) ms", pt.reason or "")
    return f"unattainable: {pt.binding.upper()} floor {float(floor.group(1)):.0f} ms" if floor else "unattainable"


def operating_points() -> Exhibits:
    """Continuous batching at the chapter's service level for :data:`FRONTIER_MODELS` on :data:`FRONTIER_GPUS`
    (the large model on the fewest GPUs holding :data:`MIN_CONCURRENCY` requests), next to a static batch at
    exactly its memory cap (issue 13: the cap's own values, not another batch's)."""
    op_rows, cap_rows, curves = [], [], {}
    for gid in FRONTIER_GPUS:
        for label, mid, prec in FRONTIER_MODELS:
            k = _layout(mid, gid, prec)
            fr = sv.frontier(mid, gid, gpus=k, precision=prec, prompt_tokens=PROMPT_TOKENS, output_tokens=OUTPUT_TOKENS)
            pt = _point(mid, gid, prec, k)
            curves[(gid, label)] = (k, prec, fr, pt)
            name, hw = f"{label} {prec.upper()}", get_device(gid).name + (f" × {k}" if k > 1 else "")
            ok = pt.feasible
            op_rows.append({"model": name, "hardware": hw,
                            "binding limit": pt.binding if ok else _unattainable(pt),
                            "max requests/s per replica": band_text(pt.max_rate_per_replica, "{:,.1f}") if ok else "",
                            "requests in flight": round(pt.concurrency.mid) if ok else None,
                            "mean TTFT (ms)": round(pt.ttft_s.mid * 1e3) if ok else None,
                            "mean TPOT (ms)": significant(pt.tpot_s.mid * 1e3, 3) if ok else "",
                            "output tokens/s per GPU": round(pt.throughput_tokens_per_s.mid / k) if ok else None})
            cap = inf.max_batch(mid, gid, prec, PROMPT_TOKENS + OUTPUT_TOKENS, gpus=k)
            st = inf.batch_sweep(mid, gid, prec, [cap], PROMPT_TOKENS, OUTPUT_TOKENS, gpus=k).iloc[0] if cap >= 1 else None
            cap_rows.append({"model": name, "hardware": hw,
                             "continuous: output tokens/s per GPU at the target": round(pt.throughput_tokens_per_s.mid / k) if ok else None,
                             "memory cap (requests)": int(pt.memory_concurrency_cap),
                             "static batch at its cap: ms per token": significant(st.tpot_ms, 3) if st is not None else "does not fit",
                             "static batch at its cap: output tokens/s per GPU": round(st.throughput_tokens_per_s / k) if st is not None else None})
    return Exhibits(tables={"tbl-inf-op": Table(pd.DataFrame(op_rows), key=("model", "hardware"), max_columns=8),
                            "tbl-inf-cap": Table(pd.DataFrame(cap_rows), key=("model", "hardware"), max_columns=6)},
                    values={"sp": PROMPT_TOKENS, "so": OUTPUT_TOKENS, "slo_ttft_ms": SLO_TTFT_S * 1e3,
                            "slo_tpot_ms": SLO_TPOT_S * 1e3, "min_conc": MIN_CONCURRENCY},
                    data={"curves": curves})


def frontier_table(model: str = "llama-3.1-8b", gpu: str = "h100-sxm", every: int = 12) -> pd.DataFrame:
    """Every ``every``-th point of the throughput-TPOT frontier of ``model`` on ``gpu`` (continuous batching, vLLM
    band, mid efficiency), labelled in words."""
    from ..present.report import relabel

    front = sv.frontier(model, gpu, precision="bf16", engine="vllm", prompt_tokens=PROMPT_TOKENS,
                        output_tokens=OUTPUT_TOKENS)
    cols = ["rate_per_s", "concurrency", "ttft_ms", "tpot_ms", "throughput_tokens_per_s_per_gpu"]
    return relabel(front[cols].iloc[::every].round(1).reset_index(drop=True),
                   {"concurrency": "requests in flight"})


def operating_point_8b() -> pd.Series:
    """The operating point of Llama-3.1-8B on one H100 at the chapter's service level (the call the chapter shows)."""
    from ..present.report import label

    pt = _point("llama-3.1-8b", "h100-sxm", "bf16")
    out = {}
    for k, v in pt.as_dict(3).items():
        if k in ("assumptions", "warnings"):
            continue
        if isinstance(v, dict) and set(v) == {"low", "mid", "high"}:
            v = f"{significant(v['mid'], 3)} ({significant(v['low'], 3)}-{significant(v['high'], 3)})"
        out[label(k, {"concurrency": "requests in flight (mid, band)", "kv_occupancy": "KV-cache occupancy",
                      "max_rate_per_replica": "max requests/s per replica", "gpus_per_replica": "GPUs per replica",
                      "throughput_tokens_per_s": "output tokens/s per replica",
                      "memory_concurrency_cap": "memory cap (requests)", "ttft_statistic": "TTFT statistic"})] = v
    return pd.Series(out, dtype=object)


def batch_meaning() -> Exhibits:
    """What "batch" means in a continuous-batching server: the 8B and 70B operating points against a static batch."""
    pt8 = _point("llama-3.1-8b", "h100-sxm", "bf16")
    b8 = int(round(pt8.concurrency.mid))
    st8 = inf.estimate_inference("llama-3.1-8b", "h100-sxm", "bf16", b8, PROMPT_TOKENS, OUTPUT_TOKENS)
    k70 = _layout("llama-3.1-70b", "h100-sxm", "fp8")
    pt70 = _point("llama-3.1-70b", "h100-sxm", "fp8", k70)
    st70 = inf.estimate_inference("llama-3.1-70b", "h100-sxm", "fp8", 16, PROMPT_TOKENS, OUTPUT_TOKENS, gpus=k70)
    cap8 = inf.max_batch("llama-3.1-8b", "h100-sxm", "bf16", PROMPT_TOKENS + OUTPUT_TOKENS)
    stc8 = inf.batch_sweep("llama-3.1-8b", "h100-sxm", "bf16", [cap8], PROMPT_TOKENS, OUTPUT_TOKENS).iloc[0]
    return Exhibits(values={
        "op8_rate": pt8.max_rate_per_replica.mid, "op8_thr": pt8.throughput_tokens_per_s.mid,
        "op8_conc": pt8.concurrency.mid, "op8_cap": pt8.memory_concurrency_cap, "op8_tpot_ms": pt8.tpot_s.mid * 1e3,
        "op8_ttft_ms": pt8.ttft_s.mid * 1e3, "op8_bind": pt8.binding, "op8_occ": pt8.kv_occupancy.mid,
        "st8_ttft": st8.ttft_s.mid, "st8_b": b8, "op70_k": k70, "op70_rate": pt70.max_rate_per_replica.mid,
        "op70_ttft_ms": pt70.ttft_s.mid * 1e3, "op70_bind": pt70.binding, "op70_conc": pt70.concurrency.mid,
        "st70_ttft": st70.ttft_s.mid, "st70_b": 16, "st8_cap": cap8, "st8_cap_ms": stc8.tpot_ms,
        "st8_cap_thr": stc8.throughput_tokens_per_s})


def replicas_problem(rate_per_s: float = WORKED_RATE, gpus: int = 2) -> Exhibits:
    """Worked problem 1: replicas and GPUs of Llama-3.1-70B FP8 (``gpus`` H100s per replica) for a peak rate."""
    pt = _point("llama-3.1-70b", "h100-sxm", "fp8", gpus)
    rep = sv.replicas_for_rate(pt, rate_per_s)
    cost = sv.costs(pt, gpu_price_band("h100-sxm"))["cost_per_1k_requests_usd"]
    return Exhibits(values={
        "wp_rate": rate_per_s, "wp_cap": pt.max_rate_per_replica.mid, "wp_cap_lo": pt.max_rate_per_replica.low,
        "wp_cap_hi": pt.max_rate_per_replica.high, "wp_rep": rep.mid, "wp_rep_lo": rep.low, "wp_rep_hi": rep.high,
        "wp_gpus": gpus * rep.mid, "wp_gpus_hi": gpus * rep.high, "wp_usd": cost.mid, "wp_ttft_ms": pt.ttft_s.mid * 1e3})


def tpot_problem(gpu: str = "l40s", targets_s=(0.050, 0.030)) -> Exhibits:
    """Worked problem 2: capacity and cost per 1,000 requests of Llama-3.1-8B BF16 on ``gpu`` at two TPOT targets."""
    values = {}
    for t in targets_s:
        p = _point("llama-3.1-8b", gpu, "bf16", tpot_s=t)
        tag = f"{round(t * 1e3):d}"
        values.update({f"wp2_r{tag}": p.max_rate_per_replica.mid, f"wp2_n{tag}": p.concurrency.mid,
                       f"wp2_b{tag}": p.binding,
                       f"wp2_c{tag}": sv.costs(p, gpu_price_band(gpu))["cost_per_1k_requests_usd"].mid})
    return Exhibits(values=values)


# ------------------------------------------------------------------------------------------------ section 4
def _case_name(model: str, gpu: str, precision: str, batch, in_out: str) -> str:
    """'Llama 2 7B, 2 × NVIDIA H100 SXM, FP8, batch 96, 2048/128 tokens': a back-test case in words."""
    gid, _, k = str(gpu).partition(" x")
    hw = get_device(gid).name if not k else f"{k} × {get_device(gid).name}"
    return f"{get_model(model).name}, {hw}, {precision.upper()}, batch {batch}, {in_out} tokens"


SLICE_WORDS = {"hbm": "HBM", "gddr": "GDDR", "dram": "DRAM (CPU or unified)", "native 16-bit": "native 16-bit math",
               "native fp8": "native FP8 math", "native int8": "native INT8 math", "native fp4": "native FP4 math",
               "weight-only": "weight-only (dequantized)"}
"""A slice key of :func:`costlib.inference.bandwidth_slice` / ``compute_slice`` in words, part by part."""


def slice_words(key: str) -> str:
    """'hbm, weight-only' -> 'HBM, weight-only (dequantized)'."""
    return ", ".join(SLICE_WORDS.get(k, k) for k in key.split(", "))


def backtest() -> Exhibits:
    """Leave-one-out back-test engine by engine: the summary (chapter), the engines' bands and every case (a
    collapsible block), and the outliers the prose explains."""
    bts = inf.engine_backtest_summary()
    bt = inf.engine_backtest()
    allrow = bts[bts.engine == "all engines"].iloc[0]
    names = {eid: e.name for eid, e in inf.engines().items()}
    summary = pd.DataFrame({"engine": bts.engine.map(lambda e: names.get(e, e)), "median absolute error, leave-one-out": bts.median_abs_error,
                            "share inside the band": bts.coverage, "nominal coverage": bts.nominal_coverage,
                            "published cases": bts.cases.astype(int),
                            "median band width (high / low)": bts.median_width.map(lambda v: f"{v:.2f}x"),
                            "band from": bts.band_from})
    eng_rows, slice_rows = [], []
    for eid, e in inf.engines().items():
        b = inf.engine_bands(eid)
        eng_rows.append({"engine": e.name, "version": e.version, "as of": e.as_of, "family": e.family,
                         "published cases of its own": (b.cases if not b.fallback else f"{b.cases} (family band, widened)"
                                                        if b.compute_fallback else f"{b.cases} (decode: family band, widened)"),
                         "decode bandwidth efficiency": band_text(b.bandwidth, "{:.2f}"),
                         "prefill compute efficiency": band_text(b.compute, "{:.2f}")})
        for kind, slices in (() if eid in inf.CALIBRATED_WITH else  # NIM: TensorRT-LLM's slices
                             (("decode (bandwidth)", b.bandwidth_slices), ("prefill (compute)", b.compute_slices))):
            slice_rows += [{"engine": e.name, "efficiency": kind, "slice": slice_words(x.key), "cases": len(x.cases),
                            "band (mid, low-high)": band_text(x.band, "{:.2f}")} for x in slices]
    short = {"output_tokens_per_s_per_gpu": "output tokens/s per GPU", "decode_tokens_per_s_per_sequence":
             "tokens/s, batch 1", "ttft_s": "first token (s)", "prefill_tokens_per_s": "prompt tokens/s"}
    cases = pd.DataFrame({"case": [_case_name(m, g, p, b, io) for m, g, p, b, io in
                                   zip(bt.model, bt.gpu, bt.precision, bt.batch, bt["in/out"])],
                          "inside": bt.inside.astype(bool), "error": bt.error_loo.map(lambda v: f"{v:+.0%}"),
                          "engine": bt.engine, "metric": bt.metric.map(short),
                          "published": bt.published.map(lambda v: significant(v, 3)),
                          "costlib, leave-one-out": bt.predicted_loo.map(lambda v: significant(v, 3)),
                          "band low-high": [f"{significant(a, 3)}-{significant(b, 3)}" for a, b in
                                            zip(bt.low_loo, bt.high_loo)],
                          "calibrates": bt.calibrates})
    err = dict(zip(bt.id, bt.error_loo))
    named = {"e_tp4_h100": "trtllm-h100-70b-tp4-bs480-128-2048", "e_tp4_a100": "trtllm-a100-70b-tp4-bs240-128-2048",
             "e_ttft128_70b": "trtllm-h100-70b-tp4-ttft-128", "e_h2o_a100": "h2ogpt-a100-7b-fp16-bs1",
             "e_h2o_4090": "h2ogpt-4090-7b-fp16-bs1", "e_bnb": "h2ogpt-a100-7b-4bit-bs1",
             "e_cpu_pp": "llamacpp-13900k-7b-q4-pp512", "e_tiny": "exl2-4090-tinyllama-3.0",
             "e_lcpp_a100": "llamacpp-a100-7b-q4_1-build992", "e_vllm1": "vllm-a100-mistral7b-bs1",
             "e_gptoss_h100": "vllmblog-fp8kv-h100-gpt-oss-20b-kvbf16-c1-in1k",
             "e_gptoss_b200": "vllmblog-fp8kv-b200-gpt-oss-20b-kvbf16-c1-in1k",
             "e_b200_8b": "vllmblog-fp8kv-b200-llama-3.1-8b-kvbf16-c1-in1k",
             "e_rocm_70b": "rocmblog-mi300x-llama31-70b-fp8-vllm-tp8-bs64-128-2048",
             "e_rocm_405b": "rocmblog-mi300x-llama31-405b-fp8-vllm-tp8-bs1-128-2048",
             "e_lcpp_4090_q4": "llamacpp-4090-qwen3b-q4-tg128"}
    named.update({"e_ttft128_7b": "trtllm-h100-7b-ttft-128", "e_ttft128_a100_7b": "trtllm-a100-7b-ttft-128",
                  "e_lcpp_a100_tg": "xd-llamacpp-a100sxm-l3-8b-q4km-tg512",
                  "e_lcpp_a100_f16_tg": "xd-llamacpp-a100sxm-l3-8b-f16-tg512",
                  "e_lcpp_h100_pp": "xd-llamacpp-h100pcie-l3-8b-q4km-pp512",
                  "e_lcpp_4090_f16_pp": "llamacpp-4090-7b-f16-pp512",                   "e_trt09_mistral_h200": "trtllm09-h200-mistral7b-tp1-bs120-128-2048",
                  "e_trt09_mistral_a100": "trtllm09-a100-mistral7b-tp1-bs120-128-2048",
                  "e_trt09_falcon": "trtllm09-h100-falcon180b-tp4-bs64-2048-2048",
                  "e_vllm_client_ttft": "gpustack-h100-qwen3-8b-vllm-c1-ttft",
                  "e_tgi_prefill": "tgi-pr1243-a100-llama2-13b-prefill-bs100"})
    lc = bt[bt.id == "llamacpp-a100-7b-q4_1-build992"].iloc[0]
    values = {k: float(err[v]) for k, v in named.items() if v in err}
    values.update(_backtest_physics(bt, bts))
    values.update({"latency_step_ms": inf.LATENCY_BOUND_STEP_S * 1e3, "q_min": inf.BAND_MIN_CASES, "widen": inf.FAMILY_WIDENING, "bt_mae": allrow.median_abs_error,
                   "bt_cov": allrow.coverage, "bt_nominal": allrow.nominal_coverage, "bt_width": allrow.median_width,
                   "bt_n": allrow.cases, "lcpp_a100_pub": lc.published, "lcpp_a100_lo": lc.low_loo,
                   "lcpp_a100_hi": lc.high_loo, "bt_outside": int((~bt.inside.astype(bool)).sum())})
    pct = ("median absolute error, leave-one-out", "share inside the band", "nominal coverage")
    return Exhibits(values=values, data={"backtest": bt},
                    tables={"tbl-inf-btsum": Table(summary, percent=pct, max_columns=7),
                            "tbl-inf-engines": Table(pd.DataFrame(eng_rows), max_columns=7),
                            "tbl-inf-slices": Table(pd.DataFrame(slice_rows), max_columns=5),
                            "tbl-inf-backtest": Table(cases, key="case", max_columns=6)})


def _backtest_physics(bt, bts) -> dict:
    """Numbers the back-test prose uses to explain its outliers: the terms of the step model that fixed the
    TensorRT-LLM cases, the batch-1 prefill floor they lack, and what llama.cpp reaches on HBM cards."""
    pub = dict(zip(bt.id, bt.published))
    pred = dict(zip(bt.id, bt.predicted_loo))
    m70 = get_model("llama-2-70b")
    out = {"gqa_reads_70b": inf.kv_reads_per_head("llama-2-70b", "tensorrt-llm", "0.6.1"),
           "heads_70b": m70.heads, "kv_heads_70b": m70.kv_heads,
           "xqa_release": ".".join(map(str, inf.GQA_SHARED_KV_SINCE["tensorrt-llm"])),
           "fp16acc_4090": inf.FP16_ACCUMULATE_TFLOPS["rtx-4090"], "fp32acc_4090": get_device("rtx-4090").peak_tflops("fp16"),
           "prefill_launch_ms": inf.step_overhead_s(get_model("llama-2-7b"), "tensorrt-llm", "prefill") * 1e3}
    trt = bts[bts.engine == "tensorrt-llm"]
    if len(trt):
        out.update({"trt_width": float(trt.median_width.iloc[0]), "trt_mae": float(trt.median_abs_error.iloc[0]),
                    "trt_cov": float(trt.coverage.iloc[0]), "trt_n": int(trt.cases.iloc[0])})
    t7 = "trtllm-h100-7b-ttft-128"
    if t7 in pub:
        out.update({"ttft128_pub_ms": pub[t7] * 1e3, "ttft128_pred_ms": pred[t7] * 1e3})
    # what llama.cpp's batch-1 decode streams per second: published tokens/s x the bytes of the weights
    w8 = inf.model_weight_bytes("llama-3.1-8b", "fp16", engine="llama.cpp")
    for key, cid in (("gbs_a100_f16", "xd-llamacpp-a100sxm-l3-8b-f16-tg512"), ("gbs_4090_f16", "xd-llamacpp-4090-l3-8b-f16-tg512"),
                     ("gbs_h100p_f16", "xd-llamacpp-h100pcie-l3-8b-f16-tg512")):
        if cid in pub:
            out[key] = pub[cid] * w8 / 1e9
    out.update({"bw_a100": get_device("a100-80gb").bandwidth_gb_s, "bw_4090": get_device("rtx-4090").bandwidth_gb_s})
    # llama.cpp's CUDA decode by memory class, and its current-build 4-bit cases on A100s
    lc = inf.engine_bands("llama.cpp-cuda")
    mids = {x.key: x.band for x in lc.bandwidth_slices}
    if "hbm" in mids and "gddr" in mids:
        out.update({"lcpp_hbm_mid": mids["hbm"].mid, "lcpp_hbm_lo": mids["hbm"].low, "lcpp_hbm_hi": mids["hbm"].high,
                    "lcpp_gddr_mid": mids["gddr"].mid, "lcpp_gddr_lo": mids["gddr"].low,
                    "lcpp_gddr_hi": mids["gddr"].high, "lcpp_hbm_n": len(next(x for x in lc.bandwidth_slices if x.key == "hbm").cases),
                    "lcpp_whole_mid": lc.bandwidth.mid})
    trt = {x.key: x.band for x in inf.engine_bands("tensorrt-llm").compute_slices}
    if "native fp8" in trt and "native 16-bit" in trt:
        out.update({"trt_fp8_comp_mid": trt["native fp8"].mid, "trt_16_comp_mid": trt["native 16-bit"].mid,
                    "trt_fp8_speedup": 2.0 * trt["native fp8"].mid / trt["native 16-bit"].mid})
    # vLLM's own evidence, its ROCm backend, and long prompts on Hopper against A100
    for eid, key in (("vllm", "vllm"), ("vllm-rocm", "rocm")):
        row = bts[bts.engine == eid]
        if len(row):
            out.update({f"{key}_n": int(row.cases.iloc[0]), f"{key}_mae": float(row.median_abs_error.iloc[0]),
                        f"{key}_cov": float(row.coverage.iloc[0]), f"{key}_nominal": float(row.nominal_coverage.iloc[0])})
    fit = bt[(bt.engine == "vllm") & (bt.calibrates != "-")]
    if len(fit):
        out["vllm_fit_cov"] = float(fit.inside.mean())
    vb = inf.engine_bands("vllm")
    long_slice = next((x for x in vb.compute_slices if x.key == inf.LONG_PROMPT_SLICE), None)
    out.update({"vllm_comp_mid": vb.compute.mid, "long_prompt_tokens": inf.LONG_PROMPT_TOKENS})
    if long_slice is not None:
        out.update({"vllm_long_mid": long_slice.band.mid, "vllm_long_n": len(long_slice.cases)})
    cases = {c.id: c for c in inf.benchmarks()}
    for key, ids in (("long_h100_u", LONG_PROMPT_CASES["h100-sxm"]), ("long_a100_u", LONG_PROMPT_CASES["a100-80gb"])):
        got = [inf.implied_utilization(cases[i], inf.engine_bands("vllm").bandwidth.mid) for i in ids if i in cases]
        if got:
            out[key] = float(np.median(got))
    q4 = bt[(bt.engine == "llama.cpp-cuda") & bt.gpu.str.startswith("a100") & (bt.calibrates == "bandwidth")
            & bt.precision.map(lambda f: inf.get_format(f).bits_per_weight < 6)]
    out.update({"lcpp_a100_q4_n": len(q4), "lcpp_a100_q4_in": int(q4.inside.sum()),
                "lcpp_a100_q4_maxerr": float(q4.error_loo.abs().max()) if len(q4) else 0.0})
    # TensorRT-LLM v0.9 throughput tables by compute path: FP8 on Hopper against FP16 on an A100
    v09 = bt[bt.id.str.startswith("trtllm09") & (bt.metric == "output_tokens_per_s_per_gpu")]
    hop = v09[(v09.precision == "fp8") & v09.gpu.str.match(r"h(1|2)00")]
    a100 = v09[(v09.precision == "fp16") & v09.gpu.str.startswith("a100")]
    if len(hop) and len(a100):
        out.update({"v09_fp8_med": float(hop.error_loo.median()), "v09_fp8_n": len(hop),
                    "v09_a100_med": float(a100.error_loo.median()), "v09_a100_n": len(a100)})
    allrow = bts[bts.engine == "all engines"].iloc[0]
    held = {"median error": allrow.median_abs_error <= BACKTEST_GOALS["median error"],
            "coverage": allrow.coverage >= BACKTEST_GOALS["coverage"],
            "width": allrow.median_width <= BACKTEST_GOALS["width"]}
    ok = [k for k, v in held.items() if v]
    no = [k for k, v in held.items() if not v]
    out["bt_goals"] = ("all three hold" if not no else "none holds yet" if not ok else
                       f"the {' and the '.join(ok)} goal{'s' if len(ok) > 1 else ''} hold{'' if len(ok) > 1 else 's'}, "
                       f"the {' and the '.join(no)} goal{'s do' if len(no) > 1 else ' does'} not yet")
    return out


LONG_PROMPT_CASES = {"h100-sxm": ("gpustack-h100-qwen3-14b-vllm-32k-prefill", "gpustack-h100-qwen3-32b-vllm-32k-prefill"),
                     "a100-80gb": ("gpustack-a100-qwen3-14b-vllm-32k-prefill", "gpustack-a100-qwen3-32b-vllm-32k-prefill")}
"""The same 32,000-token BF16 prefills of Qwen3-14B and Qwen3-32B with vLLM on an H100 and an A100 (GPUStack)."""

BACKTEST_GOALS = {"median error": 0.15, "coverage": 0.80, "width": 2.5}
"""Issue 13's goals for the back-test over all engines: median absolute error, share inside the band, median width."""


# ------------------------------------------------------------------------------------------------ section 5
def _api(api_id: str):
    return get_api_price(api_id, current=True)


def api_cost_per_1k(api_id: str) -> float:
    """US$ for 1,000 of the chapter's requests at a current API offer's list prices."""
    return float(_api(api_id).cost_usd(PROMPT_TOKENS * 1000, OUTPUT_TOKENS * 1000))


def self_hosted_costs() -> Exhibits:
    """Self-hosted US$ per 1,000 requests at each :data:`SELF_HOSTED` set-up's operating point against the current
    API tiers, with the sensitivity of the verdict (what flips it)."""
    rows, points = [], {}
    for mid, gid, prec in SELF_HOSTED:
        k = _layout(mid, gid, prec)
        pt = _point(mid, gid, prec, k)
        c = sv.costs(pt, gpu_price_band(gid))
        full = c["cost_per_1k_requests_usd"]
        points[(mid, gid)] = (k, prec, pt, full)
        same = api_cost_per_1k(SAME_MODEL_API[mid])
        row = {"self-hosted": f"{get_model(mid).name} on {get_device(gid).name}" + (f" × {k}" if k > 1 else "")
               + f", {prec.upper()}",
               "break-even share of hours busy, against the same model's API":
                   f"{full.mid / same:.0%}" if full.mid <= same else "never (dearer even when always busy)",
               "operating point": f"{pt.max_rate_per_replica.mid:,.1f} requests/s, {pt.concurrency.mid:,.0f} in "
                                  f"flight ({pt.binding})"}
        for u in UTILIZATIONS:
            row[f"US$ per 1,000 requests, {u:.0%} busy"] = band_text(full.scale(1 / u), "{:,.2f}")
        rows.append(row)
    api_rows = []
    for tier in ("small", "mid"):
        for aid in api_tiers()[tier]:
            a = _api(aid)
            api_rows.append({"API offer": f"{a.model}", "tier": tier,
                             "US$ per 1,000 requests": significant(api_cost_per_1k(aid), 3),
                             "US$ per 1M tokens, input / output": f"{a.input_usd_per_1m:g} / {a.output_usd_per_1m:g}",
                             "open model": get_model(a.open_model).name if a.open_model else "",
                             "price since": a.price_since or a.as_of})
    k8, _, pt8, f8 = points[("llama-3.1-8b", "h100-sxm")]
    k70, _, _, f70 = points[("llama-3.1-70b", "h100-sxm")]
    same8, same70 = api_cost_per_1k(SAME_MODEL_API["llama-3.1-8b"]), api_cost_per_1k(SAME_MODEL_API["llama-3.1-70b"])
    small = [api_cost_per_1k(a) for a in api_tiers()["small"]]
    values = {"c8_h100_full": f8.mid, "c8_h100_lo": f8.low, "c8_h100_hi": f8.high, "c8_h100_10": f8.mid / 0.1,
              "c8_h100_rate": pt8.max_rate_per_replica.mid, "api8": same8, "api8_name": _api(SAME_MODEL_API["llama-3.1-8b"]).model,
              "api70": same70, "api70_name": _api(SAME_MODEL_API["llama-3.1-70b"]).model, "c70_full": f70.mid,
              "c70_k": k70, "api_small_lo": min(small), "api_small_hi": max(small), "u_low": 0.1,
              "c8_l4_full": points[("llama-3.1-8b", "l4")][3].mid,
              "be8_text": _break_even_text(f8.mid, same8), "be70_text": _break_even_text(f70.mid, same70)}
    sens = sensitivity()
    values.update(sens.values)
    return Exhibits(values=values, data={"points": points, "api_small": api_tiers()["small"]},
                    tables={"tbl-inf-selfcost": Table(pd.DataFrame(rows), key="self-hosted", max_columns=5),
                            "tbl-inf-api": Table(pd.DataFrame(api_rows), key="API offer", max_columns=6),
                            **sens.tables})


def _break_even_text(self_hosted_full: float, api: float) -> str:
    """'at about 43% of hours busy', or 'never: dearer than the API even when busy every hour'."""
    if self_hosted_full <= api:
        return f"at about {self_hosted_full / api:.0%} of hours busy"
    return "never: it is dearer than the API even when busy every hour"


def sensitivity(model: str = "llama-3.1-8b", gpu: str = "h100-sxm", precision: str = "bf16") -> Exhibits:
    """What flips the self-host-or-API verdict for ``model`` on ``gpu``: one input moved at a time from the
    chapter's operating point (TPOT target, utilization, price and efficiency ends of the band)."""
    api = api_cost_per_1k(SAME_MODEL_API[model])
    price = gpu_price_band(gpu)
    base = _point(model, gpu, precision)
    full = sv.costs(base, price)["cost_per_1k_requests_usd"]
    cases = [("the chapter's operating point, every hour busy", full.mid),
             ("cheapest GPU offer and best efficiency (band's low end)", full.low),
             ("dearest GPU offer and worst efficiency (band's high end)", full.high),
             ("half the hours busy", full.mid / 0.5)]
    for t in (0.030, 0.100):
        p = _point(model, gpu, precision, tpot_s=t)
        cases.append((f"token every {t * 1e3:.0f} ms instead of {SLO_TPOT_S * 1e3:.0f} ms",
                      sv.costs(p, price)["cost_per_1k_requests_usd"].mid if p.feasible else float("nan")))
    rows = [{"what changes": what, "verdict": "self-host cheaper" if v < api else "API cheaper",
             "self-hosted US$ per 1,000 requests": significant(v, 3), "API US$ per 1,000 requests": significant(api, 3)}
            for what, v in cases]
    return Exhibits(tables={"tbl-inf-sensitivity": Table(pd.DataFrame(rows), key="what changes")},
                    values={"sens_api": api})


# ------------------------------------------------------------------------------------------------ section 6
def edge() -> Exhibits:
    """llama.cpp on laptops, a desktop and a server CPU: one user, 4-bit and 8-bit weights."""
    rows, est = [], {}
    for dev in EDGE_DEVICES:
        d = get_device(dev)
        for m in EDGE_MODELS:
            for prec in ("int4", "int8"):
                est[(dev, m, prec)] = inf.estimate_inference(m, dev, prec, 1, EDGE_PROMPT, EDGE_OUTPUT, engine="llama.cpp")
            rows.append({"device": f"{d.name} ({d.bandwidth_gb_s:g} GB/s)", "model": get_model(m).name,
                         "tokens/s, 4-bit": band_text(est[(dev, m, "int4")].tokens_per_s_per_sequence, None),
                         "tokens/s, 8-bit": band_text(est[(dev, m, "int8")].tokens_per_s_per_sequence, None),
                         f"first token, 4-bit, {EDGE_PROMPT}-token prompt (s)": band_text(est[(dev, m, "int4")].ttft_s, None)})
    mid = {k: v for k, v in est.items()}
    return Exhibits(tables={"tbl-inf-edge": Table(pd.DataFrame(rows), key=("device", "model"))}, values={
        "edge_p": EDGE_PROMPT, "bw_i9": get_device("i9-13900k").bandwidth_gb_s, "bw_m1": get_device("m1-max").bandwidth_gb_s,
        "bw_epyc": get_device("epyc-9654").bandwidth_gb_s,
        "cpu8_tps": mid[("i9-13900k", "llama-3.1-8b", "int4")].tokens_per_s_per_sequence.mid,
        "cpu8_ttft": mid[("i9-13900k", "llama-3.1-8b", "int4")].ttft_s.mid,
        "mac8_tps": mid[("m1-max", "llama-3.1-8b", "int4")].tokens_per_s_per_sequence.mid,
        "cpu1_tps": mid[("i9-13900k", "llama-3.2-1b", "int4")].tokens_per_s_per_sequence.mid,
        "epyc8_tps": mid[("epyc-9654", "llama-3.1-8b", "int4")].tokens_per_s_per_sequence.mid})


# ------------------------------------------------------------------------------------------------ section 7
EXPLORER_INPUTS = {"model": ["llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "llama-3.1-70b"],
                   "gpu": ["l4", "a100-80gb", "h100-sxm", "h200"], "gpus": [1, 2, 4, 8],
                   "precision": ["bf16", "fp8", "int4"], "batch": [1, 16, 64, 256]}
EXPLORER_DEFAULT = {"model": "llama-3.1-8b", "gpu": "a100-80gb", "gpus": 1, "precision": "bf16", "batch": 16}
EXPLORER_SHAPE = (500, 500, 0.5)
"""Prompt tokens, output tokens and share of hours busy of the explorer's estimates (book assumption)."""


def explorer_cell(model: str, gpu: str, gpus: int, precision: str, batch: int) -> dict:
    """One grid point of the chapter's explorer: continuous batching with ``batch`` requests in flight."""
    p, o, util = EXPLORER_SHAPE
    try:
        e = sv.estimate_continuous(model, gpu, precision, batch, p, o, gpus=gpus, utilization=util, check_layout=False)
    except CostlibError as exc:
        return {"bound": str(exc).split(" is not allowed: ")[-1][:90], "ttft": "-", "tpot": "-", "thr": "-", "usd": "-"}
    return {"bound": f"{e.bound}-bound", "ttft": e.ttft_s, "tpot": e.tpot_s.scale(1000),
            "thr": e.throughput_tokens_per_s, "usd": e.cost_per_1m_output_tokens_usd}


def _shown(v) -> str:
    return v if isinstance(v, str) else f"{significant(v.mid, 3)} ({significant(v.low, 3)}–{significant(v.high, 3)})"


def explorer():
    """The kernel-free explorer of the chapter (:func:`costlib.present.explore.static_explorer` over
    :func:`explorer_cell`)."""
    from ..present.explore import static_explorer

    p, o, util = EXPLORER_SHAPE
    return static_explorer(
        "Serving: latency, throughput and the price of a million tokens (mid, band)",
        inputs=EXPLORER_INPUTS, compute=explorer_cell, fmt=_shown, default=EXPLORER_DEFAULT,
        labels={"gpu": "hardware", "gpus": "GPUs", "batch": "requests in flight", "bound": "decode is",
                "ttft": "time to first token (s)", "tpot": "time per output token (ms)",
                "thr": "throughput, all sequences (tokens/s)", "usd": "US$ per 1M output tokens"},
        note=f"Continuous batching; {p} prompt + {o} output tokens, {util:.0%} of paid hours busy, vLLM efficiency "
             "band, catalog price band; 3 significant figures.")


def explorer_default_text() -> str:
    """The explorer's default result as text (what the live widget shows for its defaults; kept for the tests)."""
    p, o, util = EXPLORER_SHAPE
    d = sv.estimate_continuous("llama-3.1-8b", "a100-80gb", "bf16", 16, p, o, utilization=util)
    return pd.Series({"decode bound": d.bound, "time to first token (s)": band_text(d.ttft_s, "{:,.3f}"),
                      "time per output token (ms)": band_text(d.tpot_s, "{:,.1f}", 1000),
                      "throughput (tokens/s)": band_text(d.throughput_tokens_per_s),
                      "US$ per 1M output tokens": band_text(d.cost_per_1m_output_tokens_usd, "{:,.3f}"),
                      "US$ per 1K requests": band_text(d.cost_per_1k_requests_usd, "{:,.3f}")}).to_string()


# ------------------------------------------------------------------------------------------------ assumptions
def assumptions() -> Exhibits:
    """Every input of the chapter with its value, source and date."""
    rows = [
        ("FLOPs per token", "2 N_active + 2 n_layer n_ctx d_attn (causal average)", "Kaplan et al. 2020, Table 1", "2020-01-23"),
        ("decode / prefill step", "max(compute, weight reads) + KV reads + communication + overhead (operator by operator)",
         "roofline: Williams et al. 2009; LLM-Viewer: Yuan et al. 2024 (arXiv 2402.16363)", "2024-02-26"),
        ("KV reads per KV head", "1; heads / KV heads for TensorRT-LLM before "
         + ".".join(map(str, inf.GQA_SHARED_KV_SINCE["tensorrt-llm"])) + " (one thread block per query head)",
         "TensorRT-LLM gpt-attention docs; XQA-kernel blog", "2024-01"),
        ("FP16-accumulate peak (llama.cpp CUDA on GeForce)", ", ".join(f"{get_device(g).name} {v:g} TFLOP/s" for g, v in
                                                                       inf.FP16_ACCUMULATE_TFLOPS.items()),
         "NVIDIA Ada and GA102 whitepapers; ggml-cuda.cu (CUBLAS_COMPUTE_16F)", "2022-10-12"),
        ("weights and KV bytes, fit", "costlib.memory (scales: 4.125 bits for INT4 g128; llama.cpp Q4_0/Q8_0 4.5/8.5)",
         "memory chapter; ggml QK4_0 = 32", "2024"),
        ("KV cache format", "FP8 with FP8 weights, else 16-bit", "TensorRT-LLM FP8 recipes (--fp8_kv_cache)", "2023-12-05"),
        ("per-step overhead", f"{inf.KERNEL_LAUNCH_S * 1e6:g} µs per kernel launch; 1 graph launch per decode step (optimized "
         f"server), {inf.KERNELS_PER_LAYER_EAGER} launches per layer (eager engines, and any whole-prompt prefill)",
         "NVIDIA CUDA Graph guide; Modal GPU glossary; vLLM CUDA-graphs design doc", "2025"),
        ("tensor parallelism", f"{inf.ALLREDUCES_PER_LAYER} all-reduces per layer, ring, {inf.ALLREDUCE_LATENCY_S * 1e6:g} µs each",
         "Shoeybi et al. 2019; NCCL tuning model (nccl issue #1334)", "2024-07-01"),
        ("efficiency bands", "split-conformal 80% interval of implied efficiencies, median as mid; family band widened "
         "below the minimum of cases", "costlib/data/inference_benchmarks.csv", max(c.as_of for c in inf.benchmarks())),
        ("continuous batching", f"one decode token per running request + up to {sv.default_budget(get_device('h100-sxm')):,} "
         "prefill tokens per step; mean TTFT / TPOT, Poisson arrivals, M/D/1 wait for the prefill budget",
         "Kwon et al. 2023; Agrawal et al. 2024 (Sarathi-Serve)", "2024"),
        ("service level", f"mean TTFT {SLO_TTFT_S * 1e3:.0f} ms, mean TPOT {SLO_TPOT_S * 1e3:.0f} ms; {PROMPT_TOKENS} "
         f"prompt + {OUTPUT_TOKENS} output tokens", "book assumption (costlib.book.inference_chapter)", "-"),
    ]
    for eid in ("vllm", "tensorrt-llm", "llama.cpp-cuda", "exllamav2", "hf-transformers"):
        eff, e = inf.engine_bands(eid), inf.engines()[eid]
        rows.append((f"{e.name}: bandwidth / compute efficiency",
                     f"{band_text(eff.bandwidth, '{:.2f}')} / {band_text(eff.compute, '{:.2f}')}",
                     f"{eff.cases} published cases" + (f" (family band {eff.fallback}, widened)" if eff.fallback else ""), e.as_of))
    for gid in ("l4", "a100-80gb", "h100-sxm"):
        d, p, offers = get_device(gid), gpu_price_band(gid), prices_for(gid)
        rows.append((d.name, f"{d.bandwidth_gb_s:g} GB/s, {d.peak_tflops('bf16'):g} TFLOP/s BF16 dense", d.source, d.as_of))
        rows.append((f"{d.name} price (US$ per GPU-hour)", band_text(p, "{:.2f}"), "costlib/data/prices.csv",
                     f"{min(o.as_of for o in offers)} to {max(o.as_of for o in offers)}"))
    apis = [_api(a) for t in ("small", "mid") for a in api_tiers()[t]]
    rows += [
        ("utilization", "share of paid GPU-hours busy; 100% unless stated (a floor)", "book assumption", "-"),
        ("batching", "continuous batching (sections 3, 5, 7); static batch where stated (sections 1, 6): prompts "
         "prefilled together, then decode at the mean context", "book assumption", "-"),
        ("API prices", "current list prices per 1M input / output tokens, small and mid tiers",
         f"{apis[0].package or 'costlib/data/api_prices.csv'}", f"{min(a.as_of for a in apis)} to {max(a.as_of for a in apis)}"),
    ]
    return Exhibits(tables={"tbl-inf-assumptions": Table(pd.DataFrame(rows, columns=["input", "value", "source", "as of"]))})

