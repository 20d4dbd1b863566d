"""Optimization techniques as changes to the workload or the hardware.

Each technique is modelled as what it changes (tokens processed, bytes moved, precision, batch
utilisation, which model answers); :mod:`costlib.optimization_costs` then computes the cost with the
training, memory and inference modules: no formula of theirs is copied here. Published measurements per technique
live in ``data/technique_evidence.csv`` (:func:`technique_evidence`).

Sources of the equations:

* Speculative decoding: Leviathan, Kalman and Matias 2023, "Fast Inference from Transformers via
  Speculative Decoding" (ICML 2023, arXiv 2211.17192): expected tokens per target call
  (equation 1), walltime improvement (theorem 3.8), corollary 3.9 and the arithmetic-operations
  factor (theorem 3.11).
* KV cache: without a cache every decoding step re-runs the forward pass over the whole prefix
  (Pope et al. 2022, "Efficiently Scaling Transformer Inference", section 2).
* FlashAttention: Dao et al. 2022 (arXiv 2205.14135), algorithm 0 (standard attention's HBM
  traffic Theta(N d + N^2)) and algorithm 1 / theorem 2 (Theta(N^2 d^2 / M) with SRAM size M).
* Static vs continuous batching: a static batch holds every slot until its longest sequence ends
  (Yu et al. 2022, Orca, OSDI; Kwon et al. 2023, vLLM). Expected maximum of B exponential lengths
  is H_B times the mean (harmonic number); of B uniform lengths on [a, b] it is a + (b - a) B / (B + 1).
* LoRA: Hu et al. 2021 (arXiv 2106.09685); FLOPs per token 6N for full training, and 4N when
  weight gradients of the frozen base are not computed (forward 2N + activation gradients 2N;
  Kaplan et al. 2020 / EleutherAI Transformer Math 101 split of the 6N).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv
from .errors import InputError
from .hardware import get_device
from .inference import flops_per_token
from .prices import get_api_price
from .uncertainty import Band
from .validate import at_least, choice, fraction, non_negative, positive, whole

# --------------------------------------------------------------------------------------------
# Published evidence
# --------------------------------------------------------------------------------------------
TECHNIQUES = (
    "speculative_decoding",
    "flash_attention",
    "kv_cache",
    "quantization",
    "lora",
    "distillation",
    "prompt_compression",
    "token_pruning",
    "rag",
    "routing",
    "batch_inference",
    "continuous_batching",
    "cpu_inference",
    "edge_deployment",
    "task_finetuning",
)

EVIDENCE_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("technique", choices=TECHNIQUES),
        Column("phase", choices=("training", "inference", "both")),
        Column("metric"),
        Column("value", "float", positive=True),
        Column("unit"),
        Column("low", "float", required=False, positive=True),
        Column("high", "float", required=False, positive=True),
        Column("inputs", required=False),
        SOURCE,
        AS_OF,
        NOTES,
    )
)


def _parse_inputs(text: str | None) -> dict:
    out: dict = {}
    for part in (text or "").split(";"):
        if "=" not in part:
            continue
        key, raw = (s.strip() for s in part.split("=", 1))
        try:
            out[key] = float(raw)
        except ValueError:
            out[key] = raw
    return out


@lru_cache(maxsize=1)
def _evidence_rows() -> tuple[dict, ...]:
    rows = []
    for r in load_csv("technique_evidence.csv", EVIDENCE_SCHEMA):
        row = {k: v for k, v in r.items() if not k.startswith("_")}
        row["as_of"] = r["as_of"].isoformat()
        row["notes"] = r["notes"] or ""
        row["inputs"] = _parse_inputs(r["inputs"])
        rows.append(row)
    return tuple(rows)


def technique_evidence(technique: str | None = None):
    """Published figures as a DataFrame (one technique, or all): value, range, setting, source, date."""
    import pandas as pd  # on demand: the CLI imports this module and must start fast

    if technique is not None:
        choice("technique", technique, TECHNIQUES)
    rows = [dict(r) for r in _evidence_rows() if technique is None or r["technique"] == technique]
    for r in rows:
        r["setting"] = "; ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in r["inputs"].items())
    return pd.DataFrame(rows)


def evidence_value(row_id: str) -> float:
    """One published figure by its id in ``technique_evidence.csv``."""
    for r in _evidence_rows():
        if r["id"] == row_id:
            return r["value"]
    raise InputError("evidence id", row_id, "an id in technique_evidence.csv")


def evidence_row(row_id: str) -> dict:
    for r in _evidence_rows():
        if r["id"] == row_id:
            return dict(r)
    raise InputError("evidence id", row_id, "an id in technique_evidence.csv")


# --------------------------------------------------------------------------------------------
# Speculative decoding (Leviathan et al. 2023)
# --------------------------------------------------------------------------------------------
def _alpha(alpha):
    return fraction("alpha", alpha, allow_zero=True, allow_one=False)


def speculative_expected_tokens(alpha, gamma):
    """Expected tokens produced per target-model call: (1 - alpha^(gamma+1)) / (1 - alpha).

    Leviathan et al. 2023, equation (1): a capped geometric variable. ``alpha`` is the expected
    acceptance rate in [0, 1), ``gamma`` the number of draft tokens per call (whole, >= 1).
    Vectorised over both.
    """
    a = _alpha(alpha)
    g = whole("gamma", gamma, minimum=1)
    return (1.0 - np.power(a, g + 1.0)) / (1.0 - a)


def speculative_speedup(alpha, gamma, c):
    """Expected walltime improvement factor (theorem 3.8): (1 - alpha^(gamma+1)) / ((1 - alpha)(gamma c + 1)).

    ``c`` is the ratio of one draft-model step's time to one target-model step's time (>= 0). The
    theorem assumes the target verifies gamma + 1 tokens in the time of one step (spare compute,
    as in memory-bound decoding at small batch); :func:`speculative_speedup_at_batch` drops it.
    """
    cc = non_negative("c", c)
    g = whole("gamma", gamma, minimum=1)
    return speculative_expected_tokens(alpha, g) / (g * cc + 1.0)


def speculative_ops_factor(alpha, gamma, c_hat):
    """Expected factor by which total arithmetic grows (theorem 3.11): (1-alpha)(gamma c_hat + gamma + 1) / (1 - alpha^(gamma+1)).

    ``c_hat`` is the draft/target ratio of arithmetic operations per token.
    """
    ch = non_negative("c_hat", c_hat)
    g = whole("gamma", gamma, minimum=1)
    a = _alpha(alpha)
    return (1.0 - a) * (g * ch + g + 1.0) / (1.0 - np.power(a, g + 1.0))


def speculative_optimal_gamma(alpha, c, gamma_max: int = 64):
    """The whole gamma in [1, gamma_max] that maximises :func:`speculative_speedup` (paper, figure 3).

    Vectorised over ``alpha`` and ``c`` (broadcast together). Where no gamma gives a speed-up
    (alpha <= c, corollary 3.9), gamma = 1 is returned with its speed-up below 1; use
    :func:`speculative_speedup` to see it.
    """
    a = np.asarray(_alpha(alpha), dtype=float)
    cc = np.asarray(non_negative("c", c), dtype=float)
    gm = int(whole("gamma_max", gamma_max, minimum=1))
    gammas = np.arange(1, gm + 1, dtype=float).reshape((-1,) + (1,) * np.broadcast(a, cc).ndim)
    s = (1.0 - np.power(a, gammas + 1.0)) / ((1.0 - a) * (gammas * cc + 1.0))
    best = np.argmax(s, axis=0) + 1
    return int(best) if np.ndim(best) == 0 else best.astype(int)


def speculative_speedup_at_batch(alpha, gamma, c, verify_time_ratio):
    """Speed-up when verifying gamma + 1 tokens costs ``verify_time_ratio`` target steps instead of one.

    Leviathan et al.'s walltime argument with the parallel-verification time made explicit:
    tokens per iteration / (verify_time_ratio + gamma c). ``verify_time_ratio`` = 1 recovers
    theorem 3.8 (memory-bound, batch 1); at large batch the target is compute-bound and the ratio
    approaches gamma + 1, which erases the gain. Compute the ratio with the inference module's
    decode step time at batch x (gamma + 1) over batch (see :func:`speculative_on_gpu`).
    """
    r = at_least("verify_time_ratio", verify_time_ratio, 1.0)
    cc = non_negative("c", c)
    g = whole("gamma", gamma, minimum=1)
    return speculative_expected_tokens(alpha, g) / (r + g * cc)


def speculative_summary(alpha, gamma, c) -> dict:
    """What the chapter's speculative-decoding widget and explorer show for one (alpha, gamma, c), as floats.

    ``tokens_per_call`` (equation 1), ``speedup`` (theorem 3.8), ``ops_factor`` (theorem 3.11 with the
    operation ratio taken equal to the time ratio c), ``best_gamma`` (the whole gamma in [1, 64] with the
    largest theorem-3.8 speed-up for this alpha and c) and ``best_speedup`` (that speed-up). Scalars only.
    """
    tok = float(speculative_expected_tokens(alpha, gamma))
    best = int(speculative_optimal_gamma(alpha, c))
    return {"tokens_per_call": tok, "speedup": float(speculative_speedup(alpha, gamma, c)),
            "ops_factor": float(speculative_ops_factor(alpha, gamma, c)), "best_gamma": best,
            "best_speedup": float(speculative_speedup(alpha, best, c))}


def speculative_backtest():
    """Leviathan et al. 2023's twelve T5-XXL configurations: theorem 3.8 against the measured speed-ups.

    Columns: id, task, draft, temperature, alpha, gamma, c, predicted, measured, error (predicted / measured - 1).
    """
    import pandas as pd  # on demand: the CLI imports this module and must start fast

    rows = []
    for r in _evidence_rows():
        if r["technique"] != "speculative_decoding" or "alpha" not in r["inputs"]:
            continue
        i = r["inputs"]
        pred = float(speculative_speedup(i["alpha"], i["gamma"], i["c"]))
        rows.append(
            {
                "id": r["id"],
                "task": i["task"],
                "draft": i["draft"],
                "temperature": int(i["temperature"]),
                "alpha": i["alpha"],
                "gamma": int(i["gamma"]),
                "c": i["c"],
                "predicted": pred,
                "measured": r["value"],
                "error": pred / r["value"] - 1.0,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# KV cache
# --------------------------------------------------------------------------------------------
def kv_cache_token_forwards(prompt_tokens, output_tokens, cached: bool = True):
    """Token positions run through the model to generate ``output_tokens`` after a ``prompt_tokens`` prompt.

    With a KV cache: the prompt once, then one new position per further token: P + n - 1.
    Without: step k re-runs all P + k - 1 positions: n P + n (n - 1) / 2 (quadratic in n).
    """
    p = whole("prompt_tokens", prompt_tokens, minimum=1)
    n = whole("output_tokens", output_tokens, minimum=1)
    if cached:
        return p + n - 1.0
    return n * p + n * (n - 1.0) / 2.0


def kv_cache_compute_ratio(prompt_tokens, output_tokens):
    """How many times more positions a cache-less decoder processes (no-cache / cache)."""
    return kv_cache_token_forwards(prompt_tokens, output_tokens, cached=False) / kv_cache_token_forwards(
        prompt_tokens, output_tokens, cached=True
    )


def kv_cache_flops(model, prompt_tokens, output_tokens, cached: bool = True):
    """Forward FLOPs to generate a reply, with or without a KV cache, from the inference module's per-token FLOPs.

    With a cache, position t costs ``flops_per_token(model, context=t)`` once. Without one, step k
    re-runs positions 1..P+k-1, each at its own context. Sums are exact over positions.
    """

    p = int(whole("prompt_tokens", prompt_tokens, minimum=1))
    n = int(whole("output_tokens", output_tokens, minimum=1))
    ctx = np.arange(1, p + n, dtype=float)  # positions 1 .. P+n-1
    per_pos = np.asarray(flops_per_token(model, context=ctx), dtype=float)
    if per_pos.ndim == 0:
        per_pos = np.full_like(ctx, float(per_pos))
    cum = np.cumsum(per_pos)
    if cached:
        return float(cum[-1])
    # step k (1..n) runs positions 1..P+k-1: cumulative sum at index P+k-2
    return float(np.sum(cum[p - 1 : p + n - 1]))


# --------------------------------------------------------------------------------------------
# FlashAttention (Dao et al. 2022)
# --------------------------------------------------------------------------------------------
A100_SRAM_BYTES_PER_SM = 192 * 1024
"""On-chip SRAM per streaming multiprocessor of an A100 (Dao et al. 2022, section 2.1: 192 KB per each of 108 SMs)."""


def attention_matrix_bytes(seq_len, heads, batch=1, bytes_per_value: float = 2.0):
    """Memory of the N x N attention-probability matrix standard attention keeps for the backward pass.

    batch x heads x N^2 x bytes (Dao et al. 2022, algorithm 0 materialises S and P in HBM).
    """
    n = whole("seq_len", seq_len, minimum=1)
    h = whole("heads", heads, minimum=1)
    b = whole("batch", batch, minimum=1)
    return b * h * n * n * positive("bytes_per_value", bytes_per_value)


def flash_attention_extra_bytes(seq_len, heads, batch=1, stat_bytes: float = 4.0):
    """Extra memory FlashAttention keeps: one softmax statistic (logsumexp) per row, fp32: O(N)."""
    n = whole("seq_len", seq_len, minimum=1)
    h = whole("heads", heads, minimum=1)
    b = whole("batch", batch, minimum=1)
    return b * h * n * positive("stat_bytes", stat_bytes)


def attention_hbm_bytes(seq_len, head_dim, heads, batch=1, *, flash: bool, bytes_per_value: float = 2.0,
                        sram_bytes: float = A100_SRAM_BYTES_PER_SM):
    """HBM bytes read and written by one attention forward pass (all heads of one layer).

    Standard (algorithm 0): read Q, K (2Nd), write and read S (2N^2), write and read P (2N^2),
    read V (Nd), write O (Nd): 4Nd + 4N^2 values. FlashAttention (algorithm 1): K and V read once
    (2Nd) and, for each of T_c = ceil(N / B_c) key blocks, Q read and O read and written (3Nd)
    plus two statistics per row; B_c = ceil(M / 4d) with M the SRAM size in values (theorem 2's
    Theta(N^2 d^2 / M)).
    """
    n = whole("seq_len", seq_len, minimum=1)
    d = whole("head_dim", head_dim, minimum=1)
    h = whole("heads", heads, minimum=1)
    b = whole("batch", batch, minimum=1)
    bpv = positive("bytes_per_value", bytes_per_value)
    if not flash:
        values = 4 * n * d + 4 * n * n
    else:
        m_values = positive("sram_bytes", sram_bytes) / bpv
        bc = np.ceil(m_values / (4 * d))
        tc = np.ceil(n / bc)
        values = 2 * n * d + tc * (3 * n * d + 2 * n)
    return b * h * values * bpv


STANDARD_BACKWARD_N2_PASSES = 7
"""N x N matrices standard attention's backward pass reads or writes per head (Dao et al. 2022, appendix
B.1, algorithm 3): read P (dV), write dP, read P and dP, write dS, read dS twice (dQ, dK)."""
STANDARD_FORWARD_N2_PASSES = 4
"""Forward (algorithm 0): write S, read S, write P, read P."""


def attention_training_hbm_bytes(seq_len, head_dim, heads, batch=1, *, flash: bool, bytes_per_value: float = 2.0,
                                 sram_bytes: float = A100_SRAM_BYTES_PER_SM):
    """HBM bytes of attention forward + backward for one layer in training.

    Standard: the N^2 passes of :data:`STANDARD_FORWARD_N2_PASSES` + :data:`STANDARD_BACKWARD_N2_PASSES`
    plus the N x d reads and writes (forward 4Nd, backward about twice that). FlashAttention: its
    forward traffic (:func:`attention_hbm_bytes`) and a backward pass of the same tiled form,
    counted as twice the forward (it also re-reads K, V, dO blocks per Q block).
    """
    n = whole("seq_len", seq_len, minimum=1)
    d = whole("head_dim", head_dim, minimum=1)
    if flash:
        return 3.0 * attention_hbm_bytes(n, d, heads, batch, flash=True, bytes_per_value=bytes_per_value, sram_bytes=sram_bytes)
    h = whole("heads", heads, minimum=1)
    b = whole("batch", batch, minimum=1)
    values = (STANDARD_FORWARD_N2_PASSES + STANDARD_BACKWARD_N2_PASSES) * n * n + 12 * n * d
    return b * h * values * positive("bytes_per_value", bytes_per_value)


def megatron_flops_per_token(layers, d_model, seq_len, vocab):
    """Model FLOPs per token as Megatron-LM counts them without recompute: 72 l h^2 (1 + s / 6h + V / 12 l h)
    (Narayanan et al. 2021, arXiv 2104.04473, appendix; the formula Dao 2023 Table 1 reports
    TFLOP/s in). Used only to turn that table's TFLOP/s back into seconds per token."""
    lyr = whole("layers", layers)
    h = whole("d_model", d_model)
    s = whole("seq_len", seq_len)
    v = whole("vocab", vocab)
    return 72.0 * lyr * h * h * (1.0 + s / (6.0 * h) + v / (12.0 * lyr * h))


