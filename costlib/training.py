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
and evaluation is inside it. costlib does not ask the user to guess MFU: :func:`mfu_band` is
the median of the effective MFUs of the runs in ``data/published_runs.csv`` marked
``use_in_fit`` (dense pre-training runs of at least 0.5B parameters with a primary source, traps
excluded with the reason written down), inside an order-statistic prediction interval that a
new run falls in with probability >= 80 %. See :data:`MFU_BAND_METHOD`.

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

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv
from .errors import InputError, UnknownIdError
from .hardware import Device, devices, get_device
from .models import ModelSpec, get_model
from .prices import gpu_price_band, prices_for
from .uncertainty import Band, band_from_samples
from .units import HOURS_PER_DAY, KWH_PER_WH, SECONDS_PER_HOUR
from .validate import choice, fraction, non_negative, positive, whole

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
    "marked use_in_fit (dense pre-training, >= 0.5B parameters, primary source; multi-run totals, distilled, "
    "mixture-of-experts and restart-dominated runs excluded with their reason). Mid = median. Low and high = the "
    "k-th smallest and k-th largest value, a distribution-free prediction interval (Wilks 1941): a new run falls "
    "between them with probability (n + 1 - 2k) / (n + 1); k is the largest that keeps this >= 80 %."
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
def __getattr__(name):  # LLAMA_65B is read from the catalog on first use, not at import
    if name == "LLAMA_65B":
        return get_model("llama-65b")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# LLAMA_65B: The model QLoRA's headline claim is about (catalog row llama-65b, LLaMA paper Table 2).
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
    if row["use_in_fit"] and row["kind"] != "dense":
        return f"use_in_fit: only dense pre-training runs calibrate the dense MFU band (this one is {row['kind']})"
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
    out = []
    for row in load_csv("published_runs.csv", RUNS_SCHEMA):
        fields = {k: v for k, v in row.items() if not k.startswith("_")}
        fields["as_of"] = row["as_of"].isoformat()
        fields["notes"] = row["notes"] or ""
        fields["exclude_reason"] = row["exclude_reason"] or ""
        out.append(PublishedRun(**fields))
    return tuple(out)


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


def fit_runs() -> tuple[PublishedRun, ...]:
    """The runs that calibrate the MFU band (``use_in_fit``)."""
    return tuple(r for r in load_published_runs() if r.use_in_fit)


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


def _mfu(mfu) -> Band:
    if mfu is None:
        return mfu_band()
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


