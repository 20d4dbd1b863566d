"""Fine-tuning throughput, time, dollars and memory, calibrated on published fine-tuning measurements.

The rule
--------
A fine-tuning step on one GPU processes ``micro_batch x seq_len`` tokens and executes

* full: 6·N FLOPs per token (Kaplan et al. 2020), plus 2·N more with activation checkpointing (the forward
  pass runs again in the backward pass, Korthikanti et al. 2022);
* LoRA / QLoRA: 4·N + 6·A (the frozen base runs forward and back-propagates activation gradients but computes no
  weight gradients; A = adapter parameters, Hu et al. 2021), plus 2·N + 2·A with checkpointing;
* attention scores: :func:`costlib.training.attention_training_flops_per_token` (x 4/3 with checkpointing).

The step takes ``max(FLOPs / (peak x efficiency), weight traffic / bandwidth)`` plus the time of what is not a
matmul and that costlib can count: QLoRA's NF4 -> BF16 dequantization of every frozen weight on each pass
(Dettmers et al. 2023), paging of optimizer states that do not fit the GPU (bitsandbytes paged optimizers) and
CPU offload traffic, each over the host link, and, for a framework family whose measurements identify it, a fixed
overhead per micro-step (kernel launches, Python, ZeRO-3 gathers, 4-bit dequantization kernels: :data:`STEP_OVERHEAD_RULE`).
``efficiency`` is not guessed: it is a band per framework family (:data:`FRAMEWORKS`: torchtune's packed, compiled
recipes; Hugging Face Trainer + PEFT / DeepSpeed scripts) calibrated on the published measurements in
``data/finetune_benchmarks.csv`` (:func:`efficiency_band`), with a leave-one-out back-test (:func:`backtest`). Memory and the ``fits`` verdict come from :func:`costlib.memory.training_memory`,
the same model ``costlib memory`` uses.

Packing and padding
-------------------
Packed sequences (torchtune ``packed: True``, TRL ``packing=True``) waste no tokens. Unpacked micro-batches of more
than one example are padded to their longest example; costlib assumes example lengths spread evenly between 0 and
twice their mean (capped at ``seq_len``), so the padded length is the mean of the longest of ``b``:
``2·b/(b + 1)`` x the mean (:func:`padding_factor`). Micro-batch 1 has no padding.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, records
from .errors import InputError, UnknownIdError
from .hardware import Device, devices, get_device
from .memory import (
    NF4_DQ_BITS_PER_WEIGHT,
    OFFLOAD,
    OPTIMIZERS,
    RECOMPUTE,
    RECIPES,
    MemoryBreakdown,
    _quantizable_params,
    default_recipe,
    lora_trainable_params,
    recipe,
    training_memory,
)
from .models import ModelSpec, get_model, models
from .training import (
    FINETUNE_METHODS,
    FLOPS_PER_PARAM_TOKEN,
    FORWARD_FLOPS_PER_PARAM_TOKEN,
    LORA_RANK_DEFAULT,
    MFU_BAND_COVERAGE,
    _mfu,
    _price,
    attention_training_flops_per_token,
    compute_precision,
    finetune_flops_per_token,
    gpu_hours,
    lora_adapter_params,
    prediction_band,
    qlora_dequant_seconds,
)
from .uncertainty import Band
from .units import GB, SECONDS_PER_HOUR
from .validate import choice, fraction, positive, whole

# --------------------------------------------------------------------------------------
# Named constants
# --------------------------------------------------------------------------------------
QLORA_DEQUANT_BYTES_PER_WEIGHT = NF4_DQ_BITS_PER_WEIGHT / 8 + 2.0
"""HBM traffic of dequantizing one NF4 weight for a matmul: read 4.127 bits, write the BF16 copy (2 bytes) that the
matmul then reads (Dettmers et al. 2023, section 3: "we dequantize the storage data type to the computation data type")."""
HOST_LINK_GB_S = {"pcie4": 25.0, "pcie5": 50.0}
"""Measured host-to-device bandwidth per direction: PCIe 4.0 x16 about 25 GB/s and PCIe 5.0 x16 about 50 GB/s of
the 31.5 / 63 GB/s theoretical (PCI-SIG; NVIDIA CUDA samples bandwidthTest), as of 2024."""
PCIE5_DEVICES = ("h100-sxm", "h100-pcie", "h200", "b200", "mi300x")
"""Devices whose hosts connect over PCIe 5.0 (Hopper, Blackwell and MI300X platforms); others PCIe 4.0."""
FINETUNE_COVERAGE = MFU_BAND_COVERAGE
"""Nominal coverage of the fine-tuning efficiency band (80 %, as the pre-training MFU bands)."""
FRAMEWORKS = ("torchtune", "hf-peft")
"""Framework families with their own efficiency band: ``torchtune`` (packed, compiled recipes, micro-batch 2 x 2048 in
its README table) and ``hf-peft`` (Hugging Face Transformers Trainer + PEFT + DeepSpeed scripts, micro-batch 1 with
gradient accumulation, as Qwen's finetune.py and the QLoRA paper's qlora.py)."""
FRAMEWORK_NAMES = {"torchtune": "torchtune (packed, compiled)", "hf-peft": "Hugging Face Trainer + PEFT / DeepSpeed",
                   "pooled": "all framework families pooled"}
MIN_FAMILY_MEASUREMENTS = 5
"""Fewest in-fit measurements a framework family needs for its own band; below that the pooled band is used and said so."""
EFFICIENCY_METHOD = (
    "calibrated on published fine-tuning measurements. Fine-tuning efficiency = executed FLOPs per step / (dense BF16 peak x (measured step time - modelled "
    "dequantization, paging and offload time)) for each measurement in finetune_benchmarks.csv marked use_in_fit; "
    "one band per framework family (torchtune: packed, compiled, micro-batch 2 x 2048; hf-peft: Hugging Face Trainer + PEFT / "
    "DeepSpeed, micro-batch 1, Qwen's published profile at 256-8192 tokens), pooled where a family has fewer than 5; "
    "band = costlib.training.prediction_band (order statistics, or a log-t interval when measurements are few), "
    "nominal coverage 80 %. The hf-peft measurements are all Qwen's on one A100 80GB: read its band as that stack's."
)


# --------------------------------------------------------------------------------------
# FLOPs and time of one step
# --------------------------------------------------------------------------------------
def adapter_params(model, method: str, lora_rank: int = 16, lora_targets="all-linear") -> float:
    """Trainable LoRA parameters (0 for full fine-tuning)."""
    choice("method", method, FINETUNE_METHODS)
    if method == "full":
        return 0.0
    return float(lora_trainable_params(get_model(model), lora_rank, lora_targets))


def executed_flops_per_token(model, method: str, seq_len=2048, checkpointing: str = "full", lora_rank: int = 16, lora_targets="all-linear") -> float:
    """FLOPs a GPU executes per fine-tuning token (module docstring): full 6·N (8·N with checkpointing), LoRA/QLoRA
    4·N + 6·A (6·N + 8·A), plus attention scores (x 4/3 with checkpointing). N = active parameters.
    Llama-3.1-8B LoRA rank 8 (torchtune targets), 2048 tokens, checkpointing: 6 x 8.03e9 + 8 x 2.1e7 + 2.15e9."""
    m = get_model(model)
    choice("method", method, FINETUNE_METHODS)
    choice("checkpointing", checkpointing, RECOMPUTE)
    n = float(m.active_params)
    a = adapter_params(m, method, lora_rank, lora_targets)
    if method == "full":
        per = FLOPS_PER_PARAM_TOKEN * n
        redo = FORWARD_FLOPS_PER_PARAM_TOKEN * n
    else:
        per = (FLOPS_PER_PARAM_TOKEN - FORWARD_FLOPS_PER_PARAM_TOKEN) * n + FLOPS_PER_PARAM_TOKEN * a
        redo = FORWARD_FLOPS_PER_PARAM_TOKEN * (n + a)
    attn = attention_training_flops_per_token(m, seq_len)
    if checkpointing == "full":
        return per + redo + attn * 4.0 / 3.0
    return per + attn


def padding_factor(micro_batch: int, packed: bool) -> float:
    """Computed tokens per useful token: 1 when packed or with micro-batch 1; else 2·b/(b + 1) (module docstring)."""
    b = int(whole("micro_batch", micro_batch))
    if packed or b == 1:
        return 1.0
    return 2.0 * b / (b + 1.0)


def host_link_bytes_s(gpu) -> float:
    """Host-to-device bytes per second per direction (:data:`HOST_LINK_GB_S`)."""
    dev = get_device(gpu)
    return HOST_LINK_GB_S["pcie5" if dev.id in PCIE5_DEVICES else "pcie4"] * GB


def _passes(checkpointing: str) -> int:
    """Times each layer's weights are used per step: forward, backward, and the recomputed forward."""
    return 3 if checkpointing == "full" else 2


