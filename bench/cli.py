"""Section 0 of `make bench`: what one answer costs a user.

- The CLI one-shot: wall time of ``python -m costlib infer ... --json`` in a fresh process (median
  of 5 after one warm-up run, so the OS file cache is warm, as for a user's second call), next to
  a bare ``python -c pass`` and a bare ``import costlib``; and ``-X importtime`` of the one-shot:
  the top imports by cumulative time, so the owners of the modules know what bounds it.
- One full estimate in-process (``inference.estimate_inference``, every band, the memory fit, the
  price and the assumptions; ``training.estimate_training``; ``serving.capacity_at_slo`` when it
  exists): median of many calls after a warm-up, and cProfile's top own-time entries.
"""
from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict

from bench.common import CMP_MFU, CMP_PRECISION, ROOT, GOAL_ESTIMATE_S, log, profile_top

CLI_ARGS = ("infer", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "bf16", "--batch", "16",
            "--prompt-tokens", "2048", "--output-tokens", "256", "--json")
ONE_SHOT_REPEATS = 5


def user_env() -> dict:
    """The environment of a user's shell: bytecode caches written and read as after ``pip install``. Any non-empty
    PYTHONDONTWRITEBYTECODE (even "0") stops Python writing ``.pyc`` files, and an editable install has none, so
    every fresh process would compile costlib's sources again (~0.1 s of the one-shot): it is removed here."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(cmd: list[str], repeats: int) -> tuple[float, int, str]:
    env = user_env()
    subprocess.run(cmd, cwd=ROOT, capture_output=True, env=env, timeout=120)  # warm-up: bytecode, file cache
    times, cpus, code, err = [], [], 0, ""
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
        times.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        code, err = p.returncode, p.stderr.strip()[-200:]
    _CPU[" ".join(cmd[1:])] = statistics.median(cpus)  # the process's own CPU: steadier than wall on a shared machine
    return statistics.median(times), code, err


_CPU: dict[str, float] = {}


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _importtime(cmd_tail: list[str]) -> dict:
    p = subprocess.run([sys.executable, "-X", "importtime", *cmd_tail], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, env=user_env())
    own, cum = defaultdict(float), {}
    for ln in p.stderr.splitlines():
        m = _IMPORTTIME.match(ln)
        if m:
            own[m.group(4)] += int(m.group(1)) / 1e6
            cum[m.group(4)] = max(cum.get(m.group(4), 0.0), int(m.group(2)) / 1e6)
    pkgs = defaultdict(float)
    for mod, s in own.items():
        pkgs[mod.split(".")[0]] += s
    costlib_cum = sorted(((m, s) for m, s in cum.items() if m.startswith("costlib")), key=lambda kv: -kv[1])
    return {"total_s": sum(own.values()), "packages": sorted(pkgs.items(), key=lambda kv: -kv[1])[:8],
            "costlib_cumulative": costlib_cum[:8],
            "costlib_own": sorted(((m, s) for m, s in own.items() if m.startswith("costlib")), key=lambda kv: -kv[1])[:8],
            "modules": len(own)}


_PROFILE_ONE_SHOT = """
import cProfile, io, json, pstats, sys, contextlib, time
t0 = time.perf_counter()
prof = cProfile.Profile()
prof.enable()
from costlib.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main({args!r})
prof.disable()
wall = time.perf_counter() - t0
st = pstats.Stats(prof)
rows = []
for (f, line, fn), v in st.stats.items():
    if "costlib" in f and fn != "<module>":
        rows.append((v[3], f.split("costlib/", 1)[-1] + ":" + fn))
