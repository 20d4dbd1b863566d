"""costlib.explore: the static explorer's precomputed grid and HTML, and the download helpers.

The in-browser behaviour (moving a control changes the shown value) is tested in tests/browser.
"""

from __future__ import annotations

import html
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from costlib.errors import CostlibError, InputError  # noqa: E402
from costlib.present.explore import (  # noqa: E402
    explorer_grid,
    explorer_html,
    format_value,
    save_figure,
    save_table,
    static_explorer,
)
from costlib.hardware import get_device  # noqa: E402
from costlib.uncertainty import Band  # noqa: E402


def add_mul(a, b):
    return {"sum": a + b, "prod": a * b}


def embedded(html_text: str) -> dict:
    m = re.search(r'<script type="application/json" class="cx-data">(.*?)</script>', html_text, re.S)
    assert m, "no embedded JSON"
    return json.loads(m.group(1).replace("<\\/", "</"))


def shown_results(html_text: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'<td data-k="\d+">(.*?)</td>', html_text)]


# ------------------------------------------------------------------------------------------ the grid
def test_grid_is_row_major_last_input_fastest():
    names, cells = explorer_grid({"a": [1, 2, 3], "b": [10, 20]}, add_mul)
    assert names == ["sum", "prod"]
    # index = i_a * len(b) + i_b: (1,10) (1,20) (2,10) (2,20) (3,10) (3,20)
    assert [c["sum"] for c in cells] == [11, 21, 12, 22, 13, 23]
    assert [c["prod"] for c in cells] == [10, 20, 20, 40, 30, 60]


def test_costlib_error_becomes_that_cells_message_and_others_still_compute():
    def f(x):
        if x < 0:
            raise InputError("x", x, "x >= 0")
        return {"root": x ** 0.5}

    names, cells = explorer_grid({"x": [-1, 4, 9]}, f)
    assert names == ["root"]
    assert cells[0] == "x=-1 is not allowed: x >= 0"
    assert cells[1] == {"root": 2.0} and cells[2] == {"root": 3.0}


def test_other_exceptions_propagate():
    def f(x):
        raise ZeroDivisionError("bug")

    with pytest.raises(ZeroDivisionError):
        explorer_grid({"x": [1]}, f)


@pytest.mark.parametrize(
    "inputs, parameter",
    [
        ({}, "inputs"),
        ({"a": []}, "inputs['a']"),
        ({"a": "abc"}, "inputs['a']"),
        ({"a": [1, 1]}, "inputs['a']"),
        ({"a": list(range(100)), "b": list(range(100))}, "inputs"),  # 10,000 > max_cells
    ],
)
def test_bad_inputs_name_the_parameter(inputs, parameter):
    with pytest.raises(InputError) as err:
        explorer_grid(inputs, lambda **kw: {"y": 1})
    assert err.value.parameter == parameter


def test_compute_must_return_the_same_names_everywhere():
    with pytest.raises(InputError) as err:
        explorer_grid({"a": [1, 2]}, lambda a: {"y": 1} if a == 1 else {"z": 1})
    assert err.value.parameter == "compute"
    with pytest.raises(InputError):
        explorer_grid({"a": [1]}, lambda a: 3.0)  # not a dict


def test_all_points_failing_is_an_error():
    def f(a):
        raise InputError("a", a, "nothing")

    with pytest.raises(InputError) as err:
        explorer_grid({"a": [1, 2]}, f)
    assert err.value.parameter == "compute"


# ------------------------------------------------------------------------------------------ formatting
@pytest.mark.parametrize(
    "value, spec, expected",
    [
        (1234.5, None, "1,234"),  # 4 significant digits by default
        (1234.5, ",.1f", "1,234.5"),
        (0.4567, "$,.2f", "$0.46"),
        (80.0, ",.0f| GB", "80 GB"),
        (0.25, ".0%", "25%"),
        (7, None, "7"),
        (1_000_000, None, "1,000,000"),
        ("h100-sxm", None, "h100-sxm"),
        (float("nan"), ",.1f", "—"),
        (None, None, "—"),
        (True, None, "yes"),
        (Band(1.0, 2.0, 4.0), ",.1f", "2.0 (1.0–4.0)"),
        (3.0, lambda v: f"<{v}>", "<3.0>"),
    ],
)
def test_format_value(value, spec, expected):
    assert format_value(value, spec) == expected


# ------------------------------------------------------------------------------------------ the HTML
def test_html_embeds_every_formatted_cell_and_shows_the_default():
    text = explorer_html("Sum and product", {"a": [1, 2, 3], "b": [10, 20]}, add_mul,
                         fmt={"sum": ",.0f", "prod": ",.0f| units"}, default={"a": 2, "b": 20},
                         labels={"prod": "a × b"})
    data = embedded(text)
    assert data["n"] == [3, 2]
    assert data["cells"] == [["11", "10 units"], ["21", "20 units"], ["12", "20 units"],
                             ["22", "40 units"], ["13", "30 units"], ["23", "60 units"]]
    # Server-rendered default (a=2, b=20 -> index 1*2+1 = 3): visible without JavaScript.
    assert shown_results(text) == ["22", "40 units"]
    assert "a × b" in html.unescape(text)
    # Controls: numeric inputs are sliders over the value index, starting at the default.
    assert re.search(r'<input type="range" id="cx-\w+-in0" data-i="0" min="0" max="2" step="1" value="1"', text)
    assert re.search(r'<input type="range" id="cx-\w+-in1" data-i="1" min="0" max="1" step="1" value="1"', text)
    # Self-contained: no external script, no src= at all.
    assert "src=" not in text and "http" not in text


