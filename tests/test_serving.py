"""Continuous batching with chunked prefill (costlib.serving): hand-worked step times, properties, bad input."""
import math

import numpy as np
import pytest

from costlib import inference as inf
from costlib import serving as sv
from costlib.errors import InputError
from costlib.hardware import get_device
from costlib.models import get_model

SHAPE = dict(prompt_tokens=1000, output_tokens=250)


def _coef(model="llama-3.1-8b", gpu="h100-sxm", precision="bf16", gpus=1, engine="vllm", budget=8192, **shape):
    shape = shape or SHAPE
    m = get_model(model)
    kvp = inf._kv_default(inf.storage_precision(precision))
    return sv.coefficients(m, gpu, precision, kvp, engine, gpus, shape["prompt_tokens"], shape["output_tokens"], budget)


def test_step_time_hand_worked_decode_only():
    # Llama-3.1-8B bf16 on one H100 SXM, 64 decodes at context 1125, no prefill, u = 1:
    # weights 16.06e9 B (memory.inference_memory) + 64 x KV(1125 tokens) at 131072 B/token
    # = 16.06e9 + 64 * 1125 * 131072 = 16.06e9 + 9.437e9 bytes over 3.35e12 B/s = 7.61 ms;
    # compute 64 x (2 x 8.03e9 + 4 x 32 x 1125 x 4096) / 989.5e12 = 1.14 ms -> memory-bound;
    # plus 4 us graph launch.
    m = get_model("llama-3.1-8b")
    c = _coef()
    w = inf.model_weight_bytes(m, "bf16")
    kv = 1125 * 131072
    expected = (w + 64 * kv) / 3.35e12 + 4e-6
    assert sv.step_time_s(c, 64.0, 0.0, 1.0, 1.0) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(7.61e-3, rel=0.01)


def test_step_time_hand_worked_prefill_chunk_compute_bound():
    # the same step plus a 4096-token prefill chunk: compute 4096 x F_pre(1000) + 64 x F_dec(1125)
    m = get_model("llama-3.1-8b")
    c = _coef()
    peak = get_device("h100-sxm").peak_flops("bf16")
    f_pre = 2 * m.active_params + 4 * m.layers * 500 * m.attention_dim
    f_dec = 2 * m.active_params + 4 * m.layers * 1125 * m.attention_dim
    compute = (4096 * f_pre + 64 * f_dec) / peak
    assert compute > 0.066  # ~67 ms: compute-bound
    t = sv.step_time_s(c, 64.0, 4096.0, 1.0, 0.5)
    # the attention kernels' KV traffic adds to the linear layers' compute (per-operator roofline):
    # 64 x 1125 + 4096 tokens x 131072 B = 9.974e9 B / 3.35e12 B/s = 2.977 ms
    kv_s = (64 * 1125 + 4096) * 131072 / 3.35e12
    assert kv_s == pytest.approx(2.977e-3, rel=1e-3)
    assert t == pytest.approx(compute / 0.5 + kv_s + 4e-6, rel=1e-9)


def test_mean_step_is_fixed_point_of_equations_2_and_3():
    c = _coef()
    h = min(c.prompt_tokens, c.budget_tokens)
    for rate in (0.5, 5.0, 15.0, 16.0):  # the throughput limit is 16.2 req/s here
        t = sv.mean_step_s(c, rate, 0.7, 0.45)
        n = 1.0 + rate * 249 * t
        f = rate * 1000 * t / h
        fluid = sv.step_time_s(c, n, rate * 1000 * t, 0.7, 0.45)
        assert t >= fluid * (1 - 1e-9)  # whole prompts in a few steps cost more than spreading them
        if f < 1:  # equation 3: a share f of steps carries a whole prompt chunk
            lumpy = (1 - f) * sv.step_time_s(c, n, 0.0, 0.7, 0.45) + f * sv.step_time_s(c, n, float(h), 0.7, 0.45)
            assert t == pytest.approx(lumpy, rel=1e-9)


def test_lumpy_prefill_hand_worked():
    # at a rate where f = 0.5 of steps carry the 1000-token prompt: mean of a decode step and a chunk step
    c = _coef()
    rate = 10.0
    t = sv.mean_step_s(c, rate, 1.0, 1.0)
    n = 1 + rate * 249 * t
    f = rate * 1000 * t / 1000
    assert 0 < f < 1
    t_dec = sv.step_time_s(c, n, 0.0, 1.0, 1.0)
    t_chunk = sv.step_time_s(c, n, 1000.0, 1.0, 1.0)
    assert t_chunk > 2 * t_dec  # a 1000-token chunk is compute-bound on an H100
    assert t == pytest.approx((1 - f) * t_dec + f * t_chunk, rel=1e-9)


