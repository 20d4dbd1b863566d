"""What will my workload cost? A planner over self-hosted, hosted-API and hybrid options.

A reader states a **workload** (requests per day, or users x requests per user; prompt and output tokens, or
a small mix of task types; the peak-to-average ratio of the request rate, the active hours and days, growth)
and **service targets** (mean time to first token, mean time per output token). Each **option** is priced
per month:

* ``SelfHosted`` (a model on rented GPUs): one replica's capacity at the targets comes from the
  continuous-batching serving model (:func:`costlib.serving.capacity_at_slo` [1]); the fleet is sized for the
  end-of-year peak::

      peak  R = requests_per_day (1 + g) / (active_hours 3600) * peak_to_average            [requests/s]
      D     = sum_k  q_k R / C_k                                                            [replicas busy]
      replicas = max(min_replicas, ceil(D / max_utilization - 1e-9)),  GPUs = replicas * K
      $/month  = GPUs * price * 730 h + operations                                            (1)

  with q_k the share of requests of task k, C_k a replica's capacity for it (requests/s at the targets,
  carried to :data:`CAPACITY_DIGITS` significant digits) and K the GPUs per replica. ``price`` is the
  on-demand $/GPU-hour the reader chose (default: the catalog median) times the offer's factor
  (:func:`offer_price_factor`: reserved and spot are *derived from the chosen price*, so a reserved GPU never
  costs more than the same GPU on demand). With no K given, K is the smallest tensor-parallel degree in
  :data:`AUTO_GPUS` at which the model meets the targets (scale out by replicas, not by wider replicas).
* ``Api`` (a hosted model): ``$/month = requests_per_month * sum_k q_k price(P_k, O_k, cached share) +
  operations``, the dated list price of ``data/api_prices.csv``.
* ``Hybrid`` (a router): the small option carries (1 - s) of the requests, the large API the share s that
  is escalated, plus a router cost per request; each side sized for its own share of the peak.

requests_per_month = requests_per_day * active_days_per_year / 12 * (1 + g / 2) (the year's mean volume).

**Bands.** low / mid / high: the serving model's efficiency band (low cost from the highest capacity; high
cost from the lowest, or from the mid when the low end of the band cannot meet the targets at all) times the
offer's price-factor band; an API's list price is a point. **P10-P90**: a Monte Carlo with fixed seed over
the same two inputs, each triangular(low, mid, high), capacity comonotone across task types.

Monthly cost is never negative or NaN and never falls when traffic rises (a test checks it as a property);
a workload an option cannot serve (memory, a latency target below the physical floor) is reported with the
reason, not as a cost.

References
----------
[1] costlib.serving (continuous batching with chunked prefill; Kwon et al. 2023, Agrawal et al. 2024).
[2] Offer factors: ``data/offer_discounts.csv`` (sources and dates per row).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import CostlibError, InputError
from .uncertainty import Band
from .units import SECONDS_PER_HOUR

HOURS_PER_MONTH = 730.0
"""Hours a GPU is rented in a month (8,760 / 12), as cloud price sheets count them."""
MONTHS_PER_YEAR = 12.0
CAPACITY_DIGITS = 4
"""Significant digits a replica's capacity (requests/s) is carried to: far finer than its band, and short
enough that the published page holds the same numbers the CLI uses."""
AUTO_GPUS = (1, 2, 4, 8)
"""Tensor-parallel degrees tried, in order, when the GPUs per replica are not given."""
DEFAULT_PEAK_TO_AVERAGE = 2.0
"""Peak-hour rate over the mean rate of the active hours (assumption: a working-day load curve)."""
DEFAULT_MAX_UTILIZATION = 0.8
"""Share of the replicas' capacity at the targets the fleet runs at peak: 20% headroom for failover and
bursts beyond the peak hour (assumption)."""
MC_SAMPLES = 4000
"""Monte Carlo samples for P10-P90 (fixed seed 0): the percentiles move well under 1% between seeds."""
BREAK_EVEN_RANGE = (1e2, 1e9)
"""Requests per day searched for break-even volumes."""
OFFERS = ("on-demand", "reserved-1y", "reserved-3y", "spot")
COMMITTED_OFFERS = ("reserved-1y", "reserved-3y")
"""Offers whose factor comes from the providers' own paired rows in prices.csv (:func:`costlib.prices.offer_factor_band`:
committed price over the same provider's on-demand price) whenever prices.csv holds such a pair; else from
``offer_discounts.csv``."""
BINDINGS = ("ttft", "tpot", "memory", "throughput")


# --------------------------------------------------------------------------------------------
# offers: reserved and spot derived from the chosen on-demand price


@lru_cache(maxsize=1)
def offer_factors() -> Mapping[str, Band]:
    """Offer -> price factor band over on-demand, from ``data/offer_discounts.csv`` [2]; for :data:`COMMITTED_OFFERS`
    the range of the providers' own committed-over-on-demand ratios in ``data/prices.csv`` instead, when it has any."""
    from types import MappingProxyType

    from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv

    schema = Schema((Column("id"), Column("offer", choices=OFFERS),
                     *(Column(c, "float", positive=True) for c in ("factor_low", "factor_mid", "factor_high")),
                     SOURCE, AS_OF, NOTES))
    from .prices import offer_factor_band

    out = {}
    for r in load_csv("offer_discounts.csv", schema):
        out[r["offer"]] = Band(r["factor_low"], r["factor_mid"], r["factor_high"])
    for offer in COMMITTED_OFFERS:  # one rule: real committed rows of prices.csv, when any, replace the csv's range
        derived = offer_factor_band(offer)
        if derived is not None:
            out[offer] = derived
    return MappingProxyType(out)


def offer_price_factor(offer: str) -> Band:
    """Price of ``offer`` as a multiple of the on-demand price of the same GPU (a band, <= 1)."""
    table = offer_factors()
    if offer not in table:
        raise InputError("offer", offer, "one of " + ", ".join(table))
    return table[offer]


def offer_price(on_demand_usd_per_gpu_hour: float, offer: str) -> Band:
    """$/GPU-hour band of ``offer`` derived from the on-demand price the reader chose."""
    from .validate import positive

    p = float(positive("price_usd_per_gpu_hour", on_demand_usd_per_gpu_hour))
    return offer_price_factor(offer).scale(p)


