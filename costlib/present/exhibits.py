"""A chapter's exhibits, glued in one call: numbers for the prose, tables, figures and their downloads.

A chapter function in :mod:`costlib.book` computes an exhibit and returns either an :class:`Exhibits` (plain values,
DataFrames, matplotlib figures), shown with :func:`publish`, or a dict of facts ``{glue key: value}`` shown with
:func:`glue_facts` and one exhibit shown with :func:`glue_exhibit`. Either way the notebook's visible cell is that
call, every table passes the one label map (:func:`costlib.present.report.exhibit_table`: words with units, split
into parts when too wide) with its CSV download (``dl-<label>``), and every figure is glued with its SVG/PNG
downloads (:mod:`costlib.present.notebook`). So a notebook holds no formatting code of its own (issue 17).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from costlib.errors import InputError
from costlib.present.notebook import _glue, downloads, glue_figure, glue_value
from costlib.present.report import exhibit_table


@dataclass(frozen=True)
class Table:
    """A table exhibit: ``frame`` (a DataFrame, cells already text or numbers), the ``key`` columns every part of a
    split table repeats, the widest part (``max_columns``), columns shown as percentages, or a ready ``styled``
    object (a Styler or HTML, e.g. :func:`costlib.book.claims.claims_table`) shown instead of the formatted frame."""

    frame: Any
    key: tuple[str, ...] | str | None = None
    max_columns: int = 7
    percent: tuple[str, ...] = ()
    styled: Any = None


@dataclass
class Exhibits:
    """What a chapter function hands the notebook: ``values`` (glue key -> number or text), ``tables`` (label ->
    :class:`Table` or DataFrame), ``figures`` (label -> matplotlib figure), and ``data`` (anything the chapter's
    next call needs, never glued)."""

    values: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        for part in (self.values, self.data, self.tables, self.figures):
            if key in part:
                return part[key]
        raise InputError("key", key, "a value, table, figure or data key of this exhibit")


def styled_table(label: str, spec: Any):
    """The object glued for a table exhibit ``label`` (``spec``: a :class:`Table` or a DataFrame)."""
    t = spec if isinstance(spec, Table) else Table(spec)
    if t.styled is not None:
        return t.styled
    key = (t.key,) if isinstance(t.key, str) else t.key
    return exhibit_table(t.frame, label, key=list(key) if key else None, max_columns=t.max_columns,
                         percent=t.percent)


def publish(ex: Exhibits) -> None:
    """Glue every value, table and figure of ``ex`` (with downloads for tables and figures); displays nothing."""
    from myst_nb import glue  # on demand: the library never needs the notebook toolchain

    if not isinstance(ex, Exhibits):
        raise InputError("ex", type(ex).__name__, "an Exhibits (values, tables, figures)")
    for key, value in ex.values.items():
        glue_value(key, value)
    for label, spec in ex.tables.items():
        frame = spec.frame if isinstance(spec, Table) else spec
        glue(label, styled_table(label, spec), display=False)
        downloads(label, frame)
    for label, fig in ex.figures.items():
        glue_figure(label, fig)


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
