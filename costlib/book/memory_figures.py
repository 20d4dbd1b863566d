"""The memory chapter's figures and its live widget (notebooks/03_memory.ipynb), sized for the page.

Figures use :func:`costlib.present.report.exhibit_figure` (fonts at least 10 px as displayed in the text column);
one panel per row, never three squeezed side by side. Their numbers are in the chapter's tables
(:mod:`costlib.book.memory_chapter`), which nbval compares.
"""
from __future__ import annotations

import numpy as np

from .. import memory as mem
from ..errors import CostlibError
from ..models import get_model, models
from ..present.report import exhibit_figure, min_font_pt
from .memory_chapter import FIT_GPUS, FIT_MODELS, KV_MODELS, PARTS, TRAIN_MODELS

WIDTH_IN = 7.3
"""Figure width: the text column at 1280 px (costlib.present.report.TEXT_COLUMN_PX at 100 dpi)."""
PART_COLORS = ("#4c72b0", "#dd8452", "#c44e52", "#55a868", "#8c8c8c")
PART_NAMES = ("weights", "gradients", "optimizer states", "activations", "runtime overhead")
TICK_PT = 9.0
"""Tick and legend size (points): 12.5 px on the page at 7.3 inches, above the 10 px floor."""


def kv_figure(kv):
    """KV cache (GB) of one FP16 sequence against context (log-2 axis), one line per model of :data:`KV_MODELS`."""
    fig, ax = exhibit_figure(width_in=WIDTH_IN, aspect=0.55)
    ctx = kv["context (tokens)"]
    for mid in KV_MODELS:
        m = get_model(mid)
        ax.plot(ctx, kv[f"{mid} (GB)"], marker="o", label=f"{mid} ({m.attention}, {m.kv_heads} KV heads)")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="context (tokens), one sequence, FP16 KV cache", ylabel="KV cache (GB)")
    ax.tick_params(labelsize=TICK_PT)
    ax.legend(fontsize=TICK_PT)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def training_figure(train):
    """GB per GPU by component, one horizontal stacked bar per configuration, one panel per model (stacked rows)."""
    fig, axes = exhibit_figure(len(TRAIN_MODELS), 1, width_in=WIDTH_IN, aspect=1.35)
    for ax, mid in zip(axes, TRAIN_MODELS):
        sub = train[train.model == mid]
        left = np.zeros(len(sub))
        for part, color, name in zip(PARTS, PART_COLORS, PART_NAMES):
            ax.barh(sub.config, sub[part], left=left, color=color, label=name)
            left += sub[part].to_numpy()
        ax.invert_yaxis()
        ax.tick_params(labelsize=TICK_PT)
        ax.set_title(f"{mid}: GB per GPU", loc="left")
        ax.grid(axis="x", alpha=0.3)
    axes[-1].set_xlabel("memory per GPU (GB)")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncols=3, fontsize=TICK_PT, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def fit_figure(panels, title: str):
    """Minimum GPUs per model (rows) and GPU type (columns): one heatmap per panel, stacked, counts written in."""
    fig, axes = exhibit_figure(len(panels), 1, width_in=WIDTH_IN, aspect=0.5 * len(panels), sharex=True)
    axes = np.atleast_1d(axes)
    size = max(TICK_PT, np.ceil(min_font_pt(WIDTH_IN) * 2) / 2)
    for ax, (name, grid) in zip(axes, panels):
        ax.imshow(np.log2(grid), cmap="RdYlGn_r", vmin=0, vmax=7, aspect="auto")
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                v = grid[i, j]
                dark = not np.isnan(v) and (v <= 1 or v >= 48)  # the colormap's dark ends: white text
                ax.text(j, i, "" if np.isnan(v) else f"{v:.0f}", ha="center", va="center", fontsize=size,
                        color="white" if dark else "black")
        ax.set_yticks(range(len(FIT_MODELS)), FIT_MODELS, fontsize=size)
        ax.set_title(name, loc="left")
    axes[-1].set_xticks(range(len(FIT_GPUS)), FIT_GPUS, rotation=35, ha="right", fontsize=size)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


WIDGET_GPUS = ("t4", "l4", "rtx-4090", "a100-40gb", "a100-80gb", "h100-sxm", "h200", "mi300x", "b200")
_ROWS = ("weights_gb", "kv_cache_gb", "activations_gb", "gradients_gb", "optimizer_gb", "overhead_gb", "total_gb")


def memory_html(model, precision, mode, context, batch) -> str:
    """The widget's result: one GPU's breakdown (training: full recompute) and the fewest GPUs of each type."""
    kw = {} if mode == "inference" else {"recompute": "full"}
    try:
        br = mem.estimate_memory(model, mode, precision, context, batch, **kw)
        need = [mem.min_gpus(model, g, precision, context, batch, mode, **kw) for g in WIDGET_GPUS]
    except CostlibError as exc:
        return f"<p>{exc}</p>"
    parts = "".join(f"<tr><td>{k.replace('_gb', '').replace('_', ' ')}</td>"
                    f"<td style='text-align:right'>{float(getattr(br, k)):.2f}</td></tr>" for k in _ROWS)
    fewest = ", ".join(f"{g}: {'—' if k is None else k}" for g, k in zip(WIDGET_GPUS, need))
    return f"<table><tr><th>GB per GPU</th><th></th></tr>{parts}</table><p>minimum GPUs: {fewest}</p>"


def memory_widget():
    """An ipywidgets form around ``memory.estimate_memory`` and ``min_gpus`` (recomputes with a live kernel)."""
    import ipywidgets as widgets

    w = {"model": widgets.Dropdown(options=sorted(models().keys()), value="llama-3.1-8b", description="model"),
         "precision": widgets.Dropdown(options=["fp32", "bf16", "fp16", "fp8", "int8", "int4"], value="bf16",
                                       description="precision"),
         "mode": widgets.Dropdown(options=["inference", "full", "lora", "qlora"], value="inference", description="mode"),
         "context": widgets.BoundedIntText(value=8192, min=0, max=1_048_576, step=1024, description="context"),
         "batch": widgets.BoundedIntText(value=1, min=1, max=4096, description="batch")}
    out = widgets.HTML()

    def render(*_):
        out.value = memory_html(**{k: c.value for k, c in w.items()})

    for c in w.values():
        c.observe(render, names="value")
    render()
    return widgets.VBox([widgets.HBox([w["model"], w["precision"], w["mode"]]), widgets.HBox([w["context"], w["batch"]]), out])
