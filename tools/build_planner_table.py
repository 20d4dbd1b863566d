"""Build the capacity table of the published planner (costlib/data/derived/planner_capacity.json).

    .venv/bin/python tools/build_planner_table.py            # ~10-15 min on one core

The page (notebooks/01a_budget_memo.ipynb, notebooks/06_enterprise.ipynb) multiplies these capacities by the
reader's traffic and price exactly as costlib.planner does; tests/test_planner.py re-computes a sample of cells
and fails when the table is stale (costlib.serving or the catalogs changed): then run this again.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from costlib import planner as pl
from costlib.present.explore_planner import GRID, TABLE_PATH

if __name__ == "__main__":
    t0 = time.time()
    done = [0]
    total = len(GRID["models"]) * len(GRID["gpus"]) * len(GRID["precisions"])

    def progress(m, g, pr):
        done[0] += 1
        if done[0] % 50 == 0:
            print(f"{done[0]}/{total} {m} {g} {pr} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)

    table = pl.capacity_table(progress=progress, **GRID)
    table["built"] = dt.date.today().isoformat()
    table["generator"] = "tools/build_planner_table.py (costlib.planner.capacity_table)"
    Path(TABLE_PATH).write_text(json.dumps(table, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(table['cells'])} cells in {time.time() - t0:.0f}s -> {TABLE_PATH}", file=sys.stderr)
