"""Sections 1 and 5 of `make bench`: the strict site build, the pieces of `make test`, page weight,
and the planner explorer's build time.

The site is built into a private folder (never the shared ``_build``). The unit, nbval and browser
pieces of `make test` run only with --with-make-test (their total is recorded, dated, in
bench/make_test_last.json and reported from there otherwise).
"""
from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from bench.common import GOAL_PAGE_BYTES, NOTEBOOKS, ROOT, profile_top, run_cmd


def section_nbval() -> dict:
    nbs = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not nbs:
        return {"na": "no notebooks yet"}
    with tempfile.TemporaryDirectory() as tmp:
        # what `make nbval` runs: tools/run_nbval.py, two pytest --nbval processes at once
        cmd = [sys.executable, "tools/run_nbval.py", "--jobs", "2", "--junit-dir", tmp, "--",
               "--durations=0", "--durations-min=0"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1500)
        secs = time.perf_counter() - t0
        code = proc.returncode
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        # pytest --durations: "12.34s call     notebooks/01_training.ipynb::Cell 3"; setup of the first
        # cell of a notebook is where nbval starts its kernel, so calls alone are the execution.
        phases: dict[str, dict[str, float]] = {}
        cells: list[tuple[float, str, int]] = []
        for line in proc.stdout.splitlines():
            m = re.match(r"^\s*([\d.]+)s (setup|call|teardown)\s+(\S+?\.ipynb)::Cell (\d+)", line)
            if m:
                d = phases.setdefault(Path(m.group(3)).name, {"setup": 0.0, "call": 0.0, "teardown": 0.0})
                d[m.group(2)] += float(m.group(1))
                if m.group(2) == "call":
                    cells.append((float(m.group(1)), m.group(3), int(m.group(4))))
        per_nb: dict[str, dict] = {}
        for xml in sorted(Path(tmp).glob("nbval-*.xml")):
            for case in ET.parse(xml).getroot().iter("testcase"):
                f = case.get("file") or case.get("classname", "")
                nbname = Path(f.replace(".", "/")).name if not f.endswith(".ipynb") else Path(f).name
                for nb in nbs:
                    if nb.stem in f:
                        nbname = nb.name
                d = per_nb.setdefault(nbname, {"cells": 0, "exec_s": 0.0, "failed": 0})
                d["cells"] += 1
                d["exec_s"] += float(case.get("time", 0.0))
                d["failed"] += any(ch.tag in ("failure", "error") for ch in case)
        for name, d in per_nb.items():
            if name in phases:  # prefer the split: execution = calls, kernel start/stop = setup + teardown
                d["exec_s"] = phases[name]["call"]
                d["kernel_s"] = phases[name]["setup"] + phases[name]["teardown"]
    slowest = []
    for secs_c, path, idx in sorted(cells, reverse=True)[:6]:
        first = ""
        with contextlib.suppress(Exception):
            import nbformat
            nb = nbformat.read(ROOT / path, as_version=4)
            cell = nb.cells[idx] if idx < len(nb.cells) and nb.cells[idx].cell_type == "code" else \
                [c for c in nb.cells if c.cell_type == "code"][idx]
            first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")), "")
        slowest.append((secs_c, f"{Path(path).name} cell {idx}", first[:90]))
    return {"exit": code, "wall_s": secs, "per_notebook": per_nb, "tail": tail, "slowest": slowest}


def section_site(keep_dir: Path) -> dict:
    jb = Path(sys.executable).parent / "jupyter-book"
    if not jb.exists():
        return {"na": "jupyter-book not installed in the venv"}
    cmd = [str(jb), "build", ".", "-W", "-n", "--keep-going", "--path-output", str(keep_dir)]
    code, secs, tail = run_cmd(cmd, timeout=1200)
    return {"exit": code, "wall_s": secs, "tail": tail, "html": str(keep_dir / "_build" / "html")}


def section_unit() -> dict:
    cmd = [sys.executable, "-m", "pytest", "tests", "--ignore=tests/browser", "-q", "-p", "no:cacheprovider"]
    code, secs, tail = run_cmd(cmd, timeout=900)
    return {"exit": code, "wall_s": secs, "tail": tail.splitlines()[-1] if tail else ""}


def section_browser(html: str | None) -> dict:
    if not html or not (Path(html) / "index.html").exists():
        return {"na": "no built site to test"}
    cmd = [sys.executable, "-m", "pytest", "tests/browser", "-q", "-p", "no:cacheprovider"]
    code, secs, tail = run_cmd(cmd, timeout=900, env={"BOOK_HTML_DIR": html})
    return {"exit": code, "wall_s": secs, "tail": tail.splitlines()[-1] if tail else ""}


