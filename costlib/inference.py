"""Inference: roofline latency, batching, tensor parallelism and the price of a million tokens.

The model
---------
Generating a token runs the whole network once. Its arithmetic is

    FLOPs per token = 2 * N_active + 2 * n_layer * n_ctx * d_attn                     (1)

(Kaplan et al. 2020, "Scaling laws for neural language models", arXiv 2001.08361, Table 1: the
forward pass costs 2 FLOPs per parameter plus the attention-score term over the context.) A token
at position ``c`` attends to ``c`` cached keys and values: QK^T and the attention-weighted sum of V
are each ``2 * c * d_attn`` FLOPs per layer, ``4 * n_layer * c * d_attn`` in all; averaged over a
causal window of length ``n_ctx`` (``c`` from 0 to ``n_ctx``) that is Kaplan's term in (1).

A decode step for a batch of ``B`` sequences at context ``c`` reads every weight once and the KV
cache of all ``B`` sequences, and does ``B`` tokens of arithmetic. On the roofline (Williams,
Waterman and Patterson 2009) applied operator by operator, its time is

    t_step = max(B * FLOPs/token / (peak * u_compute), weight bytes / (bandwidth * u_bandwidth))
             + B * KV bytes(c) * r / (bandwidth * u_bandwidth)
             + t_comm(tensor parallelism) + t_overhead                                (2)

The weight GEMMs wait on their weights or on their arithmetic, whichever is longer; attention runs in
kernels of its own after them and, at about one FLOP per byte of cache, is memory-bound at every batch,
so its KV traffic adds to the step instead of hiding under the arithmetic (the per-layer roofline of
LLM-Viewer: Yuan et al. 2024, "LLM Inference Unveiled: Survey and Roofline Model Insights", arXiv
2402.16363). ``r`` is how many times the kernel streams each KV head (:func:`kv_reads_per_head`: 1, or
heads / kv_heads for TensorRT-LLM releases before its XQA kernel). The overhead is one CUDA-graph launch
per decode step for a graph engine; a whole-prompt prefill launches kernel by kernel.

and prefill (the prompt, all tokens at once) is the same with ``B * P`` tokens of arithmetic and
one read of the weights. Time to first token is the prefill; time per output token is a decode
step at the mean context of the answer. Bytes come from :mod:`costlib.memory` (no second copy of a
formula here); peaks and bandwidth from :mod:`costlib.hardware`.

Efficiencies ``u_bandwidth`` (decode) and ``u_compute`` (prefill) are not guessed: they are
calibrated against published measurements in ``data/inference_benchmarks.csv`` and carried as a
low / mid / high :class:`~costlib.uncertainty.Band`: per *engine by name* (``data/engines.csv``:
vllm, sglang, tensorrt-llm, nim, tgi, llama.cpp-cuda/-metal/-cpu, mlx, exllamav2, hf-transformers;
:func:`engine_bands`, falling back to the family band, widened, below 5 cases) and per *engine
class* (optimized-server, hf-transformers, llama.cpp; :func:`calibration`, the names of earlier
versions). :func:`engine_backtest` is the leave-one-out back-test by engine. Weight formats as
served (GGUF, AWQ, GPTQ, NF4, FP8, MXFP4/NVFP4, EXL2) are in ``data/weight_formats.csv``
(:func:`get_format`). This module models one forward pass and the *static* batch
(:func:`estimate_inference`); continuous batching at a latency target is :mod:`costlib.serving`.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Mapping

import numpy as np

from . import catalog as _catalog
from .catalog import AS_OF, DATA_DIR, NOTES, SOURCE, Column, Schema, load_csv, records
from .errors import CostlibError, InputError
from .hardware import Device, devices, get_device
from .models import ModelSpec, get_model, models
from .uncertainty import Band
from .units import GB, SECONDS_PER_HOUR
from .validate import choice, fraction, positive, whole

# --------------------------------------------------------------------------------------------
# Named constants (each with its source)
# --------------------------------------------------------------------------------------------
PRECISIONS = ("fp16", "bf16", "fp8", "int8", "int4")
"""Weight formats for inference. int4 is weight-only: it changes bytes, not the compute path."""

KV_PRECISIONS = ("fp16", "bf16", "fp8", "int8")

ENGINE_CLASSES = ("optimized-server", "hf-transformers", "llama.cpp")
"""Engine classes the calibration distinguishes. optimized-server = TensorRT-LLM, vLLM and the like
(fused kernels, CUDA graphs, paged KV cache, in-flight batching); hf-transformers = the plain
``model.generate`` loop of Hugging Face transformers; llama.cpp = ggml on CPUs and Apple silicon."""

DEFAULT_ENGINE = "optimized-server"

WEIGHT_ONLY_PATH = ("fp16", "bf16", "fp32")
"""Peaks a weight-only format computes at, first one the device has: its weights are dequantized to 16-bit
before the matmul (AWQ/GPTQ/Marlin and llama.cpp kernels: Lin et al. 2024, AWQ, section 4); CPUs without a
16-bit peak in the catalog compute at FP32. A native format whose own peak the device lacks (FP8 on an A100,
FP4 before Blackwell) takes this path too. The rule is :func:`compute_path`; the data is the ``compute`` and
``native_precision`` columns of ``weight_formats.csv``."""


KERNEL_LAUNCH_S = 4e-6
"""Host-side cost of launching one GPU kernel, ~4 us. Source: NVIDIA, "CUDA Graph" guide
(docs.nvidia.com/dl-cuda-graph) and the Modal GPU glossary ("each launch takes on the order of
microseconds"); as_of 2025."""

KERNELS_PER_LAYER_EAGER = 12
"""Kernels one Llama decoder layer launches in an eager loop: 2 RMSNorm, Q/K/V projections,
rotary embedding, attention, output projection, residual add, gate/up projections, SiLU*mul,
down projection, residual add (counted from transformers' modeling_llama.py, 2024)."""

GRAPH_LAUNCHES_PER_STEP = 1
"""An optimized server replays one captured CUDA graph per decode step (TensorRT-LLM and vLLM
capture decode in CUDA graphs; vLLM docs, "CUDA graphs", 2024)."""

ACTIVATION_BYTES = 2.0
"""Bytes per activation value exchanged in tensor parallelism (16-bit activations)."""

ALLREDUCES_PER_LAYER = 2
"""Megatron-style tensor parallelism all-reduces twice per layer in the forward pass (after
attention and after the MLP): Shoeybi et al. 2019, arXiv 1909.08053, section 3."""

ALLREDUCE_LATENCY_S = 8e-6
"""Fixed latency of one small NCCL all-reduce inside a node: NCCL's tuning model gives a 6.6 us
base latency for ring/LL plus 0.6 us per NVLink hop (NVIDIA/nccl src/graph/tuning.cc, quoted in
NVIDIA/nccl issue #1334, 2024-07-01)."""


DEFAULT_UTILIZATION = 1.0
"""Share of paid GPU-hours that are busy when none is given: 100%, so the cost is a floor."""


def _kv_default(precision: str) -> str:
    """KV-cache format when none is given: FP8 with FP8 weights (TensorRT-LLM's FP8 recipes
    quantize the KV cache too), else 16-bit (llama.cpp and transformers keep an F16 cache)."""
    return _memory().default_kv_precision(precision)


def _engine_family(engine: str) -> str:
    """The engine class of an engine name (``vllm`` -> ``optimized-server``); a class maps to itself."""
    if engine in ENGINE_CLASSES:
        return engine
    return get_engine(engine).family


# --------------------------------------------------------------------------------------------
# Memory module access (bytes live there, not here)
# --------------------------------------------------------------------------------------------
def _memory():
    from . import memory  # imported lazily: the memory chapter owns these formulas

    return memory


def _has_architecture(model) -> bool:
    return isinstance(model, ModelSpec)


def _resolve_model(model):
    if isinstance(model, str):
        return get_model(model)
    if _has_architecture(model) or hasattr(model, "active_params"):
        return model
    raise InputError("model", model, "a model id, a ModelSpec or costlib.models.custom_model(params)")


def _resolve_device(gpu) -> Device:
    return get_device(gpu)


# --------------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------------
def _attended(model, context):
    """Per-layer-averaged number of positions a token at ``context`` attends to (sliding-window
    layers cap it at their window)."""
    c = np.asarray(context, dtype=float)
    window = getattr(model, "sliding_window", None)
    share = getattr(model, "sliding_layers", None)
    if window and share:
        c = (1 - share) * c + share * np.minimum(c, window)
    return c


def attention_flops_per_token(model, attended_tokens):
    """FLOPs of attention scores for one new token attending to ``attended_tokens`` positions:
    QK^T and softmax(QK^T) V, each 2 * attended * d_attn per layer (0 without an architecture)."""
    model = _resolve_model(model)
    a = np.asarray(_non_negative("attended_tokens", attended_tokens), dtype=float)
    if not _has_architecture(model):
        return np.zeros_like(a) if a.ndim else 0.0
    out = 4.0 * model.layers * _attended(model, a) * model.attention_dim
    return out if np.ndim(out) else float(out)


def flops_per_token(model, context):
    """FLOPs to process one token averaged over a causal window of ``context`` tokens:
    2 * active parameters + 2 * n_layer * context * d_attn (Kaplan et al. 2020, Table 1, C_forward).

    >>> round(flops_per_token("llama-2-7b", 0) / 1e9, 2)  # 2 x 6.74B
    13.48
    """
    model = _resolve_model(model)
    c = _non_negative("context", context)
    attn = 0.0
    if _has_architecture(model):
        attn = 4.0 * model.layers * _attended(model, np.asarray(c, dtype=float) / 2.0) * model.attention_dim
    out = 2.0 * model.active_params + attn
    return _f(out)


def decode_flops_per_token(model, context):
    """FLOPs for one new token at position ``context``: 2 * N_active + 4 * n_layer * context * d_attn."""
    model = _resolve_model(model)
    c = _non_negative("context", context)
    attn = 0.0
    if _has_architecture(model):
        attn = 4.0 * model.layers * _attended(model, c) * model.attention_dim
    out = 2.0 * model.active_params + attn
    return _f(out)


def _non_negative(name, value):
    from .validate import non_negative

    return non_negative(name, value)


# --------------------------------------------------------------------------------------------
# Device peaks for a weight format
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComputePath:
    """How a weight format's matmuls run on a device: at which dense peak, natively or weight-only."""

    format: str  # weight_formats.csv id
    precision: str  # the device peak the arithmetic runs at (a key of Device.peak_tflops_by_precision)
    kind: str  # "native" (math at the format's own precision) | "weight-only" (dequantized to 16-bit first)
    activation_bytes: float  # bytes per activation value between layers (costlib.memory.ACTIVATION_BYTES rule)


def compute_path(gpu, precision: str) -> ComputePath:
    """The one rule for the compute path of a weight format on a device (used by inference, serving and
    memory): a ``native`` format of ``weight_formats.csv`` computes at its ``native_precision`` where the
    device has that dense peak; otherwise (a ``weight-only`` format, or a native one the device has no
    tensor cores for) at the first of :data:`WEIGHT_ONLY_PATH` the device has. Activations between layers
    are 16-bit on both paths (FP8/INT8 W8A8 kernels quantize them per matmul), 4 bytes on an FP32 path."""
    device = _resolve_device(gpu)
    fmt = get_format(precision)
    peaks = device.peak_tflops_by_precision
    if fmt.compute == "native" and fmt.native_precision and fmt.native_precision in peaks:
        p, kind = fmt.native_precision, "native"
    else:
        p = next((q for q in WEIGHT_ONLY_PATH if q in peaks), None)
        if p is None:
            raise InputError("gpu", device.id, f"a device with a 16-bit or FP32 peak for {fmt.id}")
        kind = "weight-only"
    return ComputePath(fmt.id, p, kind, _memory().activation_value_bytes(p))


def compute_precision(gpu, precision: str) -> str:
    """The dense peak a weight format runs at on a device: :func:`compute_path` ``.precision``."""
    return compute_path(gpu, precision).precision


FP16_ACCUMULATE_TFLOPS = {"rtx-4090": 330.3, "rtx-3090": 142.0}
"""Dense FP16 tensor peaks *with FP16 accumulation* of GeForce cards, which run FP16 math with FP32
accumulation (the ``fp16_tflops`` of hardware.csv) at half that rate; data-center and professional cards run
both at one rate. RTX 4090: 330.3 TFLOP/s (NVIDIA Ada GPU architecture whitepaper, appendix table, "Peak FP16
Tensor TFLOPS with FP16 Accumulate", 2022-10-12); RTX 3090: 142 TFLOP/s (NVIDIA Ampere GA102 GPU architecture
whitepaper v2, appendix table, 2020-09-24). Other GeForce cards are not listed yet (their FP32-accumulate peak
is used: a floor)."""

FP16_ACCUMULATE_ENGINES = ("llama.cpp-cuda", "llama.cpp")
"""Engines whose 16-bit matrix multiplications accumulate in FP16: ggml's CUDA backend calls cuBLAS with
``CUBLAS_COMPUTE_16F`` for F16 weights and for quantized weights dequantized to F16 (ggml/src/ggml-cuda/
ggml-cuda.cu, ``batched_mul_mat_traits<GGML_TYPE_F16>``; FP32 output only on Volta and AMD CDNA/RDNA4).
vLLM, SGLang, TensorRT-LLM and PyTorch accumulate in FP32."""


def effective_peak_flops(gpu, precision: str, engine: str | None = None) -> float:
    """Dense peak FLOP/s the weight format computes at on this device; with an ``engine`` of
    :data:`FP16_ACCUMULATE_ENGINES` on a card of :data:`FP16_ACCUMULATE_TFLOPS`, the FP16-accumulate peak
    of a 16-bit compute path.

    >>> effective_peak_flops("rtx-4090", "fp16") / 1e12, effective_peak_flops("rtx-4090", "fp16", "llama.cpp-cuda") / 1e12
    (165.2, 330.3)
    """
    device = _resolve_device(gpu)
    cp = compute_precision(device, precision)
    if cp == "fp16" and engine is not None and device.id in FP16_ACCUMULATE_TFLOPS:
        eng = ENGINE_ALIASES.get(engine, engine) if isinstance(engine, str) else engine
        if eng in FP16_ACCUMULATE_ENGINES:
            return FP16_ACCUMULATE_TFLOPS[device.id] * 1e12
    return device.peak_flops(cp)


# --------------------------------------------------------------------------------------------
# Bytes (through the memory module)
# --------------------------------------------------------------------------------------------
def model_weight_bytes(model, precision: str, *, engine: str = DEFAULT_ENGINE) -> float:
    """Bytes of all stored weights, as the memory module counts them (quantization scales included;
    below 16 bits the embeddings stay 16-bit except in llama.cpp, whose GGUF files quantize them,
    with :data:`costlib.memory.GGUF_BLOCK` weights per scale). A served format of
    ``weight_formats.csv`` counts its own bits per weight (scales included) and its own rule for the
    embeddings."""
    model = _resolve_model(model)
    fmt = get_format(precision)
    engine = _engine_family(engine)
    if fmt.id not in PRECISIONS:
        return _format_weight_bytes(model, fmt.id)
    return _model_weight_bytes(model, fmt.id, engine)


@lru_cache(maxsize=4096)
def _model_weight_bytes(model, precision: str, engine: str) -> float:
    mem = _memory()
    llama = engine == "llama.cpp"
    group = mem.GGUF_BLOCK if llama else mem.QUANT_GROUP_SIZE
    if _has_architecture(model):
        gb = mem.inference_memory(model, precision, 0, 1, quantize_embeddings=llama, group_size=group).weights_gb
        return float(gb) * GB
    return float(mem.weight_bytes(float(model.total_params), precision, group_size=group))


@lru_cache(maxsize=4096)
def _format_weight_bytes(model, fmt_id: str) -> float:
    fmt = weight_formats()[fmt_id]
    n = float(model.total_params)
    if fmt.quantize_embeddings or not _has_architecture(model):
        return n * fmt.bits_per_weight / 8.0
    emb = float(model.embedding_params)
    return (n - emb) * fmt.bits_per_weight / 8.0 + emb * 2.0


def weights_read_bytes(model, precision: str, batch=1, *, engine: str = DEFAULT_ENGINE):
    """Weight bytes one decode step reads. Dense models read every weight; a mixture-of-experts
    model reads the experts its ``batch`` tokens are routed to: with ``k`` of ``E`` experts per
    token chosen independently, a batch touches a share 1 - (1 - k/E)^B of them (all at large B);
    the share is applied to the whole model (shared layers make it a slight underestimate)."""
    model = _resolve_model(model)
    b = np.asarray(whole("batch", batch), dtype=float)
    total, active = float(model.total_params), float(model.active_params)
    share = 1.0 - (1.0 - active / total) ** b
    out = model_weight_bytes(model, precision, engine=engine) * share
    return _f(out)


def kv_bytes_per_sequence(model, context, kv_precision: str = "fp16"):
    """KV-cache bytes of one sequence holding ``context`` tokens (memory.kv_cache_bytes; a fractional
    mean context is rounded to whole tokens; 0 for a params-only model)."""
    model = _resolve_model(model)
    c = _non_negative("context", context)
    if type(c) is float:  # one context (the single estimate): the same rounding (half to even) without an array
        return _kv_one(model, float(round(c)), kv_precision) if _has_architecture(model) else 0.0
    c = np.round(np.asarray(c, dtype=float))
    if not _has_architecture(model):
        return np.zeros_like(c) if c.ndim else 0.0
    if c.ndim == 0:
        return _kv_one(model, float(c), kv_precision)
    return np.asarray(_memory().kv_cache_bytes(model, c, 1, kv_precision), dtype=float)


@lru_cache(maxsize=65536)
def _kv_one(model, context: float, kv_precision: str) -> float:
    return float(_memory().kv_cache_bytes(model, context, 1, kv_precision))


# --------------------------------------------------------------------------------------------
# Step times
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepTime:
    """One forward pass on the per-operator roofline (equation 2): its compute, memory, communication and
    overhead terms (s). ``memory_s`` is all the bytes moved (weights and KV cache); ``kv_s`` the part of it
    the attention kernels move (the KV cache read at decode, written at prefill), which adds to the linear
    layers' max(compute, weight reads) instead of hiding under it (:data:`ATTENTION_OVERLAP`)."""

    compute_s: float
    memory_s: float
    communication_s: float
    overhead_s: float
    kv_s: float = 0.0

    @property
    def total_s(self):
        return np.maximum(self.compute_s + self.kv_s, self.memory_s) + self.communication_s + self.overhead_s

    @property
    def bound(self):
        """'compute' where the linear layers' arithmetic takes longer than reading their weights, else 'memory'."""
        b = np.where(np.asarray(self.compute_s) + np.asarray(self.kv_s) > np.asarray(self.memory_s), "compute", "memory")
        return str(b) if b.ndim == 0 else b


PHASES = ("decode", "prefill")


def step_overhead_s(model, engine: str = DEFAULT_ENGINE, phase: str = "decode") -> float:
    """Per-step host overhead: one CUDA-graph launch for an optimized server's decode step; one launch per
    kernel (:data:`KERNELS_PER_LAYER_EAGER` per layer) for eager engines and for a whole-prompt prefill
    (``phase="prefill"``), which graph engines run outside their captured graphs: vLLM captures its graphs
    "for decoding" (uniform decode batches; prefill and mixed batches run the attention eagerly: vLLM design
    docs, "CUDA Graphs", 2025) and TensorRT-LLM's CUDA-graph mode replays generation steps (v0.5-v0.7)."""
    graph = engine == "optimized-server"
    if engine not in ENGINE_CLASSES:
        graph = get_engine(engine).overhead == "graph"
    if choice("phase", phase, PHASES) == "prefill":
        graph = False
    if graph:
        return GRAPH_LAUNCHES_PER_STEP * KERNEL_LAUNCH_S
    layers = model.layers if _has_architecture(model) else _layers_guess(model)
    return layers * KERNELS_PER_LAYER_EAGER * KERNEL_LAUNCH_S


def _layers_guess(model) -> int:
    """Layers of the catalog model closest in size (for the overhead of a params-only model)."""
    best = min(models().values(), key=lambda m: abs(np.log(m.total_params / model.total_params)))
    return best.layers


def _tp_comm_s(model, device: Device, gpus, tokens):
    """Time of tensor-parallel all-reduces for one forward pass over ``tokens`` tokens on ``gpus``
    devices: 2 all-reduces per layer, each a ring moving 2 (K-1)/K of the message per device
    over one direction of the interconnect, plus a fixed latency per all-reduce."""
    if type(gpus) is float and gpus <= 1 and type(tokens) is float:  # one device, one estimate: no all-reduce
        return 0.0
    k = np.asarray(gpus, dtype=float)
    if np.all(k <= 1):
        return 0.0 * np.asarray(tokens, dtype=float) if np.ndim(tokens) else 0.0
    if device.interconnect_gb_s is None:
        raise InputError("gpus", int(np.max(k)), f"1 ({device.id} has no interconnect bandwidth in the catalog)")
    layers = model.layers if _has_architecture(model) else _layers_guess(model)
    d_model = model.d_model if _has_architecture(model) else _d_model_guess(model)
    message = np.asarray(tokens, dtype=float) * d_model * ACTIVATION_BYTES
    per_direction = device.interconnect_gb_s * GB / 2.0
    one = 2.0 * (k - 1) / k * message / per_direction + ALLREDUCE_LATENCY_S
    out = np.where(k > 1, layers * ALLREDUCES_PER_LAYER * one, 0.0)
    return out if np.ndim(out) else float(out)


def _d_model_guess(model) -> int:
    best = min(models().values(), key=lambda m: abs(np.log(m.total_params / model.total_params)))
    return best.d_model


def _check_gpus(device: Device, gpus) -> float:
    k = whole("gpus", gpus)
    if device.kind in ("cpu", "soc") and np.any(np.asarray(k) > 1):
        raise InputError("gpus", gpus, f"1 for a {device.kind} ({device.id}); tensor parallelism is for GPUs")
    return k


def _utilizations(engine, bandwidth_utilization, compute_utilization, device=None, precision=None, prompt_tokens=None):
    if bandwidth_utilization is None or compute_utilization is None:
        bands = efficiency_bands(engine, device, precision, prompt_tokens)
        if bandwidth_utilization is None:
            bandwidth_utilization = bands.bandwidth.mid
        if compute_utilization is None:
            compute_utilization = bands.compute.mid
    return (
        fraction("bandwidth_utilization", bandwidth_utilization),
        fraction("compute_utilization", compute_utilization),
    )


def decode_step(model, gpu, precision, batch, context, gpus=1, *, kv_precision=None, engine=DEFAULT_ENGINE,
                bandwidth_utilization=None, compute_utilization=None, engine_version=None) -> StepTime:
    """The terms of equation (2) for one decode step of ``batch`` sequences at ``context`` tokens,
    split over ``gpus`` devices with tensor parallelism. Arrays broadcast (a sweep is one call).
    ``engine_version`` (e.g. ``"0.6.1"``; None = the current release) matters only where a release's
    decode attention reads the KV cache differently (:func:`kv_reads_per_head`)."""
    model = _resolve_model(model)
    device = _resolve_device(gpu)
    precision = check_precision(precision)
    kvp = choice("kv_precision", kv_precision or _kv_default(precision), KV_PRECISIONS)
    b = np.asarray(whole("batch", batch), dtype=float)
    c = np.asarray(_non_negative("context", context), dtype=float)
    k = np.asarray(_check_gpus(device, gpus), dtype=float)
    u_b, u_c = _utilizations(engine, bandwidth_utilization, compute_utilization, device, precision)
    return _roofline_step(_decode_terms(model, device, precision, b, c, k, kvp, engine, engine_version), k,
                          effective_peak_flops(device, precision, engine), device.bandwidth_bytes_s, u_b, u_c)


GQA_SHARED_KV_SINCE = {"tensorrt-llm": (0, 8)}
"""Engines whose decode attention kernel read each KV head once per *query* head before a given release,
and that release. TensorRT-LLM's masked multi-head attention kernel for the generation phase "uses a single
CUDA thread-block per head" (docs/source/advanced/gpt-attention.md, "Generation phase"), so with grouped-query
attention every one of the heads / kv_heads query heads of a group streams the group's keys and values
from memory; its XQA kernel, "optimization for MQA and GQA during generation phase ... reducing data
loading", default from v0.8 (TensorRT-LLM blog "New XQA-kernel provides 2.4x more Llama-70B throughput",
docs/source/blogs/XQA-kernel.md, 2024-01: Llama-70B on one H200, 128/2048 tokens, 1,227 -> 2,941 output
tok/s/GPU), reads each KV head once for its group. Engines not listed (and a version None, the current
release) read the cache once per KV head."""


def engine_release(text: str):
    """The release number in an engine label (``"TensorRT-LLM v0.6.1"`` -> ``(0, 6, 1)``), None without one."""
    m = re.search(r"\bv?(\d+)\.(\d+)(?:\.(\d+))?", str(text or ""))
    if m is None:
        return None
    return tuple(int(g) for g in m.groups() if g is not None)


def kv_reads_per_head(model, engine: str = DEFAULT_ENGINE, engine_version=None) -> float:
    """How many times a decode step streams each cached KV head from memory: 1 for a kernel that reads it
    once for its query-head group (FlashAttention/FlashInfer decode, TensorRT-LLM XQA), heads / kv_heads
    for a release listed in :data:`GQA_SHARED_KV_SINCE` before its fix (one thread block per query head,
    no reuse assumed: L2 reuse would make the true count lower, so this bounds the traffic from above).
    ``engine_version`` is a string such as ``"0.6.1"`` or a tuple; None = the current release.

    >>> kv_reads_per_head("llama-2-70b", "tensorrt-llm", "0.6.1"), kv_reads_per_head("llama-2-70b", "tensorrt-llm")
    (8.0, 1.0)
    """
    model = _resolve_model(model)
    if engine_version is None or not _has_architecture(model):
        return 1.0
    eng = ENGINE_ALIASES.get(engine, engine) if isinstance(engine, str) else engine
    fixed = GQA_SHARED_KV_SINCE.get(CALIBRATED_WITH.get(eng, eng))
    release = engine_version if isinstance(engine_version, tuple) else engine_release(engine_version)
    if fixed is None or release is None or tuple(release[:2]) >= fixed:
        return 1.0
    return float(model.heads) / float(model.kv_heads)


def _decode_terms(model, device: Device, precision: str, b, c, k, kvp: str, engine: str, engine_version=None) -> tuple:
    """The utilization-free terms of a decode step: (FLOPs, bytes moved, communication s, overhead s,
    KV bytes moved by attention). ``b``, ``c``, ``k`` are floats (one estimate) or arrays that broadcast
    (a sweep), already checked: one formula for both call shapes."""
    flops = b * decode_flops_per_token(model, c)
    kv = b * kv_bytes_per_sequence(model, c, kvp)
    if engine_version is not None:
        kv = kv * kv_reads_per_head(model, engine, engine_version)
    traffic = weights_read_bytes(model, precision, b, engine=engine) + kv
    return flops, traffic, _tp_comm_s(model, device, k, b), step_overhead_s(model, engine), kv


def _prefill_terms(model, device: Device, precision: str, b, p, k, kvp: str, engine: str) -> tuple:
    """The utilization-free terms of a prefill of ``b`` prompts of ``p`` tokens (as :func:`_decode_terms`):
    B * P tokens of arithmetic (causal average, equation 1), one read of the weights plus the KV cache written."""
    flops = b * p * flops_per_token(model, p)
    kv = b * kv_bytes_per_sequence(model, p, kvp)
    traffic = weights_read_bytes(model, precision, b * p, engine=engine) + kv
    return flops, traffic, _tp_comm_s(model, device, k, b * p), step_overhead_s(model, engine, "prefill"), kv


def _roofline_step(terms: tuple, k, peak_flops: float, bandwidth_bytes_s: float, u_b, u_c) -> StepTime:
    """Equation (2) from the terms of :func:`_decode_terms` or :func:`_prefill_terms` at efficiencies
    ``u_b`` (bandwidth) and ``u_c`` (compute), on ``k`` devices."""
    flops, traffic, comm, overhead, kv = terms
    compute = flops / k / (peak_flops * u_c)
    memory = traffic / k / (bandwidth_bytes_s * u_b)
    kv_s = kv / k / (bandwidth_bytes_s * u_b)
    return StepTime(_f(compute), _f(memory), _f(comm), overhead, _f(kv_s))


def decode_step_time_s(model, gpu, precision, batch, context, gpus=1, **kwargs):
    """Seconds for one decode step (one new token for each of ``batch`` sequences): equation (2)."""
    return _f(decode_step(model, gpu, precision, batch, context, gpus, **kwargs).total_s)


def prefill(model, gpu, precision, batch, prompt_tokens, gpus=1, *, kv_precision=None, engine=DEFAULT_ENGINE,
            bandwidth_utilization=None, compute_utilization=None) -> StepTime:
    """The roofline terms of the prefill of ``batch`` prompts of ``prompt_tokens`` tokens: arithmetic
    of B * P tokens (causal average, equation 1), one read of the weights plus writing the KV cache."""
    model = _resolve_model(model)
    device = _resolve_device(gpu)
    precision = check_precision(precision)
    kvp = choice("kv_precision", kv_precision or _kv_default(precision), KV_PRECISIONS)
    b = np.asarray(whole("batch", batch), dtype=float)
    p = np.asarray(whole("prompt_tokens", prompt_tokens), dtype=float)
    k = np.asarray(_check_gpus(device, gpus), dtype=float)
    # one prompt length picks its regime's band; a sweep over lengths takes the short-prompt band
    u_b, u_c = _utilizations(engine, bandwidth_utilization, compute_utilization, device, precision,
                             float(p) if p.ndim == 0 else None)
    return _roofline_step(_prefill_terms(model, device, precision, b, p, k, kvp, engine), k,
                          effective_peak_flops(device, precision, engine), device.bandwidth_bytes_s, u_b, u_c)


def prefill_time_s(model, gpu, precision, batch, prompt_tokens, gpus=1, **kwargs):
    """Seconds to run the prompts through the model: the time to first token of a static batch."""
    return _f(prefill(model, gpu, precision, batch, prompt_tokens, gpus, **kwargs).total_s)


def _f(x):
    if type(x) is float:  # the scalar call shape: already a plain float
        return x
    return float(x) if np.ndim(x) == 0 else np.asarray(x, dtype=float)


def decode_arithmetic_intensity(model, precision, batch, context, *, kv_precision=None, engine=DEFAULT_ENGINE):
    """FLOP per byte of memory traffic of a decode step: B x FLOPs/token / (weights + B x KV bytes).
    Below a device's ridge point (peak / bandwidth) the step is memory-bound (Williams et al. 2009)."""
    model = _resolve_model(model)
    kvp = choice("kv_precision", kv_precision or _kv_default(precision), KV_PRECISIONS)
    b = np.asarray(whole("batch", batch), dtype=float)
    flops = b * decode_flops_per_token(model, context)
    traffic = weights_read_bytes(model, precision, b, engine=engine) + b * kv_bytes_per_sequence(model, context, kvp)
    return _f(flops / traffic)


def prefill_arithmetic_intensity(model, precision, batch, prompt_tokens, *, kv_precision=None, engine=DEFAULT_ENGINE):
    """FLOP per byte of a prefill: B x P tokens of arithmetic over one weight read plus the KV written."""
    model = _resolve_model(model)
    kvp = choice("kv_precision", kv_precision or _kv_default(precision), KV_PRECISIONS)
    b = np.asarray(whole("batch", batch), dtype=float)
    p = np.asarray(whole("prompt_tokens", prompt_tokens), dtype=float)
    flops = b * p * flops_per_token(model, p)
    traffic = weights_read_bytes(model, precision, b * p, engine=engine) + b * kv_bytes_per_sequence(model, p, kvp)
    return _f(flops / traffic)


def attainable_flops(gpu, precision, intensity):
    """The roofline: min(peak, intensity x bandwidth) in FLOP/s at a weight format's compute peak."""
    device = _resolve_device(gpu)
    i = positive("intensity", intensity)
    return _f(np.minimum(effective_peak_flops(device, precision), np.asarray(i) * device.bandwidth_bytes_s))


def compute_bound_batch(model, gpu, precision, context, gpus=1, *, kv_precision=None, engine=DEFAULT_ENGINE,
                        bandwidth_utilization=None, compute_utilization=None) -> float:
    """Smallest batch at which a decode step turns compute-bound (inf if the KV cache keeps it
    memory-bound at every batch). Solves B F / (P u_c) = (W + B kv) / (BW u_b) for B (dense model)."""
    model = _resolve_model(model)
    device = _resolve_device(gpu)
    kvp = choice("kv_precision", kv_precision or _kv_default(precision), KV_PRECISIONS)
    u_b, u_c = _utilizations(engine, bandwidth_utilization, compute_utilization, device, precision)
    peak = effective_peak_flops(device, precision, engine) * u_c
    bw = device.bandwidth_bytes_s * u_b
    w = weights_read_bytes(model, precision, 10**6, engine=engine)
    per_seq = decode_flops_per_token(model, context) / peak - kv_bytes_per_sequence(model, context, kvp) / bw
    if per_seq <= 0:
        return float("inf")
    return float(np.ceil((w / bw) / per_seq))


# --------------------------------------------------------------------------------------------
# Calibration against published measurements
# --------------------------------------------------------------------------------------------
METRICS = (
    "decode_tokens_per_s_per_sequence",  # 1 / time per output token (batch-1 generation speed)
    "output_tokens_per_s_per_gpu",  # batch * output tokens / request time / GPUs (throughput tables)
    "ttft_s",  # time to first token (prefill)
    "prefill_tokens_per_s",  # prompt tokens processed per second (llama.cpp pp512)
)

BENCHMARK_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("model_id"),
        Column("gpu_id"),
        Column("gpus", "int", positive=True),
        Column("engine", required=True),
        Column("engine_id"),
        Column("engine_class", choices=ENGINE_CLASSES),
        Column("precision"),
        Column("kv_precision", choices=KV_PRECISIONS),
        Column("batch", "int", positive=True),
        Column("prompt_tokens", "int", positive=True),
        Column("output_tokens", "int", positive=True),
        Column("metric", choices=METRICS),
        Column("value", "float", positive=True),
        Column("calibrate", "bool"),
        SOURCE,
        AS_OF,
        NOTES,
    ),
    row_checks=(
        lambda r: None if r["model_id"] in models() else f"model_id: {r['model_id']!r} is not in models.csv",
        lambda r: None if r["gpu_id"] in devices() else f"gpu_id: {r['gpu_id']!r} is not in hardware.csv",
        lambda r: None if (r["precision"] in weight_formats() or r["precision"] in FORMAT_ALIASES)
        else f"precision: {r['precision']!r} is not in weight_formats.csv",
        lambda r: None if r["engine_id"] in engines() else f"engine_id: {r['engine_id']!r} is not in engines.csv",
    ),
)


