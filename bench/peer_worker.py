"""Runs inside bench/.peer-venv (llm-analysis and its pins; bench/genz_worker.py is the GenZ twin), never inside the book's .venv.

Reads a JSON list of configurations on stdin, evaluates each with llm-analysis, and prints a JSON
list of results on stdout: the peer's answer, the quantities needed to explain a difference
(parameter count, FLOPs per token, prefill/decode split) and the wall time of one evaluation
(median of ``repeats`` timed calls after one untimed warm-up call).

The architectures come from costlib's models.csv (sent by bench/peers.py), so both tools see the
same model. llm-analysis has a two-matrix MLP, so the gated (SwiGLU/GeGLU) MLP is passed as
``ffn_embed_dim = 1.5 * ffn_dim``: two matrices of that width hold the same parameters as three
of ``ffn_dim``. No network: ModelConfig and GPUConfig are built here, never fetched.
"""
from __future__ import annotations

import json
import logging
import statistics
import sys
import time

from llm_analysis.analysis import ActivationRecomputation, DSZeRO, LLMAnalysis
from llm_analysis.config import GPUConfig, ModelConfig, ParallelismConfig, get_dtype_config_by_name
from llm_analysis.logger import logger

logger.setLevel(logging.ERROR)
logging.disable(logging.WARNING)


def model_config(m: dict) -> ModelConfig:
    ffn = float(m["ffn_dim"]) * (1.5 if m["gated"] else 1.0)
    return ModelConfig(
        name=m["id"],
        num_layers=int(m["layers"]),
        n_head=int(m["heads"]),
        hidden_dim=int(m["d_model"]),
        vocab_size=int(m["vocab"]),
        max_seq_len=int(m["max_context"]),
        num_key_value_heads=int(m["kv_heads"]),
        ffn_embed_dim=int(round(ffn)),
        expansion_ratio=ffn / float(m["d_model"]),
        model_type="llama",
    )


def gpu_config(g: dict) -> GPUConfig:
    return GPUConfig(
        name=g["id"],
        mem_per_GPU_in_GB=g["memory_gb"],
        hbm_bandwidth_in_GB_per_sec=g["bandwidth_gb_s"],
        intra_node_bandwidth_in_GB_per_sec=g["interconnect_gb_s"] / 2,
        intra_node_min_message_latency=8e-6,
        peak_fp16_TFLOPS=g["bf16_tflops"],
        peak_i8_TFLOPS=g.get("eight_bit_tflops"),  # None -> llm-analysis's own 2x fp16
    )


# Weight/activation formats of costlib's precisions: fp8 (TensorRT-LLM) computes in 8 bits; llama.cpp's
# int8/int4 and bitsandbytes' int4 keep 16-bit math on dequantized weights.
DTYPES = {"bf16": "w16a16e16", "fp16": "w16a16e16", "fp8": "w8a8e16", "int8": "w8a16e16", "int4": "w4a16e16"}
KV_BYTES = {"bf16": 2, "fp16": 2, "fp8": 1, "int8": 1}


def evaluate(cfg: dict) -> dict:
    mc, gc = model_config(cfg["model"]), gpu_config(cfg["gpu"])
    dtype = get_dtype_config_by_name(DTYPES[cfg.get("precision", "bf16")])
    if cfg["kind"] == "train":
        a = LLMAnalysis(mc, gc, dtype, ParallelismConfig(tp_size=1, pp_size=1, dp_size=cfg["gpus"]),
                        flops_efficiency=cfg["mfu"], hbm_memory_efficiency=cfg.get("hbm_efficiency", 0.9))
        s = a.training(batch_size_per_gpu=1, seq_len=cfg["seq_len"], total_num_tokens=cfg["tokens"],
                       global_batch_size=cfg["gpus"], activation_recomputation=ActivationRecomputation.NONE,
                       ds_zero=DSZeRO.NONE, flash_attn=True)
        tokens_per_micro_batch = cfg["seq_len"]
        return {
            "value_s": float(s["total_training_latency"]),
            "params": float(s["num_params_total"]),
            "flops_per_token": float(s["num_flops_total_per_micro_batch"]) / tokens_per_micro_batch,
        }
    a = LLMAnalysis(mc, gc, dtype, ParallelismConfig(tp_size=cfg["gpus"], pp_size=1, dp_size=1),
                    flops_efficiency=cfg["compute_utilization"], hbm_memory_efficiency=cfg["bandwidth_utilization"])
    s = a.inference(batch_size_per_gpu=cfg["batch"], seq_len=cfg["prompt_tokens"],
                    num_tokens_to_generate=cfg["output_tokens"], use_kv_cache=True,
                    kv_cache_dtype_bytes=KV_BYTES[cfg.get("kv_precision", "fp16")])
    return {
        "value_s": float(s["total_latency"]),
        "prefill_s": float(s["prefill_latency"]),
        "decode_s": float(s["total_decode_latency"]),
        "decode_step_s": float(s["decode_latency"]),
        "params": float(a.total_num_params),
    }


def main() -> int:
    job = json.load(sys.stdin)
    repeats = int(job.get("repeats", 5))
    out = []
    for cfg in job["configs"]:
        try:
            result = evaluate(cfg)  # warm-up and the answer
            times = []
            for _ in range(repeats if cfg.get("time", True) else 0):
                t0 = time.perf_counter()
                evaluate(cfg)
                times.append(time.perf_counter() - t0)
            if times:
                result["time_s"] = statistics.median(times)
        except Exception as exc:  # report, never hide: the harness prints it
            result = {"error": f"{type(exc).__name__}: {exc}"}
        result["key"] = cfg["key"]
        out.append(result)
    import llm_analysis  # noqa: F401  (version for the report)
    from importlib.metadata import version

    json.dump({"version": version("llm-analysis"), "results": out}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
