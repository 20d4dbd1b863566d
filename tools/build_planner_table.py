"""Build the capacity table of the published planner (costlib/data/derived/planner_capacity.json).

    .venv/bin/python tools/build_planner_table.py            # ~10-15 min on one core
    .venv/bin/python tools/build_planner_table.py --jobs 2   # the models split over 2 processes

The page (notebooks/01a_budget_memo.ipynb, notebooks/06_enterprise.ipynb) multiplies these capacities by the
reader's traffic and price exactly as costlib.planner does; tests/test_planner.py re-computes a sample of cells
and fails when the table is stale (costlib.serving or the catalogs changed): then run this again.
The table is row-major with the model outermost, so the models' parts are built apart and joined in order:
the file is the same whatever ``--jobs`` is.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from costlib import planner as pl
from costlib.present.explore_planner import GRID, TABLE_PATH


def _one_model(model: str) -> list:
    t0 = time.time()
    part = pl.capacity_table(**{**GRID, "models": [model]})
    print(f"{model}: {len(part['cells'])} cells in {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    return part["cells"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error(f"--jobs: {args.jobs} is not allowed; give a whole number >= 1")
    t0 = time.time()
    models = list(GRID["models"])
    if args.jobs == 1:
        parts = [_one_model(m) for m in models]
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            parts = list(pool.map(_one_model, models))
    table = pl.capacity_table(**{**GRID, "models": [], "progress": None})
    table["models"] = models
    table["cells"] = [cell for part in parts for cell in part]
    table["built"] = dt.date.today().isoformat()
    table["generator"] = "tools/build_planner_table.py (costlib.planner.capacity_table)"
    Path(TABLE_PATH).write_text(json.dumps(table, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(table['cells'])} cells in {time.time() - t0:.0f}s -> {TABLE_PATH}", file=sys.stderr)
