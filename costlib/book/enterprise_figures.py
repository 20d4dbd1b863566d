"""The enterprise chapter's figures and explorer (``notebooks/06_enterprise.ipynb``), drawn from
:mod:`costlib.book.enterprise_chapter`.

Every figure is made with :func:`costlib.present.report.exhibit_figure` for the book's text column, so its
smallest text (ticks, legend) shows at 10 px or more as displayed (tests check :func:`costlib.present.report.small_text`).
Legends with many entries sit below the axes, not over the curves.
"""
from __future__ import annotations

import numpy as np

from . import enterprise_chapter as ec
from ..present.report import exhibit_figure

WIDTH_IN = 7.3
"""Figure width (inches) at 100 dpi."""



def _small(fig) -> float:
    return fig._costlib_min_pt  # noqa: SLF001 - set by exhibit_figure


def _legend_below(ax, fig, ncol: int = 2) -> None:
    ax.legend(fontsize=_small(fig), loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol, frameon=False)


def saving_figure():
    """Saving of each option against the LLM API alone by number of developers, with seed 001's fixed costs (solid)
    and the reference scenario's (dotted); the seed's 70-80% band shaded."""
    devs, curves = ec.saving_curves()
    fig, ax = exhibit_figure(width_in=WIDTH_IN, aspect=0.82)
    lo, hi = ec.SEED_SAVING
    ax.axhspan(100 * lo, 100 * hi, color="tab:green", alpha=0.15, label="seed: 70-80% saving")
    order = {}
    for (set_name, k), s in curves.items():
        i = order.setdefault(k, len(order))
        sc = ec.scenario(ec.SEED001 if set_name == "seed 001" else ec.REFERENCE)
        ax.plot(devs, 100 * s, "-" if set_name == "seed 001" else ":", color=f"C{i}",
                label=f"{sc.option(k).label} ({set_name} fixed costs)")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(ec.seed001_numbers()["s1_dev_llm"], color="grey", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_ylim(-150, 100)
    ax.set_xlabel("developers (reference task mix)")
    ax.set_ylabel(f"saving vs {ec.get_api_price(ec.LARGE_API).model} only (%)")
    ax.grid(alpha=0.3)
    _legend_below(ax, fig, ncol=1)
    fig.tight_layout()
    return fig


def reference_figure():
    """Annual cost of every option of the reference scenario, by component (USD thousand, mid inputs)."""
    df = ec.components_frame()
    fig, ax = exhibit_figure(width_in=WIDTH_IN, aspect=0.7)
    left = np.zeros(len(df))
    for c in df.columns[1:]:
        ax.barh(df["option"], df[c] / 1e3, left=left, label=c)
        left += df[c].to_numpy() / 1e3
    ax.invert_yaxis()
    ax.set_xlabel("annual cost (USD thousand, mid inputs)")
    ax.grid(axis="x", alpha=0.3)
    _legend_below(ax, fig, ncol=3)
    fig.tight_layout()
    return fig


def hybrid_figure():
    """Annual cost of the two hybrids against the share routed to the small model, per escalation rate."""
    curves = ec.hybrid_curves()
    sc = ec.scenario()
    fig, ax = exhibit_figure(width_in=WIDTH_IN, aspect=0.75)
    ax.axhline(ec.result().options["llm_api"].annual_usd / 1e3, color="black", lw=1.2,
               label=f"{ec.get_api_price(ec.LARGE_API).model} only")
    for (h, e), y in curves.items():
        ax.plot(100 * ec.SHARES, y / 1e3, "-" if h == "hybrid" else "--", label=f"{sc.option(h).label}, e = {e:.0%}")
    ax.set_xlabel("share routed to the small model (%)")
    ax.set_ylabel("annual cost (USD thousand)")
    ax.grid(alpha=0.3)
    _legend_below(ax, fig, ncol=1)
    fig.tight_layout()
    return fig


def volume_figure():
    """Monthly cost against monthly requests (log-log): the 7B self-hosted on three GPUs and the compared APIs."""
    x, curves = ec.volume_curves()
    sc4 = ec.volume_scenario()
    fig, ax = exhibit_figure(width_in=WIDTH_IN, aspect=0.8)
    apis = [n for n in curves if not n.startswith("self")]
    for name, y in curves.items():
        # APIs with the same list price coincide: earlier lines drawn wider so that both stay visible
        lw = 1.5 if name.startswith("self") else 1.2 + 1.2 * (len(apis) - 1 - apis.index(name))
        ax.plot(x, y / 1e3, "--" if name.startswith("self") else "-", lw=lw, label=sc4.option(name).label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("requests per month (million, reference mix)")
    ax.set_ylabel("monthly cost (USD thousand)")
    ax.grid(alpha=0.3, which="both")
    _legend_below(ax, fig, ncol=2)
    fig.tight_layout()
    return fig


def tornado_figure():
    """Tornado of the self-hosted L40S option: each input at its low and high end, the others at mid."""
    rows = ec.tornado_rows()
    mid = ec.result().options["slm_l40s"].annual_usd
    fig, ax = exhibit_figure(width_in=WIDTH_IN, aspect=0.75)
    for i, r in enumerate(rows):
        lo, hi = sorted((r.cost_at_low, r.cost_at_high))
        ax.barh(i, (hi - lo) / 1e3, left=lo / 1e3, color="tab:blue" if r.cost_at_high >= r.cost_at_low else "tab:orange")
    ax.axvline(mid / 1e3, color="black", lw=1)
    labels = [ec.in_words(r.label).replace(ec.scenario().option("slm_l40s").label + ": ", "") for r in rows]
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("annual cost, self-hosted L40S option (USD thousand)\nblue: higher input costs more; orange: less")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def monte_carlo_figure():
    """Distribution of each option's annual cost over the Monte Carlo samples (log scale)."""
    mc, sc = ec.monte_carlo(), ec.scenario()
    fig, ax = exhibit_figure(width_in=WIDTH_IN, aspect=0.75)
    bins = np.geomspace(5e3, 2e6, 80)
    for name in sc.option_names:
        ax.hist(mc.samples[name], bins=bins, histtype="step", lw=1.3, label=sc.option(name).label)
    ax.set_xscale("log")
    ax.set_xlabel("annual cost (USD, log scale)")
    ax.set_ylabel("samples")
    ax.grid(alpha=0.3)
    _legend_below(ax, fig, ncol=2)
    fig.tight_layout()
    return fig


def _k_usd(v) -> str:
    return v if isinstance(v, str) else (f"${v / 1e3:,.0f}k" if v >= 9_995 else f"${v / 1e3:,.1f}k")


EXPLORER_DEVELOPERS = (50, 100, 200, 500, 1000, 2000, 5000)
"""Developer counts the kernel-free explorer offers."""


def explorer():
    """The kernel-free explorer of the reference scenario (:func:`costlib.present.explore.static_explorer`): annual
    cost of every option over developers and the scenario's low / mid / high completions, LLM price multiplier,
    L40S price and hybrid share."""
    from ..present.explore import static_explorer

    sc = ec.scenario()
    bands = {"completions": sc.workload.tasks[0].requests_per_user_per_day, "llm_price": sc.option("llm_api").price_multiplier,
             "gpu_price": sc.option("slm_l40s").price_usd_per_gpu_hour, "share": sc.option("hybrid").small_share}
    llm = ec.get_api_price(ec.LARGE_API).model
    return static_explorer(
        "Annual cost of every option (reference scenario)",
        inputs={"developers": list(EXPLORER_DEVELOPERS), **{k: [b.low, b.mid, b.high] for k, b in bands.items()}},
        compute=ec.what_if_annual, fmt=_k_usd,
        labels={"developers": "developers", "completions": "completions per developer per day",
                "llm_price": f"{llm} price (x list)", "gpu_price": "L40S on-demand USD per GPU-hour",
                "share": "hybrid: share to small model", "cheapest": "cheapest"},
        input_fmt={"completions": ",.0f", "llm_price": "×.1f", "gpu_price": "$.2f", "share": ".0%"},
        default={"developers": 500, **{k: b.mid for k, b in bands.items()}},
        note=f"Annual cost in thousands of dollars at the other inputs' mid values (hybrid escalation rate "
             f"{sc.option('hybrid').escalation_rate.mid:.0%}); the choices are the scenario's low, mid and high values.")


def widget():
    """The ipywidget of the reference scenario (shown only where a kernel runs it: Binder, Voilà, local Jupyter)."""
    import ipywidgets as widgets

    from ..errors import CostlibError

    sc = ec.scenario()
    style, layout = {"description_width": "220px"}, widgets.Layout(width="520px")
    llm = ec.get_api_price(ec.LARGE_API).model
    controls = [
        widgets.IntSlider(value=int(sc.workload.users.mid), min=10, max=10_000, step=10, description="developers"),
        widgets.IntSlider(value=int(sc.workload.tasks[0].requests_per_user_per_day.mid), min=0, max=500, step=10,
                          description="completions / developer / day"),
        widgets.FloatSlider(value=1.0, min=0.1, max=3.0, step=0.05, description=f"{llm} price (x list)"),
        widgets.FloatSlider(value=float(sc.option("slm_l40s").price_usd_per_gpu_hour.mid), min=0.2, max=5.0, step=0.05,
                            description="L40S on-demand $/GPU-hour"),
        widgets.FloatSlider(value=float(sc.option("hybrid").small_share.mid), min=0.0, max=1.0, step=0.05,
                            description="hybrid: share to small model"),
        widgets.FloatSlider(value=float(sc.option("hybrid").escalation_rate.mid), min=0.0, max=0.9, step=0.05,
                            description="hybrid: escalation rate"),
    ]
    for c in controls:
        c.style, c.layout = style, layout

    def render() -> str:
        try:
            df, cheapest = ec.what_if_frame(ec.what_if_values(*(c.value for c in controls)))
        except CostlibError as exc:
            return f"<p><b>Input error:</b> {exc}</p>"
        body = "".join(f"<tr><td>{'<b>' + o + '</b>' if o == cheapest else o}</td><td style='text-align:right'>{a:,.0f}</td>"
                       f"<td style='text-align:right'>{m:,.0f}</td><td style='text-align:right'>{p:.2f}</td></tr>"
                       for o, a, m, p in df.itertuples(index=False))
        return ("<table><tr><th>option</th><th>annual cost (USD)</th><th>monthly cost (USD)</th><th>USD per 1,000 requests</th></tr>"
                f"{body}</table><p>Cheapest: <b>{cheapest}</b></p>")

    out = widgets.HTML(value=render())
    for c in controls:
        c.observe(lambda _change: setattr(out, "value", render()), names="value")
    return widgets.VBox(controls + [out])
