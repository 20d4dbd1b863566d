"""``costlib infer``: latency, throughput and cost of serving a model, from the roofline with
calibrated efficiency bands (costlib.inference)."""
from __future__ import annotations

from ..errors import InputError
from ..inference import DEFAULT_ENGINE, ENGINE_CLASSES, PRECISIONS, estimate_inference
from ..models import custom_model, get_model
from . import emit, quantity



def register(subparsers) -> None:
    p = subparsers.add_parser(
        "infer", help="serving latency, tokens/s and cost per 1M tokens (roofline + calibrated efficiency bands)"
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--model", help="a model id from `costlib models`")
    who.add_argument("--params", type=quantity("params"), help="total parameters (7e9, 7B); no KV cache then")
    p.add_argument("--active-params", type=quantity("active_params"), help="active parameters per token (with --params)")
    p.add_argument("--gpu", required=True, help="a device id from `costlib gpus`")
    p.add_argument("--gpus", type=quantity("gpus"), default=1, help="devices with tensor parallelism (default 1)")
    p.add_argument("--precision", required=True, help="weights: " + " | ".join(PRECISIONS))
    p.add_argument("--batch", type=quantity("batch"), required=True, help="sequences served together")
    p.add_argument("--prompt-tokens", type=quantity("prompt_tokens"), required=True, help="input tokens per request")
    p.add_argument("--output-tokens", type=quantity("output_tokens"), required=True, help="output tokens per request")
    p.add_argument("--utilization", type=quantity("utilization"),
                   help="share of paid GPU-hours that are busy, 0-1 (default 1: the floor cost)")
    p.add_argument("--price", type=quantity("price"), help="US$ per GPU-hour (default: the catalog's price band)")
    p.add_argument("--engine", default=DEFAULT_ENGINE,
                   help=f"engine class whose efficiency band to use: {' | '.join(ENGINE_CLASSES)} (default {DEFAULT_ENGINE})")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_infer)


def _whole(name: str, value) -> int:
    if value != int(value) or value < 1:
        raise InputError(name, value, "a whole number >= 1")
    return int(value)


def infer_payload(args) -> dict:
    if args.model:
        if args.active_params is not None:
            raise InputError("active_params", args.active_params, "only with --params (a catalog model knows its active count)")
        model = get_model(args.model)
    else:
        model = custom_model(args.params, args.active_params)
    if args.precision not in PRECISIONS:
        raise InputError("precision", args.precision, "one of " + ", ".join(PRECISIONS))
    est = estimate_inference(
        model, args.gpu, args.precision, _whole("batch", args.batch), _whole("prompt_tokens", args.prompt_tokens),
        _whole("output_tokens", args.output_tokens), gpus=_whole("gpus", args.gpus), utilization=args.utilization,
        price_usd_per_gpu_hour=args.price, engine=args.engine,
    )
    payload = est.as_dict()
    payload["inputs"] = {
        "model": getattr(model, "id", None),
        "gpu": args.gpu,
        "gpus": _whole("gpus", args.gpus),
        "precision": args.precision,
        "batch": _whole("batch", args.batch),
        "prompt_tokens": _whole("prompt_tokens", args.prompt_tokens),
        "output_tokens": _whole("output_tokens", args.output_tokens),
        "engine": args.engine,
    }
    return payload


def _text(payload: dict) -> str:
    labels = {
        "ttft_s": ("time to first token", "s"),
        "tpot_s": ("time per output token", "s"),
        "tokens_per_s_per_sequence": ("tokens/s per sequence", ""),
        "throughput_tokens_per_s": ("throughput (all sequences)", "tok/s"),
        "request_latency_s": ("request latency", "s"),
        "cost_per_1m_output_tokens_usd": ("cost per 1M output tokens", "US$"),
        "cost_per_1k_requests_usd": ("cost per 1K requests", "US$"),
    }
    inp = payload["inputs"]
    lines = [
        f"{inp['model']} on {inp['gpus']} x {inp['gpu']}, {inp['precision']}, batch {inp['batch']}, "
        f"{inp['prompt_tokens']} in / {inp['output_tokens']} out ({inp['engine']}); decode is {payload['bound']}-bound",
        f"{'':36} {'low':>10} {'mid':>10} {'high':>10}",
    ]
    for key, (name, unit) in labels.items():
        band = payload[key]
        if band is None:
            lines.append(f"{name + (' (' + unit + ')' if unit else ''):36} {'n/a: pass --price':>32}")
            continue
        lines.append(
            f"{name + (' (' + unit + ')' if unit else ''):36} {band['low']:>10.4g} {band['mid']:>10.4g} {band['high']:>10.4g}"
        )
    lines.append("assumptions:")
    lines += [f"  - {a}" for a in payload["assumptions"]]
    return "\n".join(lines)


def run_infer(args) -> None:
    emit(args, infer_payload(args), _text)