@dataclass(frozen=True)
class Benchmark:
    """One published measurement (a row of ``inference_benchmarks.csv``)."""

    id: str
    model_id: str
    gpu_id: str
    gpus: int
    engine: str
    engine_id: str
    engine_class: str
    precision: str
    kv_precision: str
    batch: int
    prompt_tokens: int
    output_tokens: int
    metric: str
    value: float
    calibrate: bool
    source: str
    as_of: str
    notes: str = ""

    @property
    def engine_version(self):
        """The engine release the case ran (parsed from ``engine``: "TensorRT-LLM v0.6.1" -> (0, 6, 1)), or None."""
        return engine_release(self.engine)

    @property
    def kind(self) -> str:
        """Which efficiency the case calibrates: 'compute' (prefill) or 'bandwidth' (decode)."""
        return "compute" if self.metric in ("ttft_s", "prefill_tokens_per_s") else "bandwidth"


@lru_cache(maxsize=1)
def benchmarks() -> tuple[Benchmark, ...]:
    """All published inference measurements (validated once)."""
    out = []
    for r in load_csv("inference_benchmarks.csv", BENCHMARK_SCHEMA):
        fields = {k: v for k, v in r.items() if not k.startswith("_")}
        fields["as_of"] = r["as_of"].isoformat()
        fields["notes"] = r["notes"] or ""
        out.append(Benchmark(**fields))
    return tuple(out)


