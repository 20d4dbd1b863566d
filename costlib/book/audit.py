"""The seed audit: every numeric claim of the two seed documents, checked against costlib.

The claims are data (``data/seed_claims.csv``): the claim as written, the quantity, the claimed
range in a stated unit, the reading used where the text is ambiguous, and the costlib computation
that checks it (``method`` + ``params``). Computed values are never stored: :func:`evaluate_claim`
calls the training, memory, inference and price modules at run time, so the audit moves with the
catalog and the calibration.

Verdicts (:func:`judge`, :func:`verdict`)
-----------------------------------------
* ``physically impossible``: the claim needs more than the hardware can do at all (an MFU above
  100 % of the dense peak, PaLM's definition, Chowdhery et al. 2022 appendix B; or a decode faster
  than the memory-bandwidth floor of the roofline, Williams et al. 2009).
* ``not checkable``: the claim is a definition or depends on a number the text does not give.
* ``holds``: for a *point* claim (one setup) the claimed range overlaps costlib's band widened by
  :data:`HOLD_TOLERANCE`; for a *class* claim ("SLM: 4-16 GB") the claimed range covers the
  values at both ends of the class (computed at mid assumptions), within the same tolerance.
* ``optimistic by x`` / ``pessimistic by x``: the claim lies on the good / bad side of the band
  (``better`` says which side is good: lower for costs and latency, higher for speed and savings).
  ``x`` for a point claim is costlib's mid over the claim's geometric middle (or the finite bound
  of a one-sided claim); for a class claim, the ratio by which the class end falls outside.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv
from ..errors import CostlibError, InputError, UnknownIdError
from ..fx import fx_band
from ..hardware import get_device
from ..inference import decode_step, flops_per_token
from ..serving import estimate_continuous, min_gpus_for
from .memo import seed001_saving
from ..memory import inference_memory, min_gpus, training_memory, weight_bytes
from ..models import custom_model, get_model
from ..prices import gpu_price_band
from ..training import chinchilla_tokens, estimate_training, finetune_flops_per_token, gpu_hours, implied_mfu, lora_adapter_params, mfu_band, qlora_dequant_seconds, training_flops
from ..uncertainty import Band
from ..units import HOURS_PER_DAY, HOURS_PER_MONTH, parse_quantity

HOLD_TOLERANCE = 1.15
"""A claim within 15 % of costlib's band still holds: the seeds print one or two significant figures
(a '~$0.15' is anything from 0.145 to 0.155 as written, and 'about' more loosely). Book convention."""

VERDICTS = ("holds", "optimistic", "pessimistic", "physically impossible", "not checkable")
BETTER = ("lower", "higher")
SCOPES = ("point", "class")
METHODS = (
    "not_checkable", "flops_rule", "training_flops", "training_time", "training_cost", "finetune_share",
    "finetune_fit", "finetune_tokens", "finetune_relative_time", "finetune_cost", "rental_cost",
    "inference_flops", "request_latency", "request_cost", "memory_footprint", "min_devices", "monthly_rental",
    "class_train_gpus", "class_train_days", "class_train_cost", "class_vram", "class_decode_speed",
    "class_latency", "class_cost_per_1m", "sum_of_claims", "saving_of_claims", "planner_saving", "zero",
)
TRAIN_SEQ_LEN = 2048
"""Sequence length assumed for the memory minimum of pre-training (Llama 2 used 4,096; many small runs 2,048)."""


def _range_in_order(row: dict) -> str | None:
    lo, hi = row["claimed_low"], row["claimed_high"]
    if lo is not None and hi is not None and lo > hi:
        return f"claimed_low: {lo} is above claimed_high {hi}"
    return None


CLAIM_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("seed_file"),
        Column("line", "int", positive=True),
        Column("section"),
        Column("claim"),
        Column("quantity"),
        Column("claimed_low", "float", required=False, non_negative=True),
        Column("claimed_high", "float", required=False, non_negative=True),
        Column("unit"),
        Column("better", choices=BETTER),
        Column("scope", choices=SCOPES),
        Column("interpretation"),
        Column("method", choices=METHODS),
        Column("params", required=False),
        NOTES,
        SOURCE,
        AS_OF,
    ),
    row_checks=(_range_in_order,),
)

@dataclass(frozen=True)
class Claim:
    """One row of ``seed_claims.csv``: the claim as written and how costlib checks it."""

    id: str
    seed_file: str
    line: int
    section: str
    claim: str
    quantity: str
    claimed_low: float | None
    claimed_high: float | None
    unit: str
    better: str
    scope: str
    interpretation: str
    method: str
    params: dict = field(default_factory=dict)
    notes: str = ""

    @property
    def checkable(self) -> bool:
        return self.method != "not_checkable"


def parse_params(text: str | None) -> dict[str, Any]:
    """``key=value;key=value`` -> dict; values with ``|`` become lists; numbers (7e9, 500B) become floats."""
    out: dict[str, Any] = {}
    if not text:
        return out
    for part in text.split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise InputError("params", text, "key=value pairs separated by ';'")
        key, value = (s.strip() for s in part.split("=", 1))
        items = [_value(v.strip()) for v in value.split("|")] if "|" in value else _value(value)
        out[key] = items
    return out


def _value(text: str):
    try:
        return parse_quantity(text)
    except InputError:
        return text


@lru_cache(maxsize=1)
def seed_claims() -> tuple[Claim, ...]:
    """Every claim row, validated (``costlib.catalog.load_csv``) and with parsed ``params``."""
    out = []
    for row in load_csv("seed_claims.csv", CLAIM_SCHEMA):
        out.append(
            Claim(
                id=row["id"], seed_file=row["seed_file"], line=row["line"], section=row["section"], claim=row["claim"],
                quantity=row["quantity"], claimed_low=row["claimed_low"], claimed_high=row["claimed_high"],
                unit=row["unit"], better=row["better"], scope=row["scope"], interpretation=row["interpretation"],
                method=row["method"], params=parse_params(row["params"]), notes=row["notes"] or "",
            )
        )
    return tuple(out)


def seed_memory_claims() -> list[dict]:
    """Seed 000's weights-only memory table (chapter 03), from the claim list (``data/seed_claims.csv``, rows
    checked by the ``memory_footprint`` method): one dict per cell with params, precision and claimed_gb."""
    out = []
    for c in seed_claims():
        if c.method == "memory_footprint":
            out.append(
                {"id": c.id, "params": float(c.params["params"]), "precision": c.params["precision"],
                 "claimed_gb": c.claimed_low, "source": f"seed {c.seed_file}, line {c.line}", "notes": c.interpretation}
            )
    return out


def get_claim(claim_id: str | Claim) -> Claim:
    if isinstance(claim_id, Claim):
        return claim_id
    table = {c.id: c for c in seed_claims()}
    if claim_id not in table:
        raise UnknownIdError("claim", claim_id, sorted(table))
    return table[claim_id]


# --------------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Judgement:
    label: str  # one of VERDICTS
    factor: float | None = None

    def __str__(self) -> str:
        if self.label in ("optimistic", "pessimistic"):
            return f"{self.label} by {_fmt_factor(self.factor)}x"
        if self.label == "physically impossible" and self.factor:
            return f"physically impossible ({_fmt_factor(self.factor)}x past the limit)"
        return self.label


def _fmt_factor(f: float) -> str:
    return f"{f:.2g}" if f < 10 else f"{f:,.0f}"


def _claim_ref(lo: float, hi: float) -> float:
    """The claim's middle: geometric mean of a two-sided range, else its finite bound."""
    if math.isinf(hi):
        return lo
    if lo <= 0:
        return hi
    return math.sqrt(lo * hi)


