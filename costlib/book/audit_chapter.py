"""The seed-audit appendix: its exhibits as :class:`~costlib.present.exhibits.Exhibits` values.

The claims are judged once, by :func:`costlib.book.audit.evaluate` (from ``data/seed_claims.csv``); this module only
arranges the audit's rows for the page. Every verdict cell carries the marker of :func:`costlib.book.claims.claim_html`
(the audit's claimed range, band and verdict as data attributes), with the verdict said in words a reader takes the
right way (:func:`costlib.present.report.verdict_words`) as its text, so ``tests/test_claim_consistency.py`` checks the
audit's own page against every chapter.
"""
from __future__ import annotations

import html

import pandas as pd

from costlib import fx
from costlib.book import audit
from costlib.book import slm_vs_llm as slm
from costlib.book.claims import claim_html
from costlib.hardware import get_device
from costlib.inference import backtest
from costlib.present.exhibits import Exhibits, Table
from costlib.present.report import seed_arrows, verdict_words
from costlib.prices import gpu_price_band, gpu_prices, prices_for
from costlib.training import fit_runs, mfu_band, training_flops
from costlib.uncertainty import Band

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
SEED_COLUMNS = {"claim": "claim as written", "verdict": "verdict", "claimed": "claimed", "computed": "costlib",
                "reason": "reason", "interpretation": "reading used"}
"""The columns of the per-seed audit tables, verdict first after the claim."""
COMPACT = {"font-size": "0.85em", "vertical-align": "top", "text-align": "left"}
"""Long text tables (every claim, every input) in a slightly smaller type, so their last column fits the text column."""
WORKED_QUOTE = dict(params=7e9, tokens=1e12, gpus=32, days=14, gpu="a100-80gb")
"""Problem 1: a vendor's quote to pre-train a 7B model on 1T tokens on 32 A100 in two weeks (seed 000's row)."""


def _num(x):
    return None if x is None or pd.isna(x) else float(x)


def in_words(row) -> str:
    """The verdict as a reader takes it: direction first, then the claimed and computed ranges, then how far apart."""
    band = None if _num(row["computed_mid"]) is None else Band(row["computed_low"], row["computed_mid"], row["computed_high"])
    return verdict_words(row["verdict"], claimed_low=_num(row["claimed_low"]), claimed_high=_num(row["claimed_high"]),
                         computed=band, unit=row["unit"], factor=_num(row["factor"]),
                         fmt=lambda v, u=row["unit"]: audit.claim_number_text(v, u))


def audit_frame() -> pd.DataFrame:
    """The audit table with the verdict in words (``verdict in words``) and seed emoji as arrows."""
    table = audit.audit_table()
    table["verdict in words"] = table.apply(in_words, axis=1)
    table["claim"] = table["claim"].map(seed_arrows)
    return table


