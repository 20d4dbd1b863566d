"""Chapter 6 (optimization techniques): every exhibit of the chapter as a :class:`~costlib.present.exhibits.Exhibits`.

Each function computes one exhibit on the chapter's reference workload (:mod:`costlib.book.techniques`: the
stated assumptions) from the formulas of :mod:`costlib.optimizations` and :mod:`costlib.optimization_costs`, and
returns the values the prose glues and the tables it shows; the notebook shows each with
``publish(optimizations_chapter.<exhibit>())``. The widgets' and explorers' render functions are here too, so the
live widget (in a kernel) and the static explorer (on the page) call the same code.

References: [1] Leviathan, Kalman, Matias 2023, "Fast inference from transformers via speculative decoding"
(theorem 3.8, tables 2-4). [2] Dao 2023, "FlashAttention-2", table 1. [3] llama.cpp perplexity tables
(Llama 2 7B, Llama 3 8B). [4] Hu et al. 2021 (LoRA). All published figures: costlib/data/technique_evidence.csv.
"""
from __future__ import annotations

import inspect
import re

import numpy as np
import pandas as pd

from costlib import inference as inf
from costlib import optimization_costs as oc
from costlib import optimizations as opt
from costlib import routing
from costlib.book import techniques as tech
from costlib.errors import CostlibError
from costlib.hardware import get_device
from costlib.models import get_model
from costlib.present.exhibits import Exhibits, Table
from costlib.present.explore import static_explorer
from costlib.present.report import exhibit_figure, figure_style, seed_arrows, small_text
from costlib.prices import get_api_price, gpu_price_band, prices_for

P, O = tech.REFERENCE_PROMPT_TOKENS, tech.REFERENCE_OUTPUT_TOKENS
SPEC_BATCHES = (1, 4, 16, 64, 128, 256)
"""Batches of the speculative-decoding-on-a-GPU table (book choice: batch 1 to a saturated A100)."""
FA_SEQUENCES = (1500, 8192, 32768)
"""Sequence lengths of the attention-memory table: the reference prompt and two long contexts (book choice)."""
QUANT_GPUS = (tech.REFERENCE_GPU, "h100-sxm", "l4")
QUANT_COMBOS = (("bf16", None), ("fp8", None), ("int8", None), ("int4", None), ("int4", "int8"))
"""Weight format and KV-cache format (None: the inference module's default for the weights) of Exhibit 6.7."""
STATIC_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128)
ROUTING_SHARES = (0.0, 0.3, 0.5, 0.7, 0.9)
SMALL_API = "openai-gpt-6-luna"
"""The small API tier the token-reduction table prices next to the large one: OpenAI's current small tier,
``prices.current_tier_offer("OpenAI", "small")`` (GPT-4o mini's successor; a test checks they agree)."""
BOOK = "book assumption (costlib/book/techniques.py)"
WRAP = {"overflow-wrap": "anywhere", "min-width": "8em"}
"""Long source URLs wrap anywhere, so an evidence table's last column stays in the text column."""

SPEC_DEFAULT = {"alpha": 0.8, "gamma": 4, "c": 0.05}
"""The speculative-decoding widget's default inputs (theorem 3.8's worked example in [1]: α = 0.8, γ = 4)."""
QUANT_MODELS = ("qwen2.5-7b", "llama-3.1-8b", "qwen2.5-1.5b", "phi-3-mini", "llama-3.1-70b")
QUANT_WIDGET_GPUS = ("a100-80gb", "h100-sxm", "l4", "l40s", "t4", "rtx-4090")
QUANT_FORMATS = ("fp8", "int8", "int4")
DIST_TEACHERS = ("openai-gpt-6.1-sol", "anthropic-claude-sonnet-5.5", "openai-gpt-6-luna", "deepseek-v4-pro")
"""Teacher APIs of the distillation widget: the current successors (``prices.current_successor``) of the four the
chapter offered until 2026-12 (GPT-4o, Claude 3.5 Sonnet, GPT-4o mini, DeepSeek-V3); a test checks they agree."""
DIST_STUDENTS = ("qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-7b")
DIST_EXAMPLES = (10_000, 20_000, 50_000, 100_000, 200_000, 500_000)

WORKED_BATCH = 64
"""Problem 6.1: the reference service at 64 concurrent sequences."""
WORKED_SLOTS, WORKED_FLEET = 32, 12
"""Problem 6.2: a fleet of 12 GPUs with static batches of 32 slots."""
WORKED_SHARE, WORKED_ESCALATION = 0.7, 0.2
"""Problem 6.3: 70 % routed to the small model, 20 % of those escalate."""


def _plain(text: str) -> str:
    return re.sub("<[^>]+>", "", text)


def _lora_rank() -> int:
    return inspect.signature(oc.finetune_comparison).parameters["rank"].default


# ------------------------------------------------------------------------------------------------ reference
def reference() -> Exhibits:
    """Exhibit: the reference workload, its cost per 1,000 requests and how busy it keeps one GPU."""
    model, device = get_model(tech.REFERENCE_MODEL), get_device(tech.REFERENCE_GPU)
    price = gpu_price_band(tech.REFERENCE_GPU)
    base = oc.serving_cost(tech.reference_setup())
    one_gpu_busy = base["gpu_s_per_request"] * tech.REFERENCE_REQUESTS_PER_DAY / 86400
    rows = [
        ("model", f"{model.name} ({model.total_params / 1e9:.2f}B parameters, {model.layers} layers, {model.kv_heads} KV heads)"),
        ("GPU", f"{device.name}: {device.memory_gib:g} GiB, {device.bandwidth_gb_s:,.0f} GB/s, "
                f"{device.peak_tflops('bf16'):g} BF16 TFLOP/s dense"),
        ("price", f"${price.mid:.2f} per GPU-hour (median of catalog on-demand offers, ${price.low:.2f}-{price.high:.2f})"),
        ("request", f"{P:,} prompt tokens, {O} output tokens (a code review)"),
        ("volume", f"{tech.REFERENCE_REQUESTS_PER_DAY:,} requests a day"),
        ("serving", f"BF16 weights, {tech.REFERENCE_BATCH} concurrent sequences, FlashAttention, continuous batching, "
                    "optimized engine"),
        ("utilization", f"{tech.REFERENCE_ONLINE_UTILIZATION:.0%} of paid GPU-hours busy (online headroom)"),
        ("baseline cost", f"${base['usd_per_1k_requests']:.3f} per 1,000 requests ({base['gpu_s_per_request']:.3f} "
                          "GPU-seconds each)"),
    ]
    values = {"ref_model": model.name, "ref_params_b": model.total_params / 1e9, "ref_gpu": device.name,
              "ref_prompt": P, "ref_output": O, "ref_volume": tech.REFERENCE_REQUESTS_PER_DAY,
              "ref_batch": tech.REFERENCE_BATCH, "ref_util": tech.REFERENCE_ONLINE_UTILIZATION,
              "ref_price": price.mid, "ref_price_lo": price.low, "ref_price_hi": price.high,
              "ref_usd_1k": base["usd_per_1k_requests"], "ref_gpu_s": base["gpu_s_per_request"],
              "ref_one_gpu_busy": one_gpu_busy, "ref_day_usd_floor": price.mid * 24}
    return Exhibits(values, {"tbl-opt-reference": Table(pd.DataFrame(rows, columns=["item", "value"]))})


