"""``costlib train`` and ``costlib finetune``: GPU-hours, dollars, energy and CO2 with their assumptions."""
from __future__ import annotations

import argparse

from ..errors import InputError
from .. import finetune as ft
from .memory import add_training_flags, training_kwargs, zero_stage
from ..models import get_model
from ..finetune import estimate_finetune
from ..validate import fraction
from ..training import FINETUNE_METHODS, LORA_RANK_DEFAULT, PUE_DEFAULT, estimate_training
from . import add_config_argument, add_model_arguments, emit, quantity


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="pre-training GPU-hours, dollars, energy and CO2 (calibrated MFU band)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--model", help="a model id from `costlib models`")
    who.add_argument("--params", type=quantity("params"), help="total parameters (7e9, 7B)")
    add_config_argument(who)  # --config PATH: a local config.json instead of --model
    p.add_argument("--active-params", type=quantity("active_params"), help="active parameters per token (mixture of experts)")
    p.add_argument("--tokens", type=quantity("tokens"), required=True, help="training tokens (2e12, 2T)")
    p.add_argument("--gpu", required=True, help="a GPU id from `costlib gpus`")
    p.add_argument("--gpus", type=quantity("gpus"), help="GPU count: adds wall-clock days")
    p.add_argument("--mfu", type=quantity("mfu"), help="pin MFU (0-1) instead of the calibrated band")
    p.add_argument("--price", type=quantity("price"), help="US$ per GPU-hour instead of the catalog's price band")
    p.add_argument("--pue", type=quantity("pue"), default=PUE_DEFAULT, help=f"power usage effectiveness (default {PUE_DEFAULT})")
    p.add_argument("--grid", type=quantity("grid"), help="grid intensity, kg CO2 per kWh (default: world average)")
    p.add_argument("--recompute", action="store_true", help="full activation recompute (8·N·D)")
    p.add_argument("--power-w", type=quantity("power_w"), help="mean board power per GPU in W (default: the catalog's TDP)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_train)

    f = subparsers.add_parser(
        "finetune",
        help="fine-tuning tokens/s, hours, dollars and memory (full, LoRA, QLoRA), with a fits verdict",
        description="Fine-tuning throughput (calibrated on published measurements), time and dollars for a dataset, and "
        "memory per GPU from the same model as `costlib memory`. Settings not given copy the method's named recipe.",
    )
    add_model_arguments(f)  # --model ID or --config PATH
    f.add_argument("--method", required=True, help="full | lora | qlora")
    f.add_argument("--gpu", required=True, help="a GPU id from `costlib gpus`")
    f.add_argument("--gpus", type=quantity("gpus"), default=1, help="GPU count (default 1; > 1 shards with FSDP unless --zero)")
    data = f.add_argument_group("dataset (give --tokens, or --examples and --tokens-per-example; none = per million tokens)")
    data.add_argument("--tokens", type=quantity("tokens"), help="fine-tuning tokens per epoch (e.g. 50M)")
    data.add_argument("--examples", type=quantity("examples"), help="examples in the dataset")
    data.add_argument("--tokens-per-example", type=quantity("tokens_per_example"), help="mean tokens per example")
    data.add_argument("--epochs", type=quantity("epochs"), default=1, help="passes over the dataset (default 1)")
    f.add_argument("--packed", dest="packed", action="store_true", default=True, help="pack sequences (default)")
    f.add_argument("--no-packing", dest="packed", action="store_false", help="pad each micro-batch to its longest example")
    f.add_argument("--framework", default=None, choices=ft.FRAMEWORKS,
                   help="framework family whose measured efficiency band to use (default: the recipe's: torchtune recipes -> torchtune, else hf-peft)")
    f.add_argument("--efficiency", type=quantity("efficiency"), help="pin the efficiency (0-1) instead of the calibrated band")
    f.add_argument("--mfu", dest="mfu_alias", type=quantity("mfu"), help=argparse.SUPPRESS)  # older name of --efficiency
    f.add_argument("--price", type=quantity("price"), help="US$ per GPU-hour")
    f.add_argument("--rank", dest="lora_rank", type=quantity("rank"), default=None, help="alias of --lora-rank")
    add_training_flags(f, seq_len_flag=True)
    f.add_argument("--json", action="store_true", help="machine-readable output")
    f.set_defaults(handler=run_finetune)


def _whole(name: str, value):
    if value is None:
        return None
    if value != int(value) or value < 1:
        raise InputError(name, value, "a whole number >= 1")
    return int(value)


def train_payload(args) -> dict:
    if args.model:
        spec = get_model(args.model)
        if args.active_params is not None:
            raise InputError("active_params", args.active_params, "only with --params (a catalog model knows its active count)")
        params, active = float(spec.total_params), float(spec.active_params)
    else:
        params, active = args.params, args.active_params
    kwargs = {}
    if args.grid is not None:
        kwargs["grid_kg_per_kwh"] = args.grid
    est = estimate_training(
        params, args.tokens, args.gpu, gpus=_whole("gpus", args.gpus), mfu=args.mfu,
        price_usd_per_gpu_hour=args.price, pue=args.pue, active_params=active, recompute=args.recompute,
        power_w=getattr(args, "power_w", None), **kwargs,
    )
    payload = est.as_dict()
    payload["inputs"] = {"model": args.model, "params": params, "active_params": active or params, "tokens": args.tokens, "gpu": est.gpu}
    return payload


def finetune_payload(args) -> dict:
    if args.method not in FINETUNE_METHODS:
        raise InputError("method", args.method, "one of " + ", ".join(FINETUNE_METHODS))
    per_million = args.tokens is None and args.examples is None and args.tokens_per_example is None
    tokens = 1e6 if per_million else ft.dataset_tokens(
        tokens=args.tokens, examples=args.examples, tokens_per_example=args.tokens_per_example, epochs=args.epochs)
    kw = training_kwargs(args, args.method)
    est = ft.estimate(
        args.model, args.method, args.gpu, tokens=tokens, gpus=_whole("gpus", args.gpus),
        seq_len=None if args.seq_len is None else _whole("seq_len", args.seq_len),
        micro_batch=None if args.micro_batch is None else _whole("micro_batch", args.micro_batch),
        packed=args.packed, optimizer=kw.get("optimizer"), checkpointing=kw.get("recompute"),
        optimizer_in_backward=kw.get("optimizer_in_backward"), offload=kw["offload"],
        zero=None if (args.zero is None and not args.fsdp) else zero_stage(args),
        lora_rank=kw.get("lora_rank"), lora_targets=kw.get("lora_targets"), attention=kw["attention"],
        recipe_name=kw["recipe"], efficiency=_pinned_efficiency(args), price_usd_per_gpu_hour=args.price,
        tokens_per_example=args.tokens_per_example, framework=getattr(args, "framework", None),
    )
    payload = est.as_dict()
    # keys costlib.explain's finetune basis reads (total executed FLOPs; the efficiency band as "mfu"; the rank)
    payload["flops"] = float(f"{est.flops_per_token * est.computed_tokens:.4g}")
    payload["assumptions"]["mfu"] = {**est.efficiency.as_dict(4), "source": payload["assumptions"]["efficiency"]["source"]}
    payload["assumptions"]["rank"] = payload["assumptions"]["settings"]["lora_rank"]
    payload["dataset"] = {"tokens": tokens, "basis": "per million tokens (no dataset given)" if per_million else
                          ("--tokens x --epochs" if args.tokens is not None else "--examples x --tokens-per-example x --epochs")}
    return payload


def _band(b, fmt="{:,.0f}", missing="n/a (no price: pass --price)") -> str:
    if b is None:
        return missing
    return f"{fmt.format(b['mid'])}  ({fmt.format(b['low'])} - {fmt.format(b['high'])})"


_NO_POWER = "n/a (no published board power for this device: pass --power-w)"


def _watts(v) -> str:
    return "n/a" if v is None else f"{v:g} W"


def _train_text(p: dict) -> str:
    a = p["assumptions"]
    lines = [
        f"training FLOPs   {p['flops']:.3g}  ({a['flops_rule']})",
        f"GPU-hours        {_band(p['gpu_hours'])}",
        f"cost (US$)       {_band(p['cost_usd'])}",
        f"energy (kWh)     {_band(p['energy_kwh'], missing=_NO_POWER)}",
        f"CO2 (kg)         {_band(p['co2_kg'], missing=_NO_POWER)}",
    ]
    if "wall_days" in p:
        lines.append(f"wall-clock days  {_band(p['wall_days'], '{:,.1f}')}  on {a['gpus']} GPUs")
    m = a["mfu"]
    lines.append(f"MFU {m['mid']:.0%} ({m['low']:.0%}-{m['high']:.0%}): {'calibrated on ' + str(m['runs_in_fit']) + ' published runs' if m['runs_in_fit'] else 'pinned'}")
    lines.append(f"peak {a['peak_tflops']['value']:g} TFLOP/s {a['peak_tflops']['precision']}; power {_watts(a['power_w']['value'])}; PUE {a['pue']['value']:g}; grid {a['grid_kg_co2_per_kwh']['value']:g} kg/kWh")
    lines.append("bands are low / mid / high; --json shows every source and date")
    return "\n".join(lines)


def _finetune_text(p: dict) -> str:
    st = p["assumptions"]["settings"]
    lines = [
        f"{p['method']} fine-tune of {p['model']}, {p['gpus']} x {p['gpu']}; {p['dataset']['tokens']:.3g} tokens ({p['dataset']['basis']})",
        f"settings         seq {st['seq_len']} x micro-batch {st['micro_batch']}, {'packed' if st['packed'] else 'padded'}, "
        f"optimizer {st['optimizer']}, checkpointing {st['checkpointing']}, ZeRO {st['zero']}, offload {st['offload']}",
        f"FLOPs per token  {p['flops_per_token']:.3g}  ({p['assumptions']['flops_per_token_rule']})",
        f"tokens/s         {_band(p['tokens_per_s'])}  (all GPUs)",
        f"wall-clock hours {_band(p['wall_hours'], '{:,.2f}')}",
        f"GPU-hours        {_band(p['gpu_hours'], '{:,.2f}')}",
        f"cost (US$)       {_band(p['cost_usd'], '{:,.2f}')}",
        f"memory per GPU   {p['memory_gb']:.1f} GB (+ {p['memory']['host_gb']:.1f} GB host RAM)  -> "
        f"{'fits' if p['fits'] else 'does NOT fit'} on {p['gpu']}",
        f"efficiency       {_eff_text(p['assumptions']['efficiency'])}",
        f"recipe           {p['assumptions']['recipe'].split(':')[0]} (--json lists every setting and source)",
    ]
    return "\n".join(lines)


def _eff_text(e: dict) -> str:
    band = f"{e['mid']:.0%} of peak ({e['low']:.0%}-{e['high']:.0%})"
    if not e.get("measurements"):
        return band + ", pinned"
    return f"{band}, {e['framework']} band from {e['measurements']} published measurements (--framework to change)"


def run_train(args) -> None:
    emit(args, train_payload(args), _train_text)


def run_finetune(args) -> None:
    emit(args, finetune_payload(args), _finetune_text)


def _pinned_efficiency(args):
    """--efficiency (or its older name --mfu), checked under the flag the user typed: a share of peak in (0, 1]."""
    for name, value in (("efficiency", args.efficiency), ("mfu", getattr(args, "mfu_alias", None))):
        if value is not None:
            return float(fraction(name, value))
    return None