def judge(claimed_low, claimed_high, computed: Band | None, physically_possible: bool = True, *,
          better: str = "lower", scope: str = "point", tolerance: float = HOLD_TOLERANCE) -> Judgement:
    """The verdict class and factor for a claimed range against a computed band (see module doc).

    ``claimed_low`` None means no lower bound ('<$20'), ``claimed_high`` None no upper bound ('$3M+').
    """
    if better not in BETTER:
        raise InputError("better", better, "one of " + ", ".join(BETTER))
    if scope not in SCOPES:
        raise InputError("scope", scope, "one of " + ", ".join(SCOPES))
    if not tolerance >= 1:
        raise InputError("tolerance", tolerance, "a factor >= 1")
    if not physically_possible:
        return Judgement("physically impossible")
    if computed is None or (claimed_low is None and claimed_high is None):
        return Judgement("not checkable")
    lo = 0.0 if claimed_low is None else float(claimed_low)
    hi = math.inf if claimed_high is None else float(claimed_high)
    if lo < 0 or hi < lo:
        raise InputError("claimed range", (claimed_low, claimed_high), "0 <= claimed_low <= claimed_high")
    c_lo, c_mid, c_hi = float(computed.low), float(computed.mid), float(computed.high)
    # claim_below: the claimed value is smaller than what costlib computes
    if scope == "point":
        if hi * tolerance >= c_lo and lo <= c_hi * tolerance:
            return Judgement("holds")
        if hi < c_lo:
            below, factor = True, c_mid / _claim_ref(lo, hi)
        else:
            below, factor = False, _claim_ref(lo, hi) / c_mid
    else:
        over_top = c_hi / hi if hi > 0 else math.inf  # class end above the claimed top
        under_bottom = lo / c_lo if c_lo > 0 else (math.inf if lo > 0 else 0.0)  # class end below the claimed bottom
        if over_top <= tolerance and under_bottom <= tolerance:
            return Judgement("holds")
        below = over_top >= under_bottom
        factor = over_top if below else under_bottom
    good_side = below if better == "lower" else not below
    return Judgement("optimistic" if good_side else "pessimistic", float(factor))


