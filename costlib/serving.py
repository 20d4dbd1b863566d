"""Serving as real servers run it: continuous batching with chunked prefill, at a latency target.

The scheduler
-------------
vLLM, SGLang, TensorRT-LLM (in-flight batching) and TGI run one *step* after another [1, 2]. A step
runs one decode token for every running sequence plus up to a token budget of prompt ("prefill")
tokens, chunked so a long prompt does not stall the decodes (Agrawal et al. 2024, Sarathi-Serve [3]).
A step of ``n`` decode sequences and ``q`` prefill tokens takes, on the roofline of
:mod:`costlib.inference` (one formula, one place: the same terms as ``inference.decode_step`` and
``inference.prefill``)::

    t(n, q) = max((n F_dec + q F_pre) / (peak u_c),  W(n + q) / (bw u_b))
              + (n KV_dec + q KV_pre) / (bw u_b) + comm(n + q) + t_overhead            (1)

with F the FLOPs per token (decode at the mean context P + O/2; prefill averaged over the causal
prompt), W the weight bytes read once per step (a mixture of experts reads the experts its tokens
route to), KV_dec the cache one sequence reads, KV_pre the cache one prompt token writes, comm the
tensor-parallel all-reduces and t_overhead the per-step launch cost. The KV term sits outside the max:
attention runs in its own kernels, memory-bound at every batch, after the weight GEMMs (the per-operator
roofline of :mod:`costlib.inference`, equation 2). Equation (1) is still a max of two branches linear in
the work (n, q), so equations (2) and (3) below keep their closed forms.

The steady state
----------------
At a Poisson arrival rate ``lam`` of requests with ``P`` prompt and ``O`` output tokens, every step
carries on average ``lam (O - 1) t`` decode sequences (Little's law: each request decodes for
``O - 1`` steps after its first token) plus the observer's own, and ``lam P t`` prefill tokens.
Equation (1) is then linear in ``lam t`` on each branch of the max, so the mean step time is
closed form::

    t = max_b  I_b / (1 - lam S_b)                                                      (2)

(I_b the step time of one lone sequence on branch b, S_b the step time added per request per
second); it diverges at the throughput limit lam = 1 / max_b S_b. That spreads prompt work evenly
over the steps. While a whole prompt fits one step's budget it arrives whole instead: a share
f = lam P t / h of steps carries a chunk of h = min(P, budget) prompt tokens and the rest decode only,
so the mean step is (1 - f) t_decode(n) + f t_chunk(n), a quadratic in t (equation 3, solved in
closed form on each pair of roofline branches). The mean of the two kinds exceeds the step of the
mean work (the max of a roofline is convex), which is why prefill interference lengthens TPOT. Time per output token (TPOT) is
``t``. Time to first token (TTFT) is the request's own prefill, ``ceil(P / (budget - n))`` steps
that each carry one chunk of it beside the running decodes, plus the mean wait in an M/D/1 queue
for the prefill budget (Kendall notation; Pollaczek-Khinchine mean wait rho S / (2 (1 - rho)) [4]).
**TTFT and TPOT are means over requests** unless a TTFT percentile is asked for: the q-quantile of the
wait is taken from the M/D/1 wait with an exponential tail (P(wait > 0) = rho, mean as above),
W_q = own / (2 (1 - rho)) ln(rho / (1 - q)) for rho > 1 - q, else 0 (equation 5, :func:`ttft_quantile_s`;
Kingman 1962 [5]); ``capacity_at_slo(..., ttft_percentile=99)`` puts the TTFT target on that percentile.
TPOT at a percentile over requests (``tpot_percentile``): while prompts arrive whole, each of a request's
O - 1 steps carries a prompt chunk with probability f, so its share of the slower chunk steps is binomial and
TPOT_q = t + (t_chunk - t_dec) z_q sqrt(f (1 - f) / (O - 1)) (equation 6, :func:`tpot_quantile_s`).

Memory caps the batch: the KV pool (device memory less weights, the working set of one chunk and
runtime overhead, :mod:`costlib.memory`) divided by the cache of one full-length request (P + O
tokens, the reservation that never preempts) is the largest concurrency. KV occupancy is the mean
held cache (P + O/2 tokens per running sequence) over the pool.

Capacity at a service level is the largest ``lam`` at which mean TTFT, mean TPOT and the memory cap
all hold (:func:`capacity_at_slo`); the constraint that stops it is ``binding``. Bands: the three
points low / mid / high run the engine's calibrated efficiencies (low = slowest published case).

References
----------
[1] Kwon et al. 2023, "Efficient Memory Management for Large Language Model Serving with
    PagedAttention" (vLLM), SOSP '23, arXiv 2309.06180.
[2] Yu et al. 2022, "Orca: A Distributed Serving System for Transformer-Based Generative Models",
    OSDI '22 (iteration-level scheduling).
[3] Agrawal et al. 2024, "Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve",
    OSDI '24, arXiv 2403.02310 (chunked prefill, stall-free batching).
[4] Kleinrock 1975, "Queueing Systems, Volume 1", section 5.6 (M/G/1 mean wait).
[5] Kingman 1962, "On queues in heavy traffic", J. Royal Statistical Society B 24:383-392 (the M/G/1
    wait is exponential in heavy traffic); Kleinrock 1976, "Queueing Systems, Volume 2", section 2.2.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import inference as inf
from .errors import InputError
from .hardware import Device
from .uncertainty import Band
from .units import GB, SECONDS_PER_HOUR
from .validate import choice, positive, whole

MODES = ("continuous", "static")
"""Serving modes: ``continuous`` (in-flight batching with chunked prefill, what online servers run)
and ``static`` (a fixed batch prefilled together then decoded together, for offline batch jobs:
:func:`costlib.inference.estimate_inference`)."""

DEFAULT_MODE = "continuous"
DEFAULT_ENGINE = "vllm"

TTFT_STATISTIC = "mean"
"""TTFT and TPOT are means over requests (Poisson arrivals) unless a percentile is asked for
(``ttft_percentile``: :func:`ttft_quantile_s`; ``tpot_percentile``: :func:`tpot_quantile_s`); percentile
targets are tighter."""

BINDINGS = ("ttft", "tpot", "memory", "throughput")

SPLITS = ("tensor", "pipeline", "expert")
"""How a replica's ``gpus`` share the model: ``tensor`` parallelism (Megatron: every layer split, two
all-reduces per layer, the step time divides by the GPUs) or a ``pipeline`` / layer split (llama.cpp
``--split-mode layer``, vLLM/TensorRT-LLM pipeline parallelism): each GPU holds a contiguous block of
layers and their KV cache, a step runs the blocks one after another and hands the activations on. No
all-reduce per token, but a lone stream's step is not faster than on one GPU (the blocks run serially);
memory per GPU divides. This model runs the blocks serially per step, as llama.cpp does at decode; engines
that overlap micro-batches across stages (vLLM, TensorRT-LLM pipeline parallelism) do better at high
load, so for them it is a floor on throughput. ``expert`` (mixture-of-experts models only; vLLM
``--enable-expert-parallel``, TensorRT-LLM ``--ep``): attention tensor parallel as above, each GPU holds
E / gpus whole routed experts, so a step waits for the GPU whose experts its tokens touch most
(:func:`_weights_share`); memory and communication are counted as for tensor parallelism."""

PIPELINE_HOP_S = 2 * 4e-6
"""Fixed cost of handing the activations from one pipeline stage to the next: one copy launch plus one
event wait on the next device, each one kernel launch (:data:`costlib.inference.KERNEL_LAUNCH_S`, ~4 us;
NVIDIA CUDA Graph guide, 2025), before the transfer time over the interconnect."""

LOW_END_SHARE = 0.05
"""A point whose low-end capacity is below this share of its mid gets a warning: the target sits near the floor at
the low efficiency, where capacity collapses toward zero (the band's low end is then a feasibility warning)."""

SATURATION = 0.98
"""With no latency target the capacity is taken at 98% of the throughput limit (queues diverge at 100%)."""

BISECTION_STEPS = 36
"""Bisection steps for the TTFT / memory constraints: the rate is found to 2^-36 of its bracket."""


# --------------------------------------------------------------------------------------------
# Coefficients of equation (1): plain floats, computed once per (model, device, layout, shape)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepCoefficients:
    """Equation (1) at 100% efficiency for one model, device, layout and request shape, per replica.

    Times in seconds: ``*_c`` compute (divide by u_compute), ``*_m`` memory (divide by
    u_bandwidth), ``comm*`` and ``overhead_s`` are fixed.
    """

    prompt_tokens: int
    output_tokens: int
    gpus: int
    budget_tokens: int
    dec_c: float  # compute seconds per decode token
    pre_c: float  # compute seconds per prefill token
    weights_m: float  # seconds to read the weights once (dense: all of them)
    dec_m: float  # seconds to read one sequence's KV cache at the mean context
    pre_m: float  # seconds to write one prompt token's KV
    comm0_s: float  # fixed all-reduce latency per step
    comm_tok_s: float  # all-reduce seconds per token in the step
    overhead_s: float
    moe_share: float  # k / E active share of the weights per token (1 for dense)
    kv_cap: int  # concurrency the KV pool holds at full-length reservation
    kv_pool_bytes: float  # per GPU
    kv_mean_bytes: float  # per GPU, one sequence at the mean context P + O/2
    fits: bool
    need_gpus: int | None
    ep_experts_per_gpu: float = 0.0  # expert parallelism: routed experts each GPU holds (0 = no EP)
    ep_z: float = 0.0  # expected_max_normal(k): how far the busiest of k GPUs sits above the mean, in sd


def _weights_share(c: StepCoefficients, tokens):
    """Share of the weights a step with ``tokens`` tokens reads: p = 1 - (1 - k/E)^tokens (dense: 1).
    With expert parallelism the step waits for the GPU that reads the most of its own experts: each of
    its n = E / gpus experts is touched with probability p, so it reads a share p + z sqrt(p (1 - p) / n)
    (normal approximation of the largest of ``gpus`` binomial counts, z = :func:`expected_max_normal`;
    it runs a little high below ~8 experts per GPU), at most 1: tensor parallelism reads p exactly (every
    GPU holds a slice of every expert), so EP reads more at small batches and the same once every expert
    is busy."""
    if c.moe_share >= 1.0:
        return 1.0
    p = 1.0 - (1.0 - c.moe_share) ** tokens
    if c.ep_experts_per_gpu <= 0.0:
        return p
    return _min1(p + c.ep_z * (_max(p * (1.0 - p), 0.0) / c.ep_experts_per_gpu) ** 0.5)


@lru_cache(maxsize=256)
def expected_max_normal(k: int) -> float:
    """E[max of k independent standard normals] = integral of x k phi(x) Phi(x)^(k-1) dx (0 for k = 1;
    0.5642 for 2, 1.0294 for 4, 1.4236 for 8: Tippett 1925, Biometrika 17:364, table of the mean range),
    by the trapezoid rule on [-10, 10]."""
    if k <= 1:
        return 0.0
    x = np.linspace(-10.0, 10.0, 8001)
    phi = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    f = x * k * phi * cdf ** (k - 1)
    return float(np.sum((f[1:] + f[:-1]) * 0.5 * np.diff(x)))


def _min1(x):
    return min(x, 1.0) if x.__class__ is float else np.minimum(x, 1.0)


@lru_cache(maxsize=8192)
def coefficients(model, device_id: str, precision: str, kv_precision: str, engine: str, gpus: int,
                 prompt_tokens: int, output_tokens: int, budget_tokens: int, split: str = "tensor") -> StepCoefficients:
    """The per-token and per-step terms of equation (1), from the primitives of :mod:`costlib.inference`
    and the bytes of :mod:`costlib.memory` (cached: the scalar path then runs on plain floats).
    ``precision`` may be a served format (weight_formats.csv); ``engine`` an engine name or class;
    ``split`` = ``tensor`` or ``pipeline`` (:data:`SPLITS`)."""
    if split == "pipeline" and gpus > 1:
        return _pipeline_coefficients(model, device_id, precision, kv_precision, engine, gpus, prompt_tokens,
                                      output_tokens, budget_tokens)
    if split == "expert" and gpus > 1:
        tp = coefficients(model, device_id, precision, kv_precision, engine, gpus, prompt_tokens, output_tokens,
                          budget_tokens)
        return dataclasses.replace(tp, ep_experts_per_gpu=model.experts_total / gpus, ep_z=expected_max_normal(gpus))
    mem = inf._memory()
    device = inf._resolve_device(device_id)
    engine_class = inf._engine_family(engine)
    storage = inf.storage_precision(precision)
    k = gpus
    p, o = prompt_tokens, output_tokens
    ctx = p + o / 2.0
    peak = inf.effective_peak_flops(device, precision, engine) * k
    bw = device.bandwidth_bytes_s * k
    arch = inf._has_architecture(model)
    f_dec = float(inf.decode_flops_per_token(model, ctx))
    f_pre = float(inf.flops_per_token(model, p))
    w = float(inf.model_weight_bytes(model, precision, engine=engine_class))
    kv_dec = float(inf.kv_bytes_per_sequence(model, ctx, kv_precision))
    kv_pre = float(inf.kv_bytes_per_sequence(model, p, kv_precision)) / p
    comm0 = float(inf._tp_comm_s(model, device, k, 0.0))
    comm_tok = float(inf._tp_comm_s(model, device, k, 1.0)) - comm0
    over = float(inf.step_overhead_s(model, engine))
    share = float(model.active_params) / float(model.total_params)
    # memory: the pool left for KV per GPU, and what one request holds there
    chunk = min(budget_tokens, mem.PREFILL_CHUNK_TOKENS)
    if arch:
        fixed = mem.inference_memory(model, storage, chunk, 1, kv_precision, gpus=k,
                                     compute_precision=inf.compute_path(device, precision).precision)
        fixed_bytes = w / k + (fixed.activations_gb + fixed.overhead_gb) * GB
        kv_share = mem._kv_share_per_gpu(model, k)
        per_seq = float(mem.kv_cache_bytes(model, p + o, 1, kv_precision)) * kv_share + model.vocab * mem.LOGITS_BYTES
        kv_mean = float(mem.kv_cache_bytes(model, round(ctx), 1, kv_precision)) * kv_share
    else:
        fixed_bytes = (w / k) + mem.RUNTIME_OVERHEAD_GB * GB
        per_seq, kv_mean = 1.0, 0.0  # no architecture: no KV cache known (a params-only model)
    pool = device.memory_bytes - fixed_bytes
    cap = int(max(pool, 0.0) // per_seq) if arch else 10**9
    fits = cap >= 1
    need = None
    if not fits:
        need = mem.min_gpus(model, device, storage, p + o if arch else 0, 1, kv_precision=kv_precision,
                            compute_precision=inf.compute_path(device, precision).precision)
    return StepCoefficients(
        prompt_tokens=p, output_tokens=o, gpus=k, budget_tokens=budget_tokens,
        dec_c=f_dec / peak, pre_c=f_pre / peak, weights_m=w / bw, dec_m=kv_dec / bw, pre_m=kv_pre / bw,
        comm0_s=comm0, comm_tok_s=comm_tok, overhead_s=over, moe_share=share, kv_cap=cap,
        kv_pool_bytes=max(pool, 0.0), kv_mean_bytes=kv_mean, fits=fits, need_gpus=need,
    )


def _pipeline_coefficients(model, device_id, precision, kv_precision, engine, k, p, o, budget_tokens):
    """Equation (1) for a layer split over ``k`` GPUs (:data:`SPLITS`): the one-GPU compute and memory
    terms (the blocks run one after another, each at one GPU's peak and bandwidth on 1/k of the work),
    k - 1 activation hand-offs per step (:data:`PIPELINE_HOP_S` plus d_model x 2 bytes per token over
    the interconnect), and per GPU 1/k of the weights and of every sequence's KV cache."""
    one = coefficients(model, device_id, precision, kv_precision, engine, 1, p, o, budget_tokens)
    mem = inf._memory()
    device = inf._resolve_device(device_id)
    if device.interconnect_gb_s is None:
        raise InputError("gpus", k, f"1 ({device.id} has no interconnect bandwidth in the catalog)")
    arch = inf._has_architecture(model)
    d_model = model.d_model if arch else inf._d_model_guess(model)
    hop_tok = d_model * inf.ACTIVATION_BYTES / (device.interconnect_gb_s * GB / 2.0)
    comm0, comm_tok = (k - 1) * PIPELINE_HOP_S, (k - 1) * hop_tok
    w = float(inf.model_weight_bytes(model, precision, engine=inf._engine_family(engine)))
    storage = inf.storage_precision(precision)
    chunk = min(budget_tokens, mem.PREFILL_CHUNK_TOKENS)
    if arch:
        fixed = mem.inference_memory(model, storage, chunk, 1, kv_precision, gpus=1,
                                     compute_precision=inf.compute_path(device, precision).precision)
        fixed_bytes = w / k + (fixed.activations_gb + fixed.overhead_gb) * GB
        per_seq = float(mem.kv_cache_bytes(model, p + o, 1, kv_precision)) / k + model.vocab * mem.LOGITS_BYTES
        kv_mean = float(mem.kv_cache_bytes(model, round(p + o / 2.0), 1, kv_precision)) / k
    else:
        fixed_bytes, per_seq, kv_mean = w / k + mem.RUNTIME_OVERHEAD_GB * GB, 1.0, 0.0
    pool = device.memory_bytes - fixed_bytes
    cap = int(max(pool, 0.0) // per_seq) if arch else 10**9
    need = None
    if cap < 1:
        need = next((d for d in range(k + 1, min(int(model.layers) if arch else 64, 64) + 1)
                     if device.memory_bytes - w / d - (fixed_bytes - w / k) >= per_seq), None)
    return StepCoefficients(
        prompt_tokens=p, output_tokens=o, gpus=k, budget_tokens=budget_tokens,
        dec_c=one.dec_c, pre_c=one.pre_c, weights_m=one.weights_m, dec_m=one.dec_m, pre_m=one.pre_m,
        comm0_s=comm0, comm_tok_s=comm_tok, overhead_s=one.overhead_s, moe_share=one.moe_share, kv_cap=cap,
        kv_pool_bytes=max(pool, 0.0), kv_mean_bytes=kv_mean, fits=cap >= 1, need_gpus=need,
    )


def check_expert_degree(model, gpus) -> int:
    """Expert parallelism: a mixture-of-experts model whose routed experts divide evenly over the GPUs."""
    e = int(getattr(model, "experts_total", 1) or 1)
    if e <= 1:
        raise InputError("split", "expert", f"tensor or pipeline for {getattr(model, 'id', 'a dense model')} "
                         "(expert parallelism needs a mixture-of-experts model)")
    if e % int(gpus):
        valid = [d for d in range(1, min(e, 64) + 1) if e % d == 0]
        raise InputError("gpus", gpus, f"a divisor of the {e} experts of {model.id} for expert parallelism: "
                         + ", ".join(map(str, valid)))
    return int(gpus)


def check_pipeline_degree(model, gpu, gpus) -> int:
    """Pipeline stages: at most one per layer, on GPUs (not a CPU or an SoC)."""
    device = inf._resolve_device(gpu)
    k = int(inf._check_gpus(device, gpus))
    layers = int(model.layers) if inf._has_architecture(model) else inf._layers_guess(model)
    if k > layers:
        raise InputError("gpus", k, f"at most {layers} pipeline stages (the layers of {getattr(model, 'id', 'the model')})")
    return k


# --------------------------------------------------------------------------------------------
# Equation (1) and (2): one formula, for floats and numpy arrays alike (arithmetic only)
# --------------------------------------------------------------------------------------------
_FLOATS = (float, int)


def _max(a, b):
    """max on floats, element-wise maximum on arrays (the same function for both call shapes)."""
    if a.__class__ in _FLOATS and b.__class__ in _FLOATS:
        return a if a >= b else b
    return np.maximum(a, b)


def _ceil(x):
    return -((-x) // 1.0)


def step_time_s(c: StepCoefficients, decode_seqs, prefill_tokens, u_b, u_c):
    """Equation (1): seconds for one step of ``decode_seqs`` decodes and ``prefill_tokens`` prompt tokens."""
    tokens = decode_seqs + prefill_tokens
    kv = (decode_seqs * c.dec_m + prefill_tokens * c.pre_m) / u_b  # attention's KV traffic: on both branches
    compute = (decode_seqs * c.dec_c + prefill_tokens * c.pre_c) / u_c + kv
    memory = c.weights_m * _weights_share(c, tokens) / u_b + kv
    comm = (c.comm0_s + c.comm_tok_s * tokens) if c.gpus > 1 else 0.0 * tokens
    return _max(compute, memory) + comm + c.overhead_s


def _branches(c: StepCoefficients, u_b, u_c, share):
    """Intercepts I and slopes S of equation (2) on the compute and memory branches."""
    if share.__class__ is float and u_b.__class__ is float and u_c.__class__ is float:
        return _branches_cached(c, u_b, u_c, share)
    return _branches_impl(c, u_b, u_c, share)


@lru_cache(maxsize=65536)
def _branches_cached(c, u_b, u_c, share):
    return _branches_impl(c, u_b, u_c, share)


def _branches_impl(c: StepCoefficients, u_b, u_c, share):
    d, p = c.output_tokens - 1, c.prompt_tokens
    fixed = c.overhead_s + (c.comm0_s + c.comm_tok_s if c.gpus > 1 else 0.0)
    per_req_comm = (d + p) * c.comm_tok_s if c.gpus > 1 else 0.0
    i_c = c.dec_c / u_c + c.dec_m / u_b + fixed
    s_c = (d * c.dec_c + p * c.pre_c) / u_c + (d * c.dec_m + p * c.pre_m) / u_b + per_req_comm
    i_m = (c.weights_m * share + c.dec_m) / u_b + fixed
    s_m = (d * c.dec_m + p * c.pre_m) / u_b + per_req_comm
    return i_c, s_c, i_m, s_m


def _where(cond, a, b):
    if cond.__class__ is bool:
        return a if cond else b
    return np.where(cond, a, b)


def _chunk(c: StepCoefficients) -> int:
    """Prompt tokens one step takes from a request: its whole prompt, or the step budget."""
    return min(c.prompt_tokens, c.budget_tokens)


def _lumpy_terms(c: StepCoefficients, u_b, u_c, share):
    """Equation (3) terms for the four branch pairs (decode-only step: compute or memory bound; step with a
    prefill chunk: compute or memory bound): (K, B_i, dA + dB, dB)."""
    if share.__class__ is float and u_b.__class__ is float and u_c.__class__ is float:
        return _lumpy_terms_cached(c, u_b, u_c, share)
    return _lumpy_terms_impl(c, u_b, u_c, share)


@lru_cache(maxsize=65536)
def _lumpy_terms_cached(c, u_b, u_c, share):
    return _lumpy_terms_impl(c, u_b, u_c, share)


def _lumpy_terms_impl(c, u_b, u_c, share):
    h = _chunk(c)
    tok = c.comm_tok_s if c.gpus > 1 else 0.0
    fixed = c.overhead_s + (c.comm0_s if c.gpus > 1 else 0.0)
    a = {"dc": fixed, "dm": fixed + c.weights_m * share / u_b,
         "pc": fixed + h * c.pre_c / u_c + h * c.pre_m / u_b + h * tok,
         "pm": fixed + (c.weights_m * share + h * c.pre_m) / u_b + h * tok}
    dc = c.dec_c / u_c + c.dec_m / u_b + tok  # compute branch: the KV reads add to the linear layers' arithmetic
    b = {"dc": dc, "dm": c.dec_m / u_b + tok, "pc": dc, "pm": c.dec_m / u_b + tok}
    return tuple((a[i] + b[i], b[i], a[j] - a[i] + b[j] - b[i], b[j] - b[i])
                 for i in ("dc", "dm") for j in ("pc", "pm"))


def _lumpy_step(c: StepCoefficients, rate, u_b, u_c, share):
    """Mean step when prompts arrive whole: a share f = rate P t / h of steps carries a chunk of h prompt
    tokens and the rest decode only, t = (1 - f) t_decode(n) + f t_chunk(n) with n = 1 + rate (O - 1) t.
    Quadratic in t on each branch pair (equation 3); the smallest root, the largest over pairs."""
    d, p, h = c.output_tokens - 1, c.prompt_tokens, _chunk(c)
    best = 0.0 * rate
    for k_, b_i, dab, db in _lumpy_terms(c, u_b, u_c, share):
        lin = rate * (b_i * d + p / h * dab)
        quad = rate * rate * (p / h) * db * d
        one = 1.0 - lin
        disc = one * one - 4.0 * quad * k_
        root = _max(disc, 0.0) ** 0.5
        den = one + root
        ok = (disc >= 0.0) & (den > 0.0)
        y = _where(ok, 2.0 * k_ / _max(den, 1e-300), math.inf)
        best = _max(best, y)
    return best


def mean_step_s(c: StepCoefficients, rate, u_b, u_c):
    """Mean step time (= mean TPOT) at ``rate`` requests/s; inf past the throughput limit.

    Two regimes: while prompts fit a step (f < 1) they arrive whole, so a few steps carry a whole
    prompt chunk and the rest decode only (equation 3: the mean of the two step kinds); once every
    step carries prefill the work is spread evenly (equation 2, closed form). The larger applies."""
    share = 1.0
    t = None
    p, h = c.prompt_tokens, _chunk(c)
    for _ in range(1 if c.moe_share >= 1.0 else 4):  # MoE: the weights read depend on tokens per step
        i_c, s_c, i_m, s_m = _branches(c, u_b, u_c, share)
        den_c = 1.0 - rate * s_c
        den_m = 1.0 - rate * s_m
        fluid = _max(_where(den_c > 0.0, i_c / _max(den_c, 1e-300), math.inf),
                     _where(den_m > 0.0, i_m / _max(den_m, 1e-300), math.inf))
        lumpy = _lumpy_step(c, rate, u_b, u_c, share)
        whole = (rate * p * lumpy / h < 1.0) & (lumpy < math.inf)
        t = _where(whole, _max(lumpy, fluid), fluid)
        if c.moe_share < 1.0:
            share = _weights_share(c, 1.0 + rate * (c.output_tokens - 1 + c.prompt_tokens) * _where(t < math.inf, t, 0.0))
    return t


def throughput_limit(c: StepCoefficients, u_b, u_c):
    """Request rate at which equation (2) diverges: 1 / max(S_compute, S_memory)."""
    i_c, s_c, i_m, s_m = _branches(c, u_b, u_c, 1.0)
    return 1.0 / _max(s_c, s_m)


def ttft_quantile_s(own_s, rho, quantile):
    """The ``quantile`` (in (0, 1)) of TTFT = own prefill + wait for the prefill budget, with the wait of
    the M/D/1 queue of equation (4) approximated by its exponential tail: P(W > 0) = rho exactly (an
    arrival finds the budget busy with the probability of the PASTA property) and, given a wait, an
    exponential with the mean that makes E[W] the Pollaczek-Khinchine mean rho own / (2 (1 - rho)):
    P(W > t) = rho exp(-t 2 (1 - rho) / own). Hence

        W_q = own / (2 (1 - rho)) ln(rho / (1 - q))   for rho > 1 - q, else 0                (5)

    (Kingman 1962, "On queues in heavy traffic", JRSS B 24:383: the M/G/1 wait is exponential in heavy
    traffic; Kleinrock 1976, "Queueing Systems, Volume 2", section 2.2). It is exact at the mean and in
    heavy traffic and a little high at light load (M/D/1 has a lighter tail than the exponential). Only
    the queueing varies here: every request has the stated prompt length."""
    q = quantile
    slack = _max(1.0 - rho, 1e-300)
    ratio = _max(rho, 1e-300) / (1.0 - q)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        wait = own_s / (2.0 * slack) * _where(ratio > 1.0, _log(ratio), 0.0)
    return own_s + _max(wait, 0.0)


def _log(x):
    return math.log(x) if x.__class__ is float else np.log(x)


def state_at_rate(c: StepCoefficients, rate, u_b, u_c, ttft_quantile=None, tpot_quantile=None):
    """TTFT, TPOT, concurrency, KV-held sequences and prefill-budget load at ``rate`` requests/s;
    with ``ttft_quantile`` (in (0, 1)) also ``ttft_q_s``, that quantile of TTFT (:func:`ttft_quantile_s`);
    with ``tpot_quantile`` also ``tpot_q_s``, that quantile over requests of TPOT (:func:`tpot_quantile_s`).

    Returns a dict of floats (or arrays). Past the throughput limit or the prefill budget the
    times are inf (``stable`` False)."""
    d, p = c.output_tokens - 1, c.prompt_tokens
    t = mean_step_s(c, rate, u_b, u_c)
    others = rate * d * t
    room = c.budget_tokens - others  # prefill tokens a step can still take
    room_pos = _max(room, 1.0)
    chunks = _ceil(p / room_pos)
    own = chunks * step_time_s(c, others, p / chunks, u_b, u_c)
    rho = rate * p * t / room_pos
    slack = _max(1.0 - rho, 1e-300)
    with np.errstate(over="ignore", invalid="ignore"):  # past saturation the wait is inf by design (stable False)
        wait = rho * own / (2.0 * slack)
        ttft = own + wait
        held = rate * (own + d * t)
        concurrency = rate * (ttft + d * t)
    stable = (rate < throughput_limit(c, u_b, u_c)) & (room > 1.0) & (rho < 1.0)
    out = {"tpot_s": t, "ttft_s": ttft, "own_prefill_s": own, "queue_s": wait, "held": held,
           "concurrency": concurrency, "prefill_load": rho, "stable": stable}
    if ttft_quantile is not None:
        out["ttft_q_s"] = ttft_quantile_s(own, rho, ttft_quantile)
    if tpot_quantile is not None:
        out["tpot_q_s"] = tpot_quantile_s(c, rate, u_b, u_c, tpot_quantile, t)
    return out


def _z(quantile: float) -> float:
    """The standard normal quantile (the standard library's ``statistics.NormalDist().inv_cdf``)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(float(quantile))


def tpot_quantile_s(c: StepCoefficients, rate, u_b, u_c, quantile, mean_step=None):
    """The ``quantile`` (in (0, 1)) over requests of TPOT, a request's mean step over its O - 1 decode steps.
    While prompts arrive whole (equation 3), each step carries a prompt chunk with probability f = rate P t / h
    (Poisson arrivals), so a request's count K of chunk steps among its d = O - 1 is Binomial(d, f) and its TPOT
    is t_dec + (t_chunk - t_dec) K / d, with mean t. Its quantile, by the normal approximation of the binomial:

        TPOT_q = t + (t_chunk - t_dec) z_q sqrt(f (1 - f) / d),   at most t_chunk, at least t_dec      (6)

    (z_q the standard normal quantile; t_dec and t_chunk the two step kinds at the mean running batch
    n = 1 + rate d t). Once every step carries prefill (f >= 1) the step kinds no longer alternate and TPOT_q
    is the mean; the running batch's own Poisson spread is not modelled, so (6) is a floor on the spread."""
    q = float(quantile)
    if not 0.0 < q < 1.0:
        raise InputError("tpot_percentile", q * 100.0, "a percentile above 0 and below 100 (e.g. 90 or 99)")
    t = mean_step_s(c, rate, u_b, u_c) if mean_step is None else mean_step
    d, p, h = c.output_tokens - 1, c.prompt_tokens, _chunk(c)
    if d < 1:
        return t
    tf = _where(t < math.inf, t, 0.0)
    f = _min1(_max(rate * p * tf / h, 0.0))
    n = 1.0 + rate * d * tf
    t_dec = step_time_s(c, n, 0.0 * n, u_b, u_c)
    t_chunk = step_time_s(c, n, h + 0.0 * n, u_b, u_c)
    spread = (t_chunk - t_dec) * _z(q) * (f * (1.0 - f) / d) ** 0.5
    out = _max(_max(t + spread, t_dec), 0.0 * t)
    out = -_max(-out, -_max(t_chunk, t))  # at most the chunk step (or the mean, if that is larger)
    return _where(t < math.inf, out, math.inf)


# --------------------------------------------------------------------------------------------
# Capacity at a service level
# --------------------------------------------------------------------------------------------
def _ok(c, rate, u_b, u_c, ttft_s, tpot_s, q=None, tq=None):
    s = state_at_rate(c, rate, u_b, u_c, q, tq)
    ttft = s["ttft_s"] if q is None else s["ttft_q_s"]
    tpot = s["tpot_s"] if tq is None else s["tpot_q_s"]
    return s, (ttft <= ttft_s) * (tpot <= tpot_s) * (s["held"] <= c.kv_cap) * s["stable"]


def _tpot_rate(c, u_b, u_c, tpot_s, share=1.0):
    """Largest rate with mean TPOT <= ``tpot_s``: closed form on every branch of equations (2) and (3)
    (dense weights); the caller checks it and bisects where the regimes meet."""
    i_c, s_c, i_m, s_m = _branches(c, u_b, u_c, share)
    r_c = (1.0 - i_c / tpot_s) / s_c
    r_m = (1.0 - i_m / tpot_s) / s_m
    fluid = _max(0.0, -_max(-r_c, -r_m))
    d, p, h = c.output_tokens - 1, c.prompt_tokens, _chunk(c)
    t = tpot_s
    lumpy = math.inf + 0.0 * t
    for k_, b_i, dab, db in _lumpy_terms(c, u_b, u_c, share):
        a = b_i * d + p / h * dab
        b = (p / h) * db * d
        gap = t - k_
        disc = a * a * t * t + 4.0 * b * t * t * gap
        den = a * t + _max(disc, 0.0) ** 0.5
        ok = (disc >= 0.0) & (den > 0.0)
        r = _where(gap > 0.0, _where(ok, 2.0 * gap / _max(den, 1e-300), math.inf), 0.0)
        lumpy = -_max(-lumpy, -r)
    valid = lumpy * p * t / h < 1.0
    return _where(valid, -_max(-fluid, -lumpy), fluid)


def solve_capacity(c: StepCoefficients, u_b, u_c, ttft_s, tpot_s, ttft_quantile=None, tpot_quantile=None):
    """Largest rate (requests/s) meeting mean TTFT <= ``ttft_s`` (or its ``ttft_quantile``, in (0, 1),
    :func:`ttft_quantile_s`), mean TPOT <= ``tpot_s`` (or its ``tpot_quantile``, :func:`tpot_quantile_s`)
    and the memory cap, and which of them binds. Floats in, a (rate, binding) pair out; arrays in, arrays
    out (binding then an array of names). One formula for both shapes."""
    q, tq = ttft_quantile, tpot_quantile
    tkey = "ttft_s" if q is None else "ttft_q_s"
    pkey = "tpot_s" if tq is None else "tpot_q_s"
    limit = throughput_limit(c, u_b, u_c)
    hi = SATURATION * limit
    # the mean-TPOT rate is closed form; a TPOT quantile is bisected below it (the quantile is >= the mean)
    tpot_cap = _tpot_rate(c, u_b, u_c, tpot_s) if c.moe_share >= 1.0 else hi
    if ttft_s.__class__ is float and tpot_s.__class__ is float and hi.__class__ is float:
        binding = "throughput"
        if tpot_cap < hi:
            hi, binding = tpot_cap, "tpot"
        if hi <= 0.0:
            return 0.0, binding
        _, ok = _ok(c, hi, u_b, u_c, ttft_s, tpot_s * (1 + 1e-9), q, tq)
        if ok:
            return float(hi), binding
        lo = 0.0
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            if _ok(c, mid, u_b, u_c, ttft_s, tpot_s, q, tq)[1]:
                lo = mid
            else:
                hi = mid
        s = state_at_rate(c, hi, u_b, u_c, q, tq)
        if s["held"] > c.kv_cap:
            binding = "memory"
        elif s[tkey] > ttft_s:
            binding = "ttft"
        elif s[pkey] > tpot_s:
            binding = "tpot"
        return float(lo), binding
    # vectorized: the same steps on arrays
    hi = np.broadcast_to(np.asarray(hi, dtype=float), np.broadcast(hi, tpot_cap, ttft_s, tpot_s).shape).copy()
    tpot_cap = np.broadcast_to(tpot_cap, hi.shape)
    binding = np.full(hi.shape, "throughput", dtype=object)
    use_tpot = tpot_cap < hi
    hi = np.where(use_tpot, tpot_cap, hi)
    binding[use_tpot] = "tpot"
    tt = np.broadcast_to(np.asarray(ttft_s, dtype=float), hi.shape)
    tp = np.broadcast_to(np.asarray(tpot_s, dtype=float), hi.shape)
    _, ok = _ok(c, hi, u_b, u_c, tt, tp * (1 + 1e-9), q, tq)
    lo = np.where(ok, hi, 0.0)
    bad = np.flatnonzero(~ok & (hi > 0.0))  # bisect only where the closed form does not hold
    if bad.size:
        b_lo, b_top = np.zeros(bad.size), hi.flat[bad]
        b_tt, b_tp = tt.flat[bad], tp.flat[bad]
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (b_lo + b_top)
            good = _ok(c, mid, u_b, u_c, b_tt, b_tp, q, tq)[1]
            b_lo = np.where(good, mid, b_lo)
            b_top = np.where(good, b_top, mid)
        lo.flat[bad] = b_lo
        s = state_at_rate(c, b_top, u_b, u_c, q, tq)
        mem = s["held"] > c.kv_cap
        tt_fail = ~mem & (s[tkey] > b_tt)
        tp_fail = ~mem & ~tt_fail & (s[pkey] > b_tp)
        binding.flat[bad[mem]] = "memory"
        binding.flat[bad[tt_fail]] = "ttft"
        binding.flat[bad[tp_fail]] = "tpot"
    return lo, binding


@dataclass(frozen=True)
class ServingPoint:
    """The operating point of one replica at a service level (continuous batching unless ``mode``
    says static). Each band runs the engine's low / mid / high calibrated efficiency, each at its
    own largest sustainable rate; TTFT and TPOT are means over requests."""

    feasible: bool
    reason: str | None
    binding: str
    max_rate_per_replica: Band
    concurrency: Band
    ttft_s: Band
    tpot_s: Band
    throughput_tokens_per_s: Band
    gpus_per_replica: int
    engine: str
    mode: str
    warnings: tuple[str, ...] = ()
    kv_occupancy: Band | None = None
    memory_concurrency_cap: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    ttft_statistic: str = TTFT_STATISTIC
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    ttft_mean_s: Band | None = None  # the mean TTFT when ``ttft_s`` is a percentile (ttft_statistic "p90", ...)
    tpot_statistic: str = TTFT_STATISTIC  # "mean", or the percentile ``tpot_s`` is at ("p90", ...: equation 6)
    tpot_mean_s: Band | None = None  # the mean TPOT when ``tpot_s`` is a percentile

    BAND_KEYS = ("max_rate_per_replica", "concurrency", "ttft_s", "tpot_s", "throughput_tokens_per_s", "kv_occupancy")

    def as_dict(self, digits: int | None = 4) -> dict:
        out = {"feasible": self.feasible, "reason": self.reason, "binding": self.binding, "mode": self.mode,
               "engine": self.engine, "gpus_per_replica": self.gpus_per_replica}
        for key in self.BAND_KEYS:
            band = getattr(self, key)
            out[key] = band.as_dict(digits) if band is not None else None
        out["memory_concurrency_cap"] = self.memory_concurrency_cap
        out["ttft_statistic"] = self.ttft_statistic
        if self.ttft_mean_s is not None:
            out["ttft_mean_s"] = self.ttft_mean_s.as_dict(digits)
        out["tpot_statistic"] = self.tpot_statistic
        if self.tpot_mean_s is not None:
            out["tpot_mean_s"] = self.tpot_mean_s.as_dict(digits)
        out["warnings"] = list(self.warnings)
        out["assumptions"] = list(self.assumptions)
        return out


def _count(name, value) -> int:
    """A whole number >= 1 as an int (plain ints take the fast path)."""
    if value.__class__ is int and value >= 1:
        return value
    return int(whole(name, value))


def _setup(model, gpu, gpus, precision, engine, prompt_tokens, output_tokens, kv_precision, budget_tokens,
           split="tensor"):
    key = (model, gpu, gpus, precision, engine, prompt_tokens, output_tokens, kv_precision, budget_tokens, split)
    try:
        return _setup_cached(*key)
    except TypeError:  # an unhashable argument (a numpy number): the uncached path
        return _setup_impl(*key)


@lru_cache(maxsize=4096)
def _setup_cached(*key):
    return _setup_impl(*key)


def _setup_impl(model, gpu, gpus, precision, engine, prompt_tokens, output_tokens, kv_precision, budget_tokens,
                split="tensor"):
    model = inf._resolve_model(model)
    device = inf._resolve_device(gpu)
    precision = inf.check_precision(precision)
    eng = inf.get_engine(engine)
    kvp = choice("kv_precision", kv_precision or inf._kv_default(inf.storage_precision(precision)), inf.KV_PRECISIONS)
    split = choice("split", split, SPLITS)
    if split == "pipeline":
        k = check_pipeline_degree(model, device, gpus)
    else:
        k = inf.check_tp_degree(model, device, gpus)
        if split == "expert":
            check_expert_degree(model, k)
    p = _count("prompt_tokens", prompt_tokens)
    o = _count("output_tokens", output_tokens)
    inf.check_context(model, p + o)
    budget = int(whole("budget_tokens", budget_tokens if budget_tokens is not None else default_budget(device)))
    c = coefficients(model, device.id, precision, kvp, eng.id, k, p, o, budget, split)
    return model, device, precision, eng, kvp, k, c


def _seconds(name, value) -> float:
    if value.__class__ in (float, int) and value > 0 and value != math.inf:
        return float(value)
    return float(positive(name, value))


def default_budget(device: Device) -> int:
    """Prefill token budget per step: vLLM's default ``max_num_batched_tokens`` for its OpenAI server,
    8192 on GPUs with >= 70 GB, else 2048 (:data:`costlib.memory.PREFILL_CHUNK_TOKENS`, same source)."""
    mem = inf._memory()
    return mem.PREFILL_CHUNK_TOKENS if device.memory_bytes >= 70e9 else 2048


def _sc_bands(eng, device, precision, prompt_tokens=None):
    b = inf.engine_bands(eng.id, device.id, precision, prompt_tokens)
    return b, (("low", b.bandwidth.low, b.compute.low), ("mid", b.bandwidth.mid, b.compute.mid),
               ("high", b.bandwidth.high, b.compute.high))


def _band3(values):
    """A Band of three scenario values (sorted; mid kept inside). Plain floats are checked here and
    the Band built without its numpy validation (the scalar path's hot spot)."""
    lo, mi, hi = (float(v) for v in values)
    lo, hi = min(lo, mi, hi), max(lo, mi, hi)
    mi = min(max(mi, lo), hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return Band(lo, mi, hi)  # raises the usual InputError
    band = object.__new__(Band)
    object.__setattr__(band, "low", lo)
    object.__setattr__(band, "mid", mi)
    object.__setattr__(band, "high", hi)
    return band


def _quantile(ttft_percentile, name="ttft_percentile"):
    """``ttft_percentile`` (a percent in (0, 100), e.g. 90 or 99; None = the mean) as a quantile in (0, 1)."""
    if ttft_percentile is None:
        return None, TTFT_STATISTIC
    p = float(positive(name, ttft_percentile))
    if not p < 100.0:
        raise InputError(name, ttft_percentile, "a percentile above 0 and below 100 (e.g. 90 or 99)")
    return p / 100.0, f"p{p:g}"


def capacity_at_slo(model, gpu, *, gpus=1, precision="bf16", engine=DEFAULT_ENGINE, prompt_tokens, output_tokens,
                    ttft_s, tpot_s, kv_precision=None, budget_tokens=None, ttft_percentile=None,
                    split="tensor", _layout_check=True, tpot_percentile=None) -> ServingPoint:
    """Largest request rate one replica (``gpus`` GPUs, tensor parallel) sustains with mean TTFT
    <= ``ttft_s`` and mean TPOT <= ``tpot_s`` (seconds; None = no target), continuous batching.
    ``ttft_percentile`` (e.g. 90 or 99) puts the TTFT target on that percentile instead of the mean
    (equation 5, :func:`ttft_quantile_s`); the point's ``ttft_s`` is then that percentile,
    ``ttft_statistic`` says which (``p90``) and ``ttft_mean_s`` carries the mean. ``tpot_percentile`` does the
    same for TPOT over requests (equation 6, :func:`tpot_quantile_s`: ``tpot_s``, ``tpot_statistic``,
    ``tpot_mean_s``). ``split="pipeline"``
    splits the layers over the ``gpus`` instead of tensor parallelism, ``split="expert"`` spreads a
    mixture of experts' routed experts over them (:data:`SPLITS`).

    A target below the physical floor (the zero-load value at the engine's best efficiency) gives
    ``feasible=False`` and a reason naming the target and the floor; a model that does not fit
    gives the number of GPUs it needs.
    """
    model, device, precision, eng, kvp, k, c = _setup(model, gpu, gpus, precision, engine, prompt_tokens,
                                                      output_tokens, kv_precision, budget_tokens, split)
    ttft = math.inf if ttft_s is None else _seconds("ttft_s", ttft_s)
    tpot = math.inf if tpot_s is None else _seconds("tpot_s", tpot_s)
    q, statistic = _quantile(ttft_percentile)
    tq, tpot_statistic = _quantile(tpot_percentile, "tpot_percentile")
    tkey = "ttft_s" if q is None else "ttft_q_s"
    pkey = "tpot_s" if tq is None else "tpot_q_s"
    bands, scenarios = _sc_bands(eng, device, precision, c.prompt_tokens)
    warnings = list(bands_warnings(bands))
    assumptions = serving_assumptions(model, device.id, precision, eng, kvp, k, c, bands)
    zero = _band3((0.0, 0.0, 0.0))
    if not c.fits:
        need = (f"needs at least {c.need_gpus} x {device.id}" if c.need_gpus else
                f"does not fit on any tensor-parallel split of {device.id}")
        reason = (f"memory: {getattr(model, 'id', 'the model')} at {precision} with one {c.prompt_tokens + c.output_tokens}"
                  f"-token request does not fit on {k} x {device.id} ({device.memory_bytes / 2**30:.0f} GiB each); {need} "
                  f"(pass --gpus {c.need_gpus})" if c.need_gpus else "")
        return ServingPoint(False, reason, "memory", zero, zero, zero, zero, zero, k, eng.id, "continuous",
                            tuple(warnings), zero, 0, c.prompt_tokens, c.output_tokens, assumptions=assumptions)
    rates, binds, states = [], [], []
    for _name, u_b, u_c in scenarios:
        r, b = solve_capacity(c, u_b, u_c, ttft, tpot, q, tq)
        rates.append(r)
        binds.append(b)
        states.append(state_at_rate(c, r, u_b, u_c, q, tq))
    # floors at zero load, best efficiency
    _n, ub_hi, uc_hi = scenarios[2]
    floor = state_at_rate(c, 0.0, ub_hi, uc_hi)
    reason = None
    if floor["ttft_s"] > ttft:
        reason = (f"ttft: target {ttft * 1e3:.4g} ms is below the physical floor {floor['ttft_s'] * 1e3:.4g} ms "
                  f"(the prompt's own prefill at zero load, best efficiency of {eng.id})")
    elif floor["tpot_s"] > tpot:
        reason = (f"tpot: target {tpot * 1e3:.4g} ms is below the physical floor {floor['tpot_s'] * 1e3:.4g} ms "
                  f"(one decode step of a lone sequence, best efficiency of {eng.id})")
    warnings += inf.latency_bound_warnings(floor["tpot_s"])
    if reason is not None:
        return ServingPoint(False, reason, reason.split(":")[0], zero, zero, Band.point(floor["ttft_s"]),
                            Band.point(floor["tpot_s"]), zero, k, eng.id, "continuous", tuple(warnings), zero,
                            c.kv_cap, c.prompt_tokens, c.output_tokens, assumptions=assumptions)
    if rates[1] <= 0:
        mid_floor = state_at_rate(c, 0.0, scenarios[1][1], scenarios[1][2])
        which = "ttft" if mid_floor["ttft_s"] > ttft else "tpot"
        best = mid_floor[f"{which}_s"]
        reason = (f"{which}: target {(ttft if which == 'ttft' else tpot) * 1e3:.4g} ms is below the floor "
                  f"{best * 1e3:.4g} ms at the mid efficiency of {eng.id} (met only at its best efficiency)")
        return ServingPoint(False, reason, which, zero, zero, Band.point(mid_floor["ttft_s"]),
                            Band.point(mid_floor["tpot_s"]), zero, k, eng.id, "continuous", tuple(warnings), zero,
                            c.kv_cap, c.prompt_tokens, c.output_tokens, assumptions=assumptions)
    if rates[0] <= 0:
        warnings.append(f"at the low end of {eng.id}'s efficiency band no rate meets the targets: "
                        "max_rate_per_replica low is 0 (latency bands then span the mid and high ends)")
        states[0] = states[1]
    elif rates[0] < LOW_END_SHARE * rates[1]:
        lo_floor = state_at_rate(c, 0.0, scenarios[0][1], scenarios[0][2])
        which = binds[0] if binds[0] in ("ttft", "tpot") else "tpot"
        target = ttft if which == "ttft" else tpot
        warnings.append(f"at the low end of {eng.id}'s efficiency band the {which} target {target * 1e3:.4g} ms is close "
                        f"to its floor there ({lo_floor[f'{which}_s'] * 1e3:.4g} ms at zero load): max_rate_per_replica "
                        f"low is {rates[0]:.3g} requests/s, {rates[0] / rates[1]:.1%} of the mid; the band's low end "
                        "says the target may not be met at all, not a capacity to plan on")
    occ = [s["held"] * c.kv_mean_bytes / c.kv_pool_bytes if c.kv_pool_bytes > 0 else 0.0 for s in states]
    if split == "pipeline" and k > 1:
        assumptions = assumptions + (
            f"pipeline split over {k} GPUs: each holds 1/{k} of the layers and their KV cache; a step runs the "
            f"blocks one after another ({k - 1} activation hand-offs), so a lone stream decodes no faster than "
            "on one GPU (engines that overlap micro-batches across stages do better at high load)",)
    if split == "expert" and k > 1:
        assumptions = assumptions + (
            f"expert parallelism over {k} GPUs: {c.ep_experts_per_gpu:g} whole routed experts per GPU, attention "
            "tensor parallel; a step waits for the GPU whose experts its tokens touch most (normal approximation "
            "of the busiest GPU's reads); memory and communication as for tensor parallelism",)
    if _layout_check and k > 1 and split == "tensor":
        kw = dict(precision=precision, engine=eng.id, prompt_tokens=c.prompt_tokens, output_tokens=c.output_tokens,
                  ttft_s=ttft_s, tpot_s=tpot_s, kv_precision=kvp, budget_tokens=budget_tokens,
                  ttft_percentile=ttft_percentile, tpot_percentile=tpot_percentile)
        warnings += layout_warnings(model, device, k, key="requests/s",
                                    value=lambda d: _capacity_mid(model, device, d, **kw))
    return ServingPoint(
        feasible=True, reason=None, binding=binds[1],
        max_rate_per_replica=_band3(rates),
        concurrency=_band3([s["concurrency"] for s in states]),
        ttft_s=_band3([s[tkey] for s in states]),
        tpot_s=_band3([s[pkey] for s in states]),
        throughput_tokens_per_s=_band3([r * c.output_tokens for r in rates]),
        gpus_per_replica=k, engine=eng.id, mode="continuous", warnings=tuple(warnings),
        kv_occupancy=_band3(occ), memory_concurrency_cap=c.kv_cap,
        prompt_tokens=c.prompt_tokens, output_tokens=c.output_tokens, ttft_statistic=statistic,
        assumptions=_with_statistics(assumptions, statistic if q is not None else None,
                                     tpot_statistic if tq is not None else None),
        ttft_mean_s=_band3([s["ttft_s"] for s in states]) if q is not None else None,
        tpot_statistic=tpot_statistic,
        tpot_mean_s=_band3([s["tpot_s"] for s in states]) if tq is not None else None,
    )


def _with_statistics(assumptions, ttft_statistic=None, tpot_statistic=None) -> tuple[str, ...]:
    """The assumptions with one line on what TTFT and TPOT are: the default line (both means) when no percentile is
    targeted, else a line naming each target's statistic and its equation."""
    if ttft_statistic is None and tpot_statistic is None:
        return tuple(assumptions)
    ttft = (f"TTFT target on its {ttft_statistic} (equation 5: the M/D/1 wait for the prefill budget with an "
            "exponential tail, P(wait > 0) = load)" if ttft_statistic else "TTFT target on the mean")
    tpot = (f"TPOT target on its {tpot_statistic} over requests (equation 6: each decode step carries a prompt chunk "
            "with the probability the load sets, so a request's share of chunk steps is binomial; the running "
            "batch's own spread is not modelled)" if tpot_statistic else "TPOT target on the mean")
    kept = tuple(a for a in assumptions if not a.startswith("TTFT and TPOT are means"))
    return kept + (f"Poisson arrivals; {ttft}; {tpot}",)


def replicas_for_rate(point: ServingPoint, peak_rate_per_s) -> Band:
    """Whole replicas (>= 1) to carry ``peak_rate_per_s`` requests/s: low from the highest capacity,
    high from the lowest (the pessimistic end of the efficiency band; its mid when the low end
    cannot meet the targets at all)."""
    rate = float(positive("peak_rate_per_s", peak_rate_per_s))
    if not point.feasible:
        raise InputError("point", point.reason, "a feasible ServingPoint (this one cannot meet its targets)")
    cap = point.max_rate_per_replica
    slow = cap.low if cap.low > 0 else cap.mid

    def n(x):
        return float(max(1, math.ceil(rate / x - 1e-9)))

    return Band(n(cap.high), n(cap.mid), n(slow))


def at_rate(model, gpu, rate_per_s, *, gpus=1, precision="bf16", engine=DEFAULT_ENGINE, prompt_tokens,
            output_tokens, kv_precision=None, budget_tokens=None, split="tensor") -> dict:
    """Mean TTFT, TPOT, concurrency and KV occupancy of one replica at ``rate_per_s`` requests/s, each a
    Band over the engine's efficiencies (None where that efficiency cannot sustain the rate)."""
    model, device, precision, eng, kvp, k, c = _setup(model, gpu, gpus, precision, engine, prompt_tokens,
                                                      output_tokens, kv_precision, budget_tokens, split)
    rate = float(positive("rate_per_s", rate_per_s))
    bands, scenarios = _sc_bands(eng, device, precision, c.prompt_tokens)
    out = {}
    states = [state_at_rate(c, rate, ub, uc) for _n, ub, uc in scenarios]
    ok = [bool(s["stable"]) and s["held"] <= c.kv_cap for s in states]
    for key in ("ttft_s", "tpot_s", "concurrency", "held"):
        vals = [s[key] for s in states]
        out[key] = _band3(vals) if all(ok) else None
    out["sustainable"] = ok
    return out


def at_concurrency(model, gpu, concurrency, *, gpus=1, precision="bf16", engine=DEFAULT_ENGINE, prompt_tokens,
                   output_tokens, kv_precision=None, budget_tokens=None, split="tensor") -> dict:
    """A closed loop of ``concurrency`` requests always in flight (a benchmark client with that many
    users): the rate it drives, and its mean TTFT, TPOT and throughput, each a Band over efficiencies."""
    model, device, precision, eng, kvp, k, c = _setup(model, gpu, gpus, precision, engine, prompt_tokens,
                                                      output_tokens, kv_precision, budget_tokens, split)
    n = float(whole("concurrency", concurrency))
    if n > c.kv_cap:
        raise InputError("concurrency", int(n), f"at most {c.kv_cap} (the KV-cache pool of {k} x {device.id} "
                         f"holds that many {c.prompt_tokens + c.output_tokens}-token requests)")
    bands, scenarios = _sc_bands(eng, device, precision, c.prompt_tokens)
    res = []
    for _nm, ub, uc in scenarios:
        lo, hi = 0.0, SATURATION * throughput_limit(c, ub, uc)
        if state_at_rate(c, hi, ub, uc)["concurrency"] <= n:
            lo = hi
        else:
            for _ in range(BISECTION_STEPS):
                mid = 0.5 * (lo + hi)
                if state_at_rate(c, mid, ub, uc)["concurrency"] <= n:
                    lo = mid
                else:
                    hi = mid
        s = state_at_rate(c, lo, ub, uc)
        s["rate"] = lo
        res.append(s)
    return {
        "rate_per_s": _band3([s["rate"] for s in res]),
        "ttft_s": _band3([s["ttft_s"] for s in res]),
        "tpot_s": _band3([s["tpot_s"] for s in res]),
        "throughput_tokens_per_s": _band3([s["rate"] * c.output_tokens for s in res]),
        "memory_concurrency_cap": c.kv_cap,
    }


# --------------------------------------------------------------------------------------------
# Vectorized sweeps
# --------------------------------------------------------------------------------------------
def frontier(model, gpu, *, gpus=1, precision="bf16", engine=DEFAULT_ENGINE, prompt_tokens, output_tokens,
             rates=None, points=60, efficiency="mid", kv_precision=None, budget_tokens=None, split="tensor"):
    """The throughput-versus-TPOT curve serving benchmarks plot: for request rates from near zero to
    the throughput limit (or the memory cap), mean TPOT, mean TTFT, concurrency and output tokens/s
    per replica and per GPU. One vectorized call; a DataFrame, one row per rate."""
    import pandas as pd

    model, device, precision, eng, kvp, k, c = _setup(model, gpu, gpus, precision, engine, prompt_tokens,
                                                      output_tokens, kv_precision, budget_tokens, split)
    bands, scenarios = _sc_bands(eng, device, precision, c.prompt_tokens)
    pick = {"low": 0, "mid": 1, "high": 2}[choice("efficiency", efficiency, ("low", "mid", "high"))]
    _n, ub, uc = scenarios[pick]
    if rates is None:
        limit = throughput_limit(c, ub, uc)
        r = limit * (1.0 - np.geomspace(1.0, 1e-3, int(whole("points", points))))
        r = r[r > 0]
    else:
        r = np.asarray(positive("rates", rates), dtype=float)
    s = state_at_rate(c, r, ub, uc)
    keep = np.asarray(s["stable"], dtype=bool) & (s["held"] <= c.kv_cap)
    return pd.DataFrame({
        "rate_per_s": r[keep],
        "concurrency": s["concurrency"][keep],
        "tpot_ms": s["tpot_s"][keep] * 1e3,
        "ttft_ms": s["ttft_s"][keep] * 1e3,
        "tokens_per_s_per_user": 1.0 / s["tpot_s"][keep],
        "throughput_tokens_per_s": r[keep] * c.output_tokens,
        "throughput_tokens_per_s_per_gpu": r[keep] * c.output_tokens / k,
        "kv_occupancy": s["held"][keep] * c.kv_mean_bytes / c.kv_pool_bytes if c.kv_pool_bytes else 0.0 * r[keep],
    })


def capacity_sweep(model, gpu, *, gpus=1, precision="bf16", engine=DEFAULT_ENGINE, prompt_tokens, output_tokens,
                   ttft_s, tpot_s, efficiency="mid", kv_precision=None, budget_tokens=None, split="tensor",
                   ttft_percentile=None, tpot_percentile=None):
    """Capacity at many service levels in one call: ``ttft_s`` and ``tpot_s`` (arrays, broadcast) ->
    (max rate per replica in requests/s, binding constraint) arrays, at one efficiency of the band.
    The same equations as :func:`capacity_at_slo` (a test checks scalar == vectorized), percentiles too."""
    model, device, precision, eng, kvp, k, c = _setup(model, gpu, gpus, precision, engine, prompt_tokens,
                                                      output_tokens, kv_precision, budget_tokens, split)
    bands, scenarios = _sc_bands(eng, device, precision, c.prompt_tokens)
    pick = {"low": 0, "mid": 1, "high": 2}[choice("efficiency", efficiency, ("low", "mid", "high"))]
    _n, ub, uc = scenarios[pick]
    tt = np.asarray(positive("ttft_s", ttft_s), dtype=float)
    tp = np.asarray(positive("tpot_s", tpot_s), dtype=float)
    q, _ = _quantile(ttft_percentile)
    tq, _ = _quantile(tpot_percentile, "tpot_percentile")
    if not c.fits:
        shape = np.broadcast(tt, tp).shape
        return np.zeros(shape), np.full(shape, "memory", dtype=object)
    return solve_capacity(c, ub, uc, tt, tp, q, tq)


# --------------------------------------------------------------------------------------------
# Costs at an operating point
# --------------------------------------------------------------------------------------------
def costs(point: ServingPoint, price_usd_per_gpu_hour: Band, utilization: float = 1.0) -> dict:
    """$ per 1K requests and per 1M output tokens of one replica run at its capacity: GPU-hours x
    price / requests served. ``utilization`` (0-1) is the share of paid hours at that load."""
    if not point.feasible:
        return {"cost_per_1k_requests_usd": None, "cost_per_1m_output_tokens_usd": None}
    k = point.gpus_per_replica
    price = price_usd_per_gpu_hour
    cap = point.max_rate_per_replica
    slow = cap.low if cap.low > 0 else cap.mid

    def per_req(pr, rate):
        return pr * k / SECONDS_PER_HOUR / (rate * utilization)

    req = Band(per_req(price.low, cap.high) * 1e3, per_req(price.mid, cap.mid) * 1e3, per_req(price.high, slow) * 1e3)
    tok = req.scale(1e3 / point.output_tokens)  # $/1K req -> $/1M tokens: x 1e3 / O
    return {"cost_per_1k_requests_usd": req, "cost_per_1m_output_tokens_usd": tok}


def bands_warnings(bands) -> tuple[str, ...]:
    out = []
    if bands.fallback:
        out.append(f"{bands.engine}: fewer than {inf.BAND_MIN_CASES} published decode cases; using the wider "
                   f"{bands.fallback} family band")
    if bands.compute_fallback and bands.compute_fallback != bands.fallback:
        out.append(f"{bands.engine}: no published prefill case of its own for prompts up to "
                   f"{inf.LONG_PROMPT_TOKENS:,} tokens; using the {bands.compute_fallback} family band for prefill, widened")
    return tuple(out)


@lru_cache(maxsize=4096)
def serving_assumptions(model, device_id, precision, eng, kvp, k, c, bands) -> tuple[str, ...]:
    device = inf._resolve_device(device_id)
    cp = inf.compute_path(device, precision)
    out = [
        "mode continuous: in-flight batching with chunked prefill; each step = one decode token per running "
        f"sequence + up to {c.budget_tokens} prefill tokens (the step budget)",
        "TTFT and TPOT are means over requests (Poisson arrivals; queue wait for the prefill budget as M/D/1), "
        "not percentiles",
        f"engine {eng.id} ({eng.name} {eng.version}, {eng.as_of}): decode bandwidth efficiency "
        f"{bands.bandwidth.low:.2f}-{bands.bandwidth.high:.2f} (mid {bands.bandwidth.mid:.2f}), prefill compute "
        f"efficiency {bands.compute.low:.2f}-{bands.compute.high:.2f} (mid {bands.compute.mid:.2f}); bands from "
        f"{bands.describe()}",
        f"weights {precision} computed at the {device.id} {cp.precision} dense peak ({cp.kind}); KV cache {kvp}; "
        f"{device.bandwidth_gb_s:g} GB/s per GPU",
        f"memory: {c.kv_cap} concurrent {c.prompt_tokens}+{c.output_tokens}-token requests fit the KV pool "
        f"({c.kv_pool_bytes / 2**30:.1f} GiB per GPU after weights, one chunk's working set and runtime overhead)",
    ]
    if k > 1:
        out.append(f"tensor parallelism over {k} GPUs: {inf.ALLREDUCES_PER_LAYER} all-reduces per layer over "
                   f"{device.interconnect_gb_s:g} GB/s")
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Layouts, and a continuous-batching estimate at a concurrency (``costlib infer --mode continuous``)
# --------------------------------------------------------------------------------------------
def layout_warnings(model, gpu, gpus, *, key, value, better="high", **kw) -> tuple[str, ...]:
    """Warnings when a smaller tensor-parallel layout the model fits on beats ``gpus``: slower (the
    replica's ``key`` is worse than with fewer GPUs) or dearer (worse per GPU). ``value(d)`` gives the
    mid value at ``d`` GPUs or None where it does not fit; ``better`` 'high' or 'low'."""
    model = inf._resolve_model(model)
    k = int(gpus)
    if k <= 1:
        return ()
    mine = value(k)
    if mine is None:
        return ()
    out = []
    for d in inf.valid_tp_degrees(model, k - 1):
        v = value(d)
        if v is None:
            continue
        faster = v >= mine if better == "high" else v <= mine
        per_gpu_better = (v / d > mine / k) if better == "high" else (v * d < mine * k)
        if faster:
            out.append(f"{k} GPUs are slower than {d}: {key} {mine:.4g} on {k} x {getattr(gpu, 'id', gpu)} vs "
                       f"{v:.4g} on {d} (tensor-parallel communication outweighs the split); use --gpus {d}")
            break
        if per_gpu_better:
            out.append(f"{k} GPUs are dearer per unit than {d}: {key} per GPU {mine / k:.4g} on {k} vs {v / d:.4g} on "
                       f"{d} (more GPUs buy latency, not cost); --gpus {d} is cheaper if its latency suffices")
            break
    return tuple(out)


def _capacity_mid(model, gpu, d, **kw):
    try:
        return _capacity_mid_cached(model, getattr(gpu, "id", gpu), d, tuple(sorted(kw.items())))
    except TypeError:  # unhashable inputs: uncached
        return _capacity_mid_impl(model, gpu, d, **kw)


@lru_cache(maxsize=4096)
def _capacity_mid_cached(model, gpu, d, items):
    return _capacity_mid_impl(model, gpu, d, **dict(items))


def _capacity_mid_impl(model, gpu, d, **kw):
    try:
        pt = capacity_at_slo(model, gpu, gpus=d, **kw, _layout_check=False)
    except InputError:
        return None
    return pt.max_rate_per_replica.mid if pt.feasible and pt.max_rate_per_replica.mid > 0 else None


def estimate_continuous(model, gpu, precision, concurrency, prompt_tokens, output_tokens, *, gpus=1, utilization=None,
                        price_usd_per_gpu_hour=None, engine=DEFAULT_ENGINE, kv_precision=None, budget_tokens=None,
                        check_layout=True) -> inf.InferenceEstimate:
    """Latency, throughput and cost of a continuous-batching server kept at ``concurrency`` requests in
    flight (a closed loop: a benchmark client with that many users), as an
    :class:`~costlib.inference.InferenceEstimate` (``mode='continuous'``). Compare
    :func:`costlib.inference.estimate_inference`, the static batch."""
    model, device, precision, eng, kvp, k, c = _setup(model, gpu, gpus, precision, engine, prompt_tokens,
                                                      output_tokens, kv_precision, budget_tokens)
    if not c.fits:
        need = f"at least {c.need_gpus}" if c.need_gpus else "more GPUs than any tensor-parallel split allows"
        raise InputError("gpus", k, f"{need}: {getattr(model, 'id', 'the model')} at {precision} with one "
                         f"{c.prompt_tokens + c.output_tokens}-token request does not fit on {k} x {device.id}")
    util = 1.0 if utilization is None else float(inf.fraction("utilization", utilization))
    res = at_concurrency(model, device, concurrency, gpus=k, precision=precision, engine=eng.id,
                         prompt_tokens=c.prompt_tokens, output_tokens=c.output_tokens, kv_precision=kvp,
                         budget_tokens=c.budget_tokens)
    o = c.output_tokens
    ttft, tpot, thr, rate = res["ttft_s"], res["tpot_s"], res["throughput_tokens_per_s"], res["rate_per_s"]
    latency = Band(ttft.low + (o - 1) * tpot.low, ttft.mid + (o - 1) * tpot.mid, ttft.high + (o - 1) * tpot.high)
    price, note = inf._price_band(device, price_usd_per_gpu_hour)
    cost_out = cost_req = None
    if price is not None:
        cost_out = inf.cost_per_million_tokens(thr, price, util, gpus=k)
        cost_req = Band(price.low * k / SECONDS_PER_HOUR / (rate.high * util) * 1e3,
                        price.mid * k / SECONDS_PER_HOUR / (rate.mid * util) * 1e3,
                        price.high * k / SECONDS_PER_HOUR / (rate.low * util) * 1e3)
    bands = inf.engine_bands(eng.id, device.id, precision, c.prompt_tokens)
    i_c, s_c, i_m, s_m = _branches(c, bands.bandwidth.mid, bands.compute.mid, 1.0)
    bound = "compute" if i_c / max(1.0 - rate.mid * s_c, 1e-12) > i_m / max(1.0 - rate.mid * s_m, 1e-12) else "memory"
    warnings = list(bands_warnings(bands)) + list(inf.latency_bound_warnings(tpot.low))
    if check_layout and k > 1:
        def thr_mid(d):
            try:
                return at_concurrency(model, device, concurrency, gpus=d, precision=precision, engine=eng.id,
                                      prompt_tokens=c.prompt_tokens, output_tokens=o, kv_precision=kvp,
                                      budget_tokens=c.budget_tokens)["throughput_tokens_per_s"].mid
            except InputError:
                return None
        warnings += layout_warnings(model, device, k, key="output tokens/s", value=thr_mid)
    assumptions = serving_assumptions(model, device.id, precision, eng, kvp, k, c, bands) + (
        f"closed loop of {int(concurrency)} requests in flight (the running batch); rate it drives "
        f"{rate.mid:.3g} requests/s (mid)",
        f"utilization {util:g} of paid GPU-hours busy" + (" (default: the floor cost)" if utilization is None else ""),
        note,
    )
    return inf.InferenceEstimate(
        ttft_s=ttft, tpot_s=tpot, tokens_per_s_per_sequence=tpot.map(lambda t: 1.0 / t, decreasing=True),
        throughput_tokens_per_s=thr, request_latency_s=latency, cost_per_1m_output_tokens_usd=cost_out,
        cost_per_1k_requests_usd=cost_req, cost_per_1m_input_tokens_usd=None, bound=bound,
        assumptions=tuple(a for a in assumptions if a), warnings=tuple(warnings), mode="continuous",
    )


def min_gpus_for(model, gpu, *, precision="bf16", engine=DEFAULT_ENGINE, prompt_tokens, output_tokens,
                 kv_precision=None, max_gpus=64, min_concurrency=1) -> int | None:
    """Fewest tensor-parallel GPUs (a valid degree, :func:`costlib.inference.valid_tp_degrees`) whose KV
    pool holds at least ``min_concurrency`` requests of this shape; None if no degree up to ``max_gpus`` does."""
    need = int(whole("min_concurrency", min_concurrency))
    model = inf._resolve_model(model)
    device = inf._resolve_device(gpu)
    for d in inf.valid_tp_degrees(model, max_gpus):
        if device.kind in ("cpu", "soc") and d > 1:
            return None
        c = _setup(model, device.id, d, precision, engine, prompt_tokens, output_tokens, kv_precision, None)[-1]
        if c.kv_cap >= need:
            return d
    return None
