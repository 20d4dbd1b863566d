"""Section 3 of `make bench`: the peers side by side with costlib.

Peers, each in its own venv created on first run from exact pins (never the book's .venv), run by a
worker script that reads JSON configurations on stdin and prints JSON answers:
- llm-analysis 0.2.2 (bench/.peer-venv, bench/requirements-peer.txt, bench/peer_worker.py):
  training and static-batch inference;
- GenZ, genz-llm 0.0.16 (bench/.peer-venv-genz, bench/requirements-peer-genz.txt,
  bench/genz_worker.py): serving only (prefill and decode), on the same inference configurations.

Same architectures (costlib's models.csv), same devices (hardware.csv), same pinned efficiencies.
For every tool and costlib, in the same run: the answers, the time per configuration, and the
median error against the published serving cases of costlib/data/inference_benchmarks.csv (peers
at the calibrated mid efficiencies of the case's engine class; costlib in sample and leave-one-out).
"""
from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from bench.common import (BENCH, CMP_BW_UTIL, CMP_COMPUTE_UTIL, CMP_MFU, CMP_PRECISION, CMP_SEQ_LEN, ROOT, TEN_PERCENT,
                          NotAvailable, ensure_venv, fmt_bytes, fmt_s, log, median_time, profile_top)

# name -> (venv, pins, worker, kinds of configuration it models, timed repeats per configuration)
PEERS = {
    "llm-analysis": (BENCH / ".peer-venv", BENCH / "requirements-peer.txt", "peer_worker.py", ("train", "infer"), 7),
    "genz": (BENCH / ".peer-venv-genz", BENCH / "requirements-peer-genz.txt", "genz_worker.py", ("infer",), 1),
}


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
        "max_context": spec.max_context, "head_dim": spec.head_dim,
    }


def _gpu_payload(dev) -> dict:
    """A device as both peers take it. Vendor HBM capacities are binary (GiB): ``memory_gib`` once the
    catalog stores it, else the catalog's number as the vendor prints it."""
    gib = getattr(dev, "memory_gib", None) or dev.memory_gb
    eight = None
    for p in ("fp8", "int8"):
        with contextlib.suppress(Exception):
            eight = eight or dev.peak_tflops(p)
    return {"id": dev.id, "memory_gb": dev.memory_gb, "memory_gib": gib, "bandwidth_gb_s": dev.bandwidth_gb_s,
            "interconnect_gb_s": dev.interconnect_gb_s or 64.0, "bf16_tflops": _bf16_tflops(dev),
            "eight_bit_tflops": eight}


def _bf16_tflops(dev) -> float:
    for p in ("bf16", "fp16", "fp32"):
        with contextlib.suppress(Exception):
            v = dev.peak_tflops(p)
            if v:
                return v
    raise NotAvailable(f"{dev.id} has no 16-bit peak")


def _costlib_train(spec, tokens, gpu, gpus):
    from costlib import training
    est = lambda: training.estimate_training(spec.total_params, tokens, gpu, gpus=gpus, mfu=CMP_MFU,  # noqa: E731
                                             active_params=spec.active_params)
    e = est()
    return {"value_s": float(e.wall_days.mid) * 86400.0, "params": float(spec.total_params),
            "flops_per_token": float(e.flops) / tokens, "time_s": median_time(est)}


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
            "time_s": median_time(full), "time_pinned_s": median_time(pinned)}


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
        return median_time(call, 5) / (reps * len(cases))
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