@lru_cache(maxsize=None)
def _case_terms(case: Benchmark) -> tuple[StepTime, StepTime]:
    """Prefill and mean-context decode terms of a case at 100% efficiency (compute time scales as
    1/u_compute and memory time as 1/u_bandwidth, so any efficiency follows without recomputing)."""
    kw = dict(kv_precision=case.kv_precision, engine=case.engine_id, bandwidth_utilization=1.0,
              compute_utilization=1.0)
    args = (case.model_id, case.gpu_id, case.precision)
    pre = prefill(*args, case.batch, case.prompt_tokens, case.gpus, **kw)
    dec = decode_step(*args, case.batch, case.prompt_tokens + case.output_tokens / 2.0, case.gpus, **kw,
                      engine_version=case.engine_version)
    return pre, dec


def _time(step: StepTime, u_b: float, u_c: float) -> float:
    return max(step.compute_s / u_c + step.kv_s / u_b, step.memory_s / u_b) + step.communication_s + step.overhead_s


def predict_metric(case: Benchmark, bandwidth_utilization: float, compute_utilization: float) -> float:
    """What equation (2) predicts for a benchmark's metric at the given efficiencies."""
    u_b = fraction("bandwidth_utilization", bandwidth_utilization)
    u_c = fraction("compute_utilization", compute_utilization)
    return _predict(case, u_b, u_c)


