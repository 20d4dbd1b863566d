"""Enterprise cost of ownership: a workload, the ways to serve it, and how sure we are.

A *scenario* (a YAML file, see ``costlib/data/scenarios/``) states

* a **workload**: users, requests per user per working day for each task type (completion,
  review, docs, chat...), prompt and output tokens per request, growth over the year, the
  peak-to-average ratio of the request rate, and a latency budget per task type;
* the **options**: ``api`` (every request to one hosted model, dated list price from
  ``data/api_prices.csv``), ``self_hosted`` (a small model on rented GPUs, the GPU count sized
  from the peak load and each task's mean TTFT / TPOT targets on the continuous-batching serving model,
  :func:`costlib.planner.replica_capacity` over :func:`costlib.serving.capacity_at_slo`, the same model as
  ``costlib plan`` and ``costlib serve``: there is no second serving model here), fine-tuning amortized, operations overhead an explicit input) and ``hybrid`` (a router sends a
  share to a small option and the rest, plus escalations, to a large API; :mod:`costlib.routing`).

Every uncertain number may be written as a scalar, ``[low, mid, high]`` or
``{low: , mid: , high: }``. One vectorized function (:func:`evaluate`) maps a dict of input
values (floats or numpy arrays) to each option's annual cost components, so the point estimate,
the tornado (:func:`sensitivity`), the Monte Carlo (:func:`monte_carlo`), the break-even sweeps
(:func:`break_even_volume`, :func:`break_even_share`) and the widget all share one formula.

The formulas, per option and year (N_k = annual requests of task type k):

* annual requests  N_k = users * r_k * working_days * (1 + g / 2) * volume_scale
  (users grow linearly by the fraction g over the year, so the year's mean is 1 + g/2);
* API              sum_k price.cost_usd(N_k p_k, N_k o_k, cached N_k p_k) * price_multiplier + operations;
* peak load        R = users (1 + g) * sum_k r_k / (active_hours * 3600) * peak_to_average   [requests/s],
  sized for the end of the year;
* self-hosted      replicas = max(min_replicas, ceil(R * sum_k q_k o_k / thr_k / (throughput_factor * utilization))),
  with q_k the task's share of requests and thr_k a replica's output tokens/s for task k at the largest
  request rate whose mean TTFT and TPOT meet the task's targets (:func:`serving_profile`); GPUs = replicas * gpus_per_replica,
  compute = GPUs * price_usd_per_gpu_hour * hours_per_day * 365, plus finetune_usd / amortization_years,
  plus fine-tuning compute (runs per year x :func:`costlib.finetune.estimate_finetune`), plus operations;
* hybrid           small option at the share s (a self-hosted small model re-sized for s * R),
  large API on (1 - s + s e) of the traffic, router_usd_per_request * N, plus operations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .catalog import TextFileError, read_bounded_text
from .errors import InputError
from .fx import FxRate, fx_rate, fx_rates, to_usd  # noqa: F401  the rates live in costlib.fx (one loader, one rule)
from .uncertainty import Band
from .units import HOURS_PER_MONTH

SCENARIO_DIR = Path(__file__).parent / "data" / "scenarios"
"""Example scenarios shipped with costlib."""

DAYS_PER_YEAR = 365.0
"""Calendar days a GPU is rented per year when it runs every day."""
MC_SAMPLES = 20_000
"""Default Monte Carlo sample count (fixed seed): P10/P50/P90 stable to well under 1%."""
BATCH_LADDER = (1, 2, 4, 8, 16, 32, 64, 128, 256)
"""Batch sizes the static-batch sizing used to try; unused since replicas are sized on the continuous-batching
serving model (:func:`serving_profile`), kept so that code importing the name keeps working."""
OPTION_KINDS = ("api", "self_hosted", "hybrid")


# --------------------------------------------------------------------------------------------
# errors with file and line


class ScenarioError(InputError):
    """A scenario that fails validation: names the file, the line and the field."""

    def __init__(self, file: str, line: int | None, field_name: str, value: object, allowed: str):
        super().__init__(field_name, value, allowed)
        self.file, self.line, self.field = file, line, field_name
        where = f"{file}, line {line}" if line is not None else file
        text = f"{where}: {field_name}={_short(value)} is not allowed: {allowed}"
        self.args = (text,)

    def __str__(self) -> str:
        return self.args[0]


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------------------------
# data model


@dataclass(frozen=True)
class TaskType:
    """One kind of request (code completion, review, docs, chat)."""

    name: str
    requests_per_user_per_day: Band
    prompt_tokens: Band
    output_tokens: Band
    latency_budget_s: float
    ttft_s: float | None = None  # mean time-to-first-token target; None: LATENCY_TTFT_SHARE of the budget
    tpot_s: float | None = None  # mean time-per-output-token target; None: the rest of the budget over the output


@dataclass(frozen=True)
class Workload:
    users: Band
    tasks: tuple[TaskType, ...]
    working_days_per_year: float = 250.0
    active_hours_per_day: float = 10.0
    growth_per_year: Band = Band.point(0.0)
    peak_to_average: Band = Band.point(3.0)
    cached_prompt_share: Band = Band.point(0.0)


@dataclass(frozen=True)
class ApiOption:
    name: str
    api: str
    price_multiplier: Band = Band.point(1.0)
    operations_usd_per_year: Band = Band.point(0.0)
    label: str = ""
    kind: str = "api"


@dataclass(frozen=True)
class SelfHostedOption:
    name: str
    model: str
    gpu: str
    precision: str = "bf16"
    offer: str = "on-demand"
    price_usd_per_gpu_hour: Band | None = None
    utilization: Band = Band.point(0.5)
    throughput_tokens_per_s: Band | None = None  # per replica, measured; None = from costlib.inference
    gpus_per_replica: int = 1
    engine: str = "vllm"
    min_replicas: int = 1
    hours_per_day: float = 24.0
    finetune_usd: Band = Band.point(0.0)  # people, data, evaluation: amortized over amortization_years
    amortization_years: float = 1.0
    operations_usd_per_year: Band = Band.point(0.0)
    # fine-tuning compute from costlib.training.estimate_finetune, repeated runs_per_year times (optional)
    finetune_method: str = ""
    finetune_tokens: float = 0.0
    finetune_gpu: str = ""
    finetune_runs_per_year: float = 0.0
    label: str = ""
    kind: str = "self_hosted"


@dataclass(frozen=True)
class HybridOption:
    name: str
    small: str
    large: str
    small_share: Band
    escalation_rate: Band = Band.point(0.0)
    router_usd_per_request: Band = Band.point(0.0)
    operations_usd_per_year: Band = Band.point(0.0)
    label: str = ""
    kind: str = "hybrid"


Option = ApiOption | SelfHostedOption | HybridOption


@dataclass(frozen=True)
class Scenario:
    name: str
    workload: Workload
    options: tuple[Option, ...]
    description: str = ""
    as_of: str = ""
    currency_note: str = ""

    def option(self, name: str) -> Option:
        for o in self.options:
            if o.name == name:
                return o
        raise InputError("option", name, "one of " + ", ".join(o.name for o in self.options))

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.options)

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.workload.tasks)


# --------------------------------------------------------------------------------------------
# YAML: node tree with line numbers -> plain data + a map from field path to line


MAX_SCENARIO_BYTES = 256 * 1024
"""Largest scenario file read (the shipped examples are under 10 KB; a bigger file is refused before parsing)."""
MAX_TASK_TYPES = 64
"""Most task types a scenario may declare (each costs a serving search per self-hosted option)."""
MAX_OPTIONS = 64
"""Most options a scenario may declare."""
MAX_USERS = 1e10
"""Upper bound on workload.users (more than the world's population: a unit slip, not a workload)."""
MAX_REQUESTS_PER_USER_PER_DAY = 1e6
"""Upper bound on requests per user per working day (one every 0.1 s for 24 hours)."""
MAX_TOKENS_PER_REQUEST = 1e8
"""Upper bound on prompt or output tokens per request (a hundred times the longest context in the catalog)."""
MAX_YAML_DEPTH = 32
"""Deepest nesting of YAML mappings and lists read (a scenario needs 5)."""
_PLAIN_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}


