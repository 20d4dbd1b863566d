#!/usr/bin/env python
"""`make bench`: how fast the book answers, rebuilds, sweeps and reacts, beside two peers (issues 10, 20).

Sections (each measures what exists on the commit and says "not available" for what does not):

0. One answer (bench/cli.py): the CLI one-shot `python -m costlib infer ... --json` (wall, fresh
   process) with its import profile, and one full estimate in process with its cProfile.
1. Notebooks (bench/notebooks.py): every notebook executed by `tools/run_notebooks.py --jobs 2` on
   a scratch copy, per notebook and per cell, and each set-up cell's `-X importtime` profile; the
   strict site build and, with --with-make-test, the unit, nbval and browser pieces of `make test`
   (bench/pages.py; otherwise the last recorded total, dated).
2. Vectorized sweeps at 1e4, 1e5, 1e6 scenarios (bench/sweeps.py), the serving-capacity sweep included.
3. Peers (bench/peers.py): llm-analysis and GenZ, each in its own pinned venv created on first run,
   on the same configurations; time per configuration; every tool's median error against the
   published serving cases in the same run.
4. Widget responsiveness (bench/widgets.py).
5. Site weight, the planner's page included, and the planner explorer's build time (bench/pages.py).

Goals are reported (bench/report.py), never asserted. The table is printed and written to bench/results.md.

Usage:  .venv/bin/python bench/run.py [--quick] [--with-make-test] [--skip-peer] [--out bench/results.md]

The default run takes about 6-8 minutes on the shared 2-core machine (the first run adds the peers'
venvs: about 3 minutes); --with-make-test adds the unit, nbval and browser pieces (about 8 more).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/run.py`: make the bench package importable
    sys.path.insert(0, str(ROOT))

from bench import cli, notebooks, pages, peers, report, sweeps, widgets  # noqa: E402
from bench.common import BENCH, MAKE_TEST_RECORD, SIZES, environment, load_average, log  # noqa: E402

# Concrete fixes for module owners, kept next to the profiles that motivate them (bench/results.md prints
# them under the import table). Checked on commit dc861d9 + this branch: costlib/__init__.py imports
# nothing, costlib's own modules cost under 0.1 s each at import (numpy aside), so the set-up cells are
# bound by third-party libraries and the slow cells by figure saving and repeated estimates.
IMPORT_FIXES = [
    "The first `glue()` of every kernel imports nbformat -> jsonschema, whose format checker imports "
    "rfc3987_syntax (installed only because jupyter-events asks for jsonschema[format-nongpl]); it compiles an "
    "Earley grammar for IRIs at import, about 2 s of CPU per kernel (measured above, with and without it). "
    "Done for `make notebooks` and `make nbval`: their kernels import tools/kernel_shims first, which stands in for "
    "that module (jsonschema treats it as optional; no chapter validates an IRI). Lasting fix (integration, "
    "requirements.txt): drop the `rfc3987-syntax` pin, so Binder kernels skip it too.",
    "Set-up cells: matplotlib.pyplot, pandas, ipywidgets and numpy are most of each kernel's import time and "
    "every chapter with a figure needs them; no lazy import inside costlib removes them. What does: fewer kernels in "
    "series (`make notebooks` and `make nbval` run 2 at a time, the longest first).",
    "The CLI one-shot is bound by the interpreter start and numpy's import (about half of its CPU), then first-use "
    "work: the engine bands' fit (a derived file on serve's branch) and `serving.at_concurrency`'s bisection; "
    "`import costlib` reads no catalog and `infer` imports only its own modules (tests/test_lazy_import.py).",
    "`costlib plan` one-shots (52 of them in tests/browser/test_planner.py) spend about half their CPU importing "
    "genai-prices and its pydantic models to resolve the API tiers (prices.api_prices -> _genai_models): owner of "
    "costlib/prices.py (market). A derived table of the tiers' current prices read without the package would cut it.",
    "The slowest cells are bound by matplotlib's text layout in `explore.save_figure` and the inline display: "
    "save_figure now runs the layout and measures the tight box once for both files (about 15% less per figure); "
    "the rest is drawing each figure three times (SVG, PNG, the notebook's own PNG).",
    "Cells that loop over single estimates are bound by their per-call cost: `estimate_inference` now runs its step "
    "formulas once on plain floats (tests/test_fast_path.py: equal to the vectorized path to the last digit), and the "
    "argument checks and Band take a scalar path (numpy scalars included: enterprise.option_summary 5.4 -> 3.5 ms). "
    "The vectorized sweeps a figure and an explorer could share (serving.frontier, capacity_sweep, batch_sweep) take "
    "1-5 ms each: `costlib.cache.memo` would save nothing measurable, so they are not wrapped; explorer grids evaluate "
    "distinct inputs, which no cache shares.",
]


# Set-up cells profiled with -X importtime (they differ little; three keep the bench within ~8 minutes).
IMPORT_PROFILED = ("00_hardware_and_models.ipynb", "02_inference.ipynb", "90_seed_audit.ipynb")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one answer, sweeps, peers and widgets only (no notebooks, site)")
    ap.add_argument("--with-make-test", action="store_true",
                    help="also run the unit, nbval and browser pieces of make test (several minutes) and record the "
                         "total in bench/make_test_last.json; without it the last recorded total is reported, dated")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    ap.add_argument("--out", default=str(BENCH / "results.md"))
    ap.add_argument("--note", action="append", default=[],
                    help="a line printed at the end of the results (e.g. what the commit carries); repeatable")
    ap.add_argument("--widget-worker", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.widget_worker:
        try:
            res = widgets.widget_worker(Path(a.widget_worker).resolve())
        except Exception as exc:
            res = {"na": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(res))
        return 0

    t0 = time.perf_counter()
    env = environment()
    sizes = tuple(int(float(s)) for s in a.sizes.split(","))
    R: dict = {"import_fixes": IMPORT_FIXES, "notes": list(a.note)}
    log("section 0: CLI one-shot and one estimate")
    R["cli"] = cli.section_cli()
    R["estimates"] = cli.section_estimates()
    log("section 2: vectorized sweeps")
    R["sweeps"] = sweeps.section_sweeps(sizes)
    log("section 3: peers side by side")
    R["peer"] = peers.section_peer(a.skip_peer)
    log("section 4: widgets")
    R["widgets"] = widgets.section_widgets()
    if not a.quick:
        log("section 1: notebooks (scratch copy, 2 workers) and their set-up cells")
        R["notebooks"] = notebooks.section_notebooks(jobs=2)
        if R["notebooks"].get("slowest_body"):
            R["cell_profiles"] = notebooks.profile_cells(R["notebooks"]["slowest_body"], k=2)
        R["imports"] = notebooks.section_imports(IMPORT_PROFILED)
        R["first_glue"] = notebooks.first_glue()
        log("section 5: planner explorer")
        R["planner"] = pages.section_planner()
        with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
            log("section 1: strict site build")
            R["site"] = pages.section_site(Path(tmp))
            html = R["site"].get("html")
            log("section 5: site weight")
            R["weight"] = pages.section_weight(html)
            if a.with_make_test:
                log("make test pieces: unit, nbval, browser")
                R["unit"] = pages.section_unit()
                R["nbval"] = pages.section_nbval()
                R["browser"] = pages.section_browser(html)
                record = {"date": env["date"], "commit": env["commit"], "load": env["load"],
                          **{k: {"wall_s": R[k]["wall_s"], "exit": R[k]["exit"]} for k in ("unit", "nbval", "site", "browser")
                             if "wall_s" in R.get(k, {})}}
                MAKE_TEST_RECORD.write_text(json.dumps(record, indent=1) + "\n")
    text = report.render(env, R, time.perf_counter() - t0, load_end=load_average())
    Path(a.out).write_text(text)
    print(text)
    log(f"wrote {Path(a.out).relative_to(ROOT) if Path(a.out).is_relative_to(ROOT) else a.out} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