def test_numbers_come_from_costlib():
    devices = ["t4", "a100-80gb", "h100-sxm"]
    text = explorer_html(
        "Ridge point", {"device": devices, "precision": ["bf16", "int8"]},
        lambda device, precision: {"ridge": get_device(device).ridge_flops_per_byte(precision)},
        fmt=",.1f",
    )
    cells = embedded(text)["cells"]
    for i, dev in enumerate(devices):
        for j, prec in enumerate(["bf16", "int8"]):
            cell = cells[i * 2 + j]
            try:
                expected = [f"{get_device(dev).ridge_flops_per_byte(prec):,.1f}"]
            except CostlibError as exc:  # e.g. a device without that precision
                expected = str(exc)
            assert cell == expected
    # Hand check, A100 80GB at BF16: 312e12 FLOP/s / 2039e9 B/s = 153.0 FLOP/byte (datasheet numbers).
    assert cells[1 * 2 + 0] == ["153.0"]
    # String inputs are drop-downs.
    assert '<option value="1" selected>' not in text and '<option value="0" selected>t4</option>' in text


def test_error_cell_default_shows_message():
    def f(x):
        if x == 0:
            raise InputError("x", 0, "x > 0")
        return {"inv": 1 / x}

    text = explorer_html("Inverse", {"x": [0, 2]}, f)
    assert embedded(text)["cells"][0] == "x=0 is not allowed: x > 0"
    assert '<p class="cx-error">x=0 is not allowed: x &gt; 0</p>' in text
    assert shown_results(text) == ["—"]


def test_html_is_deterministic_and_ids_differ_between_explorers():
    a = explorer_html("T", {"a": [1, 2]}, lambda a: {"y": a})
    b = explorer_html("T", {"a": [1, 2]}, lambda a: {"y": a})
    c = explorer_html("T", {"a": [1, 2]}, lambda a: {"y": 2 * a})
    assert a == b
    id_a = re.search(r'id="(cx-[0-9a-f]{10})"', a).group(1)
    id_c = re.search(r'id="(cx-[0-9a-f]{10})"', c).group(1)
    assert id_a != id_c


def test_script_end_tag_in_a_value_cannot_break_out():
    text = explorer_html("T", {"a": ["x"]}, lambda a: {"y": "</script><b>"})
    data_part = re.search(r'class="cx-data">(.*?)</script>', text, re.S).group(1)
    assert "</script>" not in data_part
    assert embedded(text)["cells"] == [["</script><b>"]]


def test_bad_default_and_title():
    with pytest.raises(InputError) as err:
        explorer_html("T", {"a": [1, 2]}, lambda a: {"y": a}, default={"a": 3})
    assert err.value.parameter == "default['a']"
    with pytest.raises(InputError) as err:
        explorer_html("T", {"a": [1, 2]}, lambda a: {"y": a}, default={"nope": 1})
    assert err.value.parameter == "default"
    with pytest.raises(InputError) as err:
        explorer_html("  ", {"a": [1]}, lambda a: {"y": a})
    assert err.value.parameter == "title"


def test_static_explorer_returns_displayable_html():
    obj = static_explorer("T", {"a": [1, 2]}, lambda a: {"y": a})
    assert obj._repr_html_() == explorer_html("T", {"a": [1, 2]}, lambda a: {"y": a})


# ------------------------------------------------------------------------------------------ downloads
def test_save_table_writes_csv_and_returns_link(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    df = pd.DataFrame({"id": ["t4", "h100-sxm"], "bandwidth_gb_s": [320.0, 3350.0]})
    link = save_table(df.style.hide(axis="index"), "tbl-bw")
    assert link == "Download: [CSV](_downloads/tbl-bw.csv)"
    assert (tmp_path / "_downloads" / "tbl-bw.csv").read_text() == "id,bandwidth_gb_s\nt4,320.0\nh100-sxm,3350.0\n"


def test_save_figure_writes_reproducible_svg_and_png(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([1, 2, 3], [1, 4, 9])
    link = save_figure(fig, "fig-test")
    assert link == "Download: [SVG](_downloads/fig-test.svg) · [PNG](_downloads/fig-test.png)"
    svg = (tmp_path / "_downloads" / "fig-test.svg").read_bytes()
    png = (tmp_path / "_downloads" / "fig-test.png").read_bytes()
    assert svg.startswith(b"<?xml") and b"<svg" in svg and b"<dc:date>" not in svg
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    save_figure(fig, "fig-test")  # again: byte-identical, so re-executing a notebook leaves no diff
    assert (tmp_path / "_downloads" / "fig-test.svg").read_bytes() == svg
    assert (tmp_path / "_downloads" / "fig-test.png").read_bytes() == png
    plt.close(fig)


def test_download_helpers_reject_bad_arguments(tmp_path):
    df = pd.DataFrame({"a": [1]})
    with pytest.raises(InputError) as err:
        save_table(df, "../escape", folder=tmp_path.relative_to(tmp_path))
    assert err.value.parameter == "name"
    with pytest.raises(InputError) as err:
        save_table([1, 2], "tbl-x")
    assert err.value.parameter == "table"
    with pytest.raises(InputError) as err:
        save_table(df, "tbl-x", folder=tmp_path)  # absolute: a link to it would not work in the book
    assert err.value.parameter == "folder"
    with pytest.raises(InputError) as err:
        save_figure("not a figure", "fig-x")
    assert err.value.parameter == "fig"
