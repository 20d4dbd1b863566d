"""GPU rental prices (``data/prices.csv``) and hosted-API token prices (``data/api_prices.csv`` + genai-prices).

Every price is a fact about one offer on one day, so every row is dated.

GPU rentals. Offers are kept apart by kind: ``on-demand``; ``spot`` (interruptible spot and peer-hosted
"community cloud" rows, which other sources call spot); ``committed`` (``reserved-1y`` / ``reserved-3y`` and
``reserved`` contracts of unstated term, each also a kind of its own);
``capacity-block`` (prepaid windows); ``flex`` (queued flex-start shapes, never in a default band).
:func:`gpu_price_band` spans the offers of one kind that are no older than ``window_months`` before the
catalog date (the newest ``as_of`` in prices.csv), one per provider, offer and region (the newest):
low = cheapest, mid = median, high = dearest of those offers, a range of list prices, not a coverage claim.

Hosted APIs. ``api_prices.csv`` is the curated list of offers the book compares, each with a tier
(small / mid / large), a status (current / superseded / retired) and a successor. Rows that name a
``genai_provider`` / ``genai_model`` take their prices from the pinned ``genai-prices`` package (the
Pydantic team's dated price table, bundled in the wheel; :func:`genai_prices.UpdatePrices` would fetch
and is never called): the price active at :data:`PRICE_TIMESTAMP`, with the package's start date for it
when the package dates it. Only current rows are ever defaults (:func:`api_tiers`).
"""
from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv
from .errors import CatalogError, InputError, UnknownIdError
from .hardware import devices, get_device
from .uncertainty import Band

# --- named constants -----------------------------------------------------------------------------

PRICE_DATE = dt.date(2026, 12, 1)
"""The catalog date of the hosted-API table: prices are read from genai-prices as active on this day."""
PRICE_TIMESTAMP = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.timezone.utc)
"""Tuesday 02:00 UTC on :data:`PRICE_DATE`: inside DeepSeek's weekday peak window (UTC 01:00-04:00), so
time-of-day discounts are not counted; every other provider's price is the same all day."""
GENAI_PRICES_PIN = "0.2.3"
"""The genai-prices version requirements.txt pins (checked against the installed one on load)."""
GPU_PRICE_WINDOW_MONTHS = 12
"""Default recency window for GPU price bands: offers older than this before the catalog date are left out."""
BLEND_INPUT_SHARE = 0.75
"""Blended $/1M tokens = 3 parts input to 1 part output (the convention of Artificial Analysis' price index)."""

TIERS = ("small", "mid", "large")
STATUSES = ("current", "superseded", "retired")
OFFERS = ("on-demand", "spot", "community", "reserved-1y", "reserved-3y", "reserved", "capacity-block", "flex")
PRICE_KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "on-demand": ("on-demand",),
    "spot": ("spot", "community"),
    "reserved-1y": ("reserved-1y",),
    "reserved-3y": ("reserved-3y",),
    "committed": ("reserved-1y", "reserved-3y", "reserved"),
    "capacity-block": ("capacity-block",),
    "flex": ("flex",),
})
"""Band kinds and the ``offer`` values each spans: community cloud counts as spot; ``committed`` spans every
reserved offer (1-year, 3-year, and ``reserved`` = a committed contract whose term the provider's rate card does
not state). Capacity blocks (prepaid days-to-weeks windows) and flex-start shapes stay kinds of their own."""

# Plausible list-price ranges: a price typed in cents (298 for $2.98) or per second fails on load.
GPU_PRICE_RANGE = (0.03, 60.0)  # $/GPU-hour
API_PRICE_RANGE = (0.005, 500.0)  # $/1M tokens

PRICE_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("gpu_id"),
        Column("provider"),
        Column("offer", choices=OFFERS),
        Column("price_usd_per_gpu_hour", "float", positive=True, unit="$/GPU-hour", magnitude=GPU_PRICE_RANGE),
        Column("region", required=False),
        SOURCE,
        AS_OF,
        NOTES,
    )
)

