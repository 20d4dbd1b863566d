"""Memory: weights, KV cache, activations, gradients, optimizer states, runtime overhead; what fits where.

Every figure is computed from the architecture (:class:`costlib.models.ModelSpec`) and a precision.
Sources of the equations:

* Weights: parameters x bytes per value (:data:`costlib.units.BYTES_PER_VALUE`), plus, for group-wise
  integer quantization (GPTQ, Frantar et al. 2022; AWQ, Lin et al. 2023), one ``scale_bits`` scale per
  ``group_size`` weights: 4-bit with group 128 and 16-bit scales is 4 + 16/128 = 4.125 bits per weight.
  NF4 with double quantization (QLoRA, Dettmers et al. 2023, section 3): 4 + 8/64 + 32/(64*256) = 4.127 bits.
* KV cache: 2 (K and V) x layers x kv_heads x head_dim x bytes per value per token (Kwon et al. 2023,
  vLLM, section 3), which is exact for grouped-query (Ainslie et al. 2023) and multi-query attention
  (Shazeer 2019) and for head_dim != d_model / heads; DeepSeek's MLA caches kv_lora_rank + qk_rope_head_dim
  values per layer (DeepSeek-V2 report, section 2.1.3); sliding-window layers cache at most
  ``sliding_window`` tokens (Mistral 7B, Jiang et al. 2023, "rolling buffer cache").
* Training activations: s*b*h*(34 + 5*a*s/h) bytes per layer with 16-bit activations and no recompute;
  34*s*b*h with selective recompute; 2*s*b*h (the layer input) with full recompute, plus one layer's
  working set while it is recomputed; 4*s*b*v bytes for the fp32 logits of the loss
  (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", sections 4.1-4.3).
* Optimizer states and gradients: mixed-precision Adam 16 bytes per parameter (2 weights + 2 gradients +
  4 fp32 master + 4 momentum + 4 variance), 8-bit Adam 2 bytes of states, SGD with momentum 4
  (EleutherAI, "Transformer Math 101", 2023). ZeRO stage 1/2/3 shards optimizer states / + gradients /
  + weights over the data-parallel GPUs (Rajbhandari et al. 2020, section 5).
* LoRA (Hu et al. 2021): r*(d_in + d_out) trainable parameters per adapted matrix; optimizer states and
  gradients only for those. QLoRA: NF4 base with double quantization, 16-bit adapters, paged optimizer.

All ``*_gb`` figures are per GPU and in GB = 1e9 bytes. Functions take numbers or numpy arrays for
context and batch so a sweep is one call.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv
from .errors import InputError
from .hardware import COMPUTE_COLUMNS, devices, get_device
from .models import ModelSpec, _ParamsOnly, custom_model, get_model
from .units import BYTES_PER_VALUE, GB, PRECISIONS
from .validate import choice, non_negative, positive, whole

# --- named constants ---------------------------------------------------------------------------

QUANT_GROUP_SIZE = 128
"""Weights per quantization group: the default of GPTQ (AutoGPTQ ``group_size=128``) and AWQ
(Lin et al. 2023, section 4)."""
QUANT_SCALE_BITS = 16
"""Bits per group scale: fp16 scales in GPTQ/AWQ checkpoints (zero points, 4 bits per group when
asymmetric, are left out: +0.03 bits per weight)."""
INTEGER_FORMATS = ("int8", "int4")
"""Formats stored as integers with group-wise scales; fp8/bf16/fp16/fp32 carry no per-group scale
(fp8 checkpoints use one scale per tensor, negligible)."""

NF4_BITS = 4.0
NF4_BLOCK = 64
"""QLoRA first-level block size (Dettmers et al. 2023, section 3, Double Quantization)."""
NF4_DQ_SCALE_BITS = 8
"""Double quantization: first-level scales stored in 8-bit floats (same source)."""
NF4_DQ_BLOCK = 256
"""Second-level block size over the first-level scales, with one fp32 constant each (same source)."""
NF4_DQ_BITS_PER_WEIGHT = NF4_BITS + NF4_DQ_SCALE_BITS / NF4_BLOCK + 32 / (NF4_BLOCK * NF4_DQ_BLOCK)
"""4.127 bits per weight: 4 + 8/64 + 32/(64*256) (the paper: 0.127 bits of constants, down from 0.5)."""

RUNTIME_OVERHEAD_GB = 1.0
"""Per-GPU memory used before any tensor: the CUDA context (~0.7-0.8 GB depending on CUDA version and
device, PyTorch forum answers by ptrblck, https://discuss.pytorch.org/t/high-gpu-memory-overhead/81330,
2020) plus cuBLAS/NCCL workspaces. Rounded up to 1 GB; it does not shard with more GPUs. As of 2024."""

PREFILL_CHUNK_TOKENS = 8192
"""Tokens processed in one forward pass by a serving engine with chunked prefill: vLLM's default
``max_num_batched_tokens`` for its OpenAI server on >= 70 GB GPUs other than the A100 (2048 on smaller GPUs,
16384 for the offline ``LLM`` class), ``EngineArgs.get_batch_defaults`` in vllm/engine/arg_utils.py
(https://github.com/vllm-project/vllm, 2025). Bounds the inference activation working set."""

LOGITS_BYTES = 4
"""Logits are upcast to fp32 for the softmax / cross-entropy (Korthikanti et al. 2022, section 4.3)."""
CHUNKED_LOSS_CHUNKS = 8
"""Chunked cross-entropy keeps the logits in 16-bit and upcasts one chunk at a time: torchtune
``CEWithChunkedOutputLoss(num_output_chunks=8)`` (torchtune/modules/loss, 2024), used by its Llama 3.1 recipes.
Logit bytes per value: 2 + 4 / 8 = 2.5 instead of 4."""

ACTIVATION_BYTES = {"fp32": 4.0}
"""Bytes per activation value: 2 (bf16/fp16 compute, also for fp8/int8/int4 weight-only formats,
whose weights are dequantized to 16-bit for the matmul) except fp32."""



# --- result type -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryBreakdown:
    """Memory per GPU in GB (1e9 bytes). Fields may be numpy arrays when context or batch were arrays."""

    weights_gb: float
    kv_cache_gb: float
    activations_gb: float
    gradients_gb: float
    optimizer_gb: float
    overhead_gb: float
    total_gb: float = field(init=False)
    gpus: int = 1
    mode: str = "inference"
    notes: tuple[str, ...] = ()
    host_gb: float = 0.0
    """Bytes (GB) kept in host RAM per GPU process: offloaded or paged optimizer states, offloaded weights (training)."""
    assumptions: dict = field(default_factory=dict, compare=False, hash=False)
    """What each training setting was and where it came from (given, or copied from a named recipe)."""

    def __post_init__(self):
        total = (
            self.weights_gb + self.kv_cache_gb + self.activations_gb + self.gradients_gb + self.optimizer_gb + self.overhead_gb
        )
        object.__setattr__(self, "total_gb", total)

    @property
    def total_all_gpus_gb(self) -> float:
        """Memory summed over all GPUs (the overhead is paid on each)."""
        return self.total_gb * self.gpus

    def as_dict(self, digits: int | None = None) -> dict:
        out = {}
        for k, v in asdict(self).items():
            if isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, (np.floating, float)) and digits is not None:
                v = round(float(v), digits)
            elif isinstance(v, tuple):
                v = list(v)
            elif k == "assumptions" and not v:
                continue
            out[k] = v
        return out


# --- helpers -----------------------------------------------------------------------------------


def _spec(model) -> ModelSpec | _ParamsOnly:
    if isinstance(model, (ModelSpec, _ParamsOnly)):
        return model
    if isinstance(model, str):
        return get_model(model)
    raise InputError("model", model, "a model id, a ModelSpec or custom_model(params)")


def _has_arch(model) -> bool:
    return isinstance(model, ModelSpec)


def _need_arch(model, what: str):
    if not _has_arch(model):
        raise InputError(
            "model",
            getattr(model, "id", model),
            f"an architecture (catalog id or config.json): {what} needs layers, heads and head_dim, "
            "which a parameter count alone does not give",
        )


