"""The inference chapter's figures (notebooks/02_inference.ipynb), drawn from :mod:`costlib.book.inference_chapter`.

Each function takes the exhibit data it plots and returns a matplotlib figure sized for the text column with
fonts of at least 10 px as displayed (:func:`costlib.present.report.exhibit_figure`). Every number a figure shows
is also in a table or glued value, so nbval compares it.
"""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from .. import inference as inf
from ..hardware import get_device
from ..present.report import exhibit_figure
from . import inference_chapter as ic

GPU_COLORS = {"l4": "tab:green", "a100-80gb": "tab:blue", "h100-sxm": "tab:red"}


def roofline_figure(intensities, prefill):
    """:data:`~costlib.book.inference_chapter.ROOF_MODEL` on the FP16 rooflines of the chapter's GPUs, log-log."""
    fig, ax = exhibit_figure(width_in=7.3, aspect=0.62)
    x = np.logspace(-0.5, 3.5, 200)
    for gid in ic.ROOF_GPUS:
        c = GPU_COLORS[gid]
        ax.loglog(x, inf.attainable_flops(gid, "fp16", x) / 1e12, color=c, label=f"{get_device(gid).name}")
        for i in intensities:
            ax.plot(i, inf.attainable_flops(gid, "fp16", i) / 1e12, "o", color=c, ms=5)
        ax.plot(prefill, inf.attainable_flops(gid, "fp16", prefill) / 1e12, "s", color=c, ms=6)
    for b, i in zip(ic.ROOF_BATCHES, intensities):
        ax.annotate(f"B={b}", (i, inf.attainable_flops("h100-sxm", "fp16", i) / 1e12), textcoords="offset points",
                    xytext=(-44, 0) if b == ic.ROOF_BATCHES[-2] else (-12, 8))
    ax.annotate("prefill", (prefill, inf.attainable_flops("h100-sxm", "fp16", prefill) / 1e12),
                textcoords="offset points", xytext=(-60, 4))
    ax.set_ylim(top=inf.attainable_flops("h100-sxm", "fp16", 1e4) / 1e12 * 3)
    ax.set_xlabel("arithmetic intensity (FLOP per byte moved)")
    ax.set_ylabel("attainable TFLOP/s (FP16, dense)")
    ax.legend(loc="lower right", title="roofline")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def frontier_figure(curves):
    """Output tokens/s per GPU against mean TPOT, one panel per GPU, with the operating point of each model."""
    gpus = list(dict.fromkeys(g for g, _ in curves))
    fig, axes = exhibit_figure(len(gpus), 1, width_in=7.3, aspect=0.42 * len(gpus), sharex=True)
    for ax, gid in zip(np.atleast_1d(axes), gpus):
        for (g, label), (k, prec, fr, pt) in curves.items():
            if g != gid:
                continue
            line, = ax.semilogy(fr.tpot_ms, fr.throughput_tokens_per_s_per_gpu, "-",
                                label=f"{label} {prec.upper()}" + (f", {k} GPUs" if k > 1 else ""))
            if pt.feasible:
                ax.plot(pt.tpot_s.mid * 1e3, pt.throughput_tokens_per_s.mid / k, "o", ms=8, color=line.get_color())
        ax.axvline(ic.SLO_TPOT_S * 1e3, color="grey", ls="--", lw=1)
        ax.set_title(get_device(gid).name)
        ax.set_ylabel("tokens/s per GPU")
        ax.set_xlim(0, 120)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right")
    np.atleast_1d(axes)[-1].set_xlabel(f"mean time per output token (ms); dashed: the {ic.SLO_TPOT_S * 1e3:.0f} ms target")
    fig.tight_layout()
    return fig


def backtest_figure(bt):
    """Leave-one-out prediction / published, one row per engine: a unitless ratio on one axis (issue 18: never two
    units on one axis), first-token times inverted so that right means faster than published."""
    ratio = (bt.predicted_loo / bt.published).to_numpy(float)
    ratio = np.where(bt.metric == "ttft_s", 1 / ratio, ratio)
    engines = sorted(bt.engine.unique(), key=lambda e: -int((bt.engine == e).sum()))
    fig, ax = exhibit_figure(width_in=7.3, aspect=0.055 * len(engines) + 0.18)
    for n, eid in enumerate(engines):
        sel = (bt.engine == eid).to_numpy()
        inside = bt.inside.astype(bool).to_numpy()
        ax.plot(ratio[sel & inside], np.full((sel & inside).sum(), n), "o", color="tab:blue", alpha=0.7,
                label="inside its band" if n == 0 else None)
        ax.plot(ratio[sel & ~inside], np.full((sel & ~inside).sum(), n), "x", color="tab:red", ms=8,
                label="outside its band" if n == 0 else None)
    ax.axvspan(1 / 1.15, 1.15, color="grey", alpha=0.2, label="within 15%")
    ax.axvline(1, color="black", lw=1)
    ax.set_xscale("log")
    ticks = [t for t in (0.25, 0.5, 1, 2, 4, 8) if ratio.min() / 1.2 <= t <= ratio.max() * 1.2]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(engines)), [inf.engines()[e].name for e in engines])  # names, not ids
    ax.set_xlabel("costlib (leave-one-out, mid) ÷ published speed; > 1: costlib too fast")
    ax.legend(loc="upper right", ncols=3, fontsize="small")
    ax.set_ylim(len(engines) - 0.5, -1.2)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def selfcost_figure(points, api_small):
    """US$ per 1,000 requests against the share of hours busy (mid lines; the bands are in the table), with the
    same model's API price and the cheapest and dearest current small-tier offers."""
    fig, axes = exhibit_figure(2, 1, width_in=7.3, aspect=1.05)
    u = np.linspace(0.05, 1, 60)
    panels = ((axes[0], "llama-3.1-8b", list(api_small)), (axes[1], "llama-3.1-70b", []))
    for ax, model, tier in panels:
        for (m, gid), (k, prec, pt, full) in points.items():
            if m == model:
                ax.semilogy(u * 100, full.mid / u, label=f"{get_device(gid).name}" + (f" × {k}" if k > 1 else "")
                            + f", {prec.upper()}")
        apis = [ic.SAME_MODEL_API[model]]
        if tier:
            costs = sorted(tier, key=ic.api_cost_per_1k)
            apis += [a for a in (costs[0], costs[-1]) if a not in apis]
        for aid, ls in zip(apis, ("--", ":", "-.")):
            ax.axhline(ic.api_cost_per_1k(aid), ls=ls, lw=1.4, color="black", label=f"API: {ic._api(aid).model}")
        ax.set_ylabel("US$ per 1,000 requests")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper right")
    axes[0].set_title("Llama-3.1-8B self-hosted against small-tier APIs")
    axes[1].set_title("Llama-3.1-70B self-hosted against its API")
    axes[1].set_xlabel("share of paid GPU-hours busy (%)")
    fig.tight_layout()
    return fig
