"""Chapter 2 (hardware and models): every exhibit of the chapter as a :class:`~costlib.present.exhibits.Exhibits`.

The catalogs (hardware, models, GPU and API prices) and the roofline are costlib's physics; this module picks the
chapter's rows and columns, its worked examples and its figure, so the notebook shows each exhibit with
``publish(hardware_chapter.<exhibit>())``.

References: [1] Williams, Waterman, Patterson 2009, "Roofline: an insightful visual performance model".
[2] NVIDIA A100 and H100 datasheets (dense and "with sparsity" peaks; rows of costlib/data/hardware.csv).
[3] NVIDIA's published Llama-2-7B A100 run (batch 60, 128 + 2,048 tokens, FP16), the worked problem 1.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from costlib import hardware, memory, models, prices, roofline
from costlib.errors import CostlibError
from costlib.inference import flops_per_token
from costlib.memory import inference_memory
from costlib.present.exhibits import Exhibits, Table
from costlib.present.explore import static_explorer
from costlib.present.report import exhibit_figure, figure_style, small_text
from costlib.units import GB, TERA

PLACEMENT_MODEL = "llama-2-7b"
PLACEMENT_CONTEXT = 1000
PLACEMENT_BATCHES = (1, 16, 128)
"""Book choice: Llama-2-7B decode at batch 1, 16 and 128 and a 1,000-token prefill, BF16 weights and KV cache."""
ROOF_DEVICES = ("t4", "l4", "rtx-5090", "a100-80gb", "h100-sxm", "h200", "b300", "mi355x", "gaudi3", "tpu-v6e",
                "m4-max", "epyc-9654")
"""The devices drawn in the roofline figure: a 2019 T4 to 2025 accelerators, a laptop and a server CPU."""
KV_MODELS = ("llama-3.1-8b", "qwen3-8b", "gemma-3-27b", "gpt-oss-20b", "gpt-oss-120b", "qwen3-30b-a3b",
             "llama-4-scout", "deepseek-v3.1")
LONG_CONTEXT = 131072
WIDGET_PARAMS = 7e9
"""Book choice: the widget's and explorer's model has 7 billion parameters."""
PRECISIONS = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4")
PEAK_COLUMNS = {"fp32_tflops": "FP32", "bf16_tflops": "BF16", "fp16_tflops": "FP16", "fp8_tflops": "FP8",
                "int8_tflops": "INT8 (TOPS)", "fp4_tflops": "FP4"}
WORKED_FIT = dict(model="llama-2-7b", precision="fp16", prompt_tokens=128, output_tokens=2048, batch=60,
                  device="a100-80gb")
"""Worked problem 1: NVIDIA's published Llama-2-7B run on one A100-80GB [3]."""
WORKED_MOE = dict(model="gpt-oss-120b", precision="fp8", devices=("h100-sxm", "rtx-pro-6000"))
"""Worked problem 2: gpt-oss-120b's active parameters read at 8 bits per weight."""


def sixteen_bit(device) -> str:
    """A device's 16-bit precision: BF16, else FP16, else FP32."""
    return "bf16" if "bf16" in device.precisions else ("fp16" if "fp16" in device.precisions else "fp32")


def span(df: pd.DataFrame, col: str = "as_of") -> str:
    """'first to last' date of a catalog column."""
    return f"{df[col].min()} to {df[col].max()}"


def hardware_tables() -> Exhibits:
    """Exhibit: the hardware catalog (memory, bandwidth, dense peaks by precision), split into parts that fit the
    text column."""
    hw = hardware.device_table()
    a100 = hardware.get_device("a100-80gb")
    shown = hw[["name", "kind", "memory_gib", "memory_class", "bandwidth_gb_s", *PEAK_COLUMNS, "tdp_w", "as_of"]].rename(
        columns={k: f"{v} peak" for k, v in PEAK_COLUMNS.items()})
    shown["memory_class"] = shown["memory_class"].str.upper()
    values = {"n_devices": len(hw), "a100_bf16_dense": a100.peak_tflops("bf16"),
              "a100_bf16_sparse": a100.sparse_tflops_by_precision["bf16"], "a100_mem_gib": a100.memory_gib,
              "a100_mem_gb": a100.memory_gb, "n_fp4_devices": int(hw["fp4_tflops"].notna().sum()),
              "hw_dates": span(hw)}
    peaks = {f"{v} peak": "{:,.1f}" for v in PEAK_COLUMNS.values()}
    return Exhibits(values, {"tbl-hardware": Table(shown, integer=("memory_gib", "bandwidth_gb_s", "tdp_w"), formats=peaks,
                                               key=("name",), max_columns=7)})