# ------------------------------------------------------------------------------------------------ speculative
def speculative_backtest() -> Exhibits:
    """Exhibit: theorem 3.8 [1] against the paper's measured T5-XXL speed-ups."""
    bt = opt.speculative_backtest()
    show = bt[["task", "draft", "error", "predicted", "measured", "temperature", "alpha", "gamma", "c"]].rename(
        columns={"predicted": "predicted speed-up", "measured": "measured speed-up"})
    values = {"spec_tokens_08_4": float(opt.speculative_expected_tokens(0.8, 4)),
              "spec_mae": float(bt["error"].abs().mean()), "spec_err_min": float(bt["error"].min()),
              "spec_err_max": float(bt["error"].max()), "spec_n": len(bt),
              "spec_small_best": float(bt.loc[bt["draft"] == "T5-small", "measured"].max())}
    return Exhibits(values, {"tbl-opt-spec-backtest": Table(show, percent=("error",), key=("task", "draft"), max_columns=6,
                                                       formats={"predicted speed-up": "{:.2f}"})})


def speculative_batches() -> Exhibits:
    """Exhibit: speculative decoding of the reference model on the reference GPU as the batch grows."""
    rows = []
    for b in SPEC_BATCHES:
        r = oc.speculative_on_gpu(tech.REFERENCE_MODEL, tech.REFERENCE_DRAFT, tech.REFERENCE_GPU, "bf16", b,
                                  P + O / 2, tech.REFERENCE_ALPHA, tech.REFERENCE_GAMMA)
        rows.append({"concurrent sequences": b, "speed-up": r["speedup"], "draft/target step time c": r["c"],
                     "verification time (x a plain step)": r["verify_time_ratio"],
                     "theorem 3.8 (batch 1 ideal)": r["speedup_theorem_3_8"]})
    df = pd.DataFrame(rows)
    values = {"spec_b1": float(df.loc[0, "speed-up"]), "spec_b16": float(df.loc[2, "speed-up"]),
              "spec_b256": float(df.loc[5, "speed-up"]), "spec_alpha": tech.REFERENCE_ALPHA,
              "spec_alpha_lo": tech.LEVIATHAN_ALPHA_RANGE[0], "spec_alpha_hi": tech.LEVIATHAN_ALPHA_RANGE[1],
              "spec_batch_1": SPEC_BATCHES[0], "spec_batch_big": SPEC_BATCHES[-1], "spec_gamma": tech.REFERENCE_GAMMA,
              "spec_draft": get_model(tech.REFERENCE_DRAFT).name}
    return Exhibits(values, {"tbl-opt-spec-batch": Table(df)})


def speculative_html(alpha: float, gamma: int, c: float) -> str:
    """The speculative-decoding widget's result for one input (theorem 3.8 [1]), as HTML."""
    try:
        r = opt.speculative_summary(alpha, gamma, c)
    except CostlibError as exc:
        return f"<b>Input error:</b> {exc}"
    verdict = "faster" if r["speedup"] > 1 else "slower than plain decoding"
    return (f"<b>{r['tokens_per_call']:.3f}</b> tokens per target call; walltime speed-up <b>{r['speedup']:.2f}x</b> "
            f"({verdict}); arithmetic x{r['ops_factor']:.2f} (taking the op ratio equal to c); best γ for this α and "
            f"c: <b>{r['best_gamma']}</b> ({r['best_speedup']:.2f}x)")


def speculative_widget():
    """The live ipywidget of the speculative-decoding section (α, γ, c sliders)."""
    import ipywidgets as w  # on demand: only a live notebook builds widgets
    from costlib.present.exhibits import live_widget

    return live_widget(speculative_html, {
        "alpha": w.FloatSlider(value=SPEC_DEFAULT["alpha"], min=0.0, max=0.95, step=0.01, description="α"),
        "gamma": w.IntSlider(value=SPEC_DEFAULT["gamma"], min=1, max=16, description="γ"),
        "c": w.FloatSlider(value=SPEC_DEFAULT["c"], min=0.0, max=1.0, step=0.01, description="c")})


def speculative_explorer():
    """The kernel-free explorer of theorem 3.8 over a grid of α, γ and c."""
    return static_explorer(
        "Speculative decoding: theorem 3.8 over α, γ and c",
        inputs={"alpha": [0.5, 0.6, 0.7, 0.8, 0.9, 0.95], "gamma": [1, 2, 3, 4, 6, 8, 12, 16],
                "c": [0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]},
        compute=opt.speculative_summary,
        fmt={"tokens_per_call": ".3f", "speedup": ".2f|x", "ops_factor": ".2f|x", "best_gamma": "d", "best_speedup": ".2f|x"},
        labels={"alpha": "acceptance rate α", "gamma": "draft tokens γ", "c": "draft/target step time c",
                "tokens_per_call": "tokens per target call", "speedup": "walltime speed-up",
                "ops_factor": "arithmetic (op ratio = c)", "best_gamma": "best γ for this α and c",
                "best_speedup": "speed-up at the best γ"},
        default=SPEC_DEFAULT, input_fmt={"alpha": ".2f", "c": ".2f"},
        note="Batch 1, memory-bound target (the theorem's assumption); the GPU table above shows how batching erodes it.")


def speculative_defaults() -> Exhibits:
    """The widget's default inputs and result as glued text (for the test suite)."""
    return Exhibits({"spec_widget_default": _plain(speculative_html(**SPEC_DEFAULT)), "spec_ex_alpha": SPEC_DEFAULT["alpha"],
                 "spec_ex_gamma": SPEC_DEFAULT["gamma"], "spec_ex_c": SPEC_DEFAULT["c"]})