def flash_attention_training_backtest(gpu: str = "a100-80gb"):
    """Predict Dao 2023 Table 1's "without FlashAttention" training speed from its FlashAttention-2 speed.

    Seconds per token with FlashAttention-2 = FLOPs per token / measured TFLOP/s; without it, add the
    extra attention HBM traffic (standard minus flash, forward + backward, all layers) per token at the
    GPU's bandwidth. A lower bound on the slowdown: the unfused baseline also runs masking, dropout
    and softmax as separate memory-bound kernels, which the algorithm's minimal traffic leaves out.
    """
    import pandas as pd  # on demand: the CLI imports this module and must start fast


    device = get_device(gpu)
    groups: dict = {}
    for r in _evidence_rows():
        if r["technique"] == "flash_attention" and r["metric"] == "model_tflops_per_gpu":
            i = r["inputs"]
            groups.setdefault((i["model"], int(i["seq_len"])), {})[i["attention"]] = (r["value"], i)
    rows = []
    for (model, s), g in groups.items():
        fa2, i = g["FlashAttention-2"]
        none = g["standard"][0]
        lyr, h, heads, v = int(i["layers"]), int(i["d_model"]), int(i["heads"]), int(i["vocab"])
        f_tok = megatron_flops_per_token(lyr, h, s, v)
        t_fa2 = f_tok / (fa2 * 1e12)
        extra = lyr * (attention_training_hbm_bytes(s, h // heads, heads, flash=False)
                       - attention_training_hbm_bytes(s, h // heads, heads, flash=True)) / s / device.bandwidth_bytes_s
        pred = f_tok / (t_fa2 + extra) / 1e12
        t_none = f_tok / (none * 1e12)
        rows.append({"model": model, "seq_len": s, "fa2_tflops": fa2, "fa1_tflops": g["FlashAttention"][0],
                     "predicted_none_tflops": pred, "measured_none_tflops": none, "error": pred / none - 1.0,
                     "predicted_speedup": fa2 / pred, "measured_speedup": fa2 / none,
                     "traffic_multiplier": (t_none - t_fa2) / extra})
    return pd.DataFrame(rows)


def unfused_attention_multiplier() -> Band:
    """How many times the minimal standard-attention traffic the measured slowdown implies (min, median,
    max over Dao 2023 Table 1): the extra time measured without FlashAttention divided by the
    algorithm-0 traffic time. Above 1 because unfused masking, softmax and dropout kernels each
    read and write the N x N matrix again. Calibrated, so applying it to Table 1 is by construction."""
    k = flash_attention_training_backtest()["traffic_multiplier"].to_numpy()
    return Band.from_values(k)


def amdahl_speedup(share, part_speedup):
    """Whole-job speed-up when a ``share`` of the time is sped up ``part_speedup`` times: 1 / ((1 - s) + s / k)."""
    s = fraction("share", share, allow_zero=True)
    k = positive("part_speedup", part_speedup)
    return 1.0 / ((1.0 - s) + s / k)


# --------------------------------------------------------------------------------------------
# Batching
# --------------------------------------------------------------------------------------------
def harmonic_number(n):
    """H_n = 1 + 1/2 + ... + 1/n (vectorised over whole n >= 1)."""
    nn = whole("n", n, minimum=1)
    arr = np.atleast_1d(np.asarray(nn, dtype=int))
    top = int(arr.max())
    cum = np.cumsum(1.0 / np.arange(1, top + 1))
    out = cum[arr - 1]
    return float(out[0]) if np.ndim(nn) == 0 else out


def static_batch_utilization(batch_size, distribution: str = "exponential", min_tokens=None, max_tokens=None):
    """Share of decode slots doing useful work under static batching: E[L] / E[max of B lengths].

    A static batch runs until its longest reply ends; finished sequences idle their slot.
    ``exponential`` output lengths: utilisation 1 / H_B. ``uniform`` on [min_tokens, max_tokens]:
    ((a + b) / 2) / (a + (b - a) B / (B + 1)). Continuous (iteration-level) batching refills a slot
    as soon as its sequence ends, so its utilisation is ~1 and its throughput gain is the inverse.
    """
    b = whole("batch_size", batch_size, minimum=1)
    choice("distribution", distribution, ("exponential", "uniform"))
    if distribution == "exponential":
        return 1.0 / harmonic_number(b)
    if min_tokens is None or max_tokens is None:
        raise InputError("min_tokens", min_tokens, "min_tokens and max_tokens for a uniform distribution")
    lo = non_negative("min_tokens", min_tokens)
    hi = positive("max_tokens", max_tokens)
    if lo > hi:
        raise InputError("min_tokens", lo, f"at most max_tokens ({hi:g})")
    return ((lo + hi) / 2.0) / (lo + (hi - lo) * b / (b + 1.0))


def continuous_batching_gain(batch_size, distribution: str = "exponential", **kw):
    """Throughput ratio continuous / static batching at equal slot count (inverse of the static utilisation)."""
    return 1.0 / static_batch_utilization(batch_size, distribution, **kw)


# --------------------------------------------------------------------------------------------
# Token reduction: pruning, prompt compression, RAG
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenReduction:
    """Input tokens before and after a reduction, and what that saves on a priced request."""

    technique: str
    prompt_tokens_before: float
    prompt_tokens_after: float
    output_tokens: float
    usd_before: float | None = None
    usd_after: float | None = None
    prefill_s_before: float | None = None
    prefill_s_after: float | None = None
    notes: str = ""

    @property
    def tokens_removed(self) -> float:
        return self.prompt_tokens_before - self.prompt_tokens_after

    @property
    def input_share_removed(self) -> float:
        return self.tokens_removed / self.prompt_tokens_before

    @property
    def usd_saving_share(self) -> float | None:
        if self.usd_before is None:
            return None
        return 1.0 - self.usd_after / self.usd_before

    @property
    def prefill_saving_share(self) -> float | None:
        if self.prefill_s_before is None:
            return None
        return 1.0 - self.prefill_s_after / self.prefill_s_before


def kept_prompt_tokens(prompt_tokens, technique: str = "prompt_compression", *, ratio=None, pruned_share=None,
                       retrieved_chunks=None, chunk_tokens=None, query_tokens=0):
    """Prompt tokens left after a reduction.

    * ``prompt_compression``: prompt / ratio (LLMLingua's "20x" is ratio = 20).
    * ``token_pruning``: prompt x (1 - pruned_share).
    * ``rag``: retrieved_chunks x chunk_tokens + query_tokens, instead of pasting the whole source
      (capped at the original prompt: retrieval cannot add tokens here).
    """
    p = positive("prompt_tokens", prompt_tokens)
    choice("technique", technique, ("prompt_compression", "token_pruning", "rag"))
    if technique == "prompt_compression":
        if ratio is None:
            raise InputError("ratio", ratio, "a compression ratio >= 1 (e.g. 2 keeps half)")
        return p / at_least("ratio", ratio, 1.0)
    if technique == "token_pruning":
        if pruned_share is None:
            raise InputError("pruned_share", pruned_share, "a share 0 <= pruned_share < 1")
        return p * (1.0 - fraction("pruned_share", pruned_share, allow_zero=True, allow_one=False))
    if retrieved_chunks is None or chunk_tokens is None:
        raise InputError("retrieved_chunks", retrieved_chunks, "retrieved_chunks and chunk_tokens for RAG")
    k = whole("retrieved_chunks", retrieved_chunks, minimum=0)
    ct = positive("chunk_tokens", chunk_tokens)
    q = non_negative("query_tokens", query_tokens)
    return np.minimum(p, k * ct + q)


def token_reduction_api(prompt_tokens, output_tokens, api, technique: str = "prompt_compression", **kw) -> TokenReduction:
    """Dollar effect of a prompt reduction on a hosted API request (prices from ``prices.get_api_price``)."""

    price = get_api_price(api) if isinstance(api, str) else api
    p = float(positive("prompt_tokens", prompt_tokens))
    o = float(non_negative("output_tokens", output_tokens))
    kept = float(kept_prompt_tokens(p, technique, **kw))
    return TokenReduction(
        technique, p, kept, o,
        usd_before=float(price.cost_usd(p, o)), usd_after=float(price.cost_usd(kept, o)),
        notes=f"{price.id} prices as of {price.as_of}",
    )


# --------------------------------------------------------------------------------------------
# Distillation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Distillation:
    """Up-front cost of producing a student and the requests needed to earn it back."""

    teacher_generation_usd: float
    student_training_usd: float
    teacher_usd_per_request: float
    student_usd_per_request: float

    @property
    def upfront_usd(self) -> float:
        return self.teacher_generation_usd + self.student_training_usd

    @property
    def saving_per_request_usd(self) -> float:
        return self.teacher_usd_per_request - self.student_usd_per_request

    @property
    def break_even_requests(self) -> float:
        return distillation_break_even(self.upfront_usd, self.teacher_usd_per_request, self.student_usd_per_request)


def distillation_break_even(upfront_usd, teacher_usd_per_request, student_usd_per_request):
    """Requests after which a distilled student has paid for itself: upfront / (teacher - student cost per request).

    Vectorised. The student must be cheaper per request than the teacher, or it never breaks even.
    """
    u = non_negative("upfront_usd", upfront_usd)
    t = positive("teacher_usd_per_request", teacher_usd_per_request)
    s = non_negative("student_usd_per_request", student_usd_per_request)
    saving = np.asarray(t) - np.asarray(s)
    if np.any(saving <= 0):
        bad = np.asarray(s)[saving <= 0] if np.ndim(s) else s
        raise InputError("student_usd_per_request", float(np.ravel(bad)[0]),
                         "less than teacher_usd_per_request (a student that costs as much never breaks even)")
    out = u / saving
    return float(out) if np.ndim(out) == 0 else out


def teacher_generation_usd(examples, tokens_per_example, usd_per_million_tokens):
    """Cost of having the teacher write the distillation data: examples x tokens x price per token."""
    e = positive("examples", examples)
    t = positive("tokens_per_example", tokens_per_example)
    p = non_negative("usd_per_million_tokens", usd_per_million_tokens)
    return e * t * p / 1e6


# --------------------------------------------------------------------------------------------
# Batch (offline) pricing
# --------------------------------------------------------------------------------------------
def batch_api_cost(usd_online, discount=None):
    """Cost of the same tokens through a provider's batch API: online x (1 - discount).

    The default discount is OpenAI's published 50% (``batch-api-openai`` in technique_evidence.csv).
    """
    u = non_negative("usd_online", usd_online)
    d = evidence_value("batch-api-openai") if discount is None else fraction("discount", discount, allow_zero=True, allow_one=False)
    return u * (1.0 - d)


def saving_share(before, after):
    """1 - after / before: the fraction of cost removed (negative when the change costs more)."""
    b = positive("before", before)
    a = non_negative("after", after)
    return 1.0 - a / b


# --- quantization quality (published ratios) ----------------------------------------------------
QUALITY_PRECISIONS = ("fp8", "int8", "int4")
QUALITY_METRICS = ("perplexity_ratio", "accuracy_ratio")


def quantization_quality(precision: str, metric: str = "perplexity_ratio") -> Band | None:
    """Quality ratio (quantized / 16-bit) as a band over the catalog's published measurements for
    ``precision`` (min, median, max): ``perplexity_ratio`` (llama.cpp tables; above 1 is worse) or
    ``accuracy_ratio`` (benchmark averages; below 1 is worse). None where the catalog has none."""
    choice("metric", metric, QUALITY_METRICS)
    rows = [r["value"] for r in _evidence_rows()
            if r["technique"] == "quantization" and r["metric"] == metric and r["inputs"].get("precision") == precision]
    if not rows:
        return None
    v = np.array(rows)
    return Band.from_values(v)
