"""Chapter 0's evidence for the planner's committed and spot price factors: each provider's own committed or spot
price next to its own on-demand price for the same GPU, region and day (:func:`costlib.prices.offer_pairs`).

One rule (:func:`costlib.planner.offer_factors`): where prices.csv holds a provider's reserved-1y or reserved-3y row
paired with its on-demand row, the planner's factor for that term is the range of those ratios; otherwise it is the
sourced range of ``offer_discounts.csv``. The table shows which case applies today.
"""
from __future__ import annotations

import pandas as pd

from costlib import planner, prices
from costlib.hardware import get_device
from costlib.present.exhibits import Exhibits, Table

KINDS = ("reserved-1y", "reserved-3y", "reserved", "spot", "community")
"""Offers shown, committed first (``reserved``: a committed contract whose term the rate card does not state)."""


def pair_rows() -> pd.DataFrame:
    """One row per paired offer: provider, GPU, offer, its price, the on-demand price and the ratio."""
    rows = []
    for offer in KINDS:
        for c, o in prices.offer_pairs(offer):
            rows.append({"provider": c.provider, "GPU": get_device(c.gpu_id).name, "offer": offer,
                         "US$ per GPU-hour": c.price_usd_per_gpu_hour, "on-demand US$ per GPU-hour": o.price_usd_per_gpu_hour,
                         "share of on-demand": c.price_usd_per_gpu_hour / o.price_usd_per_gpu_hour, "read on": c.as_of})
    return pd.DataFrame(rows)


def offer_factor_exhibit() -> Exhibits:
    """Exhibit: the paired offers, and the factor bands the planner uses with where each comes from."""
    df = pair_rows()
    values = {"of_n_pairs": len(df), "of_n_committed_terms": int(df["offer"].isin(planner.COMMITTED_OFFERS).sum())}
    for offer, key in (("reserved", "of_res"), ("spot", "of_spot"), ("community", "of_comm")):
        b = prices.offer_factor_band(offer)
        values.update({f"{key}_lo": b.low, f"{key}_mid": b.mid, f"{key}_hi": b.high,
                       f"{key}_n": int((df["offer"] == offer).sum())})
    for offer, key in (("reserved-1y", "of_r1y"), ("reserved-3y", "of_r3y"), ("spot", "of_pspot")):
        b = planner.offer_price_factor(offer)
        values.update({f"{key}_lo": b.low, f"{key}_mid": b.mid, f"{key}_hi": b.high})
    values["of_r1y_from"] = ("the providers' paired rows" if prices.offer_factor_band("reserved-1y") is not None
                             else "offer_discounts.csv")
    return Exhibits(values, {"tbl-offer-pairs": Table(df, percent=("share of on-demand",), key=("provider", "GPU"),
                                                      formats={"US$ per GPU-hour": "{:.2f}", "on-demand US$ per GPU-hour": "{:.2f}"},
                                                      max_columns=6)})
