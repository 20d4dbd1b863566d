"""costlib.inference: hand-worked roofline values, properties, calibration and bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

from costlib import inference as inf
from costlib.cli import main
from costlib.errors import InputError
from costlib.hardware import get_device
from costlib.models import custom_model, get_model
from costlib.uncertainty import Band

N_7B = 6_738_415_616  # Llama-2-7B, computed from its config (tests/test_models.py checks it)
LAUNCH = inf.KERNEL_LAUNCH_S  # one CUDA-graph launch per step for the optimized-server class
FULL = dict(bandwidth_utilization=1.0, compute_utilization=1.0)


# --- equation (1): FLOPs per token ------------------------------------------------------------
def test_flops_per_token_is_2n_plus_kaplan_attention_term():
    # Kaplan et al. 2020 Table 1: C_forward = 2N + 2 n_layer n_ctx d_attn; Llama-2-7B: 32 layers, d_attn 4096
    assert inf.flops_per_token("llama-2-7b", 0) == pytest.approx(2 * N_7B)
    assert inf.flops_per_token("llama-2-7b", 2048) == pytest.approx(2 * N_7B + 2 * 32 * 2048 * 4096)
    # a token at position c attends to c positions: twice the causal average
    assert inf.decode_flops_per_token("llama-2-7b", 2048) == pytest.approx(2 * N_7B + 4 * 32 * 2048 * 4096)


def test_flops_per_token_uses_active_parameters_for_moe():
    m = get_model("mixtral-8x7b")
    assert inf.flops_per_token(m, 0) == pytest.approx(2 * m.active_params)
    assert m.active_params < m.total_params


# --- equation (2): decode step ----------------------------------------------------------------
def test_batch1_decode_step_is_weight_read_time():
    # 13,476,831,232 bytes of FP16 weights / 2,039e9 B/s = 6.6095 ms, plus one graph launch
    t = inf.decode_step_time_s("llama-2-7b", "a100-80gb", "fp16", 1, 0, **FULL)
    assert t == pytest.approx(2 * N_7B / 2039e9 + LAUNCH, rel=1e-9)
    step = inf.decode_step("llama-2-7b", "a100-80gb", "fp16", 1, 0, **FULL)
    assert step.bound == "memory"
    assert step.compute_s == pytest.approx(2 * N_7B / 312e12)


def test_large_batch_decode_is_compute_bound():
    # 1024 x 2N FLOPs / 312e12 FLOP/s = 44.23 ms > 6.61 ms of weight reads
    step = inf.decode_step("llama-2-7b", "a100-80gb", "fp16", 1024, 0, **FULL)
    assert step.bound == "compute"
    assert step.total_s == pytest.approx(1024 * 2 * N_7B / 312e12 + LAUNCH, rel=1e-9)


def test_attention_kv_reads_add_to_compute_bound_linear_layers():
    # per-operator roofline: at batch 1024, context 1000 the weight GEMMs are compute-bound
    # (1024 x (2N + 4 x 32 x 1000 x 4096) / 312e12 = 45.96 ms > 6.61 ms of weight reads), and attention then
    # reads 1024 x 1000 x 524,288 B = 536.9 GB of KV cache at 2039e9 B/s = 263.3 ms after them, not under them
    step = inf.decode_step("llama-2-7b", "a100-80gb", "fp16", 1024, 1000, **FULL)
    compute = 1024 * (2 * N_7B + 4 * 32 * 1000 * 4096) / 312e12
    kv = 1024 * 1000 * 524_288 / 2039e9
    assert compute == pytest.approx(45.96e-3, rel=1e-3) and kv == pytest.approx(263.3e-3, rel=1e-3)
    assert step.kv_s == pytest.approx(kv, rel=1e-9)
    assert step.bound == "compute"
    assert step.total_s == pytest.approx(compute + kv + LAUNCH, rel=1e-9)
    # memory-bound linear layers: the KV reads add to the weight reads (the old max(compute, memory) again)
    small = inf.decode_step("llama-2-7b", "a100-80gb", "fp16", 4, 1000, **FULL)
    assert small.bound == "memory"
    assert small.total_s == pytest.approx((2 * N_7B + 4 * 1000 * 524_288) / 2039e9 + LAUNCH, rel=1e-9)


def test_pre_xqa_tensorrt_llm_reads_each_kv_head_once_per_query_head():
    # Llama-2-70B: 64 query heads over 8 KV heads; FP8 KV cache 2 x 80 layers x 1024 x 1 B = 163,840 B/token.
    # TensorRT-LLM v0.6.1's masked-MHA kernel (one thread block per query head) streams each KV head 8 times;
    # XQA (v0.8 on) and engines without a version read it once.
    assert inf.kv_reads_per_head("llama-2-70b", "tensorrt-llm", "0.6.1") == 8.0
    assert inf.kv_reads_per_head("llama-2-70b", "tensorrt-llm", "0.8") == 1.0
    assert inf.kv_reads_per_head("llama-2-70b", "tensorrt-llm") == 1.0
    assert inf.kv_reads_per_head("llama-2-70b", "vllm", "0.2") == 1.0
    assert inf.kv_reads_per_head("llama-2-7b", "tensorrt-llm", "0.5") == 1.0  # MHA: one query head per KV head
    kw = dict(engine="tensorrt-llm", kv_precision="fp8", **FULL)
    old = inf.decode_step("llama-2-70b", "h100-sxm", "fp8", 1, 1000, engine_version="0.6.1", **kw)
    new = inf.decode_step("llama-2-70b", "h100-sxm", "fp8", 1, 1000, **kw)
    assert new.kv_s == pytest.approx(1000 * 163_840 / 3350e9, rel=1e-9)
    assert old.kv_s == pytest.approx(8 * new.kv_s, rel=1e-9)
    assert old.memory_s - new.memory_s == pytest.approx(7 * new.kv_s, rel=1e-9)


def test_engine_release_is_parsed_from_the_label():
    assert inf.engine_release("TensorRT-LLM v0.6.1") == (0, 6, 1)
    assert inf.engine_release("TensorRT-LLM v0.5") == (0, 5)
    assert inf.engine_release("vLLM") is None
    case = next(c for c in inf.benchmarks() if c.id == "trtllm-h100-70b-tp4-bs480-128-2048")
    assert case.engine_version == (0, 6, 1)


def test_prefill_runs_outside_cuda_graphs():
    # a graph engine replays one graph per decode step but launches a whole-prompt prefill kernel by kernel:
    # 32 layers x 12 kernels x 4 us = 1.536 ms for Llama-2-7B
    m = get_model("llama-2-7b")
    assert inf.step_overhead_s(m, "vllm") == pytest.approx(LAUNCH)
    assert inf.step_overhead_s(m, "vllm", "prefill") == pytest.approx(32 * 12 * 4e-6)
    assert inf.prefill("llama-2-7b", "a100-80gb", "fp16", 1, 128, **FULL).overhead_s == pytest.approx(1.536e-3)
    with pytest.raises(InputError, match="phase"):
        inf.step_overhead_s(m, "vllm", "warmup")


def test_kv_cache_is_read_for_every_sequence():
    # Llama-2-7B MHA fp16 KV: 2 x 32 layers x 4096 x 2 bytes = 524,288 bytes per token
    step = inf.decode_step("llama-2-7b", "a100-80gb", "fp16", 4, 1000, **FULL)
    assert step.memory_s == pytest.approx((2 * N_7B + 4 * 1000 * 524_288) / 2039e9, rel=1e-9)


def test_efficiency_divides_the_time():
    a = inf.decode_step("llama-2-7b", "a100-80gb", "fp16", 1, 0, **FULL)
    b = inf.decode_step("llama-2-7b", "a100-80gb", "fp16", 1, 0, bandwidth_utilization=0.5, compute_utilization=1.0)
    assert b.memory_s == pytest.approx(2 * a.memory_s)


def test_tensor_parallel_communication_term():
    # 2 all-reduces x 32 layers, each ring: 2(K-1)/K x (1 token x 4096 x 2 B) / 450e9 B/s + 8 us
    step = inf.decode_step("llama-2-7b", "h100-sxm", "fp16", 1, 0, gpus=2, **FULL)
    one = 2 * 0.5 * 4096 * 2 / 450e9 + inf.ALLREDUCE_LATENCY_S
    assert step.communication_s == pytest.approx(64 * one, rel=1e-9)
    assert step.memory_s == pytest.approx(2 * N_7B / 2 / 3350e9, rel=1e-9)


def test_prefill_counts_causal_attention_and_one_weight_read():
    t = inf.prefill("llama-2-7b", "a100-80gb", "fp16", 1, 2048, **FULL)
    flops = 2048 * (2 * N_7B + 2 * 32 * 2048 * 4096)
    assert t.compute_s == pytest.approx(flops / 312e12, rel=1e-9)
    assert t.bound == "compute"


# --- precision ----------------------------------------------------------------------------------
def test_fp8_raises_peak_only_where_the_device_has_fp8():
    assert inf.effective_peak_flops("h100-sxm", "fp8") == pytest.approx(1979e12)
    assert inf.effective_peak_flops("a100-80gb", "fp8") == pytest.approx(312e12)  # falls back to FP16
    assert inf.effective_peak_flops("a100-80gb", "int8") == pytest.approx(624e12)


def test_int4_changes_bytes_not_compute():
    assert inf.effective_peak_flops("h100-sxm", "int4") == inf.effective_peak_flops("h100-sxm", "fp16")
    b16 = inf.model_weight_bytes("llama-2-7b", "fp16")
    b4 = inf.model_weight_bytes("llama-2-7b", "int4")
    assert b4 < b16 / 3  # ~4.1 bits per weight on the blocks, 16-bit embeddings
    t16 = inf.decode_step_time_s("llama-2-7b", "a100-80gb", "fp16", 1, 0, **FULL)
    t4 = inf.decode_step_time_s("llama-2-7b", "a100-80gb", "int4", 1, 0, **FULL)
    assert t4 == pytest.approx(b4 / 2039e9 + LAUNCH, rel=1e-9)
    assert t4 < t16


def test_llama_cpp_q4_0_is_4_5_bits_per_weight():
    b = inf.model_weight_bytes("llama-2-7b", "int4", engine="llama.cpp")
    assert b == pytest.approx(N_7B * 4.5 / 8, rel=1e-9)


def test_moe_batch1_reads_only_active_share():
    m = get_model("mixtral-8x7b")
    one = inf.weights_read_bytes(m, "fp16", 1)
    full = inf.model_weight_bytes(m, "fp16")
    assert one == pytest.approx(full * m.active_params / m.total_params)
    assert inf.weights_read_bytes(m, "fp16", 256) == pytest.approx(full, rel=1e-6)


# --- properties -----------------------------------------------------------------------------------
def test_more_batch_never_lowers_throughput_and_never_speeds_a_sequence():
    b = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
    step = inf.decode_step("llama-3.1-8b", "a100-80gb", "bf16", b, 1000)
    t = np.asarray(step.total_s)
    assert np.all(np.diff(b / t) >= -1e-9)  # aggregate decode tokens/s
    assert np.all(np.diff(t) >= 0)  # per-sequence time per token


def test_bigger_model_never_decodes_faster_on_the_same_gpu():
    # "bigger" = more bytes read per decode step (weights without a vision encoder, plus the KV cache):
    # Phi-4-mini stores 15M more weights than Phi-3-mini but reads 33 MB less KV cache at 128 tokens.
    def read(m):
        return inf.weights_read_bytes(m, "bf16", 1) + inf.kv_bytes_per_sequence(m, 128)

    dense = sorted((m for m in inf.models().values() if not m.is_moe), key=read)
    t = [inf.decode_step_time_s(m, "h100-sxm", "bf16", 1, 128) for m in dense]
    assert all(b >= a for a, b in zip(t, t[1:]))


def test_estimate_bands_are_ordered_and_never_beat_the_bandwidth_ceiling():
    est = inf.estimate_inference("llama-2-7b", "a100-80gb", "fp16", 1, 500, 500)
    ceiling = 2039e9 / (2 * N_7B)  # ~151 tokens/s: one full weight read per token
    assert est.tokens_per_s_per_sequence.high <= ceiling
    for key in inf.InferenceEstimate.BAND_KEYS:
        band = getattr(est, key)
        assert band.low <= band.mid <= band.high
    assert est.bound == "memory"
    # request latency = ttft + (O - 1) x tpot at each efficiency
    assert est.request_latency_s.mid == pytest.approx(est.ttft_s.mid + 499 * est.tpot_s.mid)
    assert est.throughput_tokens_per_s.mid == pytest.approx(500 / est.request_latency_s.mid)


def test_cpu_decode_follows_memory_bandwidth():
    # llama.cpp Q4_0 7B on a 102.4 GB/s desktop: at most 102.4e9 / 3.79e9 = 27 tokens/s
    est = inf.estimate_inference("llama-7b", "i9-13900k", "int4", 1, 16, 128, engine="llama.cpp")
    assert est.tokens_per_s_per_sequence.high <= 102.4e9 / (N_7B * 4.5 / 8)


# --- cost -----------------------------------------------------------------------------------------
def test_cost_per_million_tokens_hand_worked():
    # $3.60 per GPU-hour at 1,000 tokens/s fully busy: $0.001 per second / 1,000 tokens = $1 per 1M
    assert inf.cost_per_million_tokens(1000, 3.6).mid == pytest.approx(1.0)
    assert inf.cost_per_million_tokens(1000, 3.6, 0.5).mid == pytest.approx(2.0)
    assert inf.cost_per_million_tokens(1000, 3.6, gpus=4).mid == pytest.approx(4.0)
    band = inf.cost_per_million_tokens(Band(500, 1000, 2000), Band(2.0, 3.6, 4.0), 1.0)
    assert band.low == pytest.approx(2.0 / 3600 / 2000 * 1e6)
    assert band.high == pytest.approx(4.0 / 3600 / 500 * 1e6)


def test_estimate_cost_follows_price_and_utilization():
    a = inf.estimate_inference("llama-3.1-8b", "h100-sxm", "fp8", 32, 500, 500, price_usd_per_gpu_hour=2.0)
    b = inf.estimate_inference("llama-3.1-8b", "h100-sxm", "fp8", 32, 500, 500, price_usd_per_gpu_hour=2.0,
                               utilization=0.25)
    assert b.cost_per_1m_output_tokens_usd.mid == pytest.approx(4 * a.cost_per_1m_output_tokens_usd.mid)
    mid = a.cost_per_1m_output_tokens_usd.mid
    assert mid == pytest.approx(2.0 / 3600 / a.throughput_tokens_per_s.mid * 1e6)
    assert a.cost_per_1k_requests_usd.mid == pytest.approx(2.0 / 3600 * a.request_latency_s.mid / 32 * 1000)


def test_no_price_gives_null_costs_and_says_so():
    est = inf.estimate_inference("llama-2-7b", "m1-max", "int4", 1, 16, 128, engine="llama.cpp")
    assert est.cost_per_1m_output_tokens_usd is None
    assert any("pass a price" in a for a in est.assumptions)


# --- calibration and back-test -------------------------------------------------------------------
def test_benchmark_catalog_has_ten_sourced_calibration_cases():
    rows = inf.benchmarks()
    used = [r for r in rows if inf.calibrates(r)]
    assert len(used) >= 10
    assert all(r.source.startswith("https://") for r in rows)
    assert {r.engine_class for r in used} == set(inf.ENGINE_CLASSES)


def test_efficiency_bands_are_fractions():
    for eff in inf.calibration().values():
        for band in (eff.bandwidth, eff.compute):
            assert 0 < band.low <= band.mid <= band.high <= 1


def test_implied_utilization_reproduces_the_measurement():
    case = next(c for c in inf.benchmarks() if c.id == "llamacpp-m1max-7b-f16-tg128")
    other = inf.efficiency_bands("llama.cpp").compute.mid
    u = inf.implied_utilization(case, other)
    assert inf.predict_metric(case, u, other) == pytest.approx(case.value, rel=1e-6)
    # 23.03 tok/s x 13.48 GB = 310 GB/s of 400: about 0.78 before overhead
    assert 0.7 < u < 0.85


def test_backtest_median_error_within_goal():
    bt = inf.backtest()
    assert len(bt) == len(inf.benchmarks())
    calibrated = bt[bt.calibrates != "-"]
    assert calibrated.error.abs().median() <= 0.25
    assert bt.error_loo.abs().median() <= 0.30


# --- fit and bad input -----------------------------------------------------------------------------
def test_model_that_does_not_fit_says_how_many_gpus():
    with pytest.raises(InputError, match="at least 2"):
        inf.estimate_inference("llama-3.1-70b", "h100-sxm", "fp16", 1, 500, 500)
    est = inf.estimate_inference("llama-3.1-70b", "h100-sxm", "fp16", 1, 500, 500, gpus=2)
    assert est.tpot_s.mid > 0


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        (dict(batch=0), "batch"),
        (dict(batch=1.5), "batch"),
        (dict(precision="fp4"), "precision"),
        (dict(gpu="no-such-gpu"), "gpu"),
        (dict(utilization=1.5), "utilization"),
        (dict(utilization=0), "utilization"),
        (dict(prompt_tokens=-1), "prompt_tokens"),
        (dict(engine="ollama"), "engine"),
        (dict(price_usd_per_gpu_hour=-2), "price_usd_per_gpu_hour"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, parameter):
    args = dict(model="llama-2-7b", gpu="a100-80gb", precision="fp16", batch=1, prompt_tokens=100, output_tokens=100)
    args.update(kwargs)
    with pytest.raises(InputError) as err:
        inf.estimate_inference(args.pop("model"), args.pop("gpu"), args.pop("precision"), args.pop("batch"),
                               args.pop("prompt_tokens"), args.pop("output_tokens"), **args)
    assert err.value.parameter == parameter


def test_tensor_parallel_on_a_laptop_is_refused():
    with pytest.raises(InputError, match="gpus"):
        inf.decode_step_time_s("llama-2-7b", "m1-max", "fp16", 1, 0, gpus=2)


def test_params_only_model_omits_kv_and_says_so():
    est = inf.estimate_inference(custom_model(7e9), "a100-80gb", "fp16", 1, 500, 500)
    assert any("KV cache and attention FLOPs omitted" in a for a in est.assumptions)
    assert inf.kv_bytes_per_sequence(custom_model(7e9), 1000) == 0.0


# --- CLI -------------------------------------------------------------------------------------------
def test_cli_json_keys(capsys):
    code = main(["infer", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "fp8", "--batch", "16",
                 "--prompt-tokens", "500", "--output-tokens", "200", "--utilization", "0.5", "--price", "2.5", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("ttft_s", "tpot_s", "tokens_per_s_per_sequence", "throughput_tokens_per_s", "request_latency_s",
                "cost_per_1m_output_tokens_usd", "cost_per_1k_requests_usd"):
        assert set(out[key]) == {"low", "mid", "high"}
        assert out[key]["low"] <= out[key]["mid"] <= out[key]["high"]
    assert out["bound"] in ("memory", "compute")
    assert isinstance(out["assumptions"], list) and out["assumptions"]


def test_cli_params_and_errors(capsys):
    assert main(["infer", "--params", "7B", "--gpu", "a100-80gb", "--precision", "int4", "--batch", "1",
                 "--prompt-tokens", "100", "--output-tokens", "100", "--json"]) == 0
    capsys.readouterr()
    code = main(["infer", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp16", "--batch", "1",
                 "--prompt-tokens", "500", "--output-tokens", "500"])
    assert code == 2
    assert "at least 2" in capsys.readouterr().err
    code = main(["infer", "--model", "llama-2-7b", "--gpu", "a100-80gb", "--precision", "fp4", "--batch", "1",
                 "--prompt-tokens", "5", "--output-tokens", "5"])
    assert code == 2
    assert "precision" in capsys.readouterr().err


# --- roofline helpers and sweeps -------------------------------------------------------------------
def test_batch1_fp16_intensity_is_one_flop_per_byte():
    # 2N FLOPs over 2N bytes of FP16 weights (context 0: no KV, no attention)
    assert inf.decode_arithmetic_intensity("llama-2-7b", "fp16", 1, 0) == pytest.approx(1.0)
    assert inf.attainable_flops("a100-80gb", "fp16", 1.0) == pytest.approx(2039e9)
    assert inf.attainable_flops("a100-80gb", "fp16", 1e4) == pytest.approx(312e12)


def test_compute_bound_batch_is_the_ridge_point_without_kv():
    # B* = (W / BW) / (2N / peak) = peak / BW = 312e12 / 2039e9 = 153.0 -> 154 sequences
    b = inf.compute_bound_batch("llama-2-7b", "a100-80gb", "fp16", 0, **FULL)
    assert b == 154
    assert inf.decode_step("llama-2-7b", "a100-80gb", "fp16", 154, 0, **FULL).bound == "compute"
    assert inf.decode_step("llama-2-7b", "a100-80gb", "fp16", 153, 0, **FULL).bound == "memory"


def test_batch_sweep_marks_the_memory_cap():
    cap = inf.max_batch("llama-3.1-8b", "a100-80gb", "bf16", 1000)
    df = inf.batch_sweep("llama-3.1-8b", "a100-80gb", "bf16", [1, cap, cap + 1], 500, 500)
    assert list(df.fits) == [True, True, False]
    assert np.all(np.diff(df.throughput_tokens_per_s) >= 0)


def test_params_only_model_is_still_checked_for_fit():
    # 70e9 x 2 bytes = 140 GB of weights cannot sit on one 24 GB L4
    with pytest.raises(InputError, match="at least"):
        inf.estimate_inference(custom_model(70e9), "l4", "bf16", 1, 100, 100)


def test_attention_flops_and_sliding_window():
    # QK^T and AV: 4 x layers x attended x d_attn
    assert inf.attention_flops_per_token("llama-2-7b", 100) == pytest.approx(4 * 32 * 100 * 4096)
    # Mistral-7B-v0.1 attends to at most its 4,096-token window on every layer
    m = get_model("mistral-7b")
    assert inf.attention_flops_per_token(m, 10_000) == pytest.approx(inf.attention_flops_per_token(m, m.sliding_window))


def test_llama_cpp_on_geforce_computes_at_the_fp16_accumulate_peak():
    # ggml's cuBLAS path accumulates F16 GEMMs in FP16: a GeForce RTX 4090 runs that at 330.3 TFLOP/s dense
    # (Ada whitepaper), twice its FP32-accumulate 165.2; an A100 runs both at 312; vLLM accumulates in FP32
    assert inf.effective_peak_flops("rtx-4090", "fp16", "llama.cpp-cuda") == pytest.approx(330.3e12)
    assert inf.effective_peak_flops("rtx-4090", "gguf-q4_k_m", "llama.cpp-cuda") == pytest.approx(330.3e12)
    assert inf.effective_peak_flops("rtx-4090", "fp16", "vllm") == pytest.approx(165.2e12)
    assert inf.effective_peak_flops("a100-80gb", "fp16", "llama.cpp-cuda") == pytest.approx(312e12)
    # a 512-token F16 prefill of Llama-2-7B: 512 x (2N + 2 x 32 x 512 x 4096) FLOPs at 330.3e12 FLOP/s
    t = inf.prefill("llama-2-7b", "rtx-4090", "fp16", 1, 512, engine="llama.cpp-cuda", **FULL)
    assert t.compute_s == pytest.approx(512 * (2 * N_7B + 2 * 32 * 512 * 4096) / 330.3e12, rel=1e-9)