def _params(params) -> float | np.ndarray:
    if isinstance(params, (ModelSpec, _ParamsOnly)):
        return float(params.total_params)
    if isinstance(params, str):
        return float(get_model(params).total_params)
    return positive("params", params)


def _scalar_or_array(x):
    a = np.asarray(x, dtype=float)
    return float(a) if a.ndim == 0 else a


def _gb(x):
    return _scalar_or_array(np.asarray(x, dtype=float) / GB)


# --- weights -----------------------------------------------------------------------------------


def bits_per_weight(precision: str, *, group_size: int | None = QUANT_GROUP_SIZE, scale_bits: int = QUANT_SCALE_BITS) -> float:
    """Stored bits per weight including quantization scales.

    ``int4``/``int8``: 8 x bytes + scale_bits / group_size (4-bit, group 128, fp16 scales: 4.125).
    ``nf4``: QLoRA NF4 with double quantization, 4.127. Float formats: 8 x bytes, no scales.
    ``group_size=None`` (or 0) means per-channel scales, counted as no overhead.
    """
    if precision == "nf4":
        return NF4_DQ_BITS_PER_WEIGHT
    choice("precision", precision, PRECISIONS + ("nf4",))
    bits = 8.0 * BYTES_PER_VALUE[precision]
    if precision in INTEGER_FORMATS and group_size:
        g = whole("group_size", group_size)
        s = non_negative("scale_bits", scale_bits)
        bits += s / g
    return bits


def weight_bytes(params, precision: str, *, group_size: int | None = QUANT_GROUP_SIZE, scale_bits: int = QUANT_SCALE_BITS):
    """Bytes to store ``params`` weights at ``precision`` (a number, an array, a model id or ModelSpec).

    A model counts all its parameters (every expert of a mixture-of-experts model is stored).
    """
    n = _params(params)
    return _scalar_or_array(np.asarray(n) * bits_per_weight(precision, group_size=group_size, scale_bits=scale_bits) / 8.0)


def _model_weight_bytes(model, precision: str, *, quantize_embeddings: bool, group_size, scale_bits) -> float:
    """Weights of a model; below 16 bits the embeddings and output head stay 16-bit unless
    ``quantize_embeddings`` (GPTQ/AWQ/bitsandbytes quantize only the linear layers of the blocks and keep
    ``lm_head``; llama.cpp's GGUF formats quantize the embeddings too)."""
    n = float(model.total_params)
    if not _has_arch(model) or quantize_embeddings or BYTES_PER_VALUE.get(precision, 0.5) >= 2:
        return weight_bytes(n, precision, group_size=group_size, scale_bits=scale_bits)
    emb = float(model.embedding_params)
    return weight_bytes(n - emb, precision, group_size=group_size, scale_bits=scale_bits) + emb * 2.0


# --- KV cache ----------------------------------------------------------------------------------


def kv_bytes_per_token(model, kv_precision: str = "fp16") -> float:
    """KV-cache bytes per token of context: layers x 2 x kv_heads x head_dim x bytes (MLA: the latent).

    This is the cost of one more token while the context is shorter than every window (sliding or
    chunked); past the windows only the full-attention layers grow (:func:`kv_bytes_per_token_beyond_window`).
    Llama-3.1-8B in fp16: 32 x 2 x 8 x 128 x 2 = 131072 bytes (128 KiB). DeepSeek-V3 (MLA): 61 x (512 + 64)
    x 2 = 70272 bytes. Attention sinks (gpt-oss: one learned logit per head) cache nothing.
    """
    m = _spec(model)
    _need_arch(m, "the KV cache")
    b = BYTES_PER_VALUE[choice("kv_precision", kv_precision, PRECISIONS)]
    value = m.layers * m.kv_values_per_token_per_layer * b
    return float(value)


def kv_bytes_per_token_beyond_window(model, kv_precision: str = "fp16") -> float:
    """KV-cache bytes one more token adds once the context is longer than the window: only the
    full-attention layers keep growing (Gemma 3 27B: 10 of 62 layers; gpt-oss: half; Llama 4: 1 in 4).
    Equal to :func:`kv_bytes_per_token` for a model without windowed layers."""
    m = _spec(model)
    _need_arch(m, "the KV cache")
    b = BYTES_PER_VALUE[choice("kv_precision", kv_precision, PRECISIONS)]
    return float(m.full_attention_layers * m.kv_values_per_token_per_layer * b)


def kv_layer_layout(model) -> dict:
    """How the layers cache: ``full_layers`` hold every token, ``windowed_layers`` at most ``window``
    tokens (``window_kind`` sliding or chunked), ``values_per_token_per_layer`` (2 x kv_heads x head_dim, or
    MLA's kv_lora_rank + qk_rope_head_dim)."""
    m = _spec(model)
    _need_arch(m, "the KV cache")
    return {
        "full_layers": m.full_attention_layers,
        "windowed_layers": m.windowed_layers,
        "window": m.sliding_window if m.windowed_layers else None,
        "window_kind": (m.window_kind or "sliding") if m.windowed_layers else None,
        "values_per_token_per_layer": m.kv_values_per_token_per_layer,
        "attention": m.attention,
    }


def _sliding_layer_count(m: ModelSpec) -> int:
    return m.windowed_layers


def kv_cache_bytes(model, context, batch=1, kv_precision: str = "fp16"):
    """KV-cache bytes for ``batch`` sequences of ``context`` tokens each (numbers or arrays).

    Full-attention layers hold every token; windowed layers hold min(context, window): sliding windows
    (Mistral-7B-v0.1 on every layer, Gemma 2 every other layer, Gemma 3 five of six, gpt-oss every other)
    keep the last ``window`` tokens; chunked attention (Llama 4, 3 of 4 layers) keeps the current chunk,
    at most ``window`` tokens, which is the bound a server allocates (vLLM's chunked local attention).
    """
    m = _spec(model)
    _need_arch(m, "the KV cache")
    ctx = np.asarray(non_negative("context", context))
    if np.any(np.floor(ctx) != ctx):
        raise InputError("context", float(ctx[np.floor(ctx) != ctx].flat[0]), "a whole number of tokens >= 0")
    bat = np.asarray(whole("batch", batch))
    b = BYTES_PER_VALUE[choice("kv_precision", kv_precision, PRECISIONS)]
    n_slide = m.windowed_layers
    n_full = m.layers - n_slide
    tokens_layers = n_full * ctx
    if n_slide:
        tokens_layers = tokens_layers + n_slide * np.minimum(ctx, m.sliding_window)
    return _scalar_or_array(bat * tokens_layers * m.kv_values_per_token_per_layer * b)


def _kv_share_per_gpu(m: ModelSpec, tp: int) -> float:
    """Share of the KV cache each of ``tp`` tensor-parallel GPUs holds: KV heads are split, and
    replicated when tp exceeds kv_heads (vLLM); MLA's latent is replicated on every GPU."""
    if tp == 1:
        return 1.0
    if m.attention == "mla":
        return 1.0
    return math.ceil(m.kv_heads / tp) / m.kv_heads


def default_kv_precision(precision: str) -> str:
    """KV cache precision when not given (the one rule; :mod:`costlib.inference` calls it): FP8 with FP8
    weights (TensorRT-LLM's FP8 recipes quantize the KV cache too, ``--fp8_kv_cache``), fp32 for fp32 models,
    else the 16-bit compute dtype (vLLM ``kv_cache_dtype='auto'``; llama.cpp and transformers keep an F16 cache)."""
    return precision if precision in ("fp8", "fp32") else "fp16"


# --- inference ---------------------------------------------------------------------------------


def activation_value_bytes(compute_precision: str) -> float:
    """Bytes per activation value for arithmetic at ``compute_precision`` (:data:`ACTIVATION_BYTES`): 4 at
    fp32, else 2. Which precision a served weight format computes at is costlib.inference.compute_path."""
    return ACTIVATION_BYTES.get(compute_precision, 2.0)


COMPUTE_PRECISIONS = tuple(COMPUTE_COLUMNS)
"""Dense peaks a forward pass can run at (the hardware catalog's peak columns, the keys of
``Device.peak_tflops_by_precision``): what ``compute_precision`` may be in the inference memory functions."""


