"""Current-tier defaults (one rule for every chapter) and committed/spot factors read from paired rate-card rows."""
from __future__ import annotations

import pytest

from costlib import planner, prices
from costlib.errors import InputError


# --- the current tier offer of a provider ---------------------------------------------------------------

def test_current_tier_offer_is_the_providers_cheapest_current_row_in_the_tier():
    # OpenAI's current large rows: GPT-6.1 Sol and GPT-6 Astra; Sol is the cheaper blend (3:1) of the two
    sol, astra = prices.get_api_price("openai-gpt-6.1-sol"), prices.get_api_price("openai-gpt-6-astra")
    assert sol.blended_usd_per_1m < astra.blended_usd_per_1m
    assert prices.current_tier_offer("OpenAI", "large") == "openai-gpt-6.1-sol"
    assert prices.current_tier_offer("OpenAI", "small") == "openai-gpt-6-luna"
    for tier in prices.TIERS:
        for api_id in prices.api_tiers()[tier]:
            p = prices.get_api_price(api_id)
            chosen = prices.get_api_price(prices.current_tier_offer(p.provider, tier))
            assert chosen.is_current and chosen.tier == tier and chosen.provider == p.provider
            assert chosen.blended_usd_per_1m <= p.blended_usd_per_1m


def test_current_tier_offer_refuses_a_bad_tier_or_a_provider_without_one():
    with pytest.raises(InputError, match="tier"):
        prices.current_tier_offer("OpenAI", "huge")
    with pytest.raises(InputError, match="provider.*Acme"):
        prices.current_tier_offer("Acme", "small")


def test_current_successor_names_todays_offer_for_every_old_id():
    assert prices.current_successor("gpt-4o") == "openai-gpt-6.1-sol"
    assert prices.current_successor("gpt-4o-mini") == "openai-gpt-6-luna"
    assert prices.current_successor("openai-gpt-6-luna") == "openai-gpt-6-luna"
    for api_id in prices.api_prices():
        assert prices.get_api_price(prices.current_successor(api_id)).is_current


def test_no_chapter_defaults_to_a_retired_or_superseded_offer():
    from costlib.book import enterprise_chapter as ec
    from costlib.book import optimizations_chapter as oc
    from costlib.book import techniques as tech

    assert tech.REFERENCE_LARGE_API == prices.current_tier_offer("OpenAI", "large") == prices.current_successor("gpt-4o")
    assert oc.SMALL_API == prices.current_tier_offer("OpenAI", "small") == prices.current_successor("gpt-4o-mini")
    assert ec.LARGE_API == prices.current_tier_offer("OpenAI", "large")
    assert ec.SMALL_API == prices.current_tier_offer("OpenAI", "small")
    assert oc.DIST_TEACHERS == tuple(prices.current_successor(a) for a in
                                     ("gpt-4o", "claude-3.5-sonnet", "gpt-4o-mini", "deepseek-v3"))
    for api_id in (tech.REFERENCE_LARGE_API, oc.SMALL_API, *oc.DIST_TEACHERS, *ec.COMPARED_APIS):
        prices.get_api_price(api_id, current=True)  # raises RetiredOfferError otherwise


# --- offer factors from one provider's paired rows ------------------------------------------------------

def test_reserved_factor_band_is_hand_worked_from_hyperstacks_rate_card():
    # hyperstack.cloud/gpu-pricing 2026-08-26, reserved / on-demand: B200 5.10/6.00 = 0.85, H200 2.79/3.99 = 0.6992,
    # H100 SXM 2.72/3.20 = 0.85, H100 PCIe 1.75/2.50 = 0.70, A100 1.36/1.60 = 0.85, L40 0.70/1.00 = 0.70;
    # median of six = (0.70 + 0.85) / 2 = 0.775
    pairs = prices.offer_pairs("reserved")
    assert {c.provider for c, _ in pairs} == {"Hyperstack"} and len(pairs) == 6
    assert all((c.gpu_id, c.as_of, c.region) == (o.gpu_id, o.as_of, o.region) and o.offer == "on-demand" for c, o in pairs)
    b = prices.offer_factor_band("reserved")
    assert b.low == pytest.approx(2.79 / 3.99) and b.mid == pytest.approx(0.775) and b.high == pytest.approx(0.85)


def test_spot_pairs_never_mix_providers():
    for c, o in prices.offer_pairs("spot"):
        assert c.provider == o.provider and c.gpu_id == o.gpu_id
        assert 0 < c.price_usd_per_gpu_hour < o.price_usd_per_gpu_hour


def test_offer_factor_band_refuses_on_demand_and_unknown_offers():
    for bad in ("on-demand", "monthly"):
        with pytest.raises(InputError, match="offer"):
            prices.offer_factor_band(bad)


def test_planner_committed_factors_follow_the_one_rule(monkeypatch):
    # no reserved-1y / reserved-3y row in prices.csv today: the planner keeps offer_discounts.csv's range
    for offer in planner.COMMITTED_OFFERS:
        assert prices.offer_factor_band(offer) is None
    assert planner.offer_price_factor("reserved-1y") == planner.Band(0.53, 0.65, 0.80)
    assert planner.offer_price_factor("reserved-3y") == planner.Band(0.40, 0.50, 0.60)
    # once a provider's own committed row is paired with its on-demand row, the planner's factor is that ratio
    fake = planner.Band(0.6, 0.62, 0.7)
    monkeypatch.setattr(prices, "offer_factor_band", lambda offer, window_months=12: fake if offer == "reserved-1y" else None)
    planner.offer_factors.cache_clear()
    try:
        assert planner.offer_price_factor("reserved-1y") == fake
        assert planner.offer_price_factor("reserved-3y") == planner.Band(0.40, 0.50, 0.60)
        assert planner.offer_price(4.0, "reserved-1y").mid == pytest.approx(2.48)
    finally:
        monkeypatch.undo()
        planner.offer_factors.cache_clear()


def test_offer_factor_exhibit_says_where_the_planners_factors_come_from():
    from costlib.book import offer_factors

    ex = offer_factors.offer_factor_exhibit()
    v = ex.values
    assert v["of_n_committed_terms"] == 0 and v["of_r1y_from"] == "offer_discounts.csv"
    assert (v["of_r1y_lo"], v["of_r1y_mid"], v["of_r1y_hi"]) == (0.53, 0.65, 0.80)
    assert v["of_res_mid"] == pytest.approx(0.775) and v["of_res_n"] == 6
    df = ex.tables["tbl-offer-pairs"].data
    assert len(df) == v["of_n_pairs"] == len(prices.offer_pairs("reserved")) + len(prices.offer_pairs("spot")) + len(prices.offer_pairs("community"))
    assert (df["share of on-demand"] < 1).all() and (df["share of on-demand"] > 0).all()
