"""The memory chapter's analyses (notebooks/03_memory.ipynb): its tables, the numbers its prose quotes, its worked
problems and its stated workloads.

The physics is :mod:`costlib.memory` (weights, KV cache, activations, optimizer states, fits and minimum GPU
counts); seed 000's memory claims are judged once in :mod:`costlib.book.audit` and shown through
:mod:`costlib.book.claims`. Each ``*_facts`` function returns ``{glue key: value}`` for
:func:`costlib.present.exhibits.glue_facts`; each ``*_table`` the DataFrame behind an exhibit (its CSV download).

References
----------
[1] Kwon et al. 2023, "Efficient Memory Management for LLM Serving with PagedAttention" (vLLM), SOSP 2023
    (KV cache 2 x layers x KV heads x head dim x bytes per token; OPT-13B: 800 KB per token).
[2] Dettmers et al. 2023, "QLoRA", arXiv:2305.14314 (LLaMA-65B on one 48 GB GPU; NF4 with double quantization).
[3] Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", arXiv:2205.05198.
[4] torchtune recipes/configs/llama3_1/8B_full_single_device.yaml and 70B_lora.yaml (pytorch/torchtune, 2024).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import finetune as ft
from .. import memory as mem
from ..errors import CostlibError
from ..hardware import get_device
from ..models import get_model, replace_spec
from ..units import BYTES_PER_VALUE, GB
from .audit import seed_memory_claims
from .training_chapter import claims_data, claims_exhibit  # noqa: F401 - the two chapters show claims alike

# ----------------------------------------------------------------------------------------------- chapter settings
EXT_MODELS = ("llama-3.2-1b", "llama-3.2-3b", "qwen2.5-7b")
"""Real models of seed 000's sizes (1B, 3B, 7B) for the deployment table (catalog ids)."""
LOADS = ((4096, 1), (32768, 8))
"""(context tokens, sequences): one user at short context, and a serving load of eight long sequences."""
KV_MODELS = ("llama-2-7b", "llama-3.1-8b", "mistral-7b")
"""Multi-head, grouped-query and sliding-window attention at the same size."""
KV_CONTEXTS = (512, 1024, 2048, 4096, 8192, 16384, 32768)
TRAIN_SEQ, TRAIN_RANK, ZERO_GPUS = 2048, 16, 8
"""Training bars: one 2,048-token sequence per GPU, LoRA rank 16 on all linear layers, ZeRO-3 over 8 GPUs."""
TRAIN_MODELS = ("llama-3.2-1b", "llama-3.2-3b", "llama-2-7b", "llama-3.1-70b")
TRAIN_CONFIGS = (
    ("full", dict(mode="full", recompute="none")),
    ("full, selective", dict(mode="full", recompute="selective")),
    ("full, recompute", dict(mode="full", recompute="full")),
    ("full, ZeRO-3 x8", dict(mode="full", recompute="full", zero=3, gpus=ZERO_GPUS)),
    ("LoRA", dict(mode="lora", recompute="none")),
    ("LoRA, recompute", dict(mode="lora", recompute="full")),
    ("QLoRA, recompute", dict(mode="qlora", recompute="full")),
)
PARTS = ("weights_gb", "gradients_gb", "optimizer_gb", "activations_gb", "overhead_gb")
PRACTICE_CASES = (
    ("LLaMA-65B QLoRA, 1 GPU (QLoRA paper defaults)", "llama-65b", "qlora", {}),
    ("LLaMA-65B full 16-bit, AdamW, 1 GPU", "llama-65b", "full", {}),
    ("Llama-3.1-8B full, torchtune single-device recipe", "llama-3.1-8b", "full", {"recipe": "torchtune-full-single-device"}),
    ("Llama-3.1-8B full, mixed-precision AdamW", "llama-3.1-8b", "full", {"seq_len": 2048, "batch": 2}),
    ("Llama-3.1-70B LoRA r16, FSDP over 8 GPUs", "llama-3.1-70b", "lora",
     {"zero": 3, "gpus": 8, "lora_rank": 16, "lora_targets": "torchtune", "batch": 2}),
    ("Llama-3.1-70B LoRA r16, no sharding", "llama-3.1-70b", "lora", {"lora_rank": 16, "lora_targets": "torchtune", "batch": 2}),
)
"""Named fine-tuning set-ups: the QLoRA paper's [2] and torchtune's recipes [4], and their plain counterparts."""
FIT_MODELS = ("qwen2.5-0.5b", "llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "gemma-2-9b", "mixtral-8x7b",
              "llama-3.1-70b", "llama-3.1-405b", "deepseek-v3")