# ------------------------------------------------------------------------------------------------ KV cache
def kv_cache() -> Exhibits:
    """Exhibit: one reference reply with and without a KV cache (positions processed, seconds)."""
    model = get_model(tech.REFERENCE_MODEL)
    t_with = oc.kv_cache_time_s(tech.REFERENCE_MODEL, tech.REFERENCE_GPU, "bf16", P, O, cached=True)
    t_without = oc.kv_cache_time_s(tech.REFERENCE_MODEL, tech.REFERENCE_GPU, "bf16", P, O, cached=False)
    df = pd.DataFrame({"": ["positions processed", "seconds for one reply, one sequence (reference GPU)"],
                       "with KV cache": [float(opt.kv_cache_token_forwards(P, O, True)), round(t_with, 2)],
                       "without": [float(opt.kv_cache_token_forwards(P, O, False)), round(t_without, 2)]})
    values = {"kv_pos_ratio": float(opt.kv_cache_compute_ratio(P, O)), "kv_t_with": t_with, "kv_t_without": t_without,
              "kv_time_ratio": t_without / t_with,
              "kv_gb": float(inf.kv_bytes_per_sequence(model, P + O)) / 1e9}
    return Exhibits(values, {"tbl-opt-kv": Table(df, key=("",))})


# ------------------------------------------------------------------------------------------------ FlashAttention
def flash_attention() -> Exhibits:
    """Exhibits: attention memory and traffic at three lengths, and the back-test on [2]'s table 1."""
    model = get_model(tech.REFERENCE_MODEL)
    mem_col = "attention matrix, standard (GB, all heads, one layer)"
    rows = [{"sequence (tokens)": n,
             mem_col: float(opt.attention_matrix_bytes(n, model.heads)) / 1e9,
             "FlashAttention extra (MB)": float(opt.flash_attention_extra_bytes(n, model.heads)) / 1e6,
             "memory traffic, standard / FlashAttention": float(
                 opt.attention_hbm_bytes(n, model.head_dim, model.heads, flash=False)
                 / opt.attention_hbm_bytes(n, model.head_dim, model.heads, flash=True))} for n in FA_SEQUENCES]
    fa_mem = pd.DataFrame(rows)
    bt = opt.flash_attention_training_backtest()
    k = opt.unfused_attention_multiplier()
    values = {"fa_mem_32k_gb": fa_mem.loc[2, mem_col], "fa_long_n": FA_SEQUENCES[2],
              "fa_traffic_1500": fa_mem.loc[0, "memory traffic, standard / FlashAttention"],
              "fa_meas_lo": float(bt["measured_speedup"].min()), "fa_meas_hi": float(bt["measured_speedup"].max()),
              "fa_pred_lo": float(bt["predicted_speedup"].min()), "fa_pred_hi": float(bt["predicted_speedup"].max()),
              "fa_err_mean": float(bt["error"].mean()), "fa_k_lo": k.low, "fa_k_mid": k.mid, "fa_k_hi": k.high,
              "fa_time_lo": 1 - 1 / float(bt["measured_speedup"].min()),
              "fa_time_hi": 1 - 1 / float(bt["measured_speedup"].max()),
              "fa_ctx_lo": int(bt["seq_len"].min()), "fa_ctx_hi": int(bt["seq_len"].max()),
              "flash_decoding": opt.evidence_value("flash-decoding")}
    show = bt[["model", "seq_len", "error", "fa2_tflops", "measured_none_tflops", "predicted_none_tflops",
               "measured_speedup", "predicted_speedup", "traffic_multiplier"]]
    return Exhibits(values, {"tbl-opt-fa": Table(fa_mem),
                         "tbl-opt-fa-backtest": Table(show, percent=("error",), key=("model", "seq_len"), max_columns=6)})


# ------------------------------------------------------------------------------------------------ quantization
def quality_text(q) -> str:
    """The published quality range of a :class:`QuantizationEffect` [3], in words."""
    band, acc = q.quality_ppl_ratio, q.quality_accuracy_ratio
    if band is not None:
        return f"perplexity +{100 * (band.low - 1):.2f}% to +{100 * (band.high - 1):.1f}%"
    if acc is not None:
        return f"accuracy −{100 * (1 - acc.high):.2f}% to −{100 * (1 - acc.low):.2f}%"
    return "no catalog figure"


def quantization_rows() -> pd.DataFrame:
    """Every weight / KV-cache format of :data:`QUANT_COMBOS` on :data:`QUANT_GPUS` at the reference batch
    (formats a GPU cannot run are left out)."""
    rows = []
    for gpu in QUANT_GPUS:
        for p, kvp in QUANT_COMBOS:
            try:
                q = oc.quantization_effect(tech.REFERENCE_MODEL, gpu, p, batch=tech.REFERENCE_BATCH, kv_precision=kvp)
            except CostlibError:
                continue
            rows.append({"GPU": get_device(gpu).name, "gpu_id": gpu, "weights": p.upper(),
                         "KV cache": (kvp or inf._kv_default(p)).upper(), "fits": q.fits,
                         "decode speed-up": q.decode_speedup, "prefill speed-up": q.prefill_speedup,
                         "decode (ms per token)": 1000 * q.tpot_s, "weights (GB)": q.weights_gb,
                         "serving memory (GB)": q.memory_gb,
                         "quality cost (published range)": "—" if p == "bf16" else quality_text(q)})
    return pd.DataFrame(rows)


def quantization() -> Exhibits:
    """Exhibit 6.7: quantizing the reference model; split into two parts (speed; memory and quality) that repeat
    the key columns, so that each part's last column shows at 1280 px."""
    quant = quantization_rows()
    ref = quant[quant["gpu_id"] == tech.REFERENCE_GPU]
    qa = ref[ref["KV cache"] != "INT8"].set_index("weights")
    h = quant[(quant["gpu_id"] == "h100-sxm") & (quant["KV cache"] != "INT8")].set_index("weights")
    q8b, q4b = opt.quantization_quality("int8"), opt.quantization_quality("int4")
    fp8a = opt.quantization_quality("fp8", "accuracy_ratio")
    values = {"q_int4kv8_decode": float(ref[ref["KV cache"] == "INT8"]["decode speed-up"].iloc[0]),
              "q_int8_decode": float(qa.loc["INT8", "decode speed-up"]), "q_int4_decode": float(qa.loc["INT4", "decode speed-up"]),
              "q_int8_prefill": float(qa.loc["INT8", "prefill speed-up"]),
              "q_int4_prefill": float(qa.loc["INT4", "prefill speed-up"]),
              "q_bf16_gb": float(qa.loc["BF16", "weights (GB)"]), "q_int4_gb": float(qa.loc["INT4", "weights (GB)"]),
              "q8_ppl_hi": 100 * (q8b.high - 1), "q4_ppl_lo": 100 * (q4b.low - 1), "q4_ppl_hi": 100 * (q4b.high - 1),
              "fp8_acc_lo": 100 * (1 - fp8a.high), "fp8_acc_hi": 100 * (1 - fp8a.low),
              "q_h100_fp8_prefill": float(h.loc["FP8", "prefill speed-up"])}
    key = ("GPU", "weights", "KV cache")
    shown = quant[[*key, "fits", "decode speed-up", "prefill speed-up", "decode (ms per token)", "weights (GB)",
                   "serving memory (GB)", "quality cost (published range)"]]
    fmt = {c: "{:.2f}" for c in ("decode speed-up", "prefill speed-up")}
    return Exhibits(values, {"tbl-opt-quant": Table(shown, formats=fmt, key=key, max_columns=7)})


