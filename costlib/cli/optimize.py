"""``costlib speculative`` and ``costlib quantize``: two optimization techniques from the command line
(costlib.optimizations)."""
from __future__ import annotations

from .. import optimization_costs, optimizations as opt
from . import add_model_arguments, emit, quantity, resolve_model, whole_number


def register(subparsers) -> None:
    p = subparsers.add_parser("speculative", help="speculative decoding: tokens per target call, speed-up, best gamma (Leviathan et al. 2023)")
    p.add_argument("--alpha", type=quantity("alpha"), required=True, help="acceptance rate, 0 <= alpha < 1")
    p.add_argument("--gamma", type=quantity("gamma"), required=True, help="draft tokens per target call (whole, >= 1)")
    p.add_argument("--c", type=quantity("c"), default=0.0, help="draft/target step-time ratio, >= 0 (default 0)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_speculative)

    q = subparsers.add_parser("quantize", help="memory, decode and prefill speed-up and quality cost of a weight format")
    add_model_arguments(q)  # --model ID or --config PATH
    q.add_argument("--gpu", required=True, help="a device id from the catalog")
    q.add_argument("--precision", required=True, help="fp8 | int8 | int4 (or fp16/bf16)")
    q.add_argument("--batch", type=quantity("batch"), default=1, help="sequences served together (default 1)")
    q.add_argument("--prompt-tokens", type=quantity("prompt_tokens"), default=1500, help="default 1500")
    q.add_argument("--output-tokens", type=quantity("output_tokens"), default=300, help="default 300")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(handler=run_quantize)


def speculative_payload(alpha, gamma, c) -> dict:
    best = int(opt.speculative_optimal_gamma(alpha, c))
    return {
        "alpha": alpha, "gamma": gamma, "c": c,
        "expected_tokens_per_call": float(opt.speculative_expected_tokens(alpha, gamma)),
        "speedup": float(opt.speculative_speedup(alpha, gamma, c)),
        "ops_factor": float(opt.speculative_ops_factor(alpha, gamma, c)),
        "optimal_gamma": best,
        "optimal_speedup": float(opt.speculative_speedup(alpha, best, c)),
        "source": "Leviathan et al. 2023, theorem 3.8 (arXiv 2211.17192)",
    }


def run_speculative(args) -> None:
    payload = speculative_payload(args.alpha, whole_number("gamma", args.gamma), args.c)
    emit(args, payload, lambda p: (
        f"{p['expected_tokens_per_call']:.4f} tokens per target call; speed-up {p['speedup']:.3f}x; "
        f"arithmetic x{p['ops_factor']:.3f}; best gamma {p['optimal_gamma']} ({p['optimal_speedup']:.3f}x)"))


def run_quantize(args) -> None:
    q = optimization_costs.quantization_effect(resolve_model(args), args.gpu, args.precision, batch=whole_number("batch", args.batch),
                                prompt_tokens=whole_number("prompt_tokens", args.prompt_tokens),
                                output_tokens=whole_number("output_tokens", args.output_tokens))
    band = q.quality_ppl_ratio
    payload = {
        "model": q.model, "gpu": q.gpu, "precision": q.precision, "baseline": q.baseline,
        "weights_gb": q.weights_gb, "baseline_weights_gb": q.baseline_weights_gb, "memory_gb": q.memory_gb,
        "fits": q.fits, "decode_speedup": q.decode_speedup, "prefill_speedup": q.prefill_speedup,
        "perplexity_ratio": None if band is None else band.as_dict(6), "assumptions": list(q.assumptions),
    }
    emit(args, payload, lambda p: (
        f"{p['model']} {p['precision']} on {p['gpu']}: weights {p['weights_gb']:.2f} GB (bf16 {p['baseline_weights_gb']:.2f}), "
        f"serving memory {p['memory_gb']:.1f} GB ({'fits' if p['fits'] else 'does not fit'}); decode {p['decode_speedup']:.2f}x, "
        f"prefill {p['prefill_speedup']:.2f}x" + ("" if band is None else f"; perplexity x{band.low:.4f}-{band.high:.4f}")))