def ridge_points() -> Exhibits:
    """Exhibit: each device's ridge point [1] at its 16-bit precision."""
    rows = []
    for d in hardware.devices().values():
        p = sixteen_bit(d)
        rows.append({"device": d.name, "precision": p.upper(), "peak_tflops": d.peak_tflops(p),
                     "bandwidth_gb_s": d.bandwidth_gb_s, "ridge_flop_per_byte": d.ridge_flops_per_byte(p)})
    values = {"a100_ridge": hardware.get_device("a100-80gb").ridge_flops_per_byte("bf16"),
              "h100_ridge": hardware.get_device("h100-sxm").ridge_flops_per_byte("bf16")}
    return Exhibits(values, {"tbl-ridge": Table(pd.DataFrame(rows), formats={"peak_tflops": "{:,.1f}",
                                                                         "ridge_flop_per_byte": "{:,.1f}"},
                                            integer=("bandwidth_gb_s",))})


def placement_rows() -> pd.DataFrame:
    """Arithmetic intensity of the placement workloads: FLOPs per step over bytes moved per step (weights once
    plus each sequence's KV cache)."""
    model = models.get_model(PLACEMENT_MODEL)
    rows = []
    work = [*((f"decode, batch {b}", b, 1) for b in PLACEMENT_BATCHES),
            (f"prefill, {PLACEMENT_CONTEXT:,} tokens", 1, PLACEMENT_CONTEXT)]
    for label, batch, tokens in work:
        flops = flops_per_token(model, PLACEMENT_CONTEXT) * batch * tokens
        moved = memory.weight_bytes(model.total_params, "bf16") + batch * memory.kv_cache_bytes(
            model, PLACEMENT_CONTEXT, 1, kv_precision="bf16")
        rows.append({"workload": label, "intensity_flop_per_byte": flops / moved, "batch": batch,
                     "tokens per step": tokens, "GFLOP per step": flops / 1e9, "GB moved per step": moved / GB})
    return pd.DataFrame(rows)


def placement() -> Exhibits:
    """Exhibit: where Llama-2-7B's decode and prefill fall on the roofline."""
    df = placement_rows()
    i = df.set_index("workload")["intensity_flop_per_byte"]
    b = PLACEMENT_BATCHES
    values = {"context_tokens": PLACEMENT_CONTEXT, "batches_shown": ", ".join(map(str, b[:-1])) + f" and {b[-1]}",
              "batches_all": ", ".join(map(str, b)),
              **{f"intensity_decode_{n}": float(i[f"decode, batch {n}"]) for n in b},
              f"intensity_prefill_{PLACEMENT_CONTEXT}": float(i[f"prefill, {PLACEMENT_CONTEXT:,} tokens"]),
              "a100_ridge_over_decode": hardware.get_device("a100-80gb").ridge_flops_per_byte("bf16")
              / float(i["decode, batch 1"])}
    return Exhibits(values, {"tbl-placement": Table(df, formats={"intensity_flop_per_byte": "{:,.2f}",
                                                             "GFLOP per step": "{:,.1f}", "GB moved per step": "{:,.2f}"})})