def catalog_on_demand_price(gpu: str) -> Band:
    """On-demand $/GPU-hour over the catalog's dated offers for ``gpu``: cheapest, median, dearest."""
    from . import prices

    try:
        return prices.gpu_price_band(gpu, kind="on-demand")
    except TypeError:  # the catalog API before the window_months/kind signature
        return prices.gpu_price_band(gpu, ("on-demand",))


# --------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class Task:
    """One kind of request: its share of the requests and its tokens."""

    name: str
    share: float
    prompt_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Workload:
    requests_per_day: float
    tasks: tuple[Task, ...]
    peak_to_average: float = DEFAULT_PEAK_TO_AVERAGE
    active_hours_per_day: float = 24.0
    active_days_per_year: float = 365.0
    growth_per_year: float = 0.0

    def requests_per_month(self, scale=1.0):
        """Mean requests a month over the year (users grow linearly: the mean is 1 + g/2 times the start)."""
        return self.requests_per_day * np.asarray(scale, dtype=float) * self.active_days_per_year / MONTHS_PER_YEAR * (
            1.0 + self.growth_per_year / 2.0)

    def peak_rate_per_s(self, scale=1.0):
        """End-of-year peak request rate (requests/s)."""
        return (self.requests_per_day * np.asarray(scale, dtype=float) * (1.0 + self.growth_per_year)
                / (self.active_hours_per_day * SECONDS_PER_HOUR) * self.peak_to_average)

    def scaled(self, factor: float) -> "Workload":
        return replace(self, requests_per_day=self.requests_per_day * factor)


def workload(requests_per_day: float | None = None, *, users: float | None = None,
             requests_per_user_per_day: float | None = None, prompt_tokens: int | None = None,
             output_tokens: int | None = None, tasks: Sequence[tuple[str, float, int, int]] | None = None,
             peak_to_average: float = DEFAULT_PEAK_TO_AVERAGE, active_hours_per_day: float = 24.0,
             active_days_per_year: float = 365.0, growth_per_year: float = 0.0) -> Workload:
    """A validated :class:`Workload`: ``requests_per_day`` or ``users`` x ``requests_per_user_per_day``; one
    request shape (``prompt_tokens``, ``output_tokens``) or ``tasks`` = [(name, share, prompt, output), ...]
    with shares summing to 1."""
    from .validate import at_least, non_negative, positive

    if requests_per_day is None:
        if users is None or requests_per_user_per_day is None:
            raise InputError("requests_per_day", None, "a number > 0, or users and requests_per_user_per_day")
        requests_per_day = float(positive("users", users)) * float(positive("requests_per_user_per_day", requests_per_user_per_day))
    elif users is not None or requests_per_user_per_day is not None:
        raise InputError("users", users, "either requests_per_day or users x requests_per_user_per_day, not both")
    rpd = float(positive("requests_per_day", requests_per_day))
    if tasks is None:
        if prompt_tokens is None or output_tokens is None:
            raise InputError("prompt_tokens", prompt_tokens, "prompt_tokens and output_tokens (or tasks)")
        tasks = [("request", 1.0, prompt_tokens, output_tokens)]
    elif prompt_tokens is not None or output_tokens is not None:
        raise InputError("tasks", "with prompt_tokens", "either one request shape or a task mix, not both")
    out = []
    for i, t in enumerate(tasks):
        if len(t) != 4:
            raise InputError(f"tasks[{i}]", t, "(name, share, prompt_tokens, output_tokens)")
        name, share, p, o = t
        share = float(positive(f"tasks[{i}].share", share))
        out.append(Task(str(name), share, _tokens(f"{name}.prompt_tokens", p, 0), _tokens(f"{name}.output_tokens", o, 1)))
    total = sum(t.share for t in out)
    if abs(total - 1.0) > 1e-6:
        raise InputError("tasks.share", round(total, 6), "shares that sum to 1")
    if len({t.name for t in out}) != len(out):
        raise InputError("tasks.name", [t.name for t in out], "distinct task names")
    hours = float(positive("active_hours_per_day", active_hours_per_day))
    if hours > 24:
        raise InputError("active_hours_per_day", active_hours_per_day, "a number of hours in (0, 24]")
    days = float(positive("active_days_per_year", active_days_per_year))
    if days > 366:
        raise InputError("active_days_per_year", active_days_per_year, "a number of days in (0, 366]")
    return Workload(rpd, tuple(out), float(at_least("peak_to_average", peak_to_average, 1.0)), hours, days,
                    float(non_negative("growth_per_year", growth_per_year)))


def _tokens(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value) \
            or value != int(value) or value < max(minimum, 1 if minimum else 0):
        raise InputError(name, value, f"a whole number of tokens >= {max(minimum, 1)}" if minimum else "a whole number of tokens >= 1")
    return int(value)


@dataclass(frozen=True)
class Targets:
    """Service targets: mean time to first token and mean time per output token, seconds (None = none)."""

    ttft_s: float | None = None
    tpot_s: float | None = None

    def __post_init__(self):
        for name in ("ttft_s", "tpot_s"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0):
                raise InputError(name, v, "a time in seconds > 0, or None for no target")


@dataclass(frozen=True)
class SelfHosted:
    model: str
    gpu: str
    gpus_per_replica: int | None = None  # None: the smallest of AUTO_GPUS that meets the targets
    precision: str = "bf16"
    engine: str = "vllm"
    offer: str = "on-demand"
    on_demand_usd_per_gpu_hour: float | None = None  # the price the reader chose; None = catalog median
    max_utilization: float = DEFAULT_MAX_UTILIZATION
    min_replicas: int = 1  # the floor of the fleet, whatever the traffic
    operations_usd_per_month: float = 0.0
    name: str = ""
    kind: str = "self_hosted"

    @property
    def label(self) -> str:
        k = f"{self.gpus_per_replica}x " if self.gpus_per_replica else ""
        offer = "" if self.offer == "on-demand" else f", {self.offer}"
        return self.name or f"{self.model} on {k}{self.gpu} ({self.precision}, {self.engine}{offer})"


@dataclass(frozen=True)
class Api:
    api: str
    cached_input_share: float = 0.0
    operations_usd_per_month: float = 0.0
    price_multiplier: float = 1.0  # a what-if on the list price (1 = the dated list price)
    name: str = ""
    kind: str = "api"

    @property
    def label(self) -> str:
        return self.name or f"API {self.api}"


