"""``costlib serve``: capacity of a continuous-batching server at a latency target (costlib.serving):
the largest request rate per replica with mean time to first token and mean time per output token
under their targets, the replicas and GPUs for a peak rate, and the cost per 1K requests and per 1M
output tokens at that operating point, each low / mid / high over the engine's calibrated efficiencies."""
from __future__ import annotations

from ..errors import InputError
from ..inference import _price_band, _resolve_device, engine_names, weight_formats, FORMAT_ALIASES
from ..models import get_model
from ..serving import DEFAULT_ENGINE, capacity_at_slo, costs, replicas_for_rate
from ..uncertainty import Band
from . import add_model_arguments, emit, quantity


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve", help="requests/s per replica at a TTFT/TPOT target, replicas for a peak rate, $ per 1K requests "
                      "(continuous batching)")
    add_model_arguments(p)  # --model ID or --config PATH
    p.add_argument("--gpu", required=True, help="a device id from `costlib gpus`")
    p.add_argument("--gpus", type=quantity("gpus"), default=1, help="GPUs per replica, tensor parallel (default 1)")
    p.add_argument("--precision", default="bf16",
                   help="weight format: " + " | ".join(list(weight_formats()) + list(FORMAT_ALIASES)) + " (default bf16)")
    p.add_argument("--engine", default=DEFAULT_ENGINE, help=f"{' | '.join(engine_names())} (default {DEFAULT_ENGINE})")
    p.add_argument("--prompt-tokens", type=quantity("prompt_tokens"), required=True, help="input tokens per request")
    p.add_argument("--output-tokens", type=quantity("output_tokens"), required=True, help="output tokens per request")
    p.add_argument("--ttft-ms", type=quantity("ttft_ms"), required=True, help="target mean time to first token, ms")
    p.add_argument("--tpot-ms", type=quantity("tpot_ms"), required=True, help="target mean time per output token, ms")
    p.add_argument("--split", default="tensor", choices=("tensor", "pipeline", "expert"),
                   help="how --gpus share the model: tensor parallelism (default), a pipeline / layer split "
                        "(llama.cpp --split-mode layer: memory per GPU divides, a lone stream is not faster) or "
                        "expert parallelism for a mixture of experts (whole experts per GPU)")
    p.add_argument("--ttft-percentile", type=quantity("ttft_percentile"),
                   help="put the TTFT target on this percentile (e.g. 90 or 99; M/D/1 queue, exponential tail) "
                        "instead of the mean")
    p.add_argument("--tpot-percentile", type=quantity("tpot_percentile"),
                   help="put the TPOT target on this percentile over requests (e.g. 90 or 99; prompt-chunk steps "
                        "binomial per request) instead of the mean")
    p.add_argument("--rate", type=quantity("rate"), help="peak requests per second to provision for (default: one replica)")
    p.add_argument("--price", type=quantity("price"), help="US$ per GPU-hour (default: the catalog's price band)")
    p.add_argument("--kv-precision", help="KV cache: fp16 | bf16 | fp8 | int8 (default: fp8 with fp8 weights, else fp16)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_serve)


def _whole(name: str, value) -> int:
    if value != int(value) or value < 1:
        raise InputError(name, value, "a whole number >= 1")
    return int(value)


def _ms(name: str, value) -> float:
    if not value > 0:
        raise InputError(name, value, "a number of milliseconds greater than 0")
    return float(value) / 1e3


def serve_payload(args) -> dict:
    model = get_model(args.model)
    device = _resolve_device(args.gpu)
    k = _whole("gpus", args.gpus)
    p, o = _whole("prompt_tokens", args.prompt_tokens), _whole("output_tokens", args.output_tokens)
    point = capacity_at_slo(model, device, gpus=k, precision=args.precision, engine=args.engine, prompt_tokens=p,
                            output_tokens=o, ttft_s=_ms("ttft_ms", args.ttft_ms), tpot_s=_ms("tpot_ms", args.tpot_ms),
                            kv_precision=args.kv_precision, ttft_percentile=getattr(args, "ttft_percentile", None),
                            split=getattr(args, "split", "tensor"), tpot_percentile=getattr(args, "tpot_percentile", None))
    if not point.feasible:
        which, _, why = point.reason.partition(": ")
        flag = {"ttft": "ttft_ms", "tpot": "tpot_ms", "memory": "gpus"}.get(which, which)
        value = {"ttft_ms": args.ttft_ms, "tpot_ms": args.tpot_ms, "gpus": k}.get(flag)
        raise InputError(flag, value, "unattainable: " + why)
    rate = None if args.rate is None else float(args.rate)
    if rate is not None and not rate > 0:
        raise InputError("rate", args.rate, "requests per second greater than 0")
    replicas = replicas_for_rate(point, rate) if rate is not None else Band(1.0, 1.0, 1.0)
    price, price_note = _price_band(device, args.price)
    c = costs(point, price) if price is not None else {"cost_per_1k_requests_usd": None,
                                                        "cost_per_1m_output_tokens_usd": None}
    payload = {
        "max_rate_per_replica": point.max_rate_per_replica.as_dict(4),
        "replicas": replicas.as_dict(),
        "gpus": replicas.scale(k).as_dict(),
        "ttft_s": point.ttft_s.as_dict(4),
        "tpot_s": point.tpot_s.as_dict(4),
        "throughput_tokens_per_s": point.throughput_tokens_per_s.as_dict(4),
        "concurrency": point.concurrency.as_dict(4),
        "kv_occupancy": point.kv_occupancy.as_dict(4) if point.kv_occupancy is not None else None,
        "cost_per_1k_requests_usd": c["cost_per_1k_requests_usd"].as_dict(4) if c["cost_per_1k_requests_usd"] else None,
        "cost_per_1m_output_tokens_usd": (c["cost_per_1m_output_tokens_usd"].as_dict(4)
                                          if c["cost_per_1m_output_tokens_usd"] else None),
        "binding": point.binding,
        "mode": point.mode,
        "ttft_statistic": point.ttft_statistic,
        "ttft_mean_s": point.ttft_mean_s.as_dict(4) if point.ttft_mean_s is not None else None,
        "tpot_statistic": point.tpot_statistic,
        "tpot_mean_s": point.tpot_mean_s.as_dict(4) if point.tpot_mean_s is not None else None,
        "memory_concurrency_cap": point.memory_concurrency_cap,
        "warnings": list(point.warnings),
        "assumptions": list(point.assumptions) + [
            "latencies (ttft_s, tpot_s) at each efficiency's own largest sustainable rate (the operating point); "
            "cost at that rate, utilization 1 (the floor cost)",
            price_note,
        ] + ([f"replicas for a peak of {rate:g} requests/s: low from the highest capacity, high from the lowest"]
             if rate is not None else []),
        "inputs": {"model": model.id, "gpu": device.id, "gpus_per_replica": k, "precision": args.precision,
                   "engine": point.engine, "prompt_tokens": p, "output_tokens": o, "ttft_ms": float(args.ttft_ms),
                   "tpot_ms": float(args.tpot_ms), "rate": rate,
                   "ttft_percentile": getattr(args, "ttft_percentile", None),
                   "tpot_percentile": getattr(args, "tpot_percentile", None),
                   "split": getattr(args, "split", "tensor")},
    }
    return payload


LABELS = {
    "max_rate_per_replica": ("max rate per replica", "requests/s"),
    "replicas": ("replicas", ""),
    "gpus": ("GPUs", ""),
    "ttft_s": ("time to first token", "s"),
    "tpot_s": ("mean time per output token", "s"),
    "throughput_tokens_per_s": ("output tokens/s per replica", "tok/s"),
    "concurrency": ("requests in flight per replica", ""),
    "kv_occupancy": ("KV-cache occupancy", "share"),
    "cost_per_1k_requests_usd": ("cost per 1K requests", "US$"),
    "cost_per_1m_output_tokens_usd": ("cost per 1M output tokens", "US$"),
}


def _text(payload: dict) -> str:
    inp = payload["inputs"]
    lines = [
        f"{inp['model']} on {inp['gpus_per_replica']} x {inp['gpu']} per replica, {inp['precision']}, {inp['engine']}, "
        f"{inp['prompt_tokens']} in / {inp['output_tokens']} out; targets: {payload['ttft_statistic']} TTFT "
        f"{inp['ttft_ms']:g} ms, "
        f"{payload.get('tpot_statistic', 'mean')} TPOT {inp['tpot_ms']:g} ms; {payload['mode']} batching; "
        f"binding: {payload['binding']}",
        f"{'':40} {'low':>10} {'mid':>10} {'high':>10}",
    ]
    for key, (name, unit) in LABELS.items():
        band = payload[key]
        if key == "tpot_s" and payload.get("tpot_statistic", "mean") != "mean":
            name = f"{payload['tpot_statistic']} time per output token"
        label = name + (f" ({unit})" if unit else "")
        if band is None:
            lines.append(f"{label:40} {'n/a: pass --price':>32}")
            continue
        lines.append(f"{label:40} {band['low']:>10.4g} {band['mid']:>10.4g} {band['high']:>10.4g}")
    if payload["warnings"]:
        lines.append("warnings:")
        lines += [f"  - {w}" for w in payload["warnings"]]
    lines.append("assumptions:")
    lines += [f"  - {a}" for a in payload["assumptions"] if a]
    return "\n".join(lines)


def run_serve(args) -> None:
    emit(args, serve_payload(args), _text)