def _act_bytes(precision: str) -> float:
    return activation_value_bytes(precision)


def inference_activation_value_bytes(precision: str, compute_precision: str | None = None) -> float:
    """Bytes per activation value of a forward pass with weights stored at ``precision`` (the one rule).

    ``compute_precision`` is the dense peak the matmuls run at on the serving device: give
    ``costlib.inference.compute_path(gpu, fmt).precision`` (a CPU without 16-bit peaks computes at fp32,
    4 bytes; one with a BF16 peak at bf16, 2 bytes). Without a device (``None``) the stored
    precision stands for it, the GPU path: 4 bytes for fp32 weights, else 2 (16-bit math, also for
    dequantized 8- and 4-bit weights). Memory takes the decision as an argument instead of importing
    costlib.inference, which imports this module (no import cycle)."""
    if compute_precision is None:
        return _act_bytes(precision)
    return activation_value_bytes(choice("compute_precision", compute_precision, COMPUTE_PRECISIONS))


def inference_activation_bytes(model, context, batch=1, precision: str = "fp16", *, tp: int = 1,
                               prefill_chunk: int = PREFILL_CHUNK_TOKENS, compute_precision: str | None = None):
    """Peak activation working set of one forward pass (layers run one at a time, so one layer's worth).

    tokens = min(batch x context, prefill_chunk) processed at once; per token the residual stream and its
    normed copy, attention output and query (4 x d_model) and the MLP intermediate (3 x ffn gated, 2 x ffn
    otherwise; split over ``tp`` GPUs); FlashAttention keeps no s x s score matrix (Dao et al. 2022).
    Plus fp32 logits of the last token of each sequence. Bytes per value:
    :func:`inference_activation_value_bytes` (``compute_precision`` = the device's compute path).
    """
    m = _spec(model)
    _need_arch(m, "the activation working set")
    value_bytes = inference_activation_value_bytes(precision, compute_precision)
    ctx = np.asarray(non_negative("context", context))
    bat = np.asarray(whole("batch", batch))
    chunk = whole("prefill_chunk", prefill_chunk)
    tokens = np.minimum(np.maximum(bat * ctx, bat), chunk)
    ffn = m.moe_ffn_dim * m.experts_active if m.is_moe else m.ffn_dim
    k = 3 if m.ffn_kind in ("swiglu", "geglu") else 2
    per_token = (4 * m.d_model + k * ffn / tp) * value_bytes
    return _scalar_or_array(tokens * per_token + bat * m.vocab * LOGITS_BYTES)


def inference_memory(
    model,
    precision: str,
    context=0,
    batch=1,
    kv_precision: str | None = None,
    *,
    gpus: int = 1,
    group_size: int | None = QUANT_GROUP_SIZE,
    scale_bits: int = QUANT_SCALE_BITS,
    quantize_embeddings: bool = False,
    prefill_chunk: int = PREFILL_CHUNK_TOKENS,
    compute_precision: str | None = None,
) -> MemoryBreakdown:
    """Serving memory per GPU: weights, KV cache for ``batch`` sequences of ``context`` tokens,
    activation working set, runtime overhead. ``gpus`` > 1 is tensor parallelism: weights split,
    KV heads split (replicated past kv_heads), the overhead is paid on every GPU.

    ``compute_precision``: the dense peak the device computes this format at,
    ``costlib.inference.compute_path(gpu, fmt).precision``; it sets the activation bytes per value
    (:func:`inference_activation_value_bytes`). ``None`` = the GPU path of the stored precision.

    A model known only by its parameter count has no KV cache or activations from architecture:
    ``context=0`` gives weights + overhead, any context > 0 raises an InputError saying why.
    """
    m = _spec(model)
    choice("precision", precision, PRECISIONS)
    tp = int(whole("gpus", gpus))
    kvp = kv_precision or default_kv_precision(precision)
    choice("kv_precision", kvp, PRECISIONS)
    if compute_precision is not None:
        choice("compute_precision", compute_precision, COMPUTE_PRECISIONS)
    ctx = non_negative("context", context)
    whole("batch", batch)
    notes = []
    w = _model_weight_bytes(m, precision, quantize_embeddings=quantize_embeddings, group_size=group_size, scale_bits=scale_bits) / tp
    if _has_arch(m):
        if m.heads % tp and tp % m.heads:
            raise InputError("gpus", tp, f"a tensor-parallel degree that divides the {m.heads} attention heads of {m.id}")
        kv = kv_cache_bytes(m, context, batch, kvp) * _kv_share_per_gpu(m, tp)
        act = inference_activation_bytes(m, context, batch, precision, tp=tp, prefill_chunk=prefill_chunk,
                                         compute_precision=compute_precision)
    else:
        if np.any(np.asarray(ctx) > 0):
            _need_arch(m, "the KV cache for context > 0")
        kv, act = 0.0, 0.0
        notes.append("parameter count only: KV cache and activations need the architecture and are not included")
    return MemoryBreakdown(
        weights_gb=_gb(w),
        kv_cache_gb=_gb(kv),
        activations_gb=_gb(act),
        gradients_gb=0.0,
        optimizer_gb=0.0,
        overhead_gb=RUNTIME_OVERHEAD_GB,
        gpus=tp,
        mode="inference",
        notes=tuple(notes),
    )


# --- training ----------------------------------------------------------------------------------

ATTENTION_KERNELS = ("flash", "materialized")
"""How attention is computed in training: ``flash`` = FlashAttention / PyTorch SDPA (Dao et al. 2022,
arXiv 2205.14135): no s x s score matrix is kept, only the output and a fp32 log-sum-exp per head and token;
the default of Hugging Face transformers (``attn_implementation="sdpa"``, since v4.36), torchtune and axolotl.
``materialized`` = eager attention that stores softmax scores and dropout mask, 5*a*s bytes per token per
layer (Korthikanti et al. 2022, section 4.1)."""
FLASH_LSE_BYTES = 4.0
"""FlashAttention saves one fp32 log-sum-exp per query row and head for its backward pass (Dao et al. 2022, algorithm 2)."""

OPTIMIZER_STATE_BYTES = {
    "adamw": 8.0,
    "adam": 8.0,
    "adamw-paged": 8.0,
    "adamw8bit": 2.0,
    "adamw8bit-paged": 2.0,
    "adam8bit": 2.0,
    "adafactor": 0.0,
    "sgd": 4.0,
}
"""Bytes of optimizer state per trained parameter besides any master copy:
AdamW/Adam momentum + variance in fp32, 8 (Loshchilov & Hutter 2019; Transformer Math 101, EleutherAI 2023);
``adamw-paged`` = bitsandbytes ``PagedAdamW32bit`` (QLoRA's ``paged_adamw_32bit``), same 8 bytes in paged memory;
8-bit AdamW (Dettmers et al. 2022, arXiv 2110.02861: block-wise 8-bit states), 2 bytes (block scales, one fp32
per 2048 values, add 0.004); ``adamw8bit-paged`` = bitsandbytes ``PagedAdamW8bit`` (torchtune's single-device full
recipe); Adafactor (Shazeer & Stern 2018, arXiv 1804.04235) with its default beta1=None keeps only factored
second moments, 4 bytes per row and per column of each matrix: added per matrix by :func:`optimizer_state_bytes`;
SGD with momentum, 4 (fp32 momentum buffer)."""
PAGED_OPTIMIZERS = ("adamw-paged", "adamw8bit-paged")
"""Optimizers whose states live in CUDA unified memory (bitsandbytes paged optimizers, Dettmers et al. 2023,
section 3 "Paged Optimizers"): the driver evicts them to CPU RAM when the GPU runs short and pages them back for
the update. costlib counts them in host memory, not against the GPU (PyTorch's peak-memory counters, which
torchtune's published peaks use, do not see unified memory either); the paging costs time, not capacity."""
MASTER_WEIGHT_BYTES = 4.0
"""fp32 master copy kept by mixed-precision training (Micikevicius et al. 2018): 4 bytes per parameter."""
FSDP_PREFETCH_LAYERS = 2
"""Layers whose full (unsharded) 16-bit weights FSDP / ZeRO-3 holds at once: the one computing and the next one
prefetched (PyTorch FSDP ``forward_prefetch`` / ``BackwardPrefetch.BACKWARD_PRE``; DeepSpeed
``stage3_prefetch_bucket_size``). An approximation; the buckets are configurable."""

