"""The basis of a CLI answer (``python -m costlib ... --explain``): formula, inputs with source and date, and the
exact command that reproduces it.

:func:`basis` returns a dict with

* ``formula``: the equations used, each with its source, and the mid values substituted where useful;
* ``inputs``: every input as ``{"name", "value", "unit", "source", "as_of"}`` (``as_of`` is the date of the
  catalog row or the date found in the named constant's documentation; ``None`` for a number you typed);
* ``command``: the command line rebuilt from the *resolved* arguments (defaults written out, so a later change
  of a default does not change what it computes), and ``costlib_version``: the version that printed it. The
  command reproduces the numbers with the same costlib version and catalogs.

Subcommands with a dedicated builder (``train``, ``finetune``) list every input; every other subcommand gets
the generic basis: the numbers you typed, the catalog rows (GPU, model) it used with their source and date,
and the assumptions the answer itself states. The formulas themselves live in the modules that compute them;
this module only describes them and reads the constants' provenance from their source.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
import shlex
from functools import lru_cache

from .. import training
from ..hardware import get_device
from ..models import get_model
from ..prices import gpu_price_band, prices_for

PROG = "python -m costlib"
# Options that change the output format, not the answer: left out of the reproducing command.
FORMAT_OPTIONS = {"json", "explain", "help"}
_DATE = re.compile(r"\b(\d{4}-\d{2}(?:-\d{2})?)\b")


def costlib_version() -> str:
    try:
        from importlib.metadata import version

        return version("costlib")
    except Exception:  # noqa: BLE001 - an uninstalled checkout
        return "unknown"


@lru_cache(maxsize=None)
def constant_doc(module: str, name: str) -> str:
    """The documentation string written under ``NAME = value`` in ``module`` (``""`` if none)."""
    mod = importlib.import_module(module)
    tree = ast.parse(inspect.getsource(mod))
    body = tree.body
    for i, node in enumerate(body[:-1]):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            nxt = body[i + 1]
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
                return " ".join(nxt.value.value.split())
    return ""


def constant_input(module: str, name: str, label: str, value, unit: str, overridden: bool) -> dict:
    """An input that is a named module constant: its documented source and the latest date in that text."""
    if overridden:
        return {"name": label, "value": value, "unit": unit, "source": "your input", "as_of": None}
    doc = constant_doc(module, name)
    dates = sorted(_DATE.findall(doc))
    return {
        "name": label, "value": value, "unit": unit,
        "source": f"{module}.{name}: {doc}" if doc else f"{module}.{name}",
        "as_of": dates[-1] if dates else None,
    }


def _fmt_number(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        text = format(v, ".15g")
        return text if float(text) == v else repr(v)
    return str(v)


def command_line(subparser: argparse.ArgumentParser, args: argparse.Namespace, name: str) -> str:
    """``python -m costlib NAME ...`` with every resolved argument of ``subparser`` written out."""
    parts = [name]
    positionals = []
    for action in subparser._actions:
        dest = action.dest
        if dest in FORMAT_OPTIONS or isinstance(action, argparse._HelpAction) or dest == argparse.SUPPRESS:
            continue
        value = getattr(args, dest, None)
        if hasattr(value, "total_params"):  # --model resolved from --config PATH: the path is written instead
            continue
        if not action.option_strings:
            if value is not None:
                positionals.append(_fmt_number(value))
            continue
        flag = max(action.option_strings, key=len)
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            if value != action.default:
                parts.append(flag)
            continue
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            parts.append(flag)
            parts.extend(_fmt_number(v) for v in value)
        else:
            parts.extend([flag, _fmt_number(value)])
    return " ".join([PROG] + [shlex.quote(p) for p in parts + positionals])


# ---------------------------------------------------------------------------------------------------------------
# Inputs that come from the catalogs
# ---------------------------------------------------------------------------------------------------------------
def _typed(name: str, value, unit: str, option: str) -> dict:
    return {"name": name, "value": value, "unit": unit, "source": f"your input ({option})", "as_of": None}


def _model_input(model_id: str) -> dict:
    m = get_model(model_id)
    return {"name": f"model {m.id}: total / active parameters", "value": [m.total_params, m.active_params],
            "unit": "parameters", "as_of": m.as_of or None,
            "source": f"models.csv: {m.source}" if m.as_of else f"your config.json (--config): {m.source}"}


def _device(gpu_id: str):
    return get_device(gpu_id)


def _price_inputs(price: dict | None) -> list[dict]:
    if not price:
        return []
    if price.get("source") == "user input":
        return [{"name": "price", "value": price["usd_per_gpu_hour"], "unit": "US$ per GPU-hour",
                 "source": "your input (--price)", "as_of": None}]
    offers = price.get("offers") or []
    out = [{"name": "price band (low / mid / high)", "value": price.get("usd_per_gpu_hour"), "unit": "US$ per GPU-hour",
            "source": price.get("source", ""), "as_of": max((o["as_of"] for o in offers), default=None)}]
    for o in offers:
        out.append({"name": f"  offer: {o['provider']}", "value": o["usd_per_gpu_hour"], "unit": "US$ per GPU-hour",
                    "source": o["source"], "as_of": o["as_of"]})
    return out


def _mfu_input(mfu: dict) -> dict:
    value = {k: mfu[k] for k in ("low", "mid", "high") if k in mfu}
    if not mfu.get("runs_in_fit") and "calibrated" not in str(mfu.get("source", "")):
        return {"name": "MFU (pinned)", "value": value, "unit": "fraction of dense peak",
                "source": "your input (--mfu)", "as_of": None}
    runs = training.fit_runs()
    dates = sorted(r.as_of for r in runs)
    return {
        "name": "MFU band (model FLOPs utilisation)", "value": value, "unit": "fraction of dense peak",
        "source": (f"calibrated on {len(runs)} published training runs in costlib/data/published_runs.csv "
                   f"(use_in_fit; each with its paper as source, dated {dates[0]} to {dates[-1]}): "
                   + training.MFU_BAND_METHOD),
        "as_of": dates[-1],
    }


# ---------------------------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------------------------
def _train(args, payload: dict) -> tuple[list[str], list[dict]]:
    a = payload["assumptions"]
    inp = payload.get("inputs", {})
    dev = _device(a["peak_tflops"]["gpu"])
    n_active = float(inp.get("active_params") or inp.get("params"))
    d = float(inp["tokens"])
    k = training.FLOPS_PER_PARAM_TOKEN_RECOMPUTE if getattr(args, "recompute", False) else training.FLOPS_PER_PARAM_TOKEN
    peak = a["peak_tflops"]["value"]
    mfu, hours = a["mfu"], payload["gpu_hours"]
    formula = [
        f"training FLOPs C = {k:g}·N·D  ({a['flops_rule']}; "
        + constant_doc("costlib.training", "FLOPS_PER_PARAM_TOKEN_RECOMPUTE" if k == training.FLOPS_PER_PARAM_TOKEN_RECOMPUTE else "FLOPS_PER_PARAM_TOKEN")
        + f")  = {k:g} × {n_active:.4g} × {d:.4g} = {payload['flops']:.4g} FLOP",
        f"GPU-hours = C / (dense peak × MFU × 3600 s/h)  = {payload['flops']:.4g} / ({peak:g}e12 × {mfu['mid']:.4g} × 3600)"
        f" = {hours['mid']:,.4g} at the mid MFU; low GPU-hours use the high MFU and vice versa",
        "cost (US$) = GPU-hours × price per GPU-hour  (low × low, mid × mid, high × high)",
        "energy (kWh) = GPU-hours × board power (W) / 1000 × PUE",
        "CO2 (kg) = energy (kWh) × grid intensity (kg CO2 per kWh)",
    ]
    if "wall_days" in payload:
        formula.append("wall-clock days = GPU-hours / (GPUs × 24)")
    inputs = []
    if inp.get("model"):
        inputs.append(_model_input(inp["model"]))
    else:
        inputs.append(_typed("N, total parameters", inp.get("params"), "parameters", "--params"))
        if getattr(args, "active_params", None) is not None:
            inputs.append(_typed("N, active parameters", inp.get("active_params"), "parameters", "--active-params"))
    inputs.append(_typed("D, training tokens", d, "tokens", "--tokens"))
    inputs.append({"name": f"dense {a['peak_tflops']['precision']} peak of {dev.name}", "value": peak, "unit": "TFLOP/s",
                   "source": f"hardware.csv: {dev.source}", "as_of": dev.as_of})
    inputs.append(_mfu_input(mfu))
    inputs += _price_inputs(a.get("price"))
    pw = a["power_w"]
    inputs.append({"name": f"board power of {dev.name}", "value": pw["value"], "unit": "W",
                   "source": f"hardware.csv (TDP): {dev.source}" if pw.get("source") != "user input" else "your input",
                   "as_of": dev.as_of if pw.get("source") != "user input" else None})
    inputs.append(constant_input("costlib.training", "PUE_DEFAULT", "PUE", a["pue"]["value"], "",
                                 a["pue"].get("source") == "user input"))
    inputs.append(constant_input("costlib.training", "GRID_KG_CO2_PER_KWH_DEFAULT", "grid intensity",
                                 a["grid_kg_co2_per_kwh"]["value"], "kg CO2 per kWh",
                                 a["grid_kg_co2_per_kwh"].get("source") == "user input"))
    if "gpus" in a:
        inputs.append(_typed("GPUs", a["gpus"], "GPUs", "--gpus"))
    return formula, inputs


def _finetune(args, payload: dict) -> tuple[list[str], list[dict]]:
    """The basis of ``costlib finetune``: the step-time model of :func:`costlib.finetune.estimate` with its values."""
    from .. import finetune  # the fine-tuning model this basis describes (physics; present may import it)

    a = payload["assumptions"]
    st = a["settings"]
    dev = _device(payload["gpu"])
    eff = a["efficiency"]
    over = a["step_overheads_s"]
    k, b, seq = payload["gpus"], st["micro_batch"], st["computed_seq_len"]
    tokens_step = b * seq
    flops_step = payload["flops_per_token"] * tokens_step
    peak = dev.peak_flops(training.compute_precision(dev))
    t0, e_ref = eff.get("step_overhead_s") or 0.0, eff.get("reference_efficiency") or 1.0
    compute_s = flops_step / (peak * eff["mid"]) + t0 * e_ref / eff["mid"]
    step_s = max(compute_s, a["weight_traffic_s_per_step"], over["paging"]) + over["dequant"] + over["offload"]
    adapters = "" if payload["method"] == "full" else f"; A = LoRA parameters at rank {st['lora_rank']} on {st['lora_targets']}"
    formula = [
        f"executed FLOPs per token = {a['flops_per_token_rule']}  (N = active parameters{adapters}; checkpointing "
        f"{st['checkpointing']}; costlib.finetune.executed_flops_per_token)  = {payload['flops_per_token']:.4g}",
        f"tokens per GPU per step = micro-batch × sequence = {b} × {seq} = {tokens_step}"
        + ("" if st["packed"] else f"  (padded: {a['padding_factor']:.3g} computed tokens per useful token; costlib.finetune.padding_factor)"),
        "step time (s) = max(FLOPs per step / (dense peak × efficiency) + t0 × e_ref / efficiency, weight traffic, optimizer paging) "
        "+ NF4 dequantization + CPU offload  (costlib.finetune.step_overheads_s, weight_traffic_s; t0 = the framework family's "
        f"fixed seconds per micro-step at its reference efficiency e_ref: {t0:g} s at {e_ref:.3g}; costlib.finetune.step_overhead_s)",
        f"  at the mid efficiency: max({flops_step:.4g} / ({peak / 1e12:g}e12 × {eff['mid']:.4g}) + {t0:g} × {e_ref:.3g} / {eff['mid']:.4g} = {compute_s:.4g}, "
        f"{a['weight_traffic_s_per_step']:.4g}, {over['paging']:.4g}) + {over['dequant']:.4g} + {over['offload']:.4g} = {step_s:.4g} s",
        f"tokens/s (all GPUs) = GPUs × tokens per step / padding / step time = {k} × {tokens_step} / {a['padding_factor']:.3g} / "
        f"{step_s:.4g} = {payload['tokens_per_s']['mid']:,.4g}; the low tokens/s come from the low efficiency",
        f"wall-clock hours = tokens / tokens/s / 3600 = {payload['tokens']:.4g} / {payload['tokens_per_s']['mid']:,.4g} / 3600 "
        f"= {payload['wall_hours']['mid']:.4g};  GPU-hours = wall-clock hours × GPUs",
        "cost (US$) = GPU-hours × price per GPU-hour  (low × low, mid × mid, high × high)",
        f"memory per GPU = weights + activations + gradients + optimizer states + overhead (costlib.memory.training_memory) "
        f"= {payload['memory_gb']:.4g} GB; fits = memory per GPU (bytes) <= device memory (bytes), host RAM not counted",
    ]
    benches = finetune.fit_benchmarks()
    dates = sorted(x.as_of for x in benches)
    if eff.get("measurements"):
        eff_input = {"name": "fine-tuning efficiency band (executed FLOP/s / dense peak)",
                     "value": {key: eff[key] for key in ("low", "mid", "high")}, "unit": "fraction of dense peak",
                     "source": (f"calibrated on the {eff['measurements']} measurements of the {eff.get('framework', 'pooled')} family "
                                f"({len(benches)} in all) in costlib/data/finetune_benchmarks.csv: {eff['source']}"),
                     "as_of": dates[-1] if dates else None}
    else:
        eff_input = {"name": "fine-tuning efficiency (pinned)", "value": {key: eff[key] for key in ("low", "mid", "high")},
                     "unit": "fraction of dense peak", "source": "your input (--efficiency)", "as_of": None}
    inputs = [
        _model_input(args.model if hasattr(args.model, "total_params") else payload["model"]),  # --config: the spec
        _typed("method", payload["method"], "", "--method"),
        _typed("fine-tuning tokens", payload["tokens"], "tokens", "--tokens (or --examples x --tokens-per-example x --epochs)"),
        {"name": "settings (recipe defaults unless typed)", "value": {key: v for key, v in st.items() if v is not None},
         "unit": "", "source": a["recipe"], "as_of": None},
        {"name": f"dense {training.compute_precision(dev)} peak of {dev.name}", "value": peak / 1e12, "unit": "TFLOP/s",
         "source": f"hardware.csv: {dev.source}", "as_of": dev.as_of},
        {"name": f"HBM bandwidth of {dev.name}", "value": dev.bandwidth_bytes_s / 1e9, "unit": "GB/s",
         "source": f"hardware.csv: {dev.source}", "as_of": dev.as_of},
        {"name": f"memory of {dev.name}", "value": dev.memory_gib, "unit": "GiB", "source": f"hardware.csv: {dev.source}",
         "as_of": dev.as_of},
        eff_input,
    ]
    inputs += _price_inputs(a.get("price"))
    return formula, inputs


def _generic(args, payload: dict, subparser=None) -> tuple[list[str], list[dict]]:
    """Any subcommand: its stated assumptions, the numbers typed, and the catalog rows it names."""
    formula = []
    module = importlib.import_module(args.handler.__module__) if hasattr(args, "handler") else None
    if module is not None and module.__doc__:
        formula.append(" ".join(module.__doc__.strip().split("\n\n")[0].split()))
    for key in ("assumptions", "notes"):
        val = payload.get(key)
        if isinstance(val, (list, tuple)):
            formula += [str(v) for v in val]
        elif isinstance(val, dict):
            formula += [f"{k}: {v}" for k, v in val.items() if isinstance(v, str)]
    if isinstance(payload.get("source"), str):
        formula.append(f"source: {payload['source']}")
    inputs = []
    for dest, value in sorted(vars(args).items()):
        if dest in FORMAT_OPTIONS or dest in ("command", "handler") or value is None or callable(value):
            continue
        if dest == "gpu":
            dev = _device(value)
            inputs.append({"name": f"device {dev.id} ({dev.name}): memory, bandwidth, dense peaks, power",
                           "value": {"memory_gb": dev.memory_gb, "bandwidth_gb_s": dev.bandwidth_gb_s,
                                     "dense_peak_tflops": dict(dev.peak_tflops_by_precision), "tdp_w": dev.tdp_w},
                           "unit": "", "source": f"hardware.csv: {dev.source}", "as_of": dev.as_of})
            if "price" in vars(args) and args.price is None:

                offers = [{"provider": o.provider, "usd_per_gpu_hour": o.price_usd_per_gpu_hour, "source": o.source,
                           "as_of": o.as_of} for o in prices_for(dev.id)]
                if offers:
                    inputs += _price_inputs({"source": "prices.csv on-demand offers: low = cheapest, mid = median, "
                                             "high = dearest", "offers": offers,
                                             "usd_per_gpu_hour": gpu_price_band(dev.id).as_dict(4)})
        elif dest == "model":
            inputs.append(_model_input(value))
        elif dest == "scenario":
            inputs.append({"name": "scenario", "value": value, "unit": "", "source": "scenario file (its own inputs "
                           "carry their sources)", "as_of": payload.get("as_of")})
        elif subparser is not None and value == subparser.get_default(dest):
            inputs.append({"name": dest, "value": value, "unit": "", "as_of": None,
                           "source": f"default of `costlib {args.command}` (see --help)"})
        else:
            inputs.append(_typed(dest, value, "", "--" + dest.replace("_", "-")))
    if not inputs:
        inputs.append({"name": f"the data behind `costlib {args.command}`", "value": None, "unit": "",
                       "source": "every row of the answer carries its own source and as_of (see --json)",
                       "as_of": None})
    return formula, inputs


BUILDERS = {"train": _train, "finetune": _finetune}


def basis(args, payload: dict, subparser: argparse.ArgumentParser | None) -> dict:
    """The basis of ``payload`` (the answer to ``args``) as a JSON-ready dict."""
    name = getattr(args, "command", None) or "?"
    builder = BUILDERS.get(name)
    formula, inputs = builder(args, payload) if builder else _generic(args, payload, subparser)
    cmd = command_line(subparser, args, name) if subparser is not None else None
    return {
        "formula": formula,
        "inputs": inputs,
        "command": cmd,
        "costlib_version": costlib_version(),
        "reproduce": "run `command` with this costlib version (same catalogs in costlib/data) to get the same numbers",
    }


def _value_text(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value_text(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return " / ".join(_value_text(x) for x in v)
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def render(b: dict) -> str:
    """The basis as text (printed after the answer with ``--explain``)."""
    lines = ["", "basis of this estimate", "formula:"]
    lines += [f"  {f}" for f in b["formula"]] or ["  (none stated)"]
    lines.append("inputs (value; source; as of):")
    for i in b["inputs"]:
        unit = f" {i['unit']}" if i.get("unit") else ""
        date = i["as_of"] if i.get("as_of") else "-"
        value = "" if i["value"] is None else f" {_value_text(i['value'])}{unit};"
        lines.append(f"  {i['name']}:{value} {i['source']}; as of {date}")
    lines.append(f"reproduce (costlib {b['costlib_version']}):")
    lines.append(f"  {b['command']}")
    return "\n".join(lines)
