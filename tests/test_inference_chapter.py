"""The inference chapter's analyses (costlib.book.inference_chapter), figures and widget: hand-worked values and
properties that can fail."""
from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from costlib import inference as inf
from costlib.book import inference_chapter as ic
from costlib.book import inference_figures as figs
from costlib.book.claims import claim_summary
from costlib.errors import InputError
from costlib.present.exhibits import Exhibits, Table, publish, render_table
from costlib.present.report import is_identifier, small_text
from costlib.present.serving_widgets import serving_result_html


@pytest.fixture(scope="module")
def roof():
    return ic.roofline()


@pytest.fixture(scope="module")
def ops():
    return ic.operating_points()


@pytest.fixture(scope="module")
def cost():
    return ic.self_hosted_costs()


@pytest.fixture(scope="module")
def bt():
    return ic.backtest()


def test_decode_at_batch_1_does_one_flop_per_byte(roof):
    # 2 FLOPs per parameter against 2 bytes per FP16 parameter (the context's attention adds a little)
    assert roof.values["i_bs1"] == pytest.approx(1.0, rel=0.05)
    # A100 FP16 ridge: 312 TFLOP/s / 2,039 GB/s = 153 FLOP/byte
    assert roof.values["ridge_a100_80gb"] == pytest.approx(312e12 / 2039e9, rel=1e-6)
    assert roof.values["a100_busy"] == pytest.approx(roof.values["i_bs1"] / 153.0, rel=0.01)
    table = roof.tables["tbl-inf-roofline"].frame
    assert (table.iloc[0, 2:] == "memory").all()  # decode at batch 1 is memory-bound everywhere
    assert (table[table.phase.str.startswith("prefill")].iloc[0, 2:] == "compute").all()


def test_batch1_band_never_beats_the_bandwidth_ceiling():
    ex = ic.batch1()
    # 2,039 GB/s / 13.48 GB of FP16 weights = 151 tokens/s
    assert ex.values["ceil7"] == pytest.approx(2039e9 / inf.model_weight_bytes("llama-2-7b", "fp16"), rel=1e-9)
    assert ex.values["ceil7"] == pytest.approx(151.3, abs=0.1)
    assert ex.values["e7_hi"] <= ex.values["ceil7"]
    shares = ex.tables["tbl-inf-bs1"].frame["share of the ceiling"]
    assert (shares > 0).all()


def test_seed_tables_are_the_audit_rows_verdict_second():
    ids = ("s0-infer-1b-latency", "s1-tps-llm")
    ex = ic.seed_claims(ids, "tbl-test")
    frame = ex.tables["tbl-test"].frame
    assert list(frame.columns)[:2] == ["seed claim", "verdict"]
    for cid, verdict in zip(ids, frame.verdict):
        assert verdict == claim_summary(cid)["verdict_text"]  # the CSV carries the audit's words
        assert ex.values[f"claim-{cid}-verdict"] == verdict
    html = ex.tables["tbl-test"].styled.to_html()
    assert html.count('data-claim="s0-infer-1b-latency"') == 1


def test_static_batch_is_read_at_its_own_memory_cap(ops):
    cap = inf.max_batch("llama-3.1-8b", "h100-sxm", "bf16", ic.PROMPT_TOKENS + ic.OUTPUT_TOKENS)
    at_cap = inf.batch_sweep("llama-3.1-8b", "h100-sxm", "bf16", [cap], ic.PROMPT_TOKENS, ic.OUTPUT_TOKENS).iloc[0]
    at_256 = inf.batch_sweep("llama-3.1-8b", "h100-sxm", "bf16", [256], ic.PROMPT_TOKENS, ic.OUTPUT_TOKENS).iloc[0]
    table = ops.tables["tbl-inf-cap"].frame.set_index(["model", "hardware"])
    row = table.loc[("8B BF16", "NVIDIA H100 SXM5 80GB")]
    assert row["memory cap (requests)"] == cap
    assert float(row["static batch at its cap: ms per token"]) == pytest.approx(at_cap.tpot_ms, rel=5e-3)
    assert cap != 256 and not math.isclose(at_cap.tpot_ms, at_256.tpot_ms, rel_tol=1e-3)


