"""``costlib infer``: latency, throughput and cost of serving a model, from the roofline with
calibrated efficiency bands. ``--mode continuous`` (default) is a continuous-batching server kept at
``--batch`` requests in flight (costlib.serving.estimate_continuous); ``--mode static`` is one static
batch prefilled together then decoded together (costlib.inference.estimate_inference), for offline jobs."""
from __future__ import annotations

from ..errors import InputError
from ..inference import FORMAT_ALIASES, engine_names, estimate_inference, get_engine, weight_formats
from ..serving import DEFAULT_ENGINE, MODES, estimate_continuous, layout_warnings
from ..models import custom_model, get_model
from . import add_config_argument, emit, quantity



def register(subparsers) -> None:
    p = subparsers.add_parser(
        "infer", help="serving latency, tokens/s and cost per 1M tokens (roofline + calibrated efficiency bands)"
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--model", help="a model id from `costlib models`")
    who.add_argument("--params", type=quantity("params"), help="total parameters (7e9, 7B); no KV cache then")
    add_config_argument(who)  # --config PATH: a local config.json instead of --model
    p.add_argument("--active-params", type=quantity("active_params"), help="active parameters per token (with --params)")
    p.add_argument("--gpu", required=True, help="a device id from `costlib gpus`")
    p.add_argument("--gpus", type=quantity("gpus"), default=1, help="devices with tensor parallelism (default 1)")
    p.add_argument("--precision", required=True,
                   help="weight format: " + " | ".join(list(weight_formats()) + list(FORMAT_ALIASES)))
    p.add_argument("--batch", type=quantity("batch"), required=True,
                   help="sequences served together (continuous: requests kept in flight; static: the batch)")
    p.add_argument("--mode", default="continuous", help="continuous (default: in-flight batching, online serving) | "
                   "static (one batch prefilled together, offline jobs)")
    p.add_argument("--prompt-tokens", type=quantity("prompt_tokens"), required=True, help="input tokens per request")
    p.add_argument("--output-tokens", type=quantity("output_tokens"), required=True, help="output tokens per request")
    p.add_argument("--utilization", type=quantity("utilization"),
                   help="share of paid GPU-hours that are busy, 0-1 (default 1: the floor cost)")
    p.add_argument("--price", type=quantity("price"), help="US$ per GPU-hour (default: the catalog's price band)")
    p.add_argument("--engine", default=DEFAULT_ENGINE,
                   help=f"engine whose calibrated efficiency band to use: {' | '.join(engine_names())} "
                        f"(default {DEFAULT_ENGINE}; the classes optimized-server, hf-transformers, llama.cpp use "
                        "their family band)")
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
    if args.mode not in MODES:
        raise InputError("mode", args.mode, "one of " + ", ".join(MODES))
    get_engine(args.engine)
    batch, k = _whole("batch", args.batch), _whole("gpus", args.gpus)
    prompt, out = _whole("prompt_tokens", args.prompt_tokens), _whole("output_tokens", args.output_tokens)
    from ..models import ModelSpec

    if args.mode == "continuous" and isinstance(model, ModelSpec):
        est = estimate_continuous(model, args.gpu, args.precision, batch, prompt, out, gpus=k,
                                  utilization=args.utilization, price_usd_per_gpu_hour=args.price, engine=args.engine)
    else:
        est = estimate_inference(model, args.gpu, args.precision, batch, prompt, out, gpus=k,
                                 utilization=args.utilization, price_usd_per_gpu_hour=args.price, engine=args.engine)
        if k > 1:
            def thr(d):
                try:
                    return estimate_inference(model, args.gpu, args.precision, batch, prompt, out, gpus=d,
                                              price_usd_per_gpu_hour=1.0, engine=args.engine).throughput_tokens_per_s.mid
                except InputError:
                    return None
            import dataclasses

            est = dataclasses.replace(est, warnings=est.warnings + layout_warnings(model, args.gpu, k,
                                                                                    key="output tokens/s", value=thr))
        if args.mode == "continuous":
            est = dataclasses_replace_note(est, "mode static: a model given by parameter count has no KV cache to "
                                                "schedule, so the continuous mode falls back to the static batch")
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
        "mode": payload["mode"],
    }
    return payload


def dataclasses_replace_note(est, note):
    import dataclasses

    return dataclasses.replace(est, assumptions=est.assumptions + (note,))


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
        f"{inp['prompt_tokens']} in / {inp['output_tokens']} out ({inp['engine']}, {inp['mode']} batching"
        + ("; batch = requests in flight" if inp["mode"] == "continuous" else "") + f"); decode is {payload['bound']}-bound",
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
    if payload.get("warnings"):
        lines.append("warnings:")
        lines += [f"  - {w}" for w in payload["warnings"]]
    lines.append("assumptions:")
    lines += [f"  - {a}" for a in payload["assumptions"]]
    return "\n".join(lines)


def run_infer(args) -> None:
    emit(args, infer_payload(args), _text)
