"""nbval over every notebook, in two pytest processes at once (the machine's 2 cores): `make nbval`.

Usage: python tools/run_nbval.py [--jobs N] [--junit-dir DIR] [notebooks/NN_x.ipynb ...] [-- PYTEST_ARGS]

The notebooks are split into N groups, longest first (tools/run_notebooks.TYPICAL_S), each validated by its own
``pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg``; each group's output is
printed when it ends, and the exit status is the first non-zero one (so `make test` fails if any notebook does).
Every notebook is validated exactly as by one pytest run over them all: its own kernel, the same options. The
kernels import from tools/kernel_shims first, as in tools/run_notebooks.py (a module the chapters never use that
costs ~2 s of CPU per kernel).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from run_notebooks import TYPICAL_S, use_shims  # noqa: E402

NBVAL = ["-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "-q",
         "-p", "no:cacheprovider"]


def groups(paths: list[Path], n: int) -> list[list[Path]]:
    """Greedy longest-first split into ``n`` groups of about equal typical time (each keeps the given order)."""
    loads = [0.0] * n
    out: list[list[Path]] = [[] for _ in range(n)]
    for p in sorted(paths, key=lambda p: -TYPICAL_S.get(p.stem, 5)):
        i = loads.index(min(loads))
        out[i].append(p)
        loads[i] += TYPICAL_S.get(p.stem, 5)
    order = {p: k for k, p in enumerate(paths)}
    return [sorted(g, key=order.get) for g in out if g]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--junit-dir", type=Path, help="write each group's JUnit XML here (nbval-1.xml, ...)")
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    paths = a.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if a.jobs < 1:
        print(f"error: --jobs must be at least 1, got {a.jobs}", file=sys.stderr)
        return 2
    use_shims(True)
    t0 = time.perf_counter()
    procs = []
    for i, g in enumerate(groups(paths, a.jobs), 1):
        junit = [f"--junitxml={a.junit_dir / f'nbval-{i}.xml'}"] if a.junit_dir else []
        procs.append((g, subprocess.Popen([sys.executable, *NBVAL, *junit, *extra, *map(str, g)], cwd=ROOT,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                          env=os.environ.copy())))
    status = 0
    for g, proc in procs:
        out, _ = proc.communicate()
        print(f"--- nbval: {', '.join(p.name for p in g)}")
        print(out.rstrip())
        status = status or proc.returncode
    print(f"nbval: {len(paths)} notebook(s) in {time.perf_counter() - t0:.1f} s wall, {len(procs)} pytest process(es)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
