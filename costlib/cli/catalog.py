"""``costlib gpus``, ``costlib models`` and ``costlib prices``: the catalogs, with sources and dates."""
from __future__ import annotations

from . import emit

# costlib.hardware and costlib.models are imported by the subcommand that lists them (a one-shot `models` does
# not load the hardware module, nor `gpus` the models module)

PRICE_BAND_KINDS = ("on-demand", "spot", "committed", "capacity-block")
"""Kinds ``costlib prices`` prints (flex-start shapes are never a band by default)."""


def register(subparsers) -> None:
    p = subparsers.add_parser("gpus", help="list the hardware catalog (dense peaks, memory, bandwidth, source)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_gpus)
    p = subparsers.add_parser("models", help="list the model catalog with computed parameter counts")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_models)
    p = subparsers.add_parser(
        "prices", help="GPU rental price bands by kind (on-demand, spot, committed) and the hosted-API table, each row dated",
        description="GPU rental bands: cheapest / median / dearest of the offers of one kind no older than --window-months "
                    "before the catalog date, one per provider, offer and region. --api: the current hosted-API offers "
                    "(genai-prices pin or dated hand-typed rows), with each price's date.")
    p.add_argument("--gpu", action="append", metavar="ID", help="only this GPU (repeatable; default: every priced GPU)")
    p.add_argument("--kind", action="append", choices=PRICE_BAND_KINDS, metavar="KIND",
                   help="on-demand, spot (includes community cloud), committed (reserved 1y/3y/unstated term) or capacity-block "
                        "(prepaid fixed window); repeatable; default: all")
    p.add_argument("--window-months", type=float, default=None, metavar="N",
                   help="recency window in months before the catalog date (default 12)")
    p.add_argument("--offers", action="store_true", help="list the offers behind each band")
    p.add_argument("--api", action="store_true", help="the hosted-API table instead of GPU rentals")
    p.add_argument("--tier", choices=("small", "mid", "large"), help="with --api: one tier only")
    p.add_argument("--include-retired", action="store_true", help="with --api: superseded and retired rows too (never defaults)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_prices)


def gpus_payload() -> dict:
    from ..hardware import devices

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
                "memory_class": d.memory_class,
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
    from ..models import models

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
    from ..hardware import COMPUTE_COLUMNS

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



def prices_payload(gpus=None, kinds=None, window_months=None, offers=False) -> dict:
    """GPU rental bands per GPU and kind (only GPUs and kinds with a recent offer unless asked for by name)."""
    from ..errors import InputError
    from ..hardware import get_device
    from ..prices import GPU_PRICE_WINDOW_MONTHS, PRICE_KINDS, catalog_date, gpu_price_band, gpu_prices, prices_for
    from ..validate import positive

    window = GPU_PRICE_WINDOW_MONTHS if window_months is None else positive("window_months", window_months)
    kinds = tuple(kinds or PRICE_BAND_KINDS)
    named = gpus is not None
    ids = [get_device(g, "gpu").id for g in gpus] if named else sorted({p.gpu_id for p in gpu_prices()})
    rows = []
    for gpu in ids:
        for kind in kinds:
            found = prices_for(gpu, kind, window)
            if not found:
                if named and len(kinds) == 1:
                    gpu_price_band(gpu, kind, window)  # raises the one-line error naming what is priced
                continue
            band = gpu_price_band(gpu, kind, window)
            row = {"gpu": gpu, "kind": kind, "low": band.low, "mid": band.mid, "high": band.high, "offers_n": len(found),
                   "oldest": min(p.as_of for p in found), "newest": max(p.as_of for p in found)}
            if offers:
                row["offers"] = [{"id": p.id, "provider": p.provider, "offer": p.offer, "price_usd_per_gpu_hour": p.price_usd_per_gpu_hour,
                                  "region": p.region, "source": p.source, "as_of": p.as_of} for p in found]
            rows.append(row)
    if named and not rows:
        raise InputError("gpu", ",".join(ids), f"a GPU with a {'/'.join(kinds)} offer within {window:g} months of {catalog_date()}")
    return {"catalog_date": catalog_date(), "window_months": window, "bands": rows, "kinds": {k: list(PRICE_KINDS[k]) for k in kinds},
            "notes": {"band": "low = cheapest, mid = median, high = dearest of the recent offers, one per provider, offer and region "
                              "(the newest): a range of list prices, not a coverage claim", "unit": "US$ per GPU-hour"}}


def api_payload(tier=None, include_retired=False) -> dict:
    from ..prices import PRICE_DATE, api_prices, genai_prices_version

    out = []
    for p in api_prices().values():
        if (tier and p.tier != tier) or (not include_retired and not p.is_current):
            continue
        out.append({"id": p.id, "model": p.model, "provider": p.provider, "tier": p.tier, "status": p.status,
                    "successor": p.successor or None, "input_usd_per_1m": p.input_usd_per_1m, "output_usd_per_1m": p.output_usd_per_1m,
                    "cached_input_usd_per_1m": p.cached_input_usd_per_1m, "blended_usd_per_1m": p.blended_usd_per_1m,
                    "price_date": p.price_since or p.as_of, "from": p.package or "hand-typed row", "open_model": p.open_model or None,
                    "source": p.source})
    out.sort(key=lambda r: (("small", "mid", "large").index(r["tier"]), r["blended_usd_per_1m"], r["id"]))
    return {"price_date": PRICE_DATE.isoformat(), "genai_prices": genai_prices_version(), "offers": out,
            "notes": {"blended_usd_per_1m": "3 parts input to 1 part output", "price_date": "the date the price took effect (genai-prices start date) or the date a hand-typed row was read"}}


def _prices_text(payload: dict) -> str:
    if "offers" in payload and "bands" not in payload:
        head = f"{'id':<30} {'tier':<5} {'in $/1M':>8} {'out $/1M':>8} {'blend':>7}  {'price date':<10}  from"
        lines = [head, "-" * len(head)]
        for r in payload["offers"]:
            status = "" if r["status"] == "current" else f"  [{r['status']}; use {r['successor']}]"
            lines.append(f"{r['id']:<30} {r['tier']:<5} {r['input_usd_per_1m']:>8.3g} {r['output_usd_per_1m']:>8.3g} "
                         f"{r['blended_usd_per_1m']:>7.3g}  {r['price_date']:<10}  {r['from']}{status}")
        lines.append(f"prices active on {payload['price_date']} (genai-prices {payload['genai_prices']}); US$ per 1M tokens; blend = 3:1 input:output")
        return "\n".join(lines)
    head = f"{'gpu':<13} {'kind':<14} {'low':>7} {'mid':>7} {'high':>7} {'offers':>6}  dated"
    lines = [head, "-" * len(head)]
    for b in payload["bands"]:
        lines.append(f"{b['gpu']:<13} {b['kind']:<14} {b['low']:>7.3f} {b['mid']:>7.3f} {b['high']:>7.3f} {b['offers_n']:>6}  {b['oldest']}..{b['newest']}")
        for o in b.get("offers", ()):
            lines.append(f"    {o['provider']:<12} {o['offer']:<14} {o['price_usd_per_gpu_hour']:>7.3f}  {o['as_of']}  {o['source']}")
    lines.append(f"US$ per GPU-hour; offers within {payload['window_months']:g} months of the catalog date {payload['catalog_date']}; "
                 "low/mid/high = cheapest/median/dearest list price (not a coverage claim)")
    return "\n".join(lines)


def run_prices(args) -> None:
    from ..errors import InputError

    if args.api:
        if args.gpu or args.kind or args.window_months is not None or args.offers:
            raise InputError("api", True, "--api alone (with --tier / --include-retired); --gpu, --kind, --window-months and --offers are for GPU rentals")
        emit(args, api_payload(args.tier, args.include_retired), _prices_text)
        return
    if args.tier or args.include_retired:
        raise InputError("tier", args.tier or "--include-retired", "only with --api")
    emit(args, prices_payload(args.gpu, args.kind, args.window_months, args.offers), _prices_text)
