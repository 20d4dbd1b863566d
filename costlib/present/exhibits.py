"""A chapter's exhibits as one value: glued numbers, tables and figures, published by one call.

A chapter function in :mod:`costlib.book` computes an exhibit and returns an :class:`Exhibits` (plain values,
DataFrames, matplotlib figures); the notebook's visible cell is that call and :func:`publish`, which glues every
value (``{glue:text}`` in prose), every table (:func:`costlib.present.report.exhibit_table`: words with units,
split into parts when too wide) with its CSV download (``dl-<label>``), and every figure with its SVG/PNG
downloads. So a notebook holds no formatting code of its own (issue 17) and every table passes the one label map
(issue 18).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from costlib.errors import InputError
from costlib.present.notebook import downloads, glue_figure, glue_value
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
