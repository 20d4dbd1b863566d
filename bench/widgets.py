"""Section 4 of `make bench`: widget responsiveness.

Each chapter's main widget is built by running the notebook's own code cells (in a child process,
``bench/run.py --widget-worker NOTEBOOK``, so notebook state never leaks into the bench); every
control is changed back and forth; compute (time inside costlib) and redraw (the rest) are timed
apart.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import BENCH, NOTEBOOKS, ROOT, log


def widget_worker(nb_path: Path) -> dict:
    """Runs in a child process (one per notebook) so notebook state never leaks into the bench."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    idx = next((i for i, c in enumerate(code) if ".observe(" in c.source), None)
    if idx is None:
        return {"na": "the chapter exposes no widget (no cell calls .observe)"}
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(nb_path.parent)

    # Time spent inside costlib = compute. Wrap every public function of every costlib module before
    # the notebook imports anything, counting only outermost calls.
    import importlib
    import pkgutil

    import costlib

    clock = {"t": 0.0, "depth": 0, "calls": 0}

    def wrap(fn):
        @functools.wraps(fn)
        def timed(*a, **k):
            if clock["depth"]:
                return fn(*a, **k)
            clock["depth"] += 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                clock["t"] += time.perf_counter() - t0
                clock["calls"] += 1
                clock["depth"] -= 1
        return timed

    for info in pkgutil.iter_modules(costlib.__path__):
        if info.name.startswith("_") or info.name == "cli":
            continue
        try:
            mod = importlib.import_module(f"costlib.{info.name}")
        except Exception:
            continue
        for name, obj in list(vars(mod).items()):
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__ and not name.startswith("_"):
                setattr(mod, name, wrap(obj))
            elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
                for mname, meth in list(vars(obj).items()):
                    if inspect.isfunction(meth) and not mname.startswith("_"):
                        setattr(obj, mname, wrap(meth))

    from IPython.core.interactiveshell import InteractiveShell
    import ipywidgets as W

    shell = InteractiveShell.instance()
    # The widget's state is all the bench needs: saving figures (the chapters' SVG/PNG downloads) and
    # rendering them for display are most of the cells' time and change no widget, so skip both here.
    import matplotlib.figure

    savefig = matplotlib.figure.Figure.savefig
    matplotlib.figure.Figure.savefig = lambda self, *a, **k: None
    figure_mimes = [m for m in ("image/png", "image/svg+xml", "application/pdf") if m in shell.display_formatter.formatters]
    for mime in figure_mimes:
        shell.display_formatter.formatters[mime].enabled = False
    t_build0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for c in code[: idx + 1]:
            r = shell.run_cell(c.source, silent=True)
            if not r.success:
                err = r.error_in_exec or r.error_before_exec
                return {"na": f"the notebook's cells raise before the widget exists: {type(err).__name__}: {err}"}
    build_s = time.perf_counter() - t_build0
    matplotlib.figure.Figure.savefig = savefig  # the controls are timed with everything on, as on the page
    for mime in figure_mimes:
        shell.display_formatter.formatters[mime].enabled = True

    # The controls: value widgets with an observer, reachable from the namespace (also inside boxes).
    seen, controls, outputs = set(), [], []

    def visit(w):
        if id(w) in seen:
            return
        seen.add(id(w))
        if isinstance(w, W.Box):
            for ch in w.children:
                visit(ch)
        if isinstance(w, (W.HTML, W.HTMLMath)):
            outputs.append(w)
        elif isinstance(w, W.ValueWidget) and w._trait_notifiers.get("value"):
            controls.append(w)

    for v in list(shell.user_ns.values()):
        if isinstance(v, W.Widget):
            visit(v)
        elif isinstance(v, (list, tuple, dict)):
            for x in (v.values() if isinstance(v, dict) else v):
                if isinstance(x, W.Widget):
                    visit(x)
    if not controls:
        return {"na": "no control with an observer found in the widget cell's namespace"}

    def alternatives(w):
        v = w.value
        if isinstance(w, (W.Dropdown, W.RadioButtons, W.Select, W.ToggleButtons)):
            opts = [o[1] if isinstance(o, tuple) else o for o in w.options]
            others = [o for o in opts if o != v][:3]
            return [x for o in others for x in (o, v)] if others else None
        if isinstance(w, W.Checkbox) or isinstance(w, W.ToggleButton):
            return [not v, v]
        if isinstance(w, W.FloatLogSlider):
            step = w.step or 0.1
            other = v * w.base ** step if v * w.base ** step <= w.base ** w.max else v / w.base ** step
            return [other, v]
        if hasattr(w, "min") and hasattr(w, "max") and isinstance(v, (int, float)):
            step = getattr(w, "step", None) or (w.max - w.min) / 10
            other = v + step if v + step <= w.max else v - step
            return [type(v)(other), v]
        return None

    rows = []
    for w in controls[:8]:
        alt = alternatives(w)
        if alt is None:
            continue
        totals, computes, changed, errors = [], [], 0, 0
        for rep in range(9):
            before = [o.value for o in outputs]
            clock["t"], clock["calls"] = 0.0, 0
            t0 = time.perf_counter()
            w.value = alt[rep % len(alt)]
            total = time.perf_counter() - t0
            totals.append(total)
            computes.append(clock["t"])
            after = [o.value for o in outputs]
            changed += before != after
            errors += any(("Traceback" in a or "Error" in a) for a in after)
        name = (w.description or type(w).__name__).strip() or type(w).__name__
        rows.append({"control": f"{type(w).__name__} '{name}'", "total_s": statistics.median(totals),
                     "compute_s": statistics.median(computes),
                     "redraw_s": statistics.median(t - c for t, c in zip(totals, computes)),
                     "changed": changed, "errors": errors, "repeats": len(totals)})
    if not rows:
        return {"na": "no control whose value the bench knows how to change"}
    return {"build_s": build_s, "controls": rows}



def section_widgets() -> dict:
    """Run the widget worker once per chapter on a scratch copy of notebooks/ (the notebooks' cells
    write figures and tables into _downloads/: never into the committed folder)."""
    import shutil
    import tempfile

    nbs = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    if not nbs:
        return {"na": "no chapter notebooks yet"}
    out = {}
    with tempfile.TemporaryDirectory(prefix="bench-widgets-") as tmp:
        scratch = Path(tmp) / "notebooks"
        shutil.copytree(NOTEBOOKS, scratch, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for nb in nbs:
            t0 = time.perf_counter()
            try:
                proc = subprocess.run([sys.executable, str(BENCH / "run.py"), "--widget-worker", str(scratch / nb.name)],
                                      cwd=ROOT, capture_output=True, text=True, timeout=300,
                                      env={**os.environ, "MPLBACKEND": "Agg"})
                lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
                out[nb.name] = json.loads(lines[-1]) if lines else {
                    "na": f"widget worker failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"}
            except subprocess.TimeoutExpired:
                out[nb.name] = {"na": "widget worker timed out after 300 s"}
            log(f"widgets {nb.name}: {time.perf_counter() - t0:.1f} s")
    return out