API_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("model"),
        Column("provider"),
        Column("tier", choices=TIERS),
        Column("status", choices=STATUSES),
        Column("successor", required=False),
        Column("genai_provider", required=False),
        Column("genai_model", required=False),
        Column("open_model", required=False),
        Column("input_usd_per_1m", "float", required=False, positive=True, unit="$/1M tokens", magnitude=API_PRICE_RANGE),
        Column("output_usd_per_1m", "float", required=False, positive=True, unit="$/1M tokens", magnitude=API_PRICE_RANGE),
        Column("cached_input_usd_per_1m", "float", required=False, positive=True, unit="$/1M tokens", magnitude=(0.0005, 500.0)),
        SOURCE,
        AS_OF,
        NOTES,
    )
)


@dataclass(frozen=True)
class GpuPrice:
    id: str
    gpu_id: str
    provider: str
    offer: str
    price_usd_per_gpu_hour: float
    region: str
    source: str
    as_of: str
    notes: str = ""


@dataclass(frozen=True)
class ApiPrice:
    """One hosted-API offer: list prices in $/1M tokens, its tier and status, and where the price comes from."""

    id: str
    model: str
    provider: str
    size_class: str  # "small" for the small tier, "large" otherwise (kept for older callers)
    input_usd_per_1m: float
    output_usd_per_1m: float
    cached_input_usd_per_1m: float | None
    source: str
    as_of: str
    notes: str = ""
    tier: str = "small"
    status: str = "current"
    successor: str = ""
    open_model: str = ""
    price_since: str | None = None  # the price's start date in genai-prices, when the package dates it
    package: str = ""  # "genai-prices 0.2.3" for package rows, "" for hand-typed rows

    @property
    def is_current(self) -> bool:
        return self.status == "current"

    @property
    def blended_usd_per_1m(self) -> float:
        """3:1 input:output blended price (:data:`BLEND_INPUT_SHARE`)."""
        return BLEND_INPUT_SHARE * self.input_usd_per_1m + (1 - BLEND_INPUT_SHARE) * self.output_usd_per_1m

    def cost_usd(self, input_tokens, output_tokens, cached_input_tokens=0.0):
        """Dollars for a token count (numbers or arrays); cached input at its own price where offered."""
        from .validate import non_negative

        i = non_negative("input_tokens", input_tokens)
        o = non_negative("output_tokens", output_tokens)
        c = non_negative("cached_input_tokens", cached_input_tokens)
        if np.any(np.asarray(c) > np.asarray(i)):
            raise InputError("cached_input_tokens", cached_input_tokens, "at most input_tokens")
        cached_price = self.cached_input_usd_per_1m if self.cached_input_usd_per_1m is not None else self.input_usd_per_1m
        return ((i - c) * self.input_usd_per_1m + c * cached_price + o * self.output_usd_per_1m) / 1e6


class RetiredOfferError(InputError):
    """A hosted-API offer that is not current, asked for where only a current one will do."""

    def __init__(self, parameter: str, price: ApiPrice):
        self.price = price
        succ = f"; use its successor {price.successor!r}" if price.successor else ""
        super().__init__(parameter, price.id, f"a current offer ({price.id!r} is {price.status}{succ})")


def _gpu_known(row: dict) -> str | None:
    if row["gpu_id"] not in devices():
        return f"gpu_id: {row['gpu_id']!r} is not in hardware.csv"
    return None


PRICE_SCHEMA = Schema(PRICE_SCHEMA.columns, row_checks=(_gpu_known,))


def _api_row_check(row: dict) -> str | None:
    packaged = row["genai_provider"] is not None or row["genai_model"] is not None
    if packaged and (row["genai_provider"] is None or row["genai_model"] is None):
        return "genai_model: genai_provider and genai_model go together"
    if not packaged and (row["input_usd_per_1m"] is None or row["output_usd_per_1m"] is None):
        return "input_usd_per_1m: a row without a genai-prices reference needs its own input and output prices"
    if row["status"] != "current" and not row["successor"]:
        return f"successor: a {row['status']} offer names the offer that replaces it"
    return None