def _predict(case: Benchmark, u_b: float, u_c: float) -> float:
    pre, dec = _case_terms(case)
    return _predict_terms(case, pre, dec, u_b, u_c)


def _predict_terms(case: Benchmark, pre: StepTime, dec: StepTime, u_b: float, u_c: float) -> float:
    ttft = _time(pre, u_b, u_c)
    if case.metric == "ttft_s":
        return ttft
    if case.metric == "prefill_tokens_per_s":
        return case.batch * case.prompt_tokens / ttft
    tpot = _time(dec, u_b, u_c)
    if case.metric == "decode_tokens_per_s_per_sequence":
        return 1.0 / tpot
    latency = ttft + (case.output_tokens - 1) * tpot
    return case.batch * case.output_tokens / latency / case.gpus


UTILIZATION_SEARCH = (0.005, 1.5)
"""Range searched for an implied efficiency; above 1 means the measurement beats the roofline."""


def implied_utilization(case: Benchmark, other: float) -> float:
    """The efficiency (bandwidth for decode cases, compute for prefill cases) at which equation (2)
    reproduces the measurement, holding the other efficiency at ``other``: bisection in log space
    on a monotone function. Values above 1 (up to 1.5) mean the measurement is faster than the
    roofline at that efficiency allows. Cached: the leave-one-out back-tests ask for the same
    (case, other) pair in every fold whose fit the left-out case does not move."""
    return _implied_utilization(case, float(other))


@lru_cache(maxsize=None)
def _implied_utilization(case: Benchmark, other: float) -> float:
    lo, hi = np.log(UTILIZATION_SEARCH[0]), np.log(UTILIZATION_SEARCH[1])
    solve_for = calibrates(case) or case.kind
    faster_with_u = case.metric != "ttft_s"
    pre, dec = _case_terms(case)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        u = float(np.exp(mid))
        v = _predict_terms(case, pre, dec, other, u) if solve_for == "compute" else _predict_terms(case, pre, dec, u, other)
        too_slow = v < case.value if faster_with_u else v > case.value
        if too_slow:
            lo = mid
        else:
            hi = mid
    return float(np.exp(0.5 * (lo + hi)))


@dataclass(frozen=True)
class EfficiencyBands:
    """Calibrated efficiencies of one engine class, with the cases behind them."""

    engine: str
    bandwidth: Band
    compute: Band
    bandwidth_cases: tuple[str, ...]
    compute_cases: tuple[str, ...]
    compute_borrowed_from: str = ""


PRIOR_BANDWIDTH_UTILIZATION = 0.8
"""Starting value for the decode efficiency while the prefill efficiency is fitted (the fit is
then iterated); a common rule of thumb for achieved/peak HBM bandwidth in streaming kernels."""


BAND_QUANTILES = (0.1, 0.9)
"""An engine's band is the split-conformal 80% interval of its cases' implied efficiencies
(:func:`_band`); the mid is the median. An engine with fewer than :data:`BAND_MIN_CASES` decode
cases takes its family's band, widened."""
BAND_MIN_CASES = 5
SLICE_MIN_CASES = 9
"""Cases a slice of an engine (:func:`bandwidth_slice`, :func:`compute_slice`) needs for a band of its own: the
fewest from which the order-statistic band claims 80% (:func:`band_nominal_coverage`: 8 of 10 at n = 9). An
engine's own band starts at :data:`BAND_MIN_CASES`; a slice, already inside an engine that has one, waits until
its band can claim what the engine-level goal asks."""


def _band(values) -> Band:
    """The band of implied efficiencies: the order statistics a split-conformal 80% interval takes
    (the floor(0.1 (n + 1))-th smallest and the ceil(0.9 (n + 1))-th smallest of n values; min and
    max below 9 cases), so a new case like them falls inside with the probability
    :func:`band_nominal_coverage` gives for n (80% and above from 9 cases; less below: Vovk et al.
    2005, "Algorithmic Learning in a Random World", ch. 2; Lei et al. 2018, JASA 113:1094)."""
    v = np.sort(np.minimum(np.asarray(values, dtype=float), 1.0))
    n = v.size
    lo_i = max(int(np.floor(BAND_QUANTILES[0] * (n + 1))) - 1, 0)
    hi_i = min(int(np.ceil(BAND_QUANTILES[1] * (n + 1))) - 1, n - 1)
    return Band(float(v[lo_i]), float(np.median(v)), float(v[hi_i]))


def band_nominal_coverage(n: int) -> float:
    """The coverage the order-statistic band of :func:`_band` claims for ``n`` cases: with the r-th and
    s-th smallest of n exchangeable values as its ends, a new value falls between them with probability
    (s - r) / (n + 1) (Wilks 1941). 80% needs at least 9 cases; 5 cases give 4/6 = 67%, 12 give 85%."""
    n = int(n)
    if n < 2:
        return 0.0
    r = max(int(np.floor(BAND_QUANTILES[0] * (n + 1))), 1)
    s = min(int(np.ceil(BAND_QUANTILES[1] * (n + 1))), n)
    return float(s - r) / (n + 1)


LATENCY_BOUND_STEP_S = 1.5e-3
"""A decode step whose weights and KV cache stream in less than this at the datasheet bandwidth (and full
compute) is bound by its kernels' fixed latencies, not by bandwidth: a step runs hundreds of kernels (about a
dozen per layer, more with mixture-of-experts routing), each taking a few microseconds however little it reads.
Such a case calibrates nothing (it stays in the back-test), and an estimate below it says so. The published
cases show the break: every batch-1 decode case that streams in under 1.3 ms (TinyLlama on an RTX 4090 with
ExLlamaV2, gpt-oss-20b on an H100 and a B200 with vLLM) ran :data:`LATENCY_BOUND_SLOWDOWN` times slower than its
engine's bandwidth band predicts, those from 1.7 ms up within or near the bands' spread
(``inference_benchmarks.csv``, 2026-12)."""


LATENCY_BOUND_SLOWDOWN = (1.6, 6.1)
"""Range of (leave-one-out prediction / published speed) over the catalog's decode cases shorter than
:data:`LATENCY_BOUND_STEP_S`, rounded to 0.1 (a test recomputes it from :func:`engine_backtest`)."""


def latency_bound_warnings(step_s: float) -> tuple[str, ...]:
    """A warning when a decode step at the band's fastest is shorter than :data:`LATENCY_BOUND_STEP_S`: such
    steps are set by kernel latencies, and the published ones ran slower than any bandwidth band predicts."""
    if not step_s < LATENCY_BOUND_STEP_S:
        return ()
    lo, hi = LATENCY_BOUND_SLOWDOWN
    return (f"decode step {step_s * 1e3:.2g} ms at the band's fastest: under {LATENCY_BOUND_STEP_S * 1e3:g} ms a step is "
            f"set by its kernels' fixed latencies, not by bandwidth, and the published cases that short ran {lo:g}-{hi:g}x "
            "slower than predicted: time per token and throughput here are optimistic",)


@lru_cache(maxsize=None)
def calibrates(case: Benchmark) -> str | None:
    """Which efficiency a case calibrates: the resource that bounds most of its time at full
    efficiency. A batch-1 short prompt is memory-bound and mostly fixed latency, so it calibrates
    nothing (it stays in the back-test); so does a decode step shorter than
    :data:`LATENCY_BOUND_STEP_S` at full efficiency; a large-batch decode can be compute-bound; a
    throughput run with long prompts spends most of its time in compute-bound prefill. Rows marked
    ``calibrate=false`` calibrate nothing."""
    if not case.calibrate:
        return None
    pre, dec = _case_terms(case)
    if case.metric in ("ttft_s", "prefill_tokens_per_s"):
        return "compute" if pre.bound == "compute" else None
    if case.metric == "decode_tokens_per_s_per_sequence":
        if max(float(dec.memory_s), float(dec.compute_s)) < LATENCY_BOUND_STEP_S:
            return None
        return "compute" if dec.bound == "compute" else "bandwidth"
    steps = case.output_tokens - 1
    pc, pm = _bound_seconds(pre)
    dc, dm = _bound_seconds(dec)
    return "compute" if pc + steps * dc > pm + steps * dm else "bandwidth"


def _bound_seconds(step: StepTime) -> tuple[float, float]:
    """(compute-bound, memory-bound) seconds of a step at full efficiency: the linear layers' time goes to
    whichever of arithmetic and weight reads is longer; the attention kernels' KV traffic is memory time."""
    if step.bound == "compute":
        return float(step.compute_s), float(step.kv_s)
    return 0.0, float(step.memory_s)


def _fit(cases: tuple[Benchmark, ...], engine: str, fallback_compute: Band | None = None):
    mine = [c for c in cases if c.engine_class == engine]
    comp_cases = [c for c in mine if _short_compute(c)]
    bw_cases = [c for c in mine if calibrates(c) == "bandwidth"]
    if not bw_cases:
        return None
    u_b = PRIOR_BANDWIDTH_UTILIZATION
    compute = fallback_compute
    for _ in range(3):  # alternate: prefill efficiency at the decode mid, decode at the prefill mid
        if comp_cases:
            compute = _band([implied_utilization(c, u_b) for c in comp_cases])
        if compute is None:
            raise CostlibError(f"no prefill measurement to calibrate engine class {engine!r}")
        bandwidth = _band([implied_utilization(c, compute.mid) for c in bw_cases])
        u_b = bandwidth.mid
    return bandwidth, compute, tuple(c.id for c in bw_cases), tuple(c.id for c in comp_cases)