TRAIN_PRECISIONS = ("fp32", "bf16", "fp16")
MODES = ("inference", "full", "lora", "qlora")
RECOMPUTE = ("none", "selective", "full")
OPTIMIZERS = tuple(OPTIMIZER_STATE_BYTES)
OFFLOAD = ("none", "optimizer", "all")
"""CPU offload: ``optimizer`` moves optimizer states and fp32 master weights to host RAM (ZeRO-Offload, Ren et
al. 2021; torchtune ``offload_ops``); ``all`` also the sharded parameters and gradients (PyTorch FSDP
``CPUOffload(offload_params=True)``, torchtune ``fsdp_cpu_offload: True``)."""

LORA_MODULES = ("q", "k", "v", "o", "gate", "up", "down")
"""Linear layers of a decoder block that LoRA can adapt (PEFT names q_proj ... down_proj)."""
LORA_TARGET_SETS = {
    "all-linear": LORA_MODULES,
    "attention": ("q", "k", "v", "o"),
    "qv": ("q", "v"),
    "torchtune": ("q", "v", "o", "gate", "up", "down"),
}
"""Named target sets: QLoRA adapts all linear layers ("all-linear", Dettmers et al. 2023 section 4);
the original LoRA paper adapted q and v (Hu et al. 2021, section 7.1); torchtune's Llama 3.1 8B LoRA/QLoRA
single-device recipes adapt q, v, output_proj and the MLP (``lora_attn_modules: ['q_proj', 'v_proj',
'output_proj']``, ``apply_lora_to_mlp: True``)."""
QLORA_PAPER_RANK = 64
"""LoRA rank of the QLoRA paper's Guanaco runs (Dettmers et al. 2023, appendix B.2)."""


@dataclass(frozen=True)
class FinetuneRecipe:
    """A published fine-tuning configuration whose memory settings costlib copies as a default."""

    name: str
    mode: str
    optimizer: str
    recompute: str
    seq_len: int
    batch: int
    lora_rank: int
    lora_targets: str
    master_weights: bool
    optimizer_in_backward: bool
    source: str


RECIPES = {
    "qlora-paper": FinetuneRecipe(
        "QLoRA paper, Guanaco 65B", "qlora", "adamw-paged", "full", 512, 4, 64, "all-linear", False, False,
        "artidoro/qlora scripts/finetune_guanaco_65b.sh (lora_r 64, lora_modules all, bits 4, double_quant, nf4, bf16, "
        "gradient_checkpointing, target_max_len 512, per_device_train_batch_size 4) and qlora.py (optim paged_adamw_32bit); "
        "Dettmers et al. 2023, arXiv 2305.14314",
    ),
    "mixed-precision-adamw": FinetuneRecipe(
        "mixed-precision AdamW full fine-tune", "full", "adamw", "full", 2048, 1, 0, "all-linear", True, False,
        "16 bytes per parameter: bf16 weights and gradients, fp32 master, fp32 AdamW moments (Transformer Math 101, "
        "EleutherAI 2023; Rajbhandari et al. 2020 ZeRO, section 3: 2 + 2 + 12); Hugging Face Trainer bf16=True with "
        "gradient_checkpointing=True; sequence length 2048 as torchtune's published table",
    ),
    "mixed-precision-adamw-lora": FinetuneRecipe(
        "LoRA with mixed-precision AdamW (PEFT)", "lora", "adamw", "full", 2048, 1, 16, "all-linear", True, False,
        "Hugging Face PEFT LoraConfig(target_modules='all-linear'), r=16; bf16 base, fp32 adapter master copy and "
        "AdamW states, gradient checkpointing",
    ),
    "torchtune-full-single-device": FinetuneRecipe(
        "torchtune llama3_1/8B_full_single_device", "full", "adamw8bit-paged", "full", 2048, 2, 0, "all-linear", False, True,
        "pytorch/torchtune recipes/configs/llama3_1/8B_full_single_device.yaml: batch_size 2, bitsandbytes PagedAdamW8bit, "
        "optimizer_in_bwd True, enable_activation_checkpointing True, dtype bf16 (no fp32 master); README table packs to 2048",
    ),
    "torchtune-lora-single-device": FinetuneRecipe(
        "torchtune llama3_1/8B_lora_single_device", "lora", "adamw", "full", 2048, 2, 8, "torchtune", False, False,
        "pytorch/torchtune recipes/configs/llama3_1/8B_lora_single_device.yaml: lora_rank 8, q/v/output_proj + MLP, "
        "AdamW, activation checkpointing, bf16",
    ),
    "torchtune-qlora-single-device": FinetuneRecipe(
        "torchtune llama3_1/8B_qlora_single_device", "qlora", "adamw", "full", 2048, 2, 8, "torchtune", False, False,
        "pytorch/torchtune recipes/configs/llama3_1/8B_qlora_single_device.yaml: NF4 base, lora_rank 8, q/v/output_proj + MLP, "
        "AdamW, activation checkpointing, bf16",
    ),
}
"""Named configurations :func:`training_memory` can copy (``recipe=``)."""
DEFAULT_RECIPE = {"full": "mixed-precision-adamw", "lora": "mixed-precision-adamw-lora", "qlora": "qlora-paper"}
"""The recipe each mode copies when no setting is given: full = mixed-precision AdamW (the 16-byte rule and the
QLoRA paper's "more than 780 GB" baseline); lora = PEFT-style LoRA; qlora = the QLoRA paper's own Guanaco setting."""


def default_recipe(mode: str, optimizer: str | None = None) -> str:
    """Name of the recipe a mode copies: :data:`DEFAULT_RECIPE`, except that a full fine-tune with a bitsandbytes
    8-bit optimizer copies torchtune's single-device full recipe, the published recipe built around it (pure bf16
    weights, optimizer-in-backward), since 8-bit states next to a 4-byte fp32 master copy are not a recipe anyone runs."""
    choice("mode", mode, tuple(DEFAULT_RECIPE))
    if mode == "full" and optimizer in ("adamw8bit", "adamw8bit-paged"):
        return "torchtune-full-single-device"
    return DEFAULT_RECIPE[mode]


def recipe(name_or_mode: str) -> FinetuneRecipe:
    """A :data:`RECIPES` entry by name, or the default recipe of a mode (full | lora | qlora)."""
    key = DEFAULT_RECIPE.get(name_or_mode, name_or_mode)
    if key not in RECIPES:
        raise InputError("recipe", name_or_mode, "one of " + ", ".join(list(RECIPES) + list(DEFAULT_RECIPE)))
    return RECIPES[key]


def _ffn_layers(m: ModelSpec) -> list[tuple[int, int]]:
    """(ffn width a token passes through, layer count): dense layers, then MoE layers (routed + shared experts)."""
    out = []
    dense = m.layers - m.moe_layers
    if dense:
        out.append((m.ffn_dim, dense))
    if m.moe_layers:
        out.append((m.moe_ffn_dim * (m.experts_active + m.shared_experts), m.moe_layers))
    return out


