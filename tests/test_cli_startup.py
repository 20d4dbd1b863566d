"""A one-shot catalog listing imports only what it prints (start-up time is reported by ``make bench``, never
asserted here): ``gpus --json`` needs no numpy (the JSON writer imports it only if something already did),
``models --json`` no hardware module, and no subcommand imports shutil just to build its parser."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from costlib.cli import dumps, strict_data

_RUN = """
import contextlib, io, json, sys
from costlib.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main({args!r})
payload = json.loads(out.getvalue())
print(json.dumps([code, len(payload), sorted(m for m in ("numpy", "shutil", "pandas", "costlib.hardware", "costlib.models",
                                                         "costlib.validate") if m in sys.modules)]))
"""


def _fresh(args):
    p = subprocess.run([sys.executable, "-c", _RUN.format(args=args)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_gpus_json_imports_neither_numpy_nor_the_models():
    code, n, loaded = _fresh(["gpus", "--json"])
    assert code == 0 and n >= 1
    assert loaded == ["costlib.hardware"], loaded


def test_models_json_imports_no_hardware_module_and_no_shutil():
    code, n, loaded = _fresh(["models", "--json"])
    assert code == 0 and n >= 1
    # numpy comes with costlib.validate (models.published_interval checks its argument there)
    assert "costlib.hardware" not in loaded and "shutil" not in loaded and "pandas" not in loaded, loaded


def test_help_still_follows_the_terminal_width():
    def widest(columns):
        p = subprocess.run([sys.executable, "-m", "costlib", "infer", "--help"], capture_output=True, text=True,
                           timeout=120, env={"COLUMNS": str(columns), "PATH": "/usr/bin:/bin"})
        assert p.returncode == 0, p.stderr
        return max(len(line) for line in p.stdout.splitlines())

    narrow, wide = widest(50), widest(200)
    assert narrow < 80 < 100 < wide  # (a few unbreakable words, e.g. a list of choices, exceed 50)


def test_strict_data_still_cleans_numpy_values():
    payload = {"a": np.float64("nan"), "b": np.array([1.0, np.inf]), "c": np.int64(3), "d": [np.float32(2.5)]}
    out = strict_data(payload)
    assert out["a"] is None and out["b"] == [1.0, None] and out["c"] == 3 and out["d"] == [2.5]
    assert set(out["null_reasons"]) == {"a", "b"}
    json.loads(dumps(payload))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_strict_data_plain_floats(value):
    out = strict_data({"x": value, "y": [1.0, value]})
    assert out["x"] is None and out["y"] == [1.0, None] and set(out["null_reasons"]) == {"x", "y"}
