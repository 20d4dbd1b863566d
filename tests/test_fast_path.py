"""The single estimate's scalar call shape equals the vectorized sweep to the last digit.

``estimate_inference`` checks its inputs once and runs the step formulas (``_prefill_terms``,
``_decode_terms``, ``_roofline_step``) on plain floats; ``prefill_time_s`` / ``decode_step`` run the same
functions on arrays (a batch sweep is one call). One formula, two call shapes: the numbers must be
identical (==, not approx) on a grid of models x GPUs x weight formats x batch x context x engines.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from costlib import inference as inf
from costlib.errors import InputError
from costlib.models import custom_model, get_model
from costlib.uncertainty import Band

MODELS = ("llama-3.1-8b", "qwen3-30b-a3b", "gemma-2-9b", "llama-3.1-70b", "params-7b")
"""Dense, mixture-of-experts (expert share of the weights read), sliding-window attention, a 70B that
needs tensor parallelism, and a model known by its parameter count only (no KV cache)."""
GPUS = (("h100-sxm", 1), ("h100-sxm", 4), ("a100-80gb", 2), ("l40s", 1), ("m2-max", 1), ("epyc-9654", 1))
PRECISIONS = ("bf16", "fp8", "int4", "gguf-q4_k_m", "awq-int4")
BATCHES = np.array([1.0, 8.0, 64.0])
TOKENS = ((128, 128), (2048, 256), (7000, 1))
ENGINES = ("optimized-server", "llama.cpp", "vllm")


def _model(name):
    return custom_model(7e9) if name == "params-7b" else get_model(name)


def _cases():
    for m, (gpu, k), prec, (p, o), eng in itertools.product(MODELS, GPUS, PRECISIONS, TOKENS, ENGINES):
        yield m, gpu, k, prec, p, o, eng


def test_scalar_estimate_equals_the_vectorized_sweep_to_the_last_digit():
    compared = 0
    for m, gpu, k, prec, p, o, eng in _cases():
        model = _model(m)
        try:  # the sweep: every batch in one call, at each end of the efficiency band (the device's and format's slice)
            eff = inf.efficiency_bands(eng, gpu, prec, p)
            sweeps = {}
            for end in ("low", "mid", "high"):
                kw = dict(kv_precision=None, engine=eng, bandwidth_utilization=getattr(eff.bandwidth, end),
                          compute_utilization=getattr(eff.compute, end))
                ttft = inf.prefill_time_s(model, gpu, prec, BATCHES, p, k, **kw)
                step = inf.decode_step(model, gpu, prec, BATCHES, p + o / 2.0, k, **kw)
                sweeps[end] = (ttft, np.asarray(step.total_s), np.broadcast_to(step.bound, BATCHES.shape))
        except InputError:  # a layout the device cannot run (tensor parallelism on a CPU, odd heads): skipped
            continue
        for i, b in enumerate(BATCHES):
            est = inf.estimate_inference(model, gpu, prec, int(b), p, o, gpus=k, engine=eng, check_fit=False,
                                         price_usd_per_gpu_hour=2.0)
            for end, band_end in (("low", "high"), ("mid", "mid"), ("high", "low")):  # low efficiency = slowest
                ttft, tpot, bound = sweeps[end]
                assert getattr(est.ttft_s, band_end) == ttft[i], (m, gpu, k, prec, b, p, o, eng, end)
                assert getattr(est.tpot_s, band_end) == tpot[i], (m, gpu, k, prec, b, p, o, eng, end)
                latency = ttft[i] + (o - 1) * tpot[i]
                assert getattr(est.request_latency_s, band_end) == latency
                assert getattr(est.throughput_tokens_per_s, {"low": "low", "mid": "mid", "high": "high"}[end]) == b * o / latency
            assert est.bound == str(sweeps["mid"][2][i])
            compared += 1
    assert compared > 500  # the grid really ran (most layouts are valid)


def test_fast_path_returns_plain_floats_and_float_bands():
    est = inf.estimate_inference("llama-3.1-8b", "h100-sxm", "bf16", 16, 2048, 256)
    for key in inf.InferenceEstimate.BAND_KEYS:
        band = getattr(est, key)
        assert isinstance(band, Band)
        assert all(type(v) is float for v in band), key


def test_scalar_checks_still_name_the_parameter():
    with pytest.raises(InputError, match="batch"):
        inf.estimate_inference("llama-3.1-8b", "h100-sxm", "bf16", 1.5, 2048, 256)
    with pytest.raises(InputError, match="prompt_tokens"):
        inf.estimate_inference("llama-3.1-8b", "h100-sxm", "bf16", 1, float("nan"), 256)
    with pytest.raises(InputError, match="utilization"):
        inf.estimate_inference("llama-3.1-8b", "h100-sxm", "bf16", 1, 2048, 256, utilization=1.5)
    with pytest.raises(InputError, match="band"):
        Band(2.0, 1.0, 3.0)
    with pytest.raises(InputError, match="band"):
        Band(1.0, 2.0, float("inf"))
