"""A chapter's exhibits, glued in one call: numbers for the prose, tables, figures and their downloads.

A chapter function in :mod:`costlib.book` computes an exhibit as an :class:`Exhibits` (pure: plain values,
:class:`Table` specs or DataFrames, matplotlib figures; no glue, no files), so tests can check its numbers; the
notebook's visible cell is that call and :func:`publish`, which glues every value (``{glue:text}`` in prose),
renders every table through the book's one label map (:func:`costlib.present.report.exhibit_table`: words with
units, verdict first, split into parts when too wide) with its CSV download (``dl-<label>``), and glues every
figure with its SVG/PNG downloads (:mod:`costlib.present.notebook`). A chapter whose analysis hands back a dict of
facts and one shown table uses :func:`glue_facts` and :func:`glue_exhibit` instead. A live ipywidget is built by
:func:`live_widget` from a render function, so no notebook wires callbacks. So a notebook holds no formatting
code of its own (issue 17) and every table passes the one label map (issue 18).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from costlib.errors import InputError
from costlib.present.notebook import _glue, downloads, glue_figure, glue_value
from costlib.present.report import exhibit_table


@dataclass(frozen=True)
class Table:
    """One exhibit table: ``data`` (a DataFrame, cells already text or numbers) and how :func:`exhibit_table`
    shows it: columns as percentages or whole numbers, other formats, the widest part (``max_columns``), the
    ``key`` column(s) every part of a split table repeats, whether a verdict column moves first, CSS per shown
    column (e.g. ``{"source": {"overflow-wrap": "anywhere"}}`` for long URLs), or a ready ``styled`` object (a
    Styler or HTML, e.g. :func:`costlib.book.claims.claims_table`) shown instead of the formatted data."""

    data: Any
    percent: tuple[str, ...] = ()
    integer: tuple[str, ...] = ()
    formats: Mapping[str, Any] = field(default_factory=dict)
    max_columns: int = 7
    key: tuple[str, ...] | str | None = None
    verdict_first: bool = True
    css: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    styled: Any = None

    @property
    def frame(self):
        """The table's data (the DataFrame behind the CSV download)."""
        return self.data


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


def render_table(label: str, spec: Any):
    """The Styler / HTML shown for table exhibit ``label`` (``spec``: a :class:`Table` or a DataFrame)."""
    if hasattr(spec, "columns") and not isinstance(spec, Table):
        spec = Table(spec)
    if not isinstance(spec, Table):
        raise InputError("table", type(spec).__name__, "a costlib.present.exhibits.Table or a DataFrame")
    t = spec
    if t.styled is not None:
        return t.styled
    key = (t.key,) if isinstance(t.key, str) else t.key
    shown = exhibit_table(t.data, label, percent=t.percent, integer=t.integer, formats=dict(t.formats),
                          max_columns=t.max_columns, key=list(key) if key else None, verdict_first=t.verdict_first)
    if t.css:
        if not hasattr(shown, "set_properties"):
            raise InputError("css", sorted(t.css), "CSS for a table shown in one part (not split)")
        for column, props in t.css.items():
            if column not in shown.data.columns:
                raise InputError("css", column, f"a shown column label: {list(shown.data.columns)}")
            shown = shown.set_properties(subset=[column], **props)
    return shown


def publish(ex: Exhibits) -> None:
    """Glue every value, table (with its CSV download ``dl-<label>``) and figure of ``ex``.

    Returns nothing, so that a notebook cell ending in ``publish(...)`` shows no output of its own."""
    if not isinstance(ex, Exhibits):
        raise InputError("ex", type(ex).__name__, "a costlib.present.exhibits.Exhibits")
    for key, value in ex.values.items():
        glue_value(key, value)
    for label, spec in ex.tables.items():
        _glue(label, render_table(label, spec))
        downloads(label, spec.data if isinstance(spec, Table) else spec)
    for label, fig in ex.figures.items():
        glue_figure(label, fig)


def glue_facts(facts: Mapping[str, Any], digits: int | None = None) -> int:
    """Glue every ``key: value`` of ``facts`` (strings as text, whole numbers as integers, other numbers as plain floats); returns how many.

    Python and numpy integers are glued as integers (a count or a context length prints without a decimal point);
    ``None`` values are refused (a fact that could not be computed must say so in words, not vanish from a page).
    """
    if not isinstance(facts, Mapping):
        raise InputError("facts", type(facts).__name__, "a mapping of glue key -> value")
    for key, value in facts.items():
        if value is None:
            raise InputError(f"facts[{key!r}]", None, "a number or a text")
        glue_value(key, value, digits)  # integers stay integers on the page ("8,192", not "8,192.0")
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


def live_widget(render: Callable[..., str], controls: Mapping[str, Any], *, columns: int | None = None):
    """An ipywidget (controls above an HTML result) that calls ``render(**values)`` whenever a control changes.

    ``controls``: argument name -> an ipywidgets control. ``columns``: None puts the controls in one row; a whole
    number k stacks them, in order, in k columns side by side (the first columns take the extra control). Shown
    only where a kernel runs it (tag its cell ``remove-output``: the static page shows the chapter's kernel-free
    explorer instead).
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
    shown = list(controls.values())
    if columns is None:
        return widgets.VBox([widgets.HBox(shown), out])
    if isinstance(columns, bool) or not isinstance(columns, int) or not 1 <= columns <= len(shown):
        raise InputError("columns", columns, f"None or a whole number from 1 to {len(shown)} (the number of controls)")
    per = -(-len(shown) // columns)
    stacks = [widgets.VBox(shown[i:i + per]) for i in range(0, len(shown), per)]
    return widgets.VBox([widgets.HBox(stacks), out])
