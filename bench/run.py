#!/usr/bin/env python
"""`make bench`: how fast the book rebuilds, sweeps and reacts, measured beside llm-analysis (issue 10).

Sections (each measures what exists today and says "not available" for what does not):

1. Notebook execution (warm, per notebook, from an nbval run), the strict site build, and the
   total of the pieces of `make test` (unit + nbval + site + browser), run as the Makefile runs them
   except that the site is built into a private folder (never the shared `_build`). The unit and
   browser pieces only with --with-make-test; otherwise the last recorded total is reported, dated.
2. costlib's vectorized sweeps at 1e4, 1e5 and 1e6 scenarios: training, inference, memory fits and
   the enterprise Monte Carlo; scenarios per second (median of repeats) and peak traced memory.
3. llm-analysis (PyPI, in its own venv bench/.peer-venv with the exact pins of
   bench/requirements-peer.txt) on the same >= 20 configurations: answers, time per configuration,
   the ratio, and every difference above 10% decomposed and explained.
4. Widget responsiveness: each chapter's main widget built by running the notebook's own cells,
   every control changed, compute (time inside costlib) and redraw (the rest) timed separately.
5. Site weight: total size of the built html folder and the heaviest page.

Goals (issue 10) are reported, never asserted. The table is printed and written to bench/results.md.

Usage:  .venv/bin/python bench/run.py [--quick] [--with-make-test] [--skip-peer] [--out bench/results.md]

The default run (`make bench`) takes about 6-8 minutes on the shared 2-core machine; `--with-make-test`
adds the unit and browser pieces of `make test` (about 8 more minutes) and records their times.
"""
from __future__ import annotations

import argparse
import cProfile
import contextlib
import datetime as dt
import functools
import hashlib
import inspect
import io
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PEER_VENV = BENCH / ".peer-venv"
PEER_REQ = BENCH / "requirements-peer.txt"
PEER_STAMP = PEER_VENV / ".pins-sha256"
MAKE_TEST_RECORD = BENCH / "make_test_last.json"
NOTEBOOKS = ROOT / "notebooks"
SIZES = (10_000, 100_000, 1_000_000)
TEN_PERCENT = 0.10

# Goals from issue 10 (reported, not asserted).
GOAL_SCENARIOS_PER_S = 1e6
GOAL_PEER_SPEEDUP = 100.0
GOAL_WIDGET_S = 0.100
GOAL_NOTEBOOKS_S = 60.0
GOAL_PAGE_BYTES = 2e6

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


# =============================================================================================
# 0. The peer's own virtual environment
# =============================================================================================
def ensure_peer_venv() -> Path:
    """Create bench/.peer-venv with the exact pins on first run (or when the pins change)."""
    digest = hashlib.sha256(PEER_REQ.read_bytes()).hexdigest()
    py = PEER_VENV / "bin" / "python"
    if py.exists() and PEER_STAMP.exists() and PEER_STAMP.read_text().strip() == digest:
        return py
    log(f"creating {PEER_VENV.relative_to(ROOT)} with the pins of {PEER_REQ.relative_to(ROOT)} (first run)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-r",
                    str(PEER_REQ)], check=True)
    PEER_STAMP.write_text(digest + "\n")
    return py


# =============================================================================================
# 2. Vectorized sweeps
# =============================================================================================
def _sweeps():
    """name -> (what it evaluates, builder(n) returning a zero-argument call that does n scenarios)."""
    import numpy as np

    def training(n):
        try:
            from costlib.training import gpu_hours, training_flops
        except ImportError as exc:
            raise NotAvailable(f"costlib.training: {exc}")
        rng = np.random.default_rng(0)
        params, tokens = rng.uniform(1e8, 1e11, n), rng.uniform(1e10, 2e13, n)

        def call():
            band = gpu_hours(training_flops(params, tokens), "h100-sxm", "bf16")  # calibrated MFU band
            assert np.shape(band.mid) == (n,)
            return band
        return call

    def inference(n):
        try:
            from costlib.inference import decode_step_time_s, prefill_time_s
        except ImportError as exc:
            raise NotAvailable(f"costlib.inference: {exc}")
        rng = np.random.default_rng(0)
        batch, prompt, out = rng.integers(1, 65, n), rng.integers(128, 4097, n), rng.integers(16, 1025, n)

        def call():
            ttft = prefill_time_s("llama-3.1-8b", "h100-sxm", "bf16", batch, prompt)
            tpot = decode_step_time_s("llama-3.1-8b", "h100-sxm", "bf16", batch, prompt + out / 2.0)
            latency = ttft + (out - 1) * tpot
            assert np.shape(latency) == (n,)
            return latency
        return call

    def serving(n):
        try:
            from costlib.serving import capacity_sweep
        except ImportError as exc:
            raise NotAvailable(f"costlib.serving: {exc}")
        rng = np.random.default_rng(0)
        ttft, tpot = rng.uniform(0.05, 3.0, n), rng.uniform(0.008, 0.1, n)

        def call():
            rate, binding = capacity_sweep("llama-3.1-8b", "h100-sxm", prompt_tokens=1000, output_tokens=250,
                                           ttft_s=ttft, tpot_s=tpot)
            assert np.shape(rate) == (n,)
            return rate
        return call

    def memory(n):
        try:
            from costlib.memory import fits, inference_memory
        except ImportError as exc:
            raise NotAvailable(f"costlib.memory: {exc}")
        rng = np.random.default_rng(0)
        context, batch = rng.integers(256, 131_073, n), rng.integers(1, 65, n)

        def call():
            ok = fits(inference_memory("llama-3.1-8b", "bf16", context, batch), "a100-80gb")
            assert np.shape(ok) == (n,)
            return ok
        return call

    def enterprise(n):
        try:
            from costlib.enterprise import example_scenarios, load_scenario, monte_carlo, SCENARIO_DIR
        except ImportError as exc:
            raise NotAvailable(f"costlib.enterprise: {exc}")
        names = example_scenarios()
        if not names:
            raise NotAvailable("no example scenario shipped")
        sc = load_scenario(SCENARIO_DIR / f"{names[0]}.yaml")

        def call():
            mc = monte_carlo(sc, n=n, seed=0)
            return mc
        return call

    def api_cost(n):
        from costlib.prices import get_api_price
        rng = np.random.default_rng(0)
        i = rng.uniform(1e2, 1e5, n)
        o, c = rng.uniform(1e1, 1e4, n), i * rng.uniform(0, 1, n)
        price = get_api_price("gpt-4o-mini")
        return lambda: price.cost_usd(i, o, c)

    return {
        "training (FLOPs + GPU-hour band)": ("training_flops + gpu_hours: params x tokens on h100-sxm, calibrated MFU band", training),
        "inference (TTFT + TPOT + latency)": ("prefill_time_s + decode_step_time_s: llama-3.1-8b, batch x prompt x output", inference),
        "serving capacity at a service level": ("capacity_sweep: llama-3.1-8b on h100-sxm, vllm, 1000/250 tokens, TTFT x TPOT "
                                                "targets -> max requests/s (continuous batching)", serving),
        "memory fit": ("inference_memory + fits: llama-3.1-8b bf16, context x batch on a100-80gb", memory),
        "enterprise Monte Carlo": ("monte_carlo(sdlc_assistant, n samples): annual cost of every option", enterprise),
        "API cost (foundation)": ("ApiPrice.cost_usd with cached input: gpt-4o-mini", api_cost),
    }