def data_parallel_comm_s(model, method: str, gpu, *, gpus: int, zero: int = 0, lora_rank: int = 16, lora_targets="all-linear") -> float:
    """Seconds per micro-step each GPU spends in data-parallel collectives, at the scale-up link's peak per direction
    (``interconnect_gb_s`` / 2; the host PCIe link for a device without one): a lower bound, like the other roofline terms.

    Ring collectives move (k - 1) / k of a tensor through each of k GPUs (Rajbhandari et al. 2020, ZeRO, section 7).
    ZeRO-3 / FSDP full shard all-gathers the weights before the forward and again before the backward (FSDP reshards
    after the forward; a recomputed forward runs inside the gathered layer) and reduce-scatters the trained gradients:
    (k - 1) / k x (2 x weight bytes + 2 B x trained params). ZeRO 0-2 (DDP) all-reduce the trained gradients:
    (k - 1) / k x 2 x 2 B x trained. Weight bytes are 16-bit (NF4 for a QLoRA base). FSDP prefetches the next layer's
    gather while the current one computes, so the step takes the longer of compute and communication. One GPU: 0.
    Llama-2-7B full, 8 x A100 (600 GB/s both ways), ZeRO-3: 7/8 x 6 B x 6.74e9 / 300e9 = 0.118 s."""
    m = get_model(model)
    dev = get_device(gpu)
    k = int(whole("gpus", gpus))
    if k == 1:
        return 0.0
    n = float(m.total_params)
    trained = n if method == "full" else adapter_params(m, method, lora_rank, lora_targets)
    per_direction = dev.interconnect_gb_s * GB / 2.0 if dev.interconnect_gb_s else host_link_bytes_s(dev)
    if int(zero) >= 3:
        weight_bytes = (NF4_DQ_BITS_PER_WEIGHT / 8 if method == "qlora" else 2.0) * n
        moved = 2.0 * weight_bytes + 2.0 * trained
    else:
        moved = 2.0 * 2.0 * trained
    return (k - 1) / k * moved / per_direction


def step_overheads_s(model, method: str, gpu, *, gpus: int, memory: MemoryBreakdown, checkpointing: str, offload: str,
                     optimizer: str, zero: int = 0, lora_rank: int = 16, lora_targets="all-linear") -> dict:
    """Seconds per step (per GPU) that are not matmuls and that costlib counts, by cause.

    * ``comm``: data-parallel collectives (:func:`data_parallel_comm_s`), overlapped with compute (the step takes the longer).

    * ``dequant``: QLoRA dequantizes every NF4 weight on each pass: passes x quantized params x
      :data:`QLORA_DEQUANT_BYTES_PER_WEIGHT` / HBM bandwidth (a roofline lower bound).
    * ``paging``: paged optimizer states beyond the GPU's free memory move out and back once per step over the host
      link; the migration runs alongside the backward pass (optimizer-in-backward updates layer by layer), so the step
      takes the longer of compute and paging, not their sum.
    * ``offload``: ``all`` streams each GPU's 16-bit parameter shard in on every pass and its gradient shard out;
      ``optimizer`` moves the gradient shard out and the updated 16-bit shard back.
    """
    m = get_model(model)
    dev = get_device(gpu)
    out = {"dequant": 0.0, "paging": 0.0, "offload": 0.0,
           "comm": data_parallel_comm_s(m, method, dev, gpus=gpus, zero=zero, lora_rank=lora_rank, lora_targets=lora_targets)}
    passes = _passes(checkpointing)
    if method == "qlora":
        out["dequant"] = passes * _quantizable_params(m) * QLORA_DEQUANT_BYTES_PER_WEIGHT / dev.bandwidth_bytes_s
    link = host_link_bytes_s(dev)
    if optimizer.endswith("-paged"):
        spare = max(0.0, dev.memory_bytes - float(memory.total_gb) * GB)
        paged = float(memory.host_gb) * GB if offload == "none" else 0.0
        out["paging"] = 2.0 * max(0.0, paged - spare) / link
    if offload != "none":
        trained = float(m.total_params) if method == "full" else adapter_params(m, method)
        shard = 2.0 * trained / gpus
        if offload == "all":
            out["offload"] = (passes + 1) * shard / link
        else:
            out["offload"] = 2 * shard / link
    return out