API_SCHEMA = Schema(API_SCHEMA.columns, row_checks=(_api_row_check,))


def _strip(row: dict) -> dict:
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out["as_of"] = row["as_of"].isoformat()
    out["notes"] = row.get("notes") or ""
    return out


# --- GPU rental prices ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def gpu_prices() -> tuple[GpuPrice, ...]:
    """All GPU price rows (validated once), whatever their date and kind."""
    rows = load_csv("prices.csv", PRICE_SCHEMA)
    duplicate_offer_problem(rows, "prices.csv")
    return tuple(GpuPrice(**{**_strip(r), "region": r["region"] or ""}) for r in rows)


def duplicate_offer_problem(rows: Sequence[dict], file: str) -> None:
    """Refuse the same offer typed twice under two ids: one GPU, provider, offer, region, date and price.
    (Two sizes of one provider's instance on one day, at different per-GPU prices, are two offers.)"""
    seen: dict[tuple, tuple[str, int]] = {}
    for r in rows:
        key = (r["gpu_id"], r["provider"], r["offer"], r["region"] or "", r["as_of"], round(float(r["price_usd_per_gpu_hour"]), 6))
        if key in seen:
            first_id, first_row = seen[key]
            raise CatalogError(file, r["_row"], "id", f"{r['id']!r} repeats the offer of {first_id!r} (row {first_row}): "
                               "same GPU, provider, offer, region, date and price")
        seen[key] = (r["id"], r["_row"])


def catalog_date() -> str:
    """The catalog date of prices.csv: its newest ``as_of``."""
    return max(p.as_of for p in gpu_prices())


def _months_before(date: str, months: float) -> str:
    d = dt.date.fromisoformat(date)
    return (d - dt.timedelta(days=math.ceil(months * 365.25 / 12))).isoformat()


def _offers_for(kind) -> tuple[str, ...]:
    if isinstance(kind, (tuple, list)):  # the older call style: a tuple of offer names
        for k in kind:
            if k not in OFFERS:
                raise InputError("kind", k, "one of " + ", ".join(PRICE_KINDS) + " (or offers " + ", ".join(OFFERS) + ")")
        return tuple(kind)
    if kind not in PRICE_KINDS:
        raise InputError("kind", kind, "one of " + ", ".join(PRICE_KINDS))
    return PRICE_KINDS[kind]


def prices_for(gpu_id: str, kind="on-demand", window_months: float | None = GPU_PRICE_WINDOW_MONTHS) -> list[GpuPrice]:
    """The offers behind :func:`gpu_price_band`, newest first: rows of ``kind`` for one GPU no older than
    ``window_months`` before :func:`catalog_date` (``None``: any date), one per provider, offer and region
    (the newest; on a tie the first in the file)."""
    get_device(gpu_id)
    offers = _offers_for(kind)
    if window_months is not None and not (isinstance(window_months, (int, float)) and window_months > 0):
        raise InputError("window_months", window_months, "a number of months > 0, or None for every date")
    since = _months_before(catalog_date(), window_months) if window_months is not None else "0000-00-00"
    rows = [p for p in gpu_prices() if p.gpu_id == gpu_id and p.offer in offers and p.as_of >= since]
    rows.sort(key=lambda p: p.as_of, reverse=True)
    seen, out = set(), []
    for p in rows:
        key = (p.provider, p.offer, p.region)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def gpu_price_band(gpu_id: str, kind="on-demand", window_months: float | None = GPU_PRICE_WINDOW_MONTHS) -> Band:
    """$/GPU-hour band for one GPU and offer kind: cheapest, median, dearest of the recent, de-duplicated
    offers of :func:`prices_for`. An error names what is priced when nothing qualifies."""
    rows = prices_for(gpu_id, kind, window_months)
    if not rows:
        offers = _offers_for(kind)
        label = kind if isinstance(kind, str) else "/".join(kind)
        older = [p for p in gpu_prices() if p.gpu_id == gpu_id and p.offer in offers]
        if older:
            newest = max(p.as_of for p in older)
            raise InputError("gpu", gpu_id, f"a GPU with a {label} price within {window_months} months of the catalog "
                             f"date {catalog_date()} (the newest {gpu_id} {label} offer is from {newest}: widen "
                             f"window_months, or pass a price)")
        priced = sorted({p.gpu_id for p in gpu_prices() if p.offer in offers})
        raise InputError("gpu", gpu_id, f"a GPU with a catalog {label} price (priced: {', '.join(priced)}); or pass a price")
    values = [float(p.price_usd_per_gpu_hour) for p in rows]
    # statistics.median: the same value as np.median (the middle one, or the mean of the two middle ones), without
    # np.median's import of numpy.ma (~20 ms of a one-shot CLI answer)
    return Band(min(values), float(statistics.median(values)), max(values))