def edge_backtest() -> Exhibits:
    """Exhibit: predicted against measured llama.cpp decode speed on CPUs, laptops and small GPUs."""
    eb = oc.edge_decode_backtest()
    show = eb[["model", "device", "format", "error", "predicted_tok_s", "measured_tok_s", "bandwidth_ceiling_tok_s"]].assign(
        model=eb["model"].map(lambda m: get_model(m).name), device=eb["device"].map(lambda d: get_device(d).name))
    values = {"edge_mae": float(eb["error"].abs().mean()), "edge_share_lo": float(eb["share_of_ceiling"].min()),
              "edge_share_hi": float(eb["share_of_ceiling"].max())}
    return Exhibits(values, {"tbl-opt-edge": Table(show, percent=("error",), key=("model", "device", "format"))})


def quantization_html(model: str, gpu: str, precision: str) -> str:
    """The quantization widget's result for one model, GPU and format, as HTML."""
    try:
        q = oc.quantization_effect(model, gpu, precision, batch=tech.REFERENCE_BATCH)
    except CostlibError as exc:
        return f"<b>Input error:</b> {exc}"
    fit = "fits" if q.fits else "does NOT fit"
    return (f"{q.model} at {precision} on {q.gpu}: weights <b>{q.weights_gb:.1f} GB</b> (bf16 {q.baseline_weights_gb:.1f}); "
            f"serving memory {q.memory_gb:.1f} GB ({fit}); decode <b>{q.decode_speedup:.2f}x</b>, prefill "
            f"<b>{q.prefill_speedup:.2f}x</b> vs bf16 at batch {tech.REFERENCE_BATCH}; quality: {quality_text(q)}")


def quantization_cell(model: str, gpu: str, precision: str) -> dict:
    """One cell of the quantization explorer."""
    q = oc.quantization_effect(model, gpu, precision, batch=tech.REFERENCE_BATCH)
    return {"weights": q.weights_gb, "bf16": q.baseline_weights_gb, "memory": q.memory_gb, "fits": q.fits,
            "decode": q.decode_speedup, "prefill": q.prefill_speedup, "quality": quality_text(q)}


def quantization_widget():
    """The live ipywidget of the quantization section."""
    import ipywidgets as w  # on demand: only a live notebook builds widgets
    from costlib.present.exhibits import live_widget

    return live_widget(quantization_html, {
        "model": w.Dropdown(options=list(QUANT_MODELS), value=QUANT_MODELS[0], description="model"),
        "gpu": w.Dropdown(options=list(QUANT_WIDGET_GPUS), value=QUANT_WIDGET_GPUS[0], description="GPU"),
        "precision": w.Dropdown(options=list(QUANT_FORMATS), value="int8", description="precision")})


def quantization_explorer():
    """The kernel-free quantization explorer (models x GPUs x formats)."""
    return static_explorer(
        "Quantization: memory, speed and published quality cost",
        inputs={"model": list(QUANT_MODELS), "gpu": list(QUANT_WIDGET_GPUS), "precision": list(QUANT_FORMATS)},
        compute=quantization_cell,
        fmt={"weights": ",.1f| GB", "bf16": ",.1f| GB", "memory": ",.1f| GB", "decode": ".2f|x", "prefill": ".2f|x"},
        labels={"gpu": "GPU", "precision": "weights format", "weights": "weights", "bf16": "weights in bf16",
                "memory": "serving memory", "fits": "fits on one GPU", "decode": "decode speed-up vs bf16",
                "prefill": "prefill speed-up vs bf16", "quality": "quality cost"},
        default={"model": QUANT_MODELS[0], "gpu": QUANT_WIDGET_GPUS[0], "precision": "int8"},
        note=f"Batch {tech.REFERENCE_BATCH}; step times from the inference module's roofline at its calibrated mid "
             "efficiencies.")


def quantization_defaults() -> Exhibits:
    return Exhibits({"quant_widget_default": _plain(quantization_html(QUANT_MODELS[0], QUANT_WIDGET_GPUS[0], "int8"))})


# ------------------------------------------------------------------------------------------------ LoRA
def finetune_frame() -> pd.DataFrame:
    """Full fine-tuning, LoRA and QLoRA of the reference model on the reference fine-tuning set."""
    return oc.finetune_comparison(tech.REFERENCE_MODEL, tech.REFERENCE_FINETUNE_TOKENS, tech.REFERENCE_GPU)


def lora() -> Exhibits:
    """Exhibit: full fine-tuning against LoRA and QLoRA [4] (compute, GPU-hours, memory, cost)."""
    ft = finetune_frame()
    fi = ft.set_index("method")
    model = get_model(tech.REFERENCE_MODEL)
    values = {"ft_tokens_m": tech.REFERENCE_FINETUNE_TOKENS / 1e6,
              "lora_flops_red": float(fi.loc["lora", "flops_reduction"]),
              "lora_params_share": float(fi.loc["lora", "trainable_params"] / fi.loc["full", "trainable_params"]),
              "lora_mem_red": float(fi.loc["lora", "memory_reduction"]),
              "qlora_mem_red": float(fi.loc["qlora", "memory_reduction"]),
              "qlora_hours_red": float(fi.loc["qlora", "gpu_hours_reduction"]),
              "lora_hours_red": float(fi.loc["lora", "gpu_hours_reduction"]),
              "full_gpus": int(fi.loc["full", "gpus"]), "full_cost": float(fi.loc["full", "cost_usd"]),
              "lora_cost": float(fi.loc["lora", "cost_usd"]),
              "lora_vs_pretrain": 1 - float(fi.loc["lora", "flops"]) / (6 * model.active_params * tech.REFERENCE_PRETRAIN_TOKENS),
              "lora_paper_speed": opt.evidence_value("lora-gpt3-speed"), "lora_paper_mem": opt.evidence_value("lora-gpt3-memory"),
              "lora_rank": _lora_rank(), "pretrain_tokens_t": tech.REFERENCE_PRETRAIN_TOKENS / 1e12}
    show = ft.assign(trainable_params=ft["trainable_params"] / 1e6,
                     method=ft["method"].map({"full": "full fine-tune", "lora": "LoRA", "qlora": "QLoRA"}).fillna(ft["method"]))
    show = show.rename(columns={"trainable_params": "trainable parameters (millions)", "flops": "FLOPs", "gpus": "GPUs"})
    cols = ["method", "cost_usd", "gpu_hours_reduction", "flops_reduction", "memory_reduction",
            *[c for c in show.columns if c not in ("method", "cost_usd", "gpu_hours_reduction", "flops_reduction",
                                                   "memory_reduction")]]
    return Exhibits(values, {"tbl-opt-lora": Table(show[cols], percent=("flops_reduction", "gpu_hours_reduction", "memory_reduction"),
                                               formats={"FLOPs": "{:.2e}"})})