def test_zero_load_tpot_is_one_lone_decode_step():
    c = _coef()
    t0 = sv.mean_step_s(c, 0.0, 0.7, 0.45)
    assert t0 == pytest.approx(sv.step_time_s(c, 1.0, 0.0, 0.7, 0.45), rel=1e-12)


def test_more_load_never_lowers_ttft_or_tpot():
    c = _coef()
    rates = np.linspace(0.01, 0.97 * sv.throughput_limit(c, 0.7, 0.45), 200)
    s = sv.state_at_rate(c, rates, 0.7, 0.45)
    assert np.all(np.diff(s["ttft_s"]) >= -1e-12)
    assert np.all(np.diff(s["tpot_s"]) >= -1e-12)
    assert np.all(np.diff(s["concurrency"]) > 0)


def test_tighter_tpot_never_raises_capacity():
    caps = [sv.capacity_at_slo("llama-3.1-70b", "h100-sxm", gpus=2, precision="fp8", ttft_s=1.0, tpot_s=t,
                               **SHAPE).max_rate_per_replica.mid for t in (0.1, 0.07, 0.05, 0.04, 0.03, 0.025)]
    assert all(a >= b for a, b in zip(caps, caps[1:]))
    assert caps[0] > caps[-1]


def test_tighter_ttft_never_raises_capacity():
    caps = [sv.capacity_at_slo("llama-3.1-8b", "l4", precision="fp8", ttft_s=t, tpot_s=None, **SHAPE)
            .max_rate_per_replica.mid for t in (5.0, 2.0, 1.0, 0.7, 0.5)]
    assert all(a >= b for a, b in zip(caps, caps[1:]))


def test_more_replicas_never_lower_capacity():
    pt = sv.capacity_at_slo("llama-3.1-8b", "h100-sxm", ttft_s=1.0, tpot_s=0.03, **SHAPE)
    rep = sv.replicas_for_rate(pt, 100.0)
    assert rep.low <= rep.mid <= rep.high
    prev = 0.0
    for rate in np.linspace(0.5, 500.0, 60):  # a higher peak never needs fewer replicas; the fleet carries it
        r = sv.replicas_for_rate(pt, rate)
        assert r.mid >= prev and r.mid * pt.max_rate_per_replica.mid >= rate * (1 - 1e-9)
        assert (r.mid - 1) * pt.max_rate_per_replica.mid < rate  # and no replica more than needed
        prev = r.mid
    assert rep.mid == math.ceil(100.0 / pt.max_rate_per_replica.mid)
    assert sv.replicas_for_rate(pt, 1e-6).low == 1.0


def test_scalar_equals_vectorized_on_a_grid():
    tt = np.array([0.08, 0.2, 0.5, 1.0, 3.0])
    tp = np.array([0.008, 0.012, 0.02, 0.05])
    for model, gpu, prec, k in (("llama-3.1-8b", "h100-sxm", "bf16", 1), ("llama-3.1-70b", "h100-sxm", "fp8", 2),
                                ("qwen2.5-3b", "l4", "bf16", 1)):
        rates, binds = sv.capacity_sweep(model, gpu, gpus=k, precision=prec, ttft_s=tt[:, None], tpot_s=tp[None, :],
                                         **SHAPE)
        c = _coef(model, gpu, prec, k, budget=sv.default_budget(get_device(gpu)))
        b = inf.engine_bands("vllm", gpu, prec, SHAPE["prompt_tokens"])
        for i, a in enumerate(tt):
            for j, t in enumerate(tp):
                r, bind = sv.solve_capacity(c, b.bandwidth.mid, b.compute.mid, float(a), float(t))
                assert rates[i, j] == pytest.approx(r, rel=1e-6, abs=1e-9)
                if r > 0:
                    assert binds[i, j] == bind


def test_target_below_floor_is_unattainable_and_names_the_floor():
    pt = sv.capacity_at_slo("llama-3.1-8b", "h100-sxm", ttft_s=1.0, tpot_s=0.001, **SHAPE)
    assert not pt.feasible and pt.binding == "tpot"
    assert "below the physical floor" in pt.reason and "1 ms" in pt.reason
    floor = float(pt.reason.split("floor ")[1].split(" ms")[0])
    assert floor > 1.0 and pt.tpot_s.mid * 1e3 == pytest.approx(floor, rel=1e-3)
    pt = sv.capacity_at_slo("llama-3.1-8b", "h100-sxm", ttft_s=0.001, tpot_s=0.05, **SHAPE)
    assert not pt.feasible and pt.reason.startswith("ttft")
    assert pt.max_rate_per_replica.high == 0.0