FIT_GPUS = ("t4", "l4", "rtx-4090", "a100-40gb", "a100-80gb", "h100-sxm", "h200", "mi300x", "b200")
FIT_CONTEXT = 8192
FIT_PRECISIONS = ("bf16", "int8", "int4")
FIT_METHODS = (("full (ZeRO-3)", "full"), ("LoRA (ZeRO-3)", "lora"), ("QLoRA", "qlora"))
EDGE_MODELS = ("smollm2-360m", "qwen2.5-0.5b", "llama-3.2-1b", "smollm2-1.7b", "gemma-2-2b", "llama-3.2-3b",
               "phi-3-mini", "mistral-7b", "llama-3.1-8b", "gemma-2-9b", "mixtral-8x7b", "llama-3.1-70b")
EDGE_CONTEXT = 4096
EDGE_DEVICES = ("i9-13900k", "m1-max")
"""A DDR5 desktop and an M1 Max laptop (catalog devices) for batch-1 INT4 decode speeds."""


# ----------------------------------------------------------------------------------------------- 1. the seed table
def seed_weights_table() -> pd.DataFrame:
    """Seed 000's memory cells against costlib's weights-only bytes (and with the quantization scales)."""
    rows = []
    for c in seed_memory_claims():
        ours = mem.weight_bytes(c["params"], c["precision"], group_size=None) / GB
        rows.append({"parameters": f"{c['params'] / 1e9:g}B", "precision": c["precision"].upper(),
                     "seed's figure (GB)": c["claimed_gb"], "costlib weights (GB)": float(ours),
                     "difference (%)": 100 * (float(ours) / c["claimed_gb"] - 1),
                     "with quantization scales (GB)": float(mem.weight_bytes(c["params"], c["precision"]) / GB)})
    return pd.DataFrame(rows)


def seed_facts(weights: pd.DataFrame) -> dict:
    int4 = float(mem.bits_per_weight("int4"))
    return {"mem_seed_max_err": float(weights["difference (%)"].abs().max()), "mem_int4_bits": int4,
            "mem_int4_group": int(mem.QUANT_GROUP_SIZE), "mem_int4_scale_bits": int(mem.QUANT_SCALE_BITS),
            "mem_int4_scale_pct": 100 * (int4 / 4 - 1)}


def deployment_table() -> pd.DataFrame:
    """Weights, KV cache and total for :data:`EXT_MODELS` at FP16/INT8/INT4 under each of :data:`LOADS`."""
    rows = []
    for mid in EXT_MODELS:
        for p in ("fp16", "int8", "int4"):
            r = {"model": mid, "precision": p.upper()}
            for ctx, b in LOADS:
                br = mem.inference_memory(mid, p, ctx, b)
                r["weights (GB)"] = float(br.weights_gb)
                r[f"KV cache, {b} x {ctx // 1024}k (GB)"] = float(br.kv_cache_gb)
                r[f"total, {b} x {ctx // 1024}k (GB)"] = float(br.total_gb)
            rows.append(r)
    return pd.DataFrame(rows)


