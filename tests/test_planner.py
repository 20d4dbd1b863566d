"""The workload planner (costlib.planner) and ``costlib plan``: hand-worked values and properties."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from costlib import planner as pl
from costlib.cli import main
from costlib.errors import InputError
from costlib.prices import get_api_price
from costlib.uncertainty import Band

W = pl.workload(100_000, prompt_tokens=1500, output_tokens=300)
T = pl.Targets(1.0, 0.05)


def test_offer_prices_derive_from_the_chosen_price():
    f = pl.offer_price_factor("reserved-1y")
    b = pl.offer_price(2.0, "reserved-1y")
    assert (b.low, b.mid, b.high) == pytest.approx((2.0 * f.low, 2.0 * f.mid, 2.0 * f.high))
    assert pl.offer_price(2.0, "on-demand") == Band(2.0, 2.0, 2.0)
    for offer in pl.OFFERS:  # a commitment or an interruptible GPU never costs more than on demand
        assert pl.offer_price_factor(offer).high <= 1.0
    with pytest.raises(InputError, match="offer"):
        pl.offer_price_factor("monthly")


def test_workload_volume_and_peak_by_hand():
    # 100,000 requests/day over 24 h at a peak-to-average of 2: 100000 / 86400 * 2 = 2.3148 req/s at peak
    assert W.peak_rate_per_s() == pytest.approx(100_000 / 86_400 * 2.0)
    assert W.requests_per_month() == pytest.approx(100_000 * 365 / 12)
    g = pl.workload(users=500, requests_per_user_per_day=200, prompt_tokens=10, output_tokens=5, active_hours_per_day=10,
                    active_days_per_year=250, growth_per_year=0.2, peak_to_average=3)
    assert g.requests_per_day == 100_000
    assert g.peak_rate_per_s() == pytest.approx(100_000 * 1.2 / 36_000 * 3)  # sized for the end of the year
    assert g.requests_per_month() == pytest.approx(100_000 * 250 / 12 * 1.1)  # the year's mean volume


@pytest.mark.parametrize("kwargs, parameter", [
    ({"requests_per_day": -5, "prompt_tokens": 10, "output_tokens": 5}, "requests_per_day"),
    ({"requests_per_day": 10, "prompt_tokens": 10, "output_tokens": 0}, "request.output_tokens"),
    ({"requests_per_day": 10, "prompt_tokens": 1.5, "output_tokens": 5}, "request.prompt_tokens"),
    ({"requests_per_day": 10, "tasks": [("a", 0.5, 10, 5), ("b", 0.4, 10, 5)]}, "tasks.share"),
    ({"requests_per_day": 10, "prompt_tokens": 10, "output_tokens": 5, "peak_to_average": 0.5}, "peak_to_average"),
    ({"requests_per_day": 10, "prompt_tokens": 10, "output_tokens": 5, "active_hours_per_day": 25}, "active_hours_per_day"),
])
def test_bad_workload_names_the_parameter(kwargs, parameter):
    with pytest.raises(InputError) as e:
        pl.workload(**kwargs)
    assert e.value.parameter == parameter


def test_replicas_by_hand():
    # 2.3148 req/s at peak, 1.452 req/s per replica, 80% utilization: 2.3148 / 1.452 / 0.8 = 1.99 -> 2 replicas
    assert float(pl.replicas_needed(100_000 / 86_400 * 2, [1.0], [1.452], 0.8)) == 2.0
    assert float(pl.replicas_needed(0.01, [1.0], [1.452], 0.8, min_replicas=2)) == 2.0  # the floor
    # a mix: 0.8 of 10 req/s at 4 req/s per replica + 0.2 at 1 req/s = 2 + 2 = 4 replica-equivalents busy
    assert float(pl.replicas_needed(10.0, [0.8, 0.2], [4.0, 1.0], 1.0)) == 4.0


def test_self_hosted_monthly_cost_by_hand():
    o = pl.self_hosted("llama-3.2-3b", "l4", on_demand_usd_per_gpu_hour=0.8)
    cap = pl.option_capacity(o, W, T)
    assert cap.feasible and cap.gpus_per_replica == 1
    rate = cap.rate_per_replica["request"]
    n_mid = max(1, math.ceil(W.peak_rate_per_s() / rate.mid / 0.8 - 1e-9))
    m = pl.monthly_cost(o, W, T)
    assert float(m.mid) == pytest.approx(n_mid * 1 * 0.8 * 730)  # GPUs x $/GPU-hour x 730 h
    assert float(m.low) <= float(m.mid) <= float(m.high)
    r = pl.self_hosted("llama-3.2-3b", "l4", on_demand_usd_per_gpu_hour=0.8, offer="reserved-1y")
    f = pl.offer_price_factor("reserved-1y")
    assert float(pl.monthly_cost(r, W, T).mid) == pytest.approx(n_mid * 0.8 * f.mid * 730)


def test_api_monthly_cost_by_hand():
    a = pl.api("gpt-4o-mini")
    p = get_api_price("gpt-4o-mini")
    per_req = (1500 * p.input_usd_per_1m + 300 * p.output_usd_per_1m) / 1e6
    assert float(pl.monthly_cost(a, W).mid) == pytest.approx(100_000 * 365 / 12 * per_req)
    c = pl.api("gpt-4o-mini", cached_input_share=0.5)
    per_c = (750 * p.input_usd_per_1m + 750 * p.cached_input_usd_per_1m + 300 * p.output_usd_per_1m) / 1e6
    assert float(pl.monthly_cost(c, W).mid) == pytest.approx(100_000 * 365 / 12 * per_c)


def test_hybrid_ends_are_its_parts():
    small = pl.self_hosted("llama-3.2-3b", "l4", on_demand_usd_per_gpu_hour=0.8)
    large = pl.api("gpt-4o")
    router = 0.01  # $ per 1K requests
    h0 = pl.hybrid(small, large, 0.0, router_usd_per_1k_requests=router)
    h1 = pl.hybrid(small, large, 1.0, router_usd_per_1k_requests=router)
    fee = W.requests_per_month() * router / 1000
    assert float(pl.monthly_cost(h0, W, T).mid) == pytest.approx(float(pl.monthly_cost(small, W, T).mid) + fee)
    assert float(pl.monthly_cost(h1, W, T).mid) == pytest.approx(float(pl.monthly_cost(large, W, T).mid) + fee)


def test_auto_gpus_per_replica_is_the_smallest_that_serves():
    big = pl.self_hosted("llama-3.1-70b", "h100-sxm")  # 141 GB of BF16 weights do not fit one 80 GiB H100
    cap = pl.option_capacity(big, W, T)
    assert cap.feasible and cap.gpus_per_replica >= 2
    one = pl.self_hosted("llama-3.1-70b", "h100-sxm", gpus_per_replica=1)
    assert not pl.option_capacity(one, W, T).feasible
    assert pl.option_capacity(pl.self_hosted("llama-3.1-8b", "h100-sxm"), W, T).gpus_per_replica == 1


OPTIONS = [
    pl.self_hosted("llama-3.2-3b", "l4"),
    pl.self_hosted("llama-3.1-70b", "h100-sxm", gpus_per_replica=2, precision="fp8"),
    pl.self_hosted("llama-3.1-8b", "l40s", offer="spot", min_replicas=2),
    pl.api("gpt-4o"),
    pl.hybrid(pl.self_hosted("llama-3.2-3b", "l4"), pl.api("gpt-4o"), 0.2, router_usd_per_1k_requests=0.05),
]


@pytest.mark.parametrize("o", OPTIONS, ids=pl.option_name)
def test_monthly_cost_never_negative_nan_or_falling_with_traffic(o):
    scale = np.geomspace(1e-3, 1e3, 600)
    m = pl.monthly_cost(o, W, T, scale)
    for arr in m:
        arr = np.broadcast_to(arr, scale.shape)
        assert np.all(np.isfinite(arr)) and np.all(arr >= 0)
        assert np.all(np.diff(arr) >= -1e-9 * np.abs(arr[1:]))  # never falls when traffic rises
    assert np.all(np.asarray(m.low) <= np.asarray(m.mid) + 1e-9) and np.all(np.asarray(m.mid) <= np.asarray(m.high) + 1e-9)


def test_unservable_workload_is_reported_with_the_reason():
    o = pl.self_hosted("llama-3.1-405b", "l4")
    res = pl.evaluate_option(o, W, T)
    assert not res.feasible and res.monthly_usd is None and "does not fit" in res.reason
    tight = pl.evaluate_option(pl.self_hosted("llama-3.1-70b", "l40s", gpus_per_replica=4, precision="fp8"), W, pl.Targets(1.0, 0.005))
    assert not tight.feasible and "tpot" in tight.reason and "floor" in tight.reason
    with pytest.raises(InputError, match="can serve"):
        pl.monthly_cost(o, W, T)
    p = pl.plan(W, [o, pl.api("gpt-4o")], T)
    assert p.options[-1].name == pl.option_name(o) and p.cheapest.name == "api:gpt-4o"  # ranked last, not as a cost


def test_plan_ranks_and_break_evens_are_consistent():
    opts = [pl.self_hosted("llama-3.2-3b", "l4", on_demand_usd_per_gpu_hour=0.8), pl.api("gpt-4o")]
    p = pl.plan(W, opts, T)
    mids = [o.monthly_usd.mid for o in p.options]
    assert mids == sorted(mids)
    be = next(b for b in p.break_even if b.option == "self:llama-3.2-3b@l4:bf16" and b.against == "api:gpt-4o")
    assert be.cheaper == "above" and be.requests_per_day > 0
    x = be.requests_per_day / W.requests_per_day
    lo = pl.monthly_cost(opts[0], W, T, x * 0.99).mid - pl.monthly_cost(opts[1], W, T, x * 0.99).mid
    hi = pl.monthly_cost(opts[0], W, T, x * 1.01).mid - pl.monthly_cost(opts[1], W, T, x * 1.01).mid
    assert float(lo) > 0 >= float(hi)
    rev = next(b for b in p.break_even if b.option == "api:gpt-4o")
    assert rev.cheaper == "below" and rev.requests_per_day == pytest.approx(be.requests_per_day, rel=1e-6)
    d = pl.plan_to_dict(p)
    json.dumps(d, allow_nan=False)
    o = d["options"][0]
    assert o["p10_p90_monthly_usd"]["p10"] <= o["p10_p90_monthly_usd"]["p90"]
    assert o["usd_per_1k_requests"]["mid"] == pytest.approx(1000 * o["monthly_usd"]["mid"] / d["requests_per_month"])
    assert o["annual_usd"]["mid"] == pytest.approx(12 * o["monthly_usd"]["mid"])


@pytest.mark.parametrize("spec, expect", [
    ("self:llama-3.1-70b@h100-sxmx2:fp8", ("llama-3.1-70b", "h100-sxm", 2, "fp8", "vllm", "on-demand")),
    ("self:llama-3.2-3b@l4", ("llama-3.2-3b", "l4", None, "bf16", "vllm", "on-demand")),
    ("self:qwen2.5-7b@l40s:int4:tensorrt-llm:reserved-1y", ("qwen2.5-7b", "l40s", None, "int4", "tensorrt-llm", "reserved-1y")),
])
def test_parse_self_hosted_spec(spec, expect):
    o = pl.parse_option(spec)
    assert (o.model, o.gpu, o.gpus_per_replica, o.precision, o.engine, o.offer) == expect


@pytest.mark.parametrize("spec", ["self:llama-3.2-3b", "self:nomodel@l4", "self:llama-3.2-3b@l4:fp9", "api:nope",
                                  "hybrid:llama-3.2-3b@l4,gpt-4o", "hybrid:llama-3.2-3b@l4,gpt-4o,1.5", "cloud:x"])
def test_bad_option_spec_is_one_error(spec):
    with pytest.raises(InputError):
        pl.parse_option(spec)


def test_api_tier_names_resolve_to_current_ids():
    t = pl.tiers()
    assert t["small"] and t["large"]
    assert pl.parse_option("api:small").api == t["small"][0]
    assert get_api_price(pl.parse_option("api:large").api).id == t["large"][0]


DONE = ["plan", "--requests-per-day", "100000", "--prompt-tokens", "1500", "--output-tokens", "300", "--ttft-ms", "1000",
        "--tpot-ms", "50", "--option", "self:llama-3.2-3b@l4", "--option", "self:llama-3.1-70b@h100-sxmx2:fp8",
        "--option", "api:small", "--option", "api:large", "--json"]


def test_cli_done_when_command(capsys):
    assert main(DONE) == 0
    d = json.loads(capsys.readouterr().out)
    assert len(d["options"]) == 4 and len(d["ranking"]) == 4
    for o in d["options"]:
        assert o["feasible"] and set(o["monthly_usd"]) == {"low", "mid", "high"} and o["binding"]
        if o["kind"] == "self_hosted":
            assert o["gpus"]["mid"] >= 1 and o["binding"] in pl.BINDINGS
    mids = [o["monthly_usd"]["mid"] for o in d["options"]]
    assert mids == sorted(mids)


def test_cli_text_and_errors(capsys):
    assert main([x for x in DONE if x != "--json"]) == 0
    out = capsys.readouterr().out
    assert "llama-3.1-70b" in out and "break-even" in out
    assert main(["plan", "--requests-per-day", "100000", "--prompt-tokens", "1500", "--output-tokens", "300",
                 "--option", "self:llama-3.2-3b@l4", "--option", "api:gpt-4o", "--gpu-price", "l4=0.8"]) == 0
    out = capsys.readouterr().out
    assert "is cheaper than api:gpt-4o above" in out
    assert main(["plan", "--requests-per-day", "-1", "--prompt-tokens", "10", "--output-tokens", "5", "--option", "api:gpt-4o"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "requests_per_day" in err
    assert main(["plan", "--requests-per-day", "10", "--prompt-tokens", "10", "--output-tokens", "5",
                 "--option", "api:gpt-4o", "--gpu-price", "l4=abc"]) == 2


def test_write_scenario_round_trips_through_enterprise(tmp_path, capsys):
    from costlib import enterprise as ent

    path = tmp_path / "plan.yaml"
    args = ["plan", "--requests-per-day", "20000", "--prompt-tokens", "1000", "--output-tokens", "200", "--ttft-ms", "1000",
            "--tpot-ms", "50", "--option", "self:llama-3.1-8b@l40s:fp8", "--option", "api:gpt-4o",
            "--option", "hybrid:llama-3.1-8b@l40s:fp8,gpt-4o,0.3", "--gpu-price", "l40s=1.5", "--json", "--write-scenario", str(path)]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    sc = ent.load_scenario(path)
    res = ent.annual_cost(sc)
    by = {o["name"]: o for o in d["options"]}
    api = next(o for o in res.options.values() if o.kind == "api")
    assert api.annual_usd == pytest.approx(by["api:gpt-4o"]["annual_usd"]["mid"])
    sh = next(o for o in res.options.values() if o.kind == "self_hosted")
    assert sh.gpus == by["self:llama-3.1-8b@l40s:fp8"]["gpus"]["mid"]
    assert sh.annual_usd == pytest.approx(by["self:llama-3.1-8b@l40s:fp8"]["annual_usd"]["mid"])


def test_page_table_is_current_and_the_page_is_small():
    """The published planner's precomputed capacities are what the planner computes now (a stale table fails
    here: run tools/build_planner_table.py), and the page block stays well under 2 MB."""
    import random

    from costlib.present import explore_planner as xp

    t = xp.load_table()
    for key in ("models", "gpus", "precisions", "engines", "prompts", "outputs"):
        assert list(t[key]) == list(xp.GRID[key]), key
    rng = random.Random(14)
    for _ in range(12):
        combo = [rng.choice(t[k]) for k in ("models", "gpus", "precisions", "engines", "prompts", "outputs")]
        preset = rng.randrange(len(t["presets"]))
        cell = pl.table_cell(t, *combo, preset)
        tt, tp = t["presets"][preset]
        cap = pl.replica_capacity(combo[0], combo[1], None, combo[2], combo[3], (("request", combo[4], combo[5]),),
                                  pl.Targets(tt / 1e3, tp / 1e3))
        if cap.feasible:
            r = cap.rate_per_replica["request"]
            assert cell == [cap.gpus_per_replica, r.low, r.mid, r.high, pl.BINDINGS.index(cap.binding)], combo
        else:
            assert cell == pl.short_reason(cap), combo
    html = xp.planner_html()
    assert len(html.encode()) < 1.5e6
    assert "tensorrt-llm" in html and "qwen3-30b-a3b" in xp.GRID["models"]


def test_saving_band_by_hand():
    a = pl.self_hosted("llama-3.2-3b", "l4", on_demand_usd_per_gpu_hour=0.8)
    b = pl.api("gpt-4o")
    s = pl.saving_band(a, b, W, T)
    ma, mb = pl.monthly_cost(a, W, T), pl.monthly_cost(b, W, T)
    assert s.mid == pytest.approx(1 - float(ma.mid) / float(mb.mid))
    assert s.low == pytest.approx(1 - float(ma.high) / float(mb.mid)) and s.low <= s.mid <= s.high