def layer_activation_bytes_per_token(model, attention: str = "flash", seq_len=2048, precision: str = "bf16"):
    """Bytes one decoder layer keeps for its backward pass, per token, without recompute.

    Counted tensor by tensor for a pre-norm block (Llama / Mistral / Qwen shape, no dropout):
    attention: norm input h, normed input h, Q (heads x head_dim), K and V (kv_heads x head_dim), attention
    output (heads x head_dim); MLP: norm input h, normed input h, and gate, up and gated product (3 x ffn;
    2 x ffn for a non-gated MLP: pre-activation and activation). All at the activation width (2 bytes in
    16-bit). ``flash`` adds one fp32 log-sum-exp per head (Dao et al. 2022); ``materialized`` adds
    Korthikanti et al. 2022's 5 x heads x seq_len bytes (scores, softmax, dropout mask). For Llama-3.1-8B
    this is 2 x (4 x 4096 + 4096 + 2 x 1024 + 4096 + 3 x 14336) = 139,264 bytes = 34 x d_model, the same
    34·h Korthikanti et al. count for a GPT block.
    A mixture of experts counts the ffn of the experts a token is routed to (and shared experts); the mean
    over layers is returned.
    """
    m = _spec(model)
    _need_arch(m, "the activation memory")
    choice("attention", attention, ATTENTION_KERNELS)
    s = np.asarray(whole("seq_len", seq_len), dtype=float)
    h = m.d_model
    q = m.heads * m.head_dim
    kv = m.kv_heads * m.head_dim if m.attention != "mla" else m.heads * m.head_dim
    k = 3 if m.ffn_kind in ("swiglu", "geglu") else 2
    attn_values = 2 * h + q + 2 * kv + q
    total = 0.0
    for ffn, count in _ffn_layers(m):
        total += count * (attn_values + 2 * h + k * ffn)
    values = total / m.layers
    per_token = values * _act_bytes(precision)
    if attention == "flash":
        per_token = per_token + FLASH_LSE_BYTES * m.heads
    else:
        per_token = per_token + 5.0 * m.heads * s
    return _scalar_or_array(per_token)


def training_activation_bytes(model, seq_len, batch=1, recompute: str = "none", precision: str = "bf16", *, attention: str = "flash", chunked_loss: bool = False):
    """Activation memory of one micro-batch per GPU (data parallel: no tensor or sequence parallelism).

    ``none`` and ``selective``: every layer keeps :func:`layer_activation_bytes_per_token` x tokens
    (``selective`` recomputes only the attention core, so with ``materialized`` attention it drops the
    5·a·s term, Korthikanti et al. 2022 section 5, except for the one layer being recomputed in the backward pass;
    with FlashAttention it equals ``none``). ``full``
    (activation checkpointing per layer, as torchtune's ``enable_activation_checkpointing`` and Hugging Face's
    ``gradient_checkpointing`` do): each layer keeps its 16-bit input (h values per token) and one layer's
    working set exists while it is recomputed. Plus 4 bytes per token per vocabulary entry for the fp32 logits
    of the loss (Korthikanti et al. 2022, section 4.3), or 2.5 with ``chunked_loss`` (:data:`CHUNKED_LOSS_CHUNKS`).
    Numbers or arrays for ``seq_len`` and ``batch``.
    """
    m = _spec(model)
    _need_arch(m, "the activation memory")
    choice("recompute", recompute, RECOMPUTE)
    choice("attention", attention, ATTENTION_KERNELS)
    s = np.asarray(whole("seq_len", seq_len), dtype=float)
    b = np.asarray(whole("batch", batch), dtype=float)
    tokens = s * b
    kernel = "flash" if recompute == "selective" else attention
    per_layer = np.asarray(layer_activation_bytes_per_token(m, kernel, s, precision)) * tokens
    if recompute == "full":
        layers = m.layers * m.d_model * _act_bytes(precision) * tokens + per_layer
    else:
        layers = m.layers * per_layer
        if recompute == "selective" and attention == "materialized":
            # the recomputed attention core of the layer in its backward pass holds its scores for a moment
            mat = np.asarray(layer_activation_bytes_per_token(m, "materialized", s, precision)) * tokens
            layers = layers + (mat - per_layer)
    logit_bytes = 2.0 + LOGITS_BYTES / CHUNKED_LOSS_CHUNKS if chunked_loss else LOGITS_BYTES
    return _scalar_or_array(layers + logit_bytes * tokens * m.vocab)


def korthikanti_activation_bytes(model, seq_len, batch=1, recompute: str = "none", precision: str = "bf16"):
    """Korthikanti et al. 2022's GPT-block formula as printed: s·b·h·(34 + 5·a·s/h) per layer (none),
    34·s·b·h (selective), 2·s·b·h per layer + one full layer (full), plus 4·s·b·v fp32 logits. Kept for
    comparison with :func:`training_activation_bytes` (which counts the tensors of the model's own block)."""
    m = _spec(model)
    _need_arch(m, "the activation memory")
    choice("recompute", recompute, RECOMPUTE)
    s = np.asarray(whole("seq_len", seq_len))
    b = np.asarray(whole("batch", batch))
    h, a, L = m.d_model, m.heads, m.layers
    full_layer = s * b * h * (34 + 5 * a * s / h)
    if recompute == "none":
        layers = L * full_layer
    elif recompute == "selective":
        layers = L * 34 * s * b * h
    else:
        layers = L * 2 * s * b * h + full_layer
    scale = _act_bytes(precision) / 2.0
    return _scalar_or_array(layers * scale + LOGITS_BYTES * s * b * m.vocab)


def _module_dims(m: ModelSpec) -> dict[str, list[tuple[int, int, int]]]:
    """(d_in, d_out, count per layer-sum) of each adaptable linear module, summed over layers."""
    d, hd = m.d_model, m.head_dim
    if m.attention == "mla":
        qk = m.head_dim + m.qk_rope_head_dim
        attn = {
            "q": [(d, m.heads * qk, m.layers)],
            "k": [(d, m.kv_lora_rank + m.qk_rope_head_dim, m.layers)],  # kv_a_proj
            "v": [(m.kv_lora_rank, m.heads * (m.head_dim + m.v_head_dim), m.layers)],  # kv_b_proj
            "o": [(m.heads * m.v_head_dim, d, m.layers)],
        }
    else:
        attn = {
            "q": [(d, m.heads * hd, m.layers)],
            "k": [(d, m.kv_heads * hd, m.layers)],
            "v": [(d, m.kv_heads * hd, m.layers)],
            "o": [(m.heads * hd, d, m.layers)],
        }
    gated = m.ffn_kind in ("swiglu", "geglu")
    mlp: dict[str, list[tuple[int, int, int]]] = {"gate": [], "up": [], "down": []}
    dense = m.layers - m.moe_layers
    blocks = [(m.ffn_dim, dense)]
    if m.is_moe:
        blocks.append((m.moe_ffn_dim, m.moe_layers * (m.experts_total + m.shared_experts)))
    for ffn, count in blocks:
        if count == 0:
            continue
        if gated:
            mlp["gate"].append((d, ffn, count))
        mlp["up"].append((d, ffn, count))
        mlp["down"].append((ffn, d, count))
    return {**attn, **mlp}


def _targets(lora_targets) -> tuple[str, ...]:
    if isinstance(lora_targets, str):
        if lora_targets in LORA_TARGET_SETS:
            return LORA_TARGET_SETS[lora_targets]
        lora_targets = (lora_targets,)
    out = []
    for t in lora_targets:
        name = t[:-5] if isinstance(t, str) and t.endswith("_proj") else t
        choice("lora_targets", name, LORA_MODULES + tuple(LORA_TARGET_SETS))
        out.extend(LORA_TARGET_SETS.get(name, (name,)))
    if not out:
        raise InputError("lora_targets", lora_targets, "at least one of " + ", ".join(LORA_MODULES))
    return tuple(dict.fromkeys(out))


def lora_trainable_params(model, rank: int = 16, targets="all-linear") -> int:
    """Trainable LoRA parameters: sum over adapted matrices of rank x (d_in + d_out) (Hu et al. 2021)."""
    m = _spec(model)
    _need_arch(m, "counting LoRA parameters")
    r = int(whole("lora_rank", rank))
    if r > m.d_model:  # a rank above the matrix width adds nothing (and 1e300 would overflow)
        raise InputError("lora_rank", r if r < 10**12 else float(rank), f"a whole number from 1 to {m.d_model} (the model width of {m.id})")
    dims = _module_dims(m)
    total = 0
    for t in _targets(targets):
        for d_in, d_out, count in dims[t]:
            total += r * (d_in + d_out) * count
    return total


def _quantizable_params(m: ModelSpec) -> float:
    """Parameters in the blocks' linear layers (what bitsandbytes quantizes): all but embeddings,
    output head and norms."""
    return float(m.total_params - m.embedding_params - m.layers * m.norm_params_per_layer - m.d_model)


