"""The memory chapter's analyses (costlib.book.memory_chapter / memory_figures): hand-worked values and
properties that can fail."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from costlib import memory as mem  # noqa: E402
from costlib.book import memory_chapter as mc  # noqa: E402
from costlib.book import memory_figures as mf  # noqa: E402
from costlib.present.report import small_text  # noqa: E402


def test_seed_weights_by_hand():
    df = mc.seed_weights_table().set_index(["parameters", "precision"])
    assert df.loc[("7B", "FP16"), "costlib weights (GB)"] == pytest.approx(14.0)
    assert df.loc[("7B", "INT4"), "costlib weights (GB)"] == pytest.approx(3.5)
    bits = 4 + mem.QUANT_SCALE_BITS / mem.QUANT_GROUP_SIZE  # one 16-bit scale per group of 128: 4.125 bits
    assert df.loc[("7B", "INT4"), "with quantization scales (GB)"] == pytest.approx(7e9 * bits / 8 / 1e9)
    assert df["difference (%)"].abs().max() < 1.0


def test_kv_bytes_per_token_by_hand():
    df = mc.kv_per_token_table().set_index("model")
    assert df.loc["llama-3.1-8b", "kv_bytes_per_token"] == 2 * 32 * 8 * 128 * 2  # 131,072: GQA, 8 KV heads
    assert df.loc["opt-13b", "kv_bytes_per_token"] == 2 * 40 * 40 * 128 * 2  # 819,200 = 800 KiB (vLLM paper)
    f = mc.kv_facts(mc.kv_table())
    assert f["mem_gqa_ratio"] == pytest.approx(32 / 8)


def test_sliding_window_stops_the_cache_growing():
    kv = mc.kv_table().set_index("context (tokens)")
    w = mc.get_model("mistral-7b").sliding_window
    beyond = kv.index[kv.index >= w]
    assert kv.loc[beyond, "mistral-7b (GB)"].nunique() == 1
    assert kv.loc[32768, "llama-2-7b (GB)"] == pytest.approx(2 * 32 * 32 * 128 * 2 * 32768 / 1e9, abs=5e-4)  # 17.18 GB


def test_bytes_per_parameter_of_a_full_fine_tune():
    assert mc.bytes_per_param("adam") == pytest.approx(16.0)  # 2 weights + 2 gradients + 4 master + 8 Adam
    assert mc.bytes_per_param("sgd") == pytest.approx(12.0)  # 2 + 2 + 4 master + 4 momentum
    assert mc.bytes_per_param("adam8bit") < mc.bytes_per_param("adam")


def test_training_breakdown_orders_the_methods():
    t = mc.training_breakdown()
    tot = t.set_index(["model", "config"])["total_gb"]
    for m in mc.TRAIN_MODELS:
        assert tot[(m, "QLoRA, recompute")] < tot[(m, "LoRA, recompute")] < tot[(m, "full, recompute")]
        assert tot[(m, "full, recompute")] <= tot[(m, "full, selective")] <= tot[(m, "full")]
    parts = t[list(mc.PARTS)].sum(axis=1)
    assert parts.to_numpy() == pytest.approx(t.total_gb.to_numpy())
    totals = mc.training_totals(t)
    assert list(totals.model) == list(mc.TRAIN_MODELS) and len(totals.columns) == 1 + len(mc.TRAIN_CONFIGS)


def test_practice_cases_match_the_papers_claims():
    df, f = mc.practice_table()
    assert f["tk_q65"] < 48  # QLoRA: LLaMA-65B on one 48 GB GPU
    assert f["tk_f65"] > 780  # "more than 780 GB" for a 16-bit full fine-tune
    row = df.set_index("case").loc["Llama-3.1-8B full, torchtune single-device recipe"]
    assert row["fits one 24 GB RTX 4090"] == "yes"
    assert f["tk_70b_lora"] < f["tk_70b_lora1"]


def test_fit_grid_and_table():
    inf = mc.inference_panels()
    bf16, int8, int4 = (g for _, g in inf)
    ok = ~np.isnan(bf16)
    assert np.all(int4[ok] <= int8[ok]) and np.all(int8[ok] <= bf16[ok])  # fewer bits, never more GPUs
    table = mc.fit_table(inf).set_index("model")
    cell = table.loc["llama-3.1-70b", "a100-80gb"]
    i, j = mc.FIT_MODELS.index("llama-3.1-70b"), mc.FIT_GPUS.index("a100-80gb")
    assert cell == "/".join(f"{g[i, j]:.0f}" for _, g in inf)
    fake = [("a", np.full((len(mc.FIT_MODELS), len(mc.FIT_GPUS)), np.nan))]
    assert set(mc.fit_table(fake)["t4"]) == {"–"}


def test_worked_problems():
    f = mc.worked_problem_facts()
    assert f["wp3_fits"] == ("fits" if f["wp3_4"] <= 80 * 2**30 / 1e9 else "does not fit")
    assert f["wp3_min0"] == "none (never fits)" and int(f["wp3_min3"]) >= 1
    assert f["wp4_ratio"] > 1 and f["wp4_ckpt"] < f["wp4_flash"]
    assert f["wp5_ctx_int4"] >= f["wp5_ctx_bf16"] > 0


def test_edge_tiers_hold_their_models():
    e = mc.edge_table()
    for _, r in e.iterrows():
        tier = r["INT4 RAM tier"]
        if tier != "> 64 GB":
            assert r["INT4 total (GB)"] <= float(tier.split()[0])
    f = mc.edge_facts(e)
    assert f["mem_q40_bits"] == pytest.approx(4 + 16 / 32)  # GGUF Q4_0: one fp16 scale per 32 weights


def test_figures_read_at_their_displayed_size():
    assert small_text(mf.kv_figure(mc.kv_table())) == []
    assert small_text(mf.training_figure(mc.training_breakdown())) == []
    panels = [(n, np.ones((len(mc.FIT_MODELS), len(mc.FIT_GPUS)))) for n in ("BF16", "INT8", "INT4")]
    fig = mf.fit_figure(panels, "t")
    assert small_text(fig) == [] and len(fig.axes) == 3  # one panel per precision, stacked


def test_widget_result_and_its_error_message():
    assert "minimum GPUs" in mf.memory_html("llama-3.1-8b", "bf16", "inference", 8192, 1)
    msg = mf.memory_html("no-such-model", "bf16", "inference", 8192, 1)
    assert "no-such-model" in msg and "<table>" not in msg