@lru_cache(maxsize=None)
def calibration() -> Mapping[str, EfficiencyBands]:
    """Efficiency bands per engine class: low = worst case, mid = median, high = best case of the
    implied efficiencies of that class's published measurements. A class with no prefill
    measurement borrows the optimized-server prefill band (and says so). Read from the derived file
    when it is current (see :func:`engine_bands`), else fitted (:func:`_fit_calibration`)."""
    from types import MappingProxyType

    stored = _stored_bands()
    if stored is not None:
        return MappingProxyType({k: EfficiencyBands(k, Band(*d["bandwidth"]), Band(*d["compute"]),
                                                    tuple(d["bandwidth_cases"]), tuple(d["compute_cases"]),
                                                    d["compute_borrowed_from"])
                                 for k, d in stored["classes"].items()})
    return _fit_calibration()


def _fit_calibration() -> Mapping[str, EfficiencyBands]:
    cases = benchmarks()
    out = {}
    base = _fit(cases, DEFAULT_ENGINE)
    if base is None:
        raise CostlibError("inference_benchmarks.csv has no optimized-server decode case")
    out[DEFAULT_ENGINE] = EfficiencyBands(DEFAULT_ENGINE, base[0], base[1], base[2], base[3])
    for engine in ENGINE_CLASSES:
        if engine == DEFAULT_ENGINE:
            continue
        has_prefill = any(c.engine_class == engine and calibrates(c) == "compute" for c in cases)
        fit = _fit(cases, engine, None if has_prefill else base[1])
        if fit is None:
            continue
        out[engine] = EfficiencyBands(engine, fit[0], fit[1], fit[2], fit[3], "" if has_prefill else DEFAULT_ENGINE)
    from types import MappingProxyType

    return MappingProxyType(out)


def efficiency_bands(engine: str = DEFAULT_ENGINE, gpu=None, precision: str | None = None, prompt_tokens=None):
    """Calibrated bandwidth (decode) and compute (prefill) efficiency bands of an engine class, or of
    an engine by name (:func:`engine_bands`; with ``gpu`` and ``precision``, its slice's bands)."""
    if engine not in ENGINE_CLASSES:
        return engine_bands(engine, gpu, precision, prompt_tokens)
    table = calibration()
    if engine not in table:
        raise InputError("engine", engine, "an engine class with published cases: " + ", ".join(table))
    return table[engine]


def backtest():
    """Every published case against the prediction at its engine class's mid efficiencies, in
    sample and leave-one-out (the case's own efficiency removed from the fit). A DataFrame."""
    import pandas as pd

    cases = benchmarks()
    cal = calibration()
    rows = []
    for case in cases:
        eff = cal[case.engine_class]
        pred = predict_metric(case, eff.bandwidth.mid, eff.compute.mid)
        loo = _leave_one_out(cases, case)
        other = eff.bandwidth.mid if (calibrates(case) or case.kind) == "compute" else eff.compute.mid
        rows.append(
            {
                "id": case.id,
                "model": case.model_id,
                "gpu": case.gpu_id + (f" x{case.gpus}" if case.gpus > 1 else ""),
                "engine": case.engine,
                "engine_class": case.engine_class,
                "precision": case.precision,
                "batch": case.batch,
                "in/out": f"{case.prompt_tokens}/{case.output_tokens}",
                "metric": case.metric,
                "published": case.value,
                "predicted": pred,
                "error": pred / case.value - 1.0,
                "predicted_loo": loo,
                "error_loo": loo / case.value - 1.0 if loo is not None else None,
                "implied_utilization": implied_utilization(case, other),
                "calibrates": calibrates(case) or "-",
                "source": case.source,
            }
        )
    return pd.DataFrame(rows)


def _leave_one_out(cases, case):
    rest = tuple(c for c in cases if c.id != case.id)
    engine = case.engine_class
    base = _fit(rest, DEFAULT_ENGINE)
    has_prefill = any(c.engine_class == engine and calibrates(c) == "compute" for c in rest)
    fit = base if engine == DEFAULT_ENGINE else _fit(rest, engine, None if has_prefill else base[1])
    if fit is None:
        return None
    return predict_metric(case, fit[0].mid, fit[1].mid)


# --------------------------------------------------------------------------------------------
# Estimates
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InferenceEstimate:
    """Latency, throughput and cost of serving one static batch, each a low / mid / high band."""

    ttft_s: Band
    tpot_s: Band
    tokens_per_s_per_sequence: Band
    throughput_tokens_per_s: Band
    request_latency_s: Band
    cost_per_1m_output_tokens_usd: Band | None
    cost_per_1k_requests_usd: Band | None
    cost_per_1m_input_tokens_usd: Band | None
    bound: str
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)
    mode: str = "static"

    BAND_KEYS = (
        "ttft_s",
        "tpot_s",
        "tokens_per_s_per_sequence",
        "throughput_tokens_per_s",
        "request_latency_s",
        "cost_per_1m_output_tokens_usd",
        "cost_per_1k_requests_usd",
        "cost_per_1m_input_tokens_usd",
    )

    def as_dict(self, digits: int | None = 4) -> dict:
        out = {}
        for key in self.BAND_KEYS:
            band = getattr(self, key)
            out[key] = band.as_dict(digits) if band is not None else None
        out["bound"] = self.bound
        out["mode"] = self.mode
        out["warnings"] = list(self.warnings)
        out["assumptions"] = list(self.assumptions)
        return out


def _fit_check(model, device: Device, precision, batch, context, gpus, kv_precision):
    """Raise an InputError naming the GPUs needed when the weights, KV cache, activations and
    runtime overhead (memory.inference_memory) do not fit on ``gpus`` devices."""
    mem = _memory()
    cp = compute_path(device, precision).precision  # the activation bytes memory counts (one rule)
    per_gpu = mem.inference_memory(model, precision, context, batch, kv_precision, gpus=gpus, compute_precision=cp).total_gb
    if per_gpu <= device.memory_gb:
        return
    need = mem.min_gpus(model, device, precision, context, batch, kv_precision=kv_precision, compute_precision=cp)
    held = f"with {int(batch)} sequence(s) of {int(context)} tokens " if context else "(weights and runtime only) "
    what = (f"{getattr(model, 'id', 'the model')} at {precision} {held}needs {per_gpu:.1f} GB per GPU on "
            f"{int(gpus)} x {device.id} ({device.memory_gib:g} GiB)")
    if need is None:
        raise InputError("gpus", int(gpus), f"more GPUs than any tensor-parallel split allows: {what}")
    raise InputError("gpus", int(gpus), f"at least {need}: {what}")


def estimate_inference(model, gpu, precision, batch, prompt_tokens, output_tokens, *, gpus=1, utilization=None,
                       price_usd_per_gpu_hour=None, engine=DEFAULT_ENGINE, kv_precision=None,
                       check_fit=True) -> InferenceEstimate:
    """Latency, throughput and cost for ``batch`` requests of ``prompt_tokens`` in / ``output_tokens``
    out, served together (a static batch) on ``gpus`` devices with tensor parallelism.

    Bands come from the engine class's calibrated efficiencies (low = slowest published case).
    ``utilization`` is the share of paid GPU-hours that are busy (default 1: the floor cost);
    ``price_usd_per_gpu_hour`` defaults to the catalog band for the GPU (None if it has none).
    """
    model = _resolve_model(model)
    device = _resolve_device(gpu)
    fmt = check_precision(precision)
    precision = fmt
    if engine not in ENGINE_CLASSES:
        engine = get_engine(engine).id
    kvp = choice("kv_precision", kv_precision or _kv_default(storage_precision(precision)), KV_PRECISIONS)
    b = int(whole("batch", batch))
    p = int(whole("prompt_tokens", prompt_tokens))
    o = int(whole("output_tokens", output_tokens))
    k = int(_check_gpus(device, gpus))
    check_tp_degree(model, device, k)
    util = fraction("utilization", DEFAULT_UTILIZATION if utilization is None else utilization)
    assumptions = []
    if check_fit:
        # a params-only model is checked for its weights and runtime overhead (no KV cache known)
        _fit_check(model, device, storage_precision(precision), b, p + o if _has_architecture(model) else 0, k, kvp)
    if not _has_architecture(model):
        assumptions.append("model given by parameter count only: KV cache and attention FLOPs omitted (pass --model for them)")

    eff = efficiency_bands(engine, device, precision, p)
    mean_context = p + o / 2.0
    # The scalar call shape of the step formulas: their utilization-free terms once (plain floats, inputs
    # checked above), then equation (2) at each of the three efficiency pairs.
    peak, bandwidth = effective_peak_flops(device, precision, engine), device.bandwidth_bytes_s
    kf = float(k)
    pre = _prefill_terms(model, device, precision, float(b), float(p), kf, kvp, engine)
    dec = _decode_terms(model, device, precision, float(b), mean_context, kf, kvp, engine)
    res = {}
    for name, ub, uc in (("low", eff.bandwidth.low, eff.compute.low), ("mid", eff.bandwidth.mid, eff.compute.mid),
                         ("high", eff.bandwidth.high, eff.compute.high)):
        ub, uc = fraction("bandwidth_utilization", float(ub)), fraction("compute_utilization", float(uc))
        ttft = float(_roofline_step(pre, kf, peak, bandwidth, ub, uc).total_s)
        step = _roofline_step(dec, kf, peak, bandwidth, ub, uc)
        tpot = float(step.total_s)
        latency = ttft + (o - 1) * tpot
        res[name] = dict(ttft=ttft, tpot=tpot, latency=latency, thr=b * o / latency,
                         bound=step.bound)
    slow, fast = res["low"], res["high"]  # low efficiency = slow

    def band(key, faster_is_low=True):
        if faster_is_low:  # times: low = fastest
            return Band(fast[key], res["mid"][key], slow[key])
        return Band(slow[key], res["mid"][key], fast[key])

    ttft_b, tpot_b, lat_b = band("ttft"), band("tpot"), band("latency")
    per_seq = tpot_b.map(lambda t: 1.0 / t, decreasing=True)
    thr_b = band("thr", faster_is_low=False)

    price, price_note = _price_band(device, price_usd_per_gpu_hour)
    cost_out = cost_req = cost_in = None
    if price is not None:
        cost_out = cost_per_million_tokens(thr_b, price, util, gpus=k)
        # per request: the GPU time of a request's share of the batch
        usd_per_s = Band(price.low * k / SECONDS_PER_HOUR / util, price.mid * k / SECONDS_PER_HOUR / util,
                         price.high * k / SECONDS_PER_HOUR / util)
        cost_req = Band(usd_per_s.low * lat_b.low / b * 1000, usd_per_s.mid * lat_b.mid / b * 1000,
                        usd_per_s.high * lat_b.high / b * 1000)
        prompt_thr = Band(b * p / ttft_b.high, b * p / ttft_b.mid, b * p / ttft_b.low)
        cost_in = cost_per_million_tokens(prompt_thr, price, util, gpus=k)

    cp = compute_precision(device, precision)
    assumptions += [
        f"engine {engine}: decode bandwidth efficiency {eff.bandwidth.low:.2f}-{eff.bandwidth.high:.2f} "
        f"(mid {eff.bandwidth.mid:.2f}), prefill compute efficiency {eff.compute.low:.2f}-{eff.compute.high:.2f} "
        f"(mid {eff.compute.mid:.2f}), "
        + (f"bands from {eff.describe()}" if isinstance(eff, EngineBands) else
           f"calibrated on {len(eff.bandwidth_cases) + len(eff.compute_cases)} published cases"
           + (f" (prefill band borrowed from {eff.compute_borrowed_from})" if eff.compute_borrowed_from else "")),
        f"static batch of {b}: all prompts prefilled together, then {o} decode steps at mean context {mean_context:g}",
        f"weights {precision} computed at the {device.id} {cp} dense peak "
        f"({device.peak_tflops(cp):g} TFLOP/s); KV cache {kvp}; memory bandwidth {device.bandwidth_gb_s:g} GB/s",
        f"cost per 1M output tokens charges all GPU time (prefill included) to output tokens; "
        f"cost per 1M input tokens charges only prefill time to prompt tokens",
        f"utilization {util:g} of paid GPU-hours busy" + (" (default: the floor cost)" if utilization is None else ""),
        price_note,
    ]
    if k > 1:
        assumptions.append(
            f"tensor parallelism over {k} GPUs: {ALLREDUCES_PER_LAYER} all-reduces per layer over "
            f"{device.interconnect_gb_s:g} GB/s (both directions), {ALLREDUCE_LATENCY_S * 1e6:g} us latency each"
        )
    return InferenceEstimate(
        ttft_s=ttft_b,
        tpot_s=tpot_b,
        tokens_per_s_per_sequence=per_seq,
        throughput_tokens_per_s=thr_b,
        request_latency_s=lat_b,
        cost_per_1m_output_tokens_usd=cost_out,
        cost_per_1k_requests_usd=cost_req,
        cost_per_1m_input_tokens_usd=cost_in,
        bound=str(res["mid"]["bound"]),
        assumptions=tuple(a for a in assumptions if a),
        warnings=latency_bound_warnings(tpot_b.low),
    )