def _time_call(call, warm_up: bool) -> tuple[float, int]:
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


def _peak_bytes(call) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _profile_top(call, k: int = 4) -> list[str]:
    prof = cProfile.Profile()
    prof.enable()
    call()
    prof.disable()
    s = pstats.Stats(prof)
    rows = sorted(s.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:k]  # by own (tottime) time
    total = sum(v[2] for v in s.stats.values()) or 1.0
    out = []
    for (file, line, fn), v in rows:
        where = Path(file).name if file != "~" else "builtin"
        out.append(f"{fn} ({where}:{line}) {100 * v[2] / total:.0f}%")
    return out


def section_sweeps(sizes) -> dict:
    res = {"rows": [], "profiles": {}}
    for name, (what, build) in _sweeps().items():
        row = {"name": name, "what": what, "by_n": {}}
        for n in sizes:
            try:
                call = build(n)
                secs, reps = _time_call(call, warm_up=n == sizes[0])
                peak = _peak_bytes(call)
                row["by_n"][n] = {"s": secs, "rate": n / secs, "peak": peak, "repeats": reps}
                log(f"sweep {name} n={n:.0e}: {secs:.3f} s, {n / secs:.3g}/s, peak {fmt_bytes(peak)}")
            except NotAvailable as exc:
                row["na"] = str(exc)
                break
            except Exception as exc:  # a costlib error is a finding, not a crash of the bench
                row["na"] = f"error: {type(exc).__name__}: {exc}"
                break
        res["rows"].append(row)
        largest = max(row["by_n"]) if row["by_n"] else None
        if largest and row["by_n"][largest]["rate"] < GOAL_SCENARIOS_PER_S:
            try:
                res["profiles"][name] = _profile_top(build(min(largest, 100_000)))
            except Exception as exc:
                res["profiles"][name] = [f"profile failed: {exc}"]
    return res


# =============================================================================================
# 3. llm-analysis side by side
# =============================================================================================
TRAIN_CASES = [  # model, tokens, gpu, gpus
    ("llama-2-7b", 2e12, "a100-80gb", 256),
    ("llama-2-13b", 2e12, "a100-80gb", 512),
    ("llama-2-70b", 2e12, "a100-80gb", 1024),
    ("llama-7b", 1e12, "a100-80gb", 256),
    ("llama-3.1-8b", 15e12, "h100-sxm", 1024),
    ("llama-3.1-70b", 15e12, "h100-sxm", 2048),
    ("llama-3.2-1b", 9e12, "h100-sxm", 256),
    ("tinyllama-1.1b", 3e12, "a100-40gb", 16),
    ("qwen2.5-7b", 18e12, "h100-sxm", 1024),
    ("mistral-7b", 1e12, "a100-80gb", 256),
    ("smollm2-1.7b", 11e12, "h100-sxm", 256),
    ("phi-3-mini", 3.3e12, "h100-sxm", 512),
]
INFER_CASES = [  # model, gpu, gpus, batch, prompt, output
    ("llama-3.1-8b", "a100-80gb", 1, 1, 512, 256),
    ("llama-3.1-8b", "a100-80gb", 1, 16, 512, 256),
    ("llama-3.1-8b", "h100-sxm", 1, 1, 2048, 256),
    ("llama-3.1-8b", "h100-sxm", 1, 16, 2048, 256),
    ("llama-2-7b", "a100-80gb", 1, 1, 512, 256),
    ("llama-2-7b", "a100-80gb", 1, 16, 2048, 256),
    ("llama-2-13b", "a100-80gb", 1, 4, 1024, 256),
    ("mistral-7b", "h100-sxm", 1, 1, 1024, 512),
    ("qwen2.5-7b", "h100-sxm", 1, 8, 1024, 256),
    ("llama-3.2-1b", "l4", 1, 1, 512, 256),
    ("llama-3.2-1b", "l4", 1, 8, 512, 256),
    ("tinyllama-1.1b", "a10", 1, 1, 256, 128),
    ("llama-3.1-70b", "h100-sxm", 4, 1, 1024, 256),
]


def _model_payload(spec) -> dict:
    return {
        "id": spec.id, "layers": spec.layers, "heads": spec.heads, "kv_heads": spec.kv_heads, "d_model": spec.d_model,
        "ffn_dim": spec.ffn_dim, "gated": spec.ffn_kind in ("swiglu", "geglu"), "vocab": spec.vocab,
        "max_context": spec.max_context,
    }


def _gpu_payload(dev) -> dict:
    return {"id": dev.id, "memory_gb": dev.memory_gb, "bandwidth_gb_s": dev.bandwidth_gb_s,
            "interconnect_gb_s": dev.interconnect_gb_s or 64.0, "bf16_tflops": dev.peak_tflops("bf16")}


def _median_time(fn, repeats: int = 7) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _costlib_train(spec, tokens, gpu, gpus):
    from costlib import training
    est = lambda: training.estimate_training(spec.total_params, tokens, gpu, gpus=gpus, mfu=CMP_MFU,  # noqa: E731
                                             active_params=spec.active_params)
    e = est()
    return {"value_s": float(e.wall_days.mid) * 86400.0, "params": float(spec.total_params),
            "flops_per_token": float(e.flops) / tokens, "time_s": _median_time(est)}


