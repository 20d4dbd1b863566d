"""The fitted engine bands are a derived file (costlib/data/derived/engine_bands.json): current, read in normal use,
and equal to a fresh fit. A stale file fails here: run tools/build_engine_bands.py."""
import json
import subprocess
import sys

import pytest

from costlib import inference as inf


def _stored():
    return json.loads(inf.ENGINE_BANDS_PATH.read_text(encoding="utf-8"))


def test_file_is_current():
    table = _stored()
    assert table["inputs_sha256"] == inf.bands_inputs_hash(), "stale: run tools/build_engine_bands.py"
    assert table["fit_version"] == inf.BANDS_FIT_VERSION


def test_file_equals_a_fresh_fit():
    """Catches a change of the fitting code that the inputs' hash cannot see."""
    fresh = inf.build_bands_table()
    stored = _stored()
    assert set(fresh["engines"]) == set(stored["engines"]) and set(fresh["classes"]) == set(stored["classes"])
    for kind in ("engines", "classes"):
        for name, d in fresh[kind].items():
            s = stored[kind][name]
            for key in ("bandwidth", "compute"):
                assert s[key] == pytest.approx(d[key], rel=1e-12), (kind, name, key)
            assert {k: v for k, v in s.items() if k not in ("bandwidth", "compute")} == \
                {k: v for k, v in d.items() if k not in ("bandwidth", "compute")}, (kind, name)


def test_normal_use_reads_the_file():
    assert inf._stored_bands() is not None
    for name in inf.engine_names():
        read, fitted = inf.engine_bands(name), inf.fit_engine_bands(name)
        assert read.engine == fitted.engine and read.cases == fitted.cases and read.fallback == fitted.fallback
        assert read.bandwidth.mid == pytest.approx(fitted.bandwidth.mid, rel=1e-12)
    assert inf.calibration()["optimized-server"].bandwidth.mid == pytest.approx(
        inf._fit_calibration()["optimized-server"].bandwidth.mid, rel=1e-12)


def test_a_one_shot_process_does_not_fit():
    """A fresh interpreter answers engine_bands without calling the fit (implied_utilization)."""
    code = ("import costlib.inference as inf\n"
            "def boom(*a, **k):\n    raise SystemExit('fitted')\n"
            "inf.implied_utilization = boom\n"
            "print(inf.engine_bands('vllm').bandwidth.mid, inf.calibration()['llama.cpp'].compute.mid)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + out.stdout


def test_a_stale_file_is_not_used(monkeypatch):
    inf._stored_bands.cache_clear()
    try:
        monkeypatch.setattr(inf, "bands_inputs_hash", lambda: "not-the-hash")
        assert inf._stored_bands() is None
    finally:
        inf._stored_bands.cache_clear()