def deployment_facts(ext: pd.DataFrame) -> dict:
    (sctx, sb), (lctx, lb) = LOADS
    q7 = ext[(ext.model == "qwen2.5-7b") & (ext.precision == "INT4")].iloc[0]
    seed7 = next(c["claimed_gb"] for c in seed_memory_claims() if c["params"] == 7e9 and c["precision"] == "int4")
    total = float(q7[f"total, {lb} x {lctx // 1024}k (GB)"])
    return {"mem_q7_int4_weights": float(q7["weights (GB)"]), "mem_q7_int4_total_long": total,
            "mem_q7_int4_kv_long": float(q7[f"KV cache, {lb} x {lctx // 1024}k (GB)"]),
            "mem_seed_7b_int4": float(seed7), "mem_q7_int4_ratio": total / seed7, "mem_long_ctx": lctx,
            "mem_long_batch": lb, "mem_short_ctx": sctx, "mem_overhead_gb": float(mem.RUNTIME_OVERHEAD_GB)}


# ----------------------------------------------------------------------------------------------- 2. KV cache
def kv_table() -> pd.DataFrame:
    """KV cache (GB) of one sequence at FP16 for :data:`KV_MODELS` by context."""
    ctx = np.array(KV_CONTEXTS)
    df = pd.DataFrame({"context (tokens)": ctx})
    for mid in KV_MODELS:
        df[f"{mid} (GB)"] = np.round(mem.kv_cache_bytes(mid, ctx) / GB, 3)
    return df


def kv_per_token_table() -> pd.DataFrame:
    rows = []
    for mid in KV_MODELS + ("opt-13b",):
        m = get_model(mid)
        rows.append({"model": mid, "attention": m.attention, "layers": m.layers, "kv_heads": m.kv_heads,
                     "head_dim": m.head_dim, "kv_bytes_per_token": int(mem.kv_bytes_per_token(mid)),
                     "sliding_window": m.sliding_window or "none"})
    return pd.DataFrame(rows)


def kv_facts(kv: pd.DataFrame) -> dict:
    opt = mem.kv_bytes_per_token("opt-13b")
    l8 = get_model("llama-3.1-8b")
    naive = mem.kv_bytes_per_token(replace_spec(l8, kv_heads=l8.heads))
    at = kv.set_index("context (tokens)").loc[KV_CONTEXTS[-1]]
    return {"mem_opt13b_kib": float(opt / 1024), "mem_opt13b_bytes": int(opt),
            "mem_l8_kv_bytes": int(mem.kv_bytes_per_token(l8)), "mem_l2_kv_bytes": int(mem.kv_bytes_per_token("llama-2-7b")),
            "mem_gqa_ratio": float(naive / mem.kv_bytes_per_token(l8)), "mem_l8_32k_gb": float(at["llama-3.1-8b (GB)"]),
            "mem_l2_32k_gb": float(at["llama-2-7b (GB)"]), "mem_l8_kv_heads": int(l8.kv_heads), "mem_l8_heads": int(l8.heads),
            "mem_kv_max_ctx": int(KV_CONTEXTS[-1]), "mem_mistral_window": int(get_model("mistral-7b").sliding_window),
            "mem_mistral_32k_gb": float(at["mistral-7b (GB)"])}


# ----------------------------------------------------------------------------------------------- 3. training memory
def training_breakdown() -> pd.DataFrame:
    """One row per (model, configuration): GB per GPU by component and total (Adam, one sequence per GPU)."""
    rows = []
    for mid in TRAIN_MODELS:
        for name, kw in TRAIN_CONFIGS:
            br = mem.training_memory(mid, seq_len=TRAIN_SEQ, batch=1, lora_rank=TRAIN_RANK, optimizer="adamw", **kw)
            rows.append({"model": mid, "config": name, **{p: float(getattr(br, p)) for p in PARTS},
                         "total_gb": float(br.total_gb)})
    return pd.DataFrame(rows)


def training_totals(train: pd.DataFrame) -> pd.DataFrame:
    """Totals of :func:`training_breakdown`, one row per model, one column per configuration."""
    out = train.pivot(index="model", columns="config", values="total_gb").reindex(list(TRAIN_MODELS))
    return out[[c for c, _ in TRAIN_CONFIGS]].reset_index()