MAX_YAML_NODES = 20_000
"""Most YAML values (scalars, lists, mappings) read; a shipped scenario has a few hundred."""
_COUNTED = {("workload", "tasks"): (MAX_TASK_TYPES, "task types", "merge similar tasks"), ("options",): (MAX_OPTIONS, "options", "")}


def _refuse_expansion(loader, file: str) -> None:
    """Walk the YAML events (no nodes built, nothing expanded) and refuse anchors, aliases, deep nesting,
    more than :data:`MAX_YAML_NODES` values and more task types or options than allowed, at the line where it happens."""
    from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, MappingStartEvent, ScalarEvent

    stack: list[list] = []  # per open collection: [is_mapping, next_is_key, last_key, children, path]
    nodes = 0
    while loader.check_event():
        event = loader.get_event()
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, AliasEvent):
            raise ScenarioError(file, line, "yaml", f"an alias (*{event.anchor})",
                                "plain YAML without anchors (&name) or aliases (*name): write each value out")
        if isinstance(event, CollectionEndEvent):
            stack.pop()
            continue
        if not isinstance(event, (ScalarEvent, CollectionStartEvent)):
            continue
        if event.anchor is not None:
            raise ScenarioError(file, line, "yaml", f"an anchor (&{event.anchor})",
                                "plain YAML without anchors (&name) or aliases (*name): write each value out")
        nodes += 1
        if nodes > MAX_YAML_NODES:
            raise ScenarioError(file, line, "yaml", f"more than {MAX_YAML_NODES:,} values", f"at most {MAX_YAML_NODES:,} values")
        parent = stack[-1] if stack else None
        is_key = bool(parent and parent[0] and parent[1])
        if parent is not None:
            if is_key or not parent[0]:
                parent[3] += 1
                limit = _COUNTED.get(parent[4])
                if limit and parent[3] > limit[0]:
                    what = ".".join(parent[4])
                    raise ScenarioError(file, line, what, f"more than {limit[0]} {limit[1]}",
                                        f"at most {limit[0]} {limit[1]}" + (f" ({limit[2]})" if limit[2] else ""))
            if parent[0]:
                parent[1] = not parent[1]
                if is_key:
                    parent[2] = event.value if isinstance(event, ScalarEvent) else None
        if isinstance(event, CollectionStartEvent):
            if len(stack) >= MAX_YAML_DEPTH:
                raise ScenarioError(file, line, "yaml", f"nesting deeper than {MAX_YAML_DEPTH} levels",
                                    f"at most {MAX_YAML_DEPTH} levels of mappings and lists")
            path = () if parent is None else parent[4] + ((parent[2] if parent[0] else "[]"),)
            stack.append([isinstance(event, MappingStartEvent), True, None, 0, tuple(str(k) for k in path)])


