"""The published-count check of chapter 0 (costlib.book.model_counts): computed counts against the makers' figures."""
from __future__ import annotations

import pytest

from costlib import models
from costlib.book import model_counts as mc


def test_every_computed_total_within_one_percent_of_the_published_total():
    df = mc.count_rows()
    assert len(df) == len(models.models())
    assert df["total_error_pct"].abs().max() < 1.0


def test_every_active_count_inside_its_figures_rounding_interval():
    act = mc.count_rows().dropna(subset=["active_b"])
    assert len(act) >= 9 and act["active_inside"].all()
    exact = act[act["active_digits"].isna()]  # printed to 3+ significant digits: also within 1%
    assert set(exact["id"]) >= {"gpt-oss-20b", "gpt-oss-120b", "mixtral-8x7b"}
    assert exact["active_error_pct"].abs().max() < 1.0


def test_the_two_loose_figures_of_the_brief_by_hand():
    rows = mc.count_rows().set_index("id")
    # Qwen3-30B-A3B: 3,353,020,416 active (computed in tests/test_models.py) vs "3.3B": +1.61 %, inside 3.25-3.40B
    q = rows.loc["qwen3-30b-a3b"]
    assert q["active_error_pct"] == pytest.approx(100 * (3_353_020_416 / 3.3e9 - 1))
    assert (q["active_lo_b"], q["active_hi_b"]) == pytest.approx((3.25, 3.40)) and q["published_active"] == "3.3B"
    # Llama 4 Scout: 17.17B vs "17B": +1.02 %, inside 16.5-18B; total 108.64B vs "109B": -0.33 %
    s = rows.loc["llama-4-scout"]
    assert 1.0 < s["active_error_pct"] < 1.1 and (s["active_lo_b"], s["active_hi_b"]) == pytest.approx((16.5, 18.0))
    assert s["published_total"] == "109B" and s["total_error_pct"] == pytest.approx(-0.33, abs=0.01)


def test_qwen3_1_7b_published_total_is_the_released_weight_count():
    m = models.get_model("qwen3-1.7b")
    assert m.published_params == 1_720_574_976 and m.published_digits is None
    # costlib leaves out Qwen3's q_norm / k_norm (2 x head_dim 128 per layer, 28 layers): exactly the gap
    assert m.published_params - m.total_params == 2 * 128 * 28


def test_count_check_exhibit_values():
    v = mc.count_check().values
    assert v["pc_all_inside"] == "all" and v["pc_max_total_err"] < 1.0
    assert v["pc_max_active_model"] == "Qwen3-30B-A3B" and v["pc_max_active_err"] == pytest.approx(1.6067, abs=1e-3)
