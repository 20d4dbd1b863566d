"""How old the catalogs are: per catalog, rows, oldest / median / newest ``as_of`` and the rows past a stated age.

A report, never a test: catalogs age as time passes, and the book says so instead of failing. The
hosted-API table is read through :func:`costlib.prices.api_prices`, so a row priced from genai-prices counts
at the package's own start date for that price (or the date it was checked against the pin).
"""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass

from .catalog import DATA_DIR

STALE_AFTER_DAYS = 365
"""Default stated age for prices: a row is past its age when its ``as_of`` is more than this many days before
the reference date (GPU and API prices move monthly; a year-old price is a historical fact, not a quote)."""
STATED_AGE_DAYS = {"prices.csv": STALE_AFTER_DAYS, "api_prices.csv": STALE_AFTER_DAYS, "fx_rates.csv": STALE_AFTER_DAYS,
                   "hardware.csv": 5 * 365, "models.csv": 3 * 365}
"""Stated age per catalog. Prices and exchange rates: one year. Hardware: five years (a datasheet does not
change, but a device older than that is rarely what readers rent). Models: three years. Measurements
(benchmarks, published runs, technique evidence) are facts of their date and have no stated age (None)."""


@dataclass(frozen=True)
class CatalogAge:
    catalog: str
    rows: int
    oldest: str
    median: str
    newest: str
    stated_age_days: int | None
    stale_rows: int | None
    stale_ids: tuple[str, ...]

    def as_dict(self) -> dict:
        return {**self.__dict__, "stale_ids": list(self.stale_ids)}


def _dates(name: str) -> list[tuple[str, dt.date]]:
    if name == "api_prices.csv":
        from .prices import api_prices

        return [(p.id, dt.date.fromisoformat(p.as_of)) for p in api_prices().values()]
    path = DATA_DIR / name
    with path.open(newline="", encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    out = []
    for k, row in enumerate(csv.DictReader(lines), start=1):
        raw = (row.get("as_of") or "").strip()
        if raw:
            out.append((row.get("id") or row.get("claim_id") or f"row {k}", dt.date.fromisoformat(raw)))
    return out


def catalog_names() -> list[str]:
    """The dated catalogs in ``costlib/data`` (every CSV with an ``as_of`` column)."""
    names = []
    for path in sorted(DATA_DIR.glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            header = next((line for line in fh if line.strip() and not line.startswith("#")), "")
        if "as_of" in header.split(","):
            names.append(path.name)
    return names


def reference_date() -> dt.date:
    """The newest ``as_of`` over all catalogs: a fixed point, so the report of a given checkout never changes."""
    return max(d for name in catalog_names() for _, d in _dates(name))


def catalog_age(name: str, *, as_of: dt.date | str | None = None, stale_after_days: int | None = None) -> CatalogAge:
    """Age of one catalog relative to ``as_of`` (default :func:`reference_date`; pass ``dt.date.today()`` for now).
    ``stale_after_days`` defaults to the catalog's :data:`STATED_AGE_DAYS` (None: no stated age, nothing listed)."""
    from .errors import InputError

    if name not in catalog_names():
        raise InputError("catalog", name, "one of " + ", ".join(catalog_names()))
    days = stale_after_days if stale_after_days is not None else STATED_AGE_DAYS.get(name)
    if days is not None and not (isinstance(days, int) and days > 0):
        raise InputError("stale_after_days", days, "a whole number of days > 0")
    ref = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else (as_of or reference_date())
    rows = _dates(name)
    dates = sorted(d for _, d in rows)
    stale = tuple(i for i, d in rows if d < ref - dt.timedelta(days=days)) if days else ()
    return CatalogAge(name, len(rows), dates[0].isoformat(), dates[(len(dates) - 1) // 2].isoformat(),
                      dates[-1].isoformat(), days, len(stale) if days else None, stale)


def freshness_table(*, as_of: dt.date | str | None = None, stale_after_days: int | None = None):
    """One row per catalog (a pandas DataFrame): rows, oldest / median / newest as_of, rows past the age."""
    import pandas as pd

    ages = [catalog_age(n, as_of=as_of, stale_after_days=stale_after_days) for n in catalog_names()]
    return pd.DataFrame([{k: v for k, v in a.as_dict().items() if k != "stale_ids"} for a in ages])


def report(*, as_of: dt.date | str | None = None, stale_after_days: int | None = None) -> str:
    """The plain-text report ``make data-check`` prints."""
    ref = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else (as_of or reference_date())
    lines = [f"Catalog freshness on {ref.isoformat()} (rows older than the stated age are listed; a report, not a test)", ""]
    head = f"{'catalog':<26} {'rows':>5} {'oldest':>10} {'median':>10} {'newest':>10} {'age (d)':>7} {'past age':>8}"
    lines += [head, "-" * len(head)]
    ages = [catalog_age(n, as_of=ref, stale_after_days=stale_after_days) for n in catalog_names()]
    for a in ages:
        age = "-" if a.stated_age_days is None else a.stated_age_days
        past = "-" if a.stale_rows is None else a.stale_rows
        lines.append(f"{a.catalog:<26} {a.rows:>5} {a.oldest:>10} {a.median:>10} {a.newest:>10} {age:>7} {past:>8}")
    for a in ages:
        if a.stale_ids:
            shown = ", ".join(a.stale_ids[:12]) + (f", ... ({len(a.stale_ids) - 12} more)" if len(a.stale_ids) > 12 else "")
            lines.append(f"  {a.catalog}: {shown}")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="Report the age of costlib's catalogs (never fails on age).")
    p.add_argument("--as-of", default=None, help="reference date (default: today; 'catalog' = the newest as_of)")
    p.add_argument("--stale-after-days", type=int, default=None, help="one stated age for every catalog (default: per catalog)")
    a = p.parse_args(argv)
    ref = reference_date() if a.as_of == "catalog" else (a.as_of or dt.date.today())
    print(report(as_of=ref, stale_after_days=a.stale_after_days))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