def _costlib_infer(spec, gpu, gpus, batch, prompt, output):
    from costlib import inference
    kw = dict(bandwidth_utilization=CMP_BW_UTIL, compute_utilization=CMP_COMPUTE_UTIL)

    def pinned():
        ttft = inference.prefill_time_s(spec, gpu, CMP_PRECISION, batch, prompt, gpus, **kw)
        step = inference.decode_step(spec, gpu, CMP_PRECISION, batch, prompt + output / 2.0, gpus, **kw)
        return ttft, step
    ttft, step = pinned()
    tpot = float(step.total_s)
    full = lambda: inference.estimate_inference(spec, gpu, CMP_PRECISION, batch, prompt, output, gpus=gpus)  # noqa: E731
    return {"value_s": ttft + (output - 1) * tpot, "prefill_s": ttft, "decode_s": (output - 1) * tpot,
            "decode_step_s": tpot, "overhead_s": float(step.overhead_s), "params": float(spec.total_params),
            "time_s": _median_time(full), "time_pinned_s": _median_time(pinned)}


def _vector_time_per_config(kind: str, cases) -> float | None:
    """costlib's time per configuration when the configurations go through as one array call."""
    import numpy as np
    try:
        if kind == "train":
            from costlib.training import gpu_hours, training_flops
            from costlib.models import get_model
            n = np.array([get_model(m).active_params for m, *_ in cases], dtype=float)
            d = np.array([t for _, t, *_ in cases], dtype=float)
            call = lambda: gpu_hours(training_flops(n, d), "h100-sxm", mfu=CMP_MFU)  # noqa: E731
        else:
            from costlib.inference import decode_step_time_s, prefill_time_s
            b = np.array([c[3] for c in cases]); p = np.array([c[4] for c in cases]); o = np.array([c[5] for c in cases])
            kw = dict(bandwidth_utilization=CMP_BW_UTIL, compute_utilization=CMP_COMPUTE_UTIL)
            call = lambda: (prefill_time_s("llama-3.1-8b", "h100-sxm", "bf16", b, p, **kw)  # noqa: E731
                            + (o - 1) * decode_step_time_s("llama-3.1-8b", "h100-sxm", "bf16", b, p + o / 2, **kw))
        # 10,000 configurations in one call, as a sweep would do them
        reps = 10_000 // len(cases)
        if kind == "train":
            n, d = np.tile(n, reps), np.tile(d, reps)
        else:
            b, p, o = np.tile(b, reps), np.tile(p, reps), np.tile(o, reps)
        return _median_time(call, 5) / (reps * len(cases))
    except Exception:
        return None


def _seq_len(spec) -> int:
    """The comparison's training sequence length, capped at the model's context (llm-analysis asserts it)."""
    return int(min(CMP_SEQ_LEN, spec.max_context))


def _explain_train(spec, c: dict, p: dict) -> str:
    """Decompose a training-time difference into parameter count, FLOP accounting and the rest.

    The reference is the useful work per token: 6·N plus the causal attention scores. A query at
    position i does 2·i·d_attn FLOPs for QK^T and 2·i·d_attn for the weighted sum of V; averaged over
    a causal sequence of length s that is 2·s·d_attn per layer forward, ×3 for training:
    6·L·s·d_attn (Kaplan et al. 2020, table 1, with the causal mask).
    """
    n = spec.active_params
    d_attn = spec.heads * spec.head_dim
    s_len = _seq_len(spec)
    useful = 6 * n + 6 * spec.layers * s_len * d_attn
    peer_params_ratio = p["params"] / spec.total_params - 1
    peer_flops_ratio = p["flops_per_token"] / (6 * n) - 1
    time_vs_flops = (p["value_s"] / c["value_s"]) / (p["flops_per_token"] / c["flops_per_token"]) - 1
    mlp_true = (3 if spec.ffn_kind in ("swiglu", "geglu") else 2) * spec.d_model * spec.ffn_dim * 2  # fwd FLOPs/token/layer
    mlp_peer = 16 * spec.d_model ** 2
    parts = [f"at the same MFU the time follows the FLOPs counted: llm-analysis counts {p['flops_per_token'] / 1e9:.1f} "
             f"GFLOP/token, costlib its default 6·N = {6 * n / 1e9:.1f} ({peer_flops_ratio:+.0%})"]
    if abs(peer_params_ratio) > 0.01:
        parts.append(f"llm-analysis's parameter count is {peer_params_ratio:+.1%} off (it always ties input and output "
                     f"embeddings; {spec.id}'s are {'tied' if spec.tied_embeddings else 'untied'})")
    if abs(mlp_peer / mlp_true - 1) > 0.02:
        parts.append(f"its MLP FLOPs are hard-coded at 16·d² per token and layer (a 4·d two-matrix MLP) while "
                     f"{spec.id}'s {spec.ffn_kind} MLP does {mlp_true / spec.d_model ** 2:.1f}·d² ({mlp_peer / mlp_true - 1:+.0%})")
    parts.append(f"it counts the attention scores non-causally, 12·L·s·d per token at s = {s_len} (PaLM's MFU "
                 f"convention), twice the causal work")
    if abs(time_vs_flops) > 0.01:
        parts.append(f"{time_vs_flops:+.0%} more comes from its per-operator memory-bound terms and layer norms")
    e_c, e_p = 6 * n / useful - 1, p["flops_per_token"] / useful - 1
    closer = "costlib" if abs(e_c) < abs(e_p) else "llm-analysis"
    right = (f"Which is right: the useful work is 6·N + 6·L·s·d_attn (causal) = {useful / 1e9:.1f} GFLOP/token; costlib's "
             f"count is {e_c:+.0%} from it and llm-analysis's {e_p:+.0%}, so {closer} is closer here. costlib's 6·N is the "
             f"convention its MFU band is calibrated with (published runs' GPU-hours against 6·N·D), so its default "
             f"estimates carry attention inside the calibrated MFU; with a PaLM-style MFU pinned by hand, add its "
             f"attention term. llm-analysis's error grows with the MLP width, which it cannot see")
    return "; ".join(parts) + ". " + right + "."