def verdict(claimed_low, claimed_high, computed: Band | None, physically_possible: bool = True, **kw) -> str:
    """``holds`` / ``optimistic by x`` / ``pessimistic by x`` / ``physically impossible`` / ``not checkable``."""
    return str(judge(claimed_low, claimed_high, computed, physically_possible, **kw))


# --------------------------------------------------------------------------------------------
# Evaluating one claim
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evaluation:
    claim: Claim
    computed: Band | None
    judgement: Judgement
    reason: str
    physically_possible: bool = True
    details: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return str(self.judgement)


@dataclass
class _Result:
    band: Band | None
    reason: str
    possible: bool = True
    details: dict = field(default_factory=dict)


def _sorted_band(values) -> Band:
    v = sorted(float(x) for x in values)
    mid = v[len(v) // 2] if len(v) % 2 else (math.sqrt(v[0] * v[-1]) if v[0] > 0 else (v[0] + v[-1]) / 2)
    return Band(v[0], mid, v[-1])


def _class_band(lo_end: float, hi_end: float) -> Band:
    a, b = sorted((float(lo_end), float(hi_end)))
    mid = math.sqrt(a * b) if a > 0 else (a + b) / 2
    return Band(a, mid, b)


def _tokens(params: dict, n: float) -> float:
    t = params["tokens"]
    return float(chinchilla_tokens(n)) if t == "chinchilla" else float(t)


def _fmt(x: float, unit: str = "") -> str:
    return claim_number_text(x, unit)


def claim_number_text(x: float | None, unit: str = "") -> str:
    """A number in a claim's unit the way the audit prints it: 2-3 significant figures, with its unit
    (not :func:`costlib.present.explore.format_value`, which applies a format spec for the explorers)."""
    if x is None:
        return ""
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    x = float(x)
    if unit == "usd":
        return f"${_sig(x)}"
    if unit == "share":
        return f"{x * 100:.3g}%"
    if unit == "params":
        return f"{x / 1e9:g}B"
    if unit == "flop":
        return f"{x:.3g}"
    if unit == "flop/param/token":
        return f"{x:.3g}"
    if unit == "days" and 0 < x < 1:
        return f"{_sig(x * 24)} h"
    if unit == "gpus" and x == 1:
        return "1 GPU"
    if unit == "devices" and x == 1:
        return "1 device"
    suffix = {"gb": " GB", "ms": " ms", "days": " days", "hours": " h", "gpus": " GPUs", "devices": " devices",
              "inr": " INR", "tokens/s": " tok/s", "usd/1M tokens": " $/1M tok"}.get(unit, f" {unit}" if unit else "")
    if unit == "usd/1M tokens":
        return f"${_sig(x)}/1M tok"
    return f"{_sig(x)}{suffix}"


def _sig(x: float) -> str:
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:.3g}M"
    if a >= 1e4:
        return f"{x / 1e3:.3g}k"
    if a >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


_MODE_NAMES = {"full": "full fine-tuning", "lora": "LoRA", "qlora": "QLoRA"}


def _gpus(k) -> str:
    return f"{k:g} GPU" + ("" if k == 1 else "s")


def _price_text(price: Band) -> str:
    if abs(price.high - price.low) < 0.005:
        return f"${price.mid:.2f}"
    return f"${price.low:.2f}–{price.high:.2f}"


def _m_not_checkable(c: Claim) -> _Result:
    return _Result(None, c.notes or "not a measurable quantity")


def _m_zero(c: Claim) -> _Result:
    return _Result(Band(0.0, 0.0, 0.0), "nothing is trained, so nothing is spent on training")


def _m_flops_rule(c: Claim) -> _Result:
    p = c.params
    if p.get("kind") == "training":
        six = float(training_flops(1.0, 1.0))
        eight = float(training_flops(1.0, 1.0, recompute=True))
        return _Result(Band(six, six, eight), f"{six:g}·N·D is the standard count (Kaplan et al. 2020); full activation recompute makes it {eight:g}·N·D")

    two = float(flops_per_token(custom_model(1e9), 0)) / 1e9
    m = get_model(p["model"])
    with_attn = float(flops_per_token(m, p["context"])) / float(m.active_params)
    return _Result(Band(two, two, with_attn), f"2·N per generated token; the attention term adds {100 * (with_attn / two - 1):.0f}% for {m.name} at {p['context']:,.0f} tokens of context")


