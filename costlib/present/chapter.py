"""A chapter's exhibit as one value: the numbers its prose glues, its tables and its figures, published in one call.

A chapter module in :mod:`costlib.book` computes an exhibit as a :class:`Part` (pure: no glue, no files), so tests
can check the numbers; the notebook shows it with one visible line, ``publish(chapter.some_exhibit())``, which
glues every value, renders every table through the book's label map (:func:`costlib.present.report.exhibit_table`)
with its CSV download, and glues every figure with its SVG/PNG downloads (:mod:`costlib.present.notebook`).

A live ipywidget is built by :func:`live_widget` from a render function (inputs -> HTML) and its controls, so a
chapter never wires callbacks in a notebook cell.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from costlib.errors import InputError
from costlib.present.notebook import _glue, downloads, glue_figure, glue_value
from costlib.present.report import exhibit_table


@dataclass(frozen=True)
class Table:
    """One exhibit table: the data, and how :func:`exhibit_table` shows it (percent / integer columns, formats)."""

    data: pd.DataFrame
    percent: tuple[str, ...] = ()
    integer: tuple[str, ...] = ()
    formats: Mapping[str, Any] = field(default_factory=dict)
    max_columns: int = 7
    key: tuple[str, ...] | None = None
    verdict_first: bool = True
    css: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Shown column label -> CSS properties (e.g. ``{"source": {"overflow-wrap": "anywhere"}}`` for long URLs)."""


@dataclass(frozen=True)
class Part:
    """An exhibit's content: ``values`` (glue name -> number or text), ``tables`` (label -> :class:`Table`),
    ``figures`` (label -> matplotlib figure)."""

    values: Mapping[str, Any] = field(default_factory=dict)
    tables: Mapping[str, Table] = field(default_factory=dict)
    figures: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def render_table(label: str, t: Table):
    """The Styler / HTML of one exhibit table (labels in words, numbers in the book's style, split if wide)."""
    if not isinstance(t, Table):
        raise InputError("table", type(t).__name__, "a costlib.present.chapter.Table")
    shown = exhibit_table(t.data, label, percent=t.percent, integer=t.integer, formats=dict(t.formats),
                          max_columns=t.max_columns, key=list(t.key) if t.key else None, verdict_first=t.verdict_first)
    if t.css:
        if not hasattr(shown, "set_properties"):
            raise InputError("css", sorted(t.css), "CSS for a table shown in one part (not split)")
        for column, props in t.css.items():
            if column not in shown.data.columns:
                raise InputError("css", column, f"a shown column label: {list(shown.data.columns)}")
            shown = shown.set_properties(subset=[column], **props)
    return shown


def publish(part: Part) -> None:
    """Glue every value, table (with its CSV download ``dl-<label>``) and figure of ``part``.

    Returns nothing, so that a notebook cell ending in ``publish(...)`` shows no output of its own."""
    if not isinstance(part, Part):
        raise InputError("part", type(part).__name__, "a costlib.present.chapter.Part")
    for key, value in part.values.items():
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            _glue(key, int(value))  # integers stay integers ("batch 16", not "16.0")
        else:
            glue_value(key, value)
    for label, t in part.tables.items():
        _glue(label, render_table(label, t))
        downloads(label, t.data)
    for label, fig in part.figures.items():
        glue_figure(label, fig)


def live_widget(render: Callable[..., str], controls: Mapping[str, Any]):
    """An ipywidget (controls above an HTML result) that calls ``render(**values)`` whenever a control changes.

    ``controls``: argument name -> an ipywidgets control. Shown only where a kernel runs it (tag its cell
    ``remove-output``: the static page shows the chapter's kernel-free explorer instead).
    """
    import ipywidgets as widgets  # on demand: only a live notebook builds widgets; the library and CLI never need it

    if not controls:
        raise InputError("controls", "none", "at least one ipywidgets control")
    out = widgets.HTML()

    def update(_=None):
        out.value = render(**{name: c.value for name, c in controls.items()})

    for c in controls.values():
        c.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox(list(controls.values())), out])