def weight_traffic_s(model, method: str, gpu, checkpointing: str) -> float:
    """Memory-bound floor of a step: every weight is read from HBM on each pass (16-bit; NF4 for QLoRA)."""
    m = get_model(model)
    dev = get_device(gpu)
    n = float(m.total_params)
    per_weight = NF4_DQ_BITS_PER_WEIGHT / 8 if method == "qlora" else 2.0
    return _passes(checkpointing) * n * per_weight / dev.bandwidth_bytes_s


# --------------------------------------------------------------------------------------
# Published measurements and the calibrated efficiency band
# --------------------------------------------------------------------------------------
QWEN_7B = ModelSpec(
    id="qwen-7b", name="Qwen-7B", layers=32, d_model=4096, heads=32, kv_heads=32, head_dim=128, ffn_dim=11008,
    ffn_kind="swiglu", vocab=151936, tied_embeddings=False, bias="qkv", attention="mha", max_context=8192, family="Qwen",
    published_params=7.72e9, source="https://huggingface.co/Qwen/Qwen-7B/blob/main/config.json", as_of="2023-09-25",
    notes="Qwen (v1.1) config: hidden 4096, 32 layers, 32 heads, intermediate_size 22016 = the two gated halves (w1, w2 "
          "of 11008; c_proj 11008 -> 4096), vocab 151936, untied lm_head, c_attn with bias, seq_length 8192",
)
"""Qwen-7B (2023), the model of the Qwen README's fine-tuning profile: not a catalog model (nobody prices it today), kept
here only so its published measurements calibrate the hf-peft efficiency band. 7.72B parameters as counted (the
Hugging Face page lists 7.72B)."""
BENCHMARK_MODELS = {"qwen-7b": QWEN_7B}


def benchmark_model(model_id) -> ModelSpec:
    """The architecture a measurement names: a catalog model, or one of :data:`BENCHMARK_MODELS`."""
    if isinstance(model_id, str) and model_id in BENCHMARK_MODELS:
        return BENCHMARK_MODELS[model_id]
    return get_model(model_id)


def _bench_checks(row: dict) -> str | None:
    if row["gpu_id"] not in devices():
        return f"gpu_id: {row['gpu_id']!r} is not in hardware.csv"
    if row["model"] not in BENCHMARK_MODELS and row["model"] not in models():
        return f"model: {row['model']!r} is neither in models.csv nor in costlib.finetune.BENCHMARK_MODELS"
    if not row["use_in_fit"] and not row["exclude_reason"]:
        return "exclude_reason: a measurement kept out of the fit must say why"
    if row["method"] != "full" and row["lora_rank"] is None:
        return "lora_rank: a LoRA / QLoRA measurement needs its rank"
    return None


BENCH_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("model"),
        Column("method", choices=FINETUNE_METHODS),
        Column("gpu_id"),
        Column("gpus", "int", positive=True),
        Column("seq_len", "int", positive=True, unit="tokens"),
        Column("micro_batch", "int", positive=True),
        Column("packed", "bool"),
        Column("checkpointing", choices=RECOMPUTE),
        Column("optimizer", choices=OPTIMIZERS),
        Column("optimizer_in_backward", "bool"),
        Column("offload", choices=OFFLOAD),
        Column("zero", "int", non_negative=True),
        Column("lora_rank", "int", required=False, positive=True),
        Column("lora_targets", required=False),
        Column("tokens_per_s", "float", positive=True, unit="tokens/s (all GPUs)"),
        Column("peak_memory_gib", "float", required=False, positive=True, unit="GiB per GPU"),
        Column("use_in_fit", "bool"),
        Column("exclude_reason", required=False),
        Column("framework", choices=FRAMEWORKS),
        SOURCE,
        AS_OF,
        NOTES,
    ),
    row_checks=(_bench_checks,),
)


@dataclass(frozen=True)
class FinetuneBenchmark:
    """One published fine-tuning measurement and the setting it was measured in."""

    id: str
    model: str
    method: str
    gpu_id: str
    gpus: int
    seq_len: int
    micro_batch: int
    packed: bool
    checkpointing: str
    optimizer: str
    optimizer_in_backward: bool
    offload: str
    zero: int
    lora_rank: int | None
    lora_targets: str | None
    tokens_per_s: float
    peak_memory_gib: float | None
    use_in_fit: bool
    exclude_reason: str
    framework: str
    source: str
    as_of: str
    notes: str = ""


@lru_cache(maxsize=1)
def load_finetune_benchmarks() -> tuple[FinetuneBenchmark, ...]:
    """The measurements in ``data/finetune_benchmarks.csv``, validated."""
    return records("finetune_benchmarks.csv", BENCH_SCHEMA, FinetuneBenchmark, text_fields=("notes", "exclude_reason"))


def get_benchmark(bench_id: str) -> FinetuneBenchmark:
    table = {b.id: b for b in load_finetune_benchmarks()}
    if bench_id not in table:
        raise UnknownIdError("benchmark", bench_id, sorted(table))
    return table[bench_id]