def gpu_hours(flops, gpu, precision: str = "bf16", mfu=None) -> Band:
    """GPU-hours = FLOPs / (dense peak × MFU × 3600) as a band.

    ``mfu=None`` uses the calibrated :func:`mfu_band` (low GPU-hours come from the high MFU);
    a float in (0, 1] pins all three; a :class:`Band` is used as given. ``flops`` may be an array.
    """
    f = positive("flops", flops)
    device = get_device(gpu)
    peak = device.peak_flops(compute_precision(device, precision))
    band = _mfu(mfu)
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
    energy_kwh: Band
    co2_kg: Band
    wall_days: Band | None
    gpus: int | None
    price_usd_per_gpu_hour: Band | None
    power_w: float
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
    intensity; wall-clock days = GPU-hours / ``gpus`` / 24 when a GPU count is given.
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
    band = _mfu(mfu)
    flops = float(training_flops(a, d, recompute=recompute))
    hours = gpu_hours(flops, device, precision, band)
    price, price_info = _price(device, price_usd_per_gpu_hour)
    cost = None if price is None else Band(hours.low * price.low, hours.mid * price.mid, hours.high * price.high)
    watts = device.tdp() if power_w is None else float(positive("power_w", power_w))
    energy = hours.scale(watts * KWH_PER_WH * pue_v)
    co2 = energy.scale(grid)
    wall = None if k is None else hours.scale(1.0 / (k * HOURS_PER_DAY))
    assumptions = {
        "flops_rule": f"{FLOPS_PER_PARAM_TOKEN_RECOMPUTE if recompute else FLOPS_PER_PARAM_TOKEN:g}·N·D with N = active parameters (Kaplan et al. 2020)",
        "mfu": {
            **band.as_dict(4),
            "source": MFU_BAND_METHOD if mfu is None else "user input (pinned)",
            "runs_in_fit": len(fit_runs()) if mfu is None else None,
        },
        "peak_tflops": {"value": peak / 1e12, "precision": precision, "gpu": device.id, "source": device.source, "as_of": device.as_of},
        "price": price_info,
        "power_w": {"value": watts, "source": "board TDP from hardware.csv" if power_w is None else "user input"},
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
    from .memory import lora_trainable_params

    return float(lora_trainable_params(get_model(model), rank, targets))


def finetune_flops_per_token(params, method: str, adapter_params=0.0):
    """Fine-tuning FLOPs per token for full, LoRA and QLoRA.

    * full: 6·N (as pre-training).
    * lora: the frozen base still runs forward (2·N) and back-propagates activation gradients
      through every layer (2·N), but computes no weight gradients for it (the 2·N it skips):
      4·N, plus 6·A for the A adapter parameters (Hu et al. 2021). About a third less per token.
    * qlora: the same matmul FLOPs as LoRA (Dettmers et al. 2023 compute in BF16 after
      dequantising); its extra cost is memory traffic, added as time in :func:`estimate_finetune`.
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


def finetune_memory_gb(model, method: str, *, gpus: int = 1, rank: int = LORA_RANK_DEFAULT, seq_len: int = 512, batch: int = 4):
    """Per-GPU memory (GB) to fine-tune ``model`` with ``method``, from :func:`costlib.memory.training_memory`.

    Mixed-precision Adam; gradient checkpointing (full recompute, as QLoRA's reference code does);
    full fine-tuning over several GPUs shards everything with ZeRO-3 / FSDP full_shard (as Alpaca did);
    LoRA and QLoRA keep a whole copy of the frozen base on each GPU.
    """
    from .memory import training_memory

    choice("method", method, FINETUNE_METHODS)
    k = int(whole("gpus", gpus))
    zero = 3 if (method == "full" and k > 1) else 0
    br = training_memory(
        get_model(model), mode=method, precision="bf16", optimizer="adam", zero=zero, gpus=k,
        batch=batch, seq_len=seq_len, recompute="full", lora_rank=rank, lora_targets="all-linear",
    )
    return br.total_gb


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

    Compute from :func:`finetune_flops_per_token` at the calibrated MFU band (pre-training
    MFU: fine-tuning runs with short sequences and small batches usually do worse, so read the
    band as optimistic; the chapter shows Alpaca's case). QLoRA adds its dequantisation time.
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
    band = _mfu(mfu)
    hours = gpu_hours(flops, device, "bf16", band)
    if method == "qlora":
        extra_h = float(qlora_dequant_seconds(spec.total_params, d, device)) / SECONDS_PER_HOUR
        hours = Band(hours.low + extra_h, hours.mid + extra_h, hours.high + extra_h)
    price, price_info = _price(device, price_usd_per_gpu_hour)
    cost = None if price is None else Band(hours.low * price.low, hours.mid * price.mid, hours.high * price.high)
    mem_gb = float(finetune_memory_gb(spec, method, gpus=k, rank=rank, seq_len=seq_len, batch=batch))
    fits = mem_gb <= device.memory_gb
    single = float(finetune_memory_gb(spec, method, gpus=1, rank=rank, seq_len=seq_len, batch=batch))
    fits_on = tuple(dev.id for dev in devices().values() if dev.kind == "gpu" and single <= dev.memory_gb)
    assumptions = {
        "flops_per_token_rule": {"full": "6·N", "lora": "4·N + 6·adapters", "qlora": "4·N + 6·adapters + NF4 dequantisation time"}[method],
        "adapter_params": adapters,
        "rank": rank if method != "full" else None,
        "mfu": {**band.as_dict(4), "source": "calibrated pre-training band (optimistic for fine-tuning)" if mfu is None else "user input (pinned)"},
        "memory": f"per GPU: micro-batch {batch} x {seq_len} tokens, mixed-precision Adam, gradient checkpointing, "
        + ("ZeRO-3 over the GPUs" if (method == "full" and k > 1) else "no sharding") + " (costlib.memory.training_memory)",
        "fits_on": "catalog GPUs that hold it alone (one GPU)",
        "price": price_info,
        "gpus": k,
    }
    return FinetuneEstimate(
        model=spec.id, method=method, tokens=d, gpu=device.id, gpus=k, params=n, adapter_params=adapters,
        flops_per_token=per_token, flops=flops, mfu=band, gpu_hours=hours, cost_usd=cost, memory_gb=mem_gb,
        fits=fits, fits_on=fits_on, assumptions=assumptions,
    )


# --------------------------------------------------------------------------------------
# Back-test and claim checks (used by chapter 01)
# --------------------------------------------------------------------------------------
def backtest(runs=None, *, leave_one_out: bool = False):
    """Predicted vs reported GPU-hours for published runs, as a pandas DataFrame.

    Each run is predicted from its N, D and GPU alone with the calibrated band (the same
    defaults the library ships). ``leave_one_out=True`` refits the band without the run
    being predicted (if it is in the fit), an out-of-sample check. Columns: reported and
    predicted low/mid/high GPU-hours, ``error`` = mid / reported - 1, ``inside`` the band.
    """
    import pandas as pd

    runs = load_published_runs() if runs is None else tuple(runs)
    fit = fit_runs()
    rows = []
    for r in runs:
        if leave_one_out and r.use_in_fit:
            band = mfu_band_from([f for f in fit if f.id != r.id])
        else:
            band = mfu_band()
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


def range_verdict(predicted: Band, claim_low: float, claim_high: float | None) -> str:
    """How a claimed range sits against a predicted band.

    "consistent" if the ranges overlap; "too low" if the whole claim is below the band's low;
    "too high" if it is above the band's high. ``claim_high=None`` is an open-ended claim ("$1M+").
    """
    lo = float(positive("claim_low", claim_low))
    hi = float("inf") if claim_high is None else float(positive("claim_high", claim_high))
    if hi < lo:
        raise InputError("claim_high", claim_high, f"at least claim_low ({lo:g})")
    if hi < float(predicted.low):
        return "too low"
    if lo > float(predicted.high):
        return "too high"
    return "consistent"


def finetune_tokens_for_hours(model, method: str, gpu, hours, *, gpus: int = 1, mfu=None) -> Band:
    """Tokens a fine-tuning run gets through in ``hours`` of wall-clock on ``gpus`` GPUs (inverse of
    :func:`estimate_finetune`'s time; low tokens come from the low MFU). Includes QLoRA's dequantisation."""
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
    band = _mfu(mfu)
    return band.map(lambda m: h * k * SECONDS_PER_HOUR / (per_token / (peak * m) + extra))


def check_training_claim(params, tokens, gpu, gpus, days_low, days_high, *, cost_low=None, cost_high=None, price_usd_per_gpu_hour=None) -> dict:
    """Check a claimed training run (N, D, GPU type and count, a duration range, a cost range).

    Returns the MFU the claim implies at its shortest and longest duration (above 1 is
    impossible: more than the GPUs' peak), costlib's wall-clock days and dollars for that GPU
    count at the calibrated band, and verdicts for the duration and the cost.
    """
    k = int(whole("gpus", gpus))
    dl = float(positive("days_low", days_low))
    dh = float(positive("days_high", days_high))
    est = estimate_training(params, tokens, gpu, gpus=k, price_usd_per_gpu_hour=price_usd_per_gpu_hour)
    mfu_at_short = float(implied_mfu(est.flops, gpu, k * dl * HOURS_PER_DAY))
    mfu_at_long = float(implied_mfu(est.flops, gpu, k * dh * HOURS_PER_DAY))
    if mfu_at_long > 1:
        time_verdict = "impossible"
    else:
        time_verdict = range_verdict(est.wall_days, dl, dh)
    out = {
        "flops": est.flops,
        "implied_mfu_short": mfu_at_short,
        "implied_mfu_long": mfu_at_long,
        "gpu_hours": est.gpu_hours,
        "wall_days": est.wall_days,
        "cost_usd": est.cost_usd,
        "time_verdict": time_verdict,
    }
    if cost_low is not None and est.cost_usd is not None:
        out["cost_verdict"] = range_verdict(est.cost_usd, cost_low, cost_high if cost_high is not None else cost_low)
    return out