# ------------------------------------------------------------------------------------------------ distillation
def distillation_case(teacher: str = tech.REFERENCE_LARGE_API, student: str = tech.REFERENCE_DISTILL_STUDENT,
                      examples: int = tech.REFERENCE_DISTILL_EXAMPLES):
    """Distilling an API teacher into a student served on the reference GPU at the reference request."""
    return oc.distillation_case(teacher_api=teacher, student_model=student, student_gpu=tech.REFERENCE_GPU,
                                examples=examples, prompt_tokens=P, output_tokens=O, student_batch=tech.REFERENCE_BATCH)


def distillation() -> Exhibits:
    """Exhibit: the reference distillation case (up-front cost, cost per 1,000 requests, break-even)."""
    d = distillation_case()
    db = opt.evidence_row("distilbert")
    values = {"dist_teacher": get_api_price(tech.REFERENCE_LARGE_API).model,
              "dist_student": get_model(tech.REFERENCE_DISTILL_STUDENT).name, "dist_examples": tech.REFERENCE_DISTILL_EXAMPLES,
              "dist_gen": d.teacher_generation_usd, "dist_train": d.student_training_usd,
              "dist_teacher_req": d.teacher_usd_per_request * 1000, "dist_student_req": d.student_usd_per_request * 1000,
              "dist_be": d.break_even_requests, "dist_be_days": d.break_even_requests / tech.REFERENCE_REQUESTS_PER_DAY,
              "llama32_logit_hours": opt.evidence_value("llama32-logits"),
              "distilbert_size": db["inputs"]["size_reduction"], "distilbert_faster": db["value"] - 1,
              "distilbert_quality": db["inputs"]["quality_retained"]}
    df = pd.DataFrame([("teacher writes the data (USD)", d.teacher_generation_usd),
                       ("student training (USD)", d.student_training_usd),
                       ("teacher, per 1,000 requests (USD)", 1000 * d.teacher_usd_per_request),
                       ("student, per 1,000 requests (USD)", 1000 * d.student_usd_per_request),
                       ("break-even (requests)", round(d.break_even_requests))], columns=["item", "value"])
    return Exhibits(values, {"tbl-opt-distill": Table(df, formats={"value": "{:,.2f}"})})


def distillation_html(teacher: str, student: str, examples: int) -> str:
    """The distillation widget's result, as HTML."""
    try:
        dd = distillation_case(teacher, student, examples)
        be = dd.break_even_requests
    except CostlibError as exc:
        return f"<b>No break-even:</b> {exc}"
    return (f"up-front <b>${dd.upfront_usd:,.0f}</b> (teacher ${dd.teacher_generation_usd:,.0f} + training "
            f"${dd.student_training_usd:,.0f}); per 1,000 requests ${1000 * dd.teacher_usd_per_request:.2f} → "
            f"${1000 * dd.student_usd_per_request:.3f}; break-even after <b>{be:,.0f}</b> requests "
            f"({be / tech.REFERENCE_REQUESTS_PER_DAY:.1f} days at {tech.REFERENCE_REQUESTS_PER_DAY:,}/day)")


def distillation_cell(teacher: str, student: str, examples: int) -> dict:
    """One cell of the distillation explorer."""
    dd = distillation_case(teacher, student, examples)
    be = dd.break_even_requests
    return {"upfront": dd.upfront_usd, "teacher_1k": 1000 * dd.teacher_usd_per_request,
            "student_1k": 1000 * dd.student_usd_per_request, "be": be, "be_days": be / tech.REFERENCE_REQUESTS_PER_DAY}


def distillation_widget():
    """The live ipywidget of the distillation section."""
    import ipywidgets as w  # on demand: only a live notebook builds widgets
    from costlib.present.exhibits import live_widget

    return live_widget(distillation_html, {
        "teacher": w.Dropdown(options=[(get_api_price(a).model, a) for a in DIST_TEACHERS], value=DIST_TEACHERS[0],
                              description="teacher"),
        "student": w.Dropdown(options=[(get_model(m).name, m) for m in DIST_STUDENTS], value=tech.REFERENCE_DISTILL_STUDENT,
                              description="student"),
        "examples": w.IntSlider(value=tech.REFERENCE_DISTILL_EXAMPLES, min=1_000, max=500_000, step=1_000,
                                description="examples")})


def distillation_explorer():
    """The kernel-free distillation explorer (teachers x students x numbers of examples)."""
    return static_explorer(
        "Distillation: up-front cost and break-even",
        inputs={"teacher": list(DIST_TEACHERS), "student": list(DIST_STUDENTS), "examples": list(DIST_EXAMPLES)},
        compute=distillation_cell,
        fmt={"upfront": "$,.0f", "teacher_1k": "$,.2f", "student_1k": "$,.3f", "be": ",.0f", "be_days": ",.1f"},
        labels={"teacher": "teacher (API)", "student": "student", "examples": "teacher-written examples",
                "upfront": "up-front (teacher + training)", "teacher_1k": "teacher, per 1,000 requests",
                "student_1k": "student, per 1,000 requests", "be": "break-even (requests)",
                "be_days": f"break-even (days at {tech.REFERENCE_REQUESTS_PER_DAY:,} a day)"},
        default={"teacher": DIST_TEACHERS[0], "student": tech.REFERENCE_DISTILL_STUDENT,
                 "examples": tech.REFERENCE_DISTILL_EXAMPLES},
        input_fmt={"examples": ",.0f", "teacher": lambda a: get_api_price(a).model, "student": lambda m: get_model(m).name},
        note=f"Student fully fine-tuned and served on the reference GPU ({tech.REFERENCE_GPU}) at batch "
             f"{tech.REFERENCE_BATCH}; {P:,} prompt + {O:,} output tokens per request.")


def distillation_defaults() -> Exhibits:
    return Exhibits({"dist_widget_default": _plain(distillation_html(DIST_TEACHERS[0], tech.REFERENCE_DISTILL_STUDENT,
                                                                  tech.REFERENCE_DISTILL_EXAMPLES))})


