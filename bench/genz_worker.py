"""Runs inside bench/.peer-venv-genz (genz-llm and its pins), never inside the book's .venv.

Reads a JSON job on stdin ({"configs": [...], "repeats": k}), evaluates each configuration with
GenZ's analytical prefill and decode models, and prints {"version", "results", "private_dir_files",
"shared_dir_created"} on stdout. Each result carries the prefill time (TTFT), one decode step at
the mean context (prompt + output/2), the static-batch latency composed as costlib composes it
(TTFT + (output - 1) x TPOT) and the wall time of one evaluation (prefill + decode call; median of
``repeats`` timed calls, the answer's own call included, after one untimed warm-up call at the first
configuration), or an "error".

GenZ's defaults, read from genz-llm 0.0.16 before running (GenZ/LLM_inference/llm_decode.py,
llm_prefill.py, utils.py, Models/get_language_model.py, analyse_model.py, system.py, unit.py):
- ``system_eff=1``: compute and memory efficiency both 1 (ideal) unless given; one number for
  both. The worker sets the two efficiencies apart (``compute_utilization`` for the compute roof,
  ``bandwidth_utilization`` for the memory roof) by wrapping ``get_inference_system``.
- ``decode_moddeling(..., Bb=4)``: the decode batch is ``batch_size * Bb`` (four beams) by
  default; the worker passes ``Bb=1`` (greedy decoding, as every published case).
- ``bits="bf16"``: weights, activations and KV cache all at that width; fp8/int8/int4 also
  scale the compute time (``compute_multiplier`` 0.5/0.5/0.25), as if the math ran in that format.
- memory sizes and bandwidths in binary units: ``Memory_size`` in GiB, ``Memory_BW`` and ``ICN``
  in GiB/s (``Unit.binary_dicts``); the worker converts costlib's bytes/s (GB = 1e9) to GiB/s.
- A model that does not fit raises ValueError unless ``model_offload=True`` (kept off: an error).
- Every call writes the layer table as a CSV under ``/tmp/genz/data/model`` (the default of the
  ``data_path`` argument, bound at import). The worker rebinds those defaults to a private
  temporary folder, deleted at exit, and reports whether ``/tmp/genz`` was touched.

The architectures and devices come from costlib's catalogs (sent by bench/peers.py), so every tool
sees the same model and the same GPU. No network.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings

SHARED_DIR = "/tmp/genz"


def _private_data_path(private: str) -> None:
    """Point every GenZ function whose default ``data_path`` is the shared /tmp/genz folder at
    ``private`` (defaults are bound at definition, so rebinding the module constant is not enough)."""
    import GenZ.analyse_model as am
    import GenZ.Models.get_language_model as glm

    for mod in (glm, am):
        for name in dir(mod):
            fn = getattr(mod, name)
            d = getattr(fn, "__defaults__", None)
            if d and any(isinstance(x, str) and x.rstrip("/") == SHARED_DIR + "/data" for x in d):
                fn.__defaults__ = tuple(private if isinstance(x, str) and x.rstrip("/") == SHARED_DIR + "/data" else x
                                        for x in d)
    glm.DATA_PATH = private


def _pin_efficiencies() -> dict:
    """Wrap get_inference_system in the prefill and decode modules so the compute and memory
    efficiencies can differ (GenZ passes one ``system_eff`` for both)."""
    import GenZ.LLM_inference.llm_decode as dec
    import GenZ.LLM_inference.llm_prefill as pre

    current = {"u_c": 1.0, "u_b": 1.0}
    original = pre.get_inference_system

    def pinned(*a, **k):
        system = original(*a, **k)
        system.compute_efficiency = current["u_c"]
        system.memory_efficiency = current["u_b"]
        return system

    pre.get_inference_system = pinned
    dec.get_inference_system = pinned
    return current


GENZ_BITS = {"bf16": "bf16", "fp16": "bf16", "fp8": "fp8", "int8": "int8", "int4": "int4"}


def model_config(m: dict):
    from GenZ import ModelConfig

    return ModelConfig(model=m["id"], vocab_size=int(m["vocab"]), max_model_len=int(m["max_context"]),
                       hidden_size=int(m["d_model"]), intermediate_size=int(m["ffn_dim"]),
                       num_ffi=2 if m["gated"] else 1, num_decoder_layers=int(m["layers"]),
                       num_attention_heads=int(m["heads"]), num_key_value_heads=int(m["kv_heads"]),
                       head_dim=int(m["head_dim"]))


def system_config(g: dict) -> dict:
    return {"Flops": g["bf16_tflops"], "Memory_size": g["memory_gib"], "Memory_BW": g["bandwidth_gb_s"] * 1e9 / 2**30,
            "ICN": g["interconnect_gb_s"] * 1e9 / 2**30, "real_values": True}


def evaluate(cfg: dict, eff: dict) -> dict:
    from GenZ import decode_moddeling, prefill_moddeling

    eff["u_c"], eff["u_b"] = cfg["compute_utilization"], cfg["bandwidth_utilization"]
    mc, sc, bits = model_config(cfg["model"]), system_config(cfg["gpu"]), GENZ_BITS[cfg["precision"]]
    tp, b, p, o = int(cfg["gpus"]), int(cfg["batch"]), int(cfg["prompt_tokens"]), int(cfg["output_tokens"])
    out = {}
    pre = prefill_moddeling(model=mc, batch_size=b, input_tokens=p, system_name=sc, bits=bits, tensor_parallel=tp)
    out["prefill_s"] = float(pre["Latency"]) / 1e3  # GenZ reports milliseconds
    if o > 1:
        d = decode_moddeling(model=mc, batch_size=b, input_tokens=p, output_tokens=o // 2, Bb=1, system_name=sc,
                             bits=bits, tensor_parallel=tp)
        out["decode_step_s"] = float(d["Latency"]) / 1e3
    else:
        out["decode_step_s"] = 0.0
    out["decode_s"] = (o - 1) * out["decode_step_s"]
    out["value_s"] = out["prefill_s"] + out["decode_s"]
    return out


def main() -> int:
    job = json.load(sys.stdin)
    repeats = int(job.get("repeats", 3))
    shared_before = os.path.exists(SHARED_DIR)
    private = tempfile.mkdtemp(prefix="bench-genz-")
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    t0 = time.perf_counter()
    import GenZ  # noqa: F401  (20 s cold on this machine: numba, scipy, pandas, plotly)
    import_s = time.perf_counter() - t0
    _private_data_path(private)
    eff = _pin_efficiencies()
    out, files = [], 0
    try:
        warm = False
        for cfg in job["configs"]:
            try:
                if not warm:  # the first call pays GenZ's lazy set-up: not a configuration's time
                    evaluate(cfg, eff)
                    warm = True
                t1 = time.perf_counter()
                result = evaluate(cfg, eff)  # the answer, timed
                times = [time.perf_counter() - t1]
                for _ in range(repeats - 1 if cfg.get("time", True) else 0):
                    t1 = time.perf_counter()
                    evaluate(cfg, eff)
                    times.append(time.perf_counter() - t1)
                if cfg.get("time", True):
                    result["time_s"] = statistics.median(times)
            except Exception as exc:  # report, never hide: the harness prints it
                result = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"}
            result["key"] = cfg["key"]
            out.append(result)
            model_dir = os.path.join(private, "model")
            if os.path.isdir(model_dir):
                files += len(os.listdir(model_dir))
                shutil.rmtree(model_dir)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    from importlib.metadata import version

    json.dump({"version": version("genz-llm"), "results": out, "import_s": import_s, "private_dir_files": files,
               "shared_dir_created": (not shared_before) and os.path.exists(SHARED_DIR)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
