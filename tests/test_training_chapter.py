"""The training chapter's analyses (costlib.book.training_chapter / training_figures): hand-worked values and
properties that can fail."""
from __future__ import annotations

import math

import matplotlib
import pytest

matplotlib.use("Agg")

from costlib import training as tr  # noqa: E402
from costlib.book import training_chapter as tc  # noqa: E402
from costlib.book import training_figures as tf  # noqa: E402
from costlib.book.claims import CHAPTER_CLAIMS, claim_fields  # noqa: E402
from costlib.errors import InputError  # noqa: E402
from costlib.present.report import SNAKE_CASE, small_text  # noqa: E402


def test_order_statistic_coverage_by_hand():
    assert tc.order_statistic_coverage(19, 2) == pytest.approx(16 / 20)
    assert tc.order_statistic_coverage(25, 2) == pytest.approx(22 / 26)
    assert tc.order_statistic_coverage(9, 1) == pytest.approx(0.8)
    for n, k in ((3, 2), (0, 1), (5, 0), (True, 1), (5.0, 1)):
        with pytest.raises(InputError):
            tc.order_statistic_coverage(n, k)


def test_rule_facts_by_hand():
    f = tc.rule_facts()
    assert f["l2_flops"] == pytest.approx(6 * 6.74e9 * 2e12)  # 8.088e22
    # Llama 2 7B: 184,320 A100-80GB hours at 312 TFLOP/s dense BF16 -> 39.1 % effective MFU
    assert f["l2_mfu"] == pytest.approx(8.088e22 / (184_320 * 3600 * 312e12), rel=1e-6)
    assert f["l2_mfu"] == pytest.approx(0.3907, abs=1e-3)
    assert f["attn_share_nomask"] == pytest.approx(f["attn_share"] * 4096 / (4097 / 2))
    assert f["pi_cov"] == pytest.approx(tc.order_statistic_coverage(int(f["n_fit"]), int(f["pi_rank"])))
    assert f["mfu_low"] < f["mfu_mid"] < f["mfu_high"]


def test_seed000_mfu_needed_by_hand():
    df = tc.seed000_mfu_table().set_index("model")
    # 7B: 4.2e22 FLOPs on 32 A100 (312 TFLOP/s) in 21 days needs 2.32 x the peak, in 14 days 3.48 x
    need_long = 4.2e22 / (32 * 21 * 86400 * 312e12)
    assert df.loc["7B", "MFU needed (%)"] == f"{100 * need_long:.0f}-{100 * need_long * 21 / 14:.0f}"
    assert df.loc["7B", "days at 100 % MFU"] == pytest.approx(4.2e22 / (32 * 312e12 * 86400))
    assert df.loc["1B", "GPUs"] == 8 and df.loc["3B", "GPUs"] == 16
    f = tc.seed_facts()
    assert f["s7_mfu_long"] == pytest.approx(need_long) and f["seed_min_mfu"] > 1  # every duration impossible


def test_seed_claim_ids_split_by_seed_and_skip_uncheckable():
    s0, s1 = tc.seed_claim_ids("training", "0"), tc.seed_claim_ids("training", "1")
    assert set(s0) | set(s1) <= set(CHAPTER_CLAIMS["training"])
    assert all(c.startswith("s0-") for c in s0) and all(c.startswith("s1-") for c in s1)
    assert "s1-train-params-slm" not in s1 and "s0-train-7b-cost" in s0
    with pytest.raises(InputError):
        tc.seed_claim_ids("cooking", "0")
    with pytest.raises(InputError):
        tc.seed_claim_ids("training", "2")


def test_claims_exhibit_shows_the_audits_row_verdict_first():
    ids = ("s0-train-7b-cost", "s0-qlora-time")
    html = tc.claims_exhibit(ids, "tbl-x").to_html()
    for cid in ids:
        f = claim_fields(cid)
        assert f'data-claim="{cid}"' in html
        assert f["verdict"] in html
    heads = [c for c in tc.claims_exhibit(ids, "tbl-x").data.columns]
    assert heads.index("verdict") < heads.index("seed's figure") < heads.index("costlib computes")
    assert not any(SNAKE_CASE.match(h) for h in heads)
    data = tc.claims_data(ids)
    assert "<span" not in " ".join(data.verdict)  # the CSV holds plain text


def test_scenarios_use_twenty_tokens_per_parameter_and_price_every_run():
    runs = {s.key: s for s in tc.scenarios()}
    assert runs["slm7c"].tokens == pytest.approx(20 * 7e9)
    assert runs["l13"].gpus == tc.LLM_GPUS and runs["slm05"].gpus == tc.SLM_GPUS
    table = tc.scenario_table()
    assert len(table) == len(runs) and table["cost (USD)"].str.len().min() > 0
    f = tc.scenario_facts()
    assert f["energy_ratio"] == pytest.approx(f["l70_mwh"] * 1e3 / f["slm05_kwh"], rel=0.05)


def test_backtest_table_is_the_backtest_in_words():
    bt = tr.backtest()
    df = tc.backtest_table(bt)
    assert set(df["inside the band"]) <= {"yes", "no"}
    assert df["error (%)"].to_numpy() == pytest.approx(100 * (df["predicted GPU-hours"] / df["reported GPU-hours"] - 1).to_numpy())
    shown = tc.backtest_exhibit(df).data.columns
    assert len(shown) <= 7 and list(shown[:3]) == ["model", "inside the band", "error (%)"]