def offer_pairs(offer: str, window_months: float | None = GPU_PRICE_WINDOW_MONTHS) -> list[tuple[GpuPrice, GpuPrice]]:
    """(``offer`` row, on-demand row) pairs of one provider's rate card: the same GPU, provider, region and
    ``as_of``, among the offers of :func:`prices_for` (recent, one per provider, offer and region). The pair is
    what a discount factor is read from: the provider's own committed (or spot) price over its own on-demand one."""
    if offer not in OFFERS or offer == "on-demand":
        raise InputError("offer", offer, "one of " + ", ".join(o for o in OFFERS if o != "on-demand"))
    out = []
    for gpu in sorted({p.gpu_id for p in gpu_prices() if p.offer == offer}):
        recent = prices_for(gpu, (offer, "on-demand"), window_months)
        od = {(p.provider, p.region, p.as_of): p for p in recent if p.offer == "on-demand"}
        out += [(p, od[(p.provider, p.region, p.as_of)]) for p in recent
                if p.offer == offer and (p.provider, p.region, p.as_of) in od]
    return out


def offer_factor_band(offer: str, window_months: float | None = GPU_PRICE_WINDOW_MONTHS) -> Band | None:
    """Price of ``offer`` over the same provider's on-demand price (:func:`offer_pairs`): lowest, median and
    highest ratio over the pairs, or None when the catalog holds no such pair. A range of published ratios,
    not a coverage claim. The planner takes its committed factors from here whenever a pair exists."""
    ratios = [float(c.price_usd_per_gpu_hour) / float(o.price_usd_per_gpu_hour) for c, o in offer_pairs(offer, window_months)]
    if not ratios:
        return None
    return Band(min(ratios), float(statistics.median(ratios)), max(ratios))


def price_table():
    import pandas as pd

    return pd.DataFrame([p.__dict__ for p in gpu_prices()])


# --- hosted-API prices ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _genai_models() -> Mapping[tuple[str, str], object]:
    """(provider id, model id) -> genai-prices ModelInfo, from the bundled snapshot (no network)."""
    from genai_prices.data import providers  # the bundled table; UpdatePrices is never started

    return MappingProxyType({(p.id, m.id): m for p in providers for m in p.models})


def genai_prices_version() -> str:
    from importlib.metadata import version

    return version("genai-prices")


def _base(price) -> float | None:
    """A genai-prices price as a float: a TieredPrices counts at its base (shortest-prompt) tier."""
    if price is None:
        return None
    return float(getattr(price, "base", price))


def _active(info, when: dt.datetime):
    """The genai-prices price of ``info`` active at ``when`` and its start date (None when undated)."""
    prices = info.prices
    if not isinstance(prices, list):
        return prices, None
    chosen, since = prices[0].prices, None
    for cp in reversed(prices):
        if cp.constraint is None or cp.constraint.active(when):
            chosen = cp.prices
            since = getattr(cp.constraint, "start_date", None)
            break
    if since is None:  # a time-of-day or unconstrained price: date it by the newest dated change before it
        dated = [getattr(cp.constraint, "start_date", None) for cp in prices]
        dated = [d for d in dated if d is not None and d <= when.date()]
        since = max(dated) if dated else None
    return chosen, since