def _matrix_shapes(m: ModelSpec, mode: str, lora_rank: int, lora_targets) -> list[tuple[int, int, int]]:
    """(rows, cols, count) of the trained matrices: every linear layer for full, the A and B factors for LoRA."""
    dims = _module_dims(m)
    if mode == "full":
        out = [(d_in, d_out, c) for mods in dims.values() for d_in, d_out, c in mods]
        out.append((m.vocab, m.d_model, 1 if m.tied_embeddings else 2))
        return out
    out = []
    for t in _targets(lora_targets):
        for d_in, d_out, c in dims[t]:
            out.append((d_in, lora_rank, c))
            out.append((lora_rank, d_out, c))
    return out


def optimizer_state_bytes(model, optimizer: str, mode: str = "full", lora_rank: int = 16, lora_targets="all-linear") -> float:
    """Optimizer-state bytes for the trained parameters (no master copy): :data:`OPTIMIZER_STATE_BYTES` per
    parameter; Adafactor's factored second moment is 4 bytes x (rows + cols) per trained matrix (Shazeer &
    Stern 2018, section 3). Llama-3.1-8B, full, 8-bit AdamW: 2 x 8.03e9 = 16.06 GB."""
    m = _spec(model)
    choice("optimizer", optimizer, OPTIMIZERS)
    if mode == "full":
        trained = float(m.total_params)
    else:
        trained = float(lora_trainable_params(m, lora_rank, lora_targets))
    if optimizer != "adafactor":
        return OPTIMIZER_STATE_BYTES[optimizer] * trained
    return float(sum(4.0 * (r + c) * n for r, c, n in _matrix_shapes(m, mode, int(lora_rank), lora_targets)))


def _largest_tensor_params(m: ModelSpec, mode: str, lora_rank: int, lora_targets) -> float:
    """Parameters of the largest trained tensor: the gradient buffer optimizer-in-backward keeps."""
    return float(max(r * c for r, c, _ in _matrix_shapes(m, mode, int(lora_rank), lora_targets)))


def _largest_linear_params(m: ModelSpec) -> float:
    """Parameters of the largest linear layer inside a decoder block."""
    return float(max(d_in * d_out for mods in _module_dims(m).values() for d_in, d_out, _ in mods))


def _layer_params(m: ModelSpec) -> float:
    """Parameters of the largest decoder layer (what FSDP gathers per unit)."""
    per = m.attention_params_per_layer + m.norm_params_per_layer
    if m.moe_layers:
        return float(per + m._moe_layer_params(m.experts_total))
    return float(per + m.mlp_params_per_dense_layer)


def training_memory(
    model,
    mode: str = "full",
    precision: str = "bf16",
    optimizer: str | None = None,
    zero: int = 0,
    gpus: int = 1,
    batch=None,
    seq_len=None,
    recompute: str | None = None,
    lora_rank: int | None = None,
    lora_targets=None,
    *,
    master_weights: bool | None = None,
    attention: str = "flash",
    optimizer_in_backward: bool | None = None,
    offload: str = "none",
    recipe: str | None = None,
    chunked_loss: bool = False,
) -> MemoryBreakdown:
    """Training / fine-tuning memory per GPU, data parallel over ``gpus`` with ZeRO stage ``zero`` (3 = FSDP full shard).

    Every setting left at ``None`` is copied from a named recipe (``recipe=``, else :data:`DEFAULT_RECIPE` of the
    mode; see :data:`RECIPES`), and the result's ``assumptions`` says which value came from where.

    * ``mode``: ``full`` (all parameters trained), ``lora`` (frozen base at ``precision``, fp32..int4), ``qlora``
      (NF4 + double quantization base; embeddings, head and norms 16-bit).
    * Trained parameters: weights (2 bytes in 16-bit, 4 in fp32), gradients (same; with ``optimizer_in_backward``
      each gradient is applied and freed as soon as it is produced, so only the largest trained tensor's gradient
      is live: torchtune ``optimizer_in_bwd``), optimizer states (:func:`optimizer_state_bytes`) and, with
      ``master_weights``, a 4-byte fp32 master copy (counted in ``optimizer_gb``, as ZeRO counts it with the states).
    * ``zero``: 1 shards optimizer states and master weights over the GPUs, 2 also gradients, 3 also every weight,
      the frozen LoRA/QLoRA base included (FSDP full_shard; Rajbhandari et al. 2020 section 5; torchtune's
      distributed LoRA recipes shard the base), plus :data:`FSDP_PREFETCH_LAYERS` gathered 16-bit layers.
    * ``offload``: :data:`OFFLOAD`; paged optimizers (:data:`PAGED_OPTIMIZERS`) keep their states in host-backed
      unified memory. Host bytes are in ``host_gb``, not in ``total_gb``.
    * Activations: :func:`training_activation_bytes` with ``attention`` (FlashAttention by default) and
      ``recompute``; LoRA adds each adapter's rank-r intermediate.
    ``batch`` is the micro-batch per GPU; ``seq_len`` the tokens per sequence.
    """
    m = _spec(model)
    choice("mode", mode, ("full", "lora", "qlora"))
    rec = RECIPES[default_recipe(mode, optimizer)] if recipe is None else globals()["recipe"](recipe)
    if rec.mode != mode:
        raise InputError("recipe", recipe, f"a {mode} recipe (this one is {rec.mode})")
    src = {}

    def pick(name, value, default):
        if value is None:
            src[name] = f"{default} ({rec.name})"
            return default
        src[name] = f"{value} (given)"
        return value

    optimizer = pick("optimizer", optimizer, rec.optimizer)
    recompute = pick("checkpointing", recompute, rec.recompute)
    batch = pick("micro_batch", batch, rec.batch)
    seq_len = pick("seq_len", seq_len, rec.seq_len)
    lora_rank = pick("lora_rank", lora_rank, rec.lora_rank or 16) if mode != "full" else 0
    lora_targets = pick("lora_targets", lora_targets, rec.lora_targets) if mode != "full" else "all-linear"
    optimizer_in_backward = bool(pick("optimizer_in_backward", optimizer_in_backward, rec.optimizer_in_backward))
    choice("optimizer", optimizer, OPTIMIZERS)
    choice("attention", attention, ATTENTION_KERNELS)
    choice("offload", offload, OFFLOAD)
    z = int(whole("zero", zero, minimum=0))
    if z > 3:
        raise InputError("zero", zero, "a ZeRO stage 0, 1, 2 or 3 (3 = FSDP full shard)")
    g = int(whole("gpus", gpus))
    choice("recompute", recompute, RECOMPUTE)
    if mode == "full":
        choice("precision", precision, TRAIN_PRECISIONS)
    elif mode == "lora":
        choice("precision", precision, PRECISIONS)
    else:
        if precision not in ("bf16", "fp16", "nf4", "int4"):
            raise InputError("precision", precision, "for qlora the base is NF4; pass bf16 or fp16 (the compute dtype), nf4 or int4")
    _need_arch(m, f"{mode} training memory (activations)")
    if mode != "full":
        whole("lora_rank", lora_rank)
    compute = precision if precision in TRAIN_PRECISIONS else "bf16"
    wbytes = BYTES_PER_VALUE[compute]  # trained weights and their gradients
    if master_weights is None:
        master_weights = rec.master_weights and compute != "fp32"
        src["master_weights"] = f"{master_weights} ({rec.name})"
    else:
        src["master_weights"] = f"{bool(master_weights)} (given)"
    master_weights = bool(master_weights) and compute != "fp32"

    n = float(m.total_params)
    notes = []
    if mode == "full":
        trained = n
        frozen_bytes = 0.0
    else:
        trained = float(lora_trainable_params(m, lora_rank, lora_targets))
        if mode == "lora":
            frozen_bytes = _model_weight_bytes(m, precision, quantize_embeddings=False, group_size=QUANT_GROUP_SIZE, scale_bits=QUANT_SCALE_BITS)
        else:
            q = _quantizable_params(m)
            frozen_bytes = weight_bytes(q, "nf4") + (n - q) * 2.0
            notes.append("QLoRA: NF4 base with double quantization (4.127 bits per weight); embeddings, head and norms 16-bit")
    weights = frozen_bytes + trained * wbytes
    if optimizer_in_backward:
        grads = _largest_tensor_params(m, mode, lora_rank, lora_targets) * wbytes
    else:
        grads = trained * wbytes
    states = optimizer_state_bytes(m, optimizer, mode, lora_rank, lora_targets)
    master = trained * MASTER_WEIGHT_BYTES if master_weights else 0.0
    # ZeRO (Rajbhandari et al. 2020): 1 shards optimizer states (and master), 2 also gradients, 3 also parameters.
    if z >= 1:
        states /= g
        master /= g
    if z >= 2 and not optimizer_in_backward:
        grads /= g
    gather = 0.0
    if z >= 3:
        weights /= g
        if g > 1:
            if mode == "qlora":
                # NF4 layers are gathered as NF4 and dequantized one matrix at a time (bitsandbytes Linear4bit)
                gathered = FSDP_PREFETCH_LAYERS * _layer_params(m) * NF4_DQ_BITS_PER_WEIGHT / 8 + _largest_linear_params(m) * 2.0
            else:
                gathered = FSDP_PREFETCH_LAYERS * _layer_params(m) * 2.0
            gather = min(gathered, weights * (g - 1))
    host = 0.0
    if optimizer in PAGED_OPTIMIZERS:
        host += states
        states = 0.0
        notes.append(f"{optimizer}: optimizer states in paged (unified) memory, evicted to host RAM under pressure; counted in host_gb")
    if offload in ("optimizer", "all"):
        host += states + master
        states, master = 0.0, 0.0
    if offload == "all":
        host += weights + grads
        weights, grads = 0.0, 0.0
        notes.append("offload=all: sharded parameters and gradients live in host RAM; each layer is gathered to the GPU to compute")
    act = training_activation_bytes(m, seq_len, batch, recompute, compute, attention=attention, chunked_loss=chunked_loss)
    if mode != "full":
        # each adapter keeps its r-dim intermediate for the backward pass (16-bit); one layer's worth under full recompute
        per_layer_modules = len(_targets(lora_targets))
        layers_kept = 1 if recompute == "full" else m.layers
        act = act + np.asarray(seq_len) * np.asarray(batch) * int(lora_rank) * per_layer_modules * layers_kept * 2.0
    assumptions = {
        "recipe": f"{rec.name}: {rec.source}",
        **src,
        "attention": "FlashAttention / SDPA (no s x s scores)" if attention == "flash" else "materialized scores (eager attention)",
        "sharding": {0: "none (each GPU holds everything)", 1: "ZeRO-1 (optimizer states)", 2: "ZeRO-2 (+ gradients)",
                     3: "ZeRO-3 / FSDP full shard (+ weights, frozen base included)"}[z] + f" over {g} GPU(s)",
        "offload": offload,
        "loss": "chunked cross-entropy (16-bit logits, 8 chunks)" if chunked_loss else "fp32 logits",
        "precision": precision,
        "overhead_gb": f"{RUNTIME_OVERHEAD_GB:g} (CUDA context and workspaces)",
    }
    return MemoryBreakdown(
        weights_gb=_gb(weights + gather),
        kv_cache_gb=0.0,
        activations_gb=_gb(act),
        gradients_gb=_gb(grads),
        optimizer_gb=_gb(states + master),
        overhead_gb=RUNTIME_OVERHEAD_GB,
        gpus=g,
        mode=mode,
        notes=tuple(notes),
        host_gb=_gb(host),
        assumptions=assumptions,
    )