@dataclass(frozen=True)
class Hybrid:
    small: SelfHosted | Api
    large: Api
    escalated_share: float
    router_usd_per_1k_requests: float = 0.0
    operations_usd_per_month: float = 0.0
    name: str = ""
    kind: str = "hybrid"

    @property
    def label(self) -> str:
        return self.name or f"hybrid {self.small.label} + {self.large.label} ({self.escalated_share:.0%} escalated)"


Option = SelfHosted | Api | Hybrid


def self_hosted(model: str, gpu: str, **kwargs) -> SelfHosted:
    """A validated :class:`SelfHosted` option (ids checked against the catalogs)."""
    from .hardware import get_device
    from .models import get_model
    from .units import PRECISIONS
    from .validate import fraction, non_negative, whole

    get_model(model)
    device = get_device(gpu)
    o = SelfHosted(model, device.id, **kwargs)
    if o.gpus_per_replica is not None:
        whole("gpus_per_replica", o.gpus_per_replica)
    if o.precision not in PRECISIONS:
        raise InputError("precision", o.precision, "one of " + ", ".join(PRECISIONS))
    _engine(o.engine)
    offer_price_factor(o.offer)
    if o.on_demand_usd_per_gpu_hour is not None:
        from .validate import positive

        positive("price_usd_per_gpu_hour", o.on_demand_usd_per_gpu_hour)
    fraction("max_utilization", o.max_utilization)
    whole("min_replicas", o.min_replicas)
    non_negative("operations_usd_per_month", o.operations_usd_per_month)
    return replace(o, gpus_per_replica=None if o.gpus_per_replica is None else int(o.gpus_per_replica),
                   min_replicas=int(o.min_replicas), max_utilization=float(o.max_utilization))


def api(api_id: str, **kwargs) -> Api:
    """A validated :class:`Api` option; ``api_id`` may be a tier name (``small``, ``mid``, ``large``)."""
    from .validate import fraction, non_negative

    api_id = resolve_api(api_id)
    o = Api(api_id, **kwargs)
    fraction("cached_input_share", o.cached_input_share, allow_zero=True)
    non_negative("operations_usd_per_month", o.operations_usd_per_month)
    from .validate import positive

    positive("price_multiplier", o.price_multiplier)
    return o


def hybrid(small: SelfHosted | Api, large: Api, escalated_share: float, **kwargs) -> Hybrid:
    from .validate import fraction, non_negative

    if not isinstance(small, (SelfHosted, Api)):
        raise InputError("small", small, "a self-hosted or API option")
    if not isinstance(large, Api):
        raise InputError("large", large, "an API option")
    fraction("escalated_share", escalated_share, allow_zero=True)
    o = Hybrid(small, large, float(escalated_share), **kwargs)
    non_negative("router_usd_per_1k_requests", o.router_usd_per_1k_requests)
    non_negative("operations_usd_per_month", o.operations_usd_per_month)
    return o


def _engine(engine: str) -> str:
    """The engine's id (serving catalog when present)."""
    try:
        from .inference import get_engine
    except ImportError:  # before the engines catalog: the serving adapter accepts one engine
        if engine != "vllm":
            raise InputError("engine", engine, "vllm") from None
        return engine
    return get_engine(engine).id


# --------------------------------------------------------------------------------------------
# API tiers (current small / mid / large)


def tiers() -> Mapping[str, tuple[str, ...]]:
    """Current API ids by tier (``costlib.prices.api_tiers``; before it existed, the size class of
    ``data/api_prices.csv``, newest first)."""
    from . import prices

    if hasattr(prices, "api_tiers"):
        return prices.api_tiers()
    rows = sorted(prices.api_prices().values(), key=lambda p: p.as_of, reverse=True)
    return {t: tuple(p.id for p in rows if p.size_class == t) for t in ("small", "large")}


def resolve_api(api_id: str) -> str:
    """An API id; a tier name gives the tier's first (representative) id."""
    from .prices import get_api_price

    t = tiers()
    if api_id in t:
        if not t[api_id]:
            raise InputError("api", api_id, "a tier with at least one current API")
        return t[api_id][0]
    return get_api_price(api_id).id


# --------------------------------------------------------------------------------------------
# capacity of one replica (adapter over costlib.serving)


@dataclass(frozen=True)
class Capacity:
    """One replica of a self-hosted option at the targets: requests/s per task type (a band), the binding
    constraint (of the task type with the largest share of the replicas' time) or the reason it cannot serve."""

    feasible: bool
    reason: str | None
    binding: str
    gpus_per_replica: int
    rate_per_replica: Mapping[str, Band]
    binding_by_task: Mapping[str, str]
    warnings: tuple[str, ...] = ()


def _sig(x: float, digits: int = CAPACITY_DIGITS) -> float:
    return float(f"{x:.{digits}g}") if x > 0 and math.isfinite(x) else 0.0


def _point(model, gpu, k, precision, engine, prompt, output, targets: Targets):
    """(feasible, reason, binding, Band of requests/s, warnings) of one replica for one request shape."""
    try:
        from .serving import capacity_at_slo
    except ImportError:  # pragma: no cover - the thin adapter before costlib.serving existed
        return _static_point(model, gpu, k, precision, prompt, output, targets)
    try:
        p = capacity_at_slo(model, gpu, gpus=k, precision=precision, engine=engine, prompt_tokens=prompt,
                            output_tokens=output, ttft_s=targets.ttft_s, tpot_s=targets.tpot_s)
    except InputError as exc:  # ids are checked before: what is left is a layout or context that does not fit
        return False, str(exc), "memory", None, ()
    if not p.feasible:
        return False, p.reason, p.binding, None, tuple(p.warnings)
    r = p.max_rate_per_replica
    band = Band(_sig(r.low), _sig(r.mid), _sig(r.high))
    return True, None, p.binding, band, tuple(p.warnings)


def _static_point(model, gpu, k, precision, prompt, output, targets):  # pragma: no cover - fallback only
    from . import inference

    try:
        est = inference.estimate_inference(model, gpu, precision, 1, prompt, output, gpus=k)
    except InputError as exc:
        return False, str(exc), "memory", None, ()
    thr = est.throughput_tokens_per_s
    band = Band(_sig(thr.low / output), _sig(thr.mid / output), _sig(thr.high / output))
    return True, None, "throughput", band, ("static batch 1 (costlib.serving not available)",)