def roofline_figure():
    """The roofline [1] of :data:`ROOF_DEVICES` with the placement workloads, sized for the text column."""
    fig, ax = exhibit_figure(width_in=7.3, aspect=1.0)
    fs = figure_style(7.3)["legend.fontsize"]
    x = np.logspace(-1, 4, 200)
    import matplotlib  # on demand, as every figure of costlib.present.report

    colors = matplotlib.colormaps["tab20"](np.linspace(0, 1, len(ROOF_DEVICES)))
    for gid, color in zip(ROOF_DEVICES, colors):
        d = hardware.get_device(gid)
        p = sixteen_bit(d)
        ax.loglog(x, roofline.roofline_flops(d, p, x) / TERA, label=f"{d.name} ({p.upper()})", color=color)
        ax.plot([d.ridge_flops_per_byte(p)], [d.peak_tflops(p)], "k.", ms=4)
    for _, r in placement_rows().iterrows():
        ax.axvline(r["intensity_flop_per_byte"], color="grey", ls=":", lw=1)
        ax.text(r["intensity_flop_per_byte"] * 1.08, 0.15, r["workload"], rotation=90, fontsize=fs, va="bottom")
    ax.set_xlabel("arithmetic intensity (FLOP per byte)")
    ax.set_ylabel("attainable TFLOP/s (dense)")
    ax.set_ylim(0.1, 8000)
    # below the axes, so no device's roof hides behind it
    ax.legend(fontsize=fs, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def roofline_exhibit() -> Exhibits:
    fig = roofline_figure()
    if small_text(fig):
        raise AssertionError(f"roofline texts below the minimum size: {small_text(fig)}")
    return Exhibits(figures={"fig-roofline": fig})


def model_catalog() -> Exhibits:
    """Exhibit: the model catalog, computed parameters against the published count (error first), then the
    architecture, split into parts that fit the text column."""
    mt = models.model_table()
    mt = mt.assign(error_pct=(mt["total_params_b"] / mt["published_b"] - 1) * 100)
    shown = mt[["id", "error_pct", "total_params_b", "active_params_b", "published_b", "experts", "layers", "d_model",
                "heads", "kv_heads", "head_dim", "ffn", "vocab"]]
    three = {c: "{:,.3f}" for c in ("total_params_b", "active_params_b", "published_b")}
    values = {"n_models": len(mt), "max_param_error_pct": float(mt["error_pct"].abs().max()),
              "smallest_model_m": float(mt["total_params_b"].min() * 1000),
              "largest_model_b": float(mt["total_params_b"].max()), "model_dates": span(mt)}
    return Exhibits(values, {"tbl-models": Table(shown, formats={"error_pct": "{:+.2f}", **three}, max_columns=7)})


def kv_windows() -> Exhibits:
    """Exhibit: KV cache of 2024-2025 models with sliding, chunked or latent attention."""
    rows = []
    for mid in KV_MODELS:
        lay = memory.kv_layer_layout(mid)
        rows.append({"model": models.get_model(mid).name,
                     "layers full / windowed": f"{lay['full_layers']} / {lay['windowed_layers']}",
                     "window (tokens)": f"{lay['window']:,} {lay['window_kind']}" if lay["window"] else "",
                     "KB per token, short context": memory.kv_bytes_per_token(mid) / 1e3,
                     "KB per token past the window": memory.kv_bytes_per_token_beyond_window(mid) / 1e3,
                     f"GB at {LONG_CONTEXT:,} tokens": memory.kv_cache_bytes(mid, LONG_CONTEXT) / GB})
    g27 = models.get_model("gemma-3-27b")
    dense = models.replace_spec(g27, sliding_window=None, sliding_layers=None, window_kind=None)
    values = {"g27_kv_long_gb": memory.kv_cache_bytes(g27, LONG_CONTEXT) / GB,
              "g27_kv_nowindow_gb": memory.kv_cache_bytes(dense, LONG_CONTEXT) / GB,
              "ds_kv_bytes": memory.kv_bytes_per_token("deepseek-v3.1")}
    df = pd.DataFrame(rows)
    return Exhibits(values, {"tbl-kv-new": Table(df, formats={c: "{:,.1f}" for c in df.columns[3:5]}
                                             | {df.columns[5]: "{:,.2f}"})})


def gpu_prices() -> Exhibits:
    """Exhibits: every GPU rental offer, and the bands the book uses per GPU and kind."""
    pt = prices.price_table()
    pt = pt.assign(gpu=pt["gpu_id"].map(lambda g: hardware.get_device(g).name)).sort_values(
        ["gpu", "price_usd_per_gpu_hour"])
    offers = pt[["gpu", "price_usd_per_gpu_hour", "provider", "offer", "region", "as_of"]]
    rows = []
    for gid in sorted({p.gpu_id for p in prices.gpu_prices()}):
        for kind in ("on-demand", "spot"):
            found = prices.prices_for(gid, kind)
            if not found:
                continue
            b = prices.gpu_price_band(gid, kind)
            rows.append({"GPU": hardware.get_device(gid).name, "kind": kind, "mid (USD/h)": b.mid, "low (USD/h)": b.low,
                         "high (USD/h)": b.high, "offers": len(found), "oldest offer": min(o.as_of for o in found),
                         "providers": ", ".join(sorted({o.provider for o in found}))})
    bands = pd.DataFrame(rows)
    h100 = [p.price_usd_per_gpu_hour for p in prices.gpu_prices()
            if p.gpu_id == "h100-sxm" and p.offer in ("on-demand", "flex")]
    values = {"n_gpu_prices": len(pt), "price_dates": span(pt), "price_catalog_date": prices.catalog_date(),
              "price_window_months": prices.GPU_PRICE_WINDOW_MONTHS, "h100_old_high": max(h100),
              "h100_band_high": prices.gpu_price_band("h100-sxm").high}
    usd = {c: "{:.2f}" for c in ("mid (USD/h)", "low (USD/h)", "high (USD/h)")}
    return Exhibits(values, {"tbl-gpu-prices": Table(offers, formats={"price_usd_per_gpu_hour": "{:.3f}"}),
                         "tbl-gpu-bands": Table(bands, formats=usd, max_columns=8)})


def api_prices() -> Exhibits:
    """Exhibits: the current hosted-API offers by tier, and the retired ones."""
    full = prices.api_price_table()
    full = full.assign(price_since=full["price_since"].fillna("not dated in the package"))
    at = full.sort_values(["tier", "blended_usd_per_1m"])[
        ["model", "tier", "blended_usd_per_1m", "input_usd_per_1m", "output_usd_per_1m", "cached_input_usd_per_1m",
         "provider", "price_since", "as_of"]].rename(columns={"blended_usd_per_1m": "3:1 blend (USD per 1M tokens)",
                                                              "price_since": "price since"})
    old = prices.api_price_table(include_retired=True)
    old = old[old["status"] != "current"][["model", "status", "successor", "input_usd_per_1m", "output_usd_per_1m", "as_of"]]
    usd = {c: "{:,.3f}" for c in at.columns if "USD" in c or c.endswith("_1m")}
    values = {"n_api_retired": len(old), "n_api_prices": len(at), "api_dates": span(at),
              "genai_version": prices.genai_prices_version(), "api_price_date": prices.PRICE_DATE.isoformat()}
    return Exhibits(values, {"tbl-api-prices": Table(at, formats=usd, max_columns=6, key=("model", "tier")),
                         "tbl-api-retired": Table(old, formats={c: "{:,.3f}" for c in old.columns if c.endswith("_1m")})})


def floor_html(device: str, precision: str) -> str:
    """The widget's result: a device's peak, ridge point and the batch-1 decode floor of a 7B model, as HTML."""
    d = hardware.get_device(device)
    try:
        f = roofline.decode_floor(d, precision, WIDGET_PARAMS)
    except CostlibError as exc:
        return f"<b>{d.name}</b>: {exc}"
    return (f"<b>{d.name}</b> at {precision}: dense peak {f.peak_tflops:,.1f} TFLOP/s, bandwidth {f.bandwidth_gb_s:,.0f} "
            f"GB/s, ridge point {f.ridge_flops_per_byte:,.0f} FLOP/byte; reading {WIDGET_PARAMS / 1e9:.0f}B weights once "
            f"takes {f.weight_read_ms:,.2f} ms, so batch-1 decode is at most {f.max_batch1_tokens_per_s:,.0f} tokens/s.")


def floor_cell(device: str, precision: str) -> dict:
    """One cell of the device-and-precision explorer."""
    f = roofline.decode_floor(device, precision, WIDGET_PARAMS)
    return {"peak": f.peak_tflops, "bw": f.bandwidth_gb_s, "ridge": f.ridge_flops_per_byte,
            "read_ms": f.weight_read_ms, "tok_s": f.max_batch1_tokens_per_s}


def floor_widget():
    """The live ipywidget (device and precision dropdowns)."""
    import ipywidgets as w  # on demand: only a live notebook builds widgets
    from costlib.present.exhibits import live_widget

    return live_widget(floor_html, {
        "device": w.Dropdown(options=sorted(hardware.devices()), value="a100-80gb", description="device"),
        "precision": w.Dropdown(options=list(PRECISIONS), value="bf16", description="precision")})


def floor_explorer():
    """The kernel-free explorer over every device and precision."""
    return static_explorer(
        "Device and precision: peak, ridge point and the batch-1 decode floor of a 7B model",
        inputs={"device": sorted(hardware.devices()), "precision": list(PRECISIONS)},
        compute=floor_cell,
        fmt={"peak": ",.1f| TFLOP/s", "bw": ",.0f| GB/s", "ridge": ",.0f| FLOP/byte", "read_ms": ",.2f| ms",
             "tok_s": ",.0f| tokens/s"},
        labels={"peak": "dense peak", "bw": "memory bandwidth", "ridge": "ridge point",
                "read_ms": "one read of 7B weights", "tok_s": "batch-1 decode at most"},
        default={"device": "a100-80gb", "precision": "bf16"},
        note="Weights stored at the chosen precision (TF32: FP32 weights); a precision the device has no tensor-core "
             "path for shows the catalog's message.")


def floor_defaults() -> Exhibits:
    import re

    return Exhibits({"widget_params_b": WIDGET_PARAMS / 1e9,
                 "widget_default": re.sub("<[^>]+>", "", floor_html("a100-80gb", "bf16"))})


def worked_problems() -> Exhibits:
    """The solutions of the chapter's two worked problems, computed."""
    w = WORKED_FIT
    dev = hardware.get_device(w["device"])
    need = inference_memory(w["model"], w["precision"], w["prompt_tokens"] + w["output_tokens"], w["batch"])
    moe = models.get_model(WORKED_MOE["model"])
    h100_id, pro_id = WORKED_MOE["devices"]
    f_h100 = roofline.decode_floor(h100_id, WORKED_MOE["precision"], moe.active_params)
    f_pro = roofline.decode_floor(pro_id, WORKED_MOE["precision"], moe.active_params)
    h100, pro = hardware.get_device(h100_id), hardware.get_device(pro_id)
    return Exhibits({"wp1_need_gb": float(need.total_gb), "wp1_kv_gb": float(need.kv_cache_gb),
                 "wp1_weights_gb": float(need.weights_gb), "wp1_device_gb": dev.memory_gb, "wp1_old_gb": dev.memory_gib,
                 "wp1_headroom_gb": dev.memory_gb - float(need.total_gb),
                 "wp1_decimal_fit": "would fit" if float(need.total_gb) <= dev.memory_gib else "would not",
                 "wp1_kv_token": memory.kv_bytes_per_token(w["model"]),
                 "wp2_active_b": moe.active_params / 1e9, "wp2_ckpt_gb": moe.checkpoint_bytes / GB,
                 "wp2_h100_tok": f_h100.max_batch1_tokens_per_s, "wp2_pro_tok": f_pro.max_batch1_tokens_per_s,
                 "wp2_h100_ms": f_h100.weight_read_ms, "wp2_pro_ms": f_pro.weight_read_ms,
                 "wp2_pro_gib": pro.memory_gib, "wp2_h100_bw": h100.bandwidth_gb_s, "wp2_pro_bw": pro.bandwidth_gb_s,
                 "wp2_h100_spare_gb": (h100.memory_bytes - moe.checkpoint_bytes) / GB})