# --- one entry point for the CLI, widget and fit searches --------------------------------------


def estimate_memory(model, mode: str = "inference", precision: str = "bf16", context=2048, batch=1, *, gpus: int = 1, zero: int = 0, **kw) -> MemoryBreakdown:
    """``inference_memory`` or ``training_memory`` by ``mode`` (inference|full|lora|qlora; ``train`` = full).
    For training modes ``context`` is the sequence length; ``context=None`` / ``batch=None`` copy the mode's recipe."""
    if mode == "train":
        mode = "full"
    choice("mode", mode, MODES)
    if mode == "inference":
        return inference_memory(model, precision, 2048 if context is None else context, 1 if batch is None else batch, gpus=gpus, **kw)
    return training_memory(model, mode, precision, zero=zero, gpus=gpus, batch=batch, seq_len=context, **kw)


# --- fit ---------------------------------------------------------------------------------------


def fits(breakdown: MemoryBreakdown, gpu) -> bool | np.ndarray:
    """True where the per-GPU total is at most the device's memory."""
    dev = get_device(gpu)
    out = np.asarray(breakdown.total_gb) * GB <= dev.memory_bytes
    return bool(out) if out.ndim == 0 else out


def _tp_candidates(m, max_gpus: int) -> list[int]:
    if not _has_arch(m):
        return list(range(1, max_gpus + 1))
    return [k for k in range(1, max_gpus + 1) if m.heads % k == 0]


def min_gpus(model, gpu, precision: str = "bf16", context=2048, batch=1, mode: str = "inference", *, zero: int | None = None, max_gpus: int = 1024, **kw) -> int | None:
    """Fewest GPUs of type ``gpu`` that hold the model, or None if not within ``max_gpus``.

    Inference: tensor parallelism with a degree that divides the attention heads (vLLM's rule); weights
    and KV heads split, the runtime overhead and activations do not, so 2 x 40 GB is less than 80 GB.
    Training: data parallel with ZeRO stage ``zero`` (default 3, which shards everything it can);
    activations do not shrink with more GPUs.
    """
    m = _spec(model)
    dev = get_device(gpu)
    cap = int(whole("max_gpus", max_gpus))
    if mode == "train":
        mode = "full"
    choice("mode", mode, MODES)
    if mode == "inference":
        for k in _tp_candidates(m, cap):
            if inference_memory(m, precision, context, batch, gpus=k, **kw).total_gb <= dev.memory_gb:
                return k
        return None
    z = 3 if zero is None else zero
    cap_bytes = dev.memory_bytes

    def ok(k: int) -> bool:
        return training_memory(m, mode, precision, zero=z, gpus=k, batch=batch, seq_len=context, **kw).total_gb * GB <= cap_bytes

    if ok(1):
        return 1
    if z == 0:
        return None
    # per-GPU memory never rises with the GPU count under ZeRO / FSDP (tests/test_memory.py): bisect
    if not ok(cap):
        return None
    lo, hi = 1, cap
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _largest(fn, hi: int) -> int:
    """Largest x in [1, hi] with fn(x) True, for monotone fn; 0 if fn(1) is False."""
    if not fn(1):
        return 0
    if fn(hi):
        return hi
    lo = 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fn(mid):
            lo = mid
        else:
            hi = mid
    return lo


def max_batch(model, gpu, precision: str = "bf16", context=2048, mode: str = "inference", *, gpus: int = 1, limit: int = 65536, **kw) -> int:
    """Largest batch (sequences of ``context`` tokens) that fits on ``gpus`` GPUs of type ``gpu``; 0 if none."""
    dev = get_device(gpu)
    whole("limit", limit)
    return _largest(lambda b: estimate_memory(model, mode, precision, context, b, gpus=gpus, **kw).total_gb <= dev.memory_gb, int(limit))


def max_context(model, gpu, precision: str = "bf16", batch=1, mode: str = "inference", *, gpus: int = 1, limit: int | None = None, **kw) -> int:
    """Longest context (tokens per sequence) that fits, capped at the model's ``max_context``; 0 if none."""
    m = _spec(model)
    dev = get_device(gpu)
    cap = int(limit or getattr(m, "max_context", 0) or 0)
    if cap <= 0:
        _need_arch(m, "max_context")
    return _largest(lambda c: estimate_memory(m, mode, precision, c, batch, gpus=gpus, **kw).total_gb <= dev.memory_gb, cap)