@lru_cache(maxsize=65536)
def replica_capacity(model: str, gpu: str, gpus_per_replica: int | None, precision: str, engine: str,
                     shapes: tuple[tuple[str, int, int], ...], targets: Targets) -> Capacity:
    """Capacity of one replica for each (task name, prompt, output) shape at ``targets``; with
    ``gpus_per_replica=None`` the smallest degree of :data:`AUTO_GPUS` at which every shape is feasible."""
    tries = AUTO_GPUS if gpus_per_replica is None else (int(gpus_per_replica),)
    last_reason = None
    for k in tries:
        rates, binds, warns, reason = {}, {}, [], None
        for name, p, o in shapes:
            ok, why, bind, band, w = _point(model, gpu, k, precision, engine, p, o, targets)
            if not ok:
                reason = why if len(shapes) == 1 else f"{name}: {why}"
                binds[name] = bind
                break
            rates[name], binds[name] = band, bind
            warns.extend(w)
        if reason is None:
            main = max(rates, key=lambda n: 1.0 / rates[n].mid)
            return Capacity(True, None, binds[main], k, rates, binds, tuple(dict.fromkeys(warns)))
        last_reason = (k, reason, binds)
    k, reason, binds = last_reason
    if gpus_per_replica is None:
        reason = f"no replica of {', '.join(map(str, AUTO_GPUS))} x {gpu} meets it; at {k} x {gpu}: {reason}"
    return Capacity(False, reason, next(iter(binds.values())) if binds else "memory", k, {}, binds)


def option_capacity(o: SelfHosted, w: Workload, targets: Targets) -> Capacity:
    shapes = tuple((t.name, t.prompt_tokens, t.output_tokens) for t in w.tasks)
    return replica_capacity(o.model, o.gpu, o.gpus_per_replica, o.precision, _engine(o.engine), shapes, targets)


# --------------------------------------------------------------------------------------------
# cost (vectorized over a volume multiple)


def replicas_needed(peak_rate_per_s, shares: Sequence[float], rates: Sequence[float], max_utilization: float,
                    min_replicas: int = 1):
    """Replicas for a peak rate: max(min_replicas, ceil(sum_k q_k R / C_k / u - 1e-9)); arrays broadcast.
    Written so the published page's JavaScript does the same floating-point operations in the same order."""
    peak = np.asarray(peak_rate_per_s, dtype=float)
    demand = 0.0
    for q, c in zip(shares, rates):
        demand = demand + peak * q / c
    n = np.ceil(demand / max_utilization - 1e-9)
    return np.maximum(float(min_replicas), n)


def self_hosted_price(o: SelfHosted) -> tuple[float, Band]:
    """(chosen on-demand $/GPU-hour, the option's offer price band derived from it)."""
    chosen = o.on_demand_usd_per_gpu_hour
    if chosen is None:
        chosen = float(catalog_on_demand_price(o.gpu).mid)
    return float(chosen), offer_price(chosen, o.offer)


@dataclass(frozen=True)
class _Costs:
    monthly: Band  # arrays over the volume multiple
    replicas: Band | None
    gpus: Band | None


def _slow(b: Band) -> float:
    return b.low if b.low > 0 else b.mid


def _self_hosted_costs(o: SelfHosted, w: Workload, targets: Targets, scale) -> _Costs | Capacity:
    cap = option_capacity(o, w, targets)
    if not cap.feasible:
        return cap
    peak = w.peak_rate_per_s(scale)
    shares = [t.share for t in w.tasks]
    rates = [cap.rate_per_replica[t.name] for t in w.tasks]
    reps = Band(*(replicas_needed(peak, shares, [pick(r) for r in rates], o.max_utilization, o.min_replicas)
                  for pick in (lambda r: r.high, lambda r: r.mid, _slow)))
    k = cap.gpus_per_replica
    gpus = Band(reps.low * k, reps.mid * k, reps.high * k)
    _chosen, price = self_hosted_price(o)
    monthly = Band(*(g * p * HOURS_PER_MONTH + o.operations_usd_per_month
                     for g, p in ((gpus.low, price.low), (gpus.mid, price.mid), (gpus.high, price.high))))
    return _Costs(monthly, reps, gpus)


def api_usd_per_request(o: Api, w: Workload) -> float:
    """Mean list-price dollars of one request over the task mix (cached prompt share at the cached price)."""
    from .prices import get_api_price

    price = get_api_price(o.api)
    return float(sum(t.share * price.cost_usd(t.prompt_tokens, t.output_tokens, o.cached_input_share * t.prompt_tokens)
                     for t in w.tasks)) * o.price_multiplier


def _api_costs(o: Api, w: Workload, scale) -> _Costs:
    m = w.requests_per_month(scale) * api_usd_per_request(o, w) + o.operations_usd_per_month
    return _Costs(Band(m, m, m), None, None)


def _costs(o: Option, w: Workload, targets: Targets, scale=1.0) -> _Costs | Capacity:
    scale = np.asarray(scale, dtype=float)
    if isinstance(o, Api):
        return _api_costs(o, w, scale)
    if isinstance(o, SelfHosted):
        return _self_hosted_costs(o, w, targets, scale)
    s = o.escalated_share
    small = _costs(o.small, w, targets, scale * (1.0 - s)) if s < 1 else None
    if isinstance(small, Capacity):
        return small
    large = _api_costs(o.large, w, scale * s)
    router = w.requests_per_month(scale) * o.router_usd_per_1k_requests / 1000.0 + o.operations_usd_per_month
    if small is None:
        m = Band(large.monthly.low + router, large.monthly.mid + router, large.monthly.high + router)
        return _Costs(m, None, None)
    m = Band(*(a + b + router for a, b in zip(small.monthly, large.monthly)))
    return _Costs(m, small.replicas, small.gpus)


def monthly_cost(o: Option, w: Workload, targets: Targets = Targets(), scale=1.0) -> Band:
    """$/month band of an option (arrays when ``scale``, a multiple of the workload's volume, is an array).
    Raises ``InputError`` with the reason when the option cannot serve the workload."""
    c = _costs(o, w, targets, scale)
    if isinstance(c, Capacity):
        raise InputError("option", o.label, f"an option that can serve this workload ({c.reason})")
    return c.monthly


# --------------------------------------------------------------------------------------------
# Monte Carlo P10-P90


def _triangular_ppf(u, lo, mid, hi):
    u = np.asarray(u, dtype=float)
    if hi <= lo:
        return np.full_like(u, float(mid))
    fc = (mid - lo) / (hi - lo)
    return np.where(u < fc, lo + np.sqrt(u * (hi - lo) * (mid - lo)), hi - np.sqrt((1 - u) * (hi - lo) * (hi - mid)))