def _compose(text: str, file: str):
    """The YAML node tree of ``text`` (safe loader, libyaml when available) after :func:`_refuse_expansion`."""
    import yaml

    Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = None
    try:
        loader = Loader(text)
        _refuse_expansion(loader, file)
        loader.dispose()
        loader = Loader(text)
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(file, line, "yaml", " ".join(str(exc.problem or exc).split()), "valid YAML") from None
    except yaml.reader.ReaderError as exc:  # a control character or bad byte in the text
        line = text.count("\n", 0, exc.position) + 1 if isinstance(text, str) and isinstance(exc.position, int) else None
        char = f"the character U+{exc.character:04X}" if isinstance(exc.character, int) else f"the byte {exc.character!r}"
        raise ScenarioError(file, line, "yaml", char, "printable UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(file, None, "yaml", " ".join(str(exc).split()), "valid YAML") from None
    finally:
        if loader is not None:
            loader.dispose()


def _to_data(node, path: str, lines: dict[str, int], file: str):
    import yaml
    from yaml.constructor import SafeConstructor

    lines[path] = node.start_mark.line + 1
    if node.tag not in _PLAIN_TAGS:
        raise ScenarioError(file, node.start_mark.line + 1, path or "<top>", f"the tag {node.tag}",
                            "plain YAML values (strings, numbers, booleans, lists, mappings) without tags")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
                raise ScenarioError(file, key_node.start_mark.line + 1, path or "<top>", "a complex or tagged key", "plain keys")
            key = str(key_node.value)
            sub = f"{path}.{key}" if path else key
            if key in out:
                raise ScenarioError(file, key_node.start_mark.line + 1, sub, "a duplicate key", "each key once")
            out[key] = _to_data(value_node, sub, lines, file)
            lines[sub] = value_node.start_mark.line + 1
            lines.setdefault("key:" + sub, key_node.start_mark.line + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(item, f"{path}[{i}]", lines, file) for i, item in enumerate(node.value)]
    try:
        return SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:  # e.g. a timestamp like 2024-13-45
        raise ScenarioError(file, node.start_mark.line + 1, path or "<top>", node.value,
                            f"a valid value ({' '.join(str(exc).split())[:80]})") from None


class _Reader:
    """Validates plain data against the schema and names the file and line of each problem."""

    def __init__(self, file: str, lines: Mapping[str, int] | None):
        self.file = file
        self.lines = dict(lines or {})

    def line(self, path: str) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path.rsplit(".", 1)[0] if "." in path else ""
        return self.lines.get("", None)

    def fail(self, path: str, value, allowed: str):
        raise ScenarioError(self.file, self.line(path), path, value, allowed)

    def mapping(self, data, path: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict:
        if not isinstance(data, dict):
            self.fail(path, data, "a mapping with " + ", ".join(required))
        for key in required:
            if key not in data:
                raise ScenarioError(self.file, self.lines.get("key:" + path, self.line(path)), f"{path}.{key}" if path else key, "missing", "a required field")
        allowed = set(required) | set(optional)
        for key in data:
            if key not in allowed:
                p = f"{path}.{key}" if path else key
                raise ScenarioError(self.file, self.lines.get("key:" + p, self.line(p)), p, "an unknown field", "one of " + ", ".join(sorted(allowed)))
        return data

    def number(self, data, path: str, *, minimum: float = 0.0, strict: bool = False, maximum: float | None = None, whole: bool = False) -> float:
        if isinstance(data, str):
            # PyYAML reads 1e8 (no dot) and 100M as strings: accept the quantity forms of costlib.units.parse_quantity
            from .units import parse_quantity

            try:
                data = parse_quantity(data, path)
            except InputError:
                self.fail(path, data, "a number (7e9, 100M, 2.5k are accepted)")
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail(path, data, "a number")
        try:
            finite = math.isfinite(data)
        except OverflowError:  # an integer beyond float range
            finite = False
        if not finite:
            self.fail(path, data, "a finite number")
        v = float(data)
        if (v <= minimum) if strict else (v < minimum):
            what = {0.0: "volume, price, count or share"}.get(minimum, "value")
            self.fail(path, data, f"a number {'>' if strict else '>='} {minimum:g} (a negative {what} makes no sense)" if minimum == 0 else f"a number {'>' if strict else '>='} {minimum:g}")
        if maximum is not None and v > maximum:
            self.fail(path, data, f"a number <= {maximum:g}" + (" (a share is a fraction of 1)" if maximum == 1 else ""))
        if whole and v != int(v):
            self.fail(path, data, "a whole number")
        return v

    def band(self, data, path: str, **limits) -> Band:
        if isinstance(data, dict):
            self.mapping(data, path, ("low", "mid", "high"), ())
            vals = [self.number(data[k], f"{path}.{k}", **limits) for k in ("low", "mid", "high")]
        elif isinstance(data, list):
            if len(data) != 3:
                self.fail(path, data, "a number, [low, mid, high] or {low: , mid: , high: }")
            vals = [self.number(x, f"{path}[{i}]", **limits) for i, x in enumerate(data)]
        else:
            v = self.number(data, path, **limits)
            vals = [v, v, v]
        if not (vals[0] <= vals[1] <= vals[2]):
            self.fail(path, data, "low <= mid <= high")
        return Band(*vals)

    def text(self, data, path: str) -> str:
        if not isinstance(data, (str, int, float)) or isinstance(data, bool):
            self.fail(path, data, "a string")
        return str(data)


SHARE = {"maximum": 1.0}


def _check_replica_fits(rd: _Reader, p: str, model_id: str, device, precision: str, gpus: int, tasks) -> None:
    """A self-hosted replica must hold the model at batch 1 and the longest task's mid context (as
    :func:`serving_profile` sizes it), and every task's high prompt + output must be within the model's maximum
    context; else a one-line error naming the field (reason ``does-not-fit``), not a "latency budget" message."""
    from .memory import inference_memory
    from .models import get_model
    from .validate import context_within

    model = get_model(model_id)
    context = max(int(round(t.prompt_tokens.high + t.output_tokens.high)) for t in tasks)
    longest = max(tasks, key=lambda t: t.prompt_tokens.high + t.output_tokens.high)
    try:
        context_within(model, context, f"workload.tasks.{longest.name} (prompt_tokens + output_tokens)")
    except InputError as exc:
        rd.fail(f"workload.tasks.{longest.name}.prompt_tokens", f"{context} tokens of prompt + output (high)",
                f"{exc.allowed} for option {p} ({model.id})")
    fit_context = max(max(1, round(t.prompt_tokens.mid)) + max(1, round(t.output_tokens.mid)) for t in tasks)  # as serving_profile sizes
    try:
        need = inference_memory(model, precision, fit_context, 1, gpus=gpus).total_gb
    except InputError as exc:
        rd.fail(f"{p}.gpus_per_replica", gpus, exc.allowed)
    if need > device.memory_gb:
        rd.fail(f"{p}.gpus_per_replica", gpus,
                f"enough GPUs to hold {model.id} ({precision}, {fit_context:,}-token context, batch 1): needs {need:,.1f} GB per GPU "
                f"on {gpus} x {device.id} with {device.memory_gb:,.1f} GB each (reason: does-not-fit; more GPUs per replica, "
                "a smaller precision or a larger GPU)")


def scenario_from_dict(data: Mapping, *, file: str = "<scenario>", lines: Mapping[str, int] | None = None) -> Scenario:
    """Validate plain data (as from YAML) into a :class:`Scenario`; errors name the field (and line)."""
    from .hardware import get_device
    from .models import get_model
    from .prices import get_api_price
    from .inference import PRECISIONS as SERVING_PRECISIONS
    from .units import PRECISIONS

    rd = _Reader(file, lines)
    top = rd.mapping(data, "", ("name", "workload", "options"), ("description", "as_of", "currency_note"))
    w = rd.mapping(top["workload"], "workload", ("users", "tasks"), (
        "working_days_per_year", "active_hours_per_day", "growth_per_year", "peak_to_average",
        "cached_prompt_share", "latency_budget_s"))
    default_budget = w.get("latency_budget_s")
    if default_budget is not None:
        default_budget = rd.number(default_budget, "workload.latency_budget_s", strict=True)
    tasks_data = w["tasks"]
    if not isinstance(tasks_data, dict) or not tasks_data:
        rd.fail("workload.tasks", tasks_data, "a mapping of task name -> {requests_per_user_per_day, prompt_tokens, output_tokens}")
    if len(tasks_data) > MAX_TASK_TYPES:
        rd.fail("workload.tasks", f"{len(tasks_data)} task types", f"at most {MAX_TASK_TYPES} task types (merge similar tasks)")
    tasks = []
    for tname, t in tasks_data.items():
        p = f"workload.tasks.{tname}"
        rd.mapping(t, p, ("requests_per_user_per_day", "prompt_tokens", "output_tokens"), ("latency_budget_s", "ttft_s", "tpot_s"))
        budget = t.get("latency_budget_s", default_budget)
        if budget is None:
            raise ScenarioError(file, rd.line(p), f"{p}.latency_budget_s", "missing", "a latency budget per task or workload.latency_budget_s")
        tasks.append(TaskType(
            name=str(tname),
            requests_per_user_per_day=rd.band(t["requests_per_user_per_day"], f"{p}.requests_per_user_per_day",
                                              maximum=MAX_REQUESTS_PER_USER_PER_DAY),
            prompt_tokens=rd.band(t["prompt_tokens"], f"{p}.prompt_tokens", maximum=MAX_TOKENS_PER_REQUEST),
            output_tokens=rd.band(t["output_tokens"], f"{p}.output_tokens", strict=True, maximum=MAX_TOKENS_PER_REQUEST),
            latency_budget_s=rd.number(budget, f"{p}.latency_budget_s", strict=True) if "latency_budget_s" in t else float(budget),
            ttft_s=rd.number(t["ttft_s"], f"{p}.ttft_s", strict=True) if "ttft_s" in t else None,
            tpot_s=rd.number(t["tpot_s"], f"{p}.tpot_s", strict=True) if "tpot_s" in t else None,
        ))
    workload = Workload(
        users=rd.band(w["users"], "workload.users", maximum=MAX_USERS),
        tasks=tuple(tasks),
        working_days_per_year=rd.number(w.get("working_days_per_year", 250), "workload.working_days_per_year", strict=True, maximum=366),
        active_hours_per_day=rd.number(w.get("active_hours_per_day", 10), "workload.active_hours_per_day", strict=True, maximum=24),
        growth_per_year=rd.band(w.get("growth_per_year", 0.0), "workload.growth_per_year"),
        peak_to_average=rd.band(w.get("peak_to_average", 3.0), "workload.peak_to_average", minimum=1.0),
        cached_prompt_share=rd.band(w.get("cached_prompt_share", 0.0), "workload.cached_prompt_share", **SHARE),
    )
    opts_data = top["options"]
    if not isinstance(opts_data, list) or not opts_data:
        rd.fail("options", opts_data, "a list of options (kind: api | self_hosted | hybrid)")
    if len(opts_data) > MAX_OPTIONS:
        rd.fail("options", f"{len(opts_data)} options", f"at most {MAX_OPTIONS} options")
    options: list[Option] = []
    names: list[str] = []
    for i, o in enumerate(opts_data):
        p = f"options[{i}]"
        if not isinstance(o, dict) or "kind" not in o:
            raise ScenarioError(file, rd.line(p), f"{p}.kind", "missing", "one of " + ", ".join(OPTION_KINDS))
        kind = o["kind"]
        if kind not in OPTION_KINDS:
            rd.fail(f"{p}.kind", kind, "one of " + ", ".join(OPTION_KINDS))
        common = ("kind", "label", "operations_usd_per_year")
        if kind == "api":
            rd.mapping(o, p, ("name", "api"), common + ("price_multiplier",))
            try:
                get_api_price(str(o["api"]))
            except InputError as exc:
                rd.fail(f"{p}.api", o["api"], exc.allowed)
            opt: Option = ApiOption(
                name=rd.text(o["name"], f"{p}.name"), api=str(o["api"]), label=str(o.get("label", "")),
                price_multiplier=rd.band(o.get("price_multiplier", 1.0), f"{p}.price_multiplier", strict=True),
                operations_usd_per_year=rd.band(o.get("operations_usd_per_year", 0.0), f"{p}.operations_usd_per_year"),
            )
        elif kind == "self_hosted":
            rd.mapping(o, p, ("name", "model", "gpu"), common + (
                "precision", "engine", "offer", "price_usd_per_gpu_hour", "utilization", "throughput_tokens_per_s",
                "gpus_per_replica", "min_replicas", "hours_per_day", "finetune_usd", "amortization_years",
                "finetune_method", "finetune_tokens", "finetune_gpu", "finetune_runs_per_year"))
            try:
                get_model(str(o["model"]))
            except InputError as exc:
                rd.fail(f"{p}.model", o["model"], exc.allowed)
            try:
                device = get_device(str(o["gpu"]))
            except InputError as exc:
                rd.fail(f"{p}.gpu", o["gpu"], exc.allowed)
            precision = str(o.get("precision", "bf16"))
            if precision not in SERVING_PRECISIONS:
                extra = " (fp32 is a training precision; serve in bf16)" if precision in PRECISIONS else ""
                rd.fail(f"{p}.precision", precision, "a serving precision, one of " + ", ".join(SERVING_PRECISIONS) + extra)
            offer = str(o.get("offer", "on-demand"))
            from .planner import _engine, catalog_on_demand_price, offer_factors

            if offer not in offer_factors():
                rd.fail(f"{p}.offer", offer, "one of " + ", ".join(offer_factors()))
            try:
                engine = _engine(str(o.get("engine", "vllm")))
            except InputError as exc:
                rd.fail(f"{p}.engine", o.get("engine"), exc.allowed)
            # price_usd_per_gpu_hour is the ON-DEMAND price the reader chose (default: the catalog's on-demand
            # offers); a reserved or spot offer applies its factor to it (planner.offer_price_factor)
            if "price_usd_per_gpu_hour" in o:
                price = rd.band(o["price_usd_per_gpu_hour"], f"{p}.price_usd_per_gpu_hour", strict=True)
            else:
                try:
                    price = catalog_on_demand_price(device.id)
                except InputError as exc:
                    rd.fail(f"{p}.gpu", o["gpu"], f"{exc.allowed}; or give price_usd_per_gpu_hour")
            thr = o.get("throughput_tokens_per_s")
            ft = {}
            if any(k in o for k in ("finetune_method", "finetune_tokens", "finetune_gpu", "finetune_runs_per_year")):
                from .training import FINETUNE_METHODS

                for k in ("finetune_method", "finetune_tokens", "finetune_gpu"):
                    if k not in o:
                        raise ScenarioError(file, rd.line(p), f"{p}.{k}", "missing", "finetune_method, finetune_tokens and finetune_gpu together")
                if o["finetune_method"] not in FINETUNE_METHODS:
                    rd.fail(f"{p}.finetune_method", o["finetune_method"], "one of " + ", ".join(FINETUNE_METHODS))
                try:
                    ft_gpu = get_device(str(o["finetune_gpu"])).id
                except InputError as exc:
                    rd.fail(f"{p}.finetune_gpu", o["finetune_gpu"], exc.allowed)
                ft = dict(
                    finetune_method=str(o["finetune_method"]),
                    finetune_tokens=rd.number(o["finetune_tokens"], f"{p}.finetune_tokens", strict=True),
                    finetune_gpu=ft_gpu,
                    finetune_runs_per_year=rd.number(o.get("finetune_runs_per_year", 1.0), f"{p}.finetune_runs_per_year"),
                )
            gpus_per_replica = int(rd.number(o.get("gpus_per_replica", 1), f"{p}.gpus_per_replica", minimum=1, whole=True))
            if thr is None:  # the serving model sizes this option: it must fit, else say so here (not "latency budget")
                _check_replica_fits(rd, p, str(o["model"]), device, precision, gpus_per_replica, tasks)
            opt = SelfHostedOption(
                name=rd.text(o["name"], f"{p}.name"), model=str(o["model"]), gpu=device.id, precision=precision,
                engine=engine, offer=offer, price_usd_per_gpu_hour=price, label=str(o.get("label", "")),
                utilization=rd.band(o.get("utilization", 0.5), f"{p}.utilization", strict=True, **SHARE),
                throughput_tokens_per_s=None if thr is None else rd.band(thr, f"{p}.throughput_tokens_per_s", strict=True),
                gpus_per_replica=gpus_per_replica,
                min_replicas=int(rd.number(o.get("min_replicas", 1), f"{p}.min_replicas", minimum=1, whole=True)),
                hours_per_day=rd.number(o.get("hours_per_day", 24), f"{p}.hours_per_day", strict=True, maximum=24),
                finetune_usd=rd.band(o.get("finetune_usd", 0.0), f"{p}.finetune_usd"),
                amortization_years=rd.number(o.get("amortization_years", 1.0), f"{p}.amortization_years", strict=True),
                operations_usd_per_year=rd.band(o.get("operations_usd_per_year", 0.0), f"{p}.operations_usd_per_year"),
                **ft,
            )
        else:
            rd.mapping(o, p, ("name", "small", "large", "small_share"), common + ("escalation_rate", "router_usd_per_request"))
            opt = HybridOption(
                name=rd.text(o["name"], f"{p}.name"), small=str(o["small"]), large=str(o["large"]), label=str(o.get("label", "")),
                small_share=rd.band(o["small_share"], f"{p}.small_share", **SHARE),
                escalation_rate=rd.band(o.get("escalation_rate", 0.0), f"{p}.escalation_rate", **SHARE),
                router_usd_per_request=rd.band(o.get("router_usd_per_request", 0.0), f"{p}.router_usd_per_request"),
                operations_usd_per_year=rd.band(o.get("operations_usd_per_year", 0.0), f"{p}.operations_usd_per_year"),
            )
        if opt.name in names:
            rd.fail(f"{p}.name", opt.name, "a name not used by another option")
        if "." in opt.name:
            rd.fail(f"{p}.name", opt.name, "a name without dots")
        names.append(opt.name)
        options.append(opt)
    by_name = {o.name: o for o in options}
    for i, o in enumerate(options):
        if isinstance(o, HybridOption):
            p = f"options[{i}]"
            if o.small not in by_name or isinstance(by_name[o.small], HybridOption):
                rd.fail(f"{p}.small", o.small, "the name of an api or self_hosted option: " + ", ".join(n for n, x in by_name.items() if not isinstance(x, HybridOption)))
            if o.large not in by_name or not isinstance(by_name[o.large], ApiOption):
                rd.fail(f"{p}.large", o.large, "the name of an api option: " + ", ".join(n for n, x in by_name.items() if isinstance(x, ApiOption)))
    return Scenario(
        name=rd.text(top["name"], "name"), workload=workload, options=tuple(options),
        description=str(top.get("description", "")), as_of=str(top.get("as_of", "")),
        currency_note=str(top.get("currency_note", "")),
    )


def parse_scenario(text: str, file: str = "<scenario>") -> Scenario:
    """Parse and validate YAML text; errors name the file, line and field.

    Refused with one line: text over :data:`MAX_SCENARIO_BYTES`, anchors and aliases, nesting deeper than
    :data:`MAX_YAML_DEPTH`, tags, more than :data:`MAX_TASK_TYPES` task types or :data:`MAX_OPTIONS` options.
    """
    if not isinstance(text, str):
        raise ScenarioError(file, None, "scenario", type(text).__name__, "YAML text (a str)")
    if len(text) > MAX_SCENARIO_BYTES:
        raise ScenarioError(file, None, "scenario", f"{len(text):,} characters", f"at most {MAX_SCENARIO_BYTES:,} characters")
    node = _compose(text, file)
    if node is None:
        raise ScenarioError(file, 1, "name", "an empty file", "a scenario with name, workload and options")
    lines: dict[str, int] = {}
    data = _to_data(node, "", lines, file)
    return scenario_from_dict(data, file=file, lines=lines)


def _scenario_path(path: str | Path) -> Path:
    """The file behind ``path`` (a path or the name of a shipped example); one-line errors for the rest."""
    known = "an existing YAML file or one of " + ", ".join(example_scenarios())
    if isinstance(path, Path):
        text = str(path)
    elif isinstance(path, str):
        text = path
    else:
        raise InputError("scenario", path, known)
    if not text.strip():
        raise InputError("scenario", text, "a scenario name or path, not an empty string: " + known)
    p = Path(text)
    try:
        if not p.exists() and not p.suffix and "/" not in text and (SCENARIO_DIR / f"{p.name}.yaml").is_file():
            p = SCENARIO_DIR / f"{p.name}.yaml"
        if p.is_dir():
            raise InputError("scenario", text, "a YAML file, not a directory: " + known)
        if not p.is_file():
            raise InputError("scenario", text, known)
    except OSError as exc:  # a name too long, a permission problem
        raise InputError("scenario", text, f"a readable file ({exc.strerror or exc})") from None
    return p


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario YAML file (a path, or the name of a shipped example such as ``sdlc_assistant``).

    The file must be UTF-8 and at most :data:`MAX_SCENARIO_BYTES`; see :func:`parse_scenario` for what else is refused.
    """
    p = _scenario_path(path)
    try:
        text = read_bounded_text(p, parameter="scenario", max_bytes=MAX_SCENARIO_BYTES, what="a scenario file")
    except TextFileError as exc:  # scenario errors name the file (and line) first, as parse_scenario's do
        if exc.problem == "unreadable":
            raise InputError("scenario", str(path), exc.allowed) from None
        allowed = "UTF-8 text" if exc.problem == "encoding" else f"at most {MAX_SCENARIO_BYTES:,} bytes"
        raise ScenarioError(p.name, exc.line, "scenario", exc.found, allowed) from None
    return parse_scenario(text, file=p.name)


def example_scenarios() -> list[str]:
    return sorted(x.stem for x in SCENARIO_DIR.glob("*.yaml"))


def _band_out(b: Band):
    return float(b.mid) if b.low == b.high else {"low": float(b.low), "mid": float(b.mid), "high": float(b.high)}


def scenario_to_dict(sc: Scenario) -> dict:
    """Plain data that :func:`scenario_from_dict` turns back into an equal scenario."""
    w = sc.workload
    out: dict[str, Any] = {"name": sc.name}
    if sc.description:
        out["description"] = sc.description
    if sc.as_of:
        out["as_of"] = sc.as_of
    if sc.currency_note:
        out["currency_note"] = sc.currency_note
    out["workload"] = {
        "users": _band_out(w.users),
        "working_days_per_year": w.working_days_per_year,
        "active_hours_per_day": w.active_hours_per_day,
        "growth_per_year": _band_out(w.growth_per_year),
        "peak_to_average": _band_out(w.peak_to_average),
        "cached_prompt_share": _band_out(w.cached_prompt_share),
        "tasks": {t.name: {
            "requests_per_user_per_day": _band_out(t.requests_per_user_per_day),
            "prompt_tokens": _band_out(t.prompt_tokens),
            "output_tokens": _band_out(t.output_tokens),
            "latency_budget_s": t.latency_budget_s,
            **({"ttft_s": t.ttft_s} if t.ttft_s is not None else {}),
            **({"tpot_s": t.tpot_s} if t.tpot_s is not None else {}),
        } for t in w.tasks},
    }
    opts = []
    for o in sc.options:
        d: dict[str, Any] = {}
        for f in fields(o):
            v = getattr(o, f.name)
            if v is None or (f.name == "label" and not v):
                continue
            if f.name.startswith("finetune_") and f.name != "finetune_usd" and not getattr(o, "finetune_method", ""):
                continue
            d[f.name] = _band_out(v) if isinstance(v, Band) else v
        opts.append(d)
    out["options"] = opts
    return out


def dump_scenario(sc: Scenario) -> str:
    import yaml

    return yaml.safe_dump(scenario_to_dict(sc), sort_keys=False)


# --------------------------------------------------------------------------------------------
# serving profile of a self-hosted option (calls costlib.inference once per batch size)


@dataclass(frozen=True)
class ServingProfile:
    """How one replica of a self-hosted option serves each task type (continuous batching, at the task's targets).

    ``throughput_tokens_per_s`` is per task type (output tokens/s per replica at its capacity, mid estimate);
    ``batch`` the mean number of requests in flight there (the concurrency, mid); ``throughput_factor`` the
    relative uncertainty of the capacity (low/mid, 1, high/mid), shared by all task types since it comes from one
    calibrated efficiency band; ``binding`` the constraint that stops each task type's capacity.
    """

    batch: Mapping[str, int]
    throughput_tokens_per_s: Mapping[str, float]
    throughput_factor: Band
    latency_s: Mapping[str, float]
    source: str  # "measured (scenario)" or "costlib.serving"
    binding: Mapping[str, str] = field(default_factory=dict)


LATENCY_TTFT_SHARE = 0.25
"""A task with only a latency budget L: mean TTFT target 0.25 L, mean TPOT target 0.75 L / output tokens
(assumption: the answer streams, so most of the budget is decode)."""


def task_targets(t: TaskType):
    """The task's service targets (:class:`costlib.planner.Targets`): its own ttft_s/tpot_s, else a split of
    its latency budget (:data:`LATENCY_TTFT_SHARE`)."""
    from .planner import Targets

    o = max(1.0, float(t.output_tokens.mid))
    ttft = t.ttft_s if t.ttft_s is not None else LATENCY_TTFT_SHARE * t.latency_budget_s
    tpot = t.tpot_s if t.tpot_s is not None else (1.0 - LATENCY_TTFT_SHARE) * t.latency_budget_s / o
    return Targets(float(ttft), float(tpot))


def _mean_tokens(workload: Workload) -> tuple[float, float]:
    r = np.array([t.requests_per_user_per_day.mid for t in workload.tasks])
    p = np.array([t.prompt_tokens.mid for t in workload.tasks])
    o = np.array([t.output_tokens.mid for t in workload.tasks])
    w = r / r.sum() if r.sum() > 0 else np.full(len(r), 1.0 / len(r))
    return float(w @ p), float(w @ o)


def _mid(x) -> float:
    return float(x.mid) if isinstance(x, Band) else float(x)


@lru_cache(maxsize=256)
def serving_profile(option: SelfHostedOption, workload: Workload) -> ServingProfile:
    """For each task type, one replica's capacity at the task's targets from the continuous-batching serving
    model (:func:`costlib.planner.replica_capacity` over :func:`costlib.serving.capacity_at_slo`), at the task's
    mid prompt and output tokens. A measured ``throughput_tokens_per_s`` in the scenario replaces the model for
    every task type (latency is then not checked). A task the replica cannot serve at its targets raises an
    ``InputError`` with the reason.
    """
    names = [t.name for t in workload.tasks]
    if option.throughput_tokens_per_s is not None:
        b = option.throughput_tokens_per_s
        factor = Band(b.low / b.mid, 1.0, b.high / b.mid)
        return ServingProfile(batch={n: 0 for n in names}, throughput_tokens_per_s={n: float(b.mid) for n in names},
                              throughput_factor=factor, latency_s={}, source="measured (scenario)")
    from . import serving
    from .planner import replica_capacity

    batch, thr, lat, bind, ratios_lo, ratios_hi = {}, {}, {}, {}, [], []
    for t in workload.tasks:
        p, o = max(1, round(t.prompt_tokens.mid)), max(1, round(t.output_tokens.mid))
        tg = task_targets(t)
        cap = replica_capacity(option.model, option.gpu, option.gpus_per_replica, option.precision, option.engine,
                               ((t.name, p, o),), tg)
        if not cap.feasible:
            raise InputError(f"{option.name}: {t.name} targets", f"TTFT {tg.ttft_s:g} s, TPOT {tg.tpot_s * 1e3:g} ms",
                             f"targets {option.model} on {option.gpus_per_replica}x {option.gpu} ({option.precision}) "
                             f"can meet ({cap.reason})")
        rate = cap.rate_per_replica[t.name]
        pt = serving.capacity_at_slo(option.model, option.gpu, gpus=option.gpus_per_replica, precision=option.precision,
                                     engine=option.engine, prompt_tokens=p, output_tokens=o, ttft_s=tg.ttft_s,
                                     tpot_s=tg.tpot_s)
        batch[t.name] = int(round(float(pt.concurrency.mid)))
        thr[t.name] = float(rate.mid) * o
        lat[t.name] = float(pt.ttft_s.mid) + (o - 1) * float(pt.tpot_s.mid)
        bind[t.name] = cap.binding_by_task[t.name]
        ratios_lo.append((rate.low if rate.low > 0 else rate.mid) / rate.mid)
        ratios_hi.append(rate.high / rate.mid)
    factor = Band(float(np.mean(ratios_lo)), 1.0, float(np.mean(ratios_hi)))
    return ServingProfile(batch=batch, throughput_tokens_per_s=thr, throughput_factor=factor, latency_s=lat,
                          source="costlib.serving", binding=bind)


@lru_cache(maxsize=64)
def finetune_compute(option: SelfHostedOption) -> Band:
    """Fine-tuning compute per year: ``finetune_runs_per_year`` x the cost band of one run from
    :func:`costlib.finetune.estimate_finetune` (the model, method, tokens and GPU of the option)."""
    if not option.finetune_method:
        return Band.point(0.0)
    from .finetune import estimate_finetune

    est = estimate_finetune(option.model, option.finetune_method, option.finetune_tokens, option.finetune_gpu)
    if est.cost_usd is None:
        raise InputError(f"{option.name}.finetune_gpu", option.finetune_gpu, "a GPU with a catalog price")
    return est.cost_usd.scale(option.finetune_runs_per_year)


# --------------------------------------------------------------------------------------------
# parameters and the vectorized evaluation


@dataclass(frozen=True)
class Parameter:
    key: str
    label: str
    band: Band


def parameters(sc: Scenario) -> dict[str, Parameter]:
    """Every uncertain input of a scenario, by key (``users``, ``completion.prompt_tokens``, ``gpt4o.price_multiplier``...)."""
    w = sc.workload
    out: dict[str, Parameter] = {}

    def add(key, label, band):
        out[key] = Parameter(key, label, band)

    add("users", "users", w.users)
    add("growth_per_year", "growth over the year", w.growth_per_year)
    add("peak_to_average", "peak-to-average ratio", w.peak_to_average)
    add("cached_prompt_share", "cached share of prompt tokens", w.cached_prompt_share)
    for t in w.tasks:
        add(f"{t.name}.requests_per_user_per_day", f"{t.name}: requests/user/day", t.requests_per_user_per_day)
        add(f"{t.name}.prompt_tokens", f"{t.name}: prompt tokens", t.prompt_tokens)
        add(f"{t.name}.output_tokens", f"{t.name}: output tokens", t.output_tokens)
    for o in sc.options:
        n = o.name
        if isinstance(o, ApiOption):
            add(f"{n}.price_multiplier", f"{n}: API price multiplier", o.price_multiplier)
        elif isinstance(o, SelfHostedOption):
            add(f"{n}.price_usd_per_gpu_hour", f"{n}: on-demand $/GPU-hour", o.price_usd_per_gpu_hour)
            if o.offer != "on-demand":
                from .planner import offer_price_factor

                add(f"{n}.offer_price_factor", f"{n}: {o.offer} price / on-demand", offer_price_factor(o.offer))
            add(f"{n}.utilization", f"{n}: utilization", o.utilization)
            add(f"{n}.throughput_factor", f"{n}: throughput (x model estimate)", serving_profile(o, w).throughput_factor)
            add(f"{n}.finetune_usd", f"{n}: fine-tuning people and data $", o.finetune_usd)
            if o.finetune_method:
                add(f"{n}.finetune_compute_usd_per_year", f"{n}: fine-tuning compute $/year", finetune_compute(o))
        else:
            add(f"{n}.small_share", f"{n}: share to small model", o.small_share)
            add(f"{n}.escalation_rate", f"{n}: escalation rate", o.escalation_rate)
            add(f"{n}.router_usd_per_request", f"{n}: router $/request", o.router_usd_per_request)
        add(f"{n}.operations_usd_per_year", f"{n}: operations $/year", o.operations_usd_per_year)
    return out


def mid_values(sc: Scenario) -> dict[str, float]:
    return {k: float(p.band.mid) for k, p in parameters(sc).items()}


def _volumes(sc: Scenario, v: Mapping[str, Any], scale=1.0):
    """Annual requests per task type and the end-of-year peak rate (requests/s), times ``scale``."""
    w = sc.workload
    scale = np.asarray(scale, dtype=float) * np.asarray(v.get("volume_scale", 1.0), dtype=float)
    users = np.asarray(v["users"], dtype=float)
    g = np.asarray(v["growth_per_year"], dtype=float)
    per_task = {}
    daily_total = 0.0
    for t in w.tasks:
        r = np.asarray(v[f"{t.name}.requests_per_user_per_day"], dtype=float)
        per_task[t.name] = users * r * w.working_days_per_year * (1.0 + g / 2.0) * scale
        daily_total = daily_total + r
    peak = users * (1.0 + g) * daily_total / (w.active_hours_per_day * 3600.0) * np.asarray(v["peak_to_average"], dtype=float) * scale
    return per_task, peak


def _api_components(sc: Scenario, o: ApiOption, v, scale=1.0, per_task_out=None) -> dict[str, np.ndarray]:
    from .prices import get_api_price

    price = get_api_price(o.api)
    n, _ = _volumes(sc, v, scale)
    c = np.asarray(v["cached_prompt_share"], dtype=float)
    mult = np.asarray(v[f"{o.name}.price_multiplier"], dtype=float)
    total = 0.0
    for t in sc.workload.tasks:
        p = np.asarray(v[f"{t.name}.prompt_tokens"], dtype=float)
        out = np.asarray(v[f"{t.name}.output_tokens"], dtype=float)
        cost = price.cost_usd(n[t.name] * p, n[t.name] * out, n[t.name] * p * c) * mult
        if per_task_out is not None:
            per_task_out[t.name] = per_task_out.get(t.name, 0.0) + cost
        total = total + cost
    return {"inference": np.asarray(total, dtype=float)}


def _self_hosted_components(sc: Scenario, o: SelfHostedOption, v, scale=1.0, per_task_out=None) -> dict[str, np.ndarray]:
    prof = serving_profile(o, sc.workload)
    n, peak = _volumes(sc, v, scale)
    rates = {t.name: np.asarray(v[f"{t.name}.requests_per_user_per_day"], dtype=float) for t in sc.workload.tasks}
    daily = sum(rates.values())
    # replica-seconds per second at peak: each task's peak rate x output tokens / its tokens/s per replica
    demand = {}
    for t in sc.workload.tasks:
        share = np.where(daily > 0, rates[t.name] / np.where(daily > 0, daily, 1.0), 0.0)
        demand[t.name] = peak * share * np.asarray(v[f"{t.name}.output_tokens"], dtype=float) / prof.throughput_tokens_per_s[t.name]
    total_demand = sum(demand.values())
    capacity = np.asarray(v[f"{o.name}.throughput_factor"], dtype=float) * np.asarray(v[f"{o.name}.utilization"], dtype=float)
    replicas = np.maximum(o.min_replicas, np.ceil(total_demand / capacity - 1e-9))
    replicas = np.where(np.asarray(scale, dtype=float) > 0, replicas, 0.0)
    gpus = replicas * o.gpus_per_replica
    # the offer's price derives from the on-demand price chosen (reserved never above on demand)
    price = np.asarray(v[f"{o.name}.price_usd_per_gpu_hour"], dtype=float) * np.asarray(v.get(f"{o.name}.offer_price_factor", 1.0), dtype=float)
    compute = gpus * price * o.hours_per_day * DAYS_PER_YEAR
    if per_task_out is not None:  # compute allocated by GPU time, the resource the replicas were sized for
        for t in sc.workload.tasks:
            share = np.where(total_demand > 0, demand[t.name] / np.where(total_demand > 0, total_demand, 1.0), 0.0)
            per_task_out[t.name] = per_task_out.get(t.name, 0.0) + compute * share
    return {
        "inference": np.asarray(compute, dtype=float),
        "gpus": np.asarray(gpus, dtype=float),
        "finetune": np.asarray(v[f"{o.name}.finetune_usd"], dtype=float) / o.amortization_years
        + np.asarray(v.get(f"{o.name}.finetune_compute_usd_per_year", 0.0), dtype=float) + 0.0 * compute,
    }


def _option_components(sc: Scenario, o: Option, v, per_task_out=None) -> dict[str, np.ndarray]:
    ops = np.asarray(v[f"{o.name}.operations_usd_per_year"], dtype=float)
    if isinstance(o, ApiOption):
        comp = _api_components(sc, o, v, 1.0, per_task_out)
    elif isinstance(o, SelfHostedOption):
        comp = _self_hosted_components(sc, o, v, 1.0, per_task_out)
    else:
        s = np.asarray(v[f"{o.name}.small_share"], dtype=float)
        e = np.asarray(v[f"{o.name}.escalation_rate"], dtype=float)
        small = sc.option(o.small)
        large = sc.option(o.large)
        from .routing import large_share

        ls = large_share(s, e)
        small_pt: dict = {} if per_task_out is not None else None
        large_pt: dict = {} if per_task_out is not None else None
        if isinstance(small, ApiOption):
            sc_small = _api_components(sc, small, v, s, small_pt)
        else:
            sc_small = _self_hosted_components(sc, small, v, s, small_pt)
        routed = _api_components(sc, large, v, 1.0 - s)["inference"]
        escalated = _api_components(sc, large, v, s * e)["inference"]
        if per_task_out is not None:
            _api_components(sc, large, v, ls, large_pt)
        n, _ = _volumes(sc, v)
        req = sum(n.values())
        router = np.asarray(v[f"{o.name}.router_usd_per_request"], dtype=float) * req
        comp = {
            "inference": sc_small["inference"],
            "large_routed": routed,
            "large_escalated": escalated,
            "router": np.asarray(router, dtype=float),
        }
        if "finetune" in sc_small:
            comp["finetune"] = sc_small["finetune"]
            comp["gpus"] = sc_small["gpus"]
        # the small option's own operations overhead comes with it when it carries any traffic
        comp["small_operations"] = np.where(s > 0, np.asarray(v[f"{small.name}.operations_usd_per_year"], dtype=float), 0.0)
        # and the large API's (gateway, monitoring): the hybrid uses it as well
        comp["large_operations"] = np.asarray(v[f"{large.name}.operations_usd_per_year"], dtype=float) + 0.0 * routed
        if per_task_out is not None:
            for t in sc.workload.tasks:
                per_task_out[t.name] = small_pt[t.name] + large_pt[t.name] + router * n[t.name] / np.where(req > 0, req, 1.0)
    comp["operations"] = ops + 0.0 * comp["inference"]
    return comp


COST_COMPONENTS = ("finetune", "inference", "large_routed", "large_escalated", "router", "small_operations",
                   "large_operations", "operations")
"""Cost components in the order tables and stacked bars show them (``gpus`` is a count, not a cost)."""


def evaluate(sc: Scenario, values: Mapping[str, Any] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Annual cost components (USD) per option for input values (floats or arrays; missing = mid).

    Returns ``{option: {component: array, ..., "total": array}}``; ``gpus`` (self-hosted) is a count.
    """
    v = dict(mid_values(sc))
    if values:
        unknown = set(values) - set(v) - {"volume_scale"}
        if unknown:
            raise InputError("values", sorted(unknown)[0], "a parameter key: " + ", ".join(v))
        v.update(values)
    out = {}
    for o in sc.options:
        comp = _option_components(sc, o, v)
        comp["total"] = sum(comp[k] for k in COST_COMPONENTS if k in comp)
        out[o.name] = comp
    return out


def annual_totals(sc: Scenario, values: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    return {k: c["total"] for k, c in evaluate(sc, values).items()}


# --------------------------------------------------------------------------------------------
# the report


@dataclass(frozen=True)
class OptionCost:
    name: str
    kind: str
    label: str
    annual_usd: float
    monthly_usd: float
    components_usd: Mapping[str, float]
    usd_per_request: float
    usd_per_request_by_task: Mapping[str, float]
    gpus: float | None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnnualCost:
    scenario: str
    annual_requests: float
    requests_by_task: Mapping[str, float]
    peak_requests_per_s: float
    options: Mapping[str, OptionCost]

    @property
    def cheapest(self) -> str:
        return min(self.options.values(), key=lambda o: o.annual_usd).name


def annual_cost(sc: Scenario, values: Mapping[str, Any] | None = None) -> AnnualCost:
    """Annual and monthly cost of every option at the mid values (or ``values``), with breakdowns."""
    from .prices import get_api_price

    v = dict(mid_values(sc))
    v.update(values or {})
    n, peak = _volumes(sc, v)
    req = float(sum(float(x) for x in n.values()))
    options = {}
    for o in sc.options:
        per_task: dict = {}
        comp = _option_components(sc, o, v, per_task)
        costs = {k: float(comp[k]) for k in COST_COMPONENTS if k in comp}
        total = float(sum(costs.values()))
        fixed = sum(costs.get(k, 0.0) for k in ("finetune", "operations", "small_operations", "large_operations"))
        by_task = {}
        for t in sc.workload.tasks:
            nt = float(n[t.name])
            # variable cost of the task type plus the fixed costs spread evenly over all requests
            by_task[t.name] = (float(per_task[t.name]) + fixed * nt / req) / nt if nt > 0 else float("nan")
        detail: dict[str, Any] = {}
        if isinstance(o, ApiOption):
            ap = get_api_price(o.api)
            detail = {"api": o.api, "input_usd_per_1m": ap.input_usd_per_1m, "output_usd_per_1m": ap.output_usd_per_1m, "price_as_of": ap.as_of, "price_source": ap.source}
        elif isinstance(o, SelfHostedOption):
            prof = serving_profile(o, sc.workload)
            detail = {"model": o.model, "gpu": o.gpu, "precision": o.precision, "batch": dict(prof.batch),
                      "throughput_tokens_per_s": {k: x * float(v[f"{o.name}.throughput_factor"]) for k, x in prof.throughput_tokens_per_s.items()},
                      "throughput_source": prof.source,
                      "price_usd_per_gpu_hour": float(v[f"{o.name}.price_usd_per_gpu_hour"]) * float(v.get(f"{o.name}.offer_price_factor", 1.0)),
                      "on_demand_usd_per_gpu_hour": float(v[f"{o.name}.price_usd_per_gpu_hour"]), "offer": o.offer,
                      "engine": o.engine, "binding": dict(prof.binding),
                      "latency_s": dict(prof.latency_s)}
        else:
            detail = {"small": o.small, "large": o.large, "small_share": float(v[f"{o.name}.small_share"]),
                      "escalation_rate": float(v[f"{o.name}.escalation_rate"])}
        options[o.name] = OptionCost(
            name=o.name, kind=o.kind, label=o.label or o.name, annual_usd=total, monthly_usd=total / 12.0,
            components_usd=costs, usd_per_request=total / req if req > 0 else float("nan"),
            usd_per_request_by_task=by_task, gpus=float(comp["gpus"]) if "gpus" in comp else None, detail=detail,
        )
    return AnnualCost(sc.name, req, {k: float(x) for k, x in n.items()}, float(peak), options)


def option_summary(sc: Scenario, values: Mapping[str, Any] | None = None) -> tuple[list[dict[str, Any]], str]:
    """Per option (scenario order): ``label``, ``annual_usd``, ``monthly_usd``, ``usd_per_1k_requests``; and the
    label of the cheapest option. What a what-if widget (and its static explorer) shows; see :func:`annual_cost`."""
    res = annual_cost(sc, values)
    rows = [{"label": o.label, "annual_usd": o.annual_usd, "monthly_usd": o.monthly_usd,
             "usd_per_1k_requests": 1000.0 * o.usd_per_request} for o in res.options.values()]
    return rows, res.options[res.cheapest].label


def cost_table(result: AnnualCost):
    """The breakdown as a DataFrame: one row per option, one column per component, USD per year."""
    import pandas as pd

    rows = []
    for o in result.options.values():
        row = {"option": o.label, "kind": o.kind}
        row.update({k: o.components_usd.get(k, 0.0) for k in COST_COMPONENTS})
        row.update({"annual": o.annual_usd, "monthly": o.monthly_usd, "per request": o.usd_per_request, "GPUs": o.gpus})
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# sweeps and break-evens


def sweep(sc: Scenario, key: str, grid, values: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Annual total per option along ``grid`` for one input (``volume_scale`` or any parameter key)."""
    v = dict(values or {})
    v[key] = np.asarray(grid, dtype=float)
    return annual_totals(sc, v)


def _first_crossing(grid, diff):
    """First grid value where ``diff`` turns <= 0 (linear interpolation between grid points); nan if never."""
    grid = np.asarray(grid, dtype=float)
    diff = np.asarray(diff, dtype=float)
    idx = np.flatnonzero(diff <= 0)
    if idx.size == 0:
        return float("nan")
    i = int(idx[0])
    if i == 0:
        return float(grid[0])
    x0, x1, d0, d1 = grid[i - 1], grid[i], diff[i - 1], diff[i]
    return float(x0 + (x1 - x0) * d0 / (d0 - d1)) if d0 != d1 else float(x1)


def break_even_volume(sc: Scenario, option: str, against: str, *, max_scale: float = 100.0, points: int = 4001,
                      values: Mapping[str, Any] | None = None) -> float:
    """Smallest multiple of the scenario's volume at which ``option`` costs no more than ``against``.

    Returns the volume multiple (1.0 = the scenario as written); nan if not reached by ``max_scale``.
    Multiply by :func:`annual_cost` ``.annual_requests / 12`` for requests per month.
    """
    sc.option(option), sc.option(against)
    grid = np.geomspace(1e-3, max_scale, points)
    t = sweep(sc, "volume_scale", grid, values)
    return _first_crossing(grid, t[option] - t[against])


def break_even_share(sc: Scenario, hybrid: str, *, points: int = 2001, values: Mapping[str, Any] | None = None) -> float:
    """Smallest share to the small model at which ``hybrid`` costs no more than its large API alone (nan if none)."""
    o = sc.option(hybrid)
    if not isinstance(o, HybridOption):
        raise InputError("hybrid", hybrid, "the name of a hybrid option")
    grid = np.linspace(0.0, 1.0, points)
    t = sweep(sc, f"{hybrid}.small_share", grid, values)
    diff = t[hybrid] - t[o.large]
    # the hybrid at share 0 still pays the router: the crossing is where it first gets below the large API
    return _first_crossing(grid[1:], diff[1:])


def volume_for_annual_cost(sc: Scenario, option: str, target_usd: float, *, max_scale: float = 1000.0, points: int = 6001,
                           values: Mapping[str, Any] | None = None) -> float:
    """Volume multiple at which ``option``'s annual cost reaches ``target_usd`` (nan if not within range)."""
    sc.option(option)
    grid = np.geomspace(1e-4, max_scale, points)
    t = sweep(sc, "volume_scale", grid, values)[option]
    return _first_crossing(grid, target_usd - t)


# --------------------------------------------------------------------------------------------
# uncertainty


@dataclass(frozen=True)
class TornadoRow:
    key: str
    label: str
    low_value: float
    high_value: float
    cost_at_low: float
    cost_at_high: float

    @property
    def swing(self) -> float:
        return abs(self.cost_at_high - self.cost_at_low)


def sensitivity(sc: Scenario, option: str) -> list[TornadoRow]:
    """One-at-a-time: annual cost of ``option`` with each input at its low and at its high, others at mid.

    Rows are sorted by swing, largest first; inputs whose band has no width are left out.
    """
    sc.option(option)
    rows = []
    for key, p in parameters(sc).items():
        if p.band.low == p.band.high:
            continue
        t = annual_totals(sc, {key: np.array([p.band.low, p.band.high])})[option]
        t = np.broadcast_to(t, (2,))
        rows.append(TornadoRow(key, p.label, float(p.band.low), float(p.band.high), float(t[0]), float(t[1])))
    return sorted(rows, key=lambda r: -r.swing)


def sample_inputs(sc: Scenario, n: int = MC_SAMPLES, seed: int = 0) -> dict[str, np.ndarray]:
    """Independent triangular(low, mid, high) draws for every input with a band (fixed seed)."""
    from .validate import whole

    whole("n", n)
    rng = np.random.default_rng(seed)
    out = {}
    for key, p in parameters(sc).items():
        lo, mi, hi = float(p.band.low), float(p.band.mid), float(p.band.high)
        out[key] = np.full(n, mi) if lo == hi else rng.triangular(lo, mi, hi, size=n)
    return out


@dataclass(frozen=True)
class MonteCarlo:
    samples: Mapping[str, np.ndarray]  # annual total per option
    p10: Mapping[str, float]
    p50: Mapping[str, float]
    p90: Mapping[str, float]
    mean: Mapping[str, float]
    probability_cheapest: Mapping[str, float]
    n: int
    seed: int

    def band(self, option: str) -> Band:
        return Band(self.p10[option], self.p50[option], self.p90[option])


def monte_carlo(sc: Scenario, n: int = MC_SAMPLES, seed: int = 0) -> MonteCarlo:
    """Annual cost per option over independent triangular input draws: P10/P50/P90 and P(cheapest)."""
    totals = annual_totals(sc, sample_inputs(sc, n, seed))
    names = list(totals)
    mat = np.vstack([np.broadcast_to(totals[k], (n,)) for k in names])
    winner = np.argmin(mat, axis=0)
    q = {k: np.quantile(mat[i], [0.1, 0.5, 0.9]) for i, k in enumerate(names)}
    return MonteCarlo(
        samples={k: mat[i] for i, k in enumerate(names)},
        p10={k: float(q[k][0]) for k in names}, p50={k: float(q[k][1]) for k in names}, p90={k: float(q[k][2]) for k in names},
        mean={k: float(mat[i].mean()) for i, k in enumerate(names)},
        probability_cheapest={k: float(np.mean(winner == i)) for i, k in enumerate(names)},
        n=n, seed=seed,
    )


def with_values(sc: Scenario, **changes) -> Scenario:
    """A copy with workload fields replaced (``users=Band.point(800)``) — for widgets and what-ifs."""
    return replace(sc, workload=replace(sc.workload, **changes))


def gpu_hours_for_budget(budget_usd_per_month, price_usd_per_gpu_hour):
    """GPU-hours a monthly budget rents, and the share of a month (730 h) that is."""
    from .validate import non_negative, positive

    hours = non_negative("budget_usd_per_month", budget_usd_per_month) / positive("price_usd_per_gpu_hour", price_usd_per_gpu_hour)
    return hours, hours / HOURS_PER_MONTH
