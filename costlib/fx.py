"""Exchange rates: one loader, one rule for a rate and for a band of rates.

Dated rates (units of a currency per US dollar) live in ``data/fx_rates.csv``, each row with its source and date
(Federal Reserve H.10 weekly releases; RBI reference rate as republished by NSE). The rule, used by every
chapter and by the seed audit:

* :func:`fx_rate`: the newest rate (or the newest on or before ``as_of``);
* :func:`fx_band`: low and high = the lowest and highest dated rate in the catalog, mid = :func:`fx_rate`
  (today's conversion), so a figure converted at the mid is the figure converted at the rate a reader sees.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv
from .errors import InputError
from .uncertainty import Band
from .validate import non_negative

FX_SCHEMA = Schema(
    (Column("id"), Column("currency"), Column("per_usd", "float", positive=True, unit="currency/USD"), SOURCE, AS_OF, NOTES)
)


@dataclass(frozen=True)
class FxRate:
    id: str
    currency: str
    per_usd: float
    source: str
    as_of: str
    notes: str = ""


@lru_cache(maxsize=1)
def fx_rates() -> tuple[FxRate, ...]:
    """Dated exchange rates from ``data/fx_rates.csv`` (units of currency per US dollar)."""
    return tuple(FxRate(r["id"], r["currency"], r["per_usd"], r["source"], r["as_of"].isoformat(), r["notes"] or "")
                 for r in load_csv("fx_rates.csv", FX_SCHEMA))


def _rows(currency: str) -> list[FxRate]:
    rows = [r for r in fx_rates() if r.currency == currency]
    if not rows:
        raise InputError("currency", currency, "one of " + ", ".join(sorted({r.currency for r in fx_rates()})))
    return rows


def fx_rate(currency: str = "INR", as_of: str | None = None) -> FxRate:
    """The newest rate for ``currency`` (or the newest on or before ``as_of``, an ISO date)."""
    rows = _rows(currency)
    if as_of is not None:
        rows = [r for r in rows if r.as_of <= as_of]
        if not rows:
            raise InputError("as_of", as_of, f"a date on or after the oldest {currency} rate")
    return max(rows, key=lambda r: r.as_of)


def fx_band(currency: str = "INR") -> Band:
    """Units of ``currency`` per US dollar: lowest and highest dated rate, mid = the newest (:func:`fx_rate`)."""
    values = [r.per_usd for r in _rows(currency)]
    return Band(min(values), fx_rate(currency).per_usd, max(values))


def to_usd(amount, currency: str = "INR", as_of: str | None = None):
    """Convert an amount (number or array) in ``currency`` to US dollars at a dated rate."""
    return non_negative("amount", amount) / fx_rate(currency, as_of).per_usd
