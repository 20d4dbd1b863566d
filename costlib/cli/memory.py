"""``costlib memory``: weights, KV cache, activations, gradients, optimizer, overhead; what fits where.

``--params N`` (a parameter count without an architecture) gives weights, gradients, optimizer states
and overhead only. The KV cache and activations need layers, heads and head_dim: with ``--params`` the
JSON has ``kv_cache_gb`` and ``kv_bytes_per_token`` null and a ``note`` saying why, and ``--context``
> 0 or a training mode (whose activations need the architecture) is an error (exit 2).
"""
from __future__ import annotations

from ..errors import InputError
from ..validate import whole
from ..hardware import devices
from ..memory import estimate_memory, fits, kv_bytes_per_token, min_gpus
from ..models import custom_model, get_model

CLI_PRECISIONS = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")
from . import emit, quantity

MODE_ALIASES = {"inference": "inference", "train": "full", "full": "full", "lora": "lora", "qlora": "qlora"}
PARAMS_ONLY_NOTE = (
    "--params gives no architecture: the KV cache and activations (which need layers, KV heads and "
    "head_dim) are not included; use --model ID for them"
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "memory",
        help="memory per GPU: weights, KV cache, activations, gradients, optimizer, overhead; fit on each GPU",
        description="Memory per GPU (GB = 1e9 bytes) for inference (tensor parallel over --gpus) or training "
        "(data parallel over --gpus with ZeRO --zero).",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--model", help="catalog model id (see `costlib models`)")
    who.add_argument("--params", type=quantity("params"), help="parameter count only, e.g. 7B (no KV cache)")
    p.add_argument("--precision", required=True, choices=CLI_PRECISIONS, help="weights precision (training: fp32|bf16|fp16)")
    p.add_argument("--context", type=quantity("context"), default=None,
                   help="tokens per sequence (inference: KV cache length; training: sequence length). Default 2048 with --model, 0 with --params")
    p.add_argument("--batch", type=quantity("batch"), default=1, help="sequences at once (training: micro-batch per GPU)")
    p.add_argument("--mode", choices=tuple(MODE_ALIASES), default="inference", help="inference, train (full fine-tune), lora or qlora")
    p.add_argument("--gpus", type=quantity("gpus"), default=1, help="GPUs: tensor parallel for inference, data parallel for training")
    p.add_argument("--zero", type=int, choices=(0, 1, 2, 3), default=0, help="ZeRO stage for training")
    p.add_argument("--kv-precision", choices=CLI_PRECISIONS, default=None, help="KV-cache precision (default: 16-bit)")
    p.add_argument("--recompute", choices=("none", "selective", "full"), default="none", help="activation recompute (training)")
    p.add_argument("--lora-rank", type=int, default=16, help="LoRA rank (lora/qlora)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def _int_if_whole(x):
    x = float(x)
    return int(x) if x.is_integer() else x


def memory_payload(args) -> dict:
    mode = MODE_ALIASES[args.mode]
    args.gpus = int(whole("gpus", args.gpus))
    whole("batch", args.batch)
    notes = []
    if args.model is not None:
        model = get_model(args.model)
        context = 2048 if args.context is None else args.context
    else:
        model = custom_model(args.params)
        context = 0 if args.context is None else args.context
        if context > 0:
            raise InputError("context", context, "0 with --params: " + PARAMS_ONLY_NOTE)
        if mode != "inference":
            raise InputError("params", args.params, f"--model ID for --mode {args.mode}: training activations need the architecture")
        notes.append(PARAMS_ONLY_NOTE)
    extra = {}
    if mode == "inference":
        if args.kv_precision:
            extra["kv_precision"] = args.kv_precision
    else:
        extra.update(recompute=args.recompute, lora_rank=args.lora_rank)
    br = estimate_memory(model, mode, args.precision, context, args.batch, gpus=int(args.gpus), zero=args.zero, **extra)
    notes.extend(n for n in br.notes if not n.startswith("parameter count only"))
    if args.model is not None and mode == "inference":
        kvb = _int_if_whole(kv_bytes_per_token(model, args.kv_precision or ("fp32" if args.precision == "fp32" else "fp16")))
        kv_gb = round(float(br.kv_cache_gb), 4)
    else:
        kvb = _int_if_whole(kv_bytes_per_token(model, "fp16")) if args.model is not None else None
        kv_gb = 0.0 if args.model is not None else None
    gpu_ids = [d.id for d in devices().values() if d.kind in ("gpu", "tpu")]
    fit = {g: fits(br, g) for g in gpu_ids}
    need = {}
    for g in gpu_ids:
        kw = dict(extra)
        need[g] = min_gpus(model, g, args.precision, context, args.batch, mode, zero=(args.zero or None), max_gpus=512, **kw)
    return {
        "model": model.id,
        "mode": mode,
        "precision": args.precision,
        "context": _int_if_whole(context),
        "batch": _int_if_whole(args.batch),
        "gpus": int(args.gpus),
        "zero": args.zero,
        "weights_gb": round(float(br.weights_gb), 4),
        "kv_cache_gb": kv_gb,
        "kv_bytes_per_token": kvb,
        "activations_gb": round(float(br.activations_gb), 4),
        "gradients_gb": round(float(br.gradients_gb), 4),
        "optimizer_gb": round(float(br.optimizer_gb), 4),
        "overhead_gb": round(float(br.overhead_gb), 4),
        "total_gb": round(float(br.total_gb), 4),
        "fits": fit,
        "min_gpus": need,
        "device_memory": {g: {"memory_gib": devices()[g].memory_gib, "memory_bytes": int(devices()[g].memory_bytes)} for g in gpu_ids},
        "notes": notes,
        "units": {"*_gb": "1e9 bytes per GPU", "device_memory": "the vendor's capacity in GiB (2^30 bytes) and in bytes", "kv_bytes_per_token": "bytes per token of context, all layers"},
    }


def _text(p: dict) -> str:
    lines = [f"{p['model']}  mode={p['mode']}  precision={p['precision']}  context={p['context']}  batch={p['batch']}  gpus={p['gpus']}  zero={p['zero']}"]
    for key in ("weights_gb", "kv_cache_gb", "activations_gb", "gradients_gb", "optimizer_gb", "overhead_gb", "total_gb"):
        v = p[key]
        lines.append(f"  {key[:-3]:<12} {'n/a' if v is None else f'{v:10.2f}'} GB per GPU")
    if p["kv_bytes_per_token"] is not None:
        lines.append(f"  KV cache per token: {p['kv_bytes_per_token']} bytes")
    ok = [g for g, f in p["fits"].items() if f]
    lines.append("  fits on one of: " + (", ".join(ok) if ok else "none of the catalog devices"))
    lines.append("  device memory (vendor GiB = 2^30 bytes): " + ", ".join(
        f"{g} {v['memory_gib']:g} GiB ({v['memory_bytes'] / 1e9:.1f}e9 B)" for g, v in p["device_memory"].items()))
    lines.append("  min GPUs: " + ", ".join(f"{g} {n if n is not None else '-'}" for g, n in p["min_gpus"].items()))
    for n in p["notes"]:
        lines.append(f"  note: {n}")
    return "\n".join(lines)


def run(args) -> None:
    emit(args, memory_payload(args), _text)
