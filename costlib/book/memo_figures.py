"""The budget memo's figures (``notebooks/01a_budget_memo.ipynb``), from :mod:`costlib.book.memo_chapter`.

Drawn with :func:`costlib.present.report.exhibit_figure` so that the smallest text shows at 10 px or more in the
book's text column.
"""
from __future__ import annotations

import numpy as np

from .. import planner as pl
from ..present.report import exhibit_figure
from . import memo_chapter as mc
from .memo import memo_case

WIDTH_IN = 7.3
"""Figure width (inches): the text column at 100 dpi."""


def breakeven_figure():
    """Monthly cost against developers (log-log): self-hosted options solid with their low-high band, APIs dashed."""
    case = memo_case()
    devs, curves = mc.monthly_curves()
    fig, ax = exhibit_figure(width_in=WIDTH_IN, aspect=0.8)
    for i, (k, o) in enumerate(case.options.items()):
        if k not in curves:
            continue
        m = curves[k]
        ax.plot(devs, np.broadcast_to(m.mid, devs.shape) / 1e3, "-" if isinstance(o, pl.SelfHosted) else "--",
                color=f"C{i}", label=o.label)
        if isinstance(o, pl.SelfHosted):
            ax.fill_between(devs, np.broadcast_to(m.low, devs.shape) / 1e3, np.broadcast_to(m.high, devs.shape) / 1e3,
                            color=f"C{i}", alpha=0.12)
    ax.axvline(case.developers, color="grey", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("developers (same task mix per developer)")
    ax.set_ylabel("USD thousand per month\n(mid; band: low-high)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=fig._costlib_min_pt, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)  # noqa: SLF001
    fig.tight_layout()
    return fig


def flip_figure():
    """What flips the verdict: cheapest self-hosted minus cheapest API ($ thousand a month), one input at a time."""
    case = memo_case()
    s, a = mc.best_pair()
    base_gap, rows = mc.flip()
    fig, ax = exhibit_figure(width_in=WIDTH_IN, aspect=0.65)
    for i, r in enumerate(rows[::-1]):
        lo = np.nan if r.difference_at_low is None else r.difference_at_low
        hi = np.nan if r.difference_at_high is None else r.difference_at_high
        ax.plot([lo / 1e3, hi / 1e3], [i, i], color="lightgrey", lw=6, solid_capstyle="butt")
        ax.plot(lo / 1e3, i, "o", color="C0")
        ax.plot(hi / 1e3, i, "s", color="C3")
    ax.axvline(0, color="black", lw=1)
    ax.axvline(base_gap / 1e3, color="grey", ls="--", lw=0.8)
    ax.set_yticks(range(len(rows)), [r.label for r in rows[::-1]])
    ax.set_xlabel(f"USD thousand per month: {case.options[s].label}\nminus {case.options[a].label}"
                  "\n(circle: first value, square: second; < 0: self-hosting cheaper)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