def bytes_per_param(optimizer: str, model: str = "llama-2-7b") -> float:
    """Weights + gradients + optimizer states per parameter of a full fine-tune (mixed precision): Adam 16."""
    b = mem.training_memory(model, "full", "bf16", optimizer)
    return float((b.weights_gb + b.gradients_gb + b.optimizer_gb) * GB / get_model(model).total_params)


def training_facts(train: pd.DataFrame) -> dict:
    def total(m, c):
        return float(train[(train.model == m) & (train.config == c)]["total_gb"].iloc[0])

    l7 = train[(train.model == "llama-2-7b") & (train.config == "full")].iloc[0]
    rc = train[(train.model == "llama-2-7b") & (train.config == "full, recompute")].iloc[0]
    lora_n = mem.lora_trainable_params("llama-2-7b", TRAIN_RANK)
    q = mem.training_memory("llama-2-7b", "qlora", lora_rank=16)
    return {"mem_zero_gpus": ZERO_GPUS, "mem_train_seq": TRAIN_SEQ, "mem_train_rank": TRAIN_RANK,
            "mem_adam_bytes": bytes_per_param("adam"), "mem_adam8_bytes": bytes_per_param("adam8bit"),
            "mem_sgd_bytes": bytes_per_param("sgd"),
            "mem_7b_states_gb": float(l7.weights_gb + l7.gradients_gb + l7.optimizer_gb),
            "mem_7b_act_gb": float(l7.activations_gb), "mem_7b_full_total": float(l7.total_gb),
            "mem_7b_act_share": float(100 * l7.activations_gb / l7.total_gb),
            "mem_7b_recompute_act": float(rc.activations_gb), "mem_7b_lora_rc": total("llama-2-7b", "LoRA, recompute"),
            "mem_7b_qlora_rc": total("llama-2-7b", "QLoRA, recompute"),
            "mem_70b_qlora_rc": total("llama-3.1-70b", "QLoRA, recompute"),
            "mem_70b_zero3": total("llama-3.1-70b", "full, ZeRO-3 x8"), "mem_7b_lora_params_m": lora_n / 1e6,
            "mem_7b_lora_share": 100 * lora_n / get_model("llama-2-7b").total_params,
            "mem_qlora_adapter_bytes": float((q.gradients_gb + q.optimizer_gb) * GB / lora_n + BYTES_PER_VALUE["bf16"])}


def practice_table() -> tuple[pd.DataFrame, dict]:
    """:data:`PRACTICE_CASES` through ``memory.training_memory``: GB per GPU by component, host RAM, fits."""
    rows, totals = [], []
    for name, mid, mode, kw in PRACTICE_CASES:
        br = mem.training_memory(mid, mode, **kw)
        totals.append(float(br.total_gb))
        rows.append({"case": name, "total per GPU (GB)": br.total_gb,
                     "fits one 80 GB GPU": "yes" if mem.fits(br, "a100-80gb") else "no",
                     "fits one 24 GB RTX 4090": "yes" if mem.fits(br, "rtx-4090") else "no",
                     "host RAM (GB)": br.host_gb, "weights (GB)": br.weights_gb, "gradients (GB)": br.gradients_gb,
                     "optimizer (GB)": br.optimizer_gb, "activations (GB)": br.activations_gb})
    keys = ("tk_q65", "tk_f65", "tk_8b_full", "tk_8b_amp", "tk_70b_lora", "tk_70b_lora1")
    return pd.DataFrame(rows), dict(zip(keys, totals))