rows.sort(reverse=True)
print(json.dumps({{"wall_s": wall, "top": rows[:8]}}))
"""


def _profile_one_shot() -> dict:
    """cProfile of the one-shot in a fresh process: the costlib functions with the largest
    cumulative time (imports included), so it shows whether imports or first-use work bound it."""
    p = subprocess.run([sys.executable, "-c", _PROFILE_ONE_SHOT.format(args=list(CLI_ARGS))], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, env=user_env())
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except Exception:
        return {"na": p.stderr.strip()[-200:]}


def _per_call(fn, budget_s: float = 1.5, min_calls: int = 20) -> tuple[float, float]:
    """Wall and CPU seconds per call (mean). On the shared machine the CPU time is the steadier figure: wall time
    also counts the time other processes held the cores."""
    fn()
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while n < min_calls or time.perf_counter() - t0 < budget_s:
        fn()
        n += 1
        if n >= 5000:
            break
    return (time.perf_counter() - t0) / n, (time.process_time() - c0) / n


def section_cli() -> dict:
    res: dict = {}
    py = sys.executable
    res["python_s"], _, _ = _wall([py, "-c", "pass"], ONE_SHOT_REPEATS)
    res["import_s"], code, err = _wall([py, "-c", "import costlib"], ONE_SHOT_REPEATS)
    res["infer_s"], res["infer_exit"], res["infer_err"] = _wall([py, "-m", "costlib", *CLI_ARGS], ONE_SHOT_REPEATS)
    res["cpu"] = {"python_s": _CPU.get("-c pass"), "import_s": _CPU.get("-c import costlib"),
                  "infer_s": _CPU.get(" ".join(["-m", "costlib", *CLI_ARGS]))}
    log(f"cli: python {res['python_s']:.3f} s, import costlib {res['import_s']:.3f} s, infer --json {res['infer_s']:.3f} s")
    res["importtime"] = _importtime(["-m", "costlib", *CLI_ARGS])
    res["profile"] = _profile_one_shot()
    res["command"] = "python -m costlib " + " ".join(CLI_ARGS)
    return res


def section_estimates() -> dict:
    """One full estimate, in process, warm."""
    from costlib import inference, models, training

    spec = models.get_model("llama-3.1-8b")
    calls = {
        "inference.estimate_inference (llama-3.1-8b, h100-sxm, bf16, batch 16, 2048/256)":
            lambda: inference.estimate_inference(spec, "h100-sxm", CMP_PRECISION, 16, 2048, 256),
        "training.estimate_training (8B params, 15e12 tokens, 1024 x h100-sxm)":
            lambda: training.estimate_training(spec.total_params, 15e12, "h100-sxm", gpus=1024, mfu=CMP_MFU),
    }
    # The same estimate over distinct inputs (no per-input cache can answer it twice in a row): 4 models x 2 GPUs x
    # 3 batches x 3 prompt lengths x 3 output lengths, cycled.
    grid = [(m, g, b, p, o) for m in ("llama-3.1-8b", "qwen2.5-7b", "llama-3.2-3b", "mistral-7b")
            for g in ("h100-sxm", "a100-80gb") for b in (1, 8, 32) for p in (256, 1000, 4000) for o in (64, 256, 1000)]
    specs = {m: models.get_model(m) for m in {row[0] for row in grid}}
    cursor = iter(range(10**9))

    def varied():
        m, g, b, p, o = grid[next(cursor) % len(grid)]
        return inference.estimate_inference(specs[m], g, CMP_PRECISION, b, p, o)

    calls[f"inference.estimate_inference over {len(grid)} distinct inputs, cycled (models x GPUs x batch x tokens)"] = varied
    try:
        from costlib import serving
        cap = getattr(serving, "capacity_at_slo", None)
    except ImportError:
        serving, cap = None, None
    if cap is not None:
        calls["serving.capacity_at_slo (llama-3.1-8b, h100-sxm, 1000/250, TTFT 2 s, TPOT 50 ms)"] = lambda: cap(
            "llama-3.1-8b", "h100-sxm", prompt_tokens=1000, output_tokens=250, ttft_s=2.0, tpot_s=0.05)
    out = {}
    for name, fn in calls.items():
        try:
            per, cpu = _per_call(fn)
            row = {"s": per, "cpu_s": cpu}
            if per > GOAL_ESTIMATE_S:
                row["profile"] = profile_top(lambda: [fn() for _ in range(50)], 5)
            out[name] = row
            log(f"estimate {name.split(' ')[0]}: {per * 1e3:.3f} ms")
        except Exception as exc:
            out[name] = {"na": f"{type(exc).__name__}: {exc}"}
    if cap is None:
        out["serving.capacity_at_slo"] = {"na": "costlib.serving.capacity_at_slo not available on this commit"}
    return out