def _bench_memory(b: FinetuneBenchmark) -> MemoryBreakdown:
    kw = {}
    if b.method != "full":
        kw = dict(lora_rank=b.lora_rank, lora_targets=b.lora_targets or "all-linear")
    return training_memory(
        benchmark_model(b.model), b.method, "bf16", b.optimizer, zero=b.zero, gpus=b.gpus, batch=b.micro_batch, seq_len=b.seq_len,
        recompute=b.checkpointing, optimizer_in_backward=b.optimizer_in_backward, offload=b.offload,
        master_weights=False, chunked_loss=b.source.startswith("https://github.com/pytorch/torchtune"), **kw,
    )


def _bench_parts(b: FinetuneBenchmark) -> dict:
    """FLOPs per step per GPU, peak, overheads and weight traffic for a benchmark's setting."""
    dev = get_device(b.gpu_id)
    mem = _bench_memory(b)
    model = benchmark_model(b.model)
    fpt = executed_flops_per_token(model, b.method, b.seq_len, b.checkpointing, b.lora_rank or 16, b.lora_targets or "all-linear")
    tokens_step = b.micro_batch * b.seq_len * padding_factor(b.micro_batch, b.packed)
    over = step_overheads_s(model, b.method, dev, gpus=b.gpus, memory=mem, checkpointing=b.checkpointing, offload=b.offload,
                            optimizer=b.optimizer, zero=b.zero, lora_rank=b.lora_rank or 16, lora_targets=b.lora_targets or "all-linear")
    return {
        "flops_step": fpt * tokens_step, "peak": dev.peak_flops(compute_precision(dev)), "overheads": over,
        "traffic_s": weight_traffic_s(model, b.method, dev, b.checkpointing), "memory": mem,
        "useful_tokens_step": b.micro_batch * b.seq_len,
    }


def implied_efficiency(bench: FinetuneBenchmark | str) -> float:
    """Efficiency a measurement implies: executed FLOPs per step / (peak x (step time - modelled overheads)).
    Above 1 means the measurement cannot be what costlib's FLOP count says (see the row's exclude_reason)."""
    b = get_benchmark(bench) if isinstance(bench, str) else bench
    p = _bench_parts(b)
    step_s = p["useful_tokens_step"] * b.gpus / b.tokens_per_s
    compute_s = step_s - p["overheads"]["dequant"] - p["overheads"]["offload"]
    if compute_s <= 0:
        return float("inf")
    return float(p["flops_step"] / (p["peak"] * compute_s))


def fit_benchmarks() -> tuple[FinetuneBenchmark, ...]:
    return tuple(b for b in load_finetune_benchmarks() if b.use_in_fit)


def _family_rows(framework, exclude=()) -> tuple[tuple[FinetuneBenchmark, ...], str]:
    """The in-fit measurements a band is drawn from, and which family they are (``pooled`` when too few)."""
    rows = tuple(b for b in fit_benchmarks() if b.id not in exclude)
    if framework is None:
        return rows, "pooled"
    choice("framework", framework, FRAMEWORKS)
    own = tuple(b for b in rows if b.framework == framework)
    if len(own) >= MIN_FAMILY_MEASUREMENTS:
        return own, framework
    return rows, "pooled"


def _step_parts(b: FinetuneBenchmark) -> tuple[float, float]:
    """(seconds of dense-peak compute per step, measured step seconds less the modelled dequantization and offload)."""
    p = _bench_parts(b)
    step_s = p["useful_tokens_step"] * b.gpus / b.tokens_per_s
    return p["flops_step"] / p["peak"], step_s - p["overheads"]["dequant"] - p["overheads"]["offload"]


def _overhead_identified(rows) -> bool:
    """A fixed per-step overhead is fitted only where it can be told apart from the efficiency: the same model and
    method measured at two or more tokens per step in one framework family (:data:`STEP_OVERHEAD_RULE`)."""
    seen: dict = {}
    for b in rows:
        seen.setdefault((b.model, b.method, b.gpu_id, b.gpus), set()).add(b.seq_len * b.micro_batch)
    return any(len(v) >= 2 for v in seen.values())


STEP_OVERHEAD_RULE = (
    "step time = (peak-FLOP seconds / e + t0) x r: e (the efficiency of the matmuls) and t0 (a fixed overhead per "
    "micro-step: kernel launches, Python, ZeRO-3 gathers, 4-bit dequantization kernels) fitted per framework family by "
    "least squares on log step time (grid search, e in 0.05-1, t0 from 0 to the shortest measured step); t0 = 0 unless "
    "the family has one model and method measured at two or more tokens per step (otherwise the two cannot be told "
    "apart); r = measured / fitted step time, its band from costlib.training.prediction_band; the efficiency band "
    "reported is e / r"
)


def _fit_family(rows) -> tuple[float, float]:
    """(e, t0) of :data:`STEP_OVERHEAD_RULE` for ``rows``: least squares on log step time over a grid."""
    x, t = np.array([_step_parts(b) for b in rows]).T
    effs = np.geomspace(0.05, 1.0, 400)
    if not _overhead_identified(rows) or t.min() <= 0:
        sse = np.sum((np.log(t)[None, :] - np.log(x[None, :] / effs[:, None])) ** 2, axis=1)
        return float(effs[int(np.argmin(sse))]), 0.0
    t0s = np.linspace(0.0, float(t.min()), 200)
    model = x[None, None, :] / effs[:, None, None] + t0s[None, :, None]
    sse = np.sum((np.log(t)[None, None, :] - np.log(model)) ** 2, axis=2)
    i, j = np.unravel_index(int(np.argmin(sse)), sse.shape)
    return float(effs[i]), float(t0s[j])


@lru_cache(maxsize=256)
def _family_model(exclude: tuple, coverage: float, framework=None) -> dict:
    rows, key = _family_rows(framework, exclude)
    e, t0 = _fit_family(rows)
    ratios = [tm / (xs / e + t0) for xs, tm in (_step_parts(b) for b in rows)]
    r, method = prediction_band(ratios, coverage)
    band = Band(e / r.high, e / r.mid, min(e / r.low, 1.0))
    return {"band": band, "e_ref": e, "t0_s": t0, "method": method, "key": key, "n": len(rows)}


