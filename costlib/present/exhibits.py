"""Glue a chapter's facts and exhibits in one call each (the training and memory chapters' glue).

A chapter module (``costlib.book.<topic>_chapter``) computes a section's exhibit and returns the numbers its prose
quotes as a dict ``{glue key: value}``; the notebook glues them with :func:`glue_facts` and the exhibit with
:func:`glue_exhibit`, so a visible exhibit cell is one or two lines. The single-value helpers are those of
:mod:`costlib.present.notebook` (one rule for how a number or a text is glued).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from costlib.errors import InputError
from costlib.present.notebook import _glue, downloads, glue_figure, glue_value


def glue_facts(facts: Mapping[str, Any], digits: int | None = None) -> int:
    """Glue every ``key: value`` of ``facts`` (strings as text, numbers as plain floats); returns how many.

    Python and numpy integers are glued as integers (a count or a context length prints without a decimal point);
    ``None`` values are refused (a fact that could not be computed must say so in words, not vanish from a page).
    """
    if not isinstance(facts, Mapping):
        raise InputError("facts", type(facts).__name__, "a mapping of glue key -> value")
    for key, value in facts.items():
        if value is None:
            raise InputError(f"facts[{key!r}]", None, "a number or a text")
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            _glue(key, int(value))  # integers stay integers on the page ("8,192", not "8,192.0")
        else:
            glue_value(key, value, digits)
    return len(facts)


def glue_exhibit(key: str, shown: Any, data: Any = None) -> None:
    """Glue an exhibit under ``key`` and save its downloads as ``dl-<key>``.

    ``shown``: a matplotlib figure (saved as SVG + PNG, then closed), or what the page shows of a table (a pandas
    Styler or an HTML object from :func:`costlib.present.report.exhibit_table`); ``data``: the DataFrame behind a
    table, saved as CSV (default: ``shown`` itself when it is a DataFrame or Styler).
    """
    if hasattr(shown, "savefig"):
        glue_figure(key, shown)
        return
    _glue(key, shown)
    target = shown if data is None else data
    if not (hasattr(target, "to_csv") or hasattr(target, "data")):
        raise InputError("data", type(target).__name__, "the DataFrame behind the table (for its CSV download)")
    downloads(key, target)