def package_retirement(info) -> str | None:
    """Why genai-prices says a model is no longer sold (its ``deprecated`` flag or a shut-down note), or None."""
    if getattr(info, "deprecated", None):
        return "marked deprecated in genai-prices"
    text = " ".join(filter(None, (getattr(info, "price_comments", None), getattr(info, "description", None)))).lower()
    for phrase in ("shut down", "retired, here to match", "retired on"):
        if phrase in text:
            return f"genai-prices notes it as {phrase!r}"
    return None


def _from_package(row: dict, file: str = "api_prices.csv") -> dict:
    key = (row["genai_provider"], row["genai_model"])
    info = _genai_models().get(key)
    if info is None:
        raise CatalogError(file, row["_row"], "genai_model", f"{key[1]!r} of provider {key[0]!r} is not in genai-prices {genai_prices_version()}")
    if row["status"] == "current":
        why = package_retirement(info)
        if why:
            raise CatalogError(file, row["_row"], "status", f"'current' but {key[1]!r} is {why}")
    price, since = _active(info, PRICE_TIMESTAMP)
    inp, out, cached = _base(price.input_mtok), _base(price.output_mtok), _base(price.cache_read_mtok)
    if inp is None or out is None:
        raise CatalogError(file, row["_row"], "genai_model", f"{key[1]!r} has no input/output token price in genai-prices")
    for col, v in (("input_usd_per_1m", inp), ("output_usd_per_1m", out)):
        lo, hi = API_PRICE_RANGE
        if not lo <= v <= hi:
            raise CatalogError(file, row["_row"], col, f"{v:g} from genai-prices is outside {lo:g} to {hi:g} $/1M tokens")
    version = genai_prices_version()
    return {
        "input_usd_per_1m": inp,
        "output_usd_per_1m": out,
        "cached_input_usd_per_1m": cached,
        "price_since": since.isoformat() if since else None,
        "as_of": (since or row["as_of"]).isoformat(),
        "package": f"genai-prices {version}",
        "source": f"https://pypi.org/project/genai-prices/{version}/ ({key[0]}:{key[1]})",
    }


@lru_cache(maxsize=1)
def api_prices() -> Mapping[str, ApiPrice]:
    """Every hosted-API row by id (current, superseded and retired), validated once."""
    out = {}
    for r in load_csv("api_prices.csv", API_SCHEMA):
        fields = _strip(r)
        for k in ("genai_provider", "genai_model"):
            fields.pop(k)
        fields["successor"] = r["successor"] or ""
        fields["open_model"] = r["open_model"] or ""
        if r["genai_provider"]:
            fields.update(_from_package(r))
        fields["size_class"] = "small" if r["tier"] == "small" else "large"
        out[r["id"]] = ApiPrice(**fields)
    for p in out.values():
        if p.successor and (p.successor not in out or not out[p.successor].is_current):
            raise CatalogError("api_prices.csv", None, "successor", f"{p.id}: successor {p.successor!r} is not a current row")
    return MappingProxyType(out)


def current_api_prices() -> Mapping[str, ApiPrice]:
    """The current offers only (what any default or comparison may use)."""
    return MappingProxyType({k: v for k, v in api_prices().items() if v.is_current})


def api_tiers() -> dict[str, tuple[str, ...]]:
    """Tier -> ids of the current offers in it, cheapest blended price first."""
    cur = current_api_prices().values()
    return {t: tuple(p.id for p in sorted((p for p in cur if p.tier == t), key=lambda p: (p.blended_usd_per_1m, p.id))) for t in TIERS}


def current_tier_offer(provider: str, tier: str) -> str:
    """The id of ``provider``'s current offer in ``tier``: the cheapest blended of its current rows there (the
    order of :func:`api_tiers`). The one rule every chapter's default API follows, so that no chapter defaults to a
    retired or superseded offer; e.g. ``current_tier_offer("OpenAI", "large")`` is GPT-4o's successor."""
    if tier not in TIERS:
        raise InputError("tier", tier, "one of " + ", ".join(TIERS))
    table = api_prices()
    for api_id in api_tiers()[tier]:
        if table[api_id].provider == provider:
            return api_id
    offered = sorted({table[i].provider for i in api_tiers()[tier]})
    raise InputError("provider", provider, f"a provider with a current {tier}-tier offer: " + ", ".join(offered))