def efficiency_band(coverage: float = FINETUNE_COVERAGE, exclude=(), framework: str | None = None) -> Band:
    """The calibrated fine-tuning efficiency band (:data:`EFFICIENCY_METHOD`, :data:`STEP_OVERHEAD_RULE`) of a
    framework family (:data:`FRAMEWORKS`; ``None`` pools them all); ``exclude`` leaves measurements out."""
    return _family_model(tuple(sorted(exclude)), float(coverage), framework)["band"]


def step_overhead_s(framework: str | None = None, coverage: float = FINETUNE_COVERAGE, exclude=()) -> tuple[float, float]:
    """(t0, e_ref) of a family: the fixed seconds per micro-step at the reference efficiency e_ref. The step's compute
    is ``FLOP seconds / e + t0 x e_ref / e`` (the overhead scales with the band as the matmuls do; t0 = 0 where not identified)."""
    m = _family_model(tuple(sorted(exclude)), float(coverage), framework)
    return m["t0_s"], m["e_ref"]


def efficiency_info(framework: str | None = None, coverage: float = FINETUNE_COVERAGE) -> dict:
    """Which family, how many measurements, the fitted per-step overhead and the interval method :func:`efficiency_band` used."""
    m = _family_model((), float(coverage), framework)
    return {"framework": FRAMEWORK_NAMES[m["key"]], "measurements": m["n"], "method": m["method"],
            "step_overhead_s": round(m["t0_s"], 4), "reference_efficiency": round(m["e_ref"], 4),
            "nominal_coverage": float(coverage)}


def recipe_framework(recipe_key: str) -> str:
    """The framework family of a :data:`costlib.memory.RECIPES` entry: ``torchtune`` for torchtune's recipes, else
    ``hf-peft`` (the QLoRA paper's qlora.py, Hugging Face Trainer and PEFT defaults)."""
    return "torchtune" if recipe_key.startswith("torchtune") else "hf-peft"


# --------------------------------------------------------------------------------------
# An estimate
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FinetuneRun:
    """Throughput, time, dollars and memory of a fine-tuning job, with every assumption."""

    model: str
    method: str
    gpu: str
    gpus: int
    useful_tokens: float
    computed_tokens: float
    flops_per_token: float
    efficiency: Band
    tokens_per_s: Band
    wall_hours: Band
    gpu_hours: Band
    cost_usd: Band | None
    memory: MemoryBreakdown
    fits: bool
    assumptions: dict = field(default_factory=dict)

    def as_dict(self, digits: int = 4) -> dict:
        def b(x):
            return None if x is None else x.as_dict(digits)

        return {
            "model": self.model, "method": self.method, "gpu": self.gpu, "gpus": self.gpus,
            "tokens": self.useful_tokens, "computed_tokens": float(f"{self.computed_tokens:.{digits}g}"),
            "flops_per_token": float(f"{self.flops_per_token:.{digits}g}"),
            "tokens_per_s": b(self.tokens_per_s), "wall_hours": b(self.wall_hours), "gpu_hours": b(self.gpu_hours),
            "cost_usd": b(self.cost_usd), "memory_gb": round(float(self.memory.total_gb), 3),
            "memory": {k: v for k, v in self.memory.as_dict(3).items() if k not in ("assumptions", "kv_cache_gb")},
            "fits": self.fits, "assumptions": self.assumptions,
        }


def dataset_tokens(*, tokens=None, examples=None, tokens_per_example=None, epochs=1) -> float:
    """Useful tokens of a fine-tuning job: ``tokens`` x ``epochs``, or ``examples`` x ``tokens_per_example`` x ``epochs``."""
    e = float(positive("epochs", epochs))
    if tokens is not None:
        if examples is not None or tokens_per_example is not None:
            raise InputError("tokens", tokens, "either tokens or examples x tokens_per_example, not both")
        return float(positive("tokens", tokens)) * e
    if examples is None or tokens_per_example is None:
        raise InputError("tokens", tokens, "a token count, or both examples and tokens_per_example")
    return float(positive("examples", examples)) * float(positive("tokens_per_example", tokens_per_example)) * e