def _m_training_flops(c: Claim) -> _Result:
    n = float(c.params["params"])
    d = _tokens(c.params, n)
    f6, f8 = float(training_flops(n, d)), float(training_flops(n, d, recompute=True))
    return _Result(Band(f6, f6, f8), f"6·N·D = {f6:.3g} FLOPs ({f8:.3g} with full recompute)")


def _m_training_time(c: Claim) -> _Result:
    p = c.params
    n = float(p["params"])
    d = _tokens(p, n)
    k = int(p["gpus"])
    dev = get_device(p["gpu"])
    est = estimate_training(n, d, dev.id, gpus=k)
    flops = float(training_flops(n, d))
    need_hi = float(implied_mfu(flops, dev.id, k * c.claimed_low * HOURS_PER_DAY)) if c.claimed_low else math.inf
    need_lo = float(implied_mfu(flops, dev.id, k * c.claimed_high * HOURS_PER_DAY)) if c.claimed_high else 0.0
    days_at_peak = float(gpu_hours(flops, dev.id, mfu=1.0).mid) / k / HOURS_PER_DAY
    possible = need_lo <= 1.0
    mfu = est.mfu
    reason = (
        f"needs MFU {need_lo:.0%}–{need_hi:.0%} of the {dev.name} dense BF16 peak; even at 100% MFU {k} GPUs take "
        f"{days_at_peak:.1f} days; at the calibrated MFU {mfu.low:.0%}–{mfu.high:.0%} they take "
        f"{est.wall_days.low:.0f}–{est.wall_days.high:.0f} days"
    )
    details = {"mfu_needed_low": need_lo, "mfu_needed_high": need_hi, "days_at_100pct_mfu": days_at_peak, "impossible_by": need_lo}
    return _Result(est.wall_days, reason, possible, details)


def _m_training_cost(c: Claim) -> _Result:
    p = c.params
    n = float(p["params"])
    d = _tokens(p, n)
    est = estimate_training(n, d, p["gpu"])
    if est.cost_usd is None:
        return _Result(None, f"no catalog price for {p['gpu']}")
    h = est.gpu_hours
    return _Result(est.cost_usd, f"{n / 1e9:g}B × {d / 1e9:,.0f}B tokens = {h.low:,.0f}–{h.high:,.0f} GPU-hours at the calibrated MFU, "
                   f"× {_price_text(est.price_usd_per_gpu_hour)}/GPU-hour")


def _finetune_flops(model, mode: str, tokens) -> float:
    m = get_model(model)
    adapters = 0.0 if mode == "full" else float(lora_adapter_params(m))
    return float(finetune_flops_per_token(float(m.active_params), mode, adapters)) * tokens


def _m_finetune_share(c: Claim) -> _Result:
    p = c.params
    m = get_model(p["model"])
    pt = float(training_flops(float(m.active_params), float(p["pretrain_tokens"])))
    shares = [_finetune_flops(m, "lora", float(p[k])) / pt for k in ("tokens_low", "tokens_mid", "tokens_high")]
    band = Band(*shares)
    return _Result(band, f"a LoRA pass costs {_finetune_flops(m, 'lora', 1.0) / float(m.active_params):.1f}·N per token; "
                   f"{p['tokens_low'] / 1e6:,.0f}M–{p['tokens_high'] / 1e9:g}B fine-tuning tokens against {p['pretrain_tokens'] / 1e12:g}T pre-training tokens "
                   f"leave {shares[0]:.1e}–{shares[2]:.1e} of the compute: a reduction of {1 - shares[2]:.2%} or more")


def _m_finetune_fit(c: Claim) -> _Result:
    p = c.params
    dev = get_device(p["gpu"])
    kw = dict(batch=int(p["batch"]), recompute=p.get("recompute", "none"))
    n = min_gpus(p["model"], dev.id, p["precision"], context=int(p["seq_len"]), mode=p["mode"], **kw)
    one = training_memory(p["model"], p["mode"], p["precision"], seq_len=int(p["seq_len"]), **kw)
    if n is None:
        return _Result(None, f"does not fit on any number of {dev.name}")
    return _Result(Band.point(float(n)), f"{_MODE_NAMES[p['mode']]} needs {one.total_gb:.1f} GB on one GPU; the {dev.name} has {dev.memory_gib:g} GiB")


def _lora_hours_per_token(model, gpu, precision="bf16", mfu=None):
    ref_tokens = 1e6
    return gpu_hours(_finetune_flops(model, "lora", ref_tokens), gpu, precision, mfu), ref_tokens