def _price_band(device: Device, price_usd_per_gpu_hour):
    if price_usd_per_gpu_hour is not None:
        if isinstance(price_usd_per_gpu_hour, Band):
            return price_usd_per_gpu_hour, "price: given band $/GPU-hour"
        value = positive("price_usd_per_gpu_hour", price_usd_per_gpu_hour)
        return Band.point(value), f"price ${value:g}/GPU-hour (given)"
    band = _catalog_price_band(device.id)
    if band is None:
        return None, f"no catalog price for {device.id}: costs are null (pass a price)"
    return band, f"price ${band.low:g}-{band.high:g}/GPU-hour (catalog on-demand offers)"


@lru_cache(maxsize=None)
def _catalog_price_band(device_id: str) -> Band | None:
    """The catalog's on-demand band for a device (prices.gpu_price_band), looked up once per process
    (the price catalog is itself read once); None when the catalog has no recent offer for it."""
    from .prices import gpu_price_band

    try:
        return gpu_price_band(device_id)
    except InputError:
        return None


def cost_per_million_tokens(throughput_tokens_per_s, price_usd_per_gpu_hour, utilization=DEFAULT_UTILIZATION, *,
                            gpus=1) -> Band:
    """Dollars per 1M tokens: price x GPUs / (3600 x throughput x utilization) x 1e6.

    ``utilization`` is the share of paid hours the GPUs are busy at that throughput. Any of
    throughput, price and utilization may be a Band; low pairs the cheapest price with the
    highest throughput and utilization.
    """
    thr = throughput_tokens_per_s if isinstance(throughput_tokens_per_s, Band) else Band.point(
        positive("throughput_tokens_per_s", throughput_tokens_per_s))
    price = price_usd_per_gpu_hour if isinstance(price_usd_per_gpu_hour, Band) else Band.point(
        positive("price_usd_per_gpu_hour", price_usd_per_gpu_hour))
    util = utilization if isinstance(utilization, Band) else Band.point(fraction("utilization", utilization))
    for v in util:
        fraction("utilization", v)
    k = whole("gpus", gpus)

    def one(pr, th, ut):
        return pr * k / SECONDS_PER_HOUR / (th * ut) * 1e6

    return Band(one(price.low, thr.high, util.high), one(price.mid, thr.mid, util.mid), one(price.high, thr.low, util.low))


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------
def max_batch(model, gpu, precision, context, gpus=1, *, kv_precision=None) -> int:
    """Largest batch whose weights, KV cache and working set fit on ``gpus`` devices (memory.max_batch)."""
    model = _resolve_model(model)
    device = _resolve_device(gpu)
    kvp = kv_precision or _kv_default(precision)
    return int(_memory().max_batch(model, device, precision, int(context), gpus=int(gpus), kv_precision=kvp))


def batch_sweep(model, gpu, precision, batches, prompt_tokens, output_tokens, gpus=1, *, engine=DEFAULT_ENGINE,
                kv_precision=None):
    """Per-token latency and aggregate throughput against batch size at the mid efficiencies, with
    the bound and whether the batch fits in memory. A DataFrame, one row per batch."""
    import pandas as pd

    model = _resolve_model(model)
    b = np.asarray(whole("batch", batches), dtype=float)
    p = int(whole("prompt_tokens", prompt_tokens))
    o = int(whole("output_tokens", output_tokens))
    kvp = kv_precision or _kv_default(precision)
    step = decode_step(model, gpu, precision, b, p + o / 2.0, gpus, kv_precision=kvp, engine=engine)
    ttft = prefill_time_s(model, gpu, precision, b, p, gpus, kv_precision=kvp, engine=engine)
    tpot = np.asarray(step.total_s, dtype=float)
    latency = ttft + (o - 1) * tpot
    cap = max_batch(model, gpu, precision, p + o, gpus, kv_precision=kvp)
    return pd.DataFrame(
        {
            "batch": b.astype(int),
            "tpot_ms": tpot * 1e3,
            "tokens_per_s_per_sequence": 1.0 / tpot,
            "decode_tokens_per_s": b / tpot,
            "throughput_tokens_per_s": b * o / latency,
            "bound": np.broadcast_to(step.bound, b.shape),
            "fits": b <= cap,
        }
    )


# --------------------------------------------------------------------------------------------
# Weight formats as served (data/weight_formats.csv)
# --------------------------------------------------------------------------------------------
FORMAT_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("name"),
        Column("storage", choices=PRECISIONS),
        Column("bits_per_weight", "float", positive=True, unit="bits"),
        Column("compute", choices=("native", "weight-only")),
        Column("native_precision", required=False),
        Column("quantize_embeddings", "bool"),
        SOURCE,
        AS_OF,
        NOTES,
    ),
    row_checks=(lambda r: None if 1.0 <= r["bits_per_weight"] <= 32.0 else
                "bits_per_weight: between 1 and 32 bits",),
)


@dataclass(frozen=True)
class WeightFormat:
    """A weight format as served: stored bits per weight (scales included) and its compute path."""

    id: str
    name: str
    storage: str
    bits_per_weight: float
    compute: str
    native_precision: str | None
    quantize_embeddings: bool
    source: str
    as_of: str
    notes: str = ""


@lru_cache(maxsize=1)
def weight_formats() -> Mapping[str, WeightFormat]:
    """All served weight formats by id (the legacy precisions fp16, bf16, fp8, int8, int4 included)."""
    from types import MappingProxyType

    return MappingProxyType({f.id: f for f in records("weight_formats.csv", FORMAT_SCHEMA, WeightFormat)})


FORMAT_ALIASES = {"q4_0": "gguf-q4_0", "q4_k_m": "gguf-q4_k_m", "q5_k_m": "gguf-q5_k_m", "q8_0": "gguf-q8_0",
                  "awq": "awq-int4", "gptq": "gptq-int4", "nf4": "bnb-nf4"}
"""Short names accepted for served formats (``--precision q4_k_m``)."""


def get_format(precision: str) -> WeightFormat:
    """A weight format by id or short alias; an unknown one lists them."""
    table = weight_formats()
    key = FORMAT_ALIASES.get(precision, precision) if isinstance(precision, str) else precision
    if key not in table:
        raise InputError("precision", precision, "one of " + ", ".join(list(table) + list(FORMAT_ALIASES)))
    return table[key]


def check_precision(precision: str) -> str:
    """The canonical id of a weight format (legacy precisions pass unchanged)."""
    return get_format(precision).id


def storage_precision(precision: str) -> str:
    """The costlib.memory precision a served format is stored as (``gguf-q4_k_m`` -> ``int4``)."""
    return get_format(precision).storage


def format_table():
    """The served weight formats as a DataFrame (bits per weight, compute path, source)."""
    import pandas as pd

    return pd.DataFrame([{"format": f.name, "id": f.id, "bits per weight": f.bits_per_weight,
                          "compute path": f.compute + (f" ({f.native_precision})" if f.native_precision else ""),
                          "embeddings quantized": f.quantize_embeddings, "source": f.source, "as of": f.as_of}
                         for f in weight_formats().values()])


# --------------------------------------------------------------------------------------------
# Engines by name (data/engines.csv) and their calibration
# --------------------------------------------------------------------------------------------
ENGINE_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("name"),
        Column("family", choices=ENGINE_CLASSES),
        Column("backend", choices=("cuda", "metal", "cpu", "rocm")),
        Column("overhead", choices=("graph", "eager")),
        Column("continuous_batching", "bool"),
        Column("version"),
        SOURCE,
        AS_OF,
        NOTES,
    ),
)


@dataclass(frozen=True)
class Engine:
    """A serving engine by name: its family (engine class), backend, per-step overhead kind, version."""

    id: str
    name: str
    family: str
    backend: str
    overhead: str
    continuous_batching: bool
    version: str
    source: str
    as_of: str
    notes: str = ""


@lru_cache(maxsize=1)
def engines() -> Mapping[str, Engine]:
    """Engines by id (loaded once)."""
    from types import MappingProxyType

    return MappingProxyType({e.id: e for e in records("engines.csv", ENGINE_SCHEMA, Engine)})


ENGINE_ALIASES = {"trt-llm": "tensorrt-llm", "tensorrt_llm": "tensorrt-llm", "trtllm": "tensorrt-llm",
                  "transformers": "hf-transformers", "llamacpp": "llama.cpp-cuda", "text-generation-inference": "tgi"}
"""Other spellings accepted for engine names. The engine classes of earlier versions
(optimized-server, hf-transformers, llama.cpp) stay accepted and use their class's band."""

CALIBRATED_WITH = {"nim": "tensorrt-llm"}
"""Engines calibrated on another engine's cases: NIM LLM containers run TensorRT-LLM engines."""


def engine_names() -> tuple[str, ...]:
    return tuple(engines()) + tuple(c for c in ENGINE_CLASSES if c not in engines())


def get_engine(engine: str) -> Engine:
    """An engine by name or alias; an engine class name gives a family pseudo-engine."""
    table = engines()
    key = ENGINE_ALIASES.get(engine, engine) if isinstance(engine, str) else engine
    if key in table:
        return table[key]
    if key in ENGINE_CLASSES:
        return Engine(key, f"engine class {key}", key, "cuda", "graph" if key == DEFAULT_ENGINE else "eager", True,
                      "-", "inference_benchmarks.csv", AS_OF_CLASSES, "family band (all engines of the class)")
    raise InputError("engine", engine, "one of " + ", ".join(engine_names()))


AS_OF_CLASSES = "2025-01-15"

FAMILY_WIDENING = 1.25
"""An engine with fewer than :data:`BAND_MIN_CASES` decode cases of its own uses its family's band
widened by this factor at each end (low / 1.25, high x 1.25, capped at 1): thin evidence, wider band."""


@dataclass(frozen=True)
class BandSlice:
    """The band of one slice of an engine's cases (:func:`bandwidth_slice` or :func:`compute_slice`)."""

    key: str
    band: Band
    cases: tuple[str, ...]