def fit_table(
    model_ids: Sequence[str],
    gpu_ids: Sequence[str] | None = None,
    precisions: Sequence[str] = ("bf16", "int8", "int4"),
    context=4096,
    batch=1,
    mode: str = "inference",
    **kw,
):
    """Long table (model, gpu, precision, total_gb, fits, min_gpus) for heatmaps."""
    import pandas as pd

    gpu_ids = list(gpu_ids) if gpu_ids is not None else [d.id for d in devices().values() if d.kind == "gpu"]
    rows = []
    for mid in model_ids:
        for p in precisions:
            br = estimate_memory(mid, mode, p, context, batch, **kw)
            for gid in gpu_ids:
                rows.append(
                    {
                        "model": mid,
                        "precision": p,
                        "gpu": gid,
                        "total_gb": round(float(br.total_gb), 2),
                        "fits": fits(br, gid),
                        "min_gpus": min_gpus(mid, gid, p, context, batch, mode, **kw),
                    }
                )
    return pd.DataFrame(rows)


__all__ = [
    "MemoryBreakdown",
    "bits_per_weight",
    "weight_bytes",
    "kv_bytes_per_token",
    "kv_cache_bytes",
    "inference_activation_bytes",
    "inference_activation_value_bytes",
    "inference_memory",
    "training_activation_bytes",
    "lora_trainable_params",
    "training_memory",
    "estimate_memory",
    "fits",
    "min_gpus",
    "max_batch",
    "max_context",
    "fit_table",
    "custom_model",
    "published_memory",
    "validation_table",
    "LLAMA_65B",
    "ram_tier",
    "edge_memory",
]


# --- validation against published figures -------------------------------------------------------

def __getattr__(name):  # LLAMA_65B is read from the catalog on first use, not at import
    if name == "LLAMA_65B":
        return get_model("llama-65b")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# LLAMA_65B: LLaMA-65B, the QLoRA paper's model (catalog row llama-65b).

_PUBLISHED_SCHEMA = None


def _published_schema():
    return Schema(
        columns=(
            Column("id"),
            Column("model"),
            Column("kind", choices=("fits_in", "exceeds", "hardware", "kv_bytes_per_token", "weights_gb")),
            Column("mode", choices=MODES),
            Column("precision", choices=PRECISIONS),
            Column("context", "int", required=False, positive=True),
            Column("batch", "int", required=False, positive=True),
            Column("recompute", required=False, choices=RECOMPUTE),
            Column("lora_rank", "int", required=False, non_negative=True),
            Column("gpus", "int", required=False, positive=True),
            Column("gpu", required=False),
            Column("group_size", "int", required=False, positive=True),
            Column("published", "float", positive=True),
            Column("unit", choices=("GB", "KiB", "B")),
            SOURCE,
            AS_OF,
            NOTES,
        )
    )


def published_memory() -> list[dict]:
    """Rows of ``data/memory_published.csv`` (published memory figures with sources)."""
    return load_csv("memory_published.csv", _published_schema())


def _model_or_extra(model_id: str):
    return get_model(model_id)


_UNIT_BYTES = {"GB": GB, "KiB": 1024.0, "B": 1.0}


def validation_table():
    """costlib against each published figure: prediction, published value, error, verdict.

    ``kv_bytes_per_token`` / ``weights_gb``: relative error of costlib's bytes (match within 2.5% / 5%). ``fits_in`` / ``exceeds``: the
    single-GPU total against the bound. ``hardware``: costlib's minimum GPU count (same GPU type, tensor
    parallel for inference, ZeRO-3 data parallel for training) and memory summed over those GPUs, against
    the configuration the publisher ran (which they say is not the minimum): consistent when costlib needs
    no more GPUs than they used.
    """
    import pandas as pd

    rows = []
    for r in published_memory():
        m = _model_or_extra(r["model"])
        pub = r["published"] * _UNIT_BYTES[r["unit"]]
        out = {"id": r["id"], "model": r["model"], "claim": r["notes"].split(";")[0], "source": r["source"]}
        if r["kind"] == "kv_bytes_per_token":
            pred = kv_bytes_per_token(m, "fp16" if r["precision"] in ("bf16", "fp16") else r["precision"])
            out.update(
                published=f"{r['published']:,.{0 if r['unit'] == 'B' else 1}f} {r['unit']}",
                costlib=f"{pred / _UNIT_BYTES[r['unit']]:,.{0 if r['unit'] == 'B' else 1}f} {r['unit']}",
                error_pct=round(100 * (pred / pub - 1), 2),
                verdict="match" if abs(pred / pub - 1) < 0.025 else "differs",
            )
        elif r["kind"] == "weights_gb":
            pred = _model_weight_bytes(m, r["precision"], quantize_embeddings=r["group_size"] is not None, group_size=r["group_size"] or QUANT_GROUP_SIZE, scale_bits=QUANT_SCALE_BITS)
            out.update(
                published=f"{r['published']:g} GB",
                costlib=f"{pred / GB:.2f} GB",
                error_pct=round(100 * (pred / pub - 1), 1),
                verdict="match" if abs(pred / pub - 1) < 0.05 else "differs",
            )
        else:
            kw = {}
            if r["group_size"]:
                kw = dict(group_size=r["group_size"], quantize_embeddings=True)
            if r["mode"] != "inference":
                kw = dict(recompute=r["recompute"] or "none")
                if r["mode"] != "full":
                    kw["lora_rank"] = r["lora_rank"] or 16
            if r["kind"] in ("fits_in", "exceeds"):
                br = estimate_memory(m, r["mode"], r["precision"], r["context"], r["batch"], **kw)
                pred = float(br.total_gb) * GB
                ok = pred <= pub if r["kind"] == "fits_in" else pred > pub
                out.update(
                    published=("< " if r["kind"] == "fits_in" else "> ") + f"{r['published']:g} GB",
                    costlib=f"{pred / GB:,.1f} GB on 1 device",
                    error_pct=round(100 * (pred / pub - 1), 1),
                    verdict="consistent" if ok else "contradicts",
                )
            else:
                dev = get_device(r["gpu"])
                k = min_gpus(m, dev, r["precision"], r["context"], r["batch"], r["mode"], **kw)
                if k is None:
                    out.update(published=f"{r['gpus']} x {dev.id} ({r['published']:g} GB)", costlib="does not fit", error_pct=float("nan"), verdict="contradicts")
                else:
                    br = estimate_memory(m, r["mode"], r["precision"], r["context"], r["batch"], gpus=k, zero=3, **kw)
                    need = float(br.total_gb) * k * GB
                    out.update(
                        published=f"{r['gpus']} x {dev.id} ({r['published']:g} GB)",
                        costlib=f"{k} x {dev.id} ({need / GB:,.0f} GB used)",
                        error_pct=round(100 * (k * dev.memory_gb * GB / pub - 1), 1),
                        verdict="consistent" if k <= r["gpus"] else "contradicts",
                    )
        rows.append(out)
    return pd.DataFrame(rows)


# --- seed table and edge devices ----------------------------------------------------------------

GGUF_BLOCK = 32
"""llama.cpp Q4_0 / Q8_0: blocks of 32 weights with one fp16 scale (ggml-common.h QK4_0 = QK8_0 = 32),
4.5 and 8.5 bits per weight; GGUF files quantize the embeddings too. The inference module reads
it for the llama.cpp engine class."""
EDGE_RAM_TIERS_GB = (8, 16, 32, 64)
"""RAM sizes of common laptops, desktops and phones the edge section checks (the issue's tiers)."""


def ram_tier(total_gb, tiers: Sequence[float] = EDGE_RAM_TIERS_GB):
    """Smallest RAM tier (GB) that holds ``total_gb``, or None when none does."""
    t = positive("total_gb", total_gb)
    for tier in sorted(tiers):
        if t <= tier:
            return tier
    return None


def edge_memory(model, precision: str, context=4096, batch=1) -> MemoryBreakdown:
    """Memory on a CPU / laptop with llama.cpp (GGUF Q4_0 / Q8_0 blocks of 32, embeddings quantized,
    fp16 KV cache); the runtime overhead stands for llama.cpp's compute buffers and runtime."""
    return inference_memory(model, precision, context, batch, group_size=GGUF_BLOCK, quantize_embeddings=True)