def estimate(
    model,
    method: str,
    gpu,
    *,
    tokens,
    gpus: int = 1,
    seq_len=None,
    micro_batch=None,
    packed: bool = True,
    optimizer=None,
    checkpointing=None,
    optimizer_in_backward=None,
    offload: str = "none",
    zero=None,
    lora_rank=None,
    lora_targets=None,
    attention: str = "flash",
    recipe_name=None,
    efficiency=None,
    price_usd_per_gpu_hour=None,
    tokens_per_example=None,
    framework: str | None = None,
) -> FinetuneRun:
    """Tokens per second, wall-clock and GPU-hours, dollars, memory per GPU and a ``fits`` verdict for fine-tuning
    ``model`` with ``method`` on ``tokens`` useful tokens (:func:`dataset_tokens`) on ``gpus`` x ``gpu``.

    Packed (default): every sequence holds ``seq_len`` useful tokens. Unpacked with ``tokens_per_example``: each
    sequence is one example of that mean length, padded to the longest in its micro-batch (:func:`padding_factor`,
    capped at ``seq_len``); the padded length sets the compute and the activation memory. Unpacked without it: each
    example is taken to fill ``seq_len`` (no padding).

    Settings left ``None`` copy the method's recipe (:func:`costlib.memory.default_recipe`); ``zero=None`` means
    FSDP (ZeRO-3) for any job on more than one GPU, as torchtune's distributed recipes do. ``efficiency`` pins the
    band (a float or :class:`Band`); by default :func:`efficiency_band` of ``framework`` (:data:`FRAMEWORKS`), which
    defaults to the family of the recipe copied (:func:`recipe_framework`: torchtune's recipes -> ``torchtune``, the
    QLoRA paper's and Hugging Face defaults -> ``hf-peft``).
    """
    m = get_model(model)
    choice("method", method, FINETUNE_METHODS)
    dev = get_device(gpu)
    k = int(whole("gpus", gpus))
    d = float(positive("tokens", tokens))
    rec = recipe(recipe_name) if recipe_name is not None else RECIPES[default_recipe(method, optimizer)]
    if rec.mode != method:
        raise InputError("recipe", recipe_name, f"a {method} recipe (this one is {rec.mode})")
    seq = int(whole("seq_len", rec.seq_len if seq_len is None else seq_len))
    b = int(whole("micro_batch", rec.batch if micro_batch is None else micro_batch))
    opt = rec.optimizer if optimizer is None else optimizer
    ckpt = rec.recompute if checkpointing is None else checkpointing
    rank = (rec.lora_rank or 16) if lora_rank is None else lora_rank
    targets = rec.lora_targets if lora_targets is None else lora_targets
    z = (3 if k > 1 else 0) if zero is None else int(zero)
    if packed or tokens_per_example is None:
        seq_run, useful_seq = seq, float(seq)
    else:
        useful_seq = min(float(positive("tokens_per_example", tokens_per_example)), float(seq))
        seq_run = int(min(seq, int(np.ceil(useful_seq * padding_factor(b, False)))))
    pad = seq_run / useful_seq
    kw = {} if method == "full" else dict(lora_rank=rank, lora_targets=targets)
    mem = training_memory(
        m, method, "bf16", opt, zero=z, gpus=k, batch=b, seq_len=seq_run, recompute=ckpt,
        optimizer_in_backward=optimizer_in_backward, offload=offload, attention=attention, recipe=rec_key(rec), **kw,
    )
    fits = float(mem.total_gb) * GB <= dev.memory_bytes
    fpt = executed_flops_per_token(m, method, seq_run, ckpt, rank, targets)
    tokens_step = b * seq_run  # computed tokens per GPU per step
    over = step_overheads_s(m, method, dev, gpus=k, memory=mem, checkpointing=ckpt, offload=offload, optimizer=opt, zero=z,
                            lora_rank=rank, lora_targets=targets)
    traffic = weight_traffic_s(m, method, dev, ckpt)
    peak = dev.peak_flops(compute_precision(dev))
    fam = recipe_framework(rec_key(rec)) if framework is None else choice("framework", framework, FRAMEWORKS)
    if efficiency is None:
        eff = efficiency_band(framework=fam)
        eff_src = EFFICIENCY_METHOD
    elif isinstance(efficiency, Band):
        eff, eff_src = efficiency, "user input (pinned)"
    else:
        eff, eff_src = Band.point(float(fraction("efficiency", efficiency))), "user input (pinned)"
    overlapped = max(over["paging"], over["comm"])
    extra = over["dequant"] + over["offload"]
    t0, e_ref = step_overhead_s(fam) if efficiency is None else (0.0, 1.0)

    def step_s(e):
        return max(fpt * tokens_step / (peak * e) + t0 * e_ref / e, traffic, overlapped) + extra

    useful_per_s = eff.map(lambda e: k * tokens_step / pad / step_s(e))
    wall = useful_per_s.map(lambda t: d / t / SECONDS_PER_HOUR, decreasing=True)
    gpu_h = wall.scale(k)
    price, price_info = _price(dev, price_usd_per_gpu_hour)
    cost = None if price is None else Band(gpu_h.low * price.low, gpu_h.mid * price.mid, gpu_h.high * price.high)
    assumptions = {
        "recipe": f"{rec.name}: {rec.source}",
        "settings": {"seq_len": seq, "computed_seq_len": seq_run, "micro_batch": b, "packed": bool(packed), "optimizer": opt, "checkpointing": ckpt,
                     "offload": offload, "zero": z, "lora_rank": None if method == "full" else rank,
                     "lora_targets": None if method == "full" else targets, "attention": attention},
        "flops_per_token_rule": {"full": "6·N (+2·N checkpointing) + attention", "lora": "4·N + 6·A (+2·N + 2·A checkpointing) + attention",
                                 "qlora": "4·N + 6·A (+2·N + 2·A checkpointing) + attention, plus NF4 dequantization time"}[method],
        "padding_factor": pad,
        "step_overheads_s": {**{key: round(v, 4) for key, v in over.items()}, "fixed_per_step": round(t0, 4)},
        "weight_traffic_s_per_step": round(traffic, 4),
        "efficiency": {**eff.as_dict(4), "source": eff_src,
                       "measurements": efficiency_info(fam)["measurements"] if efficiency is None else None,
                       **({key: efficiency_info(fam)[key] for key in ("framework", "method", "step_overhead_s", "reference_efficiency")}
                          if efficiency is None else {}), "step_overhead_rule": STEP_OVERHEAD_RULE if efficiency is None else None},
        "memory": mem.assumptions,
        "fits": "total memory per GPU (bytes) <= the device's memory (bytes); host_gb not counted",
        "price": price_info,
    }
    return FinetuneRun(
        model=m.id, method=method, gpu=dev.id, gpus=k, useful_tokens=d, computed_tokens=d * pad, flops_per_token=fpt,
        efficiency=eff, tokens_per_s=useful_per_s, wall_hours=wall, gpu_hours=gpu_h, cost_usd=cost, memory=mem,
        fits=fits, assumptions=assumptions,
    )


def rec_key(rec) -> str:
    """The :data:`costlib.memory.RECIPES` key of a recipe."""
    return next(key for key, r in RECIPES.items() if r is rec)