@dataclass(frozen=True)
class EngineBands:
    """Calibrated efficiencies of one engine by name, and where they came from.

    ``bandwidth`` and ``compute`` are the whole engine's bands; ``bandwidth_slices`` and
    ``compute_slices`` hold the bands of the slices with at least :data:`SLICE_MIN_CASES` cases of their
    own, and :meth:`at` picks the one a device and weight format fall in. An instance returned by
    :meth:`at` names its slices in ``bandwidth_slice`` / ``compute_slice`` ("" = the whole engine)."""

    engine: str
    bandwidth: Band
    compute: Band
    cases: int
    fallback: str = ""  # the family whose decode band is used, when the engine has too few decode cases
    bandwidth_cases: tuple[str, ...] = ()
    compute_cases: tuple[str, ...] = ()
    compute_fallback: str = ""  # the family whose prefill band is used, when the engine has too few prefill cases
    bandwidth_slices: tuple[BandSlice, ...] = ()
    compute_slices: tuple[BandSlice, ...] = ()
    bandwidth_slice: str = ""
    compute_slice: str = ""

    @property
    def compute_borrowed_from(self) -> str:
        return self.compute_fallback

    def at(self, gpu, precision: str, prompt_tokens=None) -> "EngineBands":
        """The bands for ``precision`` weights on ``gpu``: each efficiency from the finest slice that device
        and format fall in with a band of its own (:func:`bandwidth_slice`: memory class and compute path,
        then memory class alone; :func:`compute_slice`; a prompt longer than :data:`LONG_PROMPT_TOKENS` takes
        the long-prompt slice when the engine has one), else the whole engine's band."""
        return self._at(gpu, precision, is_long_prompt(prompt_tokens))

    def _at(self, gpu, precision: str, long_prompt: bool) -> "EngineBands":
        if not (self.bandwidth_slices or self.compute_slices):
            return self
        bw_keys = bandwidth_slice_keys(gpu, precision)
        comp_keys = ((LONG_PROMPT_SLICE,) if long_prompt else ()) + (compute_slice(gpu, precision),)
        bw = next((s for k in bw_keys for s in self.bandwidth_slices if s.key == k), None)
        comp = next((s for k in comp_keys for s in self.compute_slices if s.key == k), None)
        if bw is None and comp is None:
            return self
        return replace(self, bandwidth=bw.band if bw else self.bandwidth, compute=comp.band if comp else self.compute,
                       compute_fallback="" if comp else self.compute_fallback,
                       bandwidth_cases=bw.cases if bw else self.bandwidth_cases,
                       compute_cases=comp.cases if comp else self.compute_cases,
                       bandwidth_slice=bw.key if bw else "", compute_slice=comp.key if comp else "")

    def describe(self) -> str:
        """Where the bands come from, in words: "own cases" or the family, and the slice of each."""
        def part(name, fallback, key, n):
            if fallback:
                return f"{name}: {fallback} family band, widened"
            return f"{name}: {n} cases" + (f" on {key}" if key else "")
        return "; ".join((part("decode", self.fallback, self.bandwidth_slice, len(self.bandwidth_cases)),
                          part("prefill", self.compute_fallback, self.compute_slice, len(self.compute_cases))))


POOLED_FALLBACK = "all engines"
"""The fallback of an engine class with fewer than :data:`BAND_MIN_CASES` decode cases and no wider
family (hf-transformers): its own median, with the relative spread of the band of every engine's cases
(:func:`_recentre`), widened."""


def bandwidth_slice(gpu, precision: str) -> str:
    """The slice of an engine's decode (bandwidth) cases a device and weight format belong to: the
    device's memory class (``hardware.csv``: hbm, gddr, dram) and the format's compute path there
    (:func:`compute_slice`). Why both: llama.cpp's CUDA decode reaches 80-96% of the peak on GDDR cards
    but 41-61% on HBM ones in the same benchmark suite and builds (the ``xd-llamacpp-*`` cases), and a
    kernel that unpacks 4-bit weights does more arithmetic per byte than one that streams 16-bit weights.

    >>> bandwidth_slice("a100-80gb", "gguf-q4_k_m"), bandwidth_slice("rtx-4090", "fp16")
    ('hbm, weight-only', 'gddr, native 16-bit')
    """
    device = _resolve_device(gpu)
    return f"{device.memory_class}, {compute_slice(device, precision)}"


def bandwidth_slice_keys(gpu, precision: str) -> tuple[str, str]:
    """The decode slices a device and format fall in, finest first: memory class and compute path
    (:func:`bandwidth_slice`), then memory class alone."""
    return bandwidth_slice(gpu, precision), _resolve_device(gpu).memory_class


NATIVE_SLICE_NAMES = {"fp16": "16-bit", "bf16": "16-bit"}
"""Native compute precisions that share a slice: FP16 and BF16 run at the same tensor peak."""


LONG_PROMPT_TOKENS = 8192
"""Prompts longer than this are a prefill regime of their own: a continuous-batching server runs them in chunks
of its step budget (vLLM's default ``max_num_batched_tokens``, :data:`costlib.memory.PREFILL_CHUNK_TOKENS`), and
attention is a third or more of their FLOPs. The same 32,000-token BF16 prefills imply a compute efficiency of
about 0.32 on an H100 and 0.59 on an A100 (GPUStack, vLLM and TensorRT-LLM, 2025-2026), far from what short
prompts reach; costlib has one efficiency for attention and matrix multiplications, so long prompts get a
slice of their own (:data:`LONG_PROMPT_SLICE`) and never set the band of short ones."""

LONG_PROMPT_SLICE = "long prompt"


def is_long_prompt(prompt_tokens) -> bool:
    """Whether a prompt is in the long-prompt prefill regime (:data:`LONG_PROMPT_TOKENS`)."""
    return prompt_tokens is not None and float(prompt_tokens) > LONG_PROMPT_TOKENS


def _short_compute(c) -> bool:
    return calibrates(c) == "compute" and not is_long_prompt(c.prompt_tokens)


def _long_compute(c) -> bool:
    return calibrates(c) == "compute" and is_long_prompt(c.prompt_tokens)


def compute_slice(gpu, precision: str) -> str:
    """The slice of an engine's prefill (compute) cases: the format's compute path on the device
    (:func:`compute_path`): native math at its precision ("native 16-bit", "native fp8", ...), or
    weight-only (dequantize, then multiply at 16 bits). TensorRT-LLM v0.9's FP8 cases on Hopper reach a
    smaller share of their doubled peak than its FP16 cases on an A100 do of theirs.

    >>> compute_slice("h100-sxm", "fp8"), compute_slice("a100-80gb", "fp8"), compute_slice("a100-80gb", "bf16")
    ('native fp8', 'weight-only', 'native 16-bit')
    """
    cp = compute_path(gpu, precision)
    if cp.kind != "native":
        return cp.kind
    return "native " + NATIVE_SLICE_NAMES.get(cp.precision, cp.precision)


def _recentre(band: Band, mid: float) -> Band:
    """``band``'s spread (low / mid and high / mid) around another ``mid`` (capped at 1)."""
    return Band(mid * band.low / band.mid, mid, max(mid, min(1.0, mid * band.high / band.mid)))


def _engine_cases(cases, engine_id):
    target = CALIBRATED_WITH.get(engine_id, engine_id)
    return tuple(c for c in cases if c.engine_id == target)


def _widen(band: Band) -> Band:
    lo = band.low / FAMILY_WIDENING
    hi = min(1.0, band.high * FAMILY_WIDENING)
    return Band(lo, band.mid, max(hi, band.mid))


def _slices(cases, keys, other_mid) -> tuple[BandSlice, ...]:
    """Bands of the slices (every key in ``keys(case)``) with at least :data:`SLICE_MIN_CASES` cases and
    fewer than all of ``cases`` (a slice holding every case is the whole band), each case's efficiency
    implied with the other efficiency at ``other_mid(case)``."""
    groups: dict[str, list] = {}
    for c in cases:
        for k in keys(c):
            groups.setdefault(k, []).append(c)
    kept = {k: g for k, g in groups.items() if SLICE_MIN_CASES <= len(g) < len(cases)}
    coarse = {frozenset(c.id for c in g) for k, g in kept.items() if ", " not in k}
    return tuple(BandSlice(k, _band([implied_utilization(c, other_mid(c)) for c in g]), tuple(c.id for c in g))
                 for k, g in sorted(kept.items())
                 if ", " not in k or frozenset(c.id for c in g) not in coarse)  # a finer slice no narrower than its parent adds nothing


def _bw_keys(c):
    return bandwidth_slice_keys(c.gpu_id, c.precision)


def _comp_keys(c):
    return (compute_slice(c.gpu_id, c.precision),)


def _engine_fit(cases, engine: Engine) -> EngineBands:
    """An engine's bands from ``cases``: its own decode cases when it has :data:`BAND_MIN_CASES`,
    else its family's band widened; the same, separately, for its prefill cases; and the bands of its
    slices (:func:`bandwidth_slice`, :func:`compute_slice`) with enough cases of their own."""
    if engine.id in ENGINE_CLASSES:
        fit = _fit(cases, engine.id) if engine.id == DEFAULT_ENGINE else _fit(cases, engine.id, _fit(cases, DEFAULT_ENGINE)[1])
        if engine.id != DEFAULT_ENGINE and len(fit[2]) < BAND_MIN_CASES:
            pooled = _fit_cases([c for c in cases if calibrates(c) == "bandwidth"],
                                [c for c in cases if _short_compute(c)], None)
            bw = _recentre(pooled[0], fit[0].mid)
            comp = _recentre(pooled[1], fit[1].mid) if fit[3] else pooled[1]
            return EngineBands(engine.id, _widen(bw), _widen(comp), len(fit[2]) + len(fit[3]), POOLED_FALLBACK,
                               fit[2], fit[3], POOLED_FALLBACK)
        borrowed = "" if fit[3] or engine.id == DEFAULT_ENGINE else DEFAULT_ENGINE
        return EngineBands(engine.id, fit[0], fit[1], len(fit[2]) + len(fit[3]), "", fit[2], fit[3], borrowed)
    mine = _engine_cases(cases, engine.id)
    bw = [c for c in mine if calibrates(c) == "bandwidth"]
    comp = [c for c in mine if _short_compute(c)]
    comp_long = [c for c in mine if _long_compute(c)]
    fam_cases = tuple(c for c in cases if c.engine_class == engine.family)
    base = _fit(cases, DEFAULT_ENGINE)
    fam = _fit(fam_cases, engine.family, None if any(_short_compute(c) for c in fam_cases) else base[1])
    if len(fam[2]) < BAND_MIN_CASES:  # the family itself is thin too: the pooled band of every engine's cases
        bw_all = [c for c in cases if calibrates(c) == "bandwidth"]
        comp_all = [c for c in cases if _short_compute(c)]
        fam = _fit_cases(bw_all, comp_all, None)
        fam_name = POOLED_FALLBACK
    else:
        fam_name = engine.family
    n = len(bw) + len(comp)
    if len(bw) < BAND_MIN_CASES or fam_name == POOLED_FALLBACK:
        bw_band = _widen(fam[0])
        if len(comp) >= BAND_MIN_CASES and fam_name != POOLED_FALLBACK:  # its own prefill band
            comp_band = _band([implied_utilization(c, bw_band.mid) for c in comp])
            return EngineBands(engine.id, bw_band, comp_band, n, fam_name, fam[2], tuple(c.id for c in comp), "")
        return EngineBands(engine.id, bw_band, _widen(fam[1]), n, fam_name, fam[2], fam[3], fam_name)
    fit = _fit_cases(bw, comp, None if comp else _widen(fam[1]))  # no prefill case of its own: the family band, widened
    whole_bw, whole_comp = fit[0], fit[1]
    bw_slices = _slices(bw, _bw_keys, lambda c: whole_comp.mid)
    bw_mid = {s.key: s.band.mid for s in bw_slices}
    def finest_bw_mid(c):
        return next((bw_mid[k] for k in _bw_keys(c) if k in bw_mid), whole_bw.mid)
    comp_slices = _slices(comp, _comp_keys, finest_bw_mid) if comp else ()
    if len(comp_long) >= SLICE_MIN_CASES:  # long prompts: a slice of their own, never the short prompts' band
        comp_slices = comp_slices + (BandSlice(LONG_PROMPT_SLICE, _band([implied_utilization(c, finest_bw_mid(c))
                                                                          for c in comp_long]),
                                               tuple(c.id for c in comp_long)),)
    else:  # too few of its own: the family's long prompts (every engine of the family), widened
        fam_long = [c for c in fam_cases if _long_compute(c)]
        if len(fam_long) >= BAND_MIN_CASES:
            comp_slices = comp_slices + (BandSlice(LONG_PROMPT_SLICE, _widen(_band([implied_utilization(c, fam[0].mid)
                                                                                     for c in fam_long])),
                                                   tuple(c.id for c in fam_long)),)
    return EngineBands(engine.id, whole_bw, whole_comp, n, "", fit[2], fit[3], "" if comp else engine.family,
                       bw_slices, comp_slices)


