"""The budget memo's case: 500 developers of a code assistant, four self-hosted models and three current APIs.

One definition of the memo's workload, targets and options, used by the memo chapter
(``notebooks/01a_budget_memo.ipynb``) and by the seed audit's reading of seed 001's "70-80% saving" at that
workload (claim ``s1-ent-reduction-memo``, method ``planner_saving``), so that both quote the same figure.

The workload is the mid of the reference scenario ``data/scenarios/sdlc_assistant.yaml`` (the book's
assumptions, not measurements: the memo's pilot list says what to measure instead); the service targets are
its completion task's mean TTFT and TPOT; operations costs are the scenario's mids. Costs come from
:mod:`costlib.planner` on the continuous-batching serving model (:mod:`costlib.serving`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from .. import enterprise as ent
from .. import planner as pl
from ..prices import get_api_price
from ..uncertainty import Band

SCENARIO = "sdlc_assistant"
"""The reference scenario whose mid values make the memo's workload."""

MIN_REPLICAS = 2
"""Self-hosted fleets keep at least two replicas (one can fail or be upgraded): an assumption of the memo."""

SELF_HOSTED = (
    ("3B", "llama-3.2-3b", "l4", "Llama 3.2 3B on L4 (FP8)"),
    ("8B", "llama-3.1-8b", "l40s", "Llama 3.1 8B on L40S (FP8)"),
    ("70B", "llama-3.1-70b", "h100-sxm", "Llama 3.1 70B on H100 (FP8)"),
    ("MoE", "qwen3-30b-a3b", "h100-sxm", "Qwen3 30B-A3B MoE on H100 (FP8)"),
)
"""(key, model, GPU, label) of the self-hosted options, all served in FP8 weights."""


@dataclass(frozen=True)
class MemoCase:
    """The memo's inputs: scenario, workload, targets, options by key, and the per-developer task mix."""

    scenario: ent.Scenario
    workload: pl.Workload
    targets: pl.Targets
    developers: float
    requests_per_developer: Mapping[str, float]
    operations_self_usd_per_month: float
    operations_api_usd_per_month: float
    small_api: str
    large_api: str
    frontier_api: str
    options: Mapping[str, pl.Option]

    @property
    def self_hosted_keys(self) -> tuple[str, ...]:
        return tuple(k for k, *_ in SELF_HOSTED)

    @property
    def requests_per_developer_per_day(self) -> float:
        return float(sum(self.requests_per_developer.values()))


@lru_cache(maxsize=1)
def memo_case() -> MemoCase:
    """The memo's case, built once from the reference scenario and the current API tiers."""
    sc = ent.load_scenario(SCENARIO)
    W = sc.workload
    devs = float(W.users.mid)
    per_dev = {t.name: float(t.requests_per_user_per_day.mid) for t in W.tasks}
    total = sum(per_dev.values())
    completion = next(t for t in W.tasks if t.name == "completion")
    targets = pl.Targets(completion.ttft_s, completion.tpot_s)
    w = pl.workload(users=devs, requests_per_user_per_day=total,
                    tasks=[(t.name, per_dev[t.name] / total, round(t.prompt_tokens.mid), round(t.output_tokens.mid)) for t in W.tasks],
                    peak_to_average=float(W.peak_to_average.mid), active_hours_per_day=W.active_hours_per_day,
                    active_days_per_year=W.working_days_per_year, growth_per_year=float(W.growth_per_year.mid))
    ops_self = float(sc.option("slm_l40s").operations_usd_per_year.mid) / 12
    ops_api = float(sc.option("llm_api").operations_usd_per_year.mid) / 12
    tiers = pl.tiers()
    small, large = tiers["small"][0], tiers["large"][0]
    frontier = max(tiers["large"], key=lambda a: (get_api_price(a).output_usd_per_1m, a))  # the dearest large tier
    options: dict[str, pl.Option] = {
        key: pl.self_hosted(model, gpu, precision="fp8", min_replicas=MIN_REPLICAS, operations_usd_per_month=ops_self, name=label)
        for key, model, gpu, label in SELF_HOSTED
    }
    options["small API"] = pl.api(small, operations_usd_per_month=ops_api, name=f"small API: {small}")
    options["large API"] = pl.api(large, operations_usd_per_month=ops_api, name=f"large API: {large}")
    options["frontier API"] = pl.api(frontier, operations_usd_per_month=ops_api, name=f"frontier API: {frontier}")
    return MemoCase(sc, w, targets, devs, MappingProxyType(per_dev), ops_self, ops_api, small, large, frontier,
                    MappingProxyType(options))


@lru_cache(maxsize=1)
def memo_plan() -> pl.Plan:
    """:func:`costlib.planner.plan` of every memo option at the memo's workload and targets."""
    case = memo_case()
    return pl.plan(case.workload, list(case.options.values()), case.targets)


def cheapest_self_hosted() -> str:
    """Key of the self-hosted option with the lowest mid monthly cost among those that can serve the memo."""
    case, plan = memo_case(), memo_plan()
    feasible = [k for k in case.self_hosted_keys if plan.option(case.options[k].name).feasible]
    return min(feasible, key=lambda k: plan.option(case.options[k].name).monthly_usd.mid)


@dataclass(frozen=True)
class Seed001Saving:
    """Seed 001's "SLM-first vs LLM-only" saving read at the memo's workload."""

    self_hosted: str
    api: str
    self_hosted_annual_usd: float
    api_annual_usd: float
    saving: Band


def seed001_saving() -> Seed001Saving:
    """1 - (cheapest self-hosted option) / (dearest current large API, the seed's "LLM-only" frontier model), at the
    memo's workload: the mid from the mid annual costs, the band from :func:`costlib.planner.saving_band`."""
    case, plan = memo_case(), memo_plan()
    best = cheapest_self_hosted()
    s = plan.option(case.options[best].name).annual_usd.mid
    a = plan.option(case.options["frontier API"].name).annual_usd.mid
    band = pl.saving_band(case.options[best], case.options["frontier API"], case.workload, case.targets)
    mid = 1.0 - s / a
    return Seed001Saving(case.options[best].label, case.options["frontier API"].label, float(s), float(a),
                         Band(min(band.low, mid), mid, max(band.high, mid)))
