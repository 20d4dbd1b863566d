"""tools/run_nbval.py and tools/run_notebooks.py: the parallel split covers every notebook once, and the kernel
shim stands in only for the module it names."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import run_nbval  # noqa: E402
import run_notebooks  # noqa: E402


def test_groups_cover_every_notebook_once_and_balance_the_typical_time():
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for jobs in (1, 2, 3):
        gs = run_nbval.groups(paths, jobs)
        flat = [p for g in gs for p in g]
        assert sorted(flat) == paths and len(flat) == len(set(flat))
        assert len(gs) == min(jobs, len(paths))
        for g in gs:  # each group keeps the given order
            assert g == sorted(g, key=paths.index)
    a, b = run_nbval.groups(paths, 2)
    load = lambda g: sum(run_notebooks.TYPICAL_S.get(p.stem, 5) for p in g)  # noqa: E731
    assert abs(load(a) - load(b)) <= max(run_notebooks.TYPICAL_S.values())


def test_kernel_shim_hides_only_rfc3987_syntax():
    env_code = ("import os, sys, importlib.util; sys.path.insert(0, os.environ['SHIMS']); "
                "import jsonschema._format as f; import json, numpy; "
                "print(importlib.util.find_spec('rfc3987_syntax').origin.startswith(os.environ['SHIMS']), "
                "'iri' in f.draft7_format_checker.checkers)")
    out = subprocess.run([sys.executable, "-c", env_code], capture_output=True, text=True, timeout=120,
                         env={"SHIMS": str(run_notebooks.KERNEL_SHIMS), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]  # the shim is found first; jsonschema then has no IRI checker