def torchtune_table(bt: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """costlib's per-GPU memory against the published peaks (``finetune.backtest``) and its summary.

    The summary keys ``tk_val_*`` / ``tt_mem_*`` are over torchtune's recipes (whose memory counter and settings the
    chapter describes); ``hf_val_*`` over the Qwen README's Hugging Face PEFT profile, whose measuring method is not
    stated (costlib runs low there, by more at longer sequences: see the chapter)."""
    bt = ft.backtest() if bt is None else bt
    bt = bt[bt.memory_error.notna()]
    df = pd.DataFrame({"measurement": bt.id.values, "framework": bt.framework.values,
                       "error (%)": (100 * bt.memory_error).values,
                       "published peak (GB)": bt.published_memory_gb.values, "costlib (GB)": bt.costlib_memory_gb.values})
    tt = bt[bt.framework == "torchtune"]
    hf = bt[bt.framework != "torchtune"]
    worst = tt.loc[tt.memory_error.abs().idxmax()]
    facts = {"tk_val_n": int(len(tt)), "tk_val_err": float(tt.memory_error.abs().median()),
             "tt_mem_max": float(tt.memory_error.abs().max()), "tt_mem_worst": str(worst.id),
             "hf_val_n": int(len(hf)),
             "hf_val_err": float(hf.memory_error.median()) if len(hf) else 0.0,
             "hf_val_min": float(hf.memory_error.min()) if len(hf) else 0.0,
             "hf_val_max": float(hf.memory_error.max()) if len(hf) else 0.0}
    return df, facts


def worked_problem_facts() -> dict:
    """Problem 1: Llama-3.1-70B LoRA on 4 A100-80GB with FSDP, and without sharding. Problem 2: FlashAttention's
    activation saving for Llama-3.1-8B at 8,192 tokens. Problem 3: the longest context one L4 serves Llama-3.1-8B
    at bf16 and at int4 for one sequence."""
    kw = dict(lora_rank=16, lora_targets="torchtune")
    wp3 = mem.training_memory("llama-3.1-70b", "lora", zero=3, gpus=4, batch=2, **kw)
    wp3_1 = mem.training_memory("llama-3.1-70b", "lora", zero=0, batch=2, **kw)
    m0 = mem.min_gpus("llama-3.1-70b", "a100-80gb", "bf16", 2048, 2, "lora", zero=0, max_gpus=64, **kw)
    m3 = mem.min_gpus("llama-3.1-70b", "a100-80gb", "bf16", 2048, 2, "lora", zero=3, max_gpus=64, **kw)
    fl = mem.training_activation_bytes("llama-3.1-8b", 8192, 1, "none") / GB
    ma = mem.training_activation_bytes("llama-3.1-8b", 8192, 1, "none", attention="materialized") / GB
    ctx = {p: mem.max_context("llama-3.1-8b", "l4", p) for p in ("bf16", "int4")}
    return {"wp3_4": float(wp3.total_gb), "wp3_fits": "fits" if mem.fits(wp3, "a100-80gb") else "does not fit",
            "wp3_1": float(wp3_1.total_gb), "wp3_min0": "none (never fits)" if m0 is None else str(m0),
            "wp3_min3": str(m3), "wp4_flash": float(fl), "wp4_mat": float(ma), "wp4_ratio": float(ma / fl),
            "wp4_ckpt": float(mem.training_activation_bytes("llama-3.1-8b", 8192, 1, "full") / GB),
            "wp5_ctx_bf16": int(ctx["bf16"] or 0), "wp5_ctx_int4": int(ctx["int4"] or 0),
            "wp5_l4_gb": get_device("l4").memory_bytes / GB}


# ----------------------------------------------------------------------------------------------- 4. what fits where
def fit_grid(mode: str, precision: str, context: int, **kw) -> np.ndarray:
    """Minimum GPUs of each of :data:`FIT_GPUS` (columns) for each of :data:`FIT_MODELS` (rows); NaN: none fits."""
    out = np.full((len(FIT_MODELS), len(FIT_GPUS)), np.nan)
    for i, mid in enumerate(FIT_MODELS):
        for j, gid in enumerate(FIT_GPUS):
            k = mem.min_gpus(mid, gid, precision, context, 1, mode, **kw)
            out[i, j] = np.nan if k is None else k
    return out


def inference_panels() -> list[tuple[str, np.ndarray]]:
    return [(p.upper(), fit_grid("inference", p, FIT_CONTEXT)) for p in FIT_PRECISIONS]


def finetune_panels() -> list[tuple[str, np.ndarray]]:
    return [(name, fit_grid(mode, "bf16", TRAIN_SEQ, recompute="full")) for name, mode in FIT_METHODS]


def fit_table(panels) -> pd.DataFrame:
    """One row per model, one column per GPU: 'a/b/c' = the minimum GPUs of each panel ('–': none fits)."""
    out = pd.DataFrame({"model": list(FIT_MODELS)})
    for j, gid in enumerate(FIT_GPUS):
        out[gid] = ["/".join("–" if np.isnan(g[i, j]) else f"{g[i, j]:.0f}" for _, g in panels)
                    for i in range(len(FIT_MODELS))]
    return out


def fit_facts(inf, fine) -> dict:
    i70, i8, a100 = FIT_MODELS.index("llama-3.1-70b"), FIT_MODELS.index("llama-3.1-8b"), FIT_GPUS.index("a100-80gb")
    return {"mem_fit_context": FIT_CONTEXT, "mem_70b_inf_a100": float(inf[0][1][i70, a100]),
            "mem_70b_full_a100": float(fine[0][1][i70, a100]), "mem_70b_qlora_a100": float(fine[2][1][i70, a100]),
            "mem_8b_full_4090": float(fine[0][1][i8, FIT_GPUS.index("rtx-4090")]),
            "mem_8b_qlora_t4": float(fine[2][1][i8, FIT_GPUS.index("t4")])}


# ----------------------------------------------------------------------------------------------- 5. edge
def decode_tokens_per_s(model: str, device: str, precision: str, context: int = EDGE_CONTEXT) -> float:
    """Batch-1 decode speed (llama.cpp engine class) from the inference model; NaN when it cannot run there."""
    from ..inference import decode_step_time_s

    try:
        return round(float(1.0 / decode_step_time_s(model, device, precision, 1, context, engine="llama.cpp")), 1)
    except CostlibError:
        return float("nan")


def edge_table() -> pd.DataFrame:
    """RAM a llama.cpp GGUF Q4_0 / Q8_0 model needs at :data:`EDGE_CONTEXT` tokens, its RAM tier, and batch-1 INT4
    decode speed on :data:`EDGE_DEVICES`."""
    rows = []
    for mid in EDGE_MODELS:
        r = {"model": mid, "parameters (billions)": round(get_model(mid).total_params / 1e9, 2)}
        for p in ("int4", "int8"):
            tot = float(mem.edge_memory(mid, p, EDGE_CONTEXT).total_gb)
            tier = mem.ram_tier(tot)
            r[f"{p.upper()} total (GB)"] = round(tot, 1)
            r[f"{p.upper()} RAM tier"] = f"{tier} GB" if tier else "> 64 GB"
        for dev in EDGE_DEVICES:
            r[f"INT4 tokens/s, {dev}"] = decode_tokens_per_s(mid, dev, "int4")
        rows.append(r)
    return pd.DataFrame(rows)


def edge_facts(edge: pd.DataFrame) -> dict:
    small = min(mem.EDGE_RAM_TIERS_GB)
    fits = edge[edge["INT4 total (GB)"] <= small]
    row = edge.set_index("model")
    return {"mem_edge_ctx": EDGE_CONTEXT, "mem_tiers": ", ".join(map(str, mem.EDGE_RAM_TIERS_GB)) + " GB",
            "mem_q40_bits": float(mem.bits_per_weight("int4", group_size=mem.GGUF_BLOCK)),
            "mem_q80_bits": float(mem.bits_per_weight("int8", group_size=mem.GGUF_BLOCK)),
            "mem_edge_small_tier": small, "mem_edge_8gb_int4": ", ".join(fits.model),
            "mem_edge_8gb_largest": float(fits["parameters (billions)"].max()),
            "mem_edge_70b_int4": float(row.loc["llama-3.1-70b", "INT4 total (GB)"]),
            "mem_edge_mixtral_int4": float(row.loc["mixtral-8x7b", "INT4 total (GB)"]),
            "mem_edge_8b_tok_s": float(row.loc["llama-3.1-8b", f"INT4 tokens/s, {EDGE_DEVICES[0]}"]),
            "mem_edge_8b_tok_s_m1": float(row.loc["llama-3.1-8b", f"INT4 tokens/s, {EDGE_DEVICES[1]}"])}


# ----------------------------------------------------------------------------------------------- 6. validation
def validation_facts(val: pd.DataFrame) -> dict:
    q = mem.training_memory(mem.LLAMA_65B, "qlora", seq_len=512, batch=1, recompute="full", lora_rank=mem.QLORA_PAPER_RANK)
    f = mem.training_memory(mem.LLAMA_65B, "full", "bf16", seq_len=512, batch=1, recompute="full")
    kvw = val[val.id.str.endswith("-kv") | val.id.str.endswith("-weights")]
    fb = val.set_index("id")
    pub = {r["id"]: r["published"] for r in mem.published_memory()}
    falcon = get_model("falcon-180b")
    one = mem.inference_memory(falcon, "bf16", 2048)
    room = get_device("a100-80gb").memory_gb - one.overhead_gb - one.kv_cache_gb - one.activations_gb
    return {"mem_qlora65_total": float(q.total_gb), "mem_qlora65_weights": float(q.weights_gb),
            "mem_full65_total": float(f.total_gb), "mem_val_n": int(len(val)),
            "mem_val_ok": int(val.verdict.isin(["match", "consistent"]).sum()),
            "mem_val_bytes_max_err": float(kvw.error_pct.abs().max()),
            "mem_falcon_bf16": str(fb.loc["falcon-bf16-inference", "costlib"]),
            "mem_falcon_int4": str(fb.loc["falcon-int4-inference", "costlib"]),
            "mem_qlora_bound": float(pub["qlora-65b-48gb"]), "mem_full_bound": float(pub["full16-65b-780gb"]),
            "mem_falcon_heads": int(falcon.heads), "mem_falcon_by_memory": int(np.ceil(one.weights_gb / room)),
            "mem_nf4_bits": float(mem.bits_per_weight("nf4")), "mem_prefill_chunk": int(mem.PREFILL_CHUNK_TOKENS),
            "mem_gguf_block": int(mem.GGUF_BLOCK), "mem_qlora_rank": int(mem.QLORA_PAPER_RANK)}


# ----------------------------------------------------------------------------------------------- explorer, assumptions
EXPLORE_GPUS = ("rtx-4090", "a100-80gb", "h100-sxm", "b200")
EXPLORER_INPUTS = {"model": ["llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "gemma-2-9b", "mixtral-8x7b", "llama-3.1-70b"],
                   "precision": ["bf16", "fp8", "int8", "int4"], "mode": ["inference", "full", "lora", "qlora"],
                   "context": [2048, 8192, 32768], "batch": [1, 8, 32]}
EXPLORER_DEFAULT = {"model": "llama-3.1-8b", "precision": "bf16", "mode": "inference", "context": 8192, "batch": 1}


def explorer_cell(model, precision, mode, context, batch) -> dict:
    """One point of the explorer: one GPU's breakdown (training: full recompute) and the fewest GPUs per type."""
    kw = {} if mode == "inference" else {"recompute": "full"}
    br = mem.estimate_memory(model, mode, precision, context, batch, **kw)
    need = [mem.min_gpus(model, g, precision, context, batch, mode, **kw) for g in EXPLORE_GPUS]
    return {"weights": br.weights_gb, "kv": br.kv_cache_gb, "act": br.activations_gb,
            "states": br.gradients_gb + br.optimizer_gb, "overhead": br.overhead_gb, "total": br.total_gb,
            "need": " / ".join("—" if k is None else str(k) for k in need)}


def explorer():
    from ..present.explore import static_explorer

    return static_explorer(
        "Memory per GPU and the fewest GPUs that hold it", inputs=EXPLORER_INPUTS, compute=explorer_cell,
        fmt={k: ",.1f| GB" for k in ("weights", "kv", "act", "states", "overhead", "total")},
        labels={"context": "context (training: sequence length)", "kv": "KV cache", "act": "activations",
                "states": "gradients + optimizer", "overhead": "runtime overhead", "total": "total per GPU",
                "need": "minimum GPUs: " + " / ".join(EXPLORE_GPUS)},
        input_fmt={"context": ",d"}, default=EXPLORER_DEFAULT,
        note="One GPU's breakdown (training: no ZeRO, full recompute, Adam; LoRA rank 16); "
             "training precisions are compute precisions (QLoRA's base is always NF4).")


def assumptions_table(widget_gpus=()) -> pd.DataFrame:
    """Every input of the chapter with its value, source and date ("-": a definition or a book choice)."""
    mp = pd.DataFrame(mem.published_memory())
    hw = sorted(set(FIT_GPUS) | set(widget_gpus) | set(EDGE_DEVICES))
    mods = sorted(set(EXT_MODELS) | set(KV_MODELS) | set(TRAIN_MODELS) | set(FIT_MODELS) | set(EDGE_MODELS) | {"opt-13b"})
    hw_dates, mod_dates = [get_device(d).as_of for d in hw], [get_model(m).as_of for m in mods]
    return pd.DataFrame([
        ("bytes per value", "fp32 4, bf16/fp16 2, fp8/int8 1, int4 0.5", "IEEE 754 / format definitions (costlib.units)", "-"),
        ("INT4/INT8 group scales", f"one {mem.QUANT_SCALE_BITS}-bit scale per {mem.QUANT_GROUP_SIZE} weights", "AutoGPTQ group_size default; AWQ, Lin et al. 2023", "2023-06-01"),
        ("GGUF Q4_0 / Q8_0", f"one fp16 scale per {mem.GGUF_BLOCK} weights", "ggml QK4_0 = QK8_0 = 32 (llama.cpp)", "2024"),
        ("QLoRA NF4 + double quantization", f"{mem.bits_per_weight('nf4'):.3f} bits per weight", "Dettmers et al. 2023, section 3", "2023-05-23"),
        ("KV cache per token", "2 x layers x KV heads x head_dim x bytes", "Kwon et al. 2023 (vLLM)", "2023-09-12"),
        ("runtime overhead", f"{mem.RUNTIME_OVERHEAD_GB:g} GB per GPU", "CUDA context, PyTorch forums (ptrblck)", "2024"),
        ("prefill chunk", f"{mem.PREFILL_CHUNK_TOKENS:,} tokens", "vLLM EngineArgs defaults", "2025"),
        ("optimizer states", "Adam 8, 8-bit Adam 2, SGD 4 bytes per parameter, + 4-byte fp32 master", "Transformer Math 101; Dettmers et al. 2022; Micikevicius et al. 2018", "2023-04-18"),
        ("activations", "s b h (34 + 5 a s / h) per layer; 34 s b h selective; ~2 s b h full recompute", "Korthikanti et al. 2022", "2022-05-10"),
        ("ZeRO-3 sharding", "weights, gradients, optimizer states / data-parallel GPUs", "Rajbhandari et al. 2020", "2019-10-04"),
        ("LoRA", f"r (d_in + d_out) per adapted matrix, rank {TRAIN_RANK}, all linear layers", "Hu et al. 2021", "2021-06-17"),
        ("model architectures", f"{len(mods)} models' config.json", "costlib/data/models.csv", f"{min(mod_dates)} to {max(mod_dates)}"),
        ("device memory", f"{len(hw)} devices' datasheets", "costlib/data/hardware.csv", f"{min(hw_dates)} to {max(hw_dates)}"),
        ("edge RAM tiers", ", ".join(map(str, mem.EDGE_RAM_TIERS_GB)) + " GB", "common laptop / desktop sizes (book choice)", "-"),
        ("published figures", f"{len(mp)} rows", "costlib/data/memory_published.csv", f"{mp.as_of.min()} to {mp.as_of.max()}"),
        ("chapter settings", f"training {TRAIN_SEQ:,}-token sequences, batch 1; fit tables at {FIT_CONTEXT:,} tokens; "
                             f"edge at {EDGE_CONTEXT:,}", "book choice", "-"),
    ], columns=["input", "value", "source", "as of"])