def current_successor(api_id: str, parameter: str = "api") -> str:
    """``api_id`` itself when it is current, else the current offer that replaces it (its ``successor``, which
    :func:`api_prices` checks is a current row): how a chapter that once compared a 2024 offer names today's."""
    price = get_api_price(api_id, parameter)
    return price.id if price.is_current else price.successor


def get_api_price(api_id: str, parameter: str = "api", *, current: bool = False) -> ApiPrice:
    """One hosted-API offer by id. Every id the catalog has ever had keeps working (a superseded or retired
    row returns its own dated price, with ``status`` and ``successor`` set); ``current=True`` raises
    :class:`RetiredOfferError`, naming the successor, for an offer that is not current."""
    table = api_prices()
    if api_id not in table:
        raise UnknownIdError(parameter, api_id, sorted(table))
    price = table[api_id]
    if current and not price.is_current:
        raise RetiredOfferError(parameter, price)
    return price


def api_price_table(include_retired: bool = False):
    """The hosted-API table (current offers unless ``include_retired``), with each row's price date."""
    import pandas as pd

    rows = [p for p in api_prices().values() if include_retired or p.is_current]
    df = pd.DataFrame([{**p.__dict__, "blended_usd_per_1m": p.blended_usd_per_1m} for p in rows])
    return df


def open_model_api_band(model_id: str) -> Band:
    """Blended $/1M tokens over the current hosts of one open model (cheapest, median, dearest)."""
    rows = [p for p in current_api_prices().values() if p.open_model == model_id]
    if not rows:
        hosted = sorted({p.open_model for p in current_api_prices().values() if p.open_model})
        raise InputError("model", model_id, "an open model with a current hosted price: " + ", ".join(hosted))
    v = np.array([p.blended_usd_per_1m for p in rows])
    return Band(float(v.min()), float(np.median(v)), float(v.max()))


def tier_price_history(tier: str, providers: Sequence[str] | None = None):
    """Blended $/1M tokens of a tier over time, one point per dated price: every row of api_prices.csv in
    ``tier`` (hand-typed 2024-2026 rows at their own dates, current rows at their genai-prices start dates)
    plus each dated price change genai-prices records for the current rows. Returns a DataFrame with date,
    provider, offer, status and blended price, oldest first."""
    import pandas as pd

    if tier not in TIERS:
        raise InputError("tier", tier, "one of " + ", ".join(TIERS))
    recs = []
    for p in api_prices().values():
        if p.tier != tier or (providers and p.provider not in providers) or p.open_model:
            continue
        recs.append({"date": p.as_of, "provider": p.provider, "offer": p.model, "status": p.status,
                     "blended_usd_per_1m": p.blended_usd_per_1m, "from": p.package or "hand-typed row"})
    raw = load_csv("api_prices.csv", API_SCHEMA)
    for r in raw:
        if r["tier"] != tier or not r["genai_provider"] or r["status"] != "current" or r["open_model"]:
            continue
        if providers and r["provider"] not in providers:
            continue
        info = _genai_models()[(r["genai_provider"], r["genai_model"])]
        if not isinstance(info.prices, list):
            continue
        for cp in info.prices:
            d = getattr(cp.constraint, "start_date", None)
            if d is None or d > PRICE_DATE:
                continue
            i, o = _base(cp.prices.input_mtok), _base(cp.prices.output_mtok)
            if i is None or o is None:
                continue
            recs.append({"date": d.isoformat(), "provider": r["provider"], "offer": r["model"], "status": "price change",
                         "blended_usd_per_1m": BLEND_INPUT_SHARE * i + (1 - BLEND_INPUT_SHARE) * o,
                         "from": f"genai-prices {genai_prices_version()}"})
    df = pd.DataFrame(recs).drop_duplicates(subset=["date", "offer", "blended_usd_per_1m"])
    return df.sort_values(["date", "provider"]).reset_index(drop=True)
