"""Each optimization technique's effect on a real model, GPU and price.

The technique formulas live in :mod:`costlib.optimizations` (counts, ratios, speed-ups on floats); this module
runs them through the inference, memory and training modules and the price catalog: step times with and without
a KV cache, FlashAttention's prefill overhead, speculative decoding on a GPU, quantization's speed and memory,
LoRA against full fine-tuning, distillation and CPU break-evens, and a serving setup's cost per request with the
stack of techniques applied one by one.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from . import inference as inf
from .errors import InputError
from .hardware import get_device
from .inference import decode_step, decode_step_time_s, estimate_inference, prefill_time_s
from .memory import inference_memory
from .models import get_model
from .optimizations import (A100_SRAM_BYTES_PER_SM, QUALITY_PRECISIONS, Distillation, _evidence_rows, attention_hbm_bytes,
                            quantization_quality, speculative_speedup, speculative_speedup_at_batch,
                            unfused_attention_multiplier)
from .prices import get_api_price, gpu_price_band
from .finetune import estimate_finetune
from .uncertainty import Band
from .units import SECONDS_PER_HOUR
from .validate import at_least, choice, fraction, positive, whole
def kv_cache_time_s(model, gpu, precision, prompt_tokens, output_tokens, cached: bool = True, **kw):
    """Seconds to generate one reply at batch 1, with or without a KV cache (inference module's roofline).

    Cached: one prefill of the prompt, then ``output_tokens - 1`` decode steps, each at its own
    context. Without a cache every step is a prefill of the whole prefix (P + k - 1 tokens).
    """

    p = int(whole("prompt_tokens", prompt_tokens, minimum=1))
    n = int(whole("output_tokens", output_tokens, minimum=1))
    if cached:
        first = prefill_time_s(model, gpu, precision, 1, p, **kw)
        if n == 1:
            return float(first)
        ctx = np.arange(p + 1, p + n, dtype=float)
        return float(first + np.sum(decode_step_time_s(model, gpu, precision, 1, ctx, **kw)))
    prefixes = np.arange(p, p + n, dtype=float)
    return float(np.sum(prefill_time_s(model, gpu, precision, 1, prefixes, **kw)))


def flash_attention_prefill_extra_s(model, gpu, prompt_tokens, batch=1, bytes_per_value: float = 2.0,
                                    sram_bytes: float = A100_SRAM_BYTES_PER_SM, multiplier=1.0):
    """Seconds standard (materialised) attention adds to a prefill over FlashAttention: the HBM-traffic
    difference of :func:`attention_hbm_bytes` over all layers at the device's memory bandwidth.

    ``multiplier`` = 1 is the algorithm-0 minimum (a lower bound); :func:`unfused_attention_multiplier`
    gives the band the training measurements imply. The inference module's prefill time assumes
    fused attention, so this is what a serving stack without FlashAttention pays on top.
    """

    m = get_model(model)
    device = get_device(gpu)
    std = attention_hbm_bytes(prompt_tokens, m.head_dim, m.heads, batch, flash=False, bytes_per_value=bytes_per_value)
    fa = attention_hbm_bytes(prompt_tokens, m.head_dim, m.heads, batch, flash=True, bytes_per_value=bytes_per_value,
                             sram_bytes=sram_bytes)
    k = at_least("multiplier", multiplier, 1.0)
    return k * m.layers * (std - fa) / device.bandwidth_bytes_s


def speculative_verify_time_ratio(model, gpu, precision, batch, context, gamma, **kw):
    """Time to verify gamma + 1 tokens per sequence relative to one decode step, from the roofline terms.

    The verification pass does gamma + 1 tokens of arithmetic per sequence but reads the weights
    and each sequence's KV cache once: max((gamma+1) x compute + KV reads, memory) + fixed terms, over one
    decode step (inference.decode_step). 1 when memory-bound with room to spare; -> gamma + 1
    when compute-bound.
    """

    g = whole("gamma", gamma, minimum=1)
    st = decode_step(model, gpu, precision, batch, context, **kw)
    verify = np.maximum(np.asarray(st.compute_s) * (g + 1.0) + st.kv_s, st.memory_s) + st.communication_s + st.overhead_s
    return verify / st.total_s


def speculative_on_gpu(target, draft, gpu, precision, batch, context, alpha, gamma, **kw) -> dict:
    """Speculative decoding speed-up for a target/draft pair on a GPU at a batch size.

    c = draft decode step / target decode step (both from the inference module); the verification
    ratio from :func:`speculative_verify_time_ratio`; speed-up from
    :func:`speculative_speedup_at_batch`. Returns c, the ratio, the speed-up and theorem 3.8's
    batch-1 idealisation for comparison.
    """

    c = float(decode_step_time_s(draft, gpu, precision, batch, context, **kw) / decode_step_time_s(target, gpu, precision, batch, context, **kw))
    r = float(speculative_verify_time_ratio(target, gpu, precision, batch, context, gamma, **kw))
    return {
        "c": c,
        "verify_time_ratio": r,
        "speedup": float(speculative_speedup_at_batch(alpha, gamma, c, r)),
        "speedup_theorem_3_8": float(speculative_speedup(alpha, gamma, c)),
    }


# --- quantization -----------------------------------------------------------------------------
@dataclass(frozen=True)
class QuantizationEffect:
    """Memory, speed and cost of serving a model at one precision, against a 16-bit baseline."""

    model: str
    gpu: str
    precision: str
    baseline: str
    weights_gb: float
    baseline_weights_gb: float
    memory_gb: float
    baseline_memory_gb: float
    fits: bool
    baseline_fits: bool
    tpot_s: float
    baseline_tpot_s: float
    ttft_s: float
    baseline_ttft_s: float
    quality_ppl_ratio: Band | None
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    quality_accuracy_ratio: Band | None = None

    @property
    def memory_ratio(self) -> float:
        return self.memory_gb / self.baseline_memory_gb

    @property
    def decode_speedup(self) -> float:
        return self.baseline_tpot_s / self.tpot_s

    @property
    def prefill_speedup(self) -> float:
        return self.baseline_ttft_s / self.ttft_s


def quantization_effect(model, gpu, precision: str, *, baseline: str = "bf16", batch=1, prompt_tokens=1500,
                        output_tokens=300, kv_precision=None, engine=None) -> QuantizationEffect:
    """Weights, total serving memory, time per output token and time to first token at ``precision``
    against ``baseline`` (memory.inference_memory; inference.decode_step_time_s / prefill_time_s at the
    engine's mid efficiencies). Decode gains follow the bytes; prefill gains only where the device
    has a faster tensor-core path for the format (inference.compute_path)."""

    m = get_model(model)
    device = get_device(gpu)
    choice("precision", precision, inf.PRECISIONS)
    choice("baseline", baseline, inf.PRECISIONS)
    b = int(whole("batch", batch))
    p = int(whole("prompt_tokens", prompt_tokens))
    o = int(whole("output_tokens", output_tokens))
    eng = {} if engine is None else {"engine": engine}
    out = {}
    for tag, prec, kv in (("q", precision, kv_precision), ("b", baseline, None)):
        kvp = kv or inf._kv_default(prec)  # the baseline keeps its own (16-bit) KV cache
        mem = inference_memory(m, prec, p + o, b, kvp)
        out[tag] = dict(
            w=float(mem.weights_gb), tot=float(mem.total_gb), fits=bool(mem.total_gb <= device.memory_gb),
            tpot=float(inf.decode_step_time_s(m, device, prec, b, p + o / 2.0, kv_precision=kvp, **eng)),
            ttft=float(inf.prefill_time_s(m, device, prec, b, p, kv_precision=kvp, **eng)),
        )
    qual = quantization_quality(precision) if precision in QUALITY_PRECISIONS else None
    acc = quantization_quality(precision, "accuracy_ratio") if precision in QUALITY_PRECISIONS else None
    notes = (
        f"{m.id} on {device.id}, batch {b}, {p} prompt + {o} output tokens; decode at mean context {p + o / 2:g}",
        f"{precision} computes at the {inf.compute_precision(device, precision)} peak; {baseline} at "
        f"{inf.compute_precision(device, baseline)}",
        "quality: perplexity ratio range over the catalog's llama.cpp measurements" if qual is not None
        else ("quality: benchmark accuracy ratio range over the catalog's model-card measurements" if acc is not None
              else f"quality: no published {precision} figure in technique_evidence.csv"),
    )
    return QuantizationEffect(
        model=m.id, gpu=device.id, precision=precision, baseline=baseline,
        weights_gb=out["q"]["w"], baseline_weights_gb=out["b"]["w"], memory_gb=out["q"]["tot"],
        baseline_memory_gb=out["b"]["tot"], fits=out["q"]["fits"], baseline_fits=out["b"]["fits"],
        tpot_s=out["q"]["tpot"], baseline_tpot_s=out["b"]["tpot"], ttft_s=out["q"]["ttft"], baseline_ttft_s=out["b"]["ttft"],
        quality_ppl_ratio=qual, assumptions=notes, quality_accuracy_ratio=acc,
    )


def edge_decode_backtest():
    """llama.cpp batch-1 decode on the catalog's measured devices: the inference module's prediction
    (llama.cpp engine class) and the pure bandwidth ceiling (efficiency 1) against the measurement."""
    import pandas as pd  # on demand: the CLI imports this module and must start fast


    rows = []
    for r in _evidence_rows():
        if r["metric"] != "decode_tokens_per_s":
            continue
        i = r["inputs"]
        model, gpu, prec = i["model"], i["gpu"], i["precision"]
        ctx = 128.0  # llama.cpp's TG128 test generates 128 tokens from an empty prompt: mean context 64
        pred = 1.0 / float(inf.decode_step_time_s(model, gpu, prec, 1, ctx / 2.0, engine="llama.cpp"))
        ceiling = 1.0 / float(inf.decode_step_time_s(model, gpu, prec, 1, ctx / 2.0, engine="llama.cpp",
                                                    bandwidth_utilization=1.0, compute_utilization=1.0))
        rows.append({"id": r["id"], "model": model, "device": gpu, "format": i.get("format", prec), "precision": prec,
                     "predicted_tok_s": pred, "bandwidth_ceiling_tok_s": ceiling, "measured_tok_s": r["value"],
                     "error": pred / r["value"] - 1.0, "share_of_ceiling": r["value"] / ceiling})
    return pd.DataFrame(rows)


# --- LoRA / QLoRA against full fine-tuning -----------------------------------------------------
def finetune_comparison(model, tokens, gpu, *, rank: int = 16, full_gpus: int | None = None, **kw):
    """Full fine-tuning, LoRA and QLoRA of ``model`` on ``tokens`` (finetune.estimate_finetune):
    trainable parameters, FLOPs, GPU-hours, dollars and per-GPU memory, with the reduction against full.

    ``full_gpus`` (default: the fewest of ``gpu`` that hold full fine-tuning with ZeRO-3, from
    memory.min_gpus... approximated by trying 1..64) applies to the full run only; LoRA and QLoRA run
    on one GPU.
    """
    import pandas as pd  # on demand: the CLI imports this module and must start fast


    rows = []
    for method in ("full", "lora", "qlora"):
        k = 1
        if method == "full":
            if full_gpus is None:
                for k in (1, 2, 4, 8, 16, 32, 64):
                    if estimate_finetune(model, method, tokens, gpu, gpus=k, rank=rank, **kw).fits:
                        break
            else:
                k = int(whole("full_gpus", full_gpus))
        est = estimate_finetune(model, method, tokens, gpu, gpus=k, rank=rank, **kw)
        rows.append({
            "method": method, "gpus": k, "trainable_params": est.params if method == "full" else est.adapter_params,
            "flops": est.flops, "gpu_hours": est.gpu_hours.mid, "cost_usd": None if est.cost_usd is None else est.cost_usd.mid,
            "memory_gb_per_gpu": est.memory_gb, "fits": est.fits,
        })
    df = pd.DataFrame(rows)
    full = df.iloc[0]
    df["flops_reduction"] = 1.0 - df["flops"] / full["flops"]
    df["gpu_hours_reduction"] = 1.0 - df["gpu_hours"] / full["gpu_hours"]
    df["memory_reduction"] = 1.0 - df["memory_gb_per_gpu"] * df["gpus"] / (full["memory_gb_per_gpu"] * full["gpus"])
    return df


# --- distillation on real prices ---------------------------------------------------------------
def distillation_case(*, teacher_api: str, student_model, student_gpu, examples, prompt_tokens, output_tokens,
                      student_batch=16, finetune_method: str = "full", finetune_epochs: int = 1,
                      student_precision: str = "bf16", price_usd_per_gpu_hour=None) -> Distillation:
    """A distillation priced end to end: the teacher (a hosted API) writes ``examples`` replies; the
    student is fine-tuned on them (finetune.estimate_finetune, ``finetune_epochs`` passes over
    prompt + reply tokens) and then serves at ``student_batch`` (inference.estimate_inference, mid).
    Per request the teacher costs its API price; the student its GPU time."""

    api = get_api_price(teacher_api)
    e = float(positive("examples", examples))
    p = float(whole("prompt_tokens", prompt_tokens))
    o = float(whole("output_tokens", output_tokens))
    ep = int(whole("finetune_epochs", finetune_epochs))
    gen = float(api.cost_usd(e * p, e * o))
    ft = estimate_finetune(student_model, finetune_method, e * (p + o) * ep, student_gpu,
                           price_usd_per_gpu_hour=price_usd_per_gpu_hour)
    if ft.cost_usd is None:
        raise InputError("student_gpu", student_gpu, "a GPU with a catalog price, or pass price_usd_per_gpu_hour")
    inf_est = estimate_inference(student_model, student_gpu, student_precision, student_batch, int(p), int(o),
                                 price_usd_per_gpu_hour=price_usd_per_gpu_hour)
    student_req = inf_est.cost_per_1k_requests_usd.mid / 1000.0
    return Distillation(
        teacher_generation_usd=gen, student_training_usd=float(ft.cost_usd.mid),
        teacher_usd_per_request=float(api.cost_usd(p, o)), student_usd_per_request=float(student_req),
    )


# --- CPU inference -----------------------------------------------------------------------------
def cpu_break_even_usd_per_hour(model, cpu, gpu, precision: str = "int4", *, gpu_batch=16, prompt_tokens=1500,
                                output_tokens=300, price_usd_per_gpu_hour=None):
    """The hourly price below which a CPU serves tokens more cheaply than the GPU does.

    CPU: batch 1, llama.cpp engine class; GPU: ``gpu_batch`` on an optimized server; both from
    inference.estimate_inference (mid). Break-even = GPU $/hour x CPU throughput / GPU throughput.
    Returns a dict with both throughputs, the GPU price used and the break-even CPU price.
    """

    c = estimate_inference(model, cpu, precision, 1, prompt_tokens, output_tokens, engine="llama.cpp",
                           price_usd_per_gpu_hour=1.0)
    g = estimate_inference(model, gpu, precision, gpu_batch, prompt_tokens, output_tokens,
                           price_usd_per_gpu_hour=price_usd_per_gpu_hour)
    if g.cost_per_1m_output_tokens_usd is None:
        raise InputError("gpu", gpu, "a GPU with a catalog price, or pass price_usd_per_gpu_hour")

    price = price_usd_per_gpu_hour if price_usd_per_gpu_hour is not None else gpu_price_band(gpu).mid
    cpu_thr, gpu_thr = c.throughput_tokens_per_s.mid, g.throughput_tokens_per_s.mid
    return {"cpu_tokens_per_s": float(cpu_thr), "gpu_tokens_per_s": float(gpu_thr), "gpu_usd_per_hour": float(price),
            "cpu_break_even_usd_per_hour": float(price * cpu_thr / gpu_thr),
            "cpu_ttft_s": float(c.ttft_s.mid), "gpu_ttft_s": float(g.ttft_s.mid)}


# --------------------------------------------------------------------------------------------
# Stacking techniques on one workload (the chapter's waterfall)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServingSetup:
    """A self-hosted serving setup the waterfall changes one technique at a time.

    ``static_utilization`` is the share of decode slots doing useful work (1 = continuous
    batching); ``online_utilization`` the share of paid GPU-hours that are busy; ``spec`` a
    (draft_model, alpha, gamma) triple or None; ``flash`` whether attention is fused.
    """

    model: str
    gpu: str
    precision: str = "bf16"
    batch: int = 16
    prompt_tokens: int = 1500
    output_tokens: int = 300
    flash: bool = True
    static_utilization: float = 1.0
    spec: tuple | None = None
    online_utilization: float = 1.0
    price_usd_per_gpu_hour: float | None = None
    unfused_multiplier: float | None = None


def serving_cost(setup: ServingSetup) -> dict:
    """GPU-seconds and dollars per request of a :class:`ServingSetup` (mid efficiencies).

    Batch time = prefill (inference.estimate_inference's time to first token, plus the unfused
    attention traffic of :func:`flash_attention_prefill_extra_s` when ``flash`` is False, scaled by
    ``unfused_multiplier``, default the calibrated median) + decode
    (request latency minus time to first token) / static utilisation / speculative speed-up.
    Per request = batch time / batch; dollars = GPU-seconds x price / 3600 / online utilisation.
    """

    s = setup
    est = estimate_inference(s.model, s.gpu, s.precision, s.batch, s.prompt_tokens, s.output_tokens,
                             price_usd_per_gpu_hour=s.price_usd_per_gpu_hour or 1.0)
    ttft, latency = est.ttft_s.mid, est.request_latency_s.mid
    k = s.unfused_multiplier if s.unfused_multiplier is not None else unfused_attention_multiplier().mid
    prefill = ttft + (0.0 if s.flash else float(flash_attention_prefill_extra_s(s.model, s.gpu, s.prompt_tokens, s.batch,
                                                                                 multiplier=k)))
    speed = 1.0
    if s.spec is not None:
        draft, alpha, gamma = s.spec
        speed = speculative_on_gpu(s.model, draft, s.gpu, s.precision, s.batch, s.prompt_tokens + s.output_tokens / 2.0,
                                   alpha, gamma)["speedup"]
    util = fraction("static_utilization", s.static_utilization)
    decode = (latency - ttft) / util / speed
    per_request_s = (prefill + decode) / s.batch
    price = s.price_usd_per_gpu_hour if s.price_usd_per_gpu_hour is not None else gpu_price_band(s.gpu).mid
    usd = per_request_s * price / SECONDS_PER_HOUR / fraction("online_utilization", s.online_utilization)
    return {"prefill_s": prefill, "decode_s": decode, "gpu_s_per_request": per_request_s,
            "usd_per_request": usd, "usd_per_1k_requests": usd * 1000.0, "speculative_speedup": speed}


def stack_waterfall(baseline: ServingSetup, steps) -> "pandas.DataFrame":
    """Apply ``steps`` (a list of (label, {field: value}) changes to the setup) one after another.

    Each row: the cost per 1,000 requests after the step, the saving of the step within the
    stack, the saving the same change gives alone on the baseline, and the cumulative saving. The
    difference between "alone" and "in stack" is the overlap: techniques do not multiply
    independently when they act on the same part of the time (prefill or decode) or compete for
    the same resource (spare compute).
    """

    import pandas as pd  # on demand: the CLI imports this module and must start fast

    base = serving_cost(baseline)["usd_per_1k_requests"]
    rows = [{"step": "baseline", "usd_per_1k_requests": base, "step_saving": 0.0, "alone_saving": 0.0,
             "cumulative_saving": 0.0}]
    current = baseline
    prev = base
    for label, change in steps:
        current = dataclasses.replace(current, **change)
        cost = serving_cost(current)["usd_per_1k_requests"]
        alone = serving_cost(dataclasses.replace(baseline, **change))["usd_per_1k_requests"]
        rows.append({"step": label, "usd_per_1k_requests": cost, "step_saving": 1.0 - cost / prev,
                     "alone_saving": 1.0 - alone / base, "cumulative_saving": 1.0 - cost / base})
        prev = cost
    return pd.DataFrame(rows)


def get_model_params(model) -> float:
    return float(get_model(model).active_params)
