"""``costlib prices``: GPU rental bands by kind and the hosted-API table, each row dated."""
from __future__ import annotations

import json

import pytest

from costlib import prices
from costlib.cli import main


def _json(capsys, argv):
    assert main(argv + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_bands_match_the_library_and_list_their_offers(capsys):
    out = _json(capsys, ["prices", "--gpu", "h100-sxm", "--offers"])
    by_kind = {b["kind"]: b for b in out["bands"]}
    assert set(by_kind) == {"on-demand", "spot", "committed", "capacity-block"}
    for kind, b in by_kind.items():
        band = prices.gpu_price_band("h100-sxm", kind)
        assert (b["low"], b["mid"], b["high"]) == (band.low, band.mid, band.high)
        assert b["offers_n"] == len(b["offers"]) == len(prices.prices_for("h100-sxm", kind))
        assert all(o["as_of"] >= prices._months_before(out["catalog_date"], 12) for o in b["offers"])
    assert {o["offer"] for o in by_kind["spot"]["offers"]} <= {"spot", "community"}


def test_window_widens_the_band(capsys):
    narrow = _json(capsys, ["prices", "--gpu", "h200", "--kind", "on-demand"])["bands"][0]
    wide = _json(capsys, ["prices", "--gpu", "h200", "--kind", "on-demand", "--window-months", "36"])["bands"][0]
    assert wide["offers_n"] > narrow["offers_n"] and wide["oldest"] < narrow["oldest"]


def test_api_table_has_only_current_offers_each_dated(capsys):
    out = _json(capsys, ["prices", "--api"])
    assert out["offers"] and all(r["status"] == "current" and r["price_date"] for r in out["offers"])
    ids = {r["id"] for r in out["offers"]}
    assert "gpt-4o-mini" not in ids and "deepinfra-gpt-oss-120b" in ids
    every = _json(capsys, ["prices", "--api", "--include-retired"])
    assert "gpt-4o-mini" in {r["id"] for r in every["offers"]}
    mid = _json(capsys, ["prices", "--api", "--tier", "mid"])
    assert {r["tier"] for r in mid["offers"]} == {"mid"}
    blends = [r["blended_usd_per_1m"] for r in mid["offers"]]
    assert blends == sorted(blends)


@pytest.mark.parametrize("argv, needle", [
    (["prices", "--gpu", "gh200", "--kind", "spot"], "gpu='gh200'"),
    (["prices", "--gpu", "h100-sxmm"], "h100-sxm"),
    (["prices", "--window-months", "-2"], "window_months"),
    (["prices", "--api", "--gpu", "h100-sxm"], "api"),
    (["prices", "--tier", "mid"], "only with --api"),
])
def test_bad_input_is_one_line_exit_2(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err
