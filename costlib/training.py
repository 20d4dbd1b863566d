"""Training and fine-tuning compute, time, dollars, energy and CO2, calibrated on published runs.

The rule
--------
Training a dense transformer with N parameters on D tokens costs about ``C = 6·N·D`` FLOPs:
2·N per token for the forward pass (one multiply and one add per weight) and 4·N for the
backward pass (gradients with respect to activations, 2·N, and with respect to weights, 2·N)
(Kaplan et al. 2020, section 2.1; EleutherAI "Transformer Math 101"). Recomputing every
activation in the backward pass (full activation checkpointing) repeats the forward pass:
``8·N·D`` (Korthikanti et al. 2022). A mixture-of-experts model only runs the experts a token
is routed to, so N is the *active* parameter count (Fedus et al. 2022). Attention scores add
``2·n_layer·n_ctx·d_attn`` forward FLOPs per token (Kaplan et al. 2020, table 1); a causal mask
halves the useful part (:func:`attention_training_flops_per_token`).

MFU
---
Model FLOPs utilisation (Chowdhery et al. 2022, appendix B) is the model's useful FLOP/s
(6·N per token, no recompute) divided by the device's dense peak. The *effective* MFU of a
published run divides by the GPU-hours the makers report, so every stall, restart, checkpoint
and evaluation is inside it. costlib does not ask the user to guess MFU: :func:`mfu_band_for` models
the effective MFUs of the runs in ``data/published_runs.csv`` marked ``use_in_fit`` (dense
pre-training runs of at least 0.5B parameters with a primary source, traps excluded with the
reason written down) per hardware generation: the slice median, or a size term ln(MFU) = a + b·ln(N)
where that predicts the slice's runs better out of sample (:data:`MFU_MODEL_RULE`; Hopper runs
rise with size, A100 runs do not), inside a prediction interval that a new run falls in with
probability >= 80 %. See :data:`MFU_BAND_METHOD`.

Energy and CO2
--------------
Energy = GPU-hours × board power (TDP from ``hardware.csv``) × PUE; CO2 = energy × grid
intensity (location-based). TDP is an upper bound on mean draw (Ai2 measured OLMo 3 at
621-649 W mean on 700 W H100s), so the energy figure leans high by up to ~10 %.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, records
from .errors import InputError, UnknownIdError
from .hardware import Device, devices, get_device
from .memory import lora_trainable_params
from .models import ModelSpec, get_model
from .prices import gpu_price_band, prices_for
from .uncertainty import Band, band_from_samples, order_statistic_coverage
from .units import HOURS_PER_DAY, KWH_PER_WH, SECONDS_PER_HOUR
from .validate import choice, fraction, non_negative, positive, whole


def __getattr__(name):  # LLAMA_65B (the QLoRA paper's model, defined once in memory) is read on first use, not at import
    if name == "LLAMA_65B":
        from . import memory

        return memory.LLAMA_65B
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# --------------------------------------------------------------------------------------
# Named constants (each with its source and date)
# --------------------------------------------------------------------------------------
FLOPS_PER_PARAM_TOKEN = 6.0
"""2 forward + 4 backward FLOPs per parameter per token (Kaplan et al. 2020, section 2.1)."""
FLOPS_PER_PARAM_TOKEN_RECOMPUTE = 8.0
"""Full activation recomputation adds a second forward pass: 2 + 2 + 4 (Korthikanti et al. 2022, arXiv 2205.05198)."""
FORWARD_FLOPS_PER_PARAM_TOKEN = 2.0
"""Forward pass alone: one multiply-add per weight per token (Kaplan et al. 2020, table 1)."""

CHINCHILLA_TOKENS_PER_PARAM = 20.0
"""Compute-optimal data: about 20 tokens per parameter (Hoffmann et al. 2022, table 3; arXiv 2203.15556)."""

PUE_DEFAULT = 1.10
"""Power usage effectiveness of a hyperscale data centre: Google's fleet-wide trailing-twelve-month
PUE of 1.10 for 2023 (Google 2024 Environmental Report; https://www.google.com/about/datacenters/efficiency/,
read 2024-07). Meta's LLaMA and Llama 2 papers assume the same 1.1."""
PUE_INDUSTRY_AVERAGE = 1.58
"""Industry-average PUE across surveyed data centres in 2023 (Uptime Institute Global Data Center Survey 2023,
https://uptimeinstitute.com/resources/research-and-reports/uptime-institute-global-data-center-survey-results-2023)."""

GRID_KG_CO2_PER_KWH_DEFAULT = 0.480
"""World-average carbon intensity of electricity generation in 2023, 480 gCO2/kWh (Ember, Global Electricity
Review 2024, https://ember-energy.org/latest-insights/global-electricity-review-2024/, published 2024-05-08).
Location-based: a run on a low-carbon grid emits several times less."""

MFU_BAND_COVERAGE = 0.80
"""Share of runs the MFU band should contain: the chapter's goal of at least 80 % of published runs inside."""
MFU_FIT_MIN_PARAMS = 0.5e9
"""Runs below 0.5B parameters (the smallest SLM in the seeds' own definition) are kept out of the fit: their
matrices are too small to fill an A100's tensor cores, so their MFU says nothing about the models the book prices."""
MFU_BAND_METHOD = (
    "Effective MFU = 6·N·D / (reported GPU-hours × 3600 × dense BF16 peak) for every run in published_runs.csv "
    "marked use_in_fit (pre-training, >= 0.5B parameters; distilled runs, runs whose tokens are only a lower bound and "
    "restart-dominated runs excluded with their reason), one model per hardware generation (A100-class, "
    "H100/H800-class; pooled where a generation has fewer than 3 runs): the slice median, or where the slice has >= 8 "
    "runs and it predicts them better left out, a size term ln(MFU) = a + b·ln(N) (MFU_MODEL_RULE), times an MoE "
    "factor for mixtures of experts. Median band: low and high = the k-th smallest and k-th largest value, a "
    "distribution-free prediction interval (Wilks 1941): a new run falls between them with probability "
    "(n + 1 - 2k) / (n + 1); k is the largest that keeps this >= 80 %; with fewer runs than that needs, a log-normal "
    "prediction interval (wider than the runs' range). Size term: prediction x the same interval of the runs' "
    "leave-one-out ratios measured / predicted."
)

