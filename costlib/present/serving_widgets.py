"""The inference chapter's live widget (ipywidgets): recomputes one serving estimate in a running kernel.

Shown only where a kernel runs it (Binder, Voilà, local Jupyter); the static page carries the kernel-free
explorer instead (issue 18). Built by a library function so that no notebook defines a callback of its own.
"""
from __future__ import annotations

from costlib import inference as inf
from costlib import serving as sv
from costlib.errors import CostlibError
from costlib.present.exhibits import live_widget
from costlib.present.notebook import band_text

WIDGET_MODELS = ("llama-3.2-1b", "llama-3.2-3b", "qwen2.5-7b", "llama-2-7b", "llama-3.1-8b", "mistral-7b",
                 "llama-2-13b", "mixtral-8x7b", "llama-3.1-70b", "qwen2.5-72b")
WIDGET_GPUS = ("l4", "a10", "l40s", "rtx-4090", "a100-80gb", "h100-sxm", "h200", "b200", "mi300x", "m1-max",
               "m2-max", "i9-13900k", "epyc-9654")


def serving_result_html(model, gpu, gpus, precision, engine, mode, batch, prompt, output, utilization, price) -> str:
    """The widget's result table (HTML) for one set of inputs; a bad input gives its one-line error."""
    try:
        fn = sv.estimate_continuous if mode == "continuous" else inf.estimate_inference
        e = fn(model, gpu, precision, batch, prompt, output, gpus=gpus, utilization=utilization, engine=engine,
               price_usd_per_gpu_hour=price or None)
    except CostlibError as exc:
        return f"<p>{exc}</p>"

    def cost(b):
        return "no catalog price: enter one" if b is None else band_text(b, "{:,.3f}")

    rows = [("decode is", f"{e.bound}-bound"), ("time to first token (s)", band_text(e.ttft_s, "{:,.3f}")),
            ("time per output token (ms)", band_text(e.tpot_s, "{:,.1f}", 1000)),
            ("tokens/s per sequence", band_text(e.tokens_per_s_per_sequence, "{:,.1f}")),
            ("throughput, all sequences (tokens/s)", band_text(e.throughput_tokens_per_s)),
            ("request latency (s)", band_text(e.request_latency_s, "{:,.2f}")),
            ("US$ per 1M output tokens", cost(e.cost_per_1m_output_tokens_usd)),
            ("US$ per 1K requests", cost(e.cost_per_1k_requests_usd))]
    return "<table>" + "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows) + "</table>"


def serving_widget():
    """The chapter's ipywidget: model, hardware, GPUs, precision, engine, mode, requests in flight, request shape,
    share of hours busy and price, recomputed on every change."""
    import ipywidgets as widgets

    w = {"model": widgets.Dropdown(options=WIDGET_MODELS, value="llama-3.1-8b", description="model"),
         "gpu": widgets.Dropdown(options=WIDGET_GPUS, value="a100-80gb", description="hardware"),
         "gpus": widgets.BoundedIntText(value=1, min=1, max=64, description="GPUs"),
         "precision": widgets.Dropdown(options=list(inf.weight_formats()), value="bf16", description="precision"),
         "engine": widgets.Dropdown(options=list(inf.engines()), value=sv.DEFAULT_ENGINE, description="engine"),
         "mode": widgets.Dropdown(options=list(sv.MODES), value="continuous", description="mode"),
         "batch": widgets.BoundedIntText(value=16, min=1, max=4096, description="in flight"),
         "prompt": widgets.BoundedIntText(value=500, min=1, max=128000, description="prompt tokens"),
         "output": widgets.BoundedIntText(value=500, min=1, max=32000, description="output tokens"),
         "utilization": widgets.FloatSlider(value=0.5, min=0.05, max=1.0, step=0.05, description="busy share"),
         "price": widgets.BoundedFloatText(value=0.0, min=0.0, max=100.0, step=0.1, description="$/GPU-h (0=catalog)")}
    return live_widget(serving_result_html, w, columns=2)
