"""Properties of the public API over generated inputs (hypothesis, fixed seed derandomized in CI).

For any input a function either raises a :class:`~costlib.errors.CostlibError` (a one-line message) or returns
finite numbers: never NaN or infinity, never a negative time, throughput, memory or cost; never another
exception. Good inputs are drawn from the catalogs' own ids; bad ones from the edges (0, negatives, NaN,
infinity, huge values, fractions where a count is expected).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costlib import finetune, inference, memory, optimizations, routing, training
from costlib.cli import dumps, strict_data
from costlib.errors import CostlibError
from costlib.hardware import devices
from costlib.models import models

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

MODEL_IDS = sorted(models())
GPU_IDS = sorted(d.id for d in devices().values() if d.kind in ("gpu", "tpu"))
EDGE = st.sampled_from([0.0, -1.0, -0.0, math.nan, math.inf, -math.inf, 1e300, 1e-300, 0.5, 1.9])
COUNTS = st.one_of(st.integers(min_value=1, max_value=256), EDGE)
TOKENS = st.one_of(st.integers(min_value=1, max_value=20_000), EDGE)


def _finite_non_negative(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            _finite_non_negative(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _finite_non_negative(v, f"{path}[{i}]")
    elif isinstance(obj, (float, int, np.floating, np.integer)) and not isinstance(obj, bool):
        x = float(obj)
        assert math.isfinite(x), f"{path} = {x}"
        assert x >= 0, f"{path} = {x} is negative"


def _call(fn, *args, **kwargs):
    """The result, or None when the function refused the input with a CostlibError (as it should)."""
    try:
        return fn(*args, **kwargs)
    except CostlibError as exc:
        assert "\n" not in str(exc) and str(exc)
        return None


@SETTINGS
@given(model=st.sampled_from(MODEL_IDS), gpu=st.sampled_from(GPU_IDS),
       precision=st.sampled_from(inference.PRECISIONS), batch=COUNTS, prompt=TOKENS, output=TOKENS,
       gpus=st.sampled_from([1, 2, 4, 8, 3, 0, -1, 1.5]))
def test_inference_is_finite_and_non_negative(model, gpu, precision, batch, prompt, output, gpus):
    est = _call(inference.estimate_inference, model, gpu, precision, batch, prompt, output, gpus=gpus)
    if est is None:
        return
    payload = est.as_dict()
    for key in ("ttft_s", "tpot_s", "throughput_tokens_per_s", "request_latency_s", "cost_per_1m_output_tokens_usd"):
        band = payload.get(key)
        if band is not None:
            _finite_non_negative(band, key)
            assert band["low"] <= band["mid"] <= band["high"], (key, band)


@SETTINGS
@given(params=st.one_of(st.floats(min_value=1e6, max_value=2e12), EDGE),
       tokens=st.one_of(st.floats(min_value=1e6, max_value=3e13), EDGE),
       gpu=st.sampled_from(GPU_IDS), gpus=st.one_of(st.none(), COUNTS),
       mfu=st.one_of(st.none(), st.floats(min_value=0.01, max_value=1.0), EDGE),
       price=st.one_of(st.none(), st.floats(min_value=0.0, max_value=100.0), EDGE))
def test_training_is_finite_and_non_negative(params, tokens, gpu, gpus, mfu, price):
    est = _call(training.estimate_training, params, tokens, gpu, gpus=gpus, mfu=mfu, price_usd_per_gpu_hour=price)
    if est is not None:
        _finite_non_negative({k: v for k, v in est.as_dict().items() if k != "assumptions"})


@SETTINGS
@given(model=st.sampled_from(MODEL_IDS), method=st.sampled_from(finetune.FINETUNE_METHODS),
       tokens=st.one_of(st.floats(min_value=1e3, max_value=1e11), EDGE), gpu=st.sampled_from(GPU_IDS),
       gpus=COUNTS, rank=st.one_of(st.integers(min_value=1, max_value=512), EDGE))
def test_finetune_is_finite_and_non_negative(model, method, tokens, gpu, gpus, rank):
    est = _call(finetune.estimate_finetune, model, method, tokens, gpu, gpus=gpus, rank=rank)
    if est is not None:
        _finite_non_negative({k: v for k, v in est.as_dict().items() if k not in ("assumptions",)})


@SETTINGS
@given(model=st.sampled_from(MODEL_IDS), mode=st.sampled_from(memory.MODES),
       precision=st.sampled_from(("fp32", "bf16", "fp16", "fp8", "int8", "int4")),
       context=st.one_of(st.integers(min_value=0, max_value=200_000), EDGE), batch=COUNTS,
       gpus=st.sampled_from([1, 2, 4, 8, 0, -2, 1.5]), zero=st.sampled_from([0, 1, 2, 3]))
def test_memory_is_finite_and_grows_with_context(model, mode, precision, context, batch, gpus, zero):
    br = _call(memory.estimate_memory, model, mode, precision, context, batch, gpus=gpus, zero=zero)
    if br is None:
        return
    parts = {k: float(getattr(br, k)) for k in ("weights_gb", "kv_cache_gb", "activations_gb", "gradients_gb",
                                                 "optimizer_gb", "overhead_gb", "total_gb")}
    _finite_non_negative(parts)
    longer = _call(memory.estimate_memory, model, mode, precision, float(context) * 2 + 1, batch, gpus=gpus, zero=zero)
    if longer is not None:
        assert float(longer.total_gb) >= parts["total_gb"] - 1e-9


@SETTINGS
@given(alpha=st.one_of(st.floats(min_value=0.0, max_value=0.999), EDGE),
       gamma=st.one_of(st.integers(min_value=1, max_value=64), EDGE),
       c=st.one_of(st.floats(min_value=0.0, max_value=2.0), EDGE))
def test_speculative_is_finite(alpha, gamma, c):
    tokens = _call(optimizations.speculative_expected_tokens, alpha, gamma)
    speedup = _call(optimizations.speculative_speedup, alpha, gamma, c)
    for x in (tokens, speedup):
        if x is not None:
            _finite_non_negative(float(x))
    if tokens is not None:
        assert 1.0 - 1e-12 <= float(tokens) <= gamma + 1 + 1e-9


@SETTINGS
@given(values=st.recursive(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=5), st.none(), st.booleans()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=4), children, max_size=4)),
    max_leaves=20))
def test_cli_json_is_always_strict(values):
    """Whatever a payload holds, the CLI's JSON parses with a strict parser and keeps every finite value."""
    text = dumps({"payload": values})
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict constant {c}"))
    assert data == json.loads(json.dumps(strict_data({"payload": values}), allow_nan=False))