# Fine-tuning ------------------------------------------------------------------------------
FINETUNE_METHODS = ("full", "lora", "qlora")
LORA_RANK_DEFAULT = 16
"""A common LoRA rank (Hu et al. 2021 use 1-64; the QLoRA paper uses 64 for its Guanaco runs)."""
QLORA_EXTRA_BYTES_PER_PARAM_PER_PASS = 0.5 + 2.0
"""Memory traffic QLoRA adds per weight each time a layer runs: read the 4-bit weight (0.5 B) and write its
BF16 copy (2 B) before the matmul reads it (Dettmers et al. 2023, section 3: "we dequantize the storage data
type to the computation data type to perform the forward and backward pass")."""
QLORA_PASSES_PER_STEP = 3
"""Dequantisations per micro-batch: forward, recomputed forward (QLoRA uses gradient checkpointing) and backward."""
FINETUNE_MICROBATCH_TOKENS = 2048
"""Tokens per micro-batch per GPU assumed when amortising QLoRA's per-step dequantisation (e.g. 4 sequences of
512 tokens, Alpaca's setting in tatsu-lab/stanford_alpaca train.py)."""

# Published fine-tuning figures reproduced in the chapter -------------------------------------
ALPACA_EXAMPLES = 52_002
"""Stanford Alpaca: 52K instruction-following examples (tatsu-lab/stanford_alpaca README, 2023-03-13)."""
ALPACA_EPOCHS = 3
ALPACA_MAX_TOKENS = 512
"""Alpaca fine-tuning: 3 epochs, model_max_length 512 (README training command and train.py, 2023-03-13)."""
ALPACA_GPU = "a100-80gb"
ALPACA_GPUS = 8
ALPACA_HOURS = 3.0
"""Alpaca 7B: "fine-tuning a 7B LLaMA model took 3 hours on 8 80GB A100s" (tatsu-lab/stanford_alpaca README)."""
QLORA_PAPER_MICROBATCH = (1, 512)
"""Sequences x tokens per micro-batch assumed for the 65B single-GPU claim (the QLoRA Guanaco runs use
source length 512-1024 and per-device batch 1 with gradient accumulation; artidoro/qlora scripts/finetune_guanaco_65b.sh)."""
STARCODERBASE_CONTEXT_TOKENS = 8192
"""StarCoderBase's training context, 8K tokens (Li et al. 2023, arXiv:2305.06161, section 5; catalog run starcoderbase-15b)."""
QLORA_FULL_FINETUNE_65B_GB = 780.0
"""QLoRA: fine-tuning LLaMA-65B in 16 bits needs "more than 780GB of GPU memory" (Dettmers et al. 2023, section 1)."""
QLORA_65B_GPU_MEMORY_GB = 48.0
"""QLoRA: "finetune a 65B parameter model on a single 48GB GPU" (Dettmers et al. 2023, abstract)."""


# --------------------------------------------------------------------------------------
# Compute
# --------------------------------------------------------------------------------------
def training_flops(params, tokens, *, recompute: bool = False, attention_flops=0.0):
    """Training FLOPs: 6·N·D (8·N·D with full activation recompute) plus an attention term.

    ``params`` is the parameter count a token passes through (the *active* count for a
    mixture-of-experts model). ``attention_flops`` is the attention-score FLOPs *per training
    token* (forward + backward, e.g. from :func:`attention_training_flops_per_token`); it is
    multiplied by ``tokens`` and, with ``recompute``, by 8/6 as well. Arrays broadcast.
    """
    n = positive("params", params)
    d = positive("tokens", tokens)
    a = non_negative("attention_flops", attention_flops)
    per_param = FLOPS_PER_PARAM_TOKEN_RECOMPUTE if recompute else FLOPS_PER_PARAM_TOKEN
    attention = a * (per_param / FLOPS_PER_PARAM_TOKEN)
    return per_param * n * d + attention * d


def _causal_mean_context(seq_len: float, window: float | None) -> float:
    """Mean number of keys a query attends to under a causal mask (optionally a sliding window)."""
    s = float(seq_len)
    if window is None or window >= s:
        return (s + 1.0) / 2.0
    w = float(window)
    return (w * (w + 1.0) / 2.0 + (s - w) * w) / s


def attention_training_flops_per_token(model, seq_len) -> float:
    """Attention-score FLOPs per training token, forward + backward, with a causal mask.

    A token attending to ``a`` keys costs 2·a·d_attn FLOPs for QK^T and 2·a·d_attn for
    softmax(QK^T)·V per layer, 4·a·d_attn in all (the same count as
    :func:`costlib.inference.attention_flops_per_token`); training is three times the forward
    pass. Under a causal mask a token at position i attends to i keys, so the useful average over
    a sequence of length S is a = (S + 1) / 2, not S: counting the full S is the usual way estimates
    reach MFU above 100 %. With a = S/2 this is Kaplan et al. 2020's ``2·n_layer·n_ctx·d_attn``
    (table 1), which already is the causal average. Layers with a sliding window cap the keys at
    the window.
    ``model`` is a catalog id or :class:`~costlib.models.ModelSpec` (the architecture is needed).
    """
    spec = get_model(model)
    s = positive("seq_len", seq_len)
    layers = spec.layers
    d_attn = spec.attention_dim
    full_ctx = _causal_mean_context(s, None)
    if spec.sliding_window and spec.sliding_layers:
        sliding = spec.sliding_layers
        ctx = sliding * _causal_mean_context(s, spec.sliding_window) + (1 - sliding) * full_ctx
    else:
        ctx = full_ctx
    forward = 4.0 * layers * ctx * d_attn
    return float(3.0 * forward)


def chinchilla_tokens(params):
    """Compute-optimal training tokens, about 20 per parameter (Hoffmann et al. 2022)."""
    return CHINCHILLA_TOKENS_PER_PARAM * positive("params", params)


# --------------------------------------------------------------------------------------
# Published runs and the calibrated MFU band
# --------------------------------------------------------------------------------------
def _run_checks(row: dict) -> str | None:
    if row["gpu_id"] not in devices():
        return f"gpu_id: {row['gpu_id']!r} is not in hardware.csv"
    active = row["active_params"]
    if active is not None and active > row["params"]:
        return f"active_params: {active:g} exceeds params {row['params']:g}"
    if row["kind"] == "moe" and active is None:
        return "active_params: a mixture-of-experts run needs its active parameter count"
    if not row["use_in_fit"] and not row["exclude_reason"]:
        return "exclude_reason: a run kept out of the fit must say why"
    if row["use_in_fit"] and row["exclude_reason"]:
        return "exclude_reason: set on a run that is used in the fit"
    if row["use_in_fit"] and row["kind"] not in ("dense", "moe"):
        return f"use_in_fit: only dense and mixture-of-experts pre-training runs calibrate MFU (this one is {row['kind']})"
    if row["use_in_fit"] and row["params"] < MFU_FIT_MIN_PARAMS:
        return f"use_in_fit: {row['params']:g} parameters is below the fit's {MFU_FIT_MIN_PARAMS:g} floor"
    return None