def test_backtest_summary_reports_coverage_next_to_nominal():
    df, f = tc.backtest_summary_table()
    assert list(df.test) == ["each run in the fit", "each run left out of the fit"]
    assert (df["nominal coverage (%)"] == 80).all()
    assert df["runs"].iloc[0] == len(tr.fit_runs()) + len(tr.fit_runs("moe"))  # dense and MoE runs in the fit
    assert 0 <= f["loo_inside"] <= 1 and f["loo_mae"] >= 0


def test_cost_curves_scale_as_the_rule_says():
    df = tc.curve_table().set_index(["parameters", "tokens"])
    col = "A100 GPU-hours"
    # at fixed tokens GPU-hours are linear in N; at 20 tokens per parameter, quadratic
    assert df.loc[("7B", "1T"), col] / df.loc[("1B", "1T"), col] == pytest.approx(7.0)
    assert df.loc[("7B", "20 per parameter"), col] / df.loc[("1B", "20 per parameter"), col] == pytest.approx(49.0)
    assert df.loc[("7B", "1T"), col] == pytest.approx(6 * 7e9 * 1e12 / (312e12 * tr.mfu_band_for("a100-80gb").mid * 3600))


def test_finetune_budget_doubles_with_the_hours():
    df = tc.finetune_budget_table().set_index("method")
    lo, hi = (float(x.replace(",", "")) for x in df.loc["LoRA", "tokens in that time (millions)"].split("-"))
    assert hi == pytest.approx(2 * lo, rel=0.02)  # 8 hours against 4 (rounded to whole millions)
    assert set(df["fits"]) <= {"yes", "no"}


def test_worked_problems_by_hand():
    f = tc.worked_problem_facts()
    assert f["wp3_gpus_mid"] == math.ceil(f["wp3_gpu_hours"] / (24 * 21))
    assert f["wp3_gpus_high"] >= f["wp3_gpus_mid"]
    h = tr.mfu_band_for("h100-sxm", params=21e9).mid  # the Hopper size term at 21B
    assert f["wp2d_mid"] == pytest.approx(6 * 21e9 * 8.1e12 / (989.5e12 * h * 3600) / 1e6, rel=1e-3)
    assert f["wp2_low"] <= f["wp2_mid"] <= f["wp2_high"]
    assert f["wp1_fits"] in ("fits", "does not fit") and (f["wp1_mem"] <= f["wp1_cap"]) == (f["wp1_fits"] == "fits")


def test_explorer_cell_returns_ordered_bands():
    out = tc.explorer_cell(7e9, 1e12, "a100-80gb", 64)
    for b in out.values():
        assert b.low <= b.mid <= b.high
    assert out["days"].mid == pytest.approx(out["gpu_hours"].mid / 64 / 24)


def test_figures_read_at_their_displayed_size():
    assert small_text(tf.backtest_figure()) == []
    assert small_text(tf.curves_figure()) == []


def test_widget_result_and_its_error_message():
    assert "GPU-hours" in tf.estimate_html(7e9, 1e12, "a100-80gb", 64)
    msg = tf.estimate_html(-1, 1e12, "a100-80gb", 64)
    assert "params" in msg and "<table>" not in msg


def test_the_chapter_side_verdicts_are_retired():
    assert not hasattr(tr, "check_training_claim") and not hasattr(tr, "range_verdict")


def test_slice_table_shows_before_after_and_nominal_coverage():
    per_slice, comp = tr.slice_summary(), tr.slice_comparison()
    df = tc.slice_table(per_slice, comp).set_index("slice")
    hop = df.loc["H100/H800-class (Hopper)"]
    assert hop["MFU model"] == "size term" and hop["median error, now (%)"] < hop["median error, one band (%)"]
    assert df.loc["A100-class (Ampere)", "MFU model"] == "one band"
    assert df.loc["mixture of experts (Hopper runs)", "MFU model"].endswith("x MoE factor")
    assert (df["nominal coverage (%)"] >= df["target coverage (%)"]).all()
    f = tc.slice_facts(per_slice, comp)
    assert f["sl_h100_err"] == pytest.approx(hop["median error, now (%)"] / 100)
    assert f["sl_h100_step"] == pytest.approx(1 / f["sl_h100_n"])
    assert f["h100_8b_low"] < f["h100_8b_mid"] < f["h100_8b_high"] and f["h100_405b_mid"] > f["h100_8b_mid"]


def test_alpaca_is_predicted_with_its_own_recipe():
    f = tc.alpaca_facts()
    assert tc.ALPACA_SETTINGS["packed"] is False and tc.ALPACA_SETTINGS["checkpointing"] == "none"
    assert f["alp_ft_low"] < f["alp_ft_mid"] < f["alp_ft_high"]
    assert f["alp_ft_factor"] == pytest.approx(f["alp_hours"] / f["alp_ft_mid"])
    # FSDP traffic per micro-step for LLaMA-7B on 8 A100s: 7/8 x (2 x 2 B + 2 B) x N / 300 GB/s
    from costlib.models import get_model
    assert f["alp_comm_s"] == pytest.approx(7 / 8 * 6 * get_model("llama-7b").total_params / 300e9, rel=1e-3)
