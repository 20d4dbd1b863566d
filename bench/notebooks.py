"""Section 1 of `make bench`: notebook execution time, per notebook and per cell, and what the
kernel's import cell costs.

- Execution: ``tools/run_notebooks.py --jobs 2 --timings`` (what `make notebooks` runs) over a
  scratch copy of notebooks/ in a temporary folder, so the committed notebooks are never touched.
  The goal (all notebooks executed within 45 s) is judged on the wall time of that run; the sum
  of the per-notebook times (what one worker would take) is shown next to it.
- Import cost: each notebook's first code cell (its set-up: imports and styles) run in a fresh
  interpreter under ``python -X importtime``; the top packages by cumulative import time and the
  slowest single modules by own time, so module owners know what to make lazy.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.common import NOTEBOOKS, ROOT, log


def section_notebooks(jobs: int = 2) -> dict:
    nbs = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not nbs:
        return {"na": "no notebooks yet"}
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        scratch = Path(tmp) / "notebooks"
        shutil.copytree(NOTEBOOKS, scratch, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        timings = Path(tmp) / "timings.json"
        cmd = [sys.executable, str(ROOT / "tools" / "run_notebooks.py"), "--jobs", str(jobs), "--timings", str(timings),
               *[str(scratch / p.name) for p in nbs]]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200,
                              env={**os.environ, "MPLBACKEND": "Agg"})
        wall = time.perf_counter() - t0
        if not timings.exists():
            return {"na": f"run_notebooks.py failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"}
        data = json.loads(timings.read_text())
    per_nb, cells, body = {}, [], []
    for r in data["notebooks"]:
        name = Path(r["path"]).name
        setup = min((c["index"] for c in r["cells"]), default=None)  # the set-up cell: profiled by import_profile
        body += [(c["s"], name, c["index"], c["first_line"]) for c in r["cells"] if c["index"] != setup]
        cell_sum = sum(c["s"] for c in r["cells"])
        per_nb[name] = {"wall_s": r["wall_s"], "kernel_s": r["kernel_start_s"], "cells_s": cell_sum,
                        "cells": len(r["cells"]), "error": r["error"]}
        cells += [(c["s"], name, c["index"], c["first_line"]) for c in r["cells"]]
    cells.sort(reverse=True)
    body.sort(reverse=True)
    return {"wall_s": data["wall_s"], "process_wall_s": wall, "jobs": jobs, "exit": proc.returncode,
            "per_notebook": per_nb, "slowest": cells[:8], "slowest_body": body[:4],
            "serial_s": sum(v["wall_s"] for v in per_nb.values())}


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _setup_cell(nb_path: Path) -> str:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return code[0] if code else ""


def import_profile(nb_path: Path) -> dict:
    """Run a notebook's first code cell in a fresh interpreter under -X importtime (IPython magics
    and display calls stripped); wall time and the import tree's top entries."""
    src = _setup_cell(nb_path)
    lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    code = "\n".join(lines)
    prelude = "from IPython.display import display, HTML, Markdown\n"  # a kernel has these loaded already
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(code + "\n")
        script = fh.name
    try:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                               f"{prelude}import time as _t; _t0=_t.perf_counter(); exec(open({script!r}).read()); "
                               f"print('CELL_S', _t.perf_counter()-_t0)"],
                              cwd=nb_path.parent, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "MPLBACKEND": "Agg"})
        wall = time.perf_counter() - t0
    finally:
        os.unlink(script)
    cell_s = next((float(ln.split()[1]) for ln in proc.stdout.splitlines() if ln.startswith("CELL_S")), None)
    own, cum_top = defaultdict(float), {}
    for ln in proc.stderr.splitlines():
        m = _IMPORTTIME.match(ln)
        if not m:
            continue
        self_us, cum_us, indent, mod = int(m.group(1)), int(m.group(2)), len(m.group(3)), m.group(4)
        own[mod] += self_us / 1e6
        if indent <= 1:  # a top-level import of the cell (or of the prelude)
            cum_top[mod] = cum_top.get(mod, 0.0) + cum_us / 1e6
    by_pkg = defaultdict(float)
    for mod, s in own.items():
        by_pkg[mod.split(".")[0]] += s
    return {"wall_s": wall, "cell_s": cell_s, "exit": proc.returncode,
            "error": proc.stderr.strip().splitlines()[-1] if proc.returncode else None,
            "top_level": sorted(cum_top.items(), key=lambda kv: -kv[1])[:8],
            "packages": sorted(by_pkg.items(), key=lambda kv: -kv[1])[:10],
            "modules": sorted(own.items(), key=lambda kv: -kv[1])[:10],
            "costlib_modules": sorted(((m, s) for m, s in own.items() if m.startswith("costlib")),
                                      key=lambda kv: -kv[1])[:8],
            "first_line": next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")[:100]}


def section_imports(names: tuple[str, ...] | None = None) -> dict:
    """Import profile of the set-up cell of every notebook (or those named), each run in a scratch
    copy of notebooks/ (a set-up cell may write files: 90's writes seed_audit.csv)."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        scratch = Path(tmp) / "notebooks"
        shutil.copytree(NOTEBOOKS, scratch, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for nb in sorted(scratch.glob("*.ipynb")):
            if names and nb.name not in names:
                continue
            try:
                out[nb.name] = import_profile(nb)
                log(f"import cell {nb.name}: {out[nb.name]['wall_s']:.1f} s")
            except Exception as exc:
                out[nb.name] = {"na": f"{type(exc).__name__}: {exc}"}
    return out


_CELL_PROFILE = r'''
import contextlib, cProfile, io, json, os, pstats, sys
import nbformat
from IPython.core.interactiveshell import InteractiveShell
nb_path, index = sys.argv[1], int(sys.argv[2])
os.chdir(os.path.dirname(nb_path))
nb = nbformat.read(nb_path, as_version=4)
shell = InteractiveShell.instance()
import matplotlib.figure
savefig = matplotlib.figure.Figure.savefig
matplotlib.figure.Figure.savefig = lambda self, *a, **k: None  # the earlier cells' downloads: not profiled
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    for i, c in enumerate(nb.cells[:index]):
        if c.cell_type == "code" and not shell.run_cell(c.source, silent=True).success:
            print(json.dumps({"na": f"cell {i} raised before the profiled cell"}), file=sys.__stdout__)
            sys.exit(0)
    matplotlib.figure.Figure.savefig = savefig
    prof = cProfile.Profile()
    prof.enable()
    shell.run_cell(nb.cells[index].source, silent=True)
    prof.disable()
st = pstats.Stats(prof)
total = sum(v[2] for v in st.stats.values()) or 1.0
rows = []
for (f, line, fn), v in st.stats.items():
    if "costlib" in f and fn != "<module>":
        rows.append((v[3], f.split("costlib/", 1)[-1] + ":" + fn, v[1]))
rows.sort(reverse=True)
MPL = ("print_svg", "print_png", "get_tightbbox", "draw_path", "draw_text", "_draw_text_as_path", "savefig")
mpl = {}
for (f, line, fn), v in st.stats.items():
    if fn in MPL and "matplotlib" in f:
        mpl[fn] = mpl.get(fn, 0.0) + v[3]
print(json.dumps({"total_s": total, "top": rows[:6], "matplotlib": sorted(mpl.items(), key=lambda kv: -kv[1])}),
      file=sys.__stdout__)
'''


def profile_cells(slowest, k: int = 2) -> dict:
    """cProfile the ``k`` slowest cells (from :func:`section_notebooks`): each in a child process
    that runs the notebook's earlier code cells first (on a scratch copy), then profiles the cell;
    costlib functions by cumulative time, with their call counts."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="bench-cells-") as tmp:
        scratch = Path(tmp) / "notebooks"
        shutil.copytree(NOTEBOOKS, scratch, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for secs, name, index, _first in slowest[:k]:
            key = f"{name} cell {index}"
            try:
                p = subprocess.run([sys.executable, "-c", _CELL_PROFILE, str(scratch / name), str(index)], cwd=ROOT,
                                   capture_output=True, text=True, timeout=600, env={**os.environ, "MPLBACKEND": "Agg"})
                lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
                out[key] = json.loads(lines[-1]) if lines else {"na": p.stderr.strip()[-200:]}
            except subprocess.TimeoutExpired:
                out[key] = {"na": "timed out"}
            log(f"profiled {key}")
    return out


_FIRST_GLUE = r'''
import json, resource, sys, time
if sys.argv[1] == "without":
    sys.modules["rfc3987_syntax"] = None  # as if the package were not installed (jsonschema treats it as optional)
t0 = time.perf_counter()
c0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime
from myst_nb import glue
glue("bench-probe", 1.0, display=False)
print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": resource.getrusage(resource.RUSAGE_SELF).ru_utime - c0,
                  "rfc3987_loaded": "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is not None}))
'''


def first_glue() -> dict:
    """Every chapter calls myst_nb's glue; the first call in a kernel imports nbformat -> jsonschema, whose
    format checker imports rfc3987_syntax when it is installed, which compiles an Earley grammar at
    import. Measured in a fresh interpreter as is and with rfc3987_syntax blocked (median of 3 each)."""
    out = {}
    for mode in ("with", "without"):
        runs = []
        for _ in range(3):
            with tempfile.TemporaryDirectory(prefix="bench-glue-") as tmp:
                p = subprocess.run([sys.executable, "-c", _FIRST_GLUE, mode], cwd=tmp, capture_output=True, text=True,
                                   timeout=120)
            with contextlib.suppress(Exception):
                runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
        if runs:
            runs.sort(key=lambda r: r["cpu_s"])
            out[mode] = runs[len(runs) // 2]
    return out
