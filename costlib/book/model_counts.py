"""Chapter 0's parameter-count check: every computed count next to the maker's figure as printed and the counts
that figure stands for.

A figure printed to three or more significant digits ("30.5B", "109B") is taken as exact to 1%; one printed to
two ("3.3B activated", "17B active") stands for any count the maker rounded to nearest or down to it
(:func:`costlib.models.published_interval`). The check is the one ``tests/test_models_published.py`` asserts:
every computed total within 1% of the published total, every computed active count inside its figure's interval.
"""
from __future__ import annotations

import pandas as pd

from costlib import models
from costlib.present.exhibits import Exhibits, Table


def _printed(value: float, digits: int | None) -> str:
    """A maker's figure as printed: two digits as "3.3B", exact counts to 4 significant digits."""
    if digits:
        return f"{value / 1e9:.{max(digits - len(str(int(value // 1e9))), 0)}f}B" if value >= 1e9 else f"{value / 1e6:.0f}M"
    return f"{value / 1e9:.5g}B"


def count_rows() -> pd.DataFrame:
    """One row per catalog model: computed total and active counts, the published figures, their intervals and
    the signed errors (percent of the published figure)."""
    rows = []
    for m in models.models().values():
        lo, hi = m.published_range
        row = {"id": m.id, "model": m.name, "total_b": m.total_params / 1e9, "published_total": _printed(m.published_params, m.published_digits),
               "total_error_pct": 100 * (m.total_params / m.published_params - 1), "total_lo_b": lo / 1e9, "total_hi_b": hi / 1e9,
               "active_b": None, "published_active": "", "active_error_pct": None, "active_lo_b": None, "active_hi_b": None,
               "active_digits": None, "active_inside": None}
        if m.published_active and m.published_active_params:  # MoE (or vision) models with their own active figure
            alo, ahi = m.published_active_range
            act = m.active_params_published_basis
            row.update(active_b=act / 1e9, published_active=_printed(m.published_active, m.published_active_digits),
                       active_error_pct=100 * (act / m.published_active - 1), active_lo_b=alo / 1e9, active_hi_b=ahi / 1e9,
                       active_digits=m.published_active_digits, active_inside=bool(alo <= act < ahi))
        rows.append(row)
    return pd.DataFrame(rows)


def count_check() -> Exhibits:
    """Exhibit: computed counts against the published figures (every model with its own active figure; the
    dense models' totals are in the model catalog table), with the values the prose glues."""
    df = count_rows()
    act = df[df["active_b"].notna()].copy()
    two = act[act["active_digits"].notna()]
    shown = pd.DataFrame({
        "model": act["model"],
        "total, computed (billions)": act["total_b"].map("{:,.3f}".format),
        "total, published": act["published_total"],
        "total error (%)": act["total_error_pct"].map("{:+.2f}".format),
        "active, computed (billions)": act["active_b"].map("{:,.3f}".format),
        "active, published": act["published_active"],
        "counts the active figure stands for (billions)": [f"{lo:,.3f} to {hi:,.3f}" for lo, hi in zip(act["active_lo_b"], act["active_hi_b"])],
        "active error (%)": act["active_error_pct"].map("{:+.2f}".format),
    })
    worst_total = df.loc[df["total_error_pct"].abs().idxmax()]
    worst_active = act.loc[act["active_error_pct"].abs().idxmax()]
    q = act.set_index("id")
    values = {
        "pc_n_models": len(df), "pc_max_total_err": float(df["total_error_pct"].abs().max()),
        "pc_max_total_model": worst_total["model"], "pc_n_active": len(act), "pc_n_two_digit": len(two),
        "pc_all_inside": "all" if bool(act["active_inside"].all()) else "not all",
        "pc_max_active_err": float(act["active_error_pct"].abs().max()), "pc_max_active_model": worst_active["model"],
        "pc_q30_active_b": float(q.loc["qwen3-30b-a3b", "active_b"]), "pc_q30_lo_b": float(q.loc["qwen3-30b-a3b", "active_lo_b"]),
        "pc_q30_hi_b": float(q.loc["qwen3-30b-a3b", "active_hi_b"]),
    }
    return Exhibits(values, {"tbl-param-counts": Table(shown, key="model", max_columns=5)})
