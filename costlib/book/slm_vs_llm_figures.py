"""The SLM-vs-LLM chapter's figures (notebooks/05_slm_vs_llm.ipynb), drawn from :mod:`costlib.book.slm_vs_llm`.

Sized for the text column with fonts of at least 10 px as displayed (:func:`costlib.present.report.exhibit_figure`);
one panel per row rather than two squeezed side by side; labels only where they do not collide (the table beside
each figure names every point).
"""
from __future__ import annotations

import numpy as np

from ..present.report import exhibit_figure
from .slm_vs_llm import pareto_frontier


def capability_figure(cap):
    """MMLU-Pro (top) and EvalPlus (bottom) against self-hosted cost per 1M output tokens (log), with the band as a
    horizontal bar and the cost-score frontier; only the frontier's models are labelled."""
    fig, axes = exhibit_figure(2, 1, width_in=7.3, aspect=1.1, sharex=True)
    new = (cap["released"] >= "2025").to_numpy()
    for ax, col, label in ((axes[0], "MMLU-Pro", "MMLU-Pro, 5-shot CoT (%)"), (axes[1], "EvalPlus", "EvalPlus (%)")):
        sel = cap[col].notna().to_numpy()
        c = cap[sel]
        ax.errorbar(c["mid"], c[col], xerr=[c["mid"] - c["low"], c["high"] - c["mid"]], fmt="none",
                    ecolor="tab:gray", alpha=0.4, capsize=2)
        ax.plot(cap.loc[sel & ~new, "mid"], cap.loc[sel & ~new, col], "o", color="tab:blue", label="released 2024")
        ax.plot(cap.loc[sel & new, "mid"], cap.loc[sel & new, col], "s", color="tab:orange", label="released 2025")
        front = c[pareto_frontier(c["mid"], c[col])].sort_values("mid")
        ax.plot(front["mid"], front[col], "-", color="tab:red", lw=1, label="cost-score frontier")
        gap, last = 0.035 * (c[col].max() - c[col].min()), -np.inf
        for _, r in front.iterrows():  # left of each point: the frontier rises to the right, so labels clear it
            if r[col] - last < gap:  # too close to the label below: the table names it
                continue
            last = r[col]
            ax.annotate(r["model"], (r["mid"], r[col]), textcoords="offset points", xytext=(-7, -2), ha="right",
                        va="center")
        ax.set_xscale("log")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    axes[0].set_xlim(cap["low"].min() / 8, cap["high"].max() * 1.5)
    axes[1].set_xlabel("self-hosted US$ per 1M output tokens (log scale)")
    fig.tight_layout()
    return fig


def moe_figure(moe):
    """Self-hosted against API-host cost per 1M output tokens of the 2025 mixtures of experts (log)."""
    fig, ax = exhibit_figure(width_in=7.3, aspect=0.62)
    y = np.arange(len(moe))
    ax.errorbar(moe["self_hosted_mid"], y + 0.15, xerr=[moe["self_hosted_mid"] - moe["self_hosted_low"],
                                                         moe["self_hosted_high"] - moe["self_hosted_mid"]],
                fmt="o", color="tab:blue", capsize=3, label="self-hosted on H100, FP8 (mid, band)")
    ax.errorbar(moe["api_mid"], y - 0.15, xerr=[moe["api_mid"] - moe["api_low"], moe["api_high"] - moe["api_mid"]],
                fmt="s", color="tab:orange", capsize=3, label="API hosts (median, cheapest-dearest)")
    ax.set_yticks(y, [f"{n} ({int(k)} GPU{'s' if k > 1 else ''})" for n, k in zip(moe["name"], moe["gpus"])])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("US$ per 1M output tokens (log scale)")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


TIER_STYLES = {"small": ("tab:green", "o"), "mid": ("tab:blue", "s"), "large": ("tab:red", "^")}


def tier_history_figure(hist):
    """Blended price per 1M tokens of closed-model offers by tier at the date each price started (log); the
    cheapest offer of each tier joined by a line (the offers are named in the table)."""
    import pandas as pd

    fig, ax = exhibit_figure(width_in=7.3, aspect=0.6)
    for t, h in hist.items():
        color, marker = TIER_STYLES[t]
        d = pd.to_datetime(h["date"])
        ax.scatter(d, h["blended_usd_per_1m"], color=color, marker=marker, label=f"{t} tier", zorder=3)
        cheapest = h.groupby("date")["blended_usd_per_1m"].min()
        ax.plot(pd.to_datetime(cheapest.index), cheapest.values, color=color, lw=1, alpha=0.7)
    ax.set_yscale("log")
    ax.set_ylabel("US$ per 1M tokens, 3:1 blend")
    ax.set_xlabel("date the price started")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