def _explain_infer(spec, c: dict, p: dict, batch, prompt, output) -> str:
    parts = []
    dp = p["prefill_s"] / c["prefill_s"] - 1
    dd = p["decode_s"] / c["decode_s"] - 1
    share_pre = c["prefill_s"] / c["value_s"]
    parts.append(f"prefill {dp:+.0%} (weight {share_pre:.0%} of costlib's latency), decode {dd:+.0%}")
    from costlib.memory import kv_bytes_per_token
    from costlib.inference import weights_read_bytes
    kv_mean = kv_bytes_per_token(spec) * batch * (prompt + output / 2)
    kv_peer = 2 * kv_bytes_per_token(spec) * batch * (prompt + output)
    w = float(weights_read_bytes(spec, CMP_PRECISION, batch))
    parts.append(f"per decode step llm-analysis reads the whole KV cache of the final context twice (load and store: "
                 f"{fmt_bytes(kv_peer)}) where costlib reads it once at the mean context ({fmt_bytes(kv_mean)}) next to "
                 f"{fmt_bytes(w)} of weights")
    parts.append(f"it runs {output} decode steps after the prefill, costlib {output - 1} (the prefill yields the first token)")
    if c.get("overhead_s"):
        parts.append(f"costlib adds a per-step launch overhead of {fmt_s(c['overhead_s'])} (optimized-server engine class) "
                     f"that llm-analysis omits")
    if dp > TEN_PERCENT or dp < -TEN_PERCENT:
        parts.append("in prefill llm-analysis sums max(compute, memory) per operator, counts non-causal attention "
                     "and a 16·d² MLP, where costlib takes one roofline max over causal FLOPs")
    right = ("costlib's traffic is the physically right one: a decode step reads each cached key and value once and "
             "writes one new token's worth (PagedAttention/FlashDecoding), so doubling the final-size cache "
             "overstates memory time wherever the KV cache is a large share of the bytes (long contexts, large batches)")
    return "; ".join(parts) + ". " + right + "."


