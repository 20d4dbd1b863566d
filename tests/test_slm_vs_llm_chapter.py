"""The SLM-vs-LLM chapter's exhibits (costlib.book.slm_vs_llm, chapter section) and figures: hand-worked values
and properties that can fail."""
from __future__ import annotations

import pytest

from costlib.book import slm_vs_llm as slm
from costlib.book import slm_vs_llm_figures as figs
from costlib.book.claims import claim_summary
from costlib.prices import gpu_price_band
from costlib.present.report import small_text
from costlib.units import HOURS_PER_MONTH


def test_reality_check_is_the_audit():
    ex = slm.reality_check()
    frame = ex.tables["tbl-reality-check"].frame
    assert list(frame.columns)[1] == "verdict"
    for cid, verdict in zip(slm.REALITY_CHECK_CLAIMS, frame.verdict):
        assert verdict == claim_summary(cid)["verdict_text"] == ex.values[f"claim-{cid}-verdict"]
    # Chinchilla: 20 tokens per parameter -> 1.4T tokens for 70B
    assert ex.values["rc_70b_tokens"] == pytest.approx(1.4, rel=1e-9)


def test_pair_tables_do_not_judge_again():
    ex = slm.pair_tables()
    for label in ("tbl-pairs-training", "tbl-pairs-inference"):
        cols = ex.tables[label].frame.columns
        assert not any("verdict" in c for c in cols), cols
    assert "claim-s1-train-cost-llm-verdict" in ex.values


def test_monthly_problem_by_hand():
    v = slm.monthly_problem(50e6).values
    gpu_month = gpu_price_band("h100-sxm").mid * HOURS_PER_MONTH  # one H100 holds Qwen3-30B-A3B in FP8
    assert v["wp_gpu_month"] == pytest.approx(gpu_month, rel=1e-9)
    assert v["wp_api_month"] == pytest.approx(v["wp_api_per_m"] * 50, rel=1e-9)
    assert v["wp_breakeven_m"] == pytest.approx(gpu_month / v["wp_api_per_m"], rel=1e-9)
    assert v["wp_util"] == pytest.approx(v["wp_sh_busy_month"] / gpu_month, rel=1e-9)
    # double the tokens, double the busy share
    assert slm.monthly_problem(100e6).values["wp_util"] == pytest.approx(2 * v["wp_util"], rel=1e-9)


def test_latency_meanings_follow_the_numbers():
    ex = slm.latency_table()
    lm = slm.latency_meanings([m for pair in slm.PAIRS for m in pair], output=ex.values["lat_answer_tokens"])
    frame = ex.tables["tbl-latency-meanings"].frame
    below = frame.columns[2]
    for (_, row), tpot in zip(frame.iterrows(), lm.tpot_ms):
        assert ("per token" in row[below]) == (tpot.mid < 50)


def test_capability_frontier_and_figures_are_legible():
    cap = slm.capability()
    df = cap["capability"]
    assert cap.values["n_frontier"] == int(slm.pareto_frontier(df["mid"], df["MMLU-Pro"]).sum())
    assert (df["low"] <= df["mid"]).all() and (df["mid"] <= df["high"]).all()
    assert small_text(figs.capability_figure(df)) == []
    assert small_text(figs.moe_figure(slm.moe_vs_api()["moe"])) == []
    assert small_text(figs.tier_history_figure(slm.tier_history()["history"])) == []


def test_sdlc_smallest_meets_its_budget():
    frame = slm.sdlc().tables["tbl-sdlc"].frame
    names = {slm._name(m): m for m in slm.SDLC_CANDIDATES}
    for _, row in frame.iterrows():
        if row["smallest that meets it"] != "none":
            assert float(row[row["smallest that meets it"]]) <= row["budget (s)"]
        assert all(row[n] == "does not fit" or isinstance(row[n], float) for n in names)
