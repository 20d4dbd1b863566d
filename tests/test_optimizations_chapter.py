"""Chapter 6 (optimization techniques) exhibits: values worked out by hand from the formulas, and properties."""
from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from costlib.book import optimizations_chapter as ch
from costlib.book import techniques as tech
from costlib.errors import InputError
from costlib.present.exhibits import Exhibits, Table, live_widget, publish, render_table
from costlib.present.report import SNAKE_CASE


def harmonic(n):
    return sum(1 / k for k in range(1, n + 1))


def test_kv_cache_positions_by_hand():
    part = ch.kv_cache()
    df = part.tables["tbl-opt-kv"].data
    p, n = tech.REFERENCE_PROMPT_TOKENS, tech.REFERENCE_OUTPUT_TOKENS  # 1,500 and 300
    assert df.loc[0, "with KV cache"] == p + n - 1 == 1799
    assert df.loc[0, "without"] == n * p + n * (n - 1) / 2 == 494_850
    assert part["kv_pos_ratio"] == pytest.approx(494_850 / 1799)
    assert part["kv_t_without"] > part["kv_t_with"] > 0


def test_batching_is_the_harmonic_number():
    part = ch.batching()
    df = part.tables["tbl-opt-batching"].data.set_index("slots in the batch")
    assert df.loc[1, "continuous batching gain (x)"] == pytest.approx(1.0)
    assert df.loc[16, "static batch: useful share"] == pytest.approx(1 / harmonic(16))  # 0.2958
    assert part["cont_gain_16"] == pytest.approx(harmonic(16))  # 3.381


def test_speculative_widget_text_by_hand():
    # theorem 3.8: E[tokens] = (1 - 0.8^5) / 0.2 = 3.3616; with c = 0 the speed-up equals it
    text = ch.speculative_html(0.8, 4, 0.0)
    assert "3.362" in text and "3.36x" in text
    assert ch.speculative_html(1.5, 4, 0.05).startswith("<b>Input error:</b>")


def test_speculative_gain_erodes_with_batch():
    df = ch.speculative_batches().tables["tbl-opt-spec-batch"].data
    s = list(df["speed-up"])
    assert s[0] > 1 > s[-1], "faster at batch 1, slower on a saturated GPU"
    # non-increasing up to a plateau: once the target is compute-bound the ratio is flat in the batch and only
    # the fixed per-step terms move it (by ~1e-5)
    assert all(a >= b * (1 - 1e-3) for a, b in zip(s, s[1:]))


def test_quantization_is_split_so_each_part_fits():
    part = ch.quantization()
    t = part.tables["tbl-opt-quant"]
    html = render_table("tbl-opt-quant", t).data  # several parts: an IPython HTML block
    assert html.count("<table") == 2 and "Part 2 of 2" in html
    for piece in html.split("<table")[1:]:
        head = piece.split("</thead>")[0]
        assert head.count("<th") <= t.max_columns + 1
        assert "GPU" in head and "KV cache" in head  # every part repeats the key columns
    assert "fits" in html and "quality cost" in html
    assert part["q_bf16_gb"] > part["q_int4_gb"] > 0
    assert part["q_int8_decode"] > 1  # INT8 reads half the bytes of BF16 per decode step


def test_routing_saving_grows_with_the_share():
    df = ch.routing_table().tables["tbl-opt-routing"].data
    saving = list(df["saving vs the large model only"])
    assert saving[0] == pytest.approx(0.0)
    assert all(a < b for a, b in zip(saving, saving[1:]))


def test_prompt_compression_saves_less_than_half():
    # halving the prompt leaves the output tokens, which dominate time and price
    part = ch.token_reduction()
    assert 0 < part["tok_compress_self"] < 0.5 and 0 < part["tok_compress_4o"] < 0.5


def test_worked_problems_by_hand():
    part = ch.worked_problems()
    assert part["p2_util"] == pytest.approx(1 / harmonic(32))
    assert part["p2_fleet_after"] == math.ceil(12 / harmonic(32)) == 3
    assert part["p3_hybrid_1k"] < part["p3_large_1k"]
    # cost = s(c_small + e c_large) + (1 - s) c_large
    s, e = ch.WORKED_SHARE, ch.WORKED_ESCALATION
    assert part["p3_hybrid_1k"] == pytest.approx(s * (part["p3_small_1k"] + e * part["p3_large_1k"])
                                                 + (1 - s) * part["p3_large_1k"])


def test_tables_show_no_snake_case_header():
    for part in (ch.reference(), ch.flash_attention(), ch.lora(), ch.seed_tables(), ch.waterfall(), ch.edge_backtest()):
        for label, t in part.tables.items():
            html = render_table(label, t)
            html = html.to_html() if hasattr(html, "to_html") else html.data
            headers = [re.sub("<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)]
            assert headers and not [h for h in headers if SNAKE_CASE.match(h)], (label, headers)
            assert ">True<" not in html and ">False<" not in html and ">nan<" not in html, label


def test_seed_table_verdict_first():
    t = ch.seed_tables().tables["tbl-opt-seeds"]
    html = render_table("tbl-opt-seeds", t).to_html()
    assert html.index("verdict") < html.index("training") < html.index("seed 000")


def test_publish_rejects_what_is_not_exhibits():
    with pytest.raises(InputError, match="Exhibits"):
        publish({"a": 1})
    with pytest.raises(InputError, match="table"):
        render_table("x", [1, 2])  # a DataFrame or a Table is shown; anything else is refused


def test_live_widget_recomputes():
    widgets = pytest.importorskip("ipywidgets")
    slider = widgets.IntSlider(value=1, min=1, max=5)
    box = live_widget(lambda n: f"n = {n * 2}", {"n": slider})
    out = box.children[1]
    assert out.value == "n = 2"
    slider.value = 4
    assert out.value == "n = 8", "a control that changes nothing is a dead widget"
    with pytest.raises(InputError):
        live_widget(lambda: "", {})


def test_live_widget_columns_stack_the_controls_in_order():
    widgets = pytest.importorskip("ipywidgets")
    controls = {f"c{i}": widgets.IntText(value=i) for i in range(5)}
    box = live_widget(lambda **v: str(sum(v.values())), controls, columns=2)
    stacks = box.children[0].children
    # 5 controls in 2 columns: ceil(5 / 2) = 3 in the first, 2 in the second, in the given order
    assert [len(s.children) for s in stacks] == [3, 2]
    assert [c.value for s in stacks for c in s.children] == [0, 1, 2, 3, 4]
    assert box.children[1].value == "10"
    controls["c4"].value = 14
    assert box.children[1].value == "20"
    for bad in (0, 6, 1.5, True):
        with pytest.raises(InputError, match="columns"):
            live_widget(lambda **v: "", controls, columns=bad)


def test_table_css_names_a_shown_column():
    t = Table(pd.DataFrame({"source": ["https://example.org/" + "x" * 80]}), css={"source": {"overflow-wrap": "anywhere"}})
    assert "overflow-wrap: anywhere" in render_table("t", t).to_html()
    with pytest.raises(InputError, match="css"):
        render_table("t", Table(pd.DataFrame({"a": [1]}), css={"b": {"color": "red"}}))
