"""The training chapter's figures and its live widget (notebooks/01_training.ipynb), sized for the page.

Figures use :func:`costlib.present.report.exhibit_figure` (fonts at least 10 px as displayed in the text column);
their numbers are in the chapter's tables (:mod:`costlib.book.training_chapter`), which nbval compares.
"""
from __future__ import annotations

import numpy as np

from .. import training as tr
from ..errors import CostlibError
from ..present.exhibits import live_widget
from ..present.notebook import band_text
from ..present.report import exhibit_figure
from ..prices import gpu_price_band
from ..uncertainty import Band
from .training_chapter import CURVE_GPU_NAMES, CURVE_GPUS, FIXED_TOKENS

TICK_PT = 9.0
"""Tick and legend size (points): 12.5 px on the page at 7.3 inches, above the 10 px floor."""
BACKTEST_LIMITS = (2e2, 1e8)
"""GPU-hours range of the back-test plot (the published runs span about 1e3 to 4e7)."""


def backtest_figure(bt=None, band=None):
    """Predicted against reported GPU-hours (log-log), runs in the fit and traps, the band as a wedge around y = x."""
    bt = tr.backtest() if bt is None else bt
    band = tr.mfu_band() if band is None else band
    fig, ax = exhibit_figure(width_in=7.3, aspect=0.8)
    for sub, style, name in ((bt[bt.use_in_fit], dict(color="C0", marker="o", ms=4), "in the fit"),
                             (bt[~bt.use_in_fit], dict(color="C3", marker="x", ms=6), "kept out of the fit")):
        yerr = np.vstack([sub.predicted_mid - sub.predicted_low, sub.predicted_high - sub.predicted_mid])
        ax.errorbar(sub.reported_gpu_hours, sub.predicted_mid, yerr=yerr, linestyle="none", capsize=2, elinewidth=0.8,
                    alpha=0.8, label=name, **style)
    x = np.array(BACKTEST_LIMITS)
    ax.plot(x, x, "k-", lw=1, label="predicted = reported")
    ax.fill_between(x, x * band.mid / band.high, x * band.mid / band.low, color="C0", alpha=0.12,
                    label="inside the band")
    ax.set(xscale="log", yscale="log", xlim=BACKTEST_LIMITS, ylim=BACKTEST_LIMITS,
           xlabel="reported GPU-hours", ylabel="predicted GPU-hours (mid and band)")
    ax.grid(True, which="major", alpha=0.3)
    ax.tick_params(labelsize=TICK_PT)
    ax.legend(loc="upper left", fontsize=TICK_PT)
    fig.tight_layout()
    return fig


def curves_figure(params=None):
    """GPU-hours (top) and dollars (bottom) against parameters at 1T tokens (left) and 20 tokens per parameter
    (right) on :data:`CURVE_GPUS`: mid line, MFU band shaded (dollars: also the price band)."""
    n = np.logspace(np.log10(0.5e9), np.log10(405e9), 40) if params is None else np.asarray(params, float)
    rules = {"1T tokens": np.full_like(n, FIXED_TOKENS), "20 tokens per parameter": tr.chinchilla_tokens(n)}
    fig, axes = exhibit_figure(2, 2, width_in=7.3, aspect=0.85, sharex=True)
    for col, (rule, d) in enumerate(rules.items()):
        flops = tr.training_flops(n, d)
        for i, gid in enumerate(CURVE_GPUS):
            # the model's MFU at each size (the Hopper size term; one band on A100), as tr.estimate_training uses
            per = [tr.gpu_hours(f, gid, params=p) for f, p in zip(flops, n)]
            h, price = Band(*(np.array([getattr(b, k) for b in per]) for k in ("low", "mid", "high"))), gpu_price_band(gid)
            axes[0, col].plot(n / 1e9, h.mid, color=f"C{i}", label=CURVE_GPU_NAMES[gid])
            axes[0, col].fill_between(n / 1e9, h.low, h.high, color=f"C{i}", alpha=0.12)
            axes[1, col].plot(n / 1e9, h.mid * price.mid, color=f"C{i}", label=CURVE_GPU_NAMES[gid])
            axes[1, col].fill_between(n / 1e9, h.low * price.low, h.high * price.high, color=f"C{i}", alpha=0.12)
        axes[0, col].set_title(rule)
        axes[1, col].set_xlabel("parameters (billions)")
    for ax in axes.flat:
        ax.set(xscale="log", yscale="log")
        ax.tick_params(labelsize=TICK_PT)
        ax.grid(True, which="major", alpha=0.3)
    axes[0, 0].set_ylabel("GPU-hours")
    axes[1, 0].set_ylabel("cost (USD)")
    axes[0, 0].legend(loc="upper left", fontsize=TICK_PT)
    fig.tight_layout()
    return fig


WIDGET_GPUS = ("a100-80gb", "a100-40gb", "h100-sxm", "h200", "b200", "mi300x", "l40s")


def estimate_html(params, tokens, gpu, gpus, mfu=0.0, price=0.0) -> str:
    """The widget's result as an HTML table (MFU 0 = the calibrated band, price 0 = the catalog's band); an input
    error comes back as its one-line message."""
    try:
        e = tr.estimate_training(params, tokens, gpu, gpus=gpus, mfu=mfu or None, price_usd_per_gpu_hour=price or None)
    except CostlibError as exc:
        return f"<p>{exc}</p>"
    cost = "no catalog price: enter one" if e.cost_usd is None else band_text(e.cost_usd)
    rows = (("FLOPs", f"{e.flops:.3g}"), ("MFU", band_text(e.mfu, "{:.0%}")), ("GPU-hours", band_text(e.gpu_hours)),
            ("wall-clock days", band_text(e.wall_days, "{:,.1f}")), ("cost (USD)", cost),
            ("energy (kWh)", band_text(e.energy_kwh)))
    return "<table>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows) + "</table>"


def training_widget():
    """An ipywidgets form around :func:`costlib.training.estimate_training` (recomputes with a live kernel)."""
    import ipywidgets as widgets

    wide = {"description_width": "9em"}
    w = {
        "params": widgets.FloatLogSlider(value=7e9, base=10, min=8, max=12, step=0.001, description="parameters",
                                         readout_format=".3g", style=wide),
        "tokens": widgets.FloatLogSlider(value=1e12, base=10, min=9, max=13.5, step=0.001, description="tokens",
                                         readout_format=".3g", style=wide),
        "gpu": widgets.Dropdown(options=list(WIDGET_GPUS), value="a100-80gb", description="GPU", style=wide),
        "gpus": widgets.BoundedIntText(value=64, min=1, max=100000, description="GPU count", style=wide),
        "mfu": widgets.FloatSlider(value=0.0, min=0.0, max=0.8, step=0.01, description="MFU (0 = band)", style=wide),
        "price": widgets.BoundedFloatText(value=0.0, min=0.0, max=100.0, step=0.1, description="$/GPU-h (0 = catalog)",
                                          style=wide),
    }
    return live_widget(estimate_html, w, columns=2)