def _run_worker(py: Path, worker: str, job: dict, timeout: float = 900) -> dict:
    """Run a peer worker in its own venv; {"na": why} when it fails."""
    try:
        proc = subprocess.run([str(py), str(BENCH / worker)], input=json.dumps(job), capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT,
                              env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                                   "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"})
    except subprocess.TimeoutExpired:
        return {"na": f"{worker} timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"na": f"{worker} failed: {proc.stderr.strip().splitlines()[-1:]}"}
    return json.loads(proc.stdout)


def _published_configs(models, hardware, inference) -> tuple[list[dict], dict]:
    """Each published serving case of costlib/data/inference_benchmarks.csv as a peer configuration,
    at the calibrated mid efficiencies of its engine class (the same efficiencies costlib's
    in-sample prediction uses), so the peers' errors show their accounting, not a guess."""
    cal = inference.calibration()
    configs, meta = [], {}
    for case in inference.benchmarks():
        try:
            spec, dev = models.get_model(case.model_id), hardware.get_device(case.gpu_id)
            eff = cal[case.engine_class]
            precision = _peer_precision(inference, case.precision)
            cfg = {"key": f"case {case.id}", "kind": "infer", "time": False, "model": _model_payload(spec),
                   "gpu": _gpu_payload(dev), "gpus": case.gpus, "batch": case.batch,
                   "prompt_tokens": case.prompt_tokens, "output_tokens": case.output_tokens,
                   "precision": precision, "kv_precision": case.kv_precision,
                   "bandwidth_utilization": min(1.0, eff.bandwidth.mid), "compute_utilization": min(1.0, eff.compute.mid)}
        except Exception as exc:  # a case a peer cannot be given (e.g. an architecture field missing)
            meta[f"case {case.id}"] = (case, f"{type(exc).__name__}: {exc}")
            continue
        configs.append(cfg)
        meta[cfg["key"]] = (case, None)
    return configs, meta


PEER_PRECISIONS = ("fp16", "bf16", "fp8", "int8", "int4")


def _peer_precision(inference, precision: str) -> str:
    """The peers know five formats. A served format of costlib's weight-format catalog (GGUF, EXL2, GPTQ,
    AWQ, ...) is given to them as its storage precision (gguf-q4_0 -> int4, gguf-q6_k -> int8, exl2-3.0 ->
    int4), so their weight bytes are off by the difference in bits per weight (4.5, 6.56 and 3.0 here)."""
    if precision in PEER_PRECISIONS:
        return precision
    get_format = getattr(inference, "get_format", None)
    if get_format is None:
        raise NotAvailable(f"no peer format for {precision!r}")
    return get_format(precision).storage


def _metric(case, r: dict) -> float | None:
    """A peer's answer to a published case's metric, from its prefill, decode step and latency."""
    if "error" in r:
        return None
    if case.metric == "ttft_s":
        return r["prefill_s"]
    if case.metric == "prefill_tokens_per_s":
        return case.batch * case.prompt_tokens / r["prefill_s"]
    if case.metric == "decode_tokens_per_s_per_sequence":
        return 1.0 / r["decode_step_s"]
    return case.batch * case.output_tokens / r["value_s"] / case.gpus


def _published(inference, meta: dict, peers: dict[str, dict]) -> dict:
    """Errors against every published case: costlib in sample and leave-one-out, each peer."""
    bt = {row["id"]: row for row in inference.backtest().to_dict("records")}
    rows = []
    for key, (case, why) in meta.items():
        b = bt.get(case.id, {})
        row = {"id": case.id, "metric": case.metric, "published": case.value, "engine_class": case.engine_class,
               "costlib": b.get("predicted"), "costlib_loo": b.get("predicted_loo")}
        for name, res in peers.items():
            r = res.get(key)
            row[name] = _metric(case, r) if r else None
            if r and "error" in r:
                row[name + "_error"] = r["error"]
        if why:
            row["why"] = why
        rows.append(row)

    def errs(col):
        return [abs(r[col] / r["published"] - 1) for r in rows if r.get(col) is not None]

    summary = {}
    for col in ("costlib", "costlib_loo", *peers):
        e = errs(col)
        summary[col] = {"median_abs_error": statistics.median(e) if e else None, "cases": len(e),
                        "within_25pct": sum(x <= 0.25 for x in e)}
    return {"rows": rows, "summary": summary, "total": len(rows)}


def section_peer(skip: bool) -> dict:
    if skip:
        return {"na": "skipped (--skip-peer)"}
    try:
        from costlib import hardware, models
        from costlib import inference, training  # noqa: F401
    except ImportError as exc:
        return {"na": f"costlib module missing: {exc}"}
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
                        "precision": CMP_PRECISION, "kv_precision": "bf16",
                        "bandwidth_utilization": CMP_BW_UTIL, "compute_utilization": CMP_COMPUTE_UTIL})
        meta[key] = ("infer", spec, (m, gpu, gpus, b, p_tok, o_tok))
    pub_configs, pub_meta = _published_configs(models, hardware, inference)

    raw: dict[str, dict] = {}
    for name, (venv, req, worker, kinds, repeats) in PEERS.items():
        t0 = time.perf_counter()
        try:
            py = ensure_venv(venv, req)
        except Exception as exc:
            raw[name] = {"na": f"could not create {venv.relative_to(ROOT)}: {exc}"}
            continue
        job = [c for c in configs if c["kind"] in kinds] + pub_configs
        log(f"{name}: {len(job)} configurations ({len(pub_configs)} published cases)")
        raw[name] = _run_worker(py, worker, {"configs": job, "repeats": repeats})
        raw[name]["wall_s"] = time.perf_counter() - t0
        log(f"{name}: {raw[name]['wall_s']:.0f} s" + (f" ({raw[name]['na']})" if "na" in raw[name] else ""))
    by_key = {name: {r["key"]: r for r in res.get("results", [])} for name, res in raw.items()}
    if "na" in raw.get("llm-analysis", {"na": ""}):
        return {"na": raw.get("llm-analysis", {}).get("na", "llm-analysis not run"), "peers": raw}
    rows = []
    for key, (kind, spec, args) in meta.items():
        r = by_key["llm-analysis"].get(key, {"error": "not returned"})
        try:
            c = _costlib_train(spec, *args[1:]) if kind == "train" else _costlib_infer(spec, *args[1:])
        except Exception as exc:
            c = {"error": f"{type(exc).__name__}: {exc}"}
        row = {"key": key, "kind": kind, "costlib": c, "peer": r}
        g = by_key.get("genz", {}).get(key)
        if g is not None:
            row["genz"] = g
            if "error" not in c and "error" not in g:
                row["genz_diff"] = g["value_s"] / c["value_s"] - 1
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
        profiles["estimate_training"] = profile_top(lambda: [training.estimate_training(
            spec.total_params, 15e12, "h100-sxm", gpus=1024, mfu=CMP_MFU) for _ in range(20)])
        profiles["estimate_inference"] = profile_top(lambda: [inference.estimate_inference(
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
    published = _published(inference, pub_meta, {n: by_key.get(n, {}) for n in PEERS if "na" not in raw.get(n, {"na": 1})})
    info = {n: {k: v for k, v in res.items() if k != "results"} for n, res in raw.items()}
    return {"version": raw["llm-analysis"].get("version"), "rows": rows, "vector_per_config": vec, "profiles": profiles,
            "notes": notes, "published": published, "peers": info}