def _mc_monthly(o: Option, w: Workload, targets: Targets, u_cap, u_price, scale=1.0):
    if isinstance(o, Api):
        return np.full(u_cap.shape, float(_api_costs(o, w, scale).monthly.mid))
    if isinstance(o, SelfHosted):
        cap = option_capacity(o, w, targets)
        peak = w.peak_rate_per_s(scale)
        rates = [_triangular_ppf(u_cap, _slow(r), r.mid, r.high) for r in (cap.rate_per_replica[t.name] for t in w.tasks)]
        reps = replicas_needed(peak, [t.share for t in w.tasks], rates, o.max_utilization, o.min_replicas)
        _c, price = self_hosted_price(o)
        p = _triangular_ppf(u_price, price.low, price.mid, price.high)
        return reps * cap.gpus_per_replica * p * HOURS_PER_MONTH + o.operations_usd_per_month
    s = o.escalated_share
    small = _mc_monthly(o.small, w, targets, u_cap, u_price, scale * (1 - s)) if s < 1 else 0.0
    large = float(_api_costs(o.large, w, scale * s).monthly.mid)
    return small + large + float(w.requests_per_month(scale)) * o.router_usd_per_1k_requests / 1000.0 + o.operations_usd_per_month


def percentiles(o: Option, w: Workload, targets: Targets = Targets(), n: int = MC_SAMPLES, seed: int = 0) -> Band:
    """P10 / P50 / P90 of the monthly cost (independent triangular capacity and offer-price draws)."""
    rng = np.random.default_rng(seed)
    u_cap, u_price = rng.random(n), rng.random(n)
    x = _mc_monthly(o, w, targets, u_cap, u_price)
    q = np.quantile(x, [0.1, 0.5, 0.9])
    return Band(float(q[0]), float(q[1]), float(q[2]))


# --------------------------------------------------------------------------------------------
# the plan


@dataclass(frozen=True)
class BreakEven:
    option: str
    against: str
    cheaper: str  # "above" | "below" | "always" | "never"
    requests_per_day: float | None


@dataclass(frozen=True)
class OptionPlan:
    name: str
    kind: str
    label: str
    feasible: bool
    reason: str | None
    binding: str | None  # ttft | tpot | memory | throughput (self-hosted); "price" for an API
    gpus_per_replica: int | None
    replicas: Band | None
    gpus: Band | None
    monthly_usd: Band | None
    annual_usd: Band | None
    p10_p90_monthly_usd: tuple[float, float] | None
    usd_per_1k_requests: Band | None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    workload: Workload
    targets: Targets
    options: tuple[OptionPlan, ...]  # ranked: feasible by monthly mid, then the infeasible
    requests_per_month: float
    peak_rate_per_s: float
    break_even: tuple[BreakEven, ...]

    def option(self, name: str) -> OptionPlan:
        for o in self.options:
            if o.name == name:
                return o
        raise InputError("option", name, "one of " + ", ".join(o.name for o in self.options))

    @property
    def cheapest(self) -> OptionPlan | None:
        return self.options[0] if self.options and self.options[0].feasible else None


def option_name(o: Option) -> str:
    """A short stable name: ``self:MODEL@GPU[xK][:precision][:engine][:offer]``, ``api:ID``, ``hybrid:...``."""
    if o.name:
        return o.name
    if isinstance(o, Api):
        return f"api:{o.api}"
    if isinstance(o, SelfHosted):
        s = f"self:{o.model}@{o.gpu}" + (f"x{o.gpus_per_replica}" if o.gpus_per_replica else "")
        s += f":{o.precision}" + ("" if o.engine == "vllm" else f":{o.engine}") + ("" if o.offer == "on-demand" else f":{o.offer}")
        return s
    return f"hybrid:{option_name(o.small).split(':', 1)[1]},{o.large.api},{o.escalated_share:g}"


def _detail(o: Option, w: Workload, targets: Targets) -> dict:
    from .prices import get_api_price

    if isinstance(o, Api):
        p = get_api_price(o.api)
        return {"api": o.api, "input_usd_per_1m": p.input_usd_per_1m, "output_usd_per_1m": p.output_usd_per_1m,
                "cached_input_usd_per_1m": p.cached_input_usd_per_1m, "cached_input_share": o.cached_input_share,
                "price_as_of": p.as_of, "price_source": p.source, "usd_per_request": api_usd_per_request(o, w)}
    if isinstance(o, SelfHosted):
        chosen, price = self_hosted_price(o)
        cap = option_capacity(o, w, targets)
        d = {"model": o.model, "gpu": o.gpu, "precision": o.precision, "engine": _engine(o.engine), "offer": o.offer,
             "on_demand_usd_per_gpu_hour": chosen, "price_source": "chosen" if o.on_demand_usd_per_gpu_hour else "catalog median",
             "price_usd_per_gpu_hour": price, "offer_price_factor": offer_price_factor(o.offer),
             "max_utilization": o.max_utilization, "min_replicas": o.min_replicas,
             "operations_usd_per_month": o.operations_usd_per_month, "warnings": list(cap.warnings)}
        if cap.feasible:
            d["capacity_requests_per_s_per_replica"] = dict(cap.rate_per_replica)
            d["binding_by_task"] = dict(cap.binding_by_task)
        return d
    return {"small": option_name(o.small), "large": o.large.api, "escalated_share": o.escalated_share,
            "router_usd_per_1k_requests": o.router_usd_per_1k_requests,
            "small_detail": _detail(o.small, w, targets), "large_detail": _detail(o.large, w, targets)}


def evaluate_option(o: Option, w: Workload, targets: Targets = Targets(), *, samples: int = MC_SAMPLES) -> OptionPlan:
    """Replicas, GPUs, $/month and $/year (low / mid / high and P10-P90), $/1K requests and the binding
    constraint of one option; or, when it cannot serve the workload, the reason."""
    name = option_name(o)
    c = _costs(o, w, targets)
    detail = _detail(o, w, targets)
    if isinstance(c, Capacity):
        return OptionPlan(name, o.kind, o.label, False, c.reason, c.binding, c.gpus_per_replica, None, None, None,
                          None, None, None, detail)
    m = Band(*(float(x) for x in c.monthly))
    req = float(w.requests_per_month())
    small = o.small if isinstance(o, Hybrid) else o
    cap = option_capacity(small, w, targets) if isinstance(small, SelfHosted) else None
    binding = cap.binding if cap is not None else "price"
    pct = percentiles(o, w, targets, samples)
    return OptionPlan(
        name, o.kind, o.label, True, None, binding, cap.gpus_per_replica if cap else None,
        None if c.replicas is None else Band(*(float(x) for x in c.replicas)),
        None if c.gpus is None else Band(*(float(x) for x in c.gpus)),
        m, m.scale(MONTHS_PER_YEAR), (pct.low, pct.high), m.scale(1000.0 / req), detail)


