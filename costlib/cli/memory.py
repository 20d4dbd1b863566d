"""``costlib memory``: weights, KV cache, activations, gradients, optimizer, overhead; what fits where.

``--params N`` (a parameter count without an architecture) gives weights, gradients, optimizer states
and overhead only. The KV cache and activations need layers, heads and head_dim: with ``--params`` the
JSON has ``kv_cache_gb`` and ``kv_bytes_per_token`` null and a ``note`` saying why, and ``--context``
> 0 or a training mode (whose activations need the architecture) is an error (exit 2).

Training modes (full, lora, qlora) take the fine-tuning flags shared with ``costlib finetune``: ``--seq-len``
(= ``--context``), ``--micro-batch`` (= ``--batch``), ``--optimizer``, ``--checkpointing`` (= ``--recompute``),
``--attention``, ``--offload``, ``--optimizer-in-backward``, ``--zero`` / ``--fsdp``, ``--lora-rank``, ``--lora-targets``
and ``--recipe``; each setting left out is copied from the mode's named recipe (costlib.memory.RECIPES), and the JSON's
``assumptions`` says which value came from where. ``fits`` compares bytes with the device's memory in bytes.
"""
from __future__ import annotations

from ..errors import InputError
from ..validate import whole
from ..hardware import devices
from ..memory import default_recipe, recipe as memory_recipe
from ..memory import LORA_MODULES, LORA_TARGET_SETS, OFFLOAD, OPTIMIZERS, RECIPES, default_kv_precision, estimate_memory, fits, kv_bytes_per_token, min_gpus
from ..models import custom_model, get_model