def _m_finetune_tokens(c: Claim) -> _Result:
    p = c.params
    hours, ref = _lora_hours_per_token(p["model"], p["gpu"])
    t_lo = c.claimed_low / hours.high * ref
    t_hi = c.claimed_high / hours.low * ref
    return _Result(None, f"the dataset is not stated; {c.claimed_low:g}–{c.claimed_high:g} h of LoRA on one GPU processes "
                   f"{t_lo / 1e6:,.0f}M–{t_hi / 1e6:,.0f}M tokens at the calibrated MFU", details={"tokens_low": t_lo, "tokens_high": t_hi})


def _m_finetune_relative_time(c: Claim) -> _Result:
    p = c.params
    m = get_model(p["model"])
    dev = get_device(p["gpu"])
    prec = "bf16" if "bf16" in dev.precisions else "fp16"
    mid = mfu_band().mid
    ref_hours, ref = _lora_hours_per_token(m, p["ref_gpu"], mfu=mid)
    out = []
    for key, pick in (("ref_hours_low", "low"), ("ref_hours_high", "high")):
        tokens = float(p[key]) / ref_hours.mid * ref
        h = gpu_hours(_finetune_flops(m, "qlora", tokens), dev.id, prec)
        extra = float(qlora_dequant_seconds(m.total_params, tokens, dev.id)) / 3600.0
        out.append(getattr(h, pick) + extra)
    band = _class_band(out[0], out[1])
    ratio = get_device(p["ref_gpu"]).peak_flops("bf16") / dev.peak_flops(prec)
    return _Result(band, f"the same data as the LoRA row takes {band.low:.0f}–{band.high:.0f} h on a {dev.name}: "
                   f"{ratio:.1f}× less peak compute than the {get_device(p['ref_gpu']).name}, plus NF4 dequantisation")


def _m_rental_cost(c: Claim) -> _Result:
    p = c.params
    price = gpu_price_band(p["gpu"])
    k = float(p.get("gpus", 1))
    h_lo, h_hi = float(p["hours_low"]), float(p["hours_high"])
    band = Band(h_lo * price.low * k, (h_lo + h_hi) / 2 * price.mid * k, h_hi * price.high * k)
    return _Result(band, f"{h_lo:g}–{h_hi:g} h × {_price_text(price)}/GPU-hour (catalog on-demand)")


def _m_finetune_cost(c: Claim) -> _Result:
    p = c.params
    price = gpu_price_band(p["gpu"])
    vals = []
    for key, pick in (("tokens_low", "low"), ("tokens_mid", "mid"), ("tokens_high", "high")):
        h = gpu_hours(_finetune_flops(p["model"], p["mode"], float(p[key])), p["gpu"])
        vals.append(getattr(h, pick) * getattr(price, pick))
    band = Band(*vals)
    return _Result(band, f"LoRA on {p['tokens_low'] / 1e6:,.0f}M–{p['tokens_high'] / 1e9:g}B tokens costs ${band.low:,.0f}–{band.high:,.0f} of GPU time")


def _m_inference_flops(c: Claim) -> _Result:
    n = float(c.params["params"])
    f = float(flops_per_token(custom_model(n), 0)) * float(c.params["tokens"])
    return _Result(Band.point(f), f"2 × {n:g} × {c.params['tokens']:g} = {f:.3g}")


def _fit_gpus(model, gpu, precision, context, batch=1) -> int:
    """Fewest GPUs at a valid tensor-parallel degree whose KV pool holds ``batch`` sequences of ``context`` tokens
    (:func:`costlib.serving.min_gpus_for`: one rule for serving and the audit)."""
    n = min_gpus_for(model, gpu, precision=precision, prompt_tokens=max(int(context) - 1, 1), output_tokens=1,
                     min_concurrency=batch)
    if n is None:
        raise InputError("model", model, f"a model that fits on at most 64 x {gpu} at a valid tensor-parallel degree")
    return int(n)


