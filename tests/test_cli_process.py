"""The CLI as a user runs it: `python -m costlib ...` in a separate process."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "costlib", *args], capture_output=True, text=True, timeout=120)


def test_gpus_json_has_sources_and_dates():
    proc = run("gpus", "--json")
    assert proc.returncode == 0, proc.stderr
    gpus = json.loads(proc.stdout)["gpus"]
    assert all(g["source"] and g["as_of"] for g in gpus)


@pytest.mark.parametrize(
    "args, words",
    [
        (["nonsense"], "invalid choice"),
        (["gpus", "--bogus"], "unrecognized arguments"),
    ],
)
def test_errors_exit_2_with_one_line_on_stderr(args, words):
    proc = run(*args)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