# --------------------------------------------------------------------------------------
# Back-test against the published measurements
# --------------------------------------------------------------------------------------
def backtest(coverage: float = FINETUNE_COVERAGE):
    """Leave-one-out back-test of throughput and memory on every measurement in finetune_benchmarks.csv.

    Throughput: predicted tokens/s from the band refitted without the measurement (in-fit rows) or as shipped
    (excluded rows); ``error`` = mid / published - 1; ``inside`` the band. Memory: costlib's per-GPU total against
    the published peak (GiB converted to bytes); ``memory_error`` = costlib / published - 1."""
    import pandas as pd

    rows = []
    for bench in load_finetune_benchmarks():
        excl = (bench.id,) if bench.use_in_fit else ()
        band = efficiency_band(coverage, exclude=excl, framework=bench.framework)
        t0, e_ref = step_overhead_s(bench.framework, coverage, exclude=excl)
        p = _bench_parts(bench)
        extra = p["overheads"]["dequant"] + p["overheads"]["offload"]
        tokens_step = bench.micro_batch * bench.seq_len
        pred = band.map(lambda e: bench.gpus * tokens_step / padding_factor(bench.micro_batch, bench.packed)
                        / (max(p["flops_step"] / (p["peak"] * e) + t0 * e_ref / e, p["traffic_s"], p["overheads"]["paging"],
                               p["overheads"]["comm"]) + extra))
        # torchtune reports torch.cuda.max_memory_reserved, which does not see the CUDA context: compare tensors only
        mem_b = (float(p["memory"].total_gb) - float(p["memory"].overhead_gb)) * GB
        pub_b = None if bench.peak_memory_gib is None else bench.peak_memory_gib * 2**30
        rows.append({
            "id": bench.id, "model": bench.model, "method": bench.method, "gpus": bench.gpus, "gpu": bench.gpu_id,
            "framework": bench.framework, "seq_len": bench.seq_len, "micro_batch": bench.micro_batch,
            "implied_efficiency": implied_efficiency(bench), "published_tokens_per_s": bench.tokens_per_s,
            "predicted_low": float(pred.low), "predicted_mid": float(pred.mid), "predicted_high": float(pred.high),
            "error": float(pred.mid) / bench.tokens_per_s - 1.0, "inside": bool(pred.low <= bench.tokens_per_s <= pred.high),
            "published_memory_gb": None if pub_b is None else pub_b / GB, "costlib_memory_gb": mem_b / GB,
            "memory_error": None if pub_b is None else mem_b / pub_b - 1.0,
            "use_in_fit": bench.use_in_fit, "exclude_reason": bench.exclude_reason, "source": bench.source,
        })
    return pd.DataFrame(rows)


def backtest_summary(table=None, coverage: float = FINETUNE_COVERAGE) -> dict:
    """Leave-one-out median absolute error and coverage of throughput (in-fit rows) and median absolute memory error."""
    t = backtest(coverage) if table is None else table

    def summary(part) -> dict:
        fit = part[part["use_in_fit"]]
        mem = part["memory_error"].dropna().to_numpy(float)
        return {
            "measurements": int(len(fit)),
            "loo_median_abs_error": float(np.median(np.abs(fit["error"].to_numpy(float)))),
            "loo_coverage": float(fit["inside"].mean()),
            "nominal_coverage": float(coverage),
            "memory_cases": int(mem.size),
            "memory_median_abs_error": float(np.median(np.abs(mem))) if mem.size else None,
            "memory_max_abs_error": float(np.max(np.abs(mem))) if mem.size else None,
        }

    out = summary(t)
    if "framework" in t:
        out["by_framework"] = {fam: summary(t[t["framework"] == fam]) for fam in FRAMEWORKS if (t["framework"] == fam).any()}
    return out


__all__ = [
    "adapter_params", "executed_flops_per_token", "padding_factor", "step_overheads_s", "weight_traffic_s",
    "load_finetune_benchmarks", "get_benchmark", "implied_efficiency", "efficiency_band", "estimate",
    "dataset_tokens", "backtest", "backtest_summary", "FinetuneRun", "FinetuneBenchmark",
]


# --------------------------------------------------------------------------------------
# Fine-tuning estimates kept for existing callers (moved from costlib.training: fine-tuning sits above training)
# --------------------------------------------------------------------------------------
def finetune_memory(model, method: str, *, gpus: int = 1, rank=None, seq_len=None, batch=None, zero=None, **kw):
    """Per-GPU :class:`~costlib.memory.MemoryBreakdown` to fine-tune ``model`` with ``method``
    (:func:`costlib.memory.training_memory`; settings left ``None`` copy the method's named recipe).
    ``zero=None``: full fine-tuning over several GPUs shards everything with ZeRO-3 / FSDP (as Alpaca did);
    LoRA and QLoRA keep a whole copy of the frozen base on each GPU unless ``zero=3`` (FSDP) is asked for."""
    choice("method", method, FINETUNE_METHODS)
    k = int(whole("gpus", gpus))
    z = (3 if (method == "full" and k > 1) else 0) if zero is None else zero
    return training_memory(get_model(model), mode=method, precision="bf16", zero=z, gpus=k, batch=batch, seq_len=seq_len,
                           lora_rank=None if method == "full" else rank, **kw)


def finetune_memory_gb(model, method: str, *, gpus: int = 1, rank: int = LORA_RANK_DEFAULT, seq_len: int = 512, batch: int = 4):
    """Per-GPU memory (GB) of :func:`finetune_memory` (kept for existing callers)."""
    return finetune_memory(model, method, gpus=gpus, rank=rank, seq_len=seq_len, batch=batch).total_gb


@dataclass(frozen=True)
class FinetuneEstimate:
    model: str
    method: str
    tokens: float
    gpu: str
    gpus: int
    params: float
    adapter_params: float
    flops_per_token: float
    flops: float
    mfu: Band
    gpu_hours: Band
    cost_usd: Band | None
    memory_gb: float
    fits: bool
    fits_on: tuple[str, ...]
    assumptions: dict = field(default_factory=dict)

    def as_dict(self, digits: int = 4) -> dict:
        return {
            "model": self.model,
            "method": self.method,
            "tokens": self.tokens,
            "flops_per_token": float(f"{self.flops_per_token:.{digits}g}"),
            "flops": float(f"{self.flops:.{digits}g}"),
            "gpu_hours": self.gpu_hours.as_dict(digits),
            "cost_usd": None if self.cost_usd is None else self.cost_usd.as_dict(digits),
            "memory_gb": round(self.memory_gb, 2),
            "fits": self.fits,
            "fits_on": list(self.fits_on),
            "assumptions": self.assumptions,
        }