RUNS_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("model"),
        Column("params", "float", positive=True, unit="parameters"),
        Column("active_params", "float", required=False, positive=True, unit="parameters"),
        Column("tokens", "float", positive=True, unit="tokens"),
        Column("gpu_id"),
        Column("gpu_count", "int", required=False, positive=True),
        Column("gpu_hours", "float", positive=True, unit="GPU-hours"),
        Column("hours_basis", choices=("reported", "derived")),
        Column("kind", choices=("dense", "moe", "distilled")),
        Column("use_in_fit", "bool"),
        Column("exclude_reason", required=False),
        SOURCE,
        AS_OF,
        NOTES,
    ),
    row_checks=(_run_checks,),
)


@dataclass(frozen=True)
class PublishedRun:
    """One published pre-training run: what was trained, on what, for how many GPU-hours, per whom."""

    id: str
    model: str
    params: float
    active_params: float | None
    tokens: float
    gpu_id: str
    gpu_count: int | None
    gpu_hours: float
    hours_basis: str
    kind: str
    use_in_fit: bool
    exclude_reason: str
    source: str
    as_of: str
    notes: str = ""

    @property
    def compute_params(self) -> float:
        """Parameters a token passes through: active for a mixture of experts, else all."""
        return self.active_params if self.active_params is not None else self.params

    @property
    def flops(self) -> float:
        return float(training_flops(self.compute_params, self.tokens))


@lru_cache(maxsize=1)
def load_published_runs() -> tuple[PublishedRun, ...]:
    """The runs in ``data/published_runs.csv``, validated (sources, dates, GPUs in the catalog)."""
    return records("published_runs.csv", RUNS_SCHEMA, PublishedRun, text_fields=("notes", "exclude_reason"))


def get_run(run_id: str) -> PublishedRun:
    table = {r.id: r for r in load_published_runs()}
    if run_id not in table:
        raise UnknownIdError("run", run_id, sorted(table))
    return table[run_id]


def implied_mfu(flops, gpu, gpu_hours, precision: str = "bf16"):
    """MFU a claim implies: FLOPs / (GPU-hours × 3600 × dense peak). Above 1 is physically impossible."""
    f = positive("flops", flops)
    h = positive("gpu_hours", gpu_hours)
    device = get_device(gpu)
    return f / (h * SECONDS_PER_HOUR * device.peak_flops(precision))


def effective_mfu(run: PublishedRun | str) -> float:
    """Effective MFU of a published run: 6·N·D / (GPU-hours × 3600 × dense BF16 peak of its GPU)."""
    r = get_run(run) if isinstance(run, str) else run
    return float(implied_mfu(r.flops, r.gpu_id, r.gpu_hours, "bf16"))


def fit_runs(kind: str = "dense") -> tuple[PublishedRun, ...]:
    """The runs that calibrate MFU (``use_in_fit``) of one ``kind``: dense (the default) or moe."""
    choice("kind", kind, ("dense", "moe"))
    return tuple(r for r in load_published_runs() if r.use_in_fit and r.kind == kind)


