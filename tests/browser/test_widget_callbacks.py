"""Every widget control of every chapter, moved as a reader would, in a live kernel.

Each notebook with ipywidgets is executed (nbclient, working directory notebooks/, like nbval); then, in the
same kernel, every control (slider, drop-down, toggle, checkbox, numeric box, button) is set to several other
values, one control at a time, each time from the chapter's default state. The test fails if setting a value
raises (a callback that raises only when a slider moves), if a control never changes any displayed result
(HTML/Label widgets), or if a result shows a Python traceback.

This drives the widgets through the kernel-side API the front end's messages end in (trait changes and
button clicks), not through a Jupyter front end in Chromium: the environment has no Jupyter server
(JupyterLab / Voilà are not installed). The static pages' rendering of the saved widget state is checked in
Chromium by test_site.py.

Speed: the driver runs as the last cell of the Voilà copy of each notebook (tests/browser/test_widgets.py appends it),
so each chapter's kernel executes its notebook once for both checks; the report is read from the page and checked by
`test_widgets.test_every_widget_control_responds_in_the_kernel` with `problems_in` below.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
MARK = "@@WIDGET-DRIVE@@"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Runs inside the notebook's kernel after all its cells; prints one JSON line after MARK.
DRIVER = r'''
def __costlib_drive_widgets(max_tries=4):
    import json, traceback
    import ipywidgets as W
    from ipywidgets.widgets import widget as _widget
    from ipywidgets.widgets.widget_string import _String
    from ipywidgets.widgets.widget_selection import _Selection, _MultipleSelection
    from ipywidgets.widgets.widget_bool import _Bool

    instances = list(_widget._instances.values())
    shown = [w for w in instances if isinstance(w, (W.HTML, W.HTMLMath, W.Label))]

    def snapshot():
        return [w.value for w in shown]

    def spread(values):
        values = list(values)
        if len(values) <= max_tries:
            return values
        step = (len(values) - 1) / (max_tries - 1)
        return [values[round(i * step)] for i in range(max_tries)]

    def candidates(w):
        if isinstance(w, _MultipleSelection):
            return [("index", (i,)) for i in spread(range(len(w.options))) if (i,) != tuple(w.index)]
        if isinstance(w, _Selection):
            return [("index", i) for i in spread(range(len(w.options))) if i != w.index]
        if isinstance(w, _Bool):
            return [("value", not w.value)]
        value = w.value
        if isinstance(value, tuple) and hasattr(w, "min"):  # range sliders
            lo, hi = w.min, w.max
            mid = type(lo)(lo + (hi - lo) / 2)
            return [("value", v) for v in [(lo, hi), (lo, mid), (mid, hi)] if v != value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if hasattr(w, "min") and hasattr(w, "max"):
                lo, hi = w.min, w.max
                step = getattr(w, "step", None) or (1 if isinstance(value, int) else (hi - lo) / 100)
                n = int(round((hi - lo) / step))
                grid = [lo + k * step for k in range(n + 1)] if n <= 10000 else [lo, (lo + hi) / 2, hi]
                if isinstance(value, int):
                    grid = [int(round(v)) for v in grid]
                return [("value", v) for v in spread(grid) if v != value]
            return [("value", v) for v in ([value * 2, value / 2] if isinstance(value, float) else [value + 1, value * 2]) if v != value]
        return []

    controls = [w for w in instances
                if isinstance(w, W.ValueWidget) and not isinstance(w, _String) and not getattr(w, "disabled", False)]
    buttons = [w for w in instances if isinstance(w, W.Button) and not w.disabled]
    report = []
    for w in controls:
        label = f"{type(w).__name__}({getattr(w, 'description', '') or ''!s})"
        tries = candidates(w)
        entry = {"control": label, "tried": [], "changed": False, "error": None, "traceback_shown": False}
        if not tries:
            entry["error"] = "no other value to try"
            report.append(entry)
            continue
        attr0 = "index" if tries[0][0] == "index" else "value"
        original = getattr(w, attr0)
        before = snapshot()
        for attr, v in tries:
            entry["tried"].append(repr(v))
            try:
                setattr(w, attr, v)
            except Exception:
                entry["error"] = traceback.format_exc(limit=-3)
                break
            after = snapshot()
            entry["changed"] = entry["changed"] or after != before
            entry["traceback_shown"] = entry["traceback_shown"] or any("Traceback (most recent call last)" in str(s) for s in after)
        try:
            setattr(w, attr0, original)
        except Exception:
            entry["error"] = entry["error"] or traceback.format_exc(limit=-3)
        report.append(entry)
    for b in buttons:
        entry = {"control": f"Button({b.description!s})", "tried": ["click"], "changed": False, "error": None,
                 "traceback_shown": False}
        before = snapshot()
        try:
            b._click_handlers.callbacks and [cb(b) for cb in b._click_handlers.callbacks]
        except Exception:
            entry["error"] = traceback.format_exc(limit=-3)
        entry["changed"] = snapshot() != before
        report.append(entry)
    print("@@WIDGET-DRIVE@@" + json.dumps({"outputs": len(shown), "controls": report}))

__costlib_drive_widgets()
'''


def notebooks_with_widgets() -> list[Path]:
    return sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if WIDGET_VIEW in p.read_text(encoding="utf-8"))


def drive(path: Path, workdir: Path | None = None) -> dict:
    """Execute the notebook, then move every widget control in its kernel; return the driver's report.

    The kernel runs in `workdir` (a copy of notebooks/, so nothing a notebook writes lands in the tree)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(workdir or path.parent)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        probe = nbformat.v4.new_code_cell(DRIVER)
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
    text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
    line = next((ln for ln in text.splitlines() if ln.startswith(MARK)), None)
    assert line, f"{path.name}: the widget driver printed no report; outputs: {probe.outputs!r}"[:2000]
    report = json.loads(line[len(MARK):])
    report["stray_output"] = [ln for ln in text.splitlines() if not ln.startswith(MARK)]
    return report


def problems_in(report: dict) -> list[str]:
    problems = []
    if not report["controls"]:
        problems.append("no widget control found in the kernel")
    for c in report["controls"]:
        if c["error"]:
            problems.append(f"{c['control']} raised after values {c['tried']}:\n{c['error']}")
        elif not c["changed"]:
            problems.append(f"{c['control']}: values {c['tried']} never changed a displayed result")
        if c["traceback_shown"]:
            problems.append(f"{c['control']}: a displayed result shows a Python traceback")
    if report.get("stray_output"):
        problems.append("moving the widgets printed into the cell (use an HTML widget, not print/Output): "
                        + " | ".join(report["stray_output"])[:500])
    return problems


NOTEBOOKS = notebooks_with_widgets()


def kernel_report_from_text(text: str) -> dict:
    """The driver's report from the text its cell printed (one JSON line after MARK; other lines are stray output)."""
    line = next((ln for ln in text.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise AssertionError(f"the widget driver printed no report; its cell showed: {text[:1500]!r}")
    report = json.loads(line[len(MARK):])
    report["stray_output"] = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(MARK)]
    return report


if __name__ == "__main__":  # standalone: `python tests/browser/test_widget_callbacks.py` drives every notebook in a kernel
    with tempfile.TemporaryDirectory(prefix="widget-callbacks-") as tmp:
        work = Path(tmp) / "notebooks"
        shutil.copytree(ROOT / "notebooks", work)
        for p in NOTEBOOKS:
            print(p.name, problems_in(drive(p, work)) or "ok")
