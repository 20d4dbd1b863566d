"""Re-execute notebooks in place so stored outputs match what costlib computes today.

Usage: python tools/run_notebooks.py [--jobs N] [--timings FILE] [--no-shims] notebooks/01_training.ipynb [...]

Runs each notebook with nbclient in its own folder (the kernel's working directory under nbval
too), without timing metadata, keeping widget state so the static site can show widgets' default
results. Stops with an error (exit 1) if any cell raises, after the other notebooks finish.

``--jobs N`` (default 2, the machine's cores) executes up to N notebooks at once, each in its own
process and kernel. The output does not depend on N: every notebook is executed and written by
exactly one worker, nothing is shared between kernels, and the summary is printed in the order the
paths were given (checked: --jobs 2 and --jobs 1 give the same notebooks up to what differs between
any two runs, object addresses in reprs and ipywidgets' random model ids). ``--timings FILE`` writes JSON with, per notebook, the wall time,
the kernel start-up and each code cell's execution time (measured around nbclient's execute
request; not stored in the notebook). The kernels import from ``tools/kernel_shims`` first, which stands in for
a module the chapters never use and that costs ~2 s of CPU per kernel (``--no-shims`` to run without).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNEL_SHIMS = Path(__file__).resolve().parent / "kernel_shims"
"""Put first on the kernels' PYTHONPATH: modules the chapters never use that cost seconds at import
(see kernel_shims/rfc3987_syntax/__init__.py). ``--no-shims`` runs the kernels without them."""

# Seconds each notebook took in the last measured run (bench/results.md): the longest are started first so the
# two workers finish together. Only the order of starting depends on it, never the output or the summary's order.
TYPICAL_S = {"02_inference": 21, "06_enterprise": 18, "03_memory": 17, "05_slm_vs_llm": 16, "01_training": 13,
             "01a_budget_memo": 11, "04_optimizations": 10, "00_hardware_and_models": 8, "90_seed_audit": 8}


def use_shims(enabled: bool) -> None:
    """Kernels started from this process import from :data:`KERNEL_SHIMS` first (or not)."""
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(KERNEL_SHIMS)]
    if enabled:
        parts.insert(0, str(KERNEL_SHIMS))
    if parts:
        os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    else:
        os.environ.pop("PYTHONPATH", None)


def run(path: Path) -> dict:
    """Execute one notebook in place; its wall time, kernel start-up and per-cell times."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    cells: list[dict] = []
    clock: dict = {}

    def cell_start(cell, cell_index):
        clock[cell_index] = time.perf_counter()
        clock.setdefault("first", clock[cell_index])

    def cell_done(cell, cell_index, execute_reply):
        first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
        cells.append({"index": cell_index, "s": time.perf_counter() - clock[cell_index], "first_line": first[:100]})

    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_execute=cell_start,
        on_cell_executed=cell_done,
    )
    error = None
    try:
        client.execute()
    except Exception as exc:  # a failing cell: report it, write nothing
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    wall = time.perf_counter() - start
    if error is None:
        for cell in nb.cells:
            cell.get("metadata", {}).pop("execution", None)
        nbformat.write(nb, path)
    kernel = clock.get("first", start + wall) - start
    return {"path": str(path), "wall_s": wall, "kernel_start_s": kernel, "cells": cells, "error": error}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--jobs", "-j", type=int, default=2, help="notebooks executed at once (default 2)")
    ap.add_argument("--timings", type=Path, help="write per-notebook and per-cell times as JSON here")
    ap.add_argument("--no-shims", action="store_true", help="run the kernels without tools/kernel_shims")
    a = ap.parse_args(argv)
    use_shims(not a.no_shims)  # inherited by the workers and their kernels
    paths = a.paths or sorted(Path("notebooks").glob("*.ipynb"))
    if a.jobs < 1:
        print(f"error: --jobs must be at least 1, got {a.jobs}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    if a.jobs == 1 or len(paths) == 1:
        results = [run(p) for p in paths]
    else:
        # Longest first balances the workers; the summary keeps the order of the paths.
        order = sorted(range(len(paths)), key=lambda i: -TYPICAL_S.get(paths[i].stem, 5))
        with ProcessPoolExecutor(max_workers=min(a.jobs, len(paths))) as pool:
            futures = {i: pool.submit(run, paths[i]) for i in order}
            results = [futures[i].result() for i in range(len(paths))]
    total = time.perf_counter() - t0
    for r in results:
        status = f"FAILED: {r['error']}" if r["error"] else f"executed in {r['wall_s']:.1f} s"
        print(f"{r['path']}: {status}")
    print(f"{len(results)} notebook(s) in {total:.1f} s wall with {min(a.jobs, len(paths))} worker(s)")
    if a.timings:
        a.timings.write_text(json.dumps({"wall_s": total, "jobs": a.jobs, "notebooks": results}, indent=1) + "\n")
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
