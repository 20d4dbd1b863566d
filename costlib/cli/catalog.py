"""``costlib gpus`` and ``costlib models``: the catalogs, with sources and dates."""
from __future__ import annotations

from ..hardware import COMPUTE_COLUMNS, devices
from ..models import models
from . import emit


def register(subparsers) -> None:
    p = subparsers.add_parser("gpus", help="list the hardware catalog (dense peaks, memory, bandwidth, source)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_gpus)
    p = subparsers.add_parser("models", help="list the model catalog with computed parameter counts")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_models)


def gpus_payload() -> dict:
    out = []
    for d in devices().values():
        out.append(
            {
                "id": d.id,
                "name": d.name,
                "kind": d.kind,
                "memory_gib": d.memory_gib,
                "memory_bytes": int(d.memory_bytes),
                "memory_gb": round(d.memory_gb, 3),
                "bandwidth_gb_s": d.bandwidth_gb_s,
                "dense_peak_tflops": dict(d.peak_tflops_by_precision),
                "tdp_w": d.tdp_w,
                "interconnect_gb_s": d.interconnect_gb_s,
                "source": d.source,
                "as_of": d.as_of,
                "notes": d.notes,
            }
        )
    return {"gpus": out, "units": {"memory_gib": "2^30 bytes (the vendor's capacity: an '80 GB' HBM part is 80 GiB)", "memory_bytes": "bytes", "memory_gb": "1e9 bytes (derived)", "bandwidth_gb_s": "1e9 bytes/s", "dense_peak_tflops": "1e12 FLOP/s, dense (int8: TOPS)"}}


def models_payload() -> dict:
    out = []
    for m in models().values():
        out.append(
            {
                "id": m.id,
                "name": m.name,
                "total_params": m.total_params,
                "active_params": m.active_params,
                "published_params": m.published_params,
                "published_active_params": m.published_active_params or (None if m.vision_params else m.published_params),
                "active_params_published_basis": m.active_params_published_basis,
                "published_digits": m.published_digits,
                "published_active_digits": m.published_active_digits,
                "published_range": list(m.published_range),
                "published_active_range": list(m.published_active_range) if m.published_active_range else None,
                "total_vs_published": m.total_params / m.published_params - 1,
                "active_vs_published": (m.active_params_published_basis / m.published_active - 1) if m.published_active else None,
                "matches_published": _matches(m),
                "vision_params": m.vision_params,
                "windowed_layers": m.windowed_layers,
                "window_tokens": m.sliding_window if m.windowed_layers else None,
                "window_kind": (m.window_kind or "sliding") if m.windowed_layers else None,
                "weight_format": m.weight_format or "bf16",
                "layers": m.layers,
                "d_model": m.d_model,
                "heads": m.heads,
                "kv_heads": m.kv_heads,
                "head_dim": m.head_dim,
                "ffn_dim": m.ffn_dim,
                "ffn_kind": m.ffn_kind,
                "vocab": m.vocab,
                "experts_total": m.experts_total,
                "experts_active": m.experts_active,
                "max_context": m.max_context,
                "source": m.source,
                "as_of": m.as_of,
            }
        )
    return {"models": out, "notes": {
        "active_params": "parameters used per text token, both embedding matrices counted, no vision encoder",
        "active_params_published_basis": "active_params counted the maker's way (gpt-oss: without the input embedding); compare this with published_active_params",
        "total_params": "every stored parameter, all experts and any vision encoder",
        "published_range": "counts the maker's printed figure stands for: within 1% when printed to 3+ significant digits; "
                           "printed to published_digits digits, rounded to nearest or down (\"3.3B\" = 3.25-3.40B); see costlib.models.published_interval",
        "matches_published": "total_params and active_params_published_basis both inside their published ranges",
        "total_vs_published": "total_params / published_params - 1 (relative)"}}


def _matches(m) -> bool:
    lo, hi = m.published_range
    ok = lo <= m.total_params < hi
    if m.published_active_range:
        alo, ahi = m.published_active_range
        ok = ok and alo <= m.active_params_published_basis < ahi
    return bool(ok)


def _gpus_text(payload: dict) -> str:
    precs = list(COMPUTE_COLUMNS)
    head = f"{'id':<13} {'mem GiB':>8} {'GB/s':>7} " + " ".join(f"{p:>7}" for p in precs) + "  as_of"
    lines = [head, "-" * len(head)]
    for g in payload["gpus"]:
        peaks = " ".join(f"{g['dense_peak_tflops'].get(p, ''):>7}" for p in precs)
        lines.append(f"{g['id']:<13} {g['memory_gib']:>8g} {g['bandwidth_gb_s']:>7g} {peaks}  {g['as_of']}")
    lines.append("dense peaks in TFLOP/s (int8: TOPS); memory in GiB = 2^30 bytes as vendors mean it; GB/s = 1e9 bytes/s. Sources: costlib gpus --json")
    return "\n".join(lines)


def _models_text(payload: dict) -> str:
    head = f"{'id':<28} {'total (B)':>10} {'active (B)':>10} {'published (B)':>13} {'layers':>6} {'d_model':>7} {'heads/kv':>8}"
    lines = [head, "-" * len(head)]
    for m in payload["models"]:
        lines.append(
            f"{m['id']:<28} {m['total_params'] / 1e9:>10.3f} {m['active_params'] / 1e9:>10.3f} "
            f"{m['published_params'] / 1e9:>13.3f} {m['layers']:>6} {m['d_model']:>7} {m['heads']:>4}/{m['kv_heads']:<3}"
        )
    return "\n".join(lines)


def run_gpus(args) -> None:
    emit(args, gpus_payload(), _gpus_text)


def run_models(args) -> None:
    emit(args, models_payload(), _models_text)