def break_even(a: Option, b: Option, w: Workload, targets: Targets = Targets(), *, points: int = 1401) -> BreakEven:
    """Requests per day at which ``a`` (mid) stops or starts costing more than ``b`` over :data:`BREAK_EVEN_RANGE`.

    ``cheaper="above"``: a costs no more than b at every volume from ``requests_per_day`` up (self-hosting's
    steps can cross the API's line more than once; this is the last crossing); ``"below"``: a is cheaper up to
    the first crossing; ``"always"`` / ``"never"`` within the range."""
    lo, hi = BREAK_EVEN_RANGE
    grid = np.geomspace(lo, hi, points) / w.requests_per_day
    fa, fb = monthly_cost(a, w, targets, grid).mid, monthly_cost(b, w, targets, grid).mid
    ok = np.broadcast_to(fa <= fb, grid.shape)
    na, nb = option_name(a), option_name(b)
    if ok.all():
        return BreakEven(na, nb, "always", None)
    if not ok.any():
        return BreakEven(na, nb, "never", None)

    def cheaper(x):
        return bool(monthly_cost(a, w, targets, x).mid <= monthly_cost(b, w, targets, x).mid)

    def refine(x0, x1, want_at_x1):  # bisection (in log volume) for the switch between two grid points
        for _ in range(40):
            xm = math.sqrt(x0 * x1)
            if cheaper(xm) == want_at_x1:
                x1 = xm
            else:
                x0 = xm
        return x1 * w.requests_per_day

    if ok[-1]:
        i = int(np.flatnonzero(~ok)[-1])
        return BreakEven(na, nb, "above", refine(grid[i], grid[i + 1], True))
    if ok[0]:
        i = int(np.flatnonzero(~ok)[0])
        return BreakEven(na, nb, "below", refine(grid[i - 1], grid[i], False))
    return BreakEven(na, nb, "never", None)


def plan(w: Workload, options: Sequence[Option], targets: Targets = Targets(), *, samples: int = MC_SAMPLES,
         break_evens: bool = True) -> Plan:
    """Every option priced for the workload, ranked by monthly cost (mid), with break-even volumes between
    every pair of options that can serve it."""
    if not options:
        raise InputError("options", options, "at least one option")
    names = [option_name(o) for o in options]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError("option", dup, "each option once")
    evaluated = [evaluate_option(o, w, targets, samples=samples) for o in options]
    order = sorted(range(len(options)), key=lambda i: (not evaluated[i].feasible,
                                                       evaluated[i].monthly_usd.mid if evaluated[i].feasible else 0.0, i))
    bes = []
    if break_evens:
        feas = [i for i in order if evaluated[i].feasible]
        for i in feas:
            for j in feas:
                if i != j:
                    bes.append(break_even(options[i], options[j], w, targets))
    return Plan(w, targets, tuple(evaluated[i] for i in order), float(w.requests_per_month()),
                float(w.peak_rate_per_s()), tuple(bes))


# --------------------------------------------------------------------------------------------
# option specs (the CLI's --option strings)

_K = re.compile(r"^(?P<gpu>.+?)x(?P<k>\d+)$")


def parse_option(spec: str, *, prices: Mapping[str, float] | None = None, max_utilization: float = DEFAULT_MAX_UTILIZATION,
                 min_replicas: int = 1, cached_input_share: float = 0.0) -> Option:
    """``self:MODEL@GPU[xK][:precision][:engine][:offer]``, ``api:ID`` (or ``api:small`` / ``api:large``) or
    ``hybrid:SMALL,LARGE,SHARE`` (SMALL a ``MODEL@GPU...`` or an API id, LARGE an API id, SHARE the share
    escalated to LARGE). ``prices``: chosen on-demand $/GPU-hour by GPU id."""
    from .hardware import devices

    if not isinstance(spec, str) or ":" not in spec:
        raise InputError("option", spec, "self:MODEL@GPU[xK][:precision][:engine][:offer], api:ID or hybrid:SMALL,LARGE,SHARE")
    kind, rest = spec.split(":", 1)
    if kind == "api":
        return api(rest, cached_input_share=cached_input_share)
    if kind == "self":
        if "@" not in rest:
            raise InputError("option", spec, "self:MODEL@GPU[xK][:precision][:engine][:offer] (e.g. self:llama-3.2-3b@l4)")
        model, tail = rest.split("@", 1)
        parts = tail.split(":")
        gpu, k = parts[0], None
        if gpu not in devices():
            m = _K.match(gpu)
            if m and m.group("gpu") in devices():
                gpu, k = m.group("gpu"), int(m.group("k"))
        kwargs: dict[str, Any] = {}
        from .units import PRECISIONS

        for p in parts[1:]:
            if p in PRECISIONS:
                kwargs["precision"] = p
            elif p in OFFERS:
                kwargs["offer"] = p
            else:
                try:
                    kwargs["engine"] = _engine(p)
                except CostlibError:
                    raise InputError("option", spec, f"{p!r} is not a precision ({', '.join(PRECISIONS)}), "
                                     f"an offer ({', '.join(OFFERS)}) or an engine") from None
        price = (prices or {}).get(gpu)
        return self_hosted(model, gpu, gpus_per_replica=k, on_demand_usd_per_gpu_hour=price,
                           max_utilization=max_utilization, min_replicas=min_replicas, **kwargs)
    if kind == "hybrid":
        bits = rest.split(",")
        if len(bits) != 3:
            raise InputError("option", spec, "hybrid:SMALL,LARGE,SHARE (e.g. hybrid:llama-3.2-3b@l4,openai-gpt-6.1-sol,0.2)")
        s, l, share = bits
        small = parse_option(("self:" if "@" in s else "api:") + s, prices=prices, max_utilization=max_utilization,
                             min_replicas=min_replicas, cached_input_share=cached_input_share)
        large = api(l, cached_input_share=cached_input_share)
        try:
            share_v = float(share)
        except ValueError:
            raise InputError("option", spec, "SHARE a number in [0, 1]") from None
        return hybrid(small, large, share_v)
    raise InputError("option", spec, "an option starting with self:, api: or hybrid:")