def test_strict_data_gives_reason_next_to_null():
    out = strict_data({"a": float("nan"), "b": [1.0, float("inf")], "c": 2.0, "d": np.float64("nan")})
    assert out["a"] is None and out["b"] == [1.0, None] and out["c"] == 2.0 and out["d"] is None
    assert set(out["null_reasons"]) == {"a", "b", "d"}


@SETTINGS
@given(share=st.one_of(st.floats(min_value=0.0, max_value=1.0), EDGE),
       escalation=st.one_of(st.floats(min_value=0.0, max_value=1.0), EDGE))
def test_routing_functions_are_finite(share, escalation):
    for name in dir(routing):
        fn = getattr(routing, name)
        if not callable(fn) or name.startswith("_") or getattr(fn, "__module__", "") != routing.__name__:
            continue
        import inspect

        params = [p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
        if len(params) != 2:
            continue
        out = _call(fn, share, escalation)
        if out is None or isinstance(out, (str, dict)):
            continue
        try:
            arr = np.asarray(out, dtype=float)
        except (TypeError, ValueError):
            continue
        if name == "break_even_share":  # documented: inf = no share in [0, 1] wins (the CLI writes null + reason)
            assert np.all((arr == np.inf) | ((arr >= 0) & (arr <= 1))), (name, share, escalation, out)
        else:
            assert np.all(np.isfinite(arr)), (name, share, escalation, out)


@pytest.fixture(scope="module")
def scenario():
    from costlib import enterprise as ent

    return ent.load_scenario("sdlc_assistant")


@settings(SETTINGS, max_examples=20)
@given(data=st.data())
def test_enterprise_costs_are_finite_and_non_negative_inside_the_bands(scenario, data):
    """Any input drawn inside its stated [low, high] gives finite, non-negative annual costs per option."""
    from costlib import enterprise as ent

    values = {}
    for key, p in ent.parameters(scenario).items():
        lo, hi = float(p.band.low), float(p.band.high)
        values[key] = data.draw(st.floats(min_value=lo, max_value=hi) if hi > lo else st.just(lo), label=key)
    totals = ent.annual_totals(scenario, values)
    for name, x in totals.items():
        x = float(np.asarray(x))
        assert math.isfinite(x) and x >= 0, (name, x)


def test_validate_helpers_hand_worked():
    from costlib import validate
    from costlib.errors import InputError
    from costlib.models import custom_model, get_model

    smol = get_model("smollm2-135m")  # max_position_embeddings 8,192 (its config.json)
    assert validate.context_within(smol, 8192) == 8192.0
    with pytest.raises(InputError, match=r"context=8193.0 is not allowed: at most 8,192 tokens"):
        validate.context_within(smol, 8193)
    assert validate.context_within(smol, 100_000, allow_longer=True) == 100_000.0
    assert validate.context_within(custom_model(7e9), 10**7) == 1e7  # no architecture, no maximum
    assert list(validate.context_within(smol, np.array([1, 8192]))) == [1.0, 8192.0]
    assert validate.count("samples", 20000.0) == 20000
    for bad in (0, -5, 1.9, float("nan"), float("inf"), True, None, "x"):
        with pytest.raises(InputError, match="samples=.* is not allowed: a whole number >= 1"):
            validate.count("samples", bad)
    with pytest.raises(InputError, match="samples=-5 is not allowed"):  # -5, not -5.0
        validate.count("samples", -5.0)
    assert validate.identifier("claim", "s0") == "s0"
    for bad in ("", "  ", None, 3):
        with pytest.raises(InputError, match="a non-empty id"):
            validate.identifier("claim", bad)
