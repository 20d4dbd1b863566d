"""Units, validation, bands and the CLI's foundation subcommands."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from costlib import units, validate
from costlib.cli import main
from costlib.errors import InputError
from costlib.uncertainty import Band, band_from_samples


@pytest.mark.parametrize("text, value", [("7e9", 7e9), ("7B", 7e9), ("6.74b", 6.74e9), ("2T", 2e12), ("500M", 5e8), ("1.5k", 1500.0), (3, 3.0)])
def test_parse_quantity(text, value):
    assert units.parse_quantity(text) == value


@pytest.mark.parametrize("text", ["seven", "7X", "", "nan", "inf", "1e999"])
def test_parse_quantity_rejects(text):
    with pytest.raises(InputError, match="tokens="):
        units.parse_quantity(text, "tokens")


def test_int4_is_a_quarter_of_fp16_and_fp8_half():
    assert units.bytes_per_value("int4") * 4 == units.bytes_per_value("fp16")
    assert units.bytes_per_value("fp8") * 2 == units.bytes_per_value("bf16")
    with pytest.raises(InputError, match="precision='fp12'"):
        units.bytes_per_value("fp12")


def test_validators_name_parameter_value_and_rule():
    with pytest.raises(InputError, match=r"mfu=0.0 is not allowed: a fraction with 0 < mfu <= 1"):
        validate.fraction("mfu", 0)
    with pytest.raises(InputError, match=r"mfu=1.5"):
        validate.fraction("mfu", 1.5)
    with pytest.raises(InputError, match=r"tokens=nan is not allowed: a finite number"):
        validate.positive("tokens", float("nan"))
    with pytest.raises(InputError, match=r"tokens=-1.0"):
        validate.positive("tokens", np.array([1.0, -1.0]))
    with pytest.raises(InputError, match=r"gpus=1.5 is not allowed: a whole number >= 1"):
        validate.whole("gpus", 1.5)
    with pytest.raises(InputError, match="a number, not a boolean"):
        validate.positive("gpus", True)
    assert validate.positive("x", [1, 2]).tolist() == [1.0, 2.0]


@given(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=50))
def test_band_from_samples_is_ordered_and_inside_the_data(samples):
    band = band_from_samples(samples)
    assert min(samples) - 1e-12 <= band.low <= band.mid <= band.high <= max(samples) + 1e-12


def test_band_rejects_disorder_and_maps_monotone_functions():
    with pytest.raises(InputError, match="low <= mid <= high"):
        Band(2, 1, 3)
    b = Band(0.3, 0.4, 0.5)
    inv = b.map(lambda m: 1 / m, decreasing=True)
    assert inv.low == pytest.approx(2.0) and inv.high == pytest.approx(1 / 0.3)
    assert Band.point(1.0).as_dict() == {"low": 1.0, "mid": 1.0, "high": 1.0}


def test_cli_gpus_json_lists_catalog_with_sources(capsys):
    assert main(["gpus", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    ids = {g["id"] for g in payload["gpus"]}
    assert {"a100-80gb", "h100-sxm", "tpu-v5e"} <= ids
    for g in payload["gpus"]:
        assert g["source"] and g["as_of"]
    a100 = next(g for g in payload["gpus"] if g["id"] == "a100-80gb")
    assert a100["dense_peak_tflops"]["bf16"] == 312


def test_cli_models_json_gives_computed_counts(capsys):
    assert main(["models", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    l8 = next(m for m in payload["models"] if m["id"] == "llama-3.1-8b")
    assert l8["total_params"] == l8["active_params"] == 8_030_261_248
    mix = next(m for m in payload["models"] if m["id"] == "mixtral-8x7b")
    assert mix["active_params"] < mix["total_params"]


def test_cli_bad_command_exits_2_with_one_line(capsys):
    assert main(["gpuz"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("costlib: error:")


def test_cli_text_table(capsys):
    assert main(["gpus"]) == 0
    out = capsys.readouterr().out
    assert "a100-80gb" in out and "dense peaks in TFLOP/s" in out