def estimate_finetune(
    model,
    method: str,
    tokens,
    gpu,
    *,
    gpus: int = 1,
    mfu=None,
    price_usd_per_gpu_hour=None,
    rank: int = LORA_RANK_DEFAULT,
    seq_len: int = 512,
    batch: int = 4,
) -> FinetuneEstimate:
    """GPU-hours, dollars and memory to fine-tune ``model`` on ``tokens`` with full / LoRA / QLoRA.

    Kept for existing callers; :func:`costlib.finetune.estimate` is the full model. With ``mfu=None`` the
    GPU-hours come from :func:`costlib.finetune.estimate` (the fine-tuning efficiency band, checkpointing, QLoRA
    dequantization; ``seq_len`` x ``batch`` packed tokens per micro-batch); a pinned ``mfu`` keeps the plain rule
    FLOPs / (peak x MFU) from :func:`finetune_flops_per_token`, plus QLoRA's dequantisation time.
    Memory per GPU from :func:`finetune_memory_gb` (no sharding for LoRA and QLoRA; full
    fine-tuning shards states over ``gpus`` as ZeRO-3 would); ``fits`` says
    whether it fits ``gpu``'s memory, ``fits_on`` lists the catalog GPUs it fits on alone.
    """
    spec = get_model(model)
    choice("method", method, FINETUNE_METHODS)
    d = float(positive("tokens", tokens))
    device = get_device(gpu)
    k = int(whole("gpus", gpus))
    n = float(spec.active_params)
    adapters = 0.0 if method == "full" else lora_adapter_params(spec, rank)
    per_token = float(finetune_flops_per_token(n, method, adapters))
    flops = per_token * d
    price, price_info = _price(device, price_usd_per_gpu_hour)
    if mfu is None:
        # time from the fine-tuning model (costlib.finetune: its own efficiency band, checkpointing, dequantization)
        run = estimate(
            spec, method, device, tokens=d, gpus=k, seq_len=seq_len, micro_batch=batch, zero=(3 if (method == "full" and k > 1) else 0),
            lora_rank=None if method == "full" else rank, lora_targets=None if method == "full" else "all-linear",
            price_usd_per_gpu_hour=price_usd_per_gpu_hour,
        )
        band, hours = run.efficiency, run.gpu_hours
        mfu_source = "fine-tuning efficiency band (costlib.finetune.estimate): " + EFFICIENCY_METHOD
    else:
        band = _mfu(mfu)
        hours = gpu_hours(flops, device, "bf16", band)
        if method == "qlora":
            extra_h = float(qlora_dequant_seconds(spec.total_params, d, device)) / SECONDS_PER_HOUR
            hours = Band(hours.low + extra_h, hours.mid + extra_h, hours.high + extra_h)
        mfu_source = "user input (pinned)"
    cost = None if price is None else Band(hours.low * price.low, hours.mid * price.mid, hours.high * price.high)
    mem = finetune_memory(spec, method, gpus=k, rank=rank, seq_len=seq_len, batch=batch)
    mem_gb = float(mem.total_gb)
    fits = mem_gb * 1e9 <= device.memory_bytes
    single = float(finetune_memory_gb(spec, method, gpus=1, rank=rank, seq_len=seq_len, batch=batch))
    fits_on = tuple(dev.id for dev in devices().values() if dev.kind == "gpu" and single * 1e9 <= dev.memory_bytes)
    assumptions = {
        "flops_per_token_rule": {"full": "6·N", "lora": "4·N + 6·adapters", "qlora": "4·N + 6·adapters + NF4 dequantisation time"}[method],
        "adapter_params": adapters,
        "rank": rank if method != "full" else None,
        "mfu": {**band.as_dict(4), "source": mfu_source},
        "memory": mem.assumptions,
        "fits_on": "catalog GPUs that hold it alone (one GPU)",
        "price": price_info,
        "gpus": k,
    }
    return FinetuneEstimate(
        model=spec.id, method=method, tokens=d, gpu=device.id, gpus=k, params=n, adapter_params=adapters,
        flops_per_token=per_token, flops=flops, mfu=band, gpu_hours=hours, cost_usd=cost, memory_gb=mem_gb,
        fits=fits, fits_on=fits_on, assumptions=assumptions,
    )




def finetune_tokens_for_hours(model, method: str, gpu, hours, *, gpus: int = 1, mfu=None) -> Band:
    """Tokens a fine-tuning run gets through in ``hours`` of wall-clock on ``gpus`` GPUs (inverse of
    :func:`estimate_finetune`'s time; low tokens come from the low efficiency). ``mfu=None``: tokens per second of
    :func:`costlib.finetune.estimate` (micro-batch 4 x 512 tokens, as :func:`estimate_finetune`'s default).
    Includes QLoRA's dequantisation."""
    spec = get_model(model)
    choice("method", method, FINETUNE_METHODS)
    device = get_device(gpu)
    h = positive("hours", hours)
    k = int(whole("gpus", gpus))
    adapters = 0.0 if method == "full" else lora_adapter_params(spec, LORA_RANK_DEFAULT)
    per_token = float(finetune_flops_per_token(float(spec.active_params), method, adapters))
    peak = device.peak_flops(compute_precision(device))
    extra = 0.0
    if method == "qlora":
        extra = float(qlora_dequant_seconds(spec.total_params, 1.0, device))
    if mfu is None:
        run = estimate(spec, method, device, tokens=1e6, gpus=k, seq_len=512, micro_batch=4,
                                zero=(3 if (method == "full" and k > 1) else 0),
                                lora_rank=None if method == "full" else LORA_RANK_DEFAULT,
                                lora_targets=None if method == "full" else "all-linear")
        return run.tokens_per_s.scale(h * SECONDS_PER_HOUR)
    band = _mfu(mfu)
    return band.map(lambda m: h * k * SECONDS_PER_HOUR / (per_token / (peak * m) + extra))


