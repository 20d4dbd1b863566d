"""Hybrid routing: a small model answers a share of the traffic, a large one the rest.

The model (stated in ``notebooks/06_enterprise.ipynb``): a router sends a share ``s`` of the
requests to the small model first. A fraction ``e`` of those attempts fails (the answer is
rejected by a check or by the user) and *escalates*: the small model's attempt is wasted and
the large model answers as well. Every request also pays the router's own cost ``r`` (a
classifier call, an embedding, a gateway). Per request, in dollars:

    cost(s) = s * (c_small + e * c_large) + (1 - s) * c_large + r          (+ fixed / N)

so the large model serves ``1 - s + s * e`` of the traffic (:func:`large_share`). Hybrid beats
sending everything to the large model when cost(s) < c_large, i.e. above the break-even share

    s* = (r + fixed / N) / (c_large * (1 - e) - c_small)                   (:func:`break_even_share`)

which exists only when the small model's attempt plus its wasted escalations cost less than a
large answer (``c_small < c_large * (1 - e)``). This is the cascade of FrugalGPT (Chen, Zaharia
and Zou 2023, arXiv:2305.05176, section 3) and the router of RouteLLM (Ong et al. 2024,
arXiv:2406.18665) reduced to its cost arithmetic; neither paper's quality model is used here.

Every function takes numbers or numpy arrays (a sweep over the share is one call).
:mod:`costlib.enterprise` uses these for API-priced models; a self-hosted small model has a
fixed cost that steps with the GPU count, which ``enterprise`` handles by re-sizing it.
"""
from __future__ import annotations

import numpy as np

from .validate import fraction, non_negative


def large_share(small_share, escalation_rate=0.0):
    """Share of all requests the large model answers: ``1 - s + s * e``."""
    s = fraction("small_share", small_share, allow_zero=True)
    e = fraction("escalation_rate", escalation_rate, allow_zero=True)
    return 1.0 - s + s * e


def hybrid_cost_per_request(
    small_share,
    small_usd_per_request,
    large_usd_per_request,
    *,
    escalation_rate=0.0,
    router_usd_per_request=0.0,
):
    """Dollars per request of the hybrid: ``s (c_s + e c_l) + (1 - s) c_l + r``."""
    s = fraction("small_share", small_share, allow_zero=True)
    e = fraction("escalation_rate", escalation_rate, allow_zero=True)
    cs = non_negative("small_usd_per_request", small_usd_per_request)
    cl = non_negative("large_usd_per_request", large_usd_per_request)
    r = non_negative("router_usd_per_request", router_usd_per_request)
    return s * cs + (1.0 - s + s * e) * cl + r


def hybrid_cost(
    requests,
    small_share,
    small_usd_per_request,
    large_usd_per_request,
    *,
    escalation_rate=0.0,
    router_usd_per_request=0.0,
    fixed_usd=0.0,
):
    """Total dollars for ``requests`` requests through the hybrid, plus any fixed cost."""
    n = non_negative("requests", requests)
    f = non_negative("fixed_usd", fixed_usd)
    per = hybrid_cost_per_request(
        small_share,
        small_usd_per_request,
        large_usd_per_request,
        escalation_rate=escalation_rate,
        router_usd_per_request=router_usd_per_request,
    )
    return n * per + f


def break_even_share(
    small_usd_per_request,
    large_usd_per_request,
    *,
    escalation_rate=0.0,
    router_usd_per_request=0.0,
    fixed_usd=0.0,
    requests=1.0,
):
    """Smallest share to the small model at which the hybrid costs no more than the large model alone.

    ``s* = (r + fixed / N) / (c_l (1 - e) - c_s)``. Returns ``inf`` where no share in [0, 1] makes
    the hybrid win (the small attempt plus escalations cost at least a large answer, or s* > 1).
    """
    cs = non_negative("small_usd_per_request", small_usd_per_request)
    cl = non_negative("large_usd_per_request", large_usd_per_request)
    e = fraction("escalation_rate", escalation_rate, allow_zero=True)
    r = non_negative("router_usd_per_request", router_usd_per_request)
    f = non_negative("fixed_usd", fixed_usd)
    n = non_negative("requests", requests)
    saving = np.asarray(cl * (1.0 - e) - cs, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fixed_per_request = np.where(np.asarray(f) > 0, np.asarray(f, dtype=float) / np.asarray(n, dtype=float), 0.0)
        overhead = r + fixed_per_request
        s = np.where(saving > 0, overhead / np.where(saving > 0, saving, 1.0), np.inf)
    s = np.where(s <= 1.0, s, np.inf)
    return float(s) if np.ndim(s) == 0 else s


def tiered_cost(requests, shares, usd_per_request):
    """Dollars when fixed shares of traffic go to tiers with their own per-request price.

    ``shares`` and ``usd_per_request`` are sequences of equal length (one entry per tier) whose
    shares sum to 1; ``requests`` may be an array.
    """
    n = non_negative("requests", requests)
    sh = np.asarray([fraction("shares", x, allow_zero=True) for x in shares], dtype=float)
    c = np.asarray([non_negative("usd_per_request", x) for x in usd_per_request], dtype=float)
    if sh.shape != c.shape:
        from .errors import InputError

        raise InputError("shares", list(shares), f"one share per tier ({len(c)} tiers)")
    if not np.isclose(sh.sum(), 1.0):
        from .errors import InputError

        raise InputError("shares", list(shares), "shares that sum to 1")
    return n * float(np.dot(sh, c))