def test_operating_points_meet_the_service_level(ops):
    for (_, _), (k, _, _, pt) in ops["curves"].items():
        if pt.feasible:
            assert pt.tpot_s.mid <= ic.SLO_TPOT_S * 1.001
            assert pt.ttft_s.mid <= ic.SLO_TTFT_S * 1.001
            assert pt.concurrency.mid <= pt.memory_concurrency_cap + 1e-9


def test_api_cost_per_1k_requests_by_hand():
    # Groq Llama-3.1-8B: US$0.05 in / 0.08 out per 1M: 1,000 x (1,000 x 0.05 + 250 x 0.08) / 1e6 = US$0.07
    assert ic.api_cost_per_1k("groq-llama-3.1-8b") == pytest.approx(0.07, rel=1e-9)


def test_break_even_words():
    assert ic._break_even_text(0.05, 0.10) == "at about 50% of hours busy"
    assert ic._break_even_text(0.20, 0.10).startswith("never")


def test_sensitivity_verdicts_follow_the_numbers(cost):
    s = cost.tables["tbl-inf-sensitivity"].frame
    api = cost.values["sens_api"]
    for _, r in s.iterrows():
        v = float(r["self-hosted US$ per 1,000 requests"].replace(",", ""))
        assert r["verdict"] == ("self-host cheaper" if v < api else "API cheaper")
    base = float(s.iloc[0]["self-hosted US$ per 1,000 requests"])
    half = float(s[s["what changes"] == "half the hours busy"].iloc[0]["self-hosted US$ per 1,000 requests"])
    assert half == pytest.approx(2 * base, rel=0.01)
    low, high = (float(s.iloc[i]["self-hosted US$ per 1,000 requests"]) for i in (1, 2))
    assert low < base < high
    tighter = float(s[s["what changes"].str.contains("30 ms")].iloc[0]["self-hosted US$ per 1,000 requests"])
    assert tighter > base  # a tighter token target never lowers the cost


def test_selfcost_table_carries_its_operating_point(cost):
    t = cost.tables["tbl-inf-selfcost"].frame
    assert t["operating point"].str.contains("requests/s").all()
    assert len(t) == len(ic.SELF_HOSTED)


def test_backtest_summary_and_cases_in_words(bt):
    summary = bt.tables["tbl-inf-btsum"].frame
    allrow = summary[summary.engine == "all engines"].iloc[0]
    assert 0 <= allrow["share inside the band"] <= 1
    assert bt.values["bt_n"] == len(bt["backtest"])
    inside = bt.tables["tbl-inf-backtest"].frame.inside
    assert bt.values["bt_outside"] == int((~inside).sum())
    assert not any(is_identifier(c) for c in bt.tables["tbl-inf-backtest"].frame.case)


def test_explorer_cell_reports_a_bad_layout_as_text():
    bad = ic.explorer_cell("llama-3.1-70b", "l4", 1, "bf16", 16)
    assert isinstance(bad["bound"], str) and bad["ttft"] == "-"
    good = ic.explorer_cell("llama-3.1-8b", "h100-sxm", 1, "bf16", 16)
    assert good["ttft"].low <= good["ttft"].mid <= good["ttft"].high


def test_figures_are_legible(roof, bt):
    for fig in (figs.roofline_figure(roof["intensities"], roof["prefill"]), figs.backtest_figure(bt["backtest"])):
        assert small_text(fig) == []


def test_widget_html_reports_bad_input_in_one_line():
    html = serving_result_html("llama-3.1-8b", "h100-sxm", 1, "bf16", "vllm", "continuous", 0, 500, 500, 0.5, 0)
    assert html.startswith("<p>") and "\n" not in html
    ok = serving_result_html("llama-3.1-8b", "h100-sxm", 1, "bf16", "vllm", "continuous", 16, 500, 500, 0.5, 0)
    assert "time to first token" in ok


def test_exhibits_split_wide_tables_and_reject_other_objects():
    wide = pd.DataFrame([{f"column {i}": i for i in range(10)}])
    html = render_table("tbl-wide", Table(wide, max_columns=4)).data
    assert len(re.findall(r"Part \d of 3", html)) == 3
    with pytest.raises(InputError):
        publish({"values": {}})
    with pytest.raises(InputError):
        Exhibits()["missing"]
