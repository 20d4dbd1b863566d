"""costlib.report: the label map, cell formats, exhibit tables, figure sizes, verdict words, seed arrows."""
import math

import pandas as pd
import pytest

from costlib.errors import InputError
from costlib.present.report import (
    LABELS, arrows_in_words, displayed_font_px, exhibit_figure, exhibit_table, figure_style, format_number,
    is_identifier, label, min_font_pt, relabel, seed_arrows, small_text, verdict_words,
)
from costlib.uncertainty import Band


def test_label_map_and_fallback():
    assert label("price_usd_per_gpu_hour") == "price (USD per GPU-hour)"
    assert label("decode_ms") == "decode (ms)"  # not in the map: the unit suffix rule
    assert label("kv_cache_gb") == "KV cache (GB)"
    assert label("already in words") == "already in words"
    assert label(3) == 3
    assert label("peak_tflops", {"peak_tflops": "peak"}) == "peak"
    # no label of the map is itself an identifier
    assert not [v for v in LABELS.values() if is_identifier(v)]


def test_is_identifier():
    assert is_identifier("slm_l40s_reserved") and is_identifier("h2o_a100")
    assert not is_identifier("peak") and not is_identifier("GPU-hours") and not is_identifier("Peak_TFLOPs")


def test_relabel_rows_and_columns():
    df = pd.DataFrame({"gpu_hours": [1.0]}, index=["slm_l40s_reserved"])
    out = relabel(df)
    assert list(out.columns) == ["GPU-hours"] and list(out.index) == ["SLM l40s reserved"]


@pytest.mark.parametrize("value, kind, shown", [
    (0.58033, "percent", "58%"), (0.0583, "percent", "5.8%"), (-0.58033, "percent", "−58%"),
    (47.5, "auto", "47.5"), (47.0, "auto", "47"), (1720320.0, "auto", "1,720,320"), (1234.5678, "number", "1,235"),
    (0.0012345, "number", "0.00123"), (True, "auto", "yes"), (False, "auto", "no"), (float("nan"), "auto", ""),
    (None, "auto", ""), ("text", "auto", "text"), (2.5, "int", "2"),
])
def test_format_number(value, kind, shown):
    assert format_number(value, kind=kind) == shown


def test_format_number_rejects_unknown_kind():
    with pytest.raises(InputError, match="kind"):
        format_number(1.5, kind="money")


def test_exhibit_table_labels_formats_and_verdict_first():
    df = pd.DataFrame({"case_id": ["a", "b"], "error_pct": [12.3456, float("nan")], "inside": [True, False],
                       "gpu_hours": [1720320.0, 3.0], "share": [0.5833, 0.05], "verdict": ["holds", "optimistic"]})
    html = exhibit_table(df, "tbl-x", percent=["share"]).to_html()
    import re
    heads = [re.sub("<[^>]+>", "", h).strip() for h in re.findall(r"<th [^>]*col_heading[^>]*>(.*?)</th>", html)]
    assert heads[:3] == ["case id", "verdict", "inside the band"]
    assert "GPU-hours" in heads and "error (%)" in heads
    assert "1,720,320" in html and "58%" in html and "yes" in html and "nan" not in html and "True" not in html
    assert 'id="T_tbl_x"' in html  # stable id for nbval


def test_exhibit_table_splits_wide_tables_repeating_the_key():
    df = pd.DataFrame({f"c{i}_gb": [float(i)] for i in range(10)})
    out = exhibit_table(df, "tbl-wide", key="c0_gb", max_columns=4)
    html = out.data
    assert html.count("<table") == 3  # 9 other columns, 3 per part
    assert html.count(">c0 (GB)<") == 3
    with pytest.raises(InputError, match="key"):
        exhibit_table(df, "tbl-wide", key="nope")


def test_displayed_font_px_by_hand():
    # 9-inch figure at 100 dpi = 900 px, shown at 672 px (measured): 8 pt = 8 * 100/72 * 672/900 = 8.296 px
    assert displayed_font_px(8, 9) == pytest.approx(8 * 100 / 72 * 672 / 900)
    # a narrow figure is not enlarged: 6 in = 600 px < 672 px
    assert displayed_font_px(8, 6) == pytest.approx(8 * 100 / 72)
    assert min_font_pt(9) == pytest.approx(10 / (100 / 72 * 672 / 900))
    with pytest.raises(InputError, match="fontsize_pt"):
        displayed_font_px(-1, 9)


def test_figure_style_and_small_text():
    style = figure_style(9.0)
    assert displayed_font_px(style["xtick.labelsize"], 9.0) >= 10
    fig, ax = exhibit_figure(width_in=9.0, aspect=0.4)
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("tokens")
    fig.canvas.draw()
    assert small_text(fig) == []
    ax.text(0.5, 0.5, "tiny", fontsize=5)
    assert any("tiny" in t for t in small_text(fig))


def test_verdict_words_reads_the_right_way():
    w = verdict_words("pessimistic", claimed_low=0.02, claimed_high=0.1, computed=Band(7e-6, 6.7e-5, 6.7e-4),
                      unit="share", factor=665.0)
    assert w.startswith("right direction, understated") and "665x better" in w and "pessimistic" not in w
    assert verdict_words("optimistic", claimed_low=10, claimed_high=20, computed=Band(40, 50, 60),
                         factor=3.3).startswith("too optimistic")
    assert verdict_words("holds", claimed_low=1, claimed_high=2, computed=Band(1, 1.5, 2)).startswith("holds")
    with pytest.raises(InputError, match="verdict"):
        verdict_words("wrong", claimed_low=1, claimed_high=2)


def test_seed_arrows():
    assert seed_arrows("train 🔻🔻🔻🔻 (4) / infer —") == "train ↓↓↓↓ (4) / infer —"
    assert seed_arrows("🔻🔻") == "↓↓ (2)"
    assert seed_arrows(None) is None
    assert arrows_in_words("Seed 000's 🔻🔻 for inference") == "Seed 000's two down-arrows (↓↓) for inference"
    assert not any(ord(ch) > 0xFFFF for ch in seed_arrows("🔻🔺 (2)"))


def test_table_shows_words_for_identifiers_and_yes_no_for_booleans():
    import pandas as pd

    from costlib.present.report import table

    df = pd.DataFrame({"peak_tflops": [1.25], "fits": [True], "model": ["llama-3.1-8b"]})
    html = table(df, "tbl-t", {"peak_tflops": "{:.1f}"}).to_html()
    assert ">dense peak (TFLOP/s)</th>" in html and ">peak_tflops<" not in html
    assert ">yes</td>" in html and ">True<" not in html
    assert ">1.2</td>" in html or ">1.3</td>" in html  # the format is still keyed by the frame's own column name
