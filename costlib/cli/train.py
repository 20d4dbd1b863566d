"""``costlib train`` and ``costlib finetune``: GPU-hours, dollars, energy and CO2 with their assumptions."""
from __future__ import annotations

from ..errors import InputError
from ..models import get_model
from ..training import FINETUNE_METHODS, LORA_RANK_DEFAULT, PUE_DEFAULT, estimate_finetune, estimate_training
from . import emit, quantity


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="pre-training GPU-hours, dollars, energy and CO2 (calibrated MFU band)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--model", help="a model id from `costlib models`")
    who.add_argument("--params", type=quantity("params"), help="total parameters (7e9, 7B)")
    p.add_argument("--active-params", type=quantity("active_params"), help="active parameters per token (mixture of experts)")
    p.add_argument("--tokens", type=quantity("tokens"), required=True, help="training tokens (2e12, 2T)")
    p.add_argument("--gpu", required=True, help="a GPU id from `costlib gpus`")
    p.add_argument("--gpus", type=quantity("gpus"), help="GPU count: adds wall-clock days")
    p.add_argument("--mfu", type=quantity("mfu"), help="pin MFU (0-1) instead of the calibrated band")
    p.add_argument("--price", type=quantity("price"), help="US$ per GPU-hour instead of the catalog's price band")
    p.add_argument("--pue", type=quantity("pue"), default=PUE_DEFAULT, help=f"power usage effectiveness (default {PUE_DEFAULT})")
    p.add_argument("--grid", type=quantity("grid"), help="grid intensity, kg CO2 per kWh (default: world average)")
    p.add_argument("--recompute", action="store_true", help="full activation recompute (8·N·D)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_train)

    f = subparsers.add_parser("finetune", help="fine-tuning GPU-hours, dollars and memory (full, LoRA, QLoRA)")
    f.add_argument("--model", required=True, help="a model id from `costlib models`")
    f.add_argument("--method", required=True, help="full | lora | qlora")
    f.add_argument("--tokens", type=quantity("tokens"), required=True, help="fine-tuning tokens (epochs x dataset tokens)")
    f.add_argument("--gpu", required=True, help="a GPU id from `costlib gpus`")
    f.add_argument("--gpus", type=quantity("gpus"), default=1, help="GPU count (default 1)")
    f.add_argument("--mfu", type=quantity("mfu"), help="pin MFU (0-1)")
    f.add_argument("--price", type=quantity("price"), help="US$ per GPU-hour")
    f.add_argument("--rank", type=quantity("rank"), default=LORA_RANK_DEFAULT, help=f"LoRA rank (default {LORA_RANK_DEFAULT})")
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
        price_usd_per_gpu_hour=args.price, pue=args.pue, active_params=active, recompute=args.recompute, **kwargs,
    )
    payload = est.as_dict()
    payload["inputs"] = {"model": args.model, "params": params, "active_params": active or params, "tokens": args.tokens, "gpu": est.gpu}
    return payload


def finetune_payload(args) -> dict:
    if args.method not in FINETUNE_METHODS:
        raise InputError("method", args.method, "one of " + ", ".join(FINETUNE_METHODS))
    est = estimate_finetune(
        args.model, args.method, args.tokens, args.gpu, gpus=_whole("gpus", args.gpus), mfu=args.mfu,
        price_usd_per_gpu_hour=args.price, rank=_whole("rank", args.rank),
    )
    payload = est.as_dict()
    payload["gpu"] = est.gpu
    payload["gpus"] = est.gpus
    return payload


def _band(b, fmt="{:,.0f}") -> str:
    if b is None:
        return "n/a (no price: pass --price)"
    return f"{fmt.format(b['mid'])}  ({fmt.format(b['low'])} - {fmt.format(b['high'])})"


def _train_text(p: dict) -> str:
    a = p["assumptions"]
    lines = [
        f"training FLOPs   {p['flops']:.3g}  ({a['flops_rule']})",
        f"GPU-hours        {_band(p['gpu_hours'])}",
        f"cost (US$)       {_band(p['cost_usd'])}",
        f"energy (kWh)     {_band(p['energy_kwh'])}",
        f"CO2 (kg)         {_band(p['co2_kg'])}",
    ]
    if "wall_days" in p:
        lines.append(f"wall-clock days  {_band(p['wall_days'], '{:,.1f}')}  on {a['gpus']} GPUs")
    m = a["mfu"]
    lines.append(f"MFU {m['mid']:.0%} ({m['low']:.0%}-{m['high']:.0%}): {'calibrated on ' + str(m['runs_in_fit']) + ' published runs' if m['runs_in_fit'] else 'pinned'}")
    lines.append(f"peak {a['peak_tflops']['value']:g} TFLOP/s {a['peak_tflops']['precision']}; power {a['power_w']['value']:g} W; PUE {a['pue']['value']:g}; grid {a['grid_kg_co2_per_kwh']['value']:g} kg/kWh")
    lines.append("bands are low / mid / high; --json shows every source and date")
    return "\n".join(lines)


def _finetune_text(p: dict) -> str:
    lines = [
        f"{p['method']} fine-tune of {p['model']} on {p['tokens']:.3g} tokens, {p['gpus']} x {p['gpu']}",
        f"FLOPs per token  {p['flops_per_token']:.3g}  ({p['assumptions']['flops_per_token_rule']})",
        f"GPU-hours        {_band(p['gpu_hours'], '{:,.2f}')}",
        f"cost (US$)       {_band(p['cost_usd'], '{:,.2f}')}",
        f"memory per GPU   {p['memory_gb']:.1f} GB  -> {'fits' if p['fits'] else 'does NOT fit'} on {p['gpu']}",
        f"fits alone on    {', '.join(p['fits_on']) or 'no single catalog GPU'}",
    ]
    return "\n".join(lines)


def run_train(args) -> None:
    emit(args, train_payload(args), _train_text)


def run_finetune(args) -> None:
    emit(args, finetune_payload(args), _finetune_text)