# ------------------------------------------------------------------------------------------------ tokens
def token_reduction() -> Exhibits:
    """Exhibit: token pruning, prompt compression and RAG, self-hosted and on two API tiers."""
    cases = [
        ("token pruning", P, dict(technique="token_pruning", pruned_share=tech.REFERENCE_PRUNED_SHARE)),
        ("prompt compression", P, dict(technique="prompt_compression", ratio=tech.REFERENCE_COMPRESSION_RATIO)),
        ("RAG instead of pasting files", tech.REFERENCE_FULL_CONTEXT_TOKENS,
         dict(technique="rag", retrieved_chunks=tech.REFERENCE_RAG_CHUNKS, chunk_tokens=tech.REFERENCE_RAG_CHUNK_TOKENS,
              query_tokens=tech.REFERENCE_RAG_QUERY_TOKENS)),
    ]
    large = f"{get_api_price(tech.REFERENCE_LARGE_API).model} saving"
    small = f"{get_api_price(SMALL_API).model} saving"
    rows = []
    for name, before, kw in cases:
        kept = int(opt.kept_prompt_tokens(before, **kw))
        self_before = oc.serving_cost(tech.reference_setup(prompt_tokens=before))["usd_per_request"]
        self_after = oc.serving_cost(tech.reference_setup(prompt_tokens=kept))["usd_per_request"]
        rows.append({"technique": name, "self-hosted saving": opt.saving_share(self_before, self_after),
                     small: opt.token_reduction_api(before, O, SMALL_API, **kw).usd_saving_share,
                     large: opt.token_reduction_api(before, O, tech.REFERENCE_LARGE_API, **kw).usd_saving_share,
                     "prompt before (tokens)": before, "prompt after (tokens)": kept})
    tok = pd.DataFrame(rows)
    values = {"tok_compress_self": float(tok.loc[1, "self-hosted saving"]), "tok_compress_4o": float(tok.loc[1, large]),
              "tok_rag_self": float(tok.loc[2, "self-hosted saving"]), "llmlingua_max": opt.evidence_value("llmlingua-20x"),
              "tok_prune": tech.REFERENCE_PRUNED_SHARE, "tok_ratio": tech.REFERENCE_COMPRESSION_RATIO,
              "rag_chunks": tech.REFERENCE_RAG_CHUNKS, "rag_chunk_tokens": tech.REFERENCE_RAG_CHUNK_TOKENS,
              "rag_query": tech.REFERENCE_RAG_QUERY_TOKENS, "rag_full": tech.REFERENCE_FULL_CONTEXT_TOKENS}
    return Exhibits(values, {"tbl-opt-tokens": Table(tok, percent=("self-hosted saving", small, large))})


# ------------------------------------------------------------------------------------------------ batching
def batching() -> Exhibits:
    """Exhibit: static-batch utilization (1/H_B) and the gain of continuous batching."""
    bs = np.array(STATIC_BATCHES)
    util = opt.static_batch_utilization(bs)
    df = pd.DataFrame({"slots in the batch": bs, "static batch: useful share": util, "continuous batching gain (x)": 1 / util})
    values = {"static_util_16": float(opt.static_batch_utilization(16)), "cont_gain_16": float(opt.continuous_batching_gain(16)),
              "cont_gain_64": float(opt.continuous_batching_gain(64)), "cont_b_big": 64,
              "vllm_vs_hf": opt.evidence_value("vllm-vs-hf"), "anyscale_gain": opt.evidence_value("anyscale-continuous"),
              "batch_discount": opt.evidence_value("batch-api-openai")}
    return Exhibits(values, {"tbl-opt-batching": Table(df, percent=("static batch: useful share",),
                                                   formats={"continuous batching gain (x)": "{:.2f}"})})


# ------------------------------------------------------------------------------------------------ routing
def reference_costs() -> tuple[float, float]:
    """(self-hosted reference model, large API) cost of one reference request in USD."""
    small = oc.serving_cost(tech.reference_setup())["usd_per_request"]
    large = float(get_api_price(tech.REFERENCE_LARGE_API).cost_usd(P, O))
    return small, large


def routing_table() -> Exhibits:
    """Exhibit: routing shares between the self-hosted reference model and the large API."""
    small, large = reference_costs()
    shares = np.array(ROUTING_SHARES)
    hyb = routing.hybrid_cost_per_request(shares, small, large, escalation_rate=tech.REFERENCE_ESCALATION)
    df = pd.DataFrame({"share to the small model": shares, "saving vs the large model only": [opt.saving_share(large, h) for h in hyb],
                       "USD per 1,000 requests": 1000 * hyb})
    ref = routing.hybrid_cost_per_request(tech.REFERENCE_SMALL_SHARE, small, large, escalation_rate=tech.REFERENCE_ESCALATION)
    mt = opt.evidence_row("routellm-mtbench")
    values = {"route_share": tech.REFERENCE_SMALL_SHARE, "route_esc": tech.REFERENCE_ESCALATION,
              "route_saving": float(opt.saving_share(large, ref)), "route_large_1k": 1000 * large,
              "routellm_mt": opt.evidence_value("routellm-mtbench"), "routellm_gsm": opt.evidence_value("routellm-gsm8k"),
              "routellm_quality": mt["inputs"]["quality_share_of_gpt4"]}
    return Exhibits(values, {"tbl-opt-routing": Table(df, percent=("share to the small model", "saving vs the large model only"),
                                                  formats={"USD per 1,000 requests": "{:,.2f}"})})


# ------------------------------------------------------------------------------------------------ CPU / edge / task
def cpu_edge_task() -> Exhibits:
    """Values of the CPU-inference, edge and task-specific fine-tuning section."""
    cpu = oc.cpu_break_even_usd_per_hour(tech.REFERENCE_MODEL, tech.REFERENCE_CPU, tech.REFERENCE_GPU, "int4",
                                         gpu_batch=tech.REFERENCE_BATCH, prompt_tokens=P, output_tokens=O)
    edge = inf.estimate_inference(tech.REFERENCE_MODEL, tech.REFERENCE_EDGE, "int4", 1, P, O, engine="llama.cpp",
                                  price_usd_per_gpu_hour=1.0)
    tf_cost = float(finetune_frame().set_index("method").loc["lora", "cost_usd"])
    before = oc.serving_cost(tech.reference_setup())["usd_per_request"]
    after = oc.serving_cost(tech.reference_setup(prompt_tokens=P - tech.REFERENCE_FEWSHOT_TOKENS))["usd_per_request"]
    return Exhibits({"cpu_name": get_device(tech.REFERENCE_CPU).name, "cpu_tps": cpu["cpu_tokens_per_s"],
                 "gpu_tps": cpu["gpu_tokens_per_s"], "cpu_be": cpu["cpu_break_even_usd_per_hour"], "cpu_ttft": cpu["cpu_ttft_s"],
                 "edge_name": get_device(tech.REFERENCE_EDGE).name, "edge_tps": edge.tokens_per_s_per_sequence.mid,
                 "edge_ttft": edge.ttft_s.mid, "tf_fewshot": tech.REFERENCE_FEWSHOT_TOKENS,
                 "tf_saving": float(opt.saving_share(before, after)), "tf_cost": tf_cost,
                 "tf_be": float(opt.distillation_break_even(tf_cost, before, after)),
                 "lora_land": opt.evidence_value("lora-land"),
                 "lora_land_tasks": int(opt.evidence_row("lora-land")["inputs"]["tasks"])})