def test_model_that_does_not_fit_says_how_many_gpus():
    pt = sv.capacity_at_slo("llama-3.1-70b", "l4", ttft_s=1.0, tpot_s=0.1, **SHAPE)
    assert not pt.feasible and pt.binding == "memory"
    assert "--gpus 8" in pt.reason


def test_done_when_70b_on_two_h100_fp8():
    pt = sv.capacity_at_slo("llama-3.1-70b", "h100-sxm", gpus=2, precision="fp8", engine="vllm", ttft_s=1.0,
                            tpot_s=0.05, **SHAPE)
    assert pt.feasible and pt.ttft_s.high < 1.0 and pt.gpus_per_replica == 2
    assert pt.tpot_s.mid <= 0.05 * (1 + 1e-6)


def test_memory_cap_binds_when_kv_is_large():
    # long requests on a small card: the KV pool caps concurrency before latency does
    pt = sv.capacity_at_slo("llama-3.1-8b", "l4", precision="fp8", prompt_tokens=8000, output_tokens=4000,
                            ttft_s=None, tpot_s=None)
    assert pt.binding == "memory"
    assert 0.95 * pt.memory_concurrency_cap <= pt.concurrency.mid <= 1.05 * pt.memory_concurrency_cap


def test_tp_degree_rejected_with_valid_list():
    with pytest.raises(InputError, match=r"gpus=3 .*--gpus.*1, 2, 4, 8"):
        sv.capacity_at_slo("llama-3.1-8b", "h100-sxm", gpus=3, ttft_s=1.0, tpot_s=0.05, **SHAPE)
    with pytest.raises(InputError, match="gpus=64"):
        inf.estimate_inference("llama-3.1-8b", "h100-sxm", "bf16", 1, 100, 10, gpus=64)


def test_context_beyond_model_maximum_rejected():
    with pytest.raises(InputError, match="prompt_tokens"):
        sv.capacity_at_slo("smollm2-135m", "l4", prompt_tokens=100_000, output_tokens=10, ttft_s=1.0, tpot_s=0.05)


def test_frontier_is_monotone_throughput_vs_tpot():
    df = sv.frontier("llama-3.1-8b", "h100-sxm", points=40, **SHAPE)
    assert np.all(np.diff(df["throughput_tokens_per_s"]) > 0)
    assert np.all(np.diff(df["tpot_ms"]) >= 0)


# --- CLI -------------------------------------------------------------------------------------------
import json  # noqa: E402

from costlib.cli import main  # noqa: E402

DONE_WHEN = ["serve", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--gpus", "2", "--precision", "fp8", "--engine",
             "vllm", "--prompt-tokens", "1000", "--output-tokens", "250", "--ttft-ms", "1000", "--tpot-ms", "50", "--json"]
BAND_FIELDS = ("max_rate_per_replica", "replicas", "gpus", "ttft_s", "tpot_s", "throughput_tokens_per_s",
               "cost_per_1k_requests_usd", "cost_per_1m_output_tokens_usd")


