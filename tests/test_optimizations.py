"""Optimization techniques: hand-worked values from each formula's source, properties, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from costlib import optimization_costs as oc
from costlib import optimizations as opt
from costlib.book import techniques as tech
from costlib.errors import InputError

# --------------------------------------------------------------------------------------------
# Speculative decoding (Leviathan et al. 2023)
# --------------------------------------------------------------------------------------------


def test_expected_tokens_alpha_08_gamma_4():
    # (1 - 0.8^5) / (1 - 0.8) = (1 - 0.32768) / 0.2 = 3.3616
    assert opt.speculative_expected_tokens(0.8, 4) == pytest.approx(3.3616, abs=1e-12)


@pytest.mark.parametrize(
    "alpha, gamma, tokens, ops",
    [
        (0.6, 2, 1.96, 1.53),   # 0.784 / 0.4 ; 0.4*3/0.784
        (0.7, 3, 2.533, 1.579),
        (0.8, 2, 2.44, 1.230),
        (0.8, 5, 3.689, 1.626),  # paper Table 1: 3.69X speed at 1.63X operations (c = c_hat = 0)
        (0.9, 2, 2.71, 1.107),
        (0.9, 10, 6.862, 1.603),  # paper Table 1: 6.86X at 1.60X
    ],
)
def test_table1_speed_and_operations_at_zero_draft_cost(alpha, gamma, tokens, ops):
    assert opt.speculative_speedup(alpha, gamma, 0.0) == pytest.approx(tokens, abs=2e-3)
    assert opt.speculative_ops_factor(alpha, gamma, 0.0) == pytest.approx(ops, abs=2e-3)


def test_theorem_38_hand_worked_with_draft_cost():
    # alpha 0.75, gamma 7, c 0.02: (1 - 0.75^8) / (0.25 * 1.14) = 0.899887 / 0.285 = 3.1575
    assert opt.speculative_speedup(0.75, 7, 0.02) == pytest.approx(0.8998870849609375 / 0.285, rel=1e-12)


def test_reproduces_paper_table4_expected_column():
    # Leviathan et al. 2023 appendix Table 4, "EXP" column, in Table 2's row order (printed to 0.1).
    printed = [3.2, 3.3, 2.5, 2.3, 2.4, 2.0, 2.4, 2.6, 2.0, 1.9, 1.8, 1.6]
    bt = opt.speculative_backtest()
    assert len(bt) == 12
    assert np.allclose(bt["predicted"].to_numpy(), printed, atol=0.07)
    # the back-test error is predicted / measured - 1
    row = bt.set_index("id").loc["spec-ende-small-t0"]
    assert row["error"] == pytest.approx(row["predicted"] / 3.4 - 1)


def test_corollary_39_gamma_one_is_one_plus_alpha_over_one_plus_c():
    a, c = np.array([0.3, 0.6, 0.9]), np.array([0.1, 0.5, 0.95])
    assert np.allclose(opt.speculative_speedup(a, 1, c), (1 + a) / (1 + c))
    # improvement exists iff alpha > c
    assert list(opt.speculative_speedup(a, 1, c) > 1) == list(a > c)


def test_vectorised_and_monotone():
    alphas = np.linspace(0, 0.95, 20)
    s = opt.speculative_speedup(alphas, 4, 0.05)
    assert s.shape == (20,) and np.all(np.diff(s) > 0)  # more acceptance, more speed
    cs = np.linspace(0, 1, 11)
    assert np.all(np.diff(opt.speculative_speedup(0.8, 4, cs)) < 0)  # dearer draft, less speed
    t = opt.speculative_expected_tokens(alphas[:, None], np.arange(1, 9)[None, :])
    assert np.all(t >= 1) and np.all(t <= np.arange(2, 10)[None, :] + 1e-12)
    assert opt.speculative_expected_tokens(0.0, 5) == 1.0


def test_optimal_gamma():
    # alpha 0.8, c 0.05, gamma 1..9: 1.714, 2.218, 2.567, 2.801, 2.951, 3.039, 3.082, 3.092, 3.078 -> 8
    assert opt.speculative_optimal_gamma(0.8, 0.05) == 8
    assert opt.speculative_speedup(0.8, 8, 0.05) == pytest.approx((1 - 0.8**9) / 0.2 / 1.4)
    g = opt.speculative_optimal_gamma(np.array([0.5, 0.7, 0.8, 0.9, 0.95]), 0.05)
    assert np.all(np.diff(g) >= 0)  # grows with alpha
    gc = opt.speculative_optimal_gamma(0.9, np.array([0.01, 0.05, 0.2, 0.5]))
    assert np.all(np.diff(gc) <= 0)  # shrinks with c
    assert opt.speculative_optimal_gamma(0.8, 0.0, gamma_max=30) == 30  # free drafts: longest allowed


def test_speedup_at_batch_reduces_to_theorem_and_falls_when_compute_bound():
    assert opt.speculative_speedup_at_batch(0.8, 4, 0.05, 1.0) == pytest.approx(opt.speculative_speedup(0.8, 4, 0.05))
    # verifying 5 tokens costs 5 steps: 3.3616 / (5 + 0.2) < 1
    assert opt.speculative_speedup_at_batch(0.8, 4, 0.05, 5.0) == pytest.approx(3.3616 / 5.2)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(alpha=1.0, gamma=4, c=0.1), "alpha"),
        (dict(alpha=-0.1, gamma=4, c=0.1), "alpha"),
        (dict(alpha=0.5, gamma=0, c=0.1), "gamma"),
        (dict(alpha=0.5, gamma=2.5, c=0.1), "gamma"),
        (dict(alpha=0.5, gamma=4, c=-0.1), "c"),
        (dict(alpha=float("nan"), gamma=4, c=0.1), "alpha"),
    ],
)
def test_speculative_bad_input_names_parameter(kwargs, name):
    with pytest.raises(InputError, match=rf"^{name}="):
        opt.speculative_speedup(**kwargs)


def test_speculative_bad_input_in_arrays():
    with pytest.raises(InputError, match=r"alpha=1.2"):
        opt.speculative_expected_tokens(np.array([0.5, 1.2]), 3)
    with pytest.raises(InputError, match=r"verify_time_ratio=0.5"):
        opt.speculative_speedup_at_batch(0.5, 3, 0.1, 0.5)


# --------------------------------------------------------------------------------------------
# KV cache
# --------------------------------------------------------------------------------------------


def test_kv_cache_token_forwards_hand_worked():
    # with a cache: 1500 + 300 - 1 = 1799; without: 300*1500 + 300*299/2 = 494,850
    assert opt.kv_cache_token_forwards(1500, 300, cached=True) == 1799
    assert opt.kv_cache_token_forwards(1500, 300, cached=False) == 494_850
    assert opt.kv_cache_compute_ratio(1500, 300) == pytest.approx(494_850 / 1799)
    assert opt.kv_cache_compute_ratio(100, 1) == 1.0  # one token: nothing to reuse
    r = [opt.kv_cache_compute_ratio(100, n) for n in (1, 10, 100, 1000)]
    assert r == sorted(r)  # grows with the reply length


def test_kv_cache_flops_cached_is_sum_of_positions():
    from costlib.inference import flops_per_token

    cached = opt.kv_cache_flops("qwen2.5-0.5b", 10, 3, cached=True)
    expected = sum(float(flops_per_token("qwen2.5-0.5b", c)) for c in range(1, 13))
    assert cached == pytest.approx(expected, rel=1e-12)
    assert opt.kv_cache_flops("qwen2.5-0.5b", 10, 3, cached=False) > cached
    with pytest.raises(InputError, match="output_tokens=0"):
        opt.kv_cache_token_forwards(10, 0)


# --------------------------------------------------------------------------------------------
# FlashAttention
# --------------------------------------------------------------------------------------------


def test_attention_memory_quadratic_vs_linear():
    assert opt.attention_matrix_bytes(1024, 32) == 32 * 1024**2 * 2
    assert opt.flash_attention_extra_bytes(1024, 32) == 32 * 1024 * 4
    assert opt.attention_matrix_bytes(2048, 32) == 4 * opt.attention_matrix_bytes(1024, 32)
    assert opt.flash_attention_extra_bytes(2048, 32) == 2 * opt.flash_attention_extra_bytes(1024, 32)


def test_attention_hbm_bytes_hand_worked():
    # standard: (4*1024*64 + 4*1024^2) * 2 bytes
    assert opt.attention_hbm_bytes(1024, 64, 1, flash=False) == (4 * 1024 * 64 + 4 * 1024**2) * 2
    # flash: M = 196608 / 2 = 98304 values, B_c = ceil(98304 / 256) = 384, T_c = ceil(1024 / 384) = 3
    # 2*1024*64 + 3*(3*1024*64 + 2*1024) = 727,040 values
    assert opt.attention_hbm_bytes(1024, 64, 1, flash=True) == 727_040 * 2
    n = np.array([512, 2048, 8192])
    assert np.all(opt.attention_hbm_bytes(n, 128, 32, flash=True) < opt.attention_hbm_bytes(n, 128, 32, flash=False))


def test_flash_attention_backtest_underestimates_but_orders_right():
    bt = opt.flash_attention_training_backtest()
    assert len(bt) == 4
    # the minimal-traffic model is a lower bound on the slowdown without FlashAttention
    assert np.all(bt["predicted_speedup"] <= bt["measured_speedup"])
    assert np.all(bt["predicted_speedup"] > 1)
    k = opt.unfused_attention_multiplier()
    assert 1 <= k.low <= k.mid <= k.high


def test_amdahl():
    assert opt.amdahl_speedup(0.5, 2) == pytest.approx(4 / 3)
    assert opt.amdahl_speedup(0.0, 10) == 1.0
    with pytest.raises(InputError, match="share=1.5"):
        opt.amdahl_speedup(1.5, 2)


# --------------------------------------------------------------------------------------------
# Batching, token reduction, distillation, batch APIs
# --------------------------------------------------------------------------------------------


def test_static_batching_utilization_hand_worked():
    assert opt.harmonic_number(4) == pytest.approx(25 / 12)
    assert opt.static_batch_utilization(1) == 1.0
    assert opt.static_batch_utilization(2) == pytest.approx(1 / 1.5)
    # uniform on [0, 600], B = 3: mean 300, E[max] = 600 * 3/4 = 450
    assert opt.static_batch_utilization(3, "uniform", min_tokens=0, max_tokens=600) == pytest.approx(2 / 3)
    assert opt.continuous_batching_gain(4) == pytest.approx(25 / 12)
    u = opt.static_batch_utilization(np.array([1, 2, 8, 64]))
    assert np.all(np.diff(u) < 0)  # bigger static batches waste more
    with pytest.raises(InputError, match="batch_size=0"):
        opt.static_batch_utilization(0)
    with pytest.raises(InputError, match="min_tokens=700"):
        opt.static_batch_utilization(3, "uniform", min_tokens=700, max_tokens=600)


def test_kept_prompt_tokens():
    assert opt.kept_prompt_tokens(1500, ratio=2) == 750
    assert opt.kept_prompt_tokens(1500, "token_pruning", pruned_share=0.3) == pytest.approx(1050)
    assert opt.kept_prompt_tokens(1500, "rag", retrieved_chunks=5, chunk_tokens=200, query_tokens=50) == 1050
    assert opt.kept_prompt_tokens(500, "rag", retrieved_chunks=5, chunk_tokens=200) == 500  # capped
    with pytest.raises(InputError, match="ratio=0.5"):
        opt.kept_prompt_tokens(1500, ratio=0.5)
    with pytest.raises(InputError, match="pruned_share=1.0"):
        opt.kept_prompt_tokens(1500, "token_pruning", pruned_share=1.0)


def test_token_reduction_on_api_prices():
    r = opt.token_reduction_api(1500, 300, "gpt-4o-mini", ratio=2)
    # gpt-4o-mini 0.15 / 0.60 $ per 1M: (1500*0.15 + 300*0.6)/1e6 = 405e-6 ; after (750*0.15 + 180)/1e6 = 292.5e-6
    assert r.usd_before == pytest.approx(405e-6)
    assert r.usd_after == pytest.approx(292.5e-6)
    assert r.tokens_removed == 750 and r.input_share_removed == 0.5
    assert r.usd_saving_share == pytest.approx(1 - 292.5 / 405)


def test_distillation_break_even():
    assert opt.distillation_break_even(1000, 0.01, 0.002) == pytest.approx(125_000)
    d = opt.Distillation(600, 400, 0.01, 0.002)
    assert d.upfront_usd == 1000 and d.break_even_requests == pytest.approx(125_000)
    be = opt.distillation_break_even(1000, np.array([0.01, 0.02]), 0.002)
    assert be[1] < be[0]
    with pytest.raises(InputError, match="student_usd_per_request=0.01"):
        opt.distillation_break_even(1000, 0.01, 0.01)
    assert opt.teacher_generation_usd(10_000, 500, 10.0) == pytest.approx(50.0)


def test_batch_api_and_saving_share():
    assert opt.batch_api_cost(10.0) == 5.0  # OpenAI's published 50% discount
    assert opt.batch_api_cost(10.0, discount=0.25) == 7.5
    assert opt.saving_share(4, 1) == 0.75
    with pytest.raises(InputError, match="discount=1.0"):
        opt.batch_api_cost(10.0, discount=1.0)


# --------------------------------------------------------------------------------------------
# Evidence catalog
# --------------------------------------------------------------------------------------------


def test_evidence_rows_are_sourced_and_parse():
    ev = opt.technique_evidence()
    assert ev["source"].str.startswith("http").all()
    assert (ev["low"].isna() | (ev["low"] <= ev["value"])).all()
    assert (ev["high"].isna() | (ev["high"] >= ev["value"])).all()
    spec = opt.evidence_row("spec-ende-small-t0")["inputs"]
    assert spec["alpha"] == 0.75 and spec["gamma"] == 7 and spec["c"] == 0.02
    with pytest.raises(InputError, match="technique="):
        opt.technique_evidence("telepathy")


def test_quantization_quality_bands():
    q4, q8 = opt.quantization_quality("int4"), opt.quantization_quality("int8")
    assert 1.0 <= q8.low <= q8.high < q4.low <= q4.high
    assert opt.quantization_quality("fp8") is None  # no perplexity figure for FP8 in the catalog ...
    acc = opt.quantization_quality("fp8", "accuracy_ratio")  # ... but model-card accuracy ratios
    assert 0.99 < acc.low <= acc.mid <= acc.high < 1.0
    with pytest.raises(InputError, match="metric='bleu'"):
        opt.quantization_quality("fp8", "bleu")


# --------------------------------------------------------------------------------------------
# Techniques computed through the inference, memory and training modules
# --------------------------------------------------------------------------------------------


def test_quantization_effect_bytes_and_compute_paths():
    q8 = oc.quantization_effect("qwen2.5-7b", "a100-80gb", "int8", batch=16)
    q4 = oc.quantization_effect("qwen2.5-7b", "a100-80gb", "int4", batch=16)
    assert q4.weights_gb < q8.weights_gb < q8.baseline_weights_gb
    assert q4.decode_speedup > q8.decode_speedup > 1  # decode follows the bytes
    assert q8.prefill_speedup == pytest.approx(624 / 312, rel=0.05)  # A100 INT8 tensor cores, compute-bound prefill
    assert 0.95 <= q4.prefill_speedup <= 1.1  # INT4 is weight-only: the 16-bit compute path
    with pytest.raises(InputError, match="precision='int3'"):
        oc.quantization_effect("qwen2.5-7b", "a100-80gb", "int3")


def test_speculative_on_gpu_batch_one_matches_theorem():
    r1 = oc.speculative_on_gpu("qwen2.5-7b", "qwen2.5-0.5b", "a100-80gb", "bf16", 1, 1650, 0.7, 4)
    assert r1["verify_time_ratio"] == pytest.approx(1.0)
    assert r1["speedup"] == pytest.approx(r1["speedup_theorem_3_8"])
    assert 0 < r1["c"] < 1
    big = oc.speculative_on_gpu("qwen2.5-7b", "qwen2.5-0.5b", "a100-80gb", "bf16", 256, 1650, 0.7, 4)
    assert big["verify_time_ratio"] > 1 and big["speedup"] < r1["speedup"]


def test_kv_cache_time_without_cache_is_slower():
    with_cache = oc.kv_cache_time_s("qwen2.5-0.5b", "a100-80gb", "bf16", 200, 50, cached=True)
    without = oc.kv_cache_time_s("qwen2.5-0.5b", "a100-80gb", "bf16", 200, 50, cached=False)
    assert without > with_cache > 0


def test_lora_saves_about_a_third_of_compute_not_90_percent():
    df = oc.finetune_comparison("qwen2.5-7b", 10e6, "a100-80gb").set_index("method")
    # 4N + 6A against 6N: just under one third (the seed's "90-98%" is not a compute saving)
    assert 0.30 < df.loc["lora", "flops_reduction"] < 1 / 3
    assert df.loc["lora", "trainable_params"] < 0.01 * df.loc["full", "trainable_params"]
    assert df.loc["qlora", "memory_gb_per_gpu"] < df.loc["lora", "memory_gb_per_gpu"]
    assert df.loc["qlora", "gpu_hours"] >= df.loc["lora", "gpu_hours"]  # dequantisation costs time


def test_waterfall_offline_step_and_overlap():
    base = oc.ServingSetup("qwen2.5-7b", "a100-80gb", flash=False, online_utilization=0.5,
                            static_utilization=float(opt.static_batch_utilization(16)), price_usd_per_gpu_hour=2.0)
    df = oc.stack_waterfall(base, [("continuous batching", dict(static_utilization=1.0)),
                                    ("offline", dict(online_utilization=1.0))])
    assert df.loc[2, "step_saving"] == pytest.approx(0.5)  # utilisation 0.5 -> 1 halves the bill
    assert np.all(np.diff(df["cumulative_saving"]) >= 0)
    c = oc.serving_cost(base)
    assert c["usd_per_request"] == pytest.approx(c["gpu_s_per_request"] * 2.0 / 3600 / 0.5)


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def test_cli_speculative_json(capsys):
    import json

    from costlib.cli import main

    assert main(["speculative", "--alpha", "0.8", "--gamma", "4", "--c", "0.05", "--json"]) in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["expected_tokens_per_call"] == pytest.approx(3.3616)
    assert out["speedup"] == pytest.approx(3.3616 / 1.2)
    assert out["optimal_gamma"] == 8


def test_cli_bad_alpha_exits_2(capsys):
    from costlib.cli import main

    assert main(["speculative", "--alpha", "1", "--gamma", "4"]) == 2
    err = capsys.readouterr().err
    assert "alpha=1.0" in err and err.count("\n") == 1


def test_technique_table_covers_every_seed_technique():
    tt = tech.technique_table().set_index("technique")
    seeds = ["LoRA / QLoRA", "Quantization INT8", "Quantization INT4", "FlashAttention", "KV cache", "KV cache reuse (prefix caching)",
             "Speculative decoding", "Distillation", "Token pruning", "Prompt compression", "RAG (to reduce tokens)",
             "Prompt routing / tiered usage", "Batch inference (offline)", "CPU inference", "Edge deployment", "Task-specific fine-tuning"]
    assert set(seeds) <= set(tt.index)
    # every technique has a computed effect on some phase, a one-off cost, or a stated reason in its basis
    for t in seeds:
        row = tt.loc[t]
        has_number = not (np.isnan(row["training_change"]) and np.isnan(row["inference_change"]) and np.isnan(row["one_off_usd"]))
        assert has_number or "cheaper only below" in row["basis"]
        assert row["evidence"]
    assert 0.30 < tt.loc["LoRA / QLoRA", "training_change"] < 1 / 3
    assert tt.loc["Distillation", "one_off_usd"] > 0 and 0 < tt.loc["Distillation", "inference_change"] < 1
    assert tt.loc["Batch inference (offline)", "inference_change"] == pytest.approx(0.5)


def test_reference_waterfall_structure():
    wf = tech.reference_waterfall()
    assert list(wf["step"])[0] == "baseline" and list(wf["step"])[-1] == "offline batch"
    assert np.all(np.diff(wf["usd_per_1k_requests"]) <= 0)  # every step here saves
    assert wf["step_saving"].iloc[-1] == pytest.approx(1 - tech.REFERENCE_ONLINE_UTILIZATION)
    # FlashAttention only adds prefill time when switched off
    on = oc.serving_cost(tech.reference_setup())
    off = oc.serving_cost(tech.reference_setup(flash=False))
    assert off["prefill_s"] > on["prefill_s"] and off["decode_s"] == pytest.approx(on["decode_s"])
    lo = oc.flash_attention_prefill_extra_s(tech.REFERENCE_MODEL, tech.REFERENCE_GPU, 1500, 16, multiplier=1.0)
    assert oc.flash_attention_prefill_extra_s(tech.REFERENCE_MODEL, tech.REFERENCE_GPU, 1500, 16, multiplier=2.0) == pytest.approx(2 * lo)


def test_speculative_summary_hand_worked():
    # alpha 0.8, gamma 4, c 0.05: E = (1 - 0.8^5)/0.2 = 3.3616; S = 3.3616 / 1.2 = 2.80133;
    # ops = 0.2 * (4*0.05 + 5) / (1 - 0.8^5) = 1.04/0.67232 = 1.54688
    s = opt.speculative_summary(0.8, 4, 0.05)
    assert s["tokens_per_call"] == pytest.approx(3.3616)
    assert s["speedup"] == pytest.approx(3.3616 / 1.2)
    assert s["ops_factor"] == pytest.approx(1.04 / 0.67232)
    assert isinstance(s["best_gamma"], int) and s["best_gamma"] >= 1
    # the best gamma is at least as good as gamma 4 and its speed-up is theorem 3.8 at that gamma
    assert s["best_speedup"] >= s["speedup"]
    assert s["best_speedup"] == pytest.approx(float(opt.speculative_speedup(0.8, s["best_gamma"], 0.05)))
    assert all(isinstance(v, (int, float)) for v in s.values())


def test_speculative_summary_bad_input_names_parameter():
    with pytest.raises(InputError, match="alpha"):
        opt.speculative_summary(1.0, 4, 0.05)
    with pytest.raises(InputError, match="gamma"):
        opt.speculative_summary(0.8, 0, 0.05)