def _fit_cases(bw_cases, comp_cases, fallback_compute):
    u_b = PRIOR_BANDWIDTH_UTILIZATION
    compute = fallback_compute
    for _ in range(3):
        if comp_cases:
            compute = _band([implied_utilization(c, u_b) for c in comp_cases])
        bandwidth = _band([implied_utilization(c, compute.mid) for c in bw_cases])
        u_b = bandwidth.mid
    return bandwidth, compute, tuple(c.id for c in bw_cases), tuple(c.id for c in comp_cases)


def engine_bands(engine: str, gpu=None, precision: str | None = None, prompt_tokens=None) -> EngineBands:
    """Decode bandwidth and prefill compute efficiency bands of an engine by name: its own published
    cases when it has at least :data:`BAND_MIN_CASES` decode (prefill) cases, else its family's band
    widened (:data:`FAMILY_WIDENING`), and ``fallback`` (``compute_fallback``) says so. With ``gpu`` and
    ``precision``, the bands of the slice they fall in (:meth:`EngineBands.at`). Read from the derived
    file (:data:`ENGINE_BANDS_PATH`, built by ``tools/build_engine_bands.py``) when it was built from
    the catalogs as they are now; fitted here otherwise (:func:`fit_engine_bands`)."""
    bands = _engine_bands(engine)
    if gpu is None or precision is None:
        return bands
    return _engine_bands_at(bands, gpu if isinstance(gpu, str) else _resolve_device(gpu).id, precision,
                            is_long_prompt(prompt_tokens))


@lru_cache(maxsize=None)
def _engine_bands(engine: str) -> EngineBands:
    eng = get_engine(engine)
    stored = _stored_bands()
    if stored is not None and eng.id in stored["engines"]:
        return _engine_bands_from(stored["engines"][eng.id])
    return fit_engine_bands(eng.id)


@lru_cache(maxsize=None)
def _engine_bands_at(bands: EngineBands, gpu: str, precision: str, long_prompt: bool = False) -> EngineBands:
    return bands._at(gpu, precision, long_prompt)


def fit_engine_bands(engine: str) -> EngineBands:
    """:func:`engine_bands` fitted from the published cases (no derived file read)."""
    return _engine_fit(benchmarks(), get_engine(engine))


# --------------------------------------------------------------------------------------------
# The fitted bands as a derived file (a one-shot CLI reads them instead of re-fitting, ~150 ms)
# --------------------------------------------------------------------------------------------
ENGINE_BANDS_PATH = DATA_DIR / "derived" / "engine_bands.json"
"""Fitted engine bands, regenerated by ``tools/build_engine_bands.py`` (read from the catalog
directory in use, ``catalog.DATA_DIR``); stale when its inputs' hash
differs from :func:`bands_inputs_hash` (then the bands are fitted at first use, and a test fails)."""

BANDS_INPUTS = ("inference_benchmarks.csv", "engines.csv", "weight_formats.csv", "hardware.csv", "models.csv")
"""Catalogs the fit reads (cases, engines, formats, device peaks and bandwidths, model shapes)."""

BANDS_FIT_VERSION = 9
"""Bumped when the fitting code changes in a way the inputs' hash cannot see (the staleness test also
re-fits and compares, so a forgotten bump still fails there)."""


def bands_inputs_hash() -> str:
    """SHA-256 over the bytes of :data:`BANDS_INPUTS` and :data:`BANDS_FIT_VERSION`."""
    h = hashlib.sha256(f"fit-version {BANDS_FIT_VERSION}\n".encode())
    for name in BANDS_INPUTS:
        h.update(name.encode() + b"\0" + (_catalog.DATA_DIR / name).read_bytes())
    return h.hexdigest()


def _band_list(b: Band) -> list[float]:
    return [float(b.low), float(b.mid), float(b.high)]


def _slice_list(slices) -> list[dict]:
    return [{"key": x.key, "band": _band_list(x.band), "cases": list(x.cases)} for x in slices]


def _slices_from(items) -> tuple[BandSlice, ...]:
    return tuple(BandSlice(d["key"], Band(*d["band"]), tuple(d["cases"])) for d in items)


def build_bands_table() -> dict:
    """Every engine's and engine class's fitted bands, with the inputs' hash: the derived file's content."""
    eng = {}
    for name in engine_names():
        e = fit_engine_bands(name)
        eng[e.engine] = {"engine": e.engine, "bandwidth": _band_list(e.bandwidth), "compute": _band_list(e.compute), "cases": e.cases,
                         "fallback": e.fallback, "compute_fallback": e.compute_fallback,
                         "bandwidth_cases": list(e.bandwidth_cases), "compute_cases": list(e.compute_cases),
                         "bandwidth_slices": _slice_list(e.bandwidth_slices), "compute_slices": _slice_list(e.compute_slices)}
    classes = {}
    for name, e in _fit_calibration().items():
        classes[name] = {"bandwidth": _band_list(e.bandwidth), "compute": _band_list(e.compute),
                         "bandwidth_cases": list(e.bandwidth_cases), "compute_cases": list(e.compute_cases),
                         "compute_borrowed_from": e.compute_borrowed_from}
    return {"inputs_sha256": bands_inputs_hash(), "fit_version": BANDS_FIT_VERSION, "engines": eng,
            "classes": classes}


@lru_cache(maxsize=1)
def _stored_bands():
    """The derived file's content if it exists and matches the catalogs as they are now, else None."""
    try:
        table = json.loads((_catalog.DATA_DIR / "derived" / ENGINE_BANDS_PATH.name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if table.get("inputs_sha256") != bands_inputs_hash():
        return None
    return table


def _engine_bands_from(d) -> EngineBands:
    return EngineBands(d.get("engine", ""), Band(*d["bandwidth"]), Band(*d["compute"]), int(d["cases"]),
                       d["fallback"], tuple(d["bandwidth_cases"]), tuple(d["compute_cases"]), d["compute_fallback"],
                       _slices_from(d["bandwidth_slices"]), _slices_from(d["compute_slices"]))


def check_tp_degree(model, gpu, gpus) -> int:
    """A tensor-parallel degree that splits the model: at most its attention heads, dividing them,
    and dividing its KV heads or a multiple of them (vLLM replicates KV heads past that). The error
    names ``--gpus`` and lists the valid degrees up to 64."""
    device = _resolve_device(gpu)
    k = int(_check_gpus(device, gpus))
    if k == 1 or not _has_architecture(model):
        return k
    h, kv = int(model.heads), int(model.kv_heads)
    ok = _tp_ok(h, kv, k)
    if not ok:
        valid = [d for d in range(1, min(h, 64) + 1) if _tp_ok(h, kv, d)]
        raise InputError("gpus", k, f"a tensor-parallel degree (--gpus) <= the {h} attention heads of {model.id} that "
                         f"divides them and divides or is a multiple of its {kv} KV heads: "
                         + ", ".join(map(str, valid)))
    return k


def _tp_ok(heads: int, kv_heads: int, k: int) -> bool:
    return k <= heads and heads % k == 0 and (kv_heads % k == 0 or k % kv_heads == 0)


def valid_tp_degrees(model, max_gpus: int = 64) -> tuple[int, ...]:
    """Tensor-parallel degrees :func:`check_tp_degree` accepts, up to ``max_gpus``."""
    model = _resolve_model(model)
    if not _has_architecture(model):
        return tuple(range(1, max_gpus + 1))
    return tuple(d for d in range(1, max_gpus + 1) if _tp_ok(int(model.heads), int(model.kv_heads), d))


def check_context(model, tokens) -> int:
    """Prompt + output tokens within the model's maximum context (``max_context`` of models.csv)."""
    t = int(whole("context", tokens))
    cap = getattr(model, "max_context", None)
    if _has_architecture(model) and cap and t > cap:
        raise InputError("prompt_tokens", t, f"prompt + output tokens at most {cap}, the maximum context of {model.id}")
    return t


BACKTEST_NOMINAL_COVERAGE = 0.8
"""Coverage an engine's band aims at: it spans the 10th-90th percentile of its cases' implied
efficiencies (:data:`BAND_QUANTILES`). What a band from n cases actually claims is
:func:`band_nominal_coverage` (below 80% under 9 cases); the back-test reports that next to coverage."""


def _predict_band(case, bands):
    lo = _predict(case, bands.bandwidth.low, bands.compute.low)
    mid = _predict(case, bands.bandwidth.mid, bands.compute.mid)
    hi = _predict(case, bands.bandwidth.high, bands.compute.high)
    return min(lo, hi), mid, max(lo, hi)


@lru_cache(maxsize=1)
def engine_backtest():
    """Leave-one-out back-test by engine name: every published case predicted from the bands of its
    engine fitted without it (the family band, widened, when the rest are too few), with the band's
    low / high prediction, whether the published value falls inside and the band's width
    (high / low). A DataFrame, one row per case."""
    import pandas as pd

    cases = benchmarks()
    rows = []
    for case in cases:
        eng = get_engine(CALIBRATED_WITH.get(case.engine_id, case.engine_id))
        rest = tuple(c for c in cases if c.id != case.id)
        loo = _engine_fit(rest, eng).at(case.gpu_id, case.precision, case.prompt_tokens)
        lo, mid, hi = _predict_band(case, loo)
        prefill_case = (calibrates(case) or case.kind) == "compute"
        n_band = len(loo.compute_cases if prefill_case else loo.bandwidth_cases)
        fallback = loo.compute_fallback if prefill_case else loo.fallback
        own = "own cases" + (f" ({loo.compute_slice if prefill_case else loo.bandwidth_slice})"
                             if (loo.compute_slice if prefill_case else loo.bandwidth_slice) else "")
        rows.append({
            "id": case.id, "engine": case.engine_id, "family": case.engine_class, "model": case.model_id,
            "gpu": case.gpu_id + (f" x{case.gpus}" if case.gpus > 1 else ""), "precision": case.precision,
            "batch": case.batch, "in/out": f"{case.prompt_tokens}/{case.output_tokens}", "metric": case.metric,
            "published": case.value, "predicted_loo": mid, "low_loo": lo, "high_loo": hi,
            "error_loo": mid / case.value - 1.0, "inside": bool(lo <= case.value <= hi), "width": hi / lo,
            "band_cases": n_band, "nominal_coverage": band_nominal_coverage(n_band),
            "band_from": fallback or own, "calibrates": calibrates(case) or "-", "source": case.source,
            "notes": case.notes,
        })
    return pd.DataFrame(rows)


def _band_from_words(values) -> str:
    """The sources of a group's bands: 'own cases' once (with 'by slice' when some came from a slice), then
    the families."""
    values = set(values)
    own = {v for v in values if v.startswith("own cases")}
    rest = sorted(values - own)
    if own:
        rest.append("own cases" + (f" (by slice where {SLICE_MIN_CASES}+)" if own != {"own cases"} else ""))
    return ", ".join(rest)


def engine_backtest_summary(df=None):
    """Per engine and overall: cases, leave-one-out median absolute error, share of cases inside the
    band next to the nominal coverage its bands claim (the mean over its cases of
    :func:`band_nominal_coverage` of the leave-one-out band behind each: 80% only from 9 cases up),
    and the median band width. A DataFrame."""
    import pandas as pd

    df = engine_backtest() if df is None else df
    out = []
    for name, g in list(df.groupby("engine", sort=True)) + [("all engines", df)]:
        out.append({"engine": name, "cases": len(g), "median_abs_error": float(np.median(np.abs(g["error_loo"]))),
                    "coverage": float(g["inside"].mean()), "nominal_coverage": float(g["nominal_coverage"].mean()),
                    "median_width": float(np.median(g["width"])),
                    "band_from": _band_from_words(g["band_from"])})
    return pd.DataFrame(out)
