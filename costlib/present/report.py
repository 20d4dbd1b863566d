"""Presentation helpers for the notebooks: deterministic, captionable tables.

pandas gives every styled table a random HTML id, which would make stored notebook outputs differ on every run;
:func:`table` fixes the id to the table's label so nbval can compare the rendered HTML (and its numbers).
"""
from __future__ import annotations

import re

import pandas as pd


def table(df: pd.DataFrame, label: str, formats: dict | str | None = None, *, precision: int | None = None):
    """A pandas Styler with a stable id (from ``label``), no index column, and optional number formats.

    Glue it (``glue(label, table(df, label), display=False)``) and show it with a ``{glue:figure}`` directive that
    carries the caption and ``:name: label``.
    """
    uuid = re.sub(r"[^0-9A-Za-z_]", "_", label)
    styler = df.style.hide(axis="index").set_uuid(uuid)
    if formats is not None or precision is not None:
        styler = styler.format(formats, precision=precision, na_rep="")
    return styler