def _cli(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_serve_done_when_command(capsys):
    code, out, err = _cli(DONE_WHEN, capsys)
    assert code == 0, err
    payload = json.loads(out, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    for key in BAND_FIELDS:
        assert set(payload[key]) == {"low", "mid", "high"}, key
        assert payload[key]["low"] <= payload[key]["mid"] <= payload[key]["high"]
    assert payload["ttft_s"]["high"] < 1.0
    assert payload["assumptions"] and payload["mode"] == "continuous" and isinstance(payload["warnings"], list)


def test_serve_with_rate_sizes_the_fleet(capsys):
    code, out, err = _cli(DONE_WHEN + ["--rate", "40"], capsys)
    assert code == 0, err
    p = json.loads(out)
    assert p["replicas"]["mid"] == math.ceil(40 / p["max_rate_per_replica"]["mid"])
    assert p["gpus"]["mid"] == 2 * p["replicas"]["mid"]


@pytest.mark.parametrize("extra, words", [
    (["--tpot-ms", "2"], ["tpot_ms=2", "physical floor"]),
    (["--ttft-ms", "0.5"], ["ttft_ms=0.5", "physical floor"]),
    (["--gpus", "3"], ["gpus=3", "--gpus", "1, 2, 4, 8"]),
    (["--gpus", "1", "--precision", "bf16"], ["gpus=1", "at least 2"]),
    (["--engine", "ollama"], ["engine='ollama'", "vllm"]),
    (["--precision", "q3"], ["precision='q3'"]),
])
def test_serve_bad_input_one_line_exit_2(extra, words, capsys):
    argv = DONE_WHEN[:-1] + extra
    code, out, err = _cli(argv, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    for w in words:
        assert w in err, err


def test_serve_explain(capsys):
    code, out, err = _cli(DONE_WHEN + ["--explain"], capsys)
    assert code == 0, err
    basis = json.loads(out)["basis"]
    assert basis["formula"] and basis["inputs"] and "serve" in basis["command"]


def test_infer_modes_and_engine_names(capsys):
    base = ["infer", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "bf16", "--batch", "64",
            "--prompt-tokens", "1000", "--output-tokens", "250", "--json"]
    code, out, _ = _cli(base, capsys)
    cont = json.loads(out)
    code2, out2, _ = _cli(base + ["--mode", "static"], capsys)
    static = json.loads(out2)
    assert code == code2 == 0 and cont["mode"] == "continuous" and static["mode"] == "static"
    # a static batch prefills all 64 prompts before the first token: far slower first token
    assert static["ttft_s"]["mid"] > 5 * cont["ttft_s"]["mid"]
    for engine in ("sglang", "tensorrt-llm", "nim", "tgi", "llama.cpp-cuda", "exllamav2", "hf-transformers",
                   "optimized-server", "llama.cpp"):
        code, out, err = _cli(base[:-1] + ["--engine", engine, "--json"], capsys)
        assert code == 0, (engine, err)
    code, out, err = _cli(base[:-1] + ["--mode", "offline"], capsys)
    assert code == 2 and "mode='offline'" in err


def test_layout_warning_when_more_gpus_are_slower(capsys):
    # TensorRT-LLM (92 cases): its mid efficiencies put this 0.5B case where TP communication outweighs the split
    code, out, err = _cli(["infer", "--model", "qwen2.5-0.5b", "--gpu", "h100-sxm", "--gpus", "2", "--precision", "bf16",
                           "--batch", "16", "--prompt-tokens", "1000", "--output-tokens", "250", "--engine", "tensorrt-llm",
                           "--json"], capsys)
    assert code == 0, err
    assert any("slower than 1" in w for w in json.loads(out)["warnings"])


# --- engines, formats, back-test -------------------------------------------------------------------
def test_engine_with_few_cases_falls_back_to_wider_family_band():
    # TGI has no calibrating decode case (its published cases are prefill): it takes the family band, widened
    tgi, family = inf.engine_bands("tgi"), inf.engine_bands("optimized-server")
    assert tgi.fallback == "optimized-server"
    assert tgi.bandwidth.low <= family.bandwidth.low and tgi.bandwidth.high >= family.bandwidth.high
    pt = sv.capacity_at_slo("llama-3.1-8b", "h100-sxm", ttft_s=1.0, tpot_s=0.05, engine="tgi", **SHAPE)
    assert any("family band" in w for w in pt.warnings)
    assert inf.engine_bands("exllamav2").fallback == ""  # seven cases of its own
    assert inf.engine_bands("vllm").fallback == ""  # 20 decode cases of its own (GPUStack, vLLM blog 2026-04)


def test_gguf_bits_per_weight_hand_worked():
    # ggml-common.h: block_q4_0 = 2 + 16 bytes per 32 weights -> 4.5 bits; block_q8_0 = 2 + 32 bytes -> 8.5 bits
    assert inf.get_format("q4_0").bits_per_weight == pytest.approx(18 * 8 / 32)
    assert inf.get_format("gguf-q8_0").bits_per_weight == pytest.approx(34 * 8 / 32)
    m = get_model("llama-2-7b")
    assert inf.model_weight_bytes(m, "gguf-q4_0") == pytest.approx(m.total_params * 4.5 / 8)
    # AWQ keeps the embeddings and head 16-bit
    emb = m.embedding_params
    assert inf.model_weight_bytes(m, "awq-int4") == pytest.approx((m.total_params - emb) * 4.125 / 8 + 2 * emb)


def test_formats_compute_path():
    assert inf.compute_precision("h100-sxm", "fp8") == "fp8"
    assert inf.compute_precision("a100-80gb", "fp8") in ("fp16", "bf16")  # no FP8 tensor cores: weight-only
    assert inf.compute_precision("h100-sxm", "gguf-q8_0") in ("fp16", "bf16")  # weight-only dequant
    assert inf.compute_precision("h100-sxm", "nvfp4") in ("fp16", "bf16")  # no FP4 peak in the catalog
    assert inf.check_precision("int4") == "int4"  # legacy names keep working


def test_engine_backtest_reports_coverage_next_to_nominal():
    s = inf.engine_backtest_summary()
    overall = s[s["engine"] == "all engines"].iloc[0]
    assert 0.5 <= overall["nominal_coverage"] <= 0.9  # what bands from these case counts claim (band_nominal_coverage)
    assert 0.0 <= overall["coverage"] <= 1.0 and overall["cases"] == len(inf.benchmarks())
    assert set(s["engine"]) >= {"tensorrt-llm", "llama.cpp-cuda", "exllamav2", "vllm"}


@pytest.mark.parametrize("batch", [1, 64, 512])
def test_decode_only_step_is_inference_decode_step(batch):
    # one formula, one place: serving's equation (1) with no prefill is inference.decode_step (per-operator
    # roofline: the KV reads sit outside the linear layers' max), at a memory-bound and a compute-bound batch
    m = get_model("llama-3.1-8b")
    c = _coef()
    for u_b, u_c in ((1.0, 1.0), (0.7, 0.45)):
        step = inf.decode_step(m, "h100-sxm", "bf16", batch, 1125, engine="vllm", bandwidth_utilization=u_b,
                               compute_utilization=u_c)
        assert sv.step_time_s(c, float(batch), 0.0, u_b, u_c) == pytest.approx(float(step.total_s), rel=1e-9)


def test_tpot_quantile_hand_worked_equation_6():
    # at 10 requests/s (prompts arrive whole: f = rate P t / h < 1) a request's 249 decode steps each carry the
    # 1000-token prompt chunk with probability f; its TPOT quantile is t + (t_chunk - t_dec) z_q sqrt(f(1-f)/249)
    from statistics import NormalDist
    c = _coef()
    rate, u_b, u_c = 10.0, 0.7, 0.45
    t = sv.mean_step_s(c, rate, u_b, u_c)
    f = rate * 1000 * t / 1000
    assert 0 < f < 1
    n = 1 + rate * 249 * t
    t_dec, t_chunk = sv.step_time_s(c, n, 0.0, u_b, u_c), sv.step_time_s(c, n, 1000.0, u_b, u_c)
    z90 = NormalDist().inv_cdf(0.9)
    assert z90 == pytest.approx(1.281552, rel=1e-6)
    expected = t + (t_chunk - t_dec) * z90 * math.sqrt(f * (1 - f) / 249)
    assert sv.tpot_quantile_s(c, rate, u_b, u_c, 0.9) == pytest.approx(expected, rel=1e-9)
    assert sv.tpot_quantile_s(c, rate, u_b, u_c, 0.5) == pytest.approx(t, rel=1e-12)  # the median is the mean
    assert t < expected < t_chunk


def test_a_tpot_percentile_target_never_raises_capacity():
    # 40 ms: clear of the 8B's L40S decode floor (31 ms at vLLM's mid efficiency on 272 cases), so every target is met
    kw = dict(prompt_tokens=1000, output_tokens=250, ttft_s=1.0, tpot_s=0.04)
    mean = sv.capacity_at_slo("llama-3.1-8b", "l40s", **kw)
    rates = [mean.max_rate_per_replica.mid]
    for pct in (50, 90, 99):
        p = sv.capacity_at_slo("llama-3.1-8b", "l40s", tpot_percentile=pct, **kw)
        assert p.tpot_statistic == f"p{pct}" and p.tpot_mean_s is not None
        assert p.tpot_s.mid <= 0.04 * (1 + 1e-6)
        rates.append(p.max_rate_per_replica.mid)
    assert rates[1] == pytest.approx(rates[0], rel=1e-6)  # p50 = the mean target
    assert all(a >= b - 1e-9 for a, b in zip(rates[1:], rates[2:]))
    assert rates[-1] < rates[0]  # the tail target binds earlier here


@pytest.mark.parametrize("bad", [0, 100, 150, -5])
def test_tpot_percentile_out_of_range_is_an_input_error(bad):
    with pytest.raises(InputError, match="tpot_percentile"):
        sv.capacity_at_slo("llama-3.1-8b", "h100-sxm", prompt_tokens=1000, output_tokens=250, ttft_s=1.0,
                           tpot_s=0.05, tpot_percentile=bad)


def test_cli_serve_tpot_percentile(capsys):
    import json as _json

    from costlib.cli import main
    args = ["serve", "--model", "llama-3.1-8b", "--gpu", "l40s", "--precision", "bf16", "--engine", "vllm",
            "--prompt-tokens", "1000", "--output-tokens", "250", "--ttft-ms", "1000", "--tpot-ms", "40"]
    assert main(args + ["--json"]) == 0  # 40 ms: clear of the 8B's L40S floor (31 ms at vLLM's mid)
    mean = _json.loads(capsys.readouterr().out)
    assert main(args + ["--tpot-percentile", "99", "--json"]) == 0
    p99 = _json.loads(capsys.readouterr().out)
    assert p99["tpot_statistic"] == "p99" and mean["tpot_statistic"] == "mean"
    assert p99["max_rate_per_replica"]["mid"] <= mean["max_rate_per_replica"]["mid"]
    assert p99["tpot_mean_s"]["mid"] <= p99["tpot_s"]["mid"]
    assert main(args + ["--tpot-percentile", "100"]) == 2
    assert "tpot_percentile" in capsys.readouterr().err


def test_tpot_percentile_sweep_equals_the_single_estimates():
    kw = dict(prompt_tokens=1000, output_tokens=250)
    tpots = np.array([0.025, 0.03, 0.04, 0.06])
    rates, binds = sv.capacity_sweep("llama-3.1-8b", "l40s", ttft_s=1.0, tpot_s=tpots, tpot_percentile=95, **kw)
    for t, r, b in zip(tpots, rates, binds):
        one = sv.capacity_at_slo("llama-3.1-8b", "l40s", ttft_s=1.0, tpot_s=float(t), tpot_percentile=95, **kw)
        assert r == pytest.approx(one.max_rate_per_replica.mid, rel=1e-6, abs=1e-9)
        if one.max_rate_per_replica.mid > 0:
            assert b == one.binding


def test_a_low_end_near_its_floor_is_warned_not_silent():
    """The 70B FP8 on two H100s with TGI's wide family band: at the band's slowest efficiency one decode step of a
    lone sequence already takes most of a 66 ms TPOT target, so the low-end capacity collapses. The point says so
    and names that floor; a loose target (200 ms) leaves a low end well above 5% of the mid and no such warning."""
    kw = dict(gpus=2, precision="fp8", engine="tgi", prompt_tokens=1000, output_tokens=250, ttft_s=1.0)
    tight = sv.capacity_at_slo("llama-3.1-70b", "h100-sxm", tpot_s=0.066, **kw)
    r = tight.max_rate_per_replica
    assert 0 < r.low < sv.LOW_END_SHARE * r.mid
    w = [x for x in tight.warnings if "close to its floor" in x]
    assert len(w) == 1 and "tpot target 66 ms" in w[0]
    loose = sv.capacity_at_slo("llama-3.1-70b", "h100-sxm", tpot_s=0.200, **kw)
    assert loose.max_rate_per_replica.low >= sv.LOW_END_SHARE * loose.max_rate_per_replica.mid
    assert not any("close to its floor" in x for x in loose.warnings)


@pytest.mark.parametrize("kw, ttft_word, tpot_word", [
    (dict(tpot_percentile=90), "TTFT target on the mean", "TPOT target on its p90"),
    (dict(ttft_percentile=99), "TTFT target on its p99", "TPOT target on the mean"),
    (dict(ttft_percentile=99, tpot_percentile=90), "TTFT target on its p99", "TPOT target on its p90"),
])
def test_assumptions_name_each_targets_statistic_once(kw, ttft_word, tpot_word):
    """A percentile target replaces the 'both are means' line; no assumption says a target is a mean while
    another says it is a percentile."""
    pt = sv.capacity_at_slo("llama-3.1-8b", "h100-sxm", prompt_tokens=1000, output_tokens=250, ttft_s=1.0,
                            tpot_s=0.05, **kw)
    lines = [a for a in pt.assumptions if "TPOT" in a]
    assert len(lines) == 1 and ttft_word in lines[0] and tpot_word in lines[0]
    assert not any(a.startswith("TTFT and TPOT are means") for a in pt.assumptions)
