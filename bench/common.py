"""Shared plumbing of `make bench`: paths, goals, formatting, timing and profiling helpers.

Goals come from issue 20 (reported in bench/results.md, never asserted in tests).
"""
from __future__ import annotations

import contextlib
import cProfile
import datetime as dt
import hashlib
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
MAKE_TEST_RECORD = BENCH / "make_test_last.json"
NOTEBOOKS = ROOT / "notebooks"
SIZES = (10_000, 100_000, 1_000_000)
TEN_PERCENT = 0.10

# Goals (issues 10 and 20): reported in bench/results.md, never asserted in tests.
GOAL_SCENARIOS_PER_S = 1e6  # vectorized sweeps, incl. the serving-capacity sweep at 1e6 scenarios
GOAL_PEER_SPEEDUP = 100.0  # sweep speed per configuration against llm-analysis
GOAL_WIDGET_S = 0.100  # one widget update
GOAL_NOTEBOOKS_S = 45.0  # all notebooks executed (issue 20; was 60 s in issue 10)
GOAL_PAGE_BYTES = 2e6  # no HTML page above 2 MB, the planner's included
GOAL_CLI_S = 0.20  # one `python -m costlib infer ... --json`, wall
GOAL_ESTIMATE_S = 0.4e-3  # one full estimate (llm-analysis's speed per call)
GOAL_MAKE_TEST_S = 360.0  # `make test` on the 2-core machine

# Shared assumptions of the side-by-side runs: both tools get the same efficiencies.
CMP_MFU = 0.40  # training: model FLOPs utilization pinned for both
CMP_SEQ_LEN = 4096  # training sequence length
CMP_BW_UTIL = 0.80  # inference: decode memory-bandwidth efficiency
CMP_COMPUTE_UTIL = 0.50  # inference: prefill compute efficiency
CMP_PRECISION = "bf16"


class NotAvailable(Exception):
    """A section or row whose costlib code (or input) does not exist yet."""


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fmt_s(x: float | None) -> str:
    if x is None:
        return "n/a"
    if x < 1e-6:
        return f"{x * 1e9:.0f} ns"
    if x < 1e-3:
        return f"{x * 1e6:.1f} µs"
    if x < 1:
        return f"{x * 1e3:.1f} ms"
    return f"{x:.1f} s"


def fmt_bytes(x: float | None) -> str:
    if x is None:
        return "n/a"
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if x >= div:
            return f"{x / div:.2f} {unit}"
    return f"{x:.0f} B"


def fmt_rate(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.3g}"


def md_table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def run_cmd(cmd: list[str], *, timeout: float, env: dict | None = None, cwd: Path = ROOT) -> tuple[int, float, str]:
    """Run a command, return (exit code, wall seconds, last lines of output)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                              timeout=timeout)
        code, out = proc.returncode, (proc.stdout + proc.stderr)
    except subprocess.TimeoutExpired as exc:
        code, out = -9, f"timed out after {timeout:.0f} s\n{(exc.stdout or '')}"
    return code, time.perf_counter() - t0, "\n".join(str(out).strip().splitlines()[-5:])


def time_call(call, warm_up: bool) -> tuple[float, int]:
    """Median of up to 5 timed calls within a 4 s budget (at least one)."""
    if warm_up:
        call()  # first size only: lru caches, catalog loads, first-touch allocations
    times = []
    budget = time.perf_counter() + 4.0
    while len(times) < 5:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() > budget and len(times) >= 1:
            break
    return statistics.median(times), len(times)


def peak_bytes(call) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def profile_top(call, k: int = 4, by: str = "own", only: str | None = None) -> list[str]:
    """cProfile's top ``k`` entries of one call, by own time (``by="own"``, tottime) or by
    cumulative time (``by="cumulative"``), as "function (file:line) share%" strings; ``only``
    keeps entries whose file path contains it (e.g. "costlib/")."""
    prof = cProfile.Profile()
    prof.enable()
    call()
    prof.disable()
    s = pstats.Stats(prof)
    col = 2 if by == "own" else 3
    total = (sum(v[2] for v in s.stats.values()) if by == "own" else max(v[3] for v in s.stats.values())) or 1.0
    rows = sorted(s.stats.items(), key=lambda kv: kv[1][col], reverse=True)
    out = []
    for (file, line, fn), v in rows:
        if by != "own" and (fn in ("<module>", "<lambda>") or "bench" in file or file == "~"):
            continue  # the caller itself and builtins' wrappers say nothing
        if only and only not in file:
            continue
        where = Path(file).name if file != "~" else "builtin"
        out.append(f"{fn} ({where}:{line}) {100 * v[col] / total:.0f}%")
        if len(out) == k:
            break
    return out


def median_time(fn, repeats: int = 7) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

def environment() -> dict:
    cpu = platform.processor() or ""
    with contextlib.suppress(Exception):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import numpy
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu, "cores": os.cpu_count(),
            "load": os.getloadavg(), "python": platform.python_version(), "numpy": numpy.__version__,
            "commit": commit or "(no commit yet)"}



def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


# ---------------------------------------------------------------------------------------------
# A peer tool's own virtual environment, created on first run from exact pins
# ---------------------------------------------------------------------------------------------
def ensure_venv(venv: Path, requirements: Path) -> Path:
    """Create ``venv`` with the exact pins of ``requirements`` on first run (or when the pins
    change; the pins' SHA-256 is stamped inside the venv) and return its python. Installed with
    --no-deps, so nothing floats; never the book's .venv."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = venv / ".pins-sha256"
    py = venv / "bin" / "python"
    if py.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return py
    log(f"creating {venv.relative_to(ROOT)} with the pins of {requirements.relative_to(ROOT)} (first run)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    proc = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-r",
                           str(requirements)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip install -r {requirements.name} failed: {proc.stderr.strip().splitlines()[-1:]}")
    stamp.write_text(digest + "\n")
    return py
