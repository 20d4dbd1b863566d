"""Static exploration: a chapter's widget, still explorable on the published HTML page with no kernel.

The ipywidgets in a chapter recompute through a Python kernel, which the static site does not have (it shows
their saved state only). :func:`static_explorer` evaluates a costlib function over a small grid of the
widget's main inputs *when the notebook is executed*, and returns one self-contained HTML block: sliders and
drop-downs plus the results for every grid point as embedded JSON and ~40 lines of inline JavaScript that look
the current combination up. No formula is written twice (every number comes from costlib), nothing is fetched
(no external JavaScript), and nbval compares the block's HTML, so every precomputed number is checked like
any other output. Without JavaScript the block still shows the default combination's results.

Usage in a chapter (a `remove-input` cell right after the widget; this example is run by the test suite)::

    >>> from costlib.present.explore import static_explorer
    >>> from costlib.inference import estimate_inference
    >>> block = static_explorer(
    ...     "Cost per million output tokens",
    ...     inputs={"model": ["llama-3.1-8b", "llama-3.1-70b"], "gpu": ["a100-80gb", "h100-sxm"], "batch": [1, 16]},
    ...     compute=lambda model, gpu, batch: {
    ...         "usd_per_m": estimate_inference(model, gpu, "bf16", batch, 1000, 200).cost_per_1m_output_tokens_usd},
    ...     fmt={"usd_per_m": "$,.2f"},
    ...     labels={"batch": "concurrent requests", "usd_per_m": "$ per 1M tokens"},
    ...     default={"model": "llama-3.1-8b", "gpu": "a100-80gb", "batch": 16},
    ... )
    >>> "Cost per million output tokens" in block.data and "concurrent requests" in block.data
    True

`compute` returns a dict of named results (floats, ints, strings or ``Band``); a ``CostlibError`` it raises
for one combination is shown as that combination's message (like the widget callbacks), anything else
propagates and fails the notebook. Numeric inputs become sliders, other inputs drop-downs. Keep grids small:
the product of the input list lengths is capped by ``max_cells``.

:func:`save_figure` / :func:`save_table` write a figure (SVG + PNG) or a table (CSV) to
``notebooks/_downloads/`` (the kernel runs in ``notebooks/``) and return a Markdown line of download links;
``IPython.display.Markdown(...)`` of it renders, in the book, as Sphinx download links::

    from IPython.display import Markdown
    from costlib.present.explore import save_figure, save_table
    Markdown(save_figure(fig, "fig-roofline") + " · " + save_table(df, "tbl-hardware"))

The files are written byte-for-byte reproducibly (no dates in the SVG/PNG metadata, fixed SVG ids), so
re-executing a notebook leaves them unchanged unless the numbers change.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from costlib.errors import CostlibError, InputError
from costlib.uncertainty import Band

MAX_CELLS = 5000
DOWNLOADS = Path("_downloads")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

Format = str | Callable[[Any], str] | None


# --------------------------------------------------------------------------------------------- formatting
def format_value(value: Any, spec: Format = None) -> str:
    """Format one result for display.

    ``spec`` is a format spec for numbers (``",.1f"``), optionally with a literal prefix before the spec's
    first formatting character and a suffix after ``|`` (``"$,.2f"``, ``",.0f| GB"``), or a callable. A
    ``Band`` shows as ``mid (low–high)``; strings pass through; ``None`` and NaN show as an em dash.
    """
    if callable(spec):
        return str(spec(value))
    if value is None:
        return "—"
    if isinstance(value, Band):
        return f"{format_value(value.mid, spec)} ({format_value(value.low, spec)}–{format_value(value.high, spec)})"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Real):
        value = float(value) if not isinstance(value, numbers.Integral) else int(value)
        if isinstance(value, float) and math.isnan(value):
            return "—"
        if not spec:
            return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
        prefix, body, suffix = _split_spec(spec)
        return f"{prefix}{format(value, body)}{suffix}"
    return str(value)


def _split_spec(spec: str) -> tuple[str, str, str]:
    body, _, suffix = spec.partition("|")
    m = re.match(r"^([^0-9,._%<>=^+\- #a-zA-Z]*)(.*)$", body)
    prefix, body = (m.group(1), m.group(2)) if m else ("", body)
    return prefix, body, suffix


# --------------------------------------------------------------------------------------------- explorer
def explorer_grid(
    inputs: Mapping[str, Sequence[Any]],
    compute: Callable[..., Mapping[str, Any]],
    *,
    max_cells: int = MAX_CELLS,
) -> tuple[list[str], list[Mapping[str, Any] | str]]:
    """Evaluate ``compute`` at every combination of ``inputs`` (row-major: the last input varies fastest).

    Returns ``(output_names, cells)``; a cell is the dict ``compute`` returned, or the message of the
    ``CostlibError`` it raised. Output names are those of the first successful cell, in its order; every
    successful cell must return the same names.
    """
    if not isinstance(inputs, Mapping) or not inputs:
        raise InputError("inputs", inputs, "a non-empty dict of input name -> list of values")
    for name, values in inputs.items():
        if not isinstance(name, str) or not name:
            raise InputError("inputs", name, "input names are non-empty strings")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise InputError(f"inputs[{name!r}]", values, "a non-empty list of values")
        if len(set(map(repr, values))) != len(values):
            raise InputError(f"inputs[{name!r}]", values, "distinct values")
    n_cells = math.prod(len(v) for v in inputs.values())
    if n_cells > max_cells:
        raise InputError("inputs", {k: len(v) for k, v in inputs.items()},
                         f"at most max_cells={max_cells} combinations (got {n_cells}); use fewer grid points")
    names = list(inputs)
    cells: list[Mapping[str, Any] | str] = []
    outputs: list[str] | None = None
    for combo in itertools.product(*inputs.values()):
        kwargs = dict(zip(names, combo))
        try:
            result = compute(**kwargs)
        except CostlibError as exc:
            cells.append(str(exc))
            continue
        if not isinstance(result, Mapping) or not result:
            raise InputError("compute", result, f"a non-empty dict of named results (at {kwargs})")
        if outputs is None:
            outputs = list(result)
        elif list(result) != outputs:
            raise InputError("compute", list(result), f"the same result names at every point: {outputs} (at {kwargs})")
        cells.append(result)
    if outputs is None:
        raise InputError("compute", cells[0], "a result for at least one combination (all raised)")
    return outputs, cells


def static_explorer(
    title: str,
    inputs: Mapping[str, Sequence[Any]],
    compute: Callable[..., Mapping[str, Any]],
    fmt: Format | Mapping[str, Format] = None,
    *,
    labels: Mapping[str, str] | None = None,
    default: Mapping[str, Any] | None = None,
    input_fmt: Mapping[str, Format] | None = None,
    note: str | None = None,
    max_cells: int = MAX_CELLS,
):
    """A self-contained HTML block (``IPython.display.HTML``) to explore ``compute`` over ``inputs``.

    ``fmt``: one format for every result, or a dict result name -> format (see :func:`format_value`).
    ``labels``: display names (with units) for inputs and results. ``default``: the starting value of some
    inputs (else each input's first value); it must be one of the listed values. ``input_fmt``: formats for
    input values shown next to sliders. ``note``: a sentence under the results (for example the fixed
    assumptions). The block's HTML is deterministic for given inputs and results.
    """
    from IPython.display import HTML  # notebook display only: the library imports without IPython

    return HTML(explorer_html(title, inputs, compute, fmt, labels=labels, default=default,
                              input_fmt=input_fmt, note=note, max_cells=max_cells))


def explorer_html(
    title: str,
    inputs: Mapping[str, Sequence[Any]],
    compute: Callable[..., Mapping[str, Any]],
    fmt: Format | Mapping[str, Format] = None,
    *,
    labels: Mapping[str, str] | None = None,
    default: Mapping[str, Any] | None = None,
    input_fmt: Mapping[str, Format] | None = None,
    note: str | None = None,
    max_cells: int = MAX_CELLS,
) -> str:
    """The HTML string behind :func:`static_explorer`."""
    if not isinstance(title, str) or not title.strip():
        raise InputError("title", title, "a non-empty string")
    labels = dict(labels or {})
    input_fmt = dict(input_fmt or {})
    outputs, cells = explorer_grid(inputs, compute, max_cells=max_cells)

    def out_fmt(name: str) -> Format:
        if isinstance(fmt, Mapping):
            return fmt.get(name)
        return fmt

    names = list(inputs)
    start = []
    for name in names:
        values = list(inputs[name])
        if default and name in default:
            matches = [i for i, v in enumerate(values) if v == default[name]]
            if not matches:
                raise InputError(f"default[{name!r}]", default[name], f"one of {values}")
            start.append(matches[0])
        else:
            start.append(0)
    if default:
        unknown = sorted(set(default) - set(names))
        if unknown:
            raise InputError("default", unknown, f"names of inputs: {names}")

    table = [c if isinstance(c, str) else [format_value(c[o], out_fmt(o)) for o in outputs] for c in cells]
    shown = [[format_value(v, input_fmt.get(n)) for v in inputs[n]] for n in names]
    data = {"n": [len(inputs[n]) for n in names], "cells": table}
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    uid = "cx-" + hashlib.sha1((title + payload + json.dumps(shown)).encode()).hexdigest()[:10]

    index = 0
    for i, name in enumerate(names):
        index = index * len(inputs[name]) + start[i]
    first = table[index]

    esc = html.escape
    parts = [f'<div class="costlib-explorer tex2jax_ignore mathjax_ignore" id="{uid}">', _STYLE,
             f'<p class="cx-title"><strong>{esc(title)}</strong> <span class="cx-hint">'
             "(precomputed with costlib: move the controls)</span></p>", '<div class="cx-controls">']
    for i, name in enumerate(names):
        label = esc(labels.get(name, name))
        cid = f"{uid}-in{i}"
        values = shown[i]
        numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in inputs[name])
        if numeric and len(values) > 1:
            parts.append(
                f'<label for="{cid}">{label}</label>'
                f'<input type="range" id="{cid}" data-i="{i}" min="0" max="{len(values) - 1}" step="1" '
                f'value="{start[i]}" aria-valuetext="{esc(values[start[i]])}">'
                f'<output for="{cid}" class="cx-value" data-values="{esc(json.dumps(values, ensure_ascii=False))}">'
                f"{esc(values[start[i]])}</output>"
            )
        else:
            options = "".join(
                f'<option value="{j}"{" selected" if j == start[i] else ""}>{esc(v)}</option>'
                for j, v in enumerate(values)
            )
            parts.append(f'<label for="{cid}">{label}</label>'
                         f'<select id="{cid}" data-i="{i}">{options}</select><span></span>')
    parts.append("</div>")
    parts.append('<table class="cx-results" aria-live="polite"><tbody>')
    for k, name in enumerate(outputs):
        value = first[k] if not isinstance(first, str) else "—"
        parts.append(f'<tr><th scope="row">{esc(labels.get(name, name))}</th>'
                     f'<td data-k="{k}">{esc(value)}</td></tr>')
    parts.append("</tbody></table>")
    error = first if isinstance(first, str) else ""
    parts.append(f'<p class="cx-error"{"" if error else " hidden"}>{esc(error)}</p>')
    if note:
        parts.append(f'<p class="cx-note">{esc(note)}</p>')
    parts.append(f'<script type="application/json" class="cx-data">{_json_for_script(payload)}</script>')
    parts.append(f"<script>{_SCRIPT.replace('__ID__', uid)}</script>")
    parts.append("</div>")
    return "\n".join(parts)


def _json_for_script(text: str) -> str:
    # Inside <script>, "</" would end the element early; "\/" is the same JSON string.
    return text.replace("</", "<\\/")


_STYLE = """<style>
.costlib-explorer{border:1px solid var(--pst-color-border,#ccc);border-radius:6px;padding:.6em .9em;margin:1em 0;max-width:100%;overflow-x:auto;color-scheme:light}
.costlib-explorer .cx-title{margin:0 0 .5em}
.costlib-explorer .cx-hint{font-size:.85em;opacity:.75}
.costlib-explorer .cx-controls{display:grid;grid-template-columns:max-content minmax(8em,22em) max-content;gap:.35em .8em;align-items:center}
.costlib-explorer .cx-controls select,.costlib-explorer .cx-controls input{width:100%}
.costlib-explorer .cx-value{font-variant-numeric:tabular-nums;min-width:4em}
.costlib-explorer table.cx-results{margin:.7em 0 .2em;border-collapse:collapse}
.costlib-explorer table.cx-results th{text-align:left;font-weight:normal;padding:.15em 1.2em .15em 0}
.costlib-explorer table.cx-results td{font-weight:bold;font-variant-numeric:tabular-nums;padding:.15em 0}
.costlib-explorer .cx-error{color:#b00020;margin:.3em 0}
.costlib-explorer .cx-note{font-size:.85em;opacity:.8;margin:.3em 0 0}
@media (max-width:480px){.costlib-explorer .cx-controls{grid-template-columns:1fr}}
</style>"""

# Looks the current combination up in the embedded JSON (row-major index, last input fastest).
_SCRIPT = """(function () {
  var root = document.getElementById("__ID__");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var data = JSON.parse(root.querySelector("script.cx-data").textContent);
  var controls = Array.prototype.slice.call(root.querySelectorAll("[data-i]"));
  var cells = root.querySelectorAll("td[data-k]");
  var err = root.querySelector(".cx-error");
  function update() {
    var index = 0;
    controls.forEach(function (c) {
      var i = +c.dataset.i, v = +c.value;
      index = index * data.n[i] + v;
      var out = c.nextElementSibling;
      if (out && out.dataset.values) {
        var shown = JSON.parse(out.dataset.values)[v];
        out.textContent = shown;
        c.setAttribute("aria-valuetext", shown);
      }
    });
    var cell = data.cells[index];
    var failed = typeof cell === "string";
    for (var k = 0; k < cells.length; k++) cells[k].textContent = failed ? "\\u2014" : cell[k];
    err.textContent = failed ? cell : "";
    err.hidden = !failed;
  }
  controls.forEach(function (c) {
    c.addEventListener("input", update);
    c.addEventListener("change", update);
  });
  update();
})();"""


# --------------------------------------------------------------------------------------------- downloads
def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError("name", name, "letters, digits, '-', '_' or '.', starting with a letter or digit "
                                       "(use the figure/table label, e.g. 'fig-roofline')")
    return name


def save_figure(fig, name: str, *, folder: Path | str = DOWNLOADS, dpi: int = 150) -> str:
    """Save a matplotlib figure as ``folder/name.svg`` and ``.png``; return Markdown download links.

    Reproducible bytes: no date or software version in the metadata, SVG element ids salted with ``name``.
    The links are relative to the notebook (``_downloads/name.svg``), which Sphinx turns into downloads.
    """
    import matplotlib  # on demand: only figure downloads need it

    _check_name(name)
    if not hasattr(fig, "savefig"):
        raise InputError("fig", type(fig).__name__, "a matplotlib Figure")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 50:
        raise InputError("dpi", dpi, "a whole number >= 50")
    folder = Path(folder)
    rel = _rel(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bbox, engine = _tight_bbox_once(fig)
    try:  # the layout is done once above; both files are cut to the same box (one measuring pass, not two)
        with matplotlib.rc_context({"svg.hashsalt": name, "svg.fonttype": "path"}):
            fig.savefig(folder / f"{name}.svg", format="svg", metadata={"Date": None, "Creator": None},
                        bbox_inches=bbox)
        fig.savefig(folder / f"{name}.png", format="png", dpi=dpi, metadata={"Software": None}, bbox_inches=bbox)
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    return f"Download: [SVG]({rel}{name}.svg) · [PNG]({rel}{name}.png)"


def _tight_bbox_once(fig):
    """The figure's tight bounding box in inches (what ``bbox_inches="tight"`` computes in every ``savefig``),
    after running its layout engine once; the engine is switched off until the caller restores it (returned),
    as savefig itself does, so the two saves neither re-run the layout nor re-measure every artist."""
    import matplotlib as mpl

    fig.draw_without_rendering()  # layout (constrained / tight) and text extents, as savefig's first pass
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else fig._get_renderer()
    pad = mpl.rcParams["savefig.pad_inches"]
    bbox = fig.get_tightbbox(renderer).padded(pad)
    engine = fig.get_layout_engine()
    if engine is not None:
        fig.set_layout_engine("none")
    return bbox, engine


def save_table(table, name: str, *, folder: Path | str = DOWNLOADS, index: bool = False) -> str:
    """Save a DataFrame (or a pandas Styler: its data) as ``folder/name.csv``; return a Markdown download link."""
    import pandas as pd  # on demand: the CLI must start fast

    _check_name(name)
    data = getattr(table, "data", table) if not isinstance(table, pd.DataFrame) else table
    if not isinstance(data, pd.DataFrame):
        raise InputError("table", type(table).__name__, "a pandas DataFrame or Styler")
    folder = Path(folder)
    rel = _rel(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data.to_csv(folder / f"{name}.csv", index=index, lineterminator="\n")
    return f"Download: [CSV]({rel}{name}.csv)"


def _rel(folder: Path) -> str:
    text = folder.as_posix()
    if folder.is_absolute():
        raise InputError("folder", text, "a path relative to the notebook (links must work in the built book)")
    return "" if text in ("", ".") else text.rstrip("/") + "/"