def export_frame(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The download: every column of the audit, as computed today."""
    table = audit_frame() if table is None else table
    return table[["id", "seed", "line", "section", "claim", "quantity", "interpretation", "claimed", "unit", "claimed_low",
                  "claimed_high", "computed_low", "computed_mid", "computed_high", "verdict", "factor", "verdict_text",
                  "reason"]]


def summary() -> Exhibits:
    """The summary's numbers: claims per seed, verdict counts, tolerance, how wide the bands of held claims are."""
    table = audit_frame()
    s = audit.summary(table)
    counts = s["counts"]
    mfu = mfu_band()
    held = table[(table["verdict"] == "holds") & (table["computed_low"] > 0)]
    ratio = held["computed_high"] / held["computed_low"]
    values = {"n_claims": s["claims"], "n_seeds": WORDS[len(s["by_seed"])], "n_seed0": s["by_seed"]["000"],
              "n_seed1": s["by_seed"]["001"], "n_checkable": s["checkable"],
              "share_holds": 100 * counts["holds"] / s["checkable"], "tolerance_pct": 100 * (audit.HOLD_TOLERANCE - 1),
              "mfu_low": 100 * mfu.low, "mfu_high": 100 * mfu.high,
              "price_dates": f"{min(p.as_of for p in gpu_prices())} to {max(p.as_of for p in gpu_prices())}",
              "holds_width": float(ratio.median()), "holds_width_max": float(ratio.max()),
              "holds_width_max_claim": held.loc[ratio.idxmax(), "claim"]}
    for label, key in (("holds", "n_holds"), ("optimistic", "n_optimistic"), ("pessimistic", "n_pessimistic"),
                       ("physically impossible", "n_impossible"), ("not checkable", "n_not_checkable")):
        values[key] = counts[label]
    by_seed = pd.crosstab(table["seed"], table["verdict"]).reindex(columns=list(audit.VERDICTS), fill_value=0)
    by_seed.loc["total"] = by_seed.sum()
    by_seed = by_seed.reset_index().rename(columns={"seed": "seed document"})
    by_seed.columns.name = None
    return Exhibits(values, {"tbl-audit-counts": Table(by_seed, verdict_first=False, max_columns=8)})


def _marked(table: pd.DataFrame) -> pd.Series:
    """Each row's verdict in words inside the audit's claim marker (the row's claimed range, band, verdict)."""
    return pd.Series([claim_html(i, w) for i, w in zip(table["id"], table["verdict in words"])], index=table.index)


def _escaped(columns) -> dict:
    return {c: (lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else html.escape(str(v)))
            for c in columns}


def largest() -> Exhibits:
    """Exhibit: the claims furthest from costlib's values, verdicts through the audit's markers."""
    frame = audit_frame()
    table = frame.set_index("id", drop=False)
    s = audit.summary(frame)
    ids = [r["id"] for r in s["largest"]]
    rows = table.loc[ids]
    df = pd.DataFrame({"claim": rows["claim"].values, "verdict": _marked(rows).values})
    first = ids[0]
    values = {"n_largest": WORDS[len(df)] if len(df) < len(WORDS) else str(len(df)),
              "largest_claim": table.loc[first, "claim"], "largest_verdict": table.loc[first, "verdict in words"]}
    return Exhibits(values, {"tbl-audit-largest": Table(df, formats=_escaped(["claim"]))})


def seed_tables() -> Exhibits:
    """Exhibits: every claim of each seed with the reading used, costlib's value and the verdict (marked)."""
    table = audit_frame()
    tables = {}
    for seed in ("000", "001"):
        part = table[table["seed"] == seed].copy()
        part["claim"] = part["section"] + ": " + part["claim"]
        part["verdict"] = _marked(part)
        shown = part[list(SEED_COLUMNS)].rename(columns=SEED_COLUMNS)
        plain = [c for c in shown.columns if c != "verdict"]
        tables[f"tbl-audit-{seed}"] = Table(shown, formats=_escaped(plain), key=("claim as written",), max_columns=6,
                                            css={c: COMPACT for c in shown.columns})
    return Exhibits(tables=tables)


def impossible_rows() -> Exhibits:
    """The numbers of the section on physically impossible rows (the audit's own details)."""
    t7, t1 = audit.evaluate("s0-train-7b-time"), audit.evaluate("s0-train-1b-time")
    lat = audit.evaluate("s0-rc-latency-3b")
    return Exhibits({"mfu7_low": 100 * t7.details["mfu_needed_low"], "mfu7_high": 100 * t7.details["mfu_needed_high"],
                 "days7_peak": t7.details["days_at_100pct_mfu"], "mfu1_low": 100 * t1.details["mfu_needed_low"],
                 "floor3_ms": lat.details["floor_ms"], "floor3_tokens": lat.claim.params["output"]})


def worked_problems() -> Exhibits:
    """The solutions of the appendix's two worked problems, computed."""
    q = WORKED_QUOTE
    flops = float(training_flops(q["params"], q["tokens"]))
    peak = get_device(q["gpu"]).peak_flops("bf16")
    mfu = mfu_band()
    lat = audit.evaluate("s0-rc-latency-3b")
    return Exhibits({"p90_flops": flops, "p90_peak_tflops": peak / 1e12,
                 "p90_mfu": 100 * flops / (q["gpus"] * peak * q["days"] * 86400),
                 "p90_days_at_mid": flops / (q["gpus"] * peak * mfu.mid) / 86400, "p90_mfu_mid": 100 * mfu.mid,
                 "p90b_ms_per_token": lat.details["floor_ms"] / lat.claim.params["output"]})


def assumptions() -> Exhibits:
    """Exhibit: every input behind the verdicts, with its value, source and date."""
    mfu = mfu_band()
    n_claims = len(audit.seed_claims())
    gpus = sorted({c.params["gpu"] for c in audit.seed_claims() if isinstance(c.params, dict) and c.params.get("gpu")})
    runs = fit_runs()
    rows = [("seed claims", f"{n_claims} claims with their readings", "costlib/data/seed_claims.csv (seeds 000 and 001)", "—"),
            ("verdict tolerance", f"±{100 * (audit.HOLD_TOLERANCE - 1):.0f}% around costlib's band",
             "this book's rule (costlib.book.audit.HOLD_TOLERANCE)", "—"),
            ("MFU band (training)", f"{100 * mfu.low:.0f}%–{100 * mfu.high:.0f}% (mid {100 * mfu.mid:.0f}%)",
             f"the training chapter: calibrated on {len(runs)} published runs (costlib/data/published_runs.csv)",
             str(max(r.as_of for r in runs))),
            ("serving efficiencies", "the inference chapter's calibrated bands",
             f"the inference chapter: {len(backtest())} published serving measurements (costlib/data/inference_benchmarks.csv)",
             "see the inference chapter"),
            ("request profile (class claims)", f"{slm.PROFILE['prompt']:,}-token prompt, {slm.PROFILE['output']}-token answer, "
             f"batch {slm.PROFILE['batch']}, {slm.PROFILE['context']:,}-token context",
             "this book's assumption (costlib.book.slm_vs_llm.PROFILE)", "—")]
    for gpu in gpus:
        d = get_device(gpu)
        rows.append((f"{d.name} specification", f"{d.memory_gib:,.0f} GiB, {d.bandwidth_gb_s:,.0f} GB/s", d.source, str(d.as_of)))
        used = prices_for(gpu)  # the offers behind gpu_price_band, which the audit uses
        if used:
            b = gpu_price_band(gpu)
            rows.append((f"{d.name} rental price", f"${b.low:.2f}–${b.high:.2f} per GPU-hour (mid ${b.mid:.2f}, {len(used)} offers)",
                         "costlib/data/prices.csv: " + ", ".join(sorted({p.provider for p in used})), str(max(p.as_of for p in used))))
    for r in fx.fx_rates():
        rows.append((f"{r.currency} per US dollar", f"{r.per_usd:.2f}", r.source, r.as_of))
    df = pd.DataFrame(rows, columns=["input", "value", "source", "as of"])
    css = {c: COMPACT for c in df.columns} | {"source": COMPACT | {"overflow-wrap": "anywhere", "min-width": "8em"},
                                              "as of": COMPACT | {"white-space": "nowrap"}}
    return Exhibits(tables={"tbl-assumptions-90": Table(df, css=css)})
