"""Chapter 2 (hardware and models) exhibits: values worked out by hand from datasheets and formulas, and properties."""
from __future__ import annotations

import re

import pytest

from costlib import hardware, models
from costlib.book import hardware_chapter as ch
from costlib.present.exhibits import render_table
from costlib.present.report import SNAKE_CASE


def test_a100_ridge_point_by_hand():
    # A100 SXM datasheet: 312 TFLOP/s dense BF16, 2,039 GB/s -> 153 FLOP per byte
    part = ch.ridge_points()
    assert part["a100_ridge"] == pytest.approx(312e12 / 2039e9)
    df = part.tables["tbl-ridge"].data.set_index("device")
    assert df.loc[hardware.get_device("a100-80gb").name, "precision"] == "BF16"


def test_decode_floor_text_by_hand():
    # 7e9 weights x 2 bytes / 2,039 GB/s = 6.866 ms per token -> at most 145.6 tokens/s
    text = ch.floor_html("a100-80gb", "bf16")
    assert "6.87 ms" in text and "146 tokens/s" in text
    assert "TFLOP/s" not in ch.floor_html("a100-80gb", "fp8"), "the A100 has no FP8 path: the catalog's message"


def test_placement_intensity_grows_with_batch_and_prefill_is_compute_bound():
    part = ch.placement()
    i1, i16, i128 = (part[f"intensity_decode_{b}"] for b in ch.PLACEMENT_BATCHES)
    assert 0.9 < i1 < 1.1, "batch-1 decode: about one FLOP per byte at 16 bits"
    assert i1 < i16 < i128
    assert part["intensity_prefill_1000"] > hardware.get_device("h100-sxm").ridge_flops_per_byte("bf16")
    assert part["a100_ridge_over_decode"] == pytest.approx(312e12 / 2039e9 / i1)


def test_worked_problem_1_by_hand():
    v = ch.worked_problems().values
    # Llama-2-7B: 32 layers x 2 (K, V) x 32 heads x 128 x 2 bytes = 524,288 bytes per token
    assert v["wp1_kv_token"] == 32 * 2 * 32 * 128 * 2
    assert v["wp1_kv_gb"] == pytest.approx(524_288 * (128 + 2048) * 60 / 1e9, rel=1e-6)  # 68.4 GB
    assert v["wp1_device_gb"] == pytest.approx(80 * 2**30 / 1e9)  # 85.9 GB
    assert v["wp1_headroom_gb"] == pytest.approx(v["wp1_device_gb"] - v["wp1_need_gb"])
    assert v["wp1_decimal_fit"] == ("would not" if v["wp1_need_gb"] > 80 else "would fit")


def test_worked_problem_2_by_hand():
    v = ch.worked_problems().values
    active = models.get_model("gpt-oss-120b").active_params
    h100 = hardware.get_device("h100-sxm")
    assert v["wp2_h100_ms"] == pytest.approx(active * 1 / (h100.bandwidth_gb_s * 1e9) * 1e3)  # 8 bits per weight
    assert v["wp2_h100_tok"] == pytest.approx(1e3 / v["wp2_h100_ms"])
    assert v["wp2_pro_tok"] < v["wp2_h100_tok"], "less bandwidth, slower single stream"


def test_wide_tables_are_split_with_the_key_repeated():
    for part, label, key in ((ch.hardware_tables(), "tbl-hardware", "name"), (ch.model_catalog(), "tbl-models", "id")):
        html = render_table(label, part.tables[label]).data
        parts = html.split("<table")[1:]
        assert len(parts) >= 2
        for piece in parts:
            head = piece.split("</thead>")[0]
            assert head.count("<th") <= 8
            assert re.search(r"<th[^>]*>\s*" + re.escape(key) + r"\s*</th>", head), label


def test_no_snake_case_header():
    for part in (ch.hardware_tables(), ch.ridge_points(), ch.placement(), ch.model_catalog(), ch.kv_windows(),
                 ch.gpu_prices(), ch.api_prices()):
        for label, t in part.tables.items():
            r = render_table(label, t)
            html = r.to_html() if hasattr(r, "to_html") else r.data
            headers = [re.sub("<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)]
            assert headers and not [h for h in headers if SNAKE_CASE.match(h)], (label, headers)


def test_price_bands_are_ordered():
    df = ch.gpu_prices().tables["tbl-gpu-bands"].data
    assert ((df["low (USD/h)"] <= df["mid (USD/h)"]) & (df["mid (USD/h)"] <= df["high (USD/h)"])).all()
    assert set(df["kind"]) <= {"on-demand", "spot"}


def test_roofline_figure_is_legible():
    from costlib.present.report import small_text

    part = ch.roofline_exhibit()
    assert not small_text(part.figures["fig-roofline"])