# --------------------------------------------------------------------------------------------
# JSON


def _band(b: Band | None):
    return None if b is None else {"low": float(b.low), "mid": float(b.mid), "high": float(b.high)}


def _plain(v):
    if isinstance(v, Band):
        return _band(v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def option_to_dict(o: OptionPlan) -> dict:
    return _plain({
        "name": o.name, "kind": o.kind, "label": o.label, "feasible": o.feasible, "reason": o.reason,
        "binding": o.binding, "gpus_per_replica": o.gpus_per_replica, "replicas": o.replicas, "gpus": o.gpus,
        "monthly_usd": o.monthly_usd, "annual_usd": o.annual_usd,
        "p10_p90_monthly_usd": None if o.p10_p90_monthly_usd is None else {"p10": o.p10_p90_monthly_usd[0], "p90": o.p10_p90_monthly_usd[1]},
        "usd_per_1k_requests": o.usd_per_1k_requests, "detail": dict(o.detail),
    })


def plan_to_dict(p: Plan) -> dict:
    """Strict JSON-ready data (no NaN): the workload, targets, ranked options and break-evens."""
    w = p.workload
    return _plain({
        "workload": {"requests_per_day": w.requests_per_day, "peak_to_average": w.peak_to_average,
                     "active_hours_per_day": w.active_hours_per_day, "active_days_per_year": w.active_days_per_year,
                     "growth_per_year": w.growth_per_year,
                     "tasks": [{"name": t.name, "share": t.share, "prompt_tokens": t.prompt_tokens,
                                "output_tokens": t.output_tokens} for t in w.tasks]},
        "targets": {"ttft_s": p.targets.ttft_s, "tpot_s": p.targets.tpot_s, "statistic": "mean"},
        "requests_per_month": p.requests_per_month,
        "peak_requests_per_s": p.peak_rate_per_s,
        "ranking": [o.name for o in p.options if o.feasible],
        "cheapest": p.cheapest.name if p.cheapest else None,
        "options": [option_to_dict(o) for o in p.options],
        "break_even_range_requests_per_day": list(BREAK_EVEN_RANGE),
        "break_even": [{"option": b.option, "against": b.against, "cheaper": b.cheaper,
                        "requests_per_day": b.requests_per_day} for b in p.break_even],
        "bands": "low/mid/high: serving-model efficiency band x offer price-factor band; P10-P90: Monte Carlo "
                 f"({MC_SAMPLES} samples, seed 0) over the same, triangular; API list prices are points",
    })


# --------------------------------------------------------------------------------------------
# a plan written out as a scenario for costlib.enterprise (YAML)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "option"


def scenario_dict(p: Plan, options: Sequence[Option], name: str = "plan") -> dict:
    """The plan's question as plain scenario data for :func:`costlib.enterprise.scenario_from_dict`: one user
    making all the requests, the task mix, the targets, and every option (a hybrid's parts added as options)."""
    w, t = p.workload, p.targets
    tasks = {}
    for task in w.tasks:
        budget = (t.ttft_s or 0.0) + (t.tpot_s or 0.0) * task.output_tokens
        d: dict[str, Any] = {"requests_per_user_per_day": w.requests_per_day * task.share,
                             "prompt_tokens": task.prompt_tokens, "output_tokens": task.output_tokens,
                             "latency_budget_s": budget if budget > 0 else 3600.0}
        if t.ttft_s is not None:
            d["ttft_s"] = t.ttft_s
        if t.tpot_s is not None:
            d["tpot_s"] = t.tpot_s
        tasks[_safe(task.name)] = d
    out_opts: list[dict] = []
    names: dict[str, str] = {}

    def add(o: Option) -> str:
        key = option_name(o)
        if key in names:
            return names[key]
        n = _safe(key)
        if isinstance(o, Api):
            out_opts.append({"name": n, "kind": "api", "api": o.api, "label": o.label,
                             "operations_usd_per_year": o.operations_usd_per_month * MONTHS_PER_YEAR})
        elif isinstance(o, SelfHosted):
            chosen, _ = self_hosted_price(o)
            cap = option_capacity(o, w, t)
            out_opts.append({"name": n, "kind": "self_hosted", "label": o.label, "model": o.model, "gpu": o.gpu,
                             "precision": o.precision, "engine": _engine(o.engine), "offer": o.offer,
                             "price_usd_per_gpu_hour": chosen, "utilization": o.max_utilization,
                             "gpus_per_replica": o.gpus_per_replica or cap.gpus_per_replica,
                             "min_replicas": o.min_replicas, "hours_per_day": 24,
                             "operations_usd_per_year": o.operations_usd_per_month * MONTHS_PER_YEAR})
        else:
            small, large = add(o.small), add(o.large)
            out_opts.append({"name": n, "kind": "hybrid", "label": o.label, "small": small, "large": large,
                             "small_share": 1.0 - o.escalated_share,
                             "router_usd_per_request": o.router_usd_per_1k_requests / 1000.0,
                             "operations_usd_per_year": o.operations_usd_per_month * MONTHS_PER_YEAR})
        names[key] = n
        return n

    for o in options:
        add(o)
    return {"name": name, "description": "written by `costlib plan --write-scenario`", "workload": {
        "users": 1, "working_days_per_year": w.active_days_per_year, "active_hours_per_day": w.active_hours_per_day,
        "growth_per_year": w.growth_per_year, "peak_to_average": w.peak_to_average, "cached_prompt_share": 0.0,
        "tasks": tasks}, "options": out_opts}


def scenario_yaml(p: Plan, options: Sequence[Option], name: str = "plan") -> str:
    import yaml

    return yaml.safe_dump(_plain(scenario_dict(p, options, name)), sort_keys=False)


# --------------------------------------------------------------------------------------------
# a capacity table for the published page (precomputed; the page only multiplies)

_FLOOR = re.compile(r"floor ([0-9.]+) ms")


def short_reason(cap: Capacity) -> list:
    """[code, floor_ms or None]: ``m`` does not fit (memory), ``t`` TTFT target below the floor, ``p`` TPOT
    target below the floor; the compact form the page's table stores for a setup that cannot serve."""
    text = cap.reason or ""
    tail = text.split(": ", 1)[1] if text.startswith("no replica") and ": " in text else text
    tail = tail.split(": ", 1)[1] if tail.startswith("at ") and ": " in tail else tail
    code = {"ttft": "t", "tpot": "p"}.get(tail.split(":", 1)[0].strip(), "m")
    m = _FLOOR.search(tail)
    return [code, float(m.group(1)) if (m and code != "m") else None]


def capacity_table(models: Sequence[str], gpus: Sequence[str], precisions: Sequence[str], engines: Sequence[str],
                   prompts: Sequence[int], outputs: Sequence[int], presets: Sequence[tuple[float, float]],
                   progress=None) -> dict:
    """One replica's capacity (auto GPUs per replica) for every combination, row-major in the order of the
    arguments (``presets`` = (TTFT ms, TPOT ms) pairs, the last index fastest). A feasible cell is
    ``[K, low, mid, high, binding index]`` (requests/s, :data:`CAPACITY_DIGITS` digits, exactly what
    :func:`replica_capacity` gives the CLI); one that cannot serve is ``short_reason``."""
    cells = []
    for m in models:
        for g in gpus:
            for pr in precisions:
                for e in engines:
                    for p in prompts:
                        for o in outputs:
                            for tt, tp in presets:
                                cap = replica_capacity(m, g, None, pr, _engine(e), (("request", int(p), int(o)),),
                                                       Targets(tt / 1e3, tp / 1e3))
                                if cap.feasible:
                                    r = cap.rate_per_replica["request"]
                                    cells.append([cap.gpus_per_replica, r.low, r.mid, r.high, BINDINGS.index(cap.binding)])
                                else:
                                    cells.append(short_reason(cap))
                if progress:
                    progress(m, g, pr)
    return {"models": list(models), "gpus": list(gpus), "precisions": list(precisions), "engines": list(engines),
            "prompts": [int(x) for x in prompts], "outputs": [int(x) for x in outputs],
            "presets": [[float(a), float(b)] for a, b in presets], "bindings": list(BINDINGS),
            "auto_gpus": list(AUTO_GPUS), "cells": cells}


def table_cell(table: Mapping, model: str, gpu: str, precision: str, engine: str, prompt: int, output: int, preset: int):
    """The cell of :func:`capacity_table` for one combination (the index arithmetic the page uses)."""
    keys = (("models", model), ("gpus", gpu), ("precisions", precision), ("engines", engine), ("prompts", prompt),
            ("outputs", output))
    i = 0
    for k, v in keys:
        i = i * len(table[k]) + list(table[k]).index(v)
    return table["cells"][i * len(table["presets"]) + preset]


# --------------------------------------------------------------------------------------------
# what flips the verdict: one-at-a-time sensitivity of the difference between two options

VARY = ("requests_per_day", "peak_to_average", "prompt_tokens", "output_tokens", "gpu_price", "max_utilization",
        "api_price", "ttft_s", "tpot_s")
"""Inputs :func:`vary` can move: multipliers for volume, tokens, GPU and API prices; values for the rest."""


def vary(w: Workload, o: Option, targets: Targets, what: str, value: float):
    """(workload, option, targets) with one input moved (see :data:`VARY`)."""
    if what == "requests_per_day":
        return w.scaled(value), o, targets
    if what == "peak_to_average":
        return replace(w, peak_to_average=float(value)), o, targets
    if what in ("prompt_tokens", "output_tokens"):
        tasks = tuple(replace(t, **{what: max(1, int(round(getattr(t, what) * value)))}) for t in w.tasks)
        return replace(w, tasks=tasks), o, targets
    if what in ("ttft_s", "tpot_s"):
        return w, o, replace(targets, **{what: float(value)})
    if isinstance(o, Hybrid):
        return w, replace(o, small=vary(w, o.small, targets, what, value)[1],
                          large=vary(w, o.large, targets, what, value)[1]), targets
    if what == "gpu_price" and isinstance(o, SelfHosted):
        return w, replace(o, on_demand_usd_per_gpu_hour=self_hosted_price(o)[0] * value), targets
    if what == "max_utilization" and isinstance(o, SelfHosted):
        return w, replace(o, max_utilization=float(value)), targets
    if what == "api_price" and isinstance(o, Api):
        return w, replace(o, price_multiplier=o.price_multiplier * value), targets
    if what not in VARY:
        raise InputError("what", what, "one of " + ", ".join(VARY))
    return w, o, targets


@dataclass(frozen=True)
class FlipRow:
    what: str
    label: str
    low: float
    high: float
    difference_at_low: float | None  # $/month of a minus b (mid); None: one of them cannot serve there
    difference_at_high: float | None

    @property
    def swing(self) -> float:
        a, b = self.difference_at_low, self.difference_at_high
        return abs((a or 0.0) - (b or 0.0)) if a is not None and b is not None else math.inf

    @property
    def flips(self) -> bool:
        a, b = self.difference_at_low, self.difference_at_high
        return a is None or b is None or (a > 0) != (b > 0)


def flip_tornado(w: Workload, a: Option, b: Option, targets: Targets,
                 changes: Sequence[tuple[str, str, float, float]]) -> tuple[float, list[FlipRow]]:
    """$/month of ``a`` minus ``b`` (mid) at the base inputs, and for each (what, label, low, high) the
    difference with that one input at its low and high; rows sorted by swing, largest first. A row whose
    sign differs from the base (or where an option cannot serve) flips the verdict."""

    def diff(what=None, value=None):
        wa, oa, ta = (w, a, targets) if what is None else vary(w, a, targets, what, value)
        wb, ob, tb = (w, b, targets) if what is None else vary(w, b, targets, what, value)
        try:
            return float(monthly_cost(oa, wa, ta).mid) - float(monthly_cost(ob, wb, tb).mid)
        except InputError:
            return None

    base = diff()
    rows = [FlipRow(what, label, lo, hi, diff(what, lo), diff(what, hi)) for what, label, lo, hi in changes]
    return base, sorted(rows, key=lambda r: -r.swing)


def saving_band(option: Option, against: Option, w: Workload, targets: Targets = Targets()) -> Band:
    """1 - cost(option) / cost(against) as a band (low: option at its high and against at its low), for judging
    a claimed saving (seed 001's "70-80%") at a stated workload. Raises when either cannot serve it."""
    a, b = monthly_cost(option, w, targets), monthly_cost(against, w, targets)
    vals = sorted((1 - float(a.high) / float(b.low), 1 - float(a.mid) / float(b.mid), 1 - float(a.low) / float(b.high)))
    return Band(*vals)