def _m_request_latency(c: Claim) -> _Result:
    p = c.params
    prompt, output, b = int(p["prompt"]), int(p["output"]), int(p.get("batch", 1))
    k = _fit_gpus(p["model"], p["gpu"], p["precision"], prompt + output, b)
    est = estimate_continuous(p["model"], p["gpu"], p["precision"], b, prompt, output, gpus=k)
    lat = est.request_latency_s.scale(1000.0)
    step = decode_step(p["model"], p["gpu"], p["precision"], b, prompt, k, bandwidth_utilization=1.0, compute_utilization=1.0)
    floor_ms = float(step.total_s) * output * 1000.0
    claimed_top = c.claimed_high if c.claimed_high is not None else math.inf
    possible = claimed_top >= floor_ms
    ttft, tpot = est.ttft_s.scale(1000.0), est.tpot_s.scale(1000.0)
    gpus = f"{k} × {p['gpu']}" if k > 1 else f"one {p['gpu']}"
    reason = (
        f"{output} tokens on {gpus} cannot take less than {floor_ms:,.0f} ms (every weight read once per token at full "
        f"memory bandwidth); as time to first token: {ttft.low:.0f}–{ttft.high:.0f} ms; per token: {tpot.low:.1f}–{tpot.high:.1f} ms"
    )
    details = {"floor_ms": floor_ms, "ttft_ms": ttft, "tpot_ms": tpot, "gpus": k, "impossible_by": floor_ms / claimed_top}
    return _Result(lat, reason, possible, details)


def _cost_over_batches(model, gpu, precision, prompt, output, batches, attr) -> list[Band]:
    out = []
    for b in batches:
        k = _fit_gpus(model, gpu, precision, prompt + output, b)
        est = estimate_continuous(model, gpu, precision, b, prompt, output, gpus=k)
        out.append(getattr(est, attr))
    return out


def _m_request_cost(c: Claim) -> _Result:
    p = c.params
    batches = [int(p["batch_low"]), int(p["batch_mid"]), int(p["batch_high"])]
    b_lo, b_mid, b_hi = _cost_over_batches(p["model"], p["gpu"], p["precision"], int(p["prompt"]), int(p["output"]), batches, "cost_per_1k_requests_usd")
    return _Result(b_mid, f"{batches[1]} requests batched on {p['gpu']} at catalog prices, all paid hours busy (the band is the serving "
                   f"efficiency and price); at mid efficiency {batches[0]} batched cost ${b_lo.mid:.3g}, {batches[2]} batched ${b_hi.mid:.3g}",
                   details={"by_batch_mid": {batches[0]: b_lo.mid, batches[1]: b_mid.mid, batches[2]: b_hi.mid}})


def _m_memory_footprint(c: Claim) -> _Result:
    p = c.params
    w = float(weight_bytes(float(p["params"]), p["precision"])) / 1e9
    bare = inference_memory(p["model"], p["precision"], 0).total_gb
    full = inference_memory(p["model"], p["precision"], int(p["context"])).total_gb
    band = _sorted_band([w, bare, full])
    return _Result(band, f"weights alone {w:.2f} GB; serving {p['model']} with a {int(p['context']):,}-token KV cache and runtime needs {full:.1f} GB")


def _m_min_devices(c: Claim) -> _Result:
    p = c.params
    dev = get_device(p["gpu"])
    precs = p["precisions"] if isinstance(p["precisions"], list) else [p["precisions"]]
    counts = {q: _fit_gpus(p["model"], dev.id, q, int(p["context"])) for q in precs}
    band = _sorted_band(list(counts.values()))
    return _Result(band, f"{dev.name}, {dev.memory_gib:g} GiB each; units needed: " + ", ".join(f"{q.upper()} {n}" for q, n in counts.items()),
                   details={"counts": counts})


def _m_monthly_rental(c: Claim) -> _Result:
    p = c.params
    price = gpu_price_band(p["gpu"])
    fx = fx_band(p["currency"])
    k = float(p.get("gpus", 1))
    band = price.scale(HOURS_PER_MONTH * k) * fx
    usd = price.mid * HOURS_PER_MONTH * k
    return _Result(band, f"{HOURS_PER_MONTH:.0f} h × {_price_text(price)}/h = ${usd:,.0f} a month at {fx.low:.1f}–{fx.high:.1f} {p['currency']}/USD; "
                   f"the CPU option is not priced")


def _ends(c: Claim, key: str) -> list:
    v = c.params[key]
    return v if isinstance(v, list) else [v]


def _m_class_train_gpus(c: Claim) -> _Result:
    vals = []
    for m in _ends(c, "models"):
        n = min_gpus(m, c.params["gpu"], "bf16", context=TRAIN_SEQ_LEN, batch=1, mode="full", recompute="full")
        vals.append(float(n))
    band = _class_band(*vals)
    return _Result(band, f"fewest {c.params['gpu']} that hold weights, gradients and Adam states (ZeRO-3): {vals[0]:.0f} and {vals[1]:.0f} at the class ends")


def _class_training(c: Claim):
    out = []
    ns = _ends(c, "params")
    gpus = _ends(c, "gpus") if "gpus" in c.params else [None] * len(ns)
    for n, k in zip(ns, gpus):
        out.append(estimate_training(float(n), float(chinchilla_tokens(n)), c.params["gpu"], gpus=None if k is None else int(k)))
    return ns, out