# ------------------------------------------------------------------------------------------------ seeds' tables
def seed_tables() -> Exhibits:
    """Exhibits: the seeds' technique tables computed (verdict first), and the basis of each row (long table)."""
    tt = tech.technique_table()
    show = pd.DataFrame({
        "technique": tt["technique"], "verdict": tt["verdict"], "training": tt["training_change"],
        "inference": tt["inference_change"], "one-off (USD)": tt["one_off_usd"],
        "seed 000 (as printed; ↓ = cheaper)": tt["seed_000"].map(seed_arrows), "seed 001 section": tt["seed_001"]})
    basis = pd.DataFrame({"technique": tt["technique"], "basis (assumptions)": tt["basis"],
                          "published evidence [catalog id]": tt["evidence"], "sources": tt["sources"]})
    ti = tt.set_index("technique")
    values = {"tt_spec": float(ti.loc["Speculative decoding", "inference_change"]),
              "tt_cont": float(ti.loc["Continuous batching", "inference_change"]),
              "tt_fa_train": float(ti.loc["FlashAttention", "training_change"]),
              "tt_fa_inf": float(ti.loc["FlashAttention", "inference_change"]),
              "tt_q8": float(ti.loc["Quantization INT8", "inference_change"]),
              "tt_prefix": float(ti.loc["KV cache reuse (prefix caching)", "inference_change"]),
              "tt_dist_upfront": float(ti.loc["Distillation", "one_off_usd"]), "tt_n": len(tt)}
    return Exhibits(values, {"tbl-opt-seeds": Table(show, percent=("training", "inference"), integer=("one-off (USD)",)),
                         "tbl-opt-seeds-basis": Table(basis, css={"sources": WRAP})})


# ------------------------------------------------------------------------------------------------ waterfall
def waterfall_figure(wf: pd.DataFrame):
    """The waterfall of the stacked techniques, sized for the text column (every text >= 10 px as shown)."""
    fig, ax = exhibit_figure(width_in=7.3, aspect=0.55)
    fs = figure_style(7.3)["xtick.labelsize"]
    prev = wf["usd_per_1k_requests"].iloc[0]
    ax.bar(0, prev, color="#555555")
    ax.text(0, prev, f"${prev:.3f}", ha="center", va="bottom", fontsize=fs)
    for i in range(1, len(wf)):
        cur = wf["usd_per_1k_requests"].iloc[i]
        ax.bar(i, prev - cur, bottom=cur, color="#2a9d8f")
        ax.text(i, prev, f"−{100 * wf['step_saving'].iloc[i]:.0f}%", ha="center", va="bottom", fontsize=fs)
        prev = cur
    ax.bar(len(wf), prev, color="#264653")
    ax.text(len(wf), prev, f"${prev:.3f}", ha="center", va="bottom", fontsize=fs)
    ax.set_xticks(range(len(wf) + 1))
    ax.set_xticklabels(list(wf["step"]) + ["result"], rotation=25, ha="right", fontsize=fs)
    ax.set_ylabel("USD per 1,000 requests")
    ax.set_title("Techniques stacked on the reference workload (bar = saving in the stack)")
    fig.tight_layout()
    return fig


def waterfall() -> Exhibits:
    """Exhibits: the waterfall figure and its table, and how stacking differs from multiplying the savings."""
    wf = tech.reference_waterfall()
    w = wf.set_index("step")
    compress = wf["step"].iloc[4]
    prod = 1 - np.prod(1 - wf["alone_saving"].to_numpy()[1:])
    end = float(wf["cumulative_saving"].iloc[-1])

    def direction(step):
        return "larger" if float(w.loc[step, "step_saving"]) > float(w.loc[step, "alone_saving"]) else "smaller"

    values = {"wf_start": float(wf["usd_per_1k_requests"].iloc[0]), "wf_end": float(wf["usd_per_1k_requests"].iloc[-1]),
              "wf_total": end, "wf_compress_alone": float(w.loc[compress, "alone_saving"]),
              "wf_compress_stack": float(w.loc[compress, "step_saving"]),
              "wf_spec_alone": float(w.loc["speculative decoding", "alone_saving"]),
              "wf_spec_stack": float(w.loc["speculative decoding", "step_saving"]),
              "wf_int8_alone": float(w.loc["INT8 weights", "alone_saving"]),
              "wf_int8_stack": float(w.loc["INT8 weights", "step_saving"]), "wf_product": float(prod),
              "wf_steps": len(wf) - 1, "wf_gap_pp": 100 * (end - float(prod)),
              "wf_compress_dir": direction(compress), "wf_spec_dir": direction("speculative decoding")}
    fig = waterfall_figure(wf)
    if small_text(fig):
        raise AssertionError(f"waterfall texts below the minimum size: {small_text(fig)}")
    return Exhibits(values, {"tbl-opt-waterfall": Table(wf, percent=("step_saving", "alone_saving", "cumulative_saving"),
                                                    formats={"usd_per_1k_requests": "{:.4f}"})},
                {"fig-opt-waterfall": fig})


# ------------------------------------------------------------------------------------------------ worked problems
def worked_problems() -> Exhibits:
    """The solutions of the chapter's three worked problems, computed."""
    s = oc.speculative_on_gpu(tech.REFERENCE_MODEL, tech.REFERENCE_DRAFT, tech.REFERENCE_GPU, "bf16", WORKED_BATCH,
                              P + O / 2, tech.REFERENCE_ALPHA, tech.REFERENCE_GAMMA)
    answer = ("No: at this batch it makes decoding slower" if s["speedup"] < 1 else
              "Hardly: the gain is small" if s["speedup"] < 1.1 else "Yes, but less than at the reference batch")
    small, large = reference_costs()
    hyb = float(routing.hybrid_cost_per_request(WORKED_SHARE, small, large, escalation_rate=WORKED_ESCALATION))
    gain = float(opt.continuous_batching_gain(WORKED_SLOTS))
    return Exhibits({"p1_batch": WORKED_BATCH, "p1_speedup": float(s["speedup"]), "p1_c": float(s["c"]),
                 "p1_verify": float(s["verify_time_ratio"]), "p1_theorem": float(s["speedup_theorem_3_8"]),
                 "p1_answer": answer, "p2_slots": WORKED_SLOTS,
                 "p2_util": float(opt.static_batch_utilization(WORKED_SLOTS)), "p2_gain": gain, "p2_fleet": WORKED_FLEET,
                 "p2_fleet_after": float(np.ceil(WORKED_FLEET / gain)), "p3_share": WORKED_SHARE,
                 "p3_esc": WORKED_ESCALATION, "p3_small_1k": 1000 * small, "p3_large_1k": 1000 * large,
                 "p3_hybrid_1k": 1000 * hyb, "p3_saving": float(opt.saving_share(large, hyb))})


