"""GPU rental prices and hosted-API token prices from ``data/prices.csv`` and ``data/api_prices.csv``.

Every row is dated: a price is a fact about one offer on one day. Where several providers
list a GPU, :func:`gpu_price_band` spans them (low = cheapest, high = dearest, mid = median).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv
from .errors import InputError, UnknownIdError
from .hardware import devices, get_device
from .uncertainty import Band

PRICE_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("gpu_id"),
        Column("provider"),
        Column("offer", choices=("on-demand", "reserved-1y", "reserved-3y", "spot", "capacity-block")),
        Column("price_usd_per_gpu_hour", "float", positive=True, unit="$/GPU-hour"),
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
        Column("size_class", choices=("small", "large")),
        Column("input_usd_per_1m", "float", positive=True, unit="$/1M tokens"),
        Column("output_usd_per_1m", "float", positive=True, unit="$/1M tokens"),
        Column("cached_input_usd_per_1m", "float", required=False, positive=True, unit="$/1M tokens"),
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
    id: str
    model: str
    provider: str
    size_class: str
    input_usd_per_1m: float
    output_usd_per_1m: float
    cached_input_usd_per_1m: float | None
    source: str
    as_of: str
    notes: str = ""

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


def _gpu_known(row: dict) -> str | None:
    if row["gpu_id"] not in devices():
        return f"gpu_id: {row['gpu_id']!r} is not in hardware.csv"
    return None


PRICE_SCHEMA = Schema(PRICE_SCHEMA.columns, row_checks=(_gpu_known,))


def _strip(row: dict) -> dict:
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out["as_of"] = row["as_of"].isoformat()
    out["notes"] = row.get("notes") or ""
    return out


@lru_cache(maxsize=1)
def gpu_prices() -> tuple[GpuPrice, ...]:
    """All GPU price rows (validated once)."""
    rows = load_csv("prices.csv", PRICE_SCHEMA)
    return tuple(GpuPrice(**{**_strip(r), "region": r["region"] or ""}) for r in rows)


@lru_cache(maxsize=1)
def api_prices() -> Mapping[str, ApiPrice]:
    """Hosted-API price rows by id (validated once)."""
    return MappingProxyType({r["id"]: ApiPrice(**_strip(r)) for r in load_csv("api_prices.csv", API_SCHEMA)})


def get_api_price(api_id: str, parameter: str = "api") -> ApiPrice:
    table = api_prices()
    if api_id not in table:
        raise UnknownIdError(parameter, api_id, sorted(table))
    return table[api_id]


def prices_for(gpu_id: str, offers: tuple[str, ...] = ("on-demand",)) -> list[GpuPrice]:
    """Price rows for one GPU (on-demand by default), newest first."""
    get_device(gpu_id)
    rows = [p for p in gpu_prices() if p.gpu_id == gpu_id and p.offer in offers]
    return sorted(rows, key=lambda p: p.as_of, reverse=True)


def gpu_price_band(gpu_id: str, offers: tuple[str, ...] = ("on-demand",)) -> Band:
    """$/GPU-hour band over the catalog's offers for a GPU: cheapest, median, dearest."""
    rows = prices_for(gpu_id, offers)
    if not rows:
        priced = sorted({p.gpu_id for p in gpu_prices() if p.offer in offers})
        raise InputError("gpu", gpu_id, f"a GPU with a catalog price (priced: {', '.join(priced)}); or pass a price")
    values = np.array([p.price_usd_per_gpu_hour for p in rows])
    return Band(float(values.min()), float(np.median(values)), float(values.max()))


def price_table():
    import pandas as pd

    return pd.DataFrame([p.__dict__ for p in gpu_prices()])


def api_price_table():
    import pandas as pd

    return pd.DataFrame([p.__dict__ for p in api_prices().values()])