def _m_class_train_days(c: Claim) -> _Result:
    ns, ests = _class_training(c)
    vals = [e.wall_days.mid for e in ests]
    band = _class_band(*vals)
    ks = _ends(c, "gpus")
    return _Result(band, f"compute-optimal runs: {ns[0] / 1e9:g}B on {_gpus(ks[0])} {vals[0]:.1f} days, {ns[1] / 1e9:g}B on {_gpus(ks[1])} {vals[1]:.0f} days (mid MFU)")


def _m_class_train_cost(c: Claim) -> _Result:
    ns, ests = _class_training(c)
    vals = [e.cost_usd.mid for e in ests]
    band = _class_band(*vals)
    return _Result(band, f"compute-optimal runs: {ns[0] / 1e9:g}B ${_sig(vals[0])}, {ns[1] / 1e9:g}B ${_sig(vals[1])} (mid MFU and price)")


def _m_class_vram(c: Claim) -> _Result:
    p = c.params
    vals = [inference_memory(m, p["precision"], int(p["context"])).total_gb for m in _ends(c, "models")]
    band = _class_band(*vals)
    return _Result(band, f"{_ends(c, 'models')[0]} {vals[0]:.1f} GB, {_ends(c, 'models')[1]} {vals[1]:.0f} GB")


def _class_inference(c: Claim, batch: int = 1):
    p = c.params
    prompt, output = int(p["prompt"]), int(p["output"])
    out = []
    for m in _ends(c, "models"):
        k = _fit_gpus(m, p["gpu"], p["precision"], prompt + output, batch)
        out.append((m, k, estimate_continuous(m, p["gpu"], p["precision"], batch, prompt, output, gpus=k)))
    return out


def _m_class_decode_speed(c: Claim) -> _Result:
    res = _class_inference(c)
    vals = [e.tokens_per_s_per_sequence.mid for _, _, e in res]
    band = _class_band(*vals)
    parts = ", ".join(f"{m} {v:,.0f} tok/s" + (f" on {k} GPUs" if k > 1 else "") for (m, k, _), v in zip(res, vals))
    return _Result(band, f"one stream at batch 1: {parts} (mid efficiency)")


def _m_class_latency(c: Claim) -> _Result:
    res = _class_inference(c)
    vals = [e.request_latency_s.mid * 1000.0 for _, _, e in res]
    band = _class_band(*vals)
    parts = ", ".join(f"{m} {v / 1000:.2g} s" for (m, _, _), v in zip(res, vals))
    ttft = ", ".join(f"{m} {e.ttft_s.mid * 1000:.0f} ms" for m, _, e in res)
    return _Result(band, f"{int(c.params['output'])}-token answer: {parts}; time to first token alone: {ttft}")


def _m_class_cost_per_1m(c: Claim) -> _Result:
    p = c.params
    batches = [int(p["batch_low"]), int(p["batch_high"])]
    vals = []
    for m in _ends(c, "models"):
        lo_b, hi_b = _cost_over_batches(m, p["gpu"], p["precision"], int(p["prompt"]), int(p["output"]), batches, "cost_per_1m_output_tokens_usd")
        vals.append((hi_b.mid, lo_b.mid))
    band = Band(vals[0][0], math.sqrt(vals[0][0] * vals[1][1]), vals[1][1])
    models = _ends(c, "models")
    return _Result(band, f"{models[0]} ${vals[0][0]:.3g}–{vals[0][1]:.3g}, {models[1]} ${vals[1][0]:.3g}–{vals[1][1]:.3g} per 1M output tokens "
                   f"({batches[1]} to {batches[0]} requests batched, mid efficiency and price)")


def _claim_range(cid: str) -> tuple[float, float]:
    other = get_claim(cid)
    lo = other.claimed_low if other.claimed_low is not None else 0.0
    hi = other.claimed_high if other.claimed_high is not None else lo
    return lo, hi


def _m_sum_of_claims(c: Claim) -> _Result:
    terms = _ends(c, "terms")
    rng = [_claim_range(t) for t in terms]
    lo, hi = sum(r[0] for r in rng), sum(r[1] for r in rng)
    return _Result(Band(lo, (lo + hi) / 2, hi), "the seed's own column adds up to " + claim_number_text(lo, c.unit))


def _m_saving_of_claims(c: Claim) -> _Result:
    n_lo, n_hi = _claim_range(c.params["numerator"])
    d_lo, d_hi = _claim_range(c.params["denominator"])
    band = _sorted_band([1 - n_hi / d_lo, 1 - (n_lo + n_hi) / (d_lo + d_hi), 1 - n_lo / d_hi])
    return _Result(band, f"1 − {claim_number_text(n_lo, 'usd')} / {claim_number_text(d_lo, 'usd')} = {band.mid:.1%} from the seed's own totals")