# ------------------------------------------------------------------------------------------------ assumptions
def _dates(dates) -> str:
    lo, hi = min(dates), max(dates)
    return str(lo) if lo == hi else f"{lo} to {hi}"


def assumptions() -> Exhibits:
    """Exhibit: every input of the chapter with its value, source and date."""
    price = gpu_price_band(tech.REFERENCE_GPU)
    rows = []
    for mid in (tech.REFERENCE_MODEL, tech.REFERENCE_DRAFT, tech.REFERENCE_DISTILL_STUDENT):
        m = get_model(mid)
        rows.append((f"model {m.name}", f"{m.total_params / 1e9:.2f}B parameters, {m.layers} layers, {m.kv_heads} KV heads",
                     m.source, m.as_of))
    for did in (tech.REFERENCE_GPU, tech.REFERENCE_CPU, tech.REFERENCE_EDGE):
        dv = get_device(did)
        rows.append((f"device {dv.name}", f"{dv.memory_gib:g} GiB, {dv.bandwidth_gb_s:,.0f} GB/s", dv.source, dv.as_of))
    rows.append((f"{get_device(tech.REFERENCE_GPU).name} price (low / mid / high)",
                 f"${price.low:.2f} / ${price.mid:.2f} / ${price.high:.2f} per GPU-hour",
                 "costlib/data/prices.csv (on-demand offers)", _dates([o.as_of for o in prices_for(tech.REFERENCE_GPU)])))
    for aid in (tech.REFERENCE_LARGE_API, SMALL_API):
        a = get_api_price(aid)
        rows.append((f"API price {a.model}", f"${a.input_usd_per_1m:g} input / ${a.output_usd_per_1m:g} output per 1M tokens",
                     a.source, a.as_of))
    rows += [
        ("request", f"{P:,} prompt + {O:,} output tokens", BOOK, "-"),
        ("volume", f"{tech.REFERENCE_REQUESTS_PER_DAY:,} requests a day", BOOK, "-"),
        ("batch", f"{tech.REFERENCE_BATCH} concurrent sequences", BOOK, "-"),
        ("online utilization", f"{tech.REFERENCE_ONLINE_UTILIZATION:.0%} of paid GPU-hours busy", BOOK, "-"),
        ("speculative decoding", f"α = {tech.REFERENCE_ALPHA}, γ = {tech.REFERENCE_GAMMA}, draft {tech.REFERENCE_DRAFT}",
         BOOK + f"; α inside Leviathan et al. 2023's {tech.LEVIATHAN_ALPHA_RANGE[0]}-{tech.LEVIATHAN_ALPHA_RANGE[1]}", "2023"),
        ("token pruning", f"{tech.REFERENCE_PRUNED_SHARE:.0%} of prompt tokens dropped", BOOK, "-"),
        ("prompt compression", f"{tech.REFERENCE_COMPRESSION_RATIO:g}x", BOOK, "-"),
        ("RAG", f"{tech.REFERENCE_RAG_CHUNKS} chunks x {tech.REFERENCE_RAG_CHUNK_TOKENS} + {tech.REFERENCE_RAG_QUERY_TOKENS} "
                f"query tokens instead of {tech.REFERENCE_FULL_CONTEXT_TOKENS:,}", BOOK, "-"),
        ("shared prefix (prefix caching)", f"{tech.REFERENCE_SHARED_PREFIX_TOKENS:,} prompt tokens", BOOK, "-"),
        ("task-specific fine-tune", f"removes {tech.REFERENCE_FEWSHOT_TOKENS:,} prompt tokens", BOOK, "-"),
        ("fine-tuning set", f"{tech.REFERENCE_FINETUNE_TOKENS / 1e6:g}M tokens, LoRA rank {_lora_rank()}", BOOK, "-"),
        ("routing", f"{tech.REFERENCE_SMALL_SHARE:.0%} to the small model, {tech.REFERENCE_ESCALATION:.0%} escalate to "
                    f"{tech.REFERENCE_LARGE_API}", BOOK, "-"),
        ("distillation", f"{tech.REFERENCE_DISTILL_EXAMPLES:,} teacher replies from {tech.REFERENCE_LARGE_API}, student "
                         f"{tech.REFERENCE_DISTILL_STUDENT}", BOOK, "-"),
        ("pre-training example", f"{tech.REFERENCE_PRETRAIN_TOKENS / 1e12:g}T tokens",
         "seed 000 (Example Training Cost Comparison)", "-"),
        ("static batching", "exponential output lengths; continuous batching at utilization 1", BOOK, "-"),
    ]
    qev = opt.technique_evidence("quantization")
    for prec in opt.QUALITY_PRECISIONS:
        for metric in opt.QUALITY_METRICS:
            b = opt.quantization_quality(prec, metric)
            if b is not None:
                ev = qev[qev["metric"] == metric]
                rows.append((f"{prec.upper()} quality ({metric.replace('_', ' ')})", f"{b.low:.4f} to {b.high:.4f}",
                             "; ".join(sorted(set(ev["source"]))), _dates(list(ev["as_of"]))))
    for eid in ("flash-decoding", "lora-gpt3-speed", "lora-gpt3-memory", "distilbert", "llama32-logits", "llmlingua-20x",
                "vllm-vs-hf", "anyscale-continuous", "batch-api-openai", "routellm-gsm8k", "routellm-mtbench", "lora-land"):
        e = opt.evidence_row(eid)
        rows.append((f"published: {eid}", f"{e['value']:,g} {e['unit']} ({e['metric'].replace('_', ' ')})",
                     e["source"], e["as_of"]))
    df = pd.DataFrame(rows, columns=["input", "value", "source", "as of"])
    return Exhibits({"assump_n": len(df)}, {"tbl-opt-assumptions": Table(df, css={"source": WRAP, "as of": {"white-space": "nowrap"}})})