def section_peer(skip: bool) -> dict:
    if skip:
        return {"na": "skipped (--skip-peer)"}
    try:
        from costlib import hardware, models
        from costlib import inference, training  # noqa: F401
    except ImportError as exc:
        return {"na": f"costlib module missing: {exc}"}
    peer_py = ensure_peer_venv()
    configs, meta = [], {}
    for m, tokens, gpu, gpus in TRAIN_CASES:
        spec, dev = models.get_model(m), hardware.get_device(gpu)
        key = f"train {m} {tokens:.0e} tok {gpus}x{gpu}"
        configs.append({"key": key, "kind": "train", "model": _model_payload(spec), "gpu": _gpu_payload(dev),
                        "gpus": gpus, "tokens": tokens, "seq_len": _seq_len(spec), "mfu": CMP_MFU})
        meta[key] = ("train", spec, (m, tokens, gpu, gpus))
    for m, gpu, gpus, b, p_tok, o_tok in INFER_CASES:
        spec, dev = models.get_model(m), hardware.get_device(gpu)
        key = f"infer {m} {gpus}x{gpu} b{b} p{p_tok} o{o_tok}"
        configs.append({"key": key, "kind": "infer", "model": _model_payload(spec), "gpu": _gpu_payload(dev),
                        "gpus": gpus, "batch": b, "prompt_tokens": p_tok, "output_tokens": o_tok,
                        "bandwidth_utilization": CMP_BW_UTIL, "compute_utilization": CMP_COMPUTE_UTIL})
        meta[key] = ("infer", spec, (m, gpu, gpus, b, p_tok, o_tok))
    log(f"llm-analysis on {len(configs)} configurations")
    proc = subprocess.run([str(peer_py), str(BENCH / "peer_worker.py")], input=json.dumps({"configs": configs, "repeats": 7}),
                          capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    if proc.returncode != 0:
        return {"na": f"peer worker failed: {proc.stderr.strip().splitlines()[-1:]}"}
    peer = json.loads(proc.stdout)
    rows = []
    for r in peer["results"]:
        kind, spec, args = meta[r["key"]]
        try:
            c = _costlib_train(spec, *args[1:]) if kind == "train" else _costlib_infer(spec, *args[1:])
        except Exception as exc:
            c = {"error": f"{type(exc).__name__}: {exc}"}
        row = {"key": r["key"], "kind": kind, "costlib": c, "peer": r}
        if "error" not in c and "error" not in r:
            row["diff"] = r["value_s"] / c["value_s"] - 1
            row["ratio"] = r["time_s"] / c["time_s"]
            if abs(row["diff"]) > TEN_PERCENT:
                row["why"] = (_explain_train(spec, c, r) if kind == "train" else _explain_infer(spec, c, r, *args[3:]))
        rows.append(row)
    vec = {"train": _vector_time_per_config("train", TRAIN_CASES), "infer": _vector_time_per_config("infer", INFER_CASES)}
    profiles = {}
    with contextlib.suppress(Exception):
        spec = models.get_model("llama-3.1-8b")
        profiles["estimate_training"] = _profile_top(lambda: [training.estimate_training(
            spec.total_params, 15e12, "h100-sxm", gpus=1024, mfu=CMP_MFU) for _ in range(20)])
        profiles["estimate_inference"] = _profile_top(lambda: [inference.estimate_inference(
            spec, "h100-sxm", CMP_PRECISION, 16, 2048, 256) for _ in range(20)])
    notes = []
    with contextlib.suppress(Exception):  # a consistency check found while decomposing the differences
        spec, s_len = models.get_model("llama-2-7b"), 4096
        t_att = training.attention_training_flops_per_token(spec, s_len)
        i_att = 3 * float(inference.attention_flops_per_token(spec, s_len / 2))  # causal mean: s/2 keys, x3 for training
        if abs(t_att / i_att - 1) > 0.05:
            notes.append(f"costlib's two attention counts disagree: training.attention_training_flops_per_token(llama-2-7b, "
                         f"{s_len}) = {t_att / 1e9:.2f} GFLOP/token, while three times inference.attention_flops_per_token at "
                         f"the causal mean of {s_len // 2} keys gives {i_att / 1e9:.2f} (ratio {t_att / i_att:.2f}). A query at "
                         f"position i does 2·i·d_attn FLOPs for QK^T and 2·i·d_attn for the weighted sum of V, so the causal "
                         f"forward average is 2·L·s·d_attn (inference.py's reading of Kaplan's term); training.py halves "
                         f"Kaplan's term once more. The comparison above uses its own causal count, not either function.")
    return {"version": peer["version"], "rows": rows, "vector_per_config": vec, "profiles": profiles, "notes": notes}


# =============================================================================================
# 4. Widgets: run the notebook's own cells, change every control, time compute and redraw
# =============================================================================================
def widget_worker(nb_path: Path) -> dict:
    """Runs in a child process (one per notebook) so notebook state never leaks into the bench."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    idx = next((i for i, c in enumerate(code) if ".observe(" in c.source), None)
    if idx is None:
        return {"na": "the chapter exposes no widget (no cell calls .observe)"}
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(nb_path.parent)

    # Time spent inside costlib = compute. Wrap every public function of every costlib module before
    # the notebook imports anything, counting only outermost calls.
    import importlib
    import pkgutil

    import costlib

    clock = {"t": 0.0, "depth": 0, "calls": 0}

    def wrap(fn):
        @functools.wraps(fn)
        def timed(*a, **k):
            if clock["depth"]:
                return fn(*a, **k)
            clock["depth"] += 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                clock["t"] += time.perf_counter() - t0
                clock["calls"] += 1
                clock["depth"] -= 1
        return timed

    for info in pkgutil.iter_modules(costlib.__path__):
        if info.name.startswith("_") or info.name == "cli":
            continue
        try:
            mod = importlib.import_module(f"costlib.{info.name}")
        except Exception:
            continue
        for name, obj in list(vars(mod).items()):
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__ and not name.startswith("_"):
                setattr(mod, name, wrap(obj))
            elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
                for mname, meth in list(vars(obj).items()):
                    if inspect.isfunction(meth) and not mname.startswith("_"):
                        setattr(obj, mname, wrap(meth))

    from IPython.core.interactiveshell import InteractiveShell
    import ipywidgets as W

    shell = InteractiveShell.instance()
    t_build0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for c in code[: idx + 1]:
            r = shell.run_cell(c.source, silent=True)
            if not r.success:
                err = r.error_in_exec or r.error_before_exec
                return {"na": f"the notebook's cells raise before the widget exists: {type(err).__name__}: {err}"}
    build_s = time.perf_counter() - t_build0

    # The controls: value widgets with an observer, reachable from the namespace (also inside boxes).
    seen, controls, outputs = set(), [], []

    def visit(w):
        if id(w) in seen:
            return
        seen.add(id(w))
        if isinstance(w, W.Box):
            for ch in w.children:
                visit(ch)
        if isinstance(w, (W.HTML, W.HTMLMath)):
            outputs.append(w)
        elif isinstance(w, W.ValueWidget) and w._trait_notifiers.get("value"):
            controls.append(w)

    for v in list(shell.user_ns.values()):
        if isinstance(v, W.Widget):
            visit(v)
        elif isinstance(v, (list, tuple, dict)):
            for x in (v.values() if isinstance(v, dict) else v):
                if isinstance(x, W.Widget):
                    visit(x)
    if not controls:
        return {"na": "no control with an observer found in the widget cell's namespace"}

    def alternatives(w):
        v = w.value
        if isinstance(w, (W.Dropdown, W.RadioButtons, W.Select, W.ToggleButtons)):
            opts = [o[1] if isinstance(o, tuple) else o for o in w.options]
            others = [o for o in opts if o != v][:3]
            return [x for o in others for x in (o, v)] if others else None
        if isinstance(w, W.Checkbox) or isinstance(w, W.ToggleButton):
            return [not v, v]
        if isinstance(w, W.FloatLogSlider):
            step = w.step or 0.1
            other = v * w.base ** step if v * w.base ** step <= w.base ** w.max else v / w.base ** step
            return [other, v]
        if hasattr(w, "min") and hasattr(w, "max") and isinstance(v, (int, float)):
            step = getattr(w, "step", None) or (w.max - w.min) / 10
            other = v + step if v + step <= w.max else v - step
            return [type(v)(other), v]
        return None

    rows = []
    for w in controls[:8]:
        alt = alternatives(w)
        if alt is None:
            continue
        totals, computes, changed, errors = [], [], 0, 0
        for rep in range(9):
            before = [o.value for o in outputs]
            clock["t"], clock["calls"] = 0.0, 0
            t0 = time.perf_counter()
            w.value = alt[rep % len(alt)]
            total = time.perf_counter() - t0
            totals.append(total)
            computes.append(clock["t"])
            after = [o.value for o in outputs]
            changed += before != after
            errors += any(("Traceback" in a or "Error" in a) for a in after)
        name = (w.description or type(w).__name__).strip() or type(w).__name__
        rows.append({"control": f"{type(w).__name__} '{name}'", "total_s": statistics.median(totals),
                     "compute_s": statistics.median(computes),
                     "redraw_s": statistics.median(t - c for t, c in zip(totals, computes)),
                     "changed": changed, "errors": errors, "repeats": len(totals)})
    if not rows:
        return {"na": "no control whose value the bench knows how to change"}
    return {"build_s": build_s, "controls": rows}


def section_widgets() -> dict:
    nbs = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    if not nbs:
        return {"na": "no chapter notebooks yet"}
    out = {}
    for nb in nbs:
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--widget-worker", str(nb)], cwd=ROOT,
                                  capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            out[nb.name] = json.loads(lines[-1]) if lines else {
                "na": f"widget worker failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"}
        except subprocess.TimeoutExpired:
            out[nb.name] = {"na": "widget worker timed out after 300 s"}
        log(f"widgets {nb.name}: {time.perf_counter() - t0:.1f} s")
    return out


# =============================================================================================
# 1. Notebooks (nbval), site build, make test pieces; 5. site weight
# =============================================================================================
def section_nbval() -> dict:
    nbs = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not nbs:
        return {"na": "no notebooks yet"}
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "nbval.xml"
        cmd = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
               "tests/nbval_sanitize.cfg", "notebooks", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}",
               "--durations=0", "--durations-min=0"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1500)
        secs = time.perf_counter() - t0
        code = proc.returncode
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        # pytest --durations: "12.34s call     notebooks/01_training.ipynb::Cell 3"; setup of the first
        # cell of a notebook is where nbval starts its kernel, so calls alone are the execution.
        phases: dict[str, dict[str, float]] = {}
        cells: list[tuple[float, str, int]] = []
        for line in proc.stdout.splitlines():
            m = re.match(r"^\s*([\d.]+)s (setup|call|teardown)\s+(\S+?\.ipynb)::Cell (\d+)", line)
            if m:
                d = phases.setdefault(Path(m.group(3)).name, {"setup": 0.0, "call": 0.0, "teardown": 0.0})
                d[m.group(2)] += float(m.group(1))
                if m.group(2) == "call":
                    cells.append((float(m.group(1)), m.group(3), int(m.group(4))))
        per_nb: dict[str, dict] = {}
        if xml.exists():
            for case in ET.parse(xml).getroot().iter("testcase"):
                f = case.get("file") or case.get("classname", "")
                nbname = Path(f.replace(".", "/")).name if not f.endswith(".ipynb") else Path(f).name
                for nb in nbs:
                    if nb.stem in f:
                        nbname = nb.name
                d = per_nb.setdefault(nbname, {"cells": 0, "exec_s": 0.0, "failed": 0})
                d["cells"] += 1
                d["exec_s"] += float(case.get("time", 0.0))
                d["failed"] += any(ch.tag in ("failure", "error") for ch in case)
        for name, d in per_nb.items():
            if name in phases:  # prefer the split: execution = calls, kernel start/stop = setup + teardown
                d["exec_s"] = phases[name]["call"]
                d["kernel_s"] = phases[name]["setup"] + phases[name]["teardown"]
    slowest = []
    for secs_c, path, idx in sorted(cells, reverse=True)[:6]:
        first = ""
        with contextlib.suppress(Exception):
            import nbformat
            nb = nbformat.read(ROOT / path, as_version=4)
            cell = nb.cells[idx] if idx < len(nb.cells) and nb.cells[idx].cell_type == "code" else \
                [c for c in nb.cells if c.cell_type == "code"][idx]
            first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")), "")
        slowest.append((secs_c, f"{Path(path).name} cell {idx}", first[:90]))
    return {"exit": code, "wall_s": secs, "per_notebook": per_nb, "tail": tail, "slowest": slowest}


def section_site(keep_dir: Path) -> dict:
    jb = Path(sys.executable).parent / "jupyter-book"
    if not jb.exists():
        return {"na": "jupyter-book not installed in the venv"}
    cmd = [str(jb), "build", ".", "-W", "-n", "--keep-going", "--path-output", str(keep_dir)]
    code, secs, tail = run_cmd(cmd, timeout=1200)
    return {"exit": code, "wall_s": secs, "tail": tail, "html": str(keep_dir / "_build" / "html")}


def section_unit() -> dict:
    cmd = [sys.executable, "-m", "pytest", "tests", "--ignore=tests/browser", "-q", "-p", "no:cacheprovider"]
    code, secs, tail = run_cmd(cmd, timeout=900)
    return {"exit": code, "wall_s": secs, "tail": tail.splitlines()[-1] if tail else ""}


def section_browser(html: str | None) -> dict:
    if not html or not (Path(html) / "index.html").exists():
        return {"na": "no built site to test"}
    cmd = [sys.executable, "-m", "pytest", "tests/browser", "-q", "-p", "no:cacheprovider"]
    code, secs, tail = run_cmd(cmd, timeout=900, env={"BOOK_HTML_DIR": html})
    return {"exit": code, "wall_s": secs, "tail": tail.splitlines()[-1] if tail else ""}


def section_weight(html: str | None) -> dict:
    if not html or not Path(html).exists():
        return {"na": "no built site"}
    root = Path(html)
    files = [p for p in root.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    pages = [p for p in files if p.suffix == ".html"]
    heaviest = max(pages, key=lambda p: p.stat().st_size) if pages else None
    biggest = max(files, key=lambda p: p.stat().st_size) if files else None
    over = [p.relative_to(root).as_posix() for p in pages if p.stat().st_size > GOAL_PAGE_BYTES]
    return {"total": total, "files": len(files), "pages": len(pages),
            "heaviest": (heaviest.relative_to(root).as_posix(), heaviest.stat().st_size) if heaviest else None,
            "biggest_file": (biggest.relative_to(root).as_posix(), biggest.stat().st_size) if biggest else None,
            "pages_over_goal": over}


# =============================================================================================
# Report
# =============================================================================================
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


def render(env: dict, R: dict, total_s: float) -> str:
    L = ["# `make bench` results", "",
         f"Run {env['date']} on {env['cpu']} ({env['cores']} cores, load average at start "
         f"{env['load'][0]:.1f} / {env['load'][1]:.1f} / {env['load'][2]:.1f}: the machine is shared, so treat "
         f"wall times as upper bounds), Python {env['python']}, numpy {env['numpy']}, commit {env['commit']}. "
         f"Whole bench: {total_s:.0f} s. Produced by `bench/run.py` (`make bench`); goals are reported, never asserted.", ""]

    # ---- goals
    goals = []
    sw = R.get("sweeps", {})
    for row in sw.get("rows", []):
        if row["name"].startswith(("training", "inference")) and row["by_n"]:
            n_max = max(row["by_n"])
            rate = row["by_n"][n_max]["rate"]
            goals.append([f"≥ 1e6 scenario evaluations/s: {row['name']} (at {n_max:.0e})", f"{rate:.3g}/s",
                          "met" if rate >= GOAL_SCENARIOS_PER_S else "missed"])
    peer = R.get("peer", {})
    if peer.get("rows"):
        ratios = [r["ratio"] for r in peer["rows"] if "ratio" in r]
        vec = [v for v in peer.get("vector_per_config", {}).values() if v]
        pts = [r["peer"]["time_s"] for r in peer["rows"] if "time_s" in r["peer"]]
        if ratios:
            goals.append(["(context, not the goal) one full costlib estimate vs one llm-analysis call",
                          f"median {statistics.median(ratios):.2g}x", "slower" if statistics.median(ratios) < 1 else "faster"])
        if vec and pts:
            sp = statistics.median(pts) / max(vec)
            goals.append(["≥ 100x llm-analysis's per-configuration speed on the sweep", f"{sp:.3g}x",
                          "met" if sp >= GOAL_PEER_SPEEDUP else "missed"])
    wd = R.get("widgets", {})
    wtimes = [c["total_s"] for v in wd.values() if isinstance(v, dict) for c in v.get("controls", [])]
    if wtimes:
        goals.append(["widget update ≤ 100 ms (slowest control, median of repeats)", fmt_s(max(wtimes)),
                      "met" if max(wtimes) <= GOAL_WIDGET_S else "missed"])
    nbv = R.get("nbval", {})
    if nbv.get("per_notebook"):
        tot = sum(v["exec_s"] for v in nbv["per_notebook"].values())
        goals.append(["all notebooks executed ≤ 60 s", f"{tot:.1f} s", "met" if tot <= GOAL_NOTEBOOKS_S else "missed"])
    w = R.get("weight", {})
    if w.get("heaviest"):
        goals.append(["no page above 2 MB", f"heaviest {fmt_bytes(w['heaviest'][1])}", "met" if not w["pages_over_goal"] else "missed"])
    L += ["## Goals (issue 10)", "", md_table(["goal", "measured", "status"], goals) if goals else "_nothing measurable yet_", ""]

    # ---- 1
    L += ["## 1. Notebooks, site build, `make test`", ""]
    if nbv.get("na"):
        L.append(f"Notebook execution: not available ({nbv['na']}).")
    elif nbv:
        rows = [[k, v["cells"], fmt_s(v["exec_s"]), fmt_s(v.get("kernel_s")), f"{v['failed']} failed" if v["failed"] else "pass"]
                for k, v in sorted(nbv["per_notebook"].items())]
        tot = sum(v["exec_s"] for v in nbv["per_notebook"].values())
        rows.append(["**all**", sum(v["cells"] for v in nbv["per_notebook"].values()), f"**{fmt_s(tot)}**",
                     fmt_s(sum(v.get("kernel_s", 0) for v in nbv["per_notebook"].values())), ""])
        L += ["Per-notebook execution time, warm: the sum of nbval's per-cell call times (pytest --durations); the "
              "kernel start and shutdown (nbval's setup and teardown) are shown apart. Warm: costlib, numpy, pandas and "
              "matplotlib were already loaded from disk by the sections run before, so the OS file cache and bytecode "
              "are warm. nbval's verdict is shown because a failing cell can stop a notebook early.", "",
              md_table(["notebook", "cells", "execution", "kernel start/stop", "nbval"], rows), "",
              *(["Slowest cells (what bounds the notebook time; each one's first code line):", "",
                 md_table(["cell", "execution", "first line"], [[c, fmt_s(t), f"`{f}`" if f else ""] for t, c, f in nbv["slowest"]]), ""]
                if nbv.get("slowest") else []),
              f"nbval over all notebooks: {fmt_s(nbv['wall_s'])} wall (exit {nbv['exit']}: {nbv['tail'].splitlines()[-1] if nbv['tail'] else ''})."]
    site = R.get("site", {})
    if site.get("na"):
        L.append(f"Strict site build: not available ({site['na']}).")
    elif site:
        L.append(f"Strict site build (`jupyter-book build . -W -n --keep-going` into a private folder): "
                 f"{fmt_s(site['wall_s'])}, exit {site['exit']}" + ("" if site["exit"] == 0 else
                 " (warnings are errors: the build time is still the time it took)") + ".")
    pieces = {k: R.get(k, {}) for k in ("unit", "nbval", "site", "browser")}
    if all("wall_s" in v for v in pieces.values()):
        tot = sum(v["wall_s"] for v in pieces.values())
        L.append(f"`make test` = unit {fmt_s(pieces['unit']['wall_s'])} + nbval {fmt_s(pieces['nbval']['wall_s'])} + site "
                 f"{fmt_s(pieces['site']['wall_s'])} + browser {fmt_s(pieces['browser']['wall_s'])} = **{fmt_s(tot)}** "
                 f"(each piece run as the Makefile runs it; exits {[v['exit'] for v in pieces.values()]}).")
    elif MAKE_TEST_RECORD.exists():
        rec = json.loads(MAKE_TEST_RECORD.read_text())
        parts = {k: rec[k] for k in ("unit", "nbval", "site", "browser") if k in rec}
        tot = sum(v["wall_s"] for v in parts.values())
        L.append(f"`make test` (not run by this bench; recorded by `bench/run.py --with-make-test` on {rec['date']}, commit "
                 f"{rec['commit']}, load {rec['load'][0]:.1f}): " + " + ".join(f"{k} {fmt_s(v['wall_s'])}" for k, v in parts.items())
                 + f" = **{fmt_s(tot)}** (exits {[v['exit'] for v in parts.values()]}).")
    else:
        L.append("`make test` total: not measured yet (run `.venv/bin/python bench/run.py --with-make-test`; it takes "
                 "the unit, nbval, site and browser pieces in turn, several minutes).")
    L.append("")

    # ---- 2
    L += ["## 2. Vectorized sweeps (scenarios per second, peak traced memory)", ""]
    rows = []
    for row in sw.get("rows", []):
        if row.get("na") and not row["by_n"]:
            rows.append([row["name"], "not available", row["na"], "", ""])
            continue
        cells = [f"{fmt_rate(row['by_n'][n]['rate'])}/s ({fmt_s(row['by_n'][n]['s'])}, {fmt_bytes(row['by_n'][n]['peak'])})"
                 if n in row["by_n"] else "n/a" for n in SIZES]
        rows.append([row["name"], *cells, row["what"]])
    L += [md_table(["sweep", "1e4", "1e5", "1e6", "what one scenario is"], rows), ""]
    if sw.get("profiles"):
        L += ["Below the 1e6/s goal; where the time goes (cProfile at 1e5, own time):", ""]
        for k, v in sw["profiles"].items():
            L.append(f"- {k}: " + "; ".join(v))
        L.append("")

    # ---- 3
    L += ["## 3. llm-analysis side by side", ""]
    if peer.get("na"):
        L += [f"Not available: {peer['na']}", ""]
    elif peer:
        L += [f"llm-analysis {peer['version']} (own venv `bench/.peer-venv`, pins in `bench/requirements-peer.txt`) and "
              f"costlib on the same architectures (costlib's models.csv; llm-analysis gets the gated MLP as two matrices of "
              f"1.5·ffn, the same parameters), the same GPUs (costlib's hardware.csv) and the same efficiencies: training "
              f"MFU {CMP_MFU}, sequence {CMP_SEQ_LEN} (or the model's context if shorter); inference {CMP_PRECISION}, decode bandwidth efficiency {CMP_BW_UTIL}, "
              f"prefill compute efficiency {CMP_COMPUTE_UTIL}. Training: wall-clock days on the GPUs given. Inference: "
              f"request latency of a static batch (prefill + decode). Time per configuration: median of 7 timed calls "
              f"after a warm-up; costlib's is its full estimate (`estimate_training` / `estimate_inference`, all bands, "
              f"costs and assumptions).", ""]
        rows = []
        for r in peer["rows"]:
            c, p = r["costlib"], r["peer"]
            unit = 86400.0 if r["kind"] == "train" else 1.0
            fmtv = (lambda s: f"{s / unit:.1f} d") if r["kind"] == "train" else fmt_s
            if "error" in c or "error" in p:
                rows.append([r["key"], c.get("error", fmtv(c.get("value_s", 0))), p.get("error", ""), "", "", "", ""])
                continue
            rows.append([r["key"], fmtv(c["value_s"]), fmtv(p["value_s"]), f"{r['diff']:+.0%}", fmt_s(c["time_s"]),
                         fmt_s(p["time_s"]), f"{r['ratio']:.2g}x"])
        L += [md_table(["configuration", "costlib", "llm-analysis", "difference", "costlib time/config",
                        "llm-analysis time/config", "speed ratio"], rows), ""]
        vec = peer.get("vector_per_config", {})
        pt = {k: statistics.median([r["peer"]["time_s"] for r in peer["rows"] if r["kind"] == k and "time_s" in r["peer"]] or [0])
              for k in ("train", "infer")}
        if any(vec.values()):
            L.append("costlib vectorized (10,000 configurations in one array call, as a sweep runs them): "
                     + ", ".join(f"{k} {fmt_s(v)} per configuration, {pt[k] / v:.3g}x faster than llm-analysis's median "
                                 f"{fmt_s(pt[k])}" for k, v in vec.items() if v and pt.get(k)) + ".")
            L.append("")
        if peer.get("profiles"):
            L.append("A single full costlib estimate is slower than one llm-analysis call: it computes three bands, "
                     "checks the fit in memory, prices the result from the catalog and writes its assumptions. "
                     "Where its time goes (cProfile, 20 calls, own time):")
            L.append("")
            for k, v in peer["profiles"].items():
                L.append(f"- `{k}`: " + "; ".join(v))
            L.append("")
        for note in peer.get("notes", []):
            L += [f"Note: {note}", ""]
        why = [r for r in peer["rows"] if r.get("why")]
        if why:
            L += ["Differences above 10%, decomposed (which is right and why):", ""]
            for r in why:
                L.append(f"- **{r['key']}** ({r['diff']:+.0%}): {r['why']}")
            L.append("")

    # ---- 4
    L += ["## 4. Widget responsiveness", "",
          "Each chapter's main widget is built by running the notebook's own code cells up to the widget cell (so the "
          "bench exercises the same costlib calls as the page); every control is changed back and forth 9 times. "
          "Compute = time inside costlib functions; redraw = the rest of the observer (formatting the HTML result, "
          "updating widget state). The browser's paint is not included (no front end here). \"Output\" counts the updates "
          "after which the displayed result differed from before; an unchanged result can be legitimate (fp16 and bf16 "
          "give the same figures).", ""]
    if wd.get("na"):
        L += [f"Not available: {wd['na']}", ""]
    else:
        rows = []
        for nb, v in wd.items():
            if v.get("na"):
                rows.append([nb, v["na"], "", "", "", ""])
                continue
            for c in v["controls"]:
                rows.append([nb, c["control"], fmt_s(c["total_s"]), fmt_s(c["compute_s"]), fmt_s(c["redraw_s"]),
                             f"{c['changed']}/{c['repeats']} changed" + (f", {c['errors']} errors" if c["errors"] else "")])
        L += [md_table(["notebook", "control", "update (median)", "compute", "redraw", "output"], rows), ""]

    # ---- 5
    L += ["## 5. Site weight", ""]
    if w.get("na"):
        L += [f"Not available: {w['na']}", ""]
    elif w:
        L += [f"`_build/html` of the strict build: {fmt_bytes(w['total'])} in {w['files']} files ({w['pages']} HTML pages). "
              f"Heaviest page: `{w['heaviest'][0]}` {fmt_bytes(w['heaviest'][1])}; largest file: `{w['biggest_file'][0]}` "
              f"{fmt_bytes(w['biggest_file'][1])}. Pages above 2 MB: {', '.join(w['pages_over_goal']) or 'none'}.", ""]
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sweeps, peer and widgets only (no notebooks, site)")
    ap.add_argument("--with-make-test", action="store_true",
                    help="also run the unit and browser pieces of make test (several minutes) and record the total "
                         "in bench/make_test_last.json; without it the last recorded total is reported with its date")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    ap.add_argument("--out", default=str(BENCH / "results.md"))
    ap.add_argument("--widget-worker", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.widget_worker:
        try:
            res = widget_worker(Path(a.widget_worker).resolve())
        except Exception as exc:
            res = {"na": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(res))
        return 0

    t0 = time.perf_counter()
    env = environment()
    sizes = tuple(int(float(s)) for s in a.sizes.split(","))
    R: dict = {}
    log("section 2: vectorized sweeps")
    R["sweeps"] = section_sweeps(sizes)
    log("section 3: llm-analysis side by side")
    R["peer"] = section_peer(a.skip_peer)
    log("section 4: widgets")
    R["widgets"] = section_widgets()
    if not a.quick:
        log("section 1: nbval (per-notebook execution)")
        R["nbval"] = section_nbval()
        with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
            log("section 1: strict site build")
            R["site"] = section_site(Path(tmp))
            html = R["site"].get("html")
            log("section 5: site weight")
            R["weight"] = section_weight(html)
            if a.with_make_test:
                log("make test pieces: unit, browser")
                R["unit"] = section_unit()
                R["browser"] = section_browser(html)
                record = {"date": env["date"], "commit": env["commit"], "load": env["load"],
                          **{k: {"wall_s": R[k]["wall_s"], "exit": R[k]["exit"]} for k in ("unit", "nbval", "site", "browser")
                             if "wall_s" in R.get(k, {})}}
                MAKE_TEST_RECORD.write_text(json.dumps(record, indent=1) + "\n")
    text = render(env, R, time.perf_counter() - t0)
    Path(a.out).write_text(text)
    print(text)
    log(f"wrote {Path(a.out).relative_to(ROOT) if Path(a.out).is_relative_to(ROOT) else a.out} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