def section_weight(html: str | None) -> dict:
    if not html or not Path(html).exists():
        return {"na": "no built site"}
    root = Path(html)
    files = [p for p in root.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    pages = [p for p in files if p.suffix == ".html"]
    heaviest = max(pages, key=lambda p: p.stat().st_size) if pages else None
    biggest = max(files, key=lambda p: p.stat().st_size) if files else None
    over = [p.relative_to(root).as_posix() for p in pages if p.stat().st_size > GOAL_PAGE_BYTES]
    return {"total": total, "files": len(files), "pages": len(pages),
            "heaviest": (heaviest.relative_to(root).as_posix(), heaviest.stat().st_size) if heaviest else None,
            "biggest_file": (biggest.relative_to(root).as_posix(), biggest.stat().st_size) if biggest else None,
            "pages_over_goal": over,
            "page_sizes": {p.relative_to(root).as_posix(): p.stat().st_size for p in pages},
            # pages that carry the published planner (costlib.present.explore_planner's container class)
            "planner_pages": [p.relative_to(root).as_posix() for p in pages
                              if 'class="costlib-planner' in p.read_text(encoding="utf-8", errors="replace")]}


def section_planner() -> dict:
    """The planner's page explorer and its precomputed table, guarded (the "planner" helper's
    costlib/planner.py and costlib/present/explore_planner.py, being written in parallel):

    - explorer: ``explore_planner.planner_html()`` (the page's HTML from the precomputed capacity
      table: what the notebook cell builds), first build and median of 3, and its size;
    - table: ``planner.capacity_table`` on a (3 models, one GPU, one precision) slice of the page's grid,
      timed and extrapolated to the whole grid (the full build, tools/build_planner_table.py, takes
      10-15 minutes: too long for the bench; the slice takes the first, the middle and the
      last model of the grid), with a cumulative profile of one model's slice.
    """
    try:
        from costlib.present import explore_planner as ep
    except ImportError as exc:
        ep, ep_err = None, str(exc)
    try:
        from costlib import planner as pl
    except ImportError as exc:
        pl, pl_err = None, str(exc)
    if ep is None and pl is None:
        return {"na": f"costlib.planner / costlib.present.explore_planner not on this commit ({pl_err})"}
    res: dict = {}
    if ep is not None and callable(getattr(ep, "planner_html", None)):
        try:
            t0 = time.perf_counter()
            page = ep.planner_html()
            res["first_s"] = time.perf_counter() - t0
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                page = ep.planner_html()
                times.append(time.perf_counter() - t0)
            res["s"] = sorted(times)[1]
            res["html_bytes"] = len(str(page).encode())
            res["name"] = "explore_planner.planner_html"
        except Exception as exc:
            res["explorer_na"] = f"planner_html() raised {type(exc).__name__}: {exc}"
    else:
        res["explorer_na"] = "costlib.present.explore_planner.planner_html not available"
    grid = getattr(ep, "GRID", None) if ep is not None else None
    if pl is not None and callable(getattr(pl, "capacity_table", None)) and grid:
        try:
            full = dict(grid)
            if not full.get("models"):
                full["models"] = tuple(getattr(ep, "_models")())
            ms = tuple(full["models"])
            one = {**full, "models": tuple(dict.fromkeys((ms[0], ms[len(ms) // 2], ms[-1]))),  # first, middle, last of the grid
                   "gpus": ("h100-sxm",) if "h100-sxm" in full["gpus"] else tuple(full["gpus"][:1]),
                   "precisions": tuple(full["precisions"][:1])}
            # warm-up on one cell of another model: imports and the per-engine efficiency fits are shared by
            # the whole grid, so they are not a cell's cost
            pl.capacity_table(**{**one, "models": tuple(ms[1:2] or ms[:1]),
                                 "prompts": tuple(full["prompts"][:1]), "outputs": tuple(full["outputs"][:1]),
                                 "presets": tuple(full["presets"][:1])})
            t0 = time.perf_counter()
            table = pl.capacity_table(**one)
            secs = time.perf_counter() - t0
            n_slice = len(table["cells"])
            n_full = 1
            for k in ("models", "gpus", "precisions", "engines", "prompts", "outputs", "presets"):
                n_full *= len(full[k])
            res["table"] = {"slice": f"{', '.join(one['models'])} x {one['gpus'][0]} x {one['precisions'][0]}",
                            "slice_s": secs, "slice_cells": n_slice, "per_cell_s": secs / max(n_slice, 1),
                            "full_cells": n_full, "full_s_estimate": secs / max(n_slice, 1) * n_full,
                            "profile": profile_top(lambda: pl.capacity_table(**{**one, "models": tuple(ms[2:3] or ms[:1])}),
                                                   5, by="cumulative", only="costlib/")}
        except Exception as exc:
            res["table"] = {"na": f"capacity_table raised {type(exc).__name__}: {exc}"}
    return res
