"""The market side by side: self-hosting an open model against the APIs that host it, and tier prices over time.

Orchestration above the physics: it calls :mod:`costlib.memory` (fewest GPUs that hold the model),
:mod:`costlib.inference` (a static-batch serving estimate, GPU price from :func:`costlib.prices.gpu_price_band`)
and :mod:`costlib.prices` (current hosts of the same open model, from genai-prices). Same request on both sides:
``prompt_tokens`` in, ``output_tokens`` out, and every dollar charged to the output tokens.
"""
from __future__ import annotations

from .errors import InputError
from .serving import estimate_continuous, min_gpus_for
from .uncertainty import Band

NEW_MOE_MODELS = ("gpt-oss-20b", "qwen3-30b-a3b", "gpt-oss-120b", "llama-4-scout", "qwen3-235b-a22b", "llama-4-maverick", "deepseek-v3.1")
"""The 2025 open mixture-of-experts models the book compares with their hosted prices (models.csv ids)."""

REQUEST = {"prompt_tokens": 1000, "output_tokens": 250}
"""The request of the comparison (the chapter-05 profile): 1,000 tokens in, 250 out."""


def api_cost_per_1m_output(price, prompt_tokens: int = REQUEST["prompt_tokens"], output_tokens: int = REQUEST["output_tokens"]) -> float:
    """$ per 1M output tokens of an API for requests of this shape: (prompt / output) x input price + output price."""
    from .validate import positive

    p, o = positive("prompt_tokens", prompt_tokens), positive("output_tokens", output_tokens)
    return float(p / o * price.input_usd_per_1m + price.output_usd_per_1m)


def self_hosted_vs_api(model_ids=NEW_MOE_MODELS, gpu: str = "h100-sxm", precision: str = "fp8", batch: int = 128,
                       prompt_tokens: int = REQUEST["prompt_tokens"], output_tokens: int = REQUEST["output_tokens"]):
    """One row per model: GPUs that hold it at ``batch`` requests, self-hosted $/1M output tokens (a band from
    the serving efficiency band and the GPU's on-demand price band, 100% busy), and the same request's cost on
    the model's current API hosts (cheapest, median, dearest host). Serving is continuous batching with ``batch``
    requests in flight (:func:`costlib.serving.estimate_continuous`) on the fewest GPUs that hold them at a valid
    tensor-parallel degree (:func:`costlib.serving.min_gpus_for`)."""
    import numpy as np
    import pandas as pd

    from .models import get_model
    from .prices import current_api_prices

    rows = []
    for mid in model_ids:
        m = get_model(mid)
        hosts = [p for p in current_api_prices().values() if p.open_model == mid]
        if not hosts:
            raise InputError("model_ids", mid, "open models with a current hosted price")
        k = min_gpus_for(mid, gpu, precision=precision, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                         min_concurrency=batch)
        if k is None:
            raise InputError("model_ids", mid, f"models that fit on some number of {gpu} at {precision}")
        est = estimate_continuous(mid, gpu, precision, batch, prompt_tokens, output_tokens, gpus=k)
        api = np.array([api_cost_per_1m_output(p, prompt_tokens, output_tokens) for p in hosts])
        sh = est.cost_per_1m_output_tokens_usd
        rows.append({
            "model": mid, "total_params_b": m.total_params / 1e9, "active_params_b": m.active_params / 1e9,
            "gpus": int(k), "gpu": gpu, "precision": precision, "batch": int(batch),
            "self_hosted_low": sh.low, "self_hosted_mid": sh.mid, "self_hosted_high": sh.high,
            "api_low": float(api.min()), "api_mid": float(np.median(api)), "api_high": float(api.max()),
            "api_hosts": ", ".join(sorted({p.provider for p in hosts})),
            "ratio_mid": sh.mid / float(np.median(api)),
        })
    return pd.DataFrame(rows)


def tier_price_over_time(tier: str):
    """Cheapest blended $/1M tokens (3:1 input:output) in a tier at each dated point of
    :func:`costlib.prices.tier_price_history`, with the offer that sets it."""
    from .prices import tier_price_history

    h = tier_price_history(tier)
    idx = h.groupby("date")["blended_usd_per_1m"].idxmin()
    return h.loc[idx].reset_index(drop=True)


def tier_cheapest_band(tier: str) -> Band:
    """Blended $/1M tokens over a tier's current offers: cheapest, median, dearest."""
    import numpy as np

    from .prices import api_prices, api_tiers

    v = np.array([api_prices()[i].blended_usd_per_1m for i in api_tiers()[tier]])
    return Band(float(v.min()), float(np.median(v)), float(v.max()))
