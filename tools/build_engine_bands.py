"""Build the fitted engine bands (costlib/data/derived/engine_bands.json).

    .venv/bin/python tools/build_engine_bands.py            # ~1 s

costlib.inference.engine_bands and calibration read this file when its inputs' hash matches the catalogs
(inference_benchmarks.csv, engines.csv, weight_formats.csv, hardware.csv, models.csv) and fit the bands at first
use otherwise. tests/test_engine_bands_file.py fails when the file is stale: run this again (then
tools/build_planner_table.py, whose capacities use these bands).
"""
from __future__ import annotations

import json
import sys
import time

from costlib import inference as inf

if __name__ == "__main__":
    t0 = time.time()
    table = inf.build_bands_table()
    inf.ENGINE_BANDS_PATH.parent.mkdir(parents=True, exist_ok=True)
    inf.ENGINE_BANDS_PATH.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(table['engines'])} engines, {len(table['classes'])} classes in {time.time() - t0:.1f}s "
          f"-> {inf.ENGINE_BANDS_PATH}", file=sys.stderr)