def _m_planner_saving(c: Claim) -> _Result:
    r = seed001_saving()
    return _Result(r.saving, f"1 − {claim_number_text(r.self_hosted_annual_usd, 'usd')} a year ({r.self_hosted}) / "
                   f"{claim_number_text(r.api_annual_usd, 'usd')} ({r.api}) = {r.saving.mid:.1%} at the budget memo's workload")


_METHODS = {name: globals()[f"_m_{name}"] for name in METHODS}


def evaluate(claim: Claim | str) -> Evaluation:
    """Compute, judge and explain one claim (see :func:`evaluate_claim`)."""
    c = get_claim(claim)
    try:
        res = _METHODS[c.method](c)
    except CostlibError as exc:  # a claim that costlib cannot evaluate is reported, not raised
        res = _Result(None, f"costlib could not evaluate it: {exc}")
    j = judge(c.claimed_low, c.claimed_high, res.band, res.possible, better=c.better, scope=c.scope)
    if not res.possible and "impossible_by" in res.details:
        j = Judgement(j.label, float(res.details["impossible_by"]))
    return Evaluation(c, res.band, j, res.reason, res.possible, res.details)


def evaluate_claim(claim: Claim | str) -> tuple[Band | None, str, str]:
    """(computed band in the claim's unit, verdict, one-line reason)."""
    e = evaluate(claim)
    return e.computed, e.verdict, e.reason


def claimed_text(c: Claim) -> str:
    lo, hi = c.claimed_low, c.claimed_high
    if lo is None:
        return "< " + claim_number_text(hi, c.unit)
    if hi is None:
        return "≥ " + claim_number_text(lo, c.unit)
    if lo == hi:
        return claim_number_text(lo, c.unit)
    return f"{claim_number_text(lo, c.unit)} – {claim_number_text(hi, c.unit)}"


@lru_cache(maxsize=1)
def _evaluations() -> tuple[Evaluation, ...]:
    return tuple(evaluate(c) for c in seed_claims())


def evaluations() -> tuple[Evaluation, ...]:
    """Every claim evaluated (cached for the session)."""
    return _evaluations()


def audit_table():
    """One row per claim: seed, section, claim, interpretation, claimed range, computed band, verdict, reason."""
    import pandas as pd  # on demand: the CLI imports costlib.book modules and must start fast

    rows = []
    for e in evaluations():
        c = e.claim
        b = e.computed
        rows.append(
            {
                "id": c.id,
                "seed": c.seed_file.split("_")[0],
                "line": c.line,
                "section": c.section,
                "claim": c.claim,
                "quantity": c.quantity,
                "interpretation": c.interpretation,
                "claimed": claimed_text(c),
                "computed": "" if b is None else _band_text(b, c.unit),
                "unit": c.unit,
                "claimed_low": c.claimed_low,
                "claimed_high": c.claimed_high,
                "computed_low": None if b is None else _round(b.low),
                "computed_mid": None if b is None else _round(b.mid),
                "computed_high": None if b is None else _round(b.high),
                "verdict": e.judgement.label,
                "factor": None if e.judgement.factor is None else _round(e.judgement.factor, 3),
                "verdict_text": e.verdict,
                "reason": e.reason,
                "method": c.method,
            }
        )
    return pd.DataFrame(rows)


def _round(x: float, digits: int = 4) -> float:
    x = float(x)
    return x if x == 0 or not math.isfinite(x) else float(f"{x:.{digits}g}")


def _band_text(b: Band, unit: str) -> str:
    lo, mid, hi = (claim_number_text(v, unit) for v in b)
    if lo == hi:
        return lo
    return f"{lo} – {hi} (mid {mid})"


def summary(table=None) -> dict:
    """Counts by verdict and the largest errors (factor) among optimistic and pessimistic claims."""
    t = audit_table() if table is None else table
    counts = {v: int((t["verdict"] == v).sum()) for v in VERDICTS}
    wrong = t[t["verdict"].isin(["optimistic", "pessimistic", "physically impossible"])].sort_values("factor", ascending=False)
    return {
        "claims": int(len(t)),
        "by_seed": {s: int(n) for s, n in t.groupby("seed").size().items()},
        "counts": counts,
        "checkable": int(len(t) - counts["not checkable"]),
        "largest": wrong[["id", "claim", "verdict_text", "factor"]].head(5).to_dict("records"),
    }


band_text = _band_text
"""A band the way the audit prints it: ``low – high (mid mid)`` with the unit (public name)."""