CLI_PRECISIONS = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")
from . import add_config_argument, emit, quantity

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
    add_config_argument(who)  # --config PATH: a local config.json instead of --model
    p.add_argument("--precision", required=True, choices=CLI_PRECISIONS, help="weights precision (training: fp32|bf16|fp16)")
    p.add_argument("--context", "--seq-len", dest="context", type=quantity("context"), default=None,
                   help="tokens per sequence (inference: KV cache length, default 2048 with --model, 0 with --params; "
                   "training: sequence length, default the recipe's)")
    p.add_argument("--batch", "--micro-batch", dest="batch", type=quantity("batch"), default=None,
                   help="sequences at once (inference default 1; training: micro-batch per GPU, default the recipe's)")
    p.add_argument("--mode", choices=tuple(MODE_ALIASES), default="inference", help="inference, train (full fine-tune), lora or qlora")
    p.add_argument("--gpus", type=quantity("gpus"), default=1, help="GPUs: tensor parallel for inference, data parallel for training")
    add_training_flags(p)
    p.add_argument("--kv-precision", choices=CLI_PRECISIONS, default=None, help="KV-cache precision (default: FP8 with FP8 weights, else 16-bit)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def add_training_flags(p, *, seq_len_flag: bool = False) -> None:
    """Training / fine-tuning memory flags shared by ``costlib memory`` and ``costlib finetune``.
    Each setting left out is copied from the mode's named recipe (``--recipe``; costlib.memory.RECIPES)."""
    if seq_len_flag:
        p.add_argument("--seq-len", type=quantity("seq_len"), default=None, help="tokens per sequence (default: the recipe's)")
        p.add_argument("--micro-batch", type=quantity("micro_batch"), default=None, help="sequences per GPU per step (default: the recipe's)")
    p.add_argument("--zero", type=int, choices=(0, 1, 2, 3), default=None, help="ZeRO stage: 1 optimizer, 2 + gradients, 3 + weights (= FSDP)")
    p.add_argument("--fsdp", action="store_true", help="FSDP full shard over --gpus (same as --zero 3), frozen LoRA/QLoRA base included")
    p.add_argument("--optimizer", default=None, help="one of " + ", ".join(OPTIMIZERS) + " (default: the recipe's)")
    p.add_argument("--checkpointing", nargs="?", const="full", default=None, choices=("none", "selective", "full"),
                   help="activation checkpointing (bare flag = full; default: the recipe's)")
    p.add_argument("--recompute", dest="checkpointing", choices=("none", "selective", "full"), help="alias of --checkpointing")
    p.add_argument("--attention", default="flash", choices=("flash", "materialized"), help="FlashAttention/SDPA (default) or materialized scores")
    p.add_argument("--offload", default="none", choices=OFFLOAD, help="CPU offload: optimizer states (+ master) or all (+ params, grads)")
    p.add_argument("--optimizer-in-backward", default=None, action="store_true", help="apply and free each gradient in the backward pass")
    p.add_argument("--lora-rank", type=quantity("lora_rank"), default=None, help="LoRA rank (default: the recipe's)")
    p.add_argument("--lora-targets", default=None,
                   help="comma list of " + ",".join(LORA_MODULES) + " or one of " + ", ".join(LORA_TARGET_SETS) + " (default: the recipe's)")
    p.add_argument("--recipe", default=None, help="copy a named recipe: " + ", ".join(RECIPES))


def training_kwargs(args, mode: str) -> dict:
    """Keyword arguments for costlib.memory.training_memory from the shared flags (validated there)."""
    kw = {"attention": args.attention, "offload": args.offload, "recipe": args.recipe}
    if args.optimizer is not None:
        kw["optimizer"] = args.optimizer
    if args.checkpointing is not None:
        kw["recompute"] = args.checkpointing
    if args.optimizer_in_backward:
        kw["optimizer_in_backward"] = True
    if mode != "full":
        if args.lora_rank is not None:
            kw["lora_rank"] = int(whole("lora_rank", args.lora_rank))
        if args.lora_targets is not None:
            t = tuple(x.strip() for x in args.lora_targets.split(",") if x.strip())
            kw["lora_targets"] = t[0] if len(t) == 1 else t
    elif args.lora_rank is not None or args.lora_targets is not None:
        raise InputError("lora_rank" if args.lora_rank is not None else "lora_targets", args.lora_rank or args.lora_targets, "only with --mode lora or qlora")
    return kw


def zero_stage(args) -> int:
    if args.fsdp:
        if args.zero not in (None, 3):
            raise InputError("zero", args.zero, "3 or nothing with --fsdp (FSDP full shard is ZeRO-3)")
        return 3
    return 0 if args.zero is None else args.zero


def _int_if_whole(x):
    x = float(x)
    return int(x) if x.is_integer() else x


def memory_payload(args) -> dict:
    mode = MODE_ALIASES[args.mode]
    args.gpus = int(whole("gpus", args.gpus))
    if args.batch is not None:
        whole("batch", args.batch)
    notes = []
    zero = zero_stage(args)
    if args.model is not None:
        model = get_model(args.model)
        context = (2048 if mode == "inference" else None) if args.context is None else args.context
    else:
        model = custom_model(args.params)
        context = 0 if args.context is None else args.context
        if context > 0:
            raise InputError("context", context, "0 with --params: " + PARAMS_ONLY_NOTE)
        if mode != "inference":
            raise InputError("params", args.params, f"--model ID for --mode {args.mode}: training activations need the architecture")
        notes.append(PARAMS_ONLY_NOTE)
    extra = {}
    batch = args.batch
    if mode == "inference":
        batch = 1 if batch is None else batch
        if args.kv_precision:
            extra["kv_precision"] = args.kv_precision
    else:
        extra.update(training_kwargs(args, mode))
    br = estimate_memory(model, mode, args.precision, context, batch, gpus=int(args.gpus), zero=zero, **extra)
    notes.extend(n for n in br.notes if not n.startswith("parameter count only"))
    if mode != "inference":
        rec = memory_recipe(extra.get("recipe") or default_recipe(mode, extra.get("optimizer")))
        context = rec.seq_len if context is None else context
        batch = rec.batch if batch is None else batch
    if args.model is not None and mode == "inference":
        kvb = _int_if_whole(kv_bytes_per_token(model, args.kv_precision or default_kv_precision(args.precision)))
        kv_gb = round(float(br.kv_cache_gb), 4)
    else:
        kvb = _int_if_whole(kv_bytes_per_token(model, "fp16")) if args.model is not None else None
        kv_gb = 0.0 if args.model is not None else None
    gpu_ids = [d.id for d in devices().values() if d.kind in ("gpu", "tpu")]
    fit = {g: fits(br, g) for g in gpu_ids}
    need = {}
    for g in gpu_ids:
        kw = dict(extra)
        need[g] = min_gpus(model, g, args.precision, context, batch, mode, zero=(zero or None), max_gpus=512, **kw)
    return {
        "model": model.id,
        "mode": mode,
        "precision": args.precision,
        "context": None if context is None else _int_if_whole(context),
        "batch": None if batch is None else _int_if_whole(batch),
        "gpus": int(args.gpus),
        "zero": zero,
        "weights_gb": round(float(br.weights_gb), 4),
        "kv_cache_gb": kv_gb,
        "kv_bytes_per_token": kvb,
        "activations_gb": round(float(br.activations_gb), 4),
        "gradients_gb": round(float(br.gradients_gb), 4),
        "optimizer_gb": round(float(br.optimizer_gb), 4),
        "overhead_gb": round(float(br.overhead_gb), 4),
        "total_gb": round(float(br.total_gb), 4),
        "host_gb": round(float(br.host_gb), 4),
        "assumptions": br.assumptions,
        "fits": fit,
        "min_gpus": need,
        "device_memory": {g: {"memory_gib": devices()[g].memory_gib, "memory_bytes": int(devices()[g].memory_bytes)} for g in gpu_ids},
        "notes": notes,
        "units": {"*_gb": "1e9 bytes per GPU (host_gb: host RAM per GPU process, not in total_gb)",
                  "device_memory": "the vendor's capacity in GiB (2^30 bytes) and in bytes",
                  "kv_bytes_per_token": "bytes per token of context, all layers", "fits": "total bytes <= the device's memory bytes"},
    }


def _text(p: dict) -> str:
    lines = [f"{p['model']}  mode={p['mode']}  precision={p['precision']}  context={p['context']}  batch={p['batch']}  gpus={p['gpus']}  zero={p['zero']}"]
    for key in ("weights_gb", "kv_cache_gb", "activations_gb", "gradients_gb", "optimizer_gb", "overhead_gb", "total_gb"):
        v = p[key]
        lines.append(f"  {key[:-3]:<12} {'n/a' if v is None else f'{v:10.2f}'} GB per GPU")
    if p["kv_bytes_per_token"] is not None:
        lines.append(f"  KV cache per token: {p['kv_bytes_per_token']} bytes")
    if p.get("host_gb"):
        lines.append(f"  host RAM     {p['host_gb']:10.2f} GB per GPU process (paged / offloaded; not in total)")
    if p.get("assumptions"):
        lines.append(f"  recipe: {p['assumptions']['recipe'].split(':')[0]} (--json lists every setting and its source)")
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
