"""Training and fine-tuning: hand-worked cases, the calibrated MFU band, properties and bad input."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costlib import finetune as ft
from costlib import training as tr
from costlib.cli import main
from costlib.errors import CatalogError, InputError, UnknownIdError
from costlib.uncertainty import Band

A100_PEAK = 312e12  # dense BF16, NVIDIA A100 datasheet
LLAMA2_7B_HOURS = 184_320  # Llama 2 paper, Table 2


# --- hand-worked cases ------------------------------------------------------------------------
def test_llama2_7b_flops_by_hand():
    # 6 x 6.74e9 x 2e12 = 8.088e22
    assert tr.training_flops(6.74e9, 2e12) == pytest.approx(8.088e22, rel=1e-12)


def test_recompute_is_eight_n_d():
    assert tr.training_flops(1e9, 1e12, recompute=True) == pytest.approx(8e21)


def test_attention_term_is_added_per_token_and_scaled_by_recompute():
    assert tr.training_flops(1e9, 1e12, attention_flops=1e8) == pytest.approx(6e21 + 1e20)
    assert tr.training_flops(1e9, 1e12, attention_flops=1e8, recompute=True) == pytest.approx(8e21 + 1e20 * 8 / 6)


def test_llama2_7b_effective_mfu_is_39_percent():
    # 8.088e22 / (184320 h x 3600 s x 312e12) = 0.3907 (with 6.738e9 parameters: 0.3906)
    by_hand = 6 * 6.74e9 * 2e12 / (LLAMA2_7B_HOURS * 3600 * A100_PEAK)
    assert by_hand == pytest.approx(0.3907, abs=5e-4)
    assert tr.effective_mfu("llama2-7b") == pytest.approx(0.3906, abs=5e-4)


def test_attention_flops_llama2_7b_by_hand():
    # causal mean context (4096 + 1) / 2 keys; QK^T and A.V each 2 x keys x d_attn per layer:
    # forward 4 x 32 layers x 2048.5 x 4096; training x 3
    expected = 3 * 4 * 32 * (4096 + 1) / 2 * 4096
    assert tr.attention_training_flops_per_token("llama-2-7b", 4096) == pytest.approx(expected)
    # about 8 % of 6N at 4K context for a 7B model (causal; 16 % if the mask were ignored)
    assert expected / (6 * 6.74e9) == pytest.approx(0.0797, abs=1e-3)


def test_attention_flops_agree_with_inference_count():
    # One forward token attending to the causal mean context costs what inference counts for it.
    from costlib import inference

    per_token_forward = inference.attention_flops_per_token("llama-2-7b", (4096 + 1) / 2)
    assert tr.attention_training_flops_per_token("llama-2-7b", 4096) == pytest.approx(3 * per_token_forward)


def test_attention_sliding_window_caps_keys():
    # Mistral 7B: window 4096 on every layer; at 8192 tokens the mean is (4096*4097/2 + 4096*4096)/8192
    mean = (4096 * 4097 / 2 + 4096 * 4096) / 8192
    expected = 3 * 4 * 32 * mean * 32 * 128
    assert tr.attention_training_flops_per_token("mistral-7b", 8192) == pytest.approx(expected)


def test_chinchilla_twenty_tokens_per_parameter():
    assert tr.chinchilla_tokens(70e9) == pytest.approx(1.4e12)  # Chinchilla itself: 70B on 1.4T
    np.testing.assert_allclose(tr.chinchilla_tokens(np.array([1e9, 7e9])), [2e10, 1.4e11])


def test_gpu_hours_pinned_mfu_by_hand():
    # 8.088e22 / (312e12 x 0.39 x 3600) = 184,641 h
    band = tr.gpu_hours(8.088e22, "a100-80gb", mfu=0.39)
    assert band.low == band.mid == band.high == pytest.approx(8.088e22 / (312e12 * 0.39 * 3600))


def test_done_when_llama2_7b_band_contains_reported_hours():
    est = tr.estimate_training(6.74e9, 2e12, "a100-80gb")
    assert est.gpu_hours.contains(LLAMA2_7B_HOURS)
    assert abs(est.gpu_hours.mid / LLAMA2_7B_HOURS - 1) <= 0.15


def test_energy_and_co2_by_hand():
    est = tr.estimate_training(1e9, 1e12, "h100-sxm", mfu=0.5, pue=1.2, grid_kg_per_kwh=0.4, price_usd_per_gpu_hour=2.0, gpus=8)
    hours = 6e21 / (989.5e12 * 0.5 * 3600)
    assert est.gpu_hours.mid == pytest.approx(hours)
    assert est.energy_kwh.mid == pytest.approx(hours * 700 * 1.2 / 1000)  # TDP 700 W
    assert est.co2_kg.mid == pytest.approx(hours * 700 * 1.2 / 1000 * 0.4)
    assert est.cost_usd.mid == pytest.approx(hours * 2.0)
    assert est.wall_days.mid == pytest.approx(hours / 8 / 24)


def test_moe_uses_active_parameters():
    dense = tr.estimate_training(37e9, 1e12, "h100-sxm", mfu=0.4)
    moe = tr.estimate_training(671e9, 1e12, "h100-sxm", mfu=0.4, active_params=37e9)
    assert moe.flops == pytest.approx(dense.flops)
    run = tr.get_run("deepseek-v3")
    assert run.flops == pytest.approx(6 * 37e9 * 14.8e12)


# --- the calibration ---------------------------------------------------------------------------
def test_published_runs_catalog_is_valid_and_large_enough():
    runs = tr.load_published_runs()
    fit = tr.fit_runs()
    assert len([r for r in fit if r.kind == "dense"]) >= 12
    assert all(r.source.startswith("http") for r in runs)
    excluded = {r.id: r.exclude_reason for r in runs if not r.use_in_fit}
    for trap in ("llama3-8b", "llama3-70b", "llama3.2-1b", "llama3.2-3b", "opt-175b"):
        assert excluded[trap]


def test_mfu_band_is_median_and_order_statistic_interval():
    values = np.sort([tr.effective_mfu(r) for r in tr.fit_runs()])
    n = len(values)
    k = tr.prediction_interval_rank(n)
    # k-th smallest and k-th largest bracket a new run with probability (n + 1 - 2k) / (n + 1) >= 0.8
    assert (n + 1 - 2 * k) / (n + 1) >= 0.8 > (n + 1 - 2 * (k + 1)) / (n + 1)
    band = tr.mfu_band()
    assert band.mid == pytest.approx(np.median(values))
    assert band.low == pytest.approx(values[k - 1])
    assert band.high == pytest.approx(values[n - k])
    assert 0 < band.low <= band.mid <= band.high < 1


@pytest.mark.parametrize("n, k", [(9, 1), (10, 1), (14, 1), (22, 2), (25, 2), (29, 3), (100, 10)])
def test_prediction_interval_rank_by_hand(n, k):
    # largest k with (n + 1 - 2k) / (n + 1) >= 0.8, i.e. k <= (n + 1) / 10
    assert tr.prediction_interval_rank(n) == k


def test_backtest_meets_the_chapter_goals():
    fit = tr.backtest().query("use_in_fit")
    summary = tr.backtest_summary(fit)
    assert summary["median_abs_error"] <= 0.20
    assert summary["share_inside"] >= 0.80
    # per slice, leave one out: median error <= 20 % on every slice with >= 5 runs, never under-covering by > 10 points
    table = tr.slice_summary()
    assert set(table["slice"]) >= {"A100-class (Ampere)", "H100/H800-class (Hopper)", "mixture of experts (Hopper runs)"}
    for row in table.itertuples():
        if row.runs >= 5:
            assert row.loo_coverage >= row.nominal_coverage - 0.10, row.slice
            # not over-wide either: against the coverage the order-statistic bands claim ((n + 1 - 2k) / (n + 1),
            # 83 % for the 11 Hopper runs each leave-one-out band is drawn from), which is >= the 80 % goal
            assert row.target_coverage <= row.nominal_coverage
            assert row.loo_coverage <= row.nominal_coverage + 0.10, row.slice
    rows = table.set_index("slice")
    for name in ("A100-class (Ampere)", "H100/H800-class (Hopper)", "mixture of experts (Hopper runs)"):
        assert rows.loc[name, "loo_median_abs_error"] <= 0.20, name
    # the Hopper slice meets the 20 % goal with its size term (it missed it at 24 % with one band per slice)
    assert rows.loc["H100/H800-class (Hopper)", "runs"] >= 12
    assert rows.loc["H100/H800-class (Hopper)", "model"] == "log-params"
    assert rows.loc["A100-class (Ampere)", "model"] == "median"


def test_slice_backtest_matches_backtest_leave_one_out():
    a = tr.slice_backtest().set_index("id")
    b = tr.backtest(leave_one_out=True).set_index("id")
    for rid in a.index:
        assert a.loc[rid, "predicted_mid"] == pytest.approx(b.loc[rid, "predicted_mid"])


def test_h100_runs_get_the_hopper_band_not_the_pooled_one():
    h = tr.mfu_band_for("h100-sxm")
    vals = [tr.effective_mfu(r) for r in tr.fit_runs() if r.gpu_id == "h100-sxm"]
    assert len(vals) >= 5 and h.mid == pytest.approx(np.median(vals))
    assert tr.mfu_model_info("h100-sxm")["slice"].startswith("H100")
    assert tr.mfu_model_info("b200")["slice"].startswith("all dense runs pooled")


def test_small_sample_band_is_log_t_with_pooled_spread_by_hand():
    vals = np.array([0.262266, 0.345787, 0.375421, 0.302320, 0.307996])
    sd, df = 0.2, 23
    band, method = tr.prediction_band(vals, 0.8, (sd, df))
    half = 1.310 * sd * np.sqrt(1 + 1 / 5)  # t_{0.9, df > 18} taken at df = 30
    mu = np.log(vals).mean()
    assert band.low == pytest.approx(np.exp(mu - half)) and band.high == pytest.approx(np.exp(mu + half))
    assert band.mid == pytest.approx(np.median(vals)) and "log-t" in method
    # enough runs: the order-statistic interval
    big, method = tr.prediction_band(np.linspace(0.2, 0.5, 20), 0.8)
    assert "order statistics" in method and big.low == pytest.approx(np.linspace(0.2, 0.5, 20)[1])


def _hopper_size_line():
    """ln MFU = a + b ln N over the dense Hopper fit runs, by the closed-form least-squares formulas."""
    runs = [r for r in tr.fit_runs() if r.gpu_id == "h100-sxm"]
    x = np.log([r.compute_params for r in runs])
    y = np.log([tr.effective_mfu(r) for r in runs])
    b = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    return y.mean() - b * x.mean(), b, x


def test_moe_factor_by_hand():
    # DeepSeek-V2: 6 x 21e9 x 8.1e12 / (172.8e3 x 8.1 x 3600 x 989.5e12); factor = its MFU / the dense Hopper MFU the
    # slice's size term predicts at its 21B active parameters
    v2 = 6 * 21e9 / (172.8e3 * 3600 * 989.5e12 / 1e12)
    assert tr.effective_mfu("deepseek-v2") == pytest.approx(v2, rel=1e-9)
    a, b, x = _hopper_size_line()

    def dense_at(n):
        return np.exp(a + b * np.clip(np.log(n), x.min(), x.max()))

    factors = sorted(tr.effective_mfu(r) / dense_at(r.compute_params) for r in tr.fit_runs("moe"))
    f = tr.moe_factor()
    assert f.mid == pytest.approx(np.median(factors))
    # 5 runs: (5 - 1) / (5 + 1) < 0.8, so the log-t interval exp(mean ± t_{0.9, 4} s sqrt(1 + 1/5)), t = 1.533
    lf = np.log(factors)
    half = 1.533 * np.std(lf, ddof=1) * np.sqrt(1 + 1 / 5)
    assert f.low == pytest.approx(np.exp(lf.mean() - half)) and f.high == pytest.approx(np.exp(lf.mean() + half))
    assert f.low < min(factors) and f.low < f.mid < f.high  # log-t from 5 runs: DeepSeek-V3 (FP8) sits at its top edge
    # Phi-3.5-MoE (model card): 6 x 6.6e9 active x 4.9e12 tokens / (512 GPUs x 23 days x 24 h x 3600 s x 989.5e12)
    assert tr.effective_mfu("phi-3.5-moe") == pytest.approx(6 * 6.6e9 * 4.9e12 / (512 * 23 * 24 * 3600 * 989.5e12), rel=1e-9)
    est = tr.estimate_training(236e9, 8.1e12, "h100-sxm", active_params=21e9)
    assert est.mfu.mid == pytest.approx(f.mid * dense_at(21e9))
    assert est.assumptions["mfu"]["model"]["moe_runs"] == 5


def test_every_fit_run_is_physically_possible():
    for r in tr.fit_runs():
        assert 0.05 < tr.effective_mfu(r) < 1, r.id


def test_catalog_rejects_an_excluded_run_without_reason(tmp_path):
    from costlib.catalog import load_csv

    src = (tr.__file__.rsplit("/", 1)[0]) + "/data/published_runs.csv"
    text = open(src).read().replace("below the 0.5B-parameter floor of the fit: matrices too small to fill an A100's tensor cores", "", 1)
    bad = tmp_path / "published_runs.csv"
    bad.write_text(text)
    with pytest.raises(CatalogError, match="exclude_reason"):
        load_csv(bad, tr.RUNS_SCHEMA)


def test_implied_mfu_of_seed_claim_exceeds_one():
    # seed 000: 7B on 1T tokens (4.2e22 FLOPs) on 32 A100 in 2 weeks -> 2.3 x the A100's peak
    mfu = tr.implied_mfu(4.2e22, "a100-80gb", 32 * 14 * 24)
    assert mfu == pytest.approx(4.2e22 / (32 * 14 * 24 * 3600 * 312e12))
    assert mfu > 2


# --- properties ---------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    n=st.floats(1e8, 1e12), d=st.floats(1e9, 1e14), k=st.floats(1.01, 10.0), mfu=st.floats(0.05, 0.9)
)
def test_monotone_in_params_tokens_and_inverse_in_mfu(n, d, k, mfu):
    base = tr.estimate_training(n, d, "a100-80gb", mfu=mfu, price_usd_per_gpu_hour=2.0)
    more_n = tr.estimate_training(n * k, d, "a100-80gb", mfu=mfu, price_usd_per_gpu_hour=2.0)
    more_d = tr.estimate_training(n, d * k, "a100-80gb", mfu=mfu, price_usd_per_gpu_hour=2.0)
    faster = tr.estimate_training(n, d, "a100-80gb", mfu=min(1.0, mfu * k), price_usd_per_gpu_hour=2.0)
    assert more_n.gpu_hours.mid > base.gpu_hours.mid and more_d.gpu_hours.mid > base.gpu_hours.mid
    assert faster.gpu_hours.mid < base.gpu_hours.mid
    assert base.gpu_hours.mid * mfu == pytest.approx(faster.gpu_hours.mid * min(1.0, mfu * k), rel=1e-9)
    for b in (base.gpu_hours, base.cost_usd, base.energy_kwh, base.co2_kg):
        assert b.low <= b.mid <= b.high


def test_bands_ordered_with_calibrated_mfu_and_catalog_price():
    est = tr.estimate_training(7e9, 1e12, "h100-sxm", gpus=64)
    for b in (est.gpu_hours, est.cost_usd, est.energy_kwh, est.co2_kg, est.wall_days):
        assert b.low < b.mid < b.high


def test_sweep_with_arrays():
    n = np.array([1e9, 3e9, 7e9])
    flops = tr.training_flops(n, 1e12)
    band = tr.gpu_hours(flops, "a100-80gb")
    assert np.all(np.diff(band.mid) > 0)
    assert np.all(band.low <= band.mid) and np.all(band.mid <= band.high)


def test_newer_gpu_needs_fewer_hours():
    f = tr.training_flops(7e9, 1e12)
    assert tr.gpu_hours(f, "b200").mid < tr.gpu_hours(f, "h100-sxm").mid < tr.gpu_hours(f, "a100-80gb").mid


# --- fine-tuning --------------------------------------------------------------------------------
def test_lora_saves_a_third_of_compute_per_token():
    full = tr.finetune_flops_per_token(7e9, "full")
    lora = tr.finetune_flops_per_token(7e9, "lora", adapter_params=0)
    assert full == pytest.approx(6 * 7e9)
    assert lora == pytest.approx(4 * 7e9)
    assert 1 - lora / full == pytest.approx(1 / 3)
    assert tr.finetune_flops_per_token(7e9, "lora", adapter_params=4e7) == pytest.approx(4 * 7e9 + 6 * 4e7)


def test_qlora_costs_more_time_than_lora_same_flops():
    lora = ft.estimate_finetune("llama-2-7b", "lora", 1e7, "a100-80gb", mfu=0.4)
    qlora = ft.estimate_finetune("llama-2-7b", "qlora", 1e7, "a100-80gb", mfu=0.4)
    assert qlora.flops == pytest.approx(lora.flops)
    extra_h = tr.qlora_dequant_seconds(qlora_params := tr.get_model("llama-2-7b").total_params, 1e7, "a100-80gb") / 3600
    # (1e7 / 2048) micro-batches x 3 passes x N x 2.5 bytes / 2039e9 B/s
    assert extra_h == pytest.approx(1e7 / 2048 * 3 * qlora_params * 2.5 / 2039e9 / 3600)
    assert qlora.gpu_hours.mid == pytest.approx(lora.gpu_hours.mid + extra_h)
    assert qlora.memory_gb < lora.memory_gb


def test_qlora_65b_fits_on_48_gb_full_16bit_does_not():
    from costlib.memory import training_memory

    b, s = tr.QLORA_PAPER_MICROBATCH
    q = training_memory(tr.LLAMA_65B, "qlora", "bf16", batch=b, seq_len=s, recompute="full", lora_rank=64)
    full = training_memory(tr.LLAMA_65B, "full", "bf16", batch=b, seq_len=s, recompute="full")
    assert q.total_gb < tr.QLORA_65B_GPU_MEMORY_GB
    assert full.total_gb > 780  # paper: > 780 GB for a 16-bit full fine-tune
    assert tr.LLAMA_65B.total_params == pytest.approx(65.2e9, rel=0.005)


def test_finetune_fits_and_fits_on():
    est = ft.estimate_finetune("llama-2-7b", "qlora", 1e7, "t4")
    assert est.fits and "t4" in est.fits_on
    full = ft.estimate_finetune("llama-2-7b", "full", 1e7, "a100-80gb")
    assert not full.fits and "a100-80gb" not in full.fits_on


# --- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mfu", [0, 1.2, -0.1, float("nan")])
def test_bad_mfu(mfu):
    with pytest.raises(InputError, match="mfu="):
        tr.gpu_hours(1e21, "a100-80gb", mfu=mfu)


@pytest.mark.parametrize("tokens", [-1e9, 0, float("nan")])
def test_bad_tokens(tokens):
    with pytest.raises(InputError, match="tokens="):
        tr.estimate_training(7e9, tokens, "a100-80gb")


def test_unknown_gpu_lists_known_ids():
    with pytest.raises(UnknownIdError, match="gpu='a200'.*a100-80gb"):
        tr.estimate_training(7e9, 1e12, "a200")


def test_negative_price():
    with pytest.raises(InputError, match="price_usd_per_gpu_hour="):
        tr.estimate_training(7e9, 1e12, "a100-80gb", price_usd_per_gpu_hour=-1)


def test_other_bad_input():
    with pytest.raises(InputError, match="active_params="):
        tr.estimate_training(7e9, 1e12, "a100-80gb", active_params=8e9)
    with pytest.raises(InputError, match="pue="):
        tr.estimate_training(7e9, 1e12, "a100-80gb", pue=0.9)
    with pytest.raises(InputError, match="gpus="):
        tr.estimate_training(7e9, 1e12, "a100-80gb", gpus=2.5)
    with pytest.raises(InputError, match="method="):
        ft.estimate_finetune("llama-2-7b", "adapter", 1e7, "a100-80gb")


# --- CLI ------------------------------------------------------------------------------------------
def test_cli_done_when(capsys):
    assert main(["train", "--params", "6.74e9", "--tokens", "2e12", "--gpu", "a100-80gb", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["flops"] == pytest.approx(8.088e22)
    hours = out["gpu_hours"]
    assert hours["low"] <= LLAMA2_7B_HOURS <= hours["high"]
    assert abs(hours["mid"] / LLAMA2_7B_HOURS - 1) <= 0.15
    for key in ("cost_usd", "energy_kwh", "co2_kg"):
        assert set(out[key]) == {"low", "mid", "high"}
    assert "wall_days" not in out
    a = out["assumptions"]
    assert {"mfu", "price", "power_w", "pue"} <= set(a)


def test_cli_suffixes_gpus_and_pinned_mfu(capsys):
    assert main(["train", "--params", "7B", "--tokens", "1T", "--gpu", "a100-80gb", "--gpus", "32", "--mfu", "0.4", "--price", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    hours = 6 * 7e9 * 1e12 / (312e12 * 0.4 * 3600)
    assert out["gpu_hours"]["low"] == out["gpu_hours"]["mid"] == out["gpu_hours"]["high"] == pytest.approx(hours, rel=1e-3)
    assert out["wall_days"]["mid"] == pytest.approx(hours / 32 / 24, rel=1e-3)
    assert out["cost_usd"]["mid"] == pytest.approx(hours * 2, rel=1e-3)


def test_cli_model_uses_active_parameters(capsys):
    assert main(["train", "--model", "mixtral-8x7b", "--tokens", "1T", "--gpu", "h100-sxm", "--mfu", "0.4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["flops"] == pytest.approx(6 * tr.get_model("mixtral-8x7b").active_params * 1e12, rel=1e-3)


def test_cli_finetune(capsys):
    assert main(["finetune", "--model", "llama-2-7b", "--method", "qlora", "--tokens", "10M", "--gpu", "t4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["gpu_hours"]) == {"low", "mid", "high"}
    assert out["fits"] is True and out["memory_gb"] < 16


@pytest.mark.parametrize(
    "argv, word",
    [
        (["train", "--params", "7B", "--tokens", "-5", "--gpu", "a100-80gb"], "tokens="),
        (["train", "--params", "7B", "--tokens", "1T", "--gpu", "a100-80gb", "--mfu", "0"], "mfu="),
        (["train", "--params", "7B", "--tokens", "1T", "--gpu", "a100-80gb", "--mfu", "1.5"], "mfu="),
        (["train", "--params", "7B", "--tokens", "1T", "--gpu", "nope"], "gpu="),
        (["train", "--params", "7B", "--tokens", "1T", "--gpu", "a100-80gb", "--price", "-1"], "price"),
        (["train", "--params", "7B", "--tokens", "lots", "--gpu", "a100-80gb"], "--tokens"),
        (["finetune", "--model", "llama-2-7b", "--method", "dora", "--tokens", "1M", "--gpu", "t4"], "method="),
    ],
)
def test_cli_bad_input_exit_2_one_line(argv, word, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and word in err


# --- claim checks and inverses -----------------------------------------------------------------------
def test_finetune_tokens_for_hours_inverts_estimate_finetune():
    tokens = ft.finetune_tokens_for_hours("llama-2-7b", "lora", "a100-80gb", 8, mfu=0.3)
    back = ft.estimate_finetune("llama-2-7b", "lora", tokens.mid, "a100-80gb", mfu=0.3)
    assert back.gpu_hours.mid == pytest.approx(8.0)
    q = ft.finetune_tokens_for_hours("llama-2-7b", "qlora", "t4", 10, mfu=0.3)
    assert ft.estimate_finetune("llama-2-7b", "qlora", q.mid, "t4", mfu=0.3).gpu_hours.mid == pytest.approx(10.0)


def test_backtest_errors_are_mid_over_reported():
    t = tr.backtest().set_index("id")
    row = t.loc["llama2-7b"]
    assert row.error == pytest.approx(row.predicted_mid / 184_320 - 1)
    # hand-worked: 6 N D / (A100 dense BF16 312 TFLOP/s x mid MFU x 3600 s), Llama 2 7B = 6.738e9 x 2e12 tokens
    flops = 6 * 6.738e9 * 2e12  # 8.09e22
    assert row.predicted_mid == pytest.approx(flops / (312e12 * tr.mfu_band_for("a100-80gb").mid * 3600), rel=0.01)
    assert row.inside == (row.predicted_low <= 184_320 <= row.predicted_high)


def test_fp16_used_on_a_gpu_without_bf16():
    assert tr.compute_precision("t4") == "fp16"
    assert tr.gpu_hours(6.5e19, "t4", mfu=0.5).mid == pytest.approx(6.5e19 / (65e12 * 0.5 * 3600))


def test_mfu_rank_correlation_by_hand():
    runs = [r for r in tr.fit_runs() if r.gpu_id in ("a100-40gb", "a100-80gb")]
    x = np.argsort(np.argsort([r.params for r in runs]))
    y = np.argsort(np.argsort([tr.effective_mfu(r) for r in runs]))
    rho, n = tr.mfu_rank_correlation("a100", "params")
    assert n == len(runs) and rho == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert abs(rho) < 0.3  # the chapter's reason for modelling no size term
    with pytest.raises(InputError, match="slice_key"):
        tr.mfu_rank_correlation("tpu")


def test_mfu_size_term_only_where_it_predicts_better():
    # Effective MFU does not rise with model size on the A100 runs (Spearman |rho| < 0.3) and the size term loses
    # there out of sample; on the Hopper runs it rises (rho about 0.5) and the size term wins leave-one-out.
    rho_a, n_a = tr.mfu_rank_correlation("a100", "params")
    rho_h, n_h = tr.mfu_rank_correlation("h100", "params")
    assert n_a >= 25 and abs(rho_a) < 0.3
    assert n_h >= 12 and rho_h > 0.3
    for gpu in ("a100-80gb", "h100-sxm"):
        info = tr.mfu_model_info(gpu, params=7e9)
        errs = info["candidates_loo_median_abs_error"]
        assert info["model"] == min(errs, key=errs.get)


def test_size_term_by_hand():
    # coefficients = closed-form least squares on (ln N, ln MFU) of the 12 Hopper runs; prediction = exp(a + b ln N)
    a, b, x = _hopper_size_line()
    info = tr.mfu_model_info("h100-sxm", params=8e9)
    assert info["model"] == "log-params" and info["slope"] == pytest.approx(b, abs=1e-4)
    assert info["predicted_mfu"] == pytest.approx(np.exp(a + b * np.log(8e9)), abs=1e-4)
    band = tr.mfu_band_for("h100-sxm", params=8e9)
    assert band.mid == pytest.approx(np.exp(a + b * np.log(8e9)))
    assert band.low < band.mid < band.high <= 1.0
    # no extrapolation: beyond the runs' 3.1-406B range the prediction is held at the edge
    big, edge = tr.mfu_band_for("h100-sxm", params=2e12), tr.mfu_band_for("h100-sxm", params=np.exp(x.max()))
    assert big.mid == pytest.approx(edge.mid)
    assert tr.mfu_band_for("h100-sxm", params=1e9).mid == pytest.approx(np.exp(a + b * x.min()))
    # a bigger dense model on Hopper never gets a lower predicted MFU (b > 0), so GPU-hours grow with N faster than N
    assert b > 0 and tr.mfu_band_for("h100-sxm", params=70e9).mid > tr.mfu_band_for("h100-sxm", params=7e9).mid
    # leave-one-out ratio of one run by hand: Llama 3.1 405B against the line fitted on the other 11
    runs = [r for r in tr.fit_runs() if r.gpu_id == "h100-sxm"]
    keep = [r for r in runs if r.id != "llama3.1-405b"]
    bx, ax = np.polyfit(np.log([r.compute_params for r in keep]), np.log([tr.effective_mfu(r) for r in keep]), 1)
    pred = np.exp(ax + bx * min(np.log(405.85e9), np.log(max(r.compute_params for r in keep))))
    row = tr.slice_backtest().set_index("id").loc["llama3.1-405b"]
    assert row.predicted_mid == pytest.approx(row.reported_gpu_hours * tr.effective_mfu("llama3.1-405b") / pred, rel=1e-9)
    with pytest.raises(InputError, match="params"):
        tr.mfu_band_for("h100-sxm", params=-1)


def test_nested_backtest_remakes_the_choice_and_no_size_term_gives_the_old_model():
    old = tr.slice_summary(size_term=False).set_index("slice")
    assert set(old["model"]) == {"median"}
    nested = tr.slice_summary(nested=True).set_index("slice")
    assert nested.loc["H100/H800-class (Hopper)", "runs"] == old.loc["H100/H800-class (Hopper)", "runs"]
    comp = tr.slice_comparison().set_index("slice")
    assert comp.loc["H100/H800-class (Hopper)", "loo_median_abs_error"] < comp.loc["H100/H800-class (Hopper)", "loo_median_abs_error_median_model"]


def test_device_without_tdp_gets_null_energy_not_a_refusal():
    est = tr.estimate_training(7e9, 1e12, "tpu-v5e")
    assert est.energy_kwh is None and est.co2_kg is None and est.power_w is None
    assert "no published board power" in est.assumptions["power_w"]["source"]
    # the rest is computed: 6 x 7e9 x 1e12 / (197e12 x MFU x 3600) at the pooled band
    band = tr.mfu_band_for("tpu-v5e")
    assert est.gpu_hours.mid == pytest.approx(6 * 7e9 * 1e12 / (197e12 * band.mid * 3600))
    d = est.as_dict()
    assert d["energy_kwh"] is None and d["co2_kg"] is None
    # with a power given: energy = GPU-hours x W / 1000 x PUE, by hand
    est2 = tr.estimate_training(7e9, 1e12, "tpu-v5e", power_w=250, pue=1.2, grid_kg_per_kwh=0.5)
    assert est2.energy_kwh.mid == pytest.approx(est2.gpu_hours.mid * 250 / 1000 * 1.2)
    assert est2.co2_kg.mid == pytest.approx(est2.energy_kwh.mid * 0.5)


def test_cli_train_on_a_device_without_tdp(capsys):
    import json

    assert main(["train", "--params", "7e9", "--tokens", "1T", "--gpu", "tpu-v5e", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["energy_kwh"] is None and out["gpu_hours"]["mid"] > 0
    assert main(["train", "--params", "7e9", "--tokens", "1T", "--gpu", "tpu-v5e", "--power-w", "250", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["energy_kwh"]["mid"] > 0
    assert main(["train", "--params", "7e9", "--tokens", "1T", "--gpu", "h100-sxm", "--power-w", "0"]) == 2


def test_band_method_words_use_ordinals():
    from costlib.training import _ordinal

    assert [_ordinal(k) for k in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]


def test_new_runs_by_hand():
    # Phi-4-mini model card: 512 A100-80G x 21 days, 5T tokens, 3.8B -> 6 N D / (GPU-hours x 3600 x 312e12)
    assert tr.get_run("phi-4-mini").gpu_hours == 512 * 21 * 24
    assert tr.effective_mfu("phi-4-mini") == pytest.approx(6 * 3.8e9 * 5e12 / (512 * 21 * 24 * 3600 * 312e12), rel=1e-12)
    # Falcon 7B model card: 384 A100 40GB for about two weeks on 1.5T tokens
    assert tr.effective_mfu("falcon-7b") == pytest.approx(6 * 7e9 * 1.5e12 / (384 * 14 * 24 * 3600 * 312e12), rel=1e-12)
    # Llama 3.1 8B and 70B are in the fit like their 405B sibling from the same model-card table; the Llama 3 (April)
    # rows stay out (tokens only a lower bound), as do the distilled Llama 3.2 and Llama 4 rows
    fit = {r.id for r in tr.fit_runs()} | {r.id for r in tr.fit_runs("moe")}
    assert {"llama3.1-8b", "llama3.1-70b", "llama3.1-405b", "phi-2", "phi-1.5", "falcon-40b"} <= fit
    assert not fit & {"llama3-8b", "llama3-70b", "llama3.2-1b", "llama4-scout", "llama4-maverick"}
    for r in tr.load_published_runs():
        assert r.use_in_fit or r.exclude_reason.split(":")[0] in (
            "below the 0.5B-parameter floor of the fit", "restarts", "tokens only a lower bound", "distilled",
            "distilled and pruned from Llama 3.1 8B/70B"), r.id


def test_every_hopper_device_gets_the_hopper_model():
    for gpu in ("h100-sxm", "h100-pcie", "h100-nvl", "h200", "h200-nvl", "h800", "gh200"):
        assert tr.hardware_slice(gpu) == "h100", gpu
        assert tr.mfu_band_for(gpu, params=8e9) == tr.mfu_band_for("h100-sxm", params=8e9)
    assert tr.hardware_slice("b200") == "pooled" and tr.mfu_model_info("b200", params=8e9)["model"] == "median"