def prediction_interval_rank(n: int, coverage: float = MFU_BAND_COVERAGE) -> int:
    """Largest k with (n + 1 - 2k) / (n + 1) >= ``coverage``: the k-th smallest and k-th largest of n
    exchangeable samples bracket a new draw with that probability (Wilks 1941, order statistics)."""
    n = int(whole("n", n, minimum=2))
    c = float(fraction("coverage", coverage, allow_one=False))
    k = int(np.floor((n + 1) * (1 - c) / 2 + 1e-9))
    return max(1, min(k, (n + 1) // 2))


def mfu_band_from(runs, coverage: float = MFU_BAND_COVERAGE) -> Band:
    """The :func:`mfu_band` method applied to ``runs``: median, and the k-th smallest / largest
    effective MFU with k from :func:`prediction_interval_rank` (via :func:`band_from_samples`)."""
    values = np.sort([effective_mfu(r) for r in runs])
    k = prediction_interval_rank(len(values), coverage)
    q = (k - 1) / (len(values) - 1)
    return band_from_samples(values, q, 1 - q)


@lru_cache(maxsize=1)
def mfu_band() -> Band:
    """The calibrated MFU band (:data:`MFU_BAND_METHOD`): median effective MFU of the fit runs, with an
    order-statistic prediction interval that holds a new run with probability >= 80 %."""
    return mfu_band_from(fit_runs())


# --------------------------------------------------------------------------------------
# MFU as a model: one band per hardware generation, an MoE factor, leave-one-out per slice
# --------------------------------------------------------------------------------------
HARDWARE_SLICES = {
    "a100": ("a100-40gb", "a100-80gb"),
    "h100": ("h100-sxm", "h100-pcie", "h200", "h800", "h100-nvl", "h200-nvl", "gh200"),
}
"""GPU ids pooled into one MFU slice: A100-class (Ampere, 312 TFLOP/s dense BF16) and H100/H800-class (every Hopper
GPU in hardware.csv: SXM, PCIe, NVL, H200, H800, GH200; MFU is measured against each device's own dense peak; H800
runs are stored as h100-sxm). Other devices have no published whole-run hours in the catalog."""
SLICE_NAMES = {
    "a100": "A100-class (Ampere)",
    "h100": "H100/H800-class (Hopper)",
    "moe": "mixture of experts (Hopper runs)",
    "pooled": "all dense runs pooled (no runs on this hardware generation)",
}
MIN_SLICE_RUNS = 3
"""Fewest runs a hardware slice needs to get its own band; below that the pooled dense band is used and said so."""
_T_QUANTILES = {
    0.80: (3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397, 1.383, 1.372, 1.363, 1.356, 1.350, 1.345, 1.341, 1.337, 1.333, 1.330),
    0.90: (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734),
    0.95: (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101),
}
"""Student-t quantiles t_{(1+c)/2, df} for df = 1..18 (standard tables, e.g. NIST/SEMATECH e-Handbook table 1.3.6.7.2)."""
_T_QUANTILES_LARGE_DF = {0.80: 1.310, 0.90: 1.697, 0.95: 2.042}
"""t quantiles at df = 30, used for any df above 18 (slightly wide for larger df)."""
SMALL_SAMPLE_METHOD = (
    "fewer runs than an order-statistic interval needs for the nominal coverage ((n - 1) / (n + 1) < c): a log-normal "
    "prediction interval, exp(mean(log x) ± t_{(1+c)/2, df} · s · sqrt(1 + 1/n)) (Hahn & Meeker 1991, section 4.7), "
    "mid = median. For a dense hardware slice s is the spread pooled over all dense runs around their own slice's mean "
    "(the centre differs by GPU generation, the run-to-run scatter of how labs run and report does not), "
    "df = runs - slices; for the MoE factor, the MoE runs' own spread"
)


def _t_quantile(coverage: float, df: int) -> float:
    key = min(_T_QUANTILES, key=lambda x: abs(x - coverage))
    if abs(key - coverage) > 1e-9:
        raise InputError("coverage", coverage, "0.8, 0.9 or 0.95 with fewer runs than an order-statistic interval needs")
    table = _T_QUANTILES[key]
    return table[df - 1] if df <= len(table) else _T_QUANTILES_LARGE_DF[key]


def _ordinal(k: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st (for the band method's words)."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def prediction_band(values, coverage: float = MFU_BAND_COVERAGE, spread: tuple[float, int] | None = None) -> tuple[Band, str]:
    """Band a new draw falls in with probability ``coverage``, from ``values`` (> 0), and the method used.

    Enough values ((n - 1) / (n + 1) >= coverage): the order-statistic interval of :func:`mfu_band_from`
    (Wilks 1941). Fewer: :data:`SMALL_SAMPLE_METHOD`, with ``spread`` = (log-sd, df) if given, else the values' own.
    Needs at least 2 values."""
    v = np.sort(np.asarray(values, dtype=float))
    if v.size < 2 or np.any(v <= 0):
        raise InputError("values", list(v), "at least two positive values")
    c = float(fraction("coverage", coverage, allow_one=False))
    n = v.size
    if (n - 1) / (n + 1) >= c - 1e-12:
        k = prediction_interval_rank(n, c)
        q = (k - 1) / (n - 1)
        return band_from_samples(v, q, 1 - q), f"order statistics: {_ordinal(k)} smallest and largest of {n} runs, coverage {order_statistic_coverage(n, k):.0%}"
    lv = np.log(v)
    if spread is None:
        sd, df = float(np.std(lv, ddof=1)), n - 1
    else:
        sd, df = spread
    t = _t_quantile(c, int(df))
    half = t * sd * np.sqrt(1 + 1 / n)
    mu = float(np.mean(lv))
    return Band(float(np.exp(mu - half)), float(np.median(v)), float(np.exp(mu + half))), f"log-t prediction interval from {n} runs (t = {t:g}, log-sd {sd:.3f}, df {df})"


def _pooled_log_spread(exclude=()) -> tuple[float, int]:
    """Standard deviation of log effective MFU of the dense fit runs around their own slice's mean, and its df."""
    resid, groups = [], 0
    runs = [r for r in fit_runs("dense") if r.id not in exclude]
    for key, ids in HARDWARE_SLICES.items():
        lv = np.log([effective_mfu(r) for r in runs if r.gpu_id in ids])
        if lv.size:
            resid.extend(lv - lv.mean())
            groups += 1
    df = len(resid) - groups
    return float(np.sqrt(np.sum(np.square(resid)) / df)), df


def hardware_slice(gpu) -> str:
    """The MFU slice of a device: ``a100``, ``h100`` or ``pooled`` (no runs of its generation)."""
    gid = get_device(gpu).id
    for key, ids in HARDWARE_SLICES.items():
        if gid in ids:
            return key
    return "pooled"


def run_slice(run: PublishedRun) -> str:
    """The slice a published run calibrates: ``moe`` for a mixture of experts, else its hardware slice."""
    if run.kind == "moe":
        return "moe"
    if run.kind != "dense":
        return run.kind
    return hardware_slice(run.gpu_id)


def _dense_runs_for(gpu, exclude=()) -> tuple[tuple[PublishedRun, ...], str]:
    key = hardware_slice(gpu)
    runs = tuple(r for r in fit_runs("dense") if r.id not in exclude)
    own = tuple(r for r in runs if key != "pooled" and r.gpu_id in HARDWARE_SLICES[key])
    if len(own) >= MIN_SLICE_RUNS:
        return own, key
    return runs, "pooled"


MFU_SIZE_MIN_RUNS = 8
"""Fewest runs a hardware slice needs before a size term is tried: two fitted coefficients need their own runs, and
each candidate is judged on its leave-one-out errors, which mean little on fewer."""
MFU_MODELS = ("median", "log-params")
"""Candidate dense MFU models per slice: the slice median (no size term) and ln(MFU) = a + b·ln(N) (N = parameters a
token passes through), fitted by least squares."""
MFU_MODEL_RULE = (
    "per hardware slice with at least 8 dense runs, two candidates: the slice median and a log-linear size term "
    "ln(MFU) = a + b·ln(N) (least squares; N clamped to the range of the slice's runs, no extrapolation). Each is scored "
    "by its leave-one-out median absolute error of GPU-hours on the slice's runs, and the size term is used only if it "
    "scores lower; its band = prediction x the order-statistic (or log-t) band of the leave-one-out ratios "
    "measured / predicted MFU. Slices with fewer runs, and the pooled fallback, use the median. The choice is made "
    "once per slice on all its runs; the leave-one-out back-test refits the chosen model's coefficients and band "
    "without the run it predicts. The stricter nested back-test (slice_backtest(nested=True)) remakes the choice "
    "too, and the chapter shows both."
)


def _fit_point(kind: str, x, y, x_new) -> float:
    """MFU predicted at ln(N) = ``x_new`` by candidate ``kind`` fitted on ln N = ``x``, ln MFU = ``y``."""
    if kind == "median":
        return float(np.median(np.exp(y)))
    b, a = np.polyfit(x, y, 1)
    xn = min(max(float(x_new), float(np.min(x))), float(np.max(x)))
    return float(np.exp(a + b * xn))


def _loo_ratios(kind: str, x, y) -> np.ndarray:
    """Measured / predicted MFU for each run with the candidate refitted without it (= predicted / reported GPU-hours)."""
    n = len(x)
    keep = np.ones(n, dtype=bool)
    out = np.empty(n)
    for j in range(n):
        keep[:] = True
        keep[j] = False
        out[j] = np.exp(y[j]) / _fit_point(kind, x[keep], y[keep], x[j])
    return out


def size_slope_t(x, y) -> float:
    """|b| / se(b) of the least-squares slope of ``y`` on ``x`` (ordinary least squares, n - 2 degrees of freedom)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    b, a = np.polyfit(x, y, 1)
    resid = y - (a + b * x)
    se = np.sqrt(np.sum(resid**2) / (x.size - 2) / np.sum((x - x.mean()) ** 2))
    return float(abs(b) / se) if se > 0 else float("inf")


@lru_cache(maxsize=256)
def _dense_fit(gpu_id: str, exclude: tuple, size_term: bool = True, form: str | None = None) -> dict:
    """The dense MFU model of a device's slice (:data:`MFU_MODEL_RULE`): runs, chosen candidate, coefficients and the
    leave-one-out ratios and errors of each candidate. ``form`` imposes a candidate (the choice made on all runs)."""
    runs, key = _dense_runs_for(gpu_id, exclude)
    x = np.log([r.compute_params for r in runs])
    y = np.log([effective_mfu(r) for r in runs])
    errors, ratios = {}, {}
    candidates = MFU_MODELS if (size_term and key != "pooled" and len(runs) >= MFU_SIZE_MIN_RUNS) else ("median",)
    for kind in candidates:
        ratios[kind] = _loo_ratios(kind, x, y)
        errors[kind] = float(np.median(np.abs(ratios[kind] - 1.0)))
    if form is not None and form in candidates:
        kind = form
    else:
        kind = min(candidates, key=lambda k: (errors[k], k != "median"))
    slope, intercept = (np.polyfit(x, y, 1) if kind == "log-params" else (0.0, float(np.log(np.median(np.exp(y))))))
    return {"runs": runs, "key": key, "kind": kind, "x": x, "y": y, "slope": float(slope), "intercept": float(intercept),
            "ratios": ratios[kind], "loo_errors": errors, "slope_t": size_slope_t(x, y) if len(runs) > 2 else None,
            "params_range": (float(np.exp(x.min())), float(np.exp(x.max())))}


def claimed_coverage(n: int, coverage: float = MFU_BAND_COVERAGE) -> float:
    """Coverage :func:`prediction_band` claims from ``n`` values: the order-statistic interval's (n + 1 - 2k) / (n + 1)
    (at least ``coverage``), or ``coverage`` itself for the log-t interval used when values are few."""
    c = float(fraction("coverage", coverage, allow_one=False))
    n = int(whole("n", n, minimum=2))
    if (n - 1) / (n + 1) >= c - 1e-12:
        return order_statistic_coverage(n, prediction_interval_rank(n, c))
    return c


def _dense_band(gpu_id: str, coverage: float, exclude: tuple, params, size_term: bool = True, form=None) -> tuple[Band, dict]:
    """Dense MFU band of a device for a model of ``params`` (None: the slice median band) and what it used."""
    fit = _dense_fit(gpu_id, exclude, size_term, form)
    values = np.exp(fit["y"])
    info = {"slice": SLICE_NAMES[fit["key"]], "runs": len(values), "target_coverage": coverage, "model": fit["kind"],
            "candidates_loo_median_abs_error": {k: round(v, 4) for k, v in fit["loo_errors"].items()}}
    if fit["kind"] == "median" or params is None:
        band, method = prediction_band(values, coverage, _pooled_log_spread(exclude) if fit["key"] != "pooled" else None)
        if fit["kind"] != "median":
            method += "; no model size given, so the slice median band (the slice's size term needs N)"
        info["method"] = method
        info["nominal_coverage"] = claimed_coverage(len(values), coverage)
        return band, info
    pred = _fit_point("log-params", fit["x"], fit["y"], np.log(float(params)))
    r, method = prediction_band(fit["ratios"], coverage)
    band = Band(min(pred * r.low, pred), pred, min(max(pred * r.high, pred), 1.0))
    lo, hi = fit["params_range"]
    info.update(method=(f"size term ln(MFU) = {fit['intercept']:.3f} + {fit['slope']:.3f}·ln(N), N clamped to "
                        f"{lo / 1e9:.3g}-{hi / 1e9:.3g}B; band from leave-one-out ratios, {method}"),
                slope=round(fit["slope"], 4), predicted_mfu=round(pred, 4),
                nominal_coverage=claimed_coverage(len(fit["ratios"]), coverage))
    return band, info


def _dense_mid(gpu_id: str, exclude: tuple, params, size_term: bool = True, form=None) -> float:
    fit = _dense_fit(gpu_id, exclude, size_term, form)
    if fit["kind"] == "median" or params is None:
        return float(np.median(np.exp(fit["y"])))
    return _fit_point("log-params", fit["x"], fit["y"], np.log(float(params)))


def moe_factor(coverage: float = MFU_BAND_COVERAGE, *, exclude=(), size_term: bool = True, form=None) -> Band:
    """MoE efficiency factor: effective MFU of each published MoE run (6 x active parameters x tokens) over the
    dense MFU its hardware slice predicts for a dense model of its active size (:data:`MFU_MODEL_RULE`; the slice
    median where the slice has no size term), as a :func:`prediction_band`.
    Below 1: routing, all-to-all communication and load imbalance cost time that 6·N_active·D does not count."""
    excl = tuple(sorted(exclude))
    factors = [effective_mfu(r) / _dense_mid(r.gpu_id, excl, r.compute_params, size_term, form)
               for r in fit_runs("moe") if r.id not in exclude]
    band, _ = prediction_band(factors, coverage)
    return band


@lru_cache(maxsize=512)
def _mfu_band_for(gpu_id: str, moe: bool, coverage: float, exclude: tuple, params=None, size_term: bool = True,
                  form=None) -> tuple[Band, dict]:
    band, info = _dense_band(gpu_id, coverage, exclude, params, size_term, form)
    if moe:
        f = moe_factor(coverage, exclude=exclude, size_term=size_term, form=form)
        mid = _dense_mid(gpu_id, exclude, params, size_term, form)
        band = Band(f.low * mid, f.mid * mid, min(f.high * mid, 1.0))
        n_moe = len([r for r in fit_runs("moe") if r.id not in exclude])
        info.update(slice=info["slice"] + " x MoE factor", moe_factor=f.as_dict(3), moe_runs=n_moe,
                    nominal_coverage=claimed_coverage(n_moe, coverage),
                    method=f"dense slice prediction ({info['model']}) x MoE factor band ({n_moe} MoE runs)")
    return band, info


def mfu_band_for(gpu, *, moe: bool = False, coverage: float = MFU_BAND_COVERAGE, exclude=(), params=None) -> Band:
    """The calibrated MFU band for training on ``gpu``: the model of the published dense runs of its hardware
    generation (:data:`HARDWARE_SLICES`; the pooled dense runs where a generation has fewer than
    :data:`MIN_SLICE_RUNS`), chosen by :data:`MFU_MODEL_RULE` (slice median, or a size term in ``params`` where it
    predicts the slice's runs better out of sample), times the :func:`moe_factor` band for a mixture of experts.
    ``params`` = parameters a token passes through (active, for an MoE); ``None`` gives the slice median band.
    ``exclude`` (run ids) leaves runs out and remakes the slice's model choice without them (the nested back-test).
    Nominal coverage ``coverage``."""
    p = None if params is None else float(positive("params", params))
    band, _ = _mfu_band_for(get_device(gpu).id, bool(moe), float(coverage), tuple(sorted(exclude)), p)
    return band


def mfu_model_info(gpu, *, moe: bool = False, coverage: float = MFU_BAND_COVERAGE, params=None) -> dict:
    """Which slice, how many runs, which model and interval method :func:`mfu_band_for` used (for ``assumptions``)."""
    p = None if params is None else float(positive("params", params))
    return dict(_mfu_band_for(get_device(gpu).id, bool(moe), float(coverage), (), p)[1])


def slice_backtest(coverage: float = MFU_BAND_COVERAGE, *, size_term: bool = True, nested: bool = False):
    """Leave-one-out back-test of :func:`mfu_band_for` on every published run, as a pandas DataFrame.

    A run in the fit is predicted with itself left out (out of sample: the slice's model choice, coefficients and band
    are remade without it; ``nested=True`` remakes the slice's model choice too); a run kept out of the fit is predicted
    as is. ``size_term=False`` gives the
    slice-median model alone (the model before the size term, for comparison). Columns: slice, effective MFU,
    reported and predicted GPU-hours, ``error`` = mid / reported - 1, ``inside`` the band, ``model`` used."""
    import pandas as pd

    rows = []
    for r in load_published_runs():
        if r.kind not in ("dense", "moe") or r.params < MFU_FIT_MIN_PARAMS:
            continue
        excl = (r.id,) if r.use_in_fit else ()
        moe = r.kind == "moe"
        gid = get_device(r.gpu_id).id
        form = None if nested else _dense_fit(gid, (), size_term)["kind"]
        band, info = _mfu_band_for(gid, moe, float(coverage), excl, float(r.compute_params), size_term, form)
        pred = gpu_hours(r.flops, r.gpu_id, "bf16", band)
        rows.append({
            "id": r.id, "model": r.model, "slice": "moe" if moe else hardware_slice(r.gpu_id), "gpu": r.gpu_id,
            "params_b": r.compute_params / 1e9, "tokens_t": r.tokens / 1e12, "effective_mfu": effective_mfu(r),
            "reported_gpu_hours": r.gpu_hours, "predicted_low": float(pred.low), "predicted_mid": float(pred.mid),
            "predicted_high": float(pred.high), "error": float(pred.mid) / r.gpu_hours - 1.0,
            "inside": bool(pred.low <= r.gpu_hours <= pred.high), "use_in_fit": r.use_in_fit,
            "exclude_reason": r.exclude_reason, "source": r.source, "mfu_model": info["model"],
            "nominal_coverage": info["nominal_coverage"],
        })
    return pd.DataFrame(rows)


def slice_summary(table=None, coverage: float = MFU_BAND_COVERAGE, *, size_term: bool = True, nested: bool = False):
    """Per slice of a :func:`slice_backtest` table (runs in the fit only): runs, leave-one-out median and
    maximum absolute error, share inside the band next to the nominal coverage (``nominal_coverage`` = the mean coverage the
    leave-one-out bands claim, which for an order-statistic band of n runs is (n + 1 - 2k) / (n + 1), at least the
    target; ``target_coverage`` = the coverage asked for, :data:`MFU_BAND_COVERAGE`), the MFU model chosen on all runs (:data:`MFU_MODEL_RULE`)
    and the interval method."""
    import pandas as pd

    t = slice_backtest(coverage, size_term=size_term, nested=nested) if table is None else table
    t = t[t["use_in_fit"]]
    rows = []
    for key in ("a100", "h100", "moe"):
        part = t[t["slice"] == key]
        if part.empty:
            continue
        if key == "moe":
            info = _mfu_band_for("h100-sxm", True, float(coverage), (), None, size_term)[1]
        else:
            info = _mfu_band_for(HARDWARE_SLICES[key][0], False, float(coverage), (), None, size_term)[1]
            fit = _dense_fit(HARDWARE_SLICES[key][0], (), size_term)
            if fit["kind"] != "median":
                lo, hi = fit["params_range"]
                info = {**info, "method": (f"size term ln(MFU) = {fit['intercept']:.3f} + {fit['slope']:.3f}·ln(N) "
                                           f"(N {lo / 1e9:.3g}-{hi / 1e9:.3g}B), band from leave-one-out ratios")}
        err = np.abs(part["error"].to_numpy(float))
        rows.append({
            "slice": SLICE_NAMES[key], "runs": int(len(part)), "loo_median_abs_error": float(np.median(err)),
            "loo_max_abs_error": float(err.max()), "loo_coverage": float(part["inside"].mean()),
            "target_coverage": float(coverage), "nominal_coverage": float(part["nominal_coverage"].mean()),
            "model": info["model"], "method": info["method"],
        })
    return pd.DataFrame(rows)


def slice_comparison(coverage: float = MFU_BAND_COVERAGE):
    """Leave-one-out per slice before and after the size term: :func:`slice_summary` of the slice-median model alone
    (``size_term=False``, the model of 2026-11) next to the rule of :data:`MFU_MODEL_RULE`."""
    before = slice_summary(coverage=coverage, size_term=False).set_index("slice")
    after = slice_summary(coverage=coverage).set_index("slice")
    nested = slice_summary(coverage=coverage, nested=True).set_index("slice")
    out = after[["runs"]].copy()
    for col in ("loo_median_abs_error", "loo_coverage"):
        out[col + "_median_model"] = before[col]
        out[col] = after[col]
        out[col + "_nested"] = nested[col]
    out["target_coverage"] = after["target_coverage"]
    out["nominal_coverage"] = after["nominal_coverage"]
    out["model"] = after["model"]
    return out.reset_index()


def mfu_rank_correlation(slice_key: str = "a100", by: str = "params") -> tuple[float, int]:
    """Spearman rank correlation of effective MFU with model size (``by="params"``) or GPU count (``"gpus"``)
    over a hardware slice's fit runs, and the number of runs: the check of whether MFU depends on size or scale
    strongly enough to model (it is not modelled when |rho| is small)."""
    choice("slice_key", slice_key, tuple(HARDWARE_SLICES))
    choice("by", by, ("params", "gpus"))
    runs = [r for r in fit_runs("dense") if r.gpu_id in HARDWARE_SLICES[slice_key]]
    if by == "gpus":
        runs = [r for r in runs if r.gpu_count]
    x = np.array([r.params if by == "params" else r.gpu_count for r in runs], dtype=float)
    y = np.array([effective_mfu(r) for r in runs])

    def ranks(a):
        return np.argsort(np.argsort(a)).astype(float)

    return float(np.corrcoef(ranks(x), ranks(y))[0, 1]), len(runs)


def _mfu(mfu, gpu=None, moe: bool = False, params=None) -> Band:
    if mfu is None:
        return mfu_band() if gpu is None else mfu_band_for(gpu, moe=moe, params=params)
    if isinstance(mfu, Band):
        for v in mfu:
            fraction("mfu", v)
        return mfu
    return Band.point(fraction("mfu", mfu))


def compute_precision(gpu, precision: str = "bf16") -> str:
    """The 16-bit format a device trains in: ``precision`` if it has a dense peak for it, else fp16
    for a device without BF16 tensor cores (T4, V100 generation); any other precision is checked as given."""
    device = get_device(gpu)
    if precision == "bf16" and "bf16" not in device.peak_tflops_by_precision and "fp16" in device.peak_tflops_by_precision:
        return "fp16"
    device.peak_tflops(precision)
    return precision


def gpu_hours(flops, gpu, precision: str = "bf16", mfu=None, *, params=None) -> Band:
    """GPU-hours = FLOPs / (dense peak × MFU × 3600) as a band.

    ``mfu=None`` uses the calibrated dense band of the device's hardware slice, :func:`mfu_band_for` (low GPU-hours
    come from the high MFU), for a model of ``params`` parameters where the slice has a size term (None: slice median);
    a float in (0, 1] pins all three; a :class:`Band` is used as given. ``flops`` may be an array.
    """
    f = positive("flops", flops)
    device = get_device(gpu)
    peak = device.peak_flops(compute_precision(device, precision))
    band = _mfu(mfu, device, params=params)
    return band.map(lambda m: f / (peak * m * SECONDS_PER_HOUR), decreasing=True)


# --------------------------------------------------------------------------------------
# A whole training estimate
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingEstimate:
    """GPU-hours, dollars, energy, CO2 and wall-clock days of a training run, each a band."""

    params: float
    active_params: float
    tokens: float
    gpu: str
    precision: str
    flops: float
    mfu: Band
    gpu_hours: Band
    cost_usd: Band | None
    energy_kwh: Band | None
    co2_kg: Band | None
    wall_days: Band | None
    gpus: int | None
    price_usd_per_gpu_hour: Band | None
    power_w: float | None
    pue: float
    grid_kg_per_kwh: float
    assumptions: dict = field(default_factory=dict)

    def as_dict(self, digits: int = 4) -> dict:
        def b(x):
            return None if x is None else x.as_dict(digits)

        out = {
            "flops": float(f"{float(self.flops):.{digits}g}"),
            "gpu_hours": b(self.gpu_hours),
            "cost_usd": b(self.cost_usd),
            "energy_kwh": b(self.energy_kwh),
            "co2_kg": b(self.co2_kg),
        }
        if self.wall_days is not None:
            out["wall_days"] = b(self.wall_days)
        out["assumptions"] = self.assumptions
        return out


def _price(gpu: Device, price_usd_per_gpu_hour) -> tuple[Band | None, dict]:
    if price_usd_per_gpu_hour is not None:
        if isinstance(price_usd_per_gpu_hour, Band):
            for v in price_usd_per_gpu_hour:
                non_negative("price_usd_per_gpu_hour", v)
            band = price_usd_per_gpu_hour
        else:
            band = Band.point(float(non_negative("price_usd_per_gpu_hour", price_usd_per_gpu_hour)))
        return band, {"usd_per_gpu_hour": band.as_dict(4), "source": "user input"}
    rows = prices_for(gpu.id)
    if not rows:
        return None, {"usd_per_gpu_hour": None, "source": f"no catalog price for {gpu.id}: pass a price"}
    band = gpu_price_band(gpu.id)
    offers = [{"provider": p.provider, "usd_per_gpu_hour": p.price_usd_per_gpu_hour, "source": p.source, "as_of": p.as_of} for p in rows]
    return band, {
        "usd_per_gpu_hour": band.as_dict(4),
        "source": "prices.csv on-demand offers: low = cheapest, mid = median, high = dearest",
        "offers": offers,
    }


def estimate_training(
    params,
    tokens,
    gpu,
    *,
    gpus=None,
    mfu=None,
    price_usd_per_gpu_hour=None,
    pue: float = PUE_DEFAULT,
    grid_kg_per_kwh: float = GRID_KG_CO2_PER_KWH_DEFAULT,
    active_params=None,
    recompute: bool = False,
    precision: str = "bf16",
    power_w=None,
) -> TrainingEstimate:
    """Everything a pre-training budget needs, as low / mid / high bands.

    GPU-hours from :func:`gpu_hours` at the calibrated MFU band (or a pinned ``mfu``); dollars =
    GPU-hours × the catalog's price band for the GPU (or ``price_usd_per_gpu_hour``; ``None``
    when neither exists); energy = GPU-hours × TDP (or ``power_w``) × PUE; CO2 = energy × grid
    intensity (both ``None``, with the reason in ``assumptions["power_w"]``, for a device without a published
    board power unless ``power_w`` is given); wall-clock days = GPU-hours / ``gpus`` / 24 when a GPU count is given.
    ``active_params`` (mixture of experts) sets the compute; ``params`` is the total.
    """
    n = float(positive("params", params))
    a = n if active_params is None else float(positive("active_params", active_params))
    if a > n:
        raise InputError("active_params", a, f"at most params ({n:g})")
    d = float(positive("tokens", tokens))
    device = get_device(gpu)
    precision = compute_precision(device, precision)
    peak = device.peak_flops(precision)
    pue_v = float(positive("pue", pue))
    if pue_v < 1:
        raise InputError("pue", pue, "a power usage effectiveness >= 1 (total facility power / IT power)")
    grid = float(non_negative("grid_kg_per_kwh", grid_kg_per_kwh))
    k = None if gpus is None else int(whole("gpus", gpus))
    moe = a < n
    band = _mfu(mfu, device, moe, params=a)
    flops = float(training_flops(a, d, recompute=recompute))
    hours = gpu_hours(flops, device, precision, band)
    price, price_info = _price(device, price_usd_per_gpu_hour)
    cost = None if price is None else Band(hours.low * price.low, hours.mid * price.mid, hours.high * price.high)
    if power_w is not None:
        watts = float(positive("power_w", power_w))
        power_info = {"value": watts, "source": "user input"}
    elif device.tdp_w is not None:
        watts = float(device.tdp_w)
        power_info = {"value": watts, "source": "board TDP from hardware.csv"}
    else:  # no published board power: the energy and CO2 are not computed, everything else is
        watts = None
        power_info = {"value": None, "source": (f"{device.id} has no published board power (TDP) in hardware.csv: energy and CO2 "
                                                "not computed; pass power_w= (CLI --power-w) to get them")}
    energy = None if watts is None else hours.scale(watts * KWH_PER_WH * pue_v)
    co2 = None if energy is None else energy.scale(grid)
    wall = None if k is None else hours.scale(1.0 / (k * HOURS_PER_DAY))
    assumptions = {
        "flops_rule": f"{FLOPS_PER_PARAM_TOKEN_RECOMPUTE if recompute else FLOPS_PER_PARAM_TOKEN:g}·N·D with N = active parameters (Kaplan et al. 2020)",
        "mfu": {
            **band.as_dict(4),
            "source": MFU_BAND_METHOD if mfu is None else "user input (pinned)",
            "runs_in_fit": mfu_model_info(device, moe=moe, params=a)["runs"] if mfu is None else None,
            **({"model": mfu_model_info(device, moe=moe, params=a), "rule": MFU_MODEL_RULE} if mfu is None else {}),
        },
        "peak_tflops": {"value": peak / 1e12, "precision": precision, "gpu": device.id, "source": device.source, "as_of": device.as_of},
        "price": price_info,
        "power_w": power_info,
        "pue": {"value": pue_v, "source": "Google fleet-wide PUE 2023 (2024 Environmental Report)" if pue == PUE_DEFAULT else "user input"},
        "grid_kg_co2_per_kwh": {
            "value": grid,
            "source": "Ember Global Electricity Review 2024 (world 2023)" if grid_kg_per_kwh == GRID_KG_CO2_PER_KWH_DEFAULT else "user input",
        },
    }
    if k is not None:
        assumptions["gpus"] = k
    return TrainingEstimate(
        params=n, active_params=a, tokens=d, gpu=device.id, precision=precision, flops=flops, mfu=band,
        gpu_hours=hours, cost_usd=cost, energy_kwh=energy, co2_kg=co2, wall_days=wall, gpus=k,
        price_usd_per_gpu_hour=price, power_w=watts, pue=pue_v, grid_kg_per_kwh=grid, assumptions=assumptions,
    )


# --------------------------------------------------------------------------------------
# Fine-tuning
# --------------------------------------------------------------------------------------
def lora_adapter_params(model, rank: int = LORA_RANK_DEFAULT, targets: str = "all-linear") -> float:
    """Trainable LoRA parameters (Hu et al. 2021): delegates to :func:`costlib.memory.lora_trainable_params`."""
    return float(lora_trainable_params(get_model(model), rank, targets))


def finetune_flops_per_token(params, method: str, adapter_params=0.0):
    """Fine-tuning FLOPs per token for full, LoRA and QLoRA.

    * full: 6·N (as pre-training).
    * lora: the frozen base still runs forward (2·N) and back-propagates activation gradients
      through every layer (2·N), but computes no weight gradients for it (the 2·N it skips):
      4·N, plus 6·A for the A adapter parameters (Hu et al. 2021). About a third less per token.
    * qlora: the same matmul FLOPs as LoRA (Dettmers et al. 2023 compute in BF16 after
      dequantising); its extra cost is memory traffic, added as time in :func:`costlib.finetune.estimate_finetune`.
    """
    n = positive("params", params)
    a = non_negative("adapter_params", adapter_params)
    choice("method", method, FINETUNE_METHODS)
    if method == "full":
        return FLOPS_PER_PARAM_TOKEN * n
    return (FLOPS_PER_PARAM_TOKEN - FORWARD_FLOPS_PER_PARAM_TOKEN) * n + FLOPS_PER_PARAM_TOKEN * a


def qlora_dequant_seconds(params, tokens, gpu, tokens_per_microbatch=FINETUNE_MICROBATCH_TOKENS):
    """Seconds (single GPU) QLoRA spends dequantising NF4 weights to BF16.

    Each micro-batch dequantises every frozen weight :data:`QLORA_PASSES_PER_STEP` times,
    moving :data:`QLORA_EXTRA_BYTES_PER_PARAM_PER_PASS` bytes per weight through HBM; the
    time is that traffic over the GPU's memory bandwidth (a roofline lower bound).
    """
    n = positive("params", params)
    d = positive("tokens", tokens)
    t = positive("tokens_per_microbatch", tokens_per_microbatch)
    device = get_device(gpu)
    steps = d / t
    return steps * QLORA_PASSES_PER_STEP * n * QLORA_EXTRA_BYTES_PER_PARAM_PER_PASS / device.bandwidth_bytes_s


# --------------------------------------------------------------------------------------
# Back-test and claim checks (used by chapter 01)
# --------------------------------------------------------------------------------------
def backtest(runs=None, *, leave_one_out: bool = False):
    """Predicted vs reported GPU-hours for published runs, as a pandas DataFrame.

    Each run is predicted from its N, D and GPU alone with the calibrated band of its slice
    (:func:`mfu_band_for`, the defaults the library ships). ``leave_one_out=True`` refits the band without the run
    being predicted (if it is in the fit), an out-of-sample check. Columns: reported and
    predicted low/mid/high GPU-hours, ``error`` = mid / reported - 1, ``inside`` the band.
    """
    import pandas as pd

    runs = load_published_runs() if runs is None else tuple(runs)
    rows = []
    for r in runs:
        excl = (r.id,) if (leave_one_out and r.use_in_fit) else ()
        gid = get_device(r.gpu_id).id
        band, _ = _mfu_band_for(gid, r.kind == "moe", MFU_BAND_COVERAGE, excl, float(r.compute_params), True,
                                _dense_fit(gid, ())["kind"])
        pred = gpu_hours(r.flops, r.gpu_id, "bf16", band)
        rows.append(
            {
                "id": r.id,
                "model": r.model,
                "params_b": r.compute_params / 1e9,
                "tokens_t": r.tokens / 1e12,
                "gpu": r.gpu_id,
                "effective_mfu": effective_mfu(r),
                "reported_gpu_hours": r.gpu_hours,
                "predicted_low": float(pred.low),
                "predicted_mid": float(pred.mid),
                "predicted_high": float(pred.high),
                "error": float(pred.mid) / r.gpu_hours - 1.0,
                "inside": bool(pred.low <= r.gpu_hours <= pred.high),
                "use_in_fit": r.use_in_fit,
                "kind": r.kind,
                "exclude_reason": r.exclude_reason,
                "source": r.source,
            }
        )
    return pd.DataFrame(rows)


def backtest_summary(table) -> dict:
    """Median absolute error and share inside the band over the rows of a :func:`backtest` table."""
    err = np.abs(np.asarray(table["error"], dtype=float))
    return {
        "runs": int(len(err)),
        "median_abs_error": float(np.median(err)),
        "share_inside": float(np.mean(np.asarray(table["inside"], dtype=bool))),
        "max_abs_error": float(err.max()),
    }
