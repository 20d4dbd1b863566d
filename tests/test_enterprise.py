"""Enterprise cost model and hybrid routing: hand-worked annual costs, properties, scenario files."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import yaml

from costlib import enterprise as ent
from costlib import routing
from costlib.cli import main
from costlib.errors import InputError
from costlib.uncertainty import Band
from costlib.prices import get_api_price

SMALL = textwrap.dedent(
    """\
    name: small hand-worked scenario
    workload:
      users: 10
      working_days_per_year: 250
      active_hours_per_day: 10
      growth_per_year: 0.2
      peak_to_average: 2
      tasks:
        chat:
          requests_per_user_per_day: 20
          prompt_tokens: 1000
          output_tokens: 200
          latency_budget_s: 30
    options:
      - name: big
        kind: api
        api: gpt-4o
        operations_usd_per_year: 100
      - name: mini
        kind: api
        api: gpt-4o-mini
      - name: slm
        kind: self_hosted
        model: qwen2.5-7b
        gpu: l4
        price_usd_per_gpu_hour: 1.0
        throughput_tokens_per_s: 100
        utilization: 0.5
        finetune_usd: 730
        amortization_years: 2
      - name: hyb
        kind: hybrid
        small: slm
        large: big
        small_share: 0.5
        escalation_rate: 0.2
        router_usd_per_request: 0.001
      - name: hyb_api
        kind: hybrid
        small: mini
        large: big
        small_share: 0.5
        escalation_rate: 0.2
        router_usd_per_request: 0.001
    """
)


@pytest.fixture(scope="module")
def small():
    return ent.parse_scenario(SMALL, "small.yaml")


# ---------------------------------------------------------------- hand-worked values

def test_annual_requests_hand_worked(small):
    # 10 users x 20 requests x 250 days x (1 + 0.2 / 2) mean growth = 55,000 requests
    r = ent.annual_cost(small)
    assert r.annual_requests == pytest.approx(55_000)
    # peak: 10 users x 1.2 (end of year) x 20 / (10 h x 3600 s) x 2 = 0.01333 requests/s
    assert r.peak_requests_per_s == pytest.approx(10 * 1.2 * 20 / 36_000 * 2)


def test_api_option_hand_worked(small):
    # GPT-4o list price $2.50 in / $10 out per 1M tokens: 1000 x 2.5e-6 + 200 x 1e-5 = $0.0045 a request
    o = ent.annual_cost(small).options["big"]
    assert o.components_usd["inference"] == pytest.approx(55_000 * 0.0045)  # 247.50
    assert o.annual_usd == pytest.approx(247.5 + 100)
    assert o.monthly_usd == pytest.approx(347.5 / 12)
    assert o.usd_per_request == pytest.approx(347.5 / 55_000)


def test_self_hosted_hand_worked(small):
    # load 0.0133 req/s x 200 tokens = 2.7 tok/s < 100 x 0.5: one replica (the minimum), 24 h x 365 d x $1
    o = ent.annual_cost(small).options["slm"]
    assert o.gpus == 1
    assert o.components_usd["inference"] == pytest.approx(8_760)
    assert o.components_usd["finetune"] == pytest.approx(730 / 2)
    assert o.annual_usd == pytest.approx(8_760 + 365)


def test_self_hosted_sized_from_peak(small):
    # 1,000 users: 1000 x 1.2 x 20 / 36000 x 2 = 1.333 req/s x 200 = 266.7 tok/s; / (100 x 0.5) = 5.33 -> 6 GPUs
    t = ent.evaluate(small, {"users": 1000.0})["slm"]
    assert float(t["gpus"]) == 6
    assert float(t["inference"]) == pytest.approx(6 * 8_760)


def test_hybrid_hand_worked(small):
    # small model: one GPU (it carries 50% of the load); large: (1 - 0.5 + 0.5 x 0.2) = 60% of 55,000 at $0.0045;
    # router: 55,000 x $0.001
    o = ent.annual_cost(small).options["hyb"]
    assert o.components_usd["inference"] == pytest.approx(8_760)
    assert o.components_usd["large_routed"] == pytest.approx(0.5 * 55_000 * 0.0045)
    assert o.components_usd["large_escalated"] == pytest.approx(0.1 * 55_000 * 0.0045)
    assert o.components_usd["router"] == pytest.approx(55.0)
    assert o.annual_usd == pytest.approx(8_760 + 365 + 0.6 * 247.5 + 55 + 100)  # + the large API's operations


def test_hybrid_api_matches_routing_formula(small):
    mini = get_api_price("gpt-4o-mini").cost_usd(1000, 200)  # 1000 x 0.15e-6 + 200 x 0.6e-6 = $0.00027
    assert mini == pytest.approx(0.00027)
    expected = routing.hybrid_cost(55_000, 0.5, mini, 0.0045, escalation_rate=0.2, router_usd_per_request=0.001)
    o = ent.annual_cost(small).options["hyb_api"]
    assert o.annual_usd == pytest.approx(expected + 100)  # + the large API's own operations
    # break-even share: s* = r / (c_l (1 - e) - c_s) = 0.001 / (0.0045 x 0.8 - 0.00027) = 0.3003
    s_star = routing.break_even_share(mini, 0.0045, escalation_rate=0.2, router_usd_per_request=0.001)
    assert s_star == pytest.approx(0.001 / (0.0036 - 0.00027))
    assert ent.break_even_share(small, "hyb_api") == pytest.approx(s_star, abs=1e-3)


def test_per_task_costs_add_up(small):
    r = ent.annual_cost(small)
    for o in r.options.values():
        total = sum(o.usd_per_request_by_task[t] * r.requests_by_task[t] for t in r.requests_by_task)
        assert total == pytest.approx(o.annual_usd)


# ---------------------------------------------------------------- routing

def test_routing_hand_values():
    assert routing.large_share(0.8, 0.1) == pytest.approx(0.28)
    # 0.5 x (0.001 + 0.1 x 0.01) + 0.5 x 0.01 + 0.0005 = 0.0065 per request
    assert routing.hybrid_cost(1000, 0.5, 0.001, 0.01, escalation_rate=0.1, router_usd_per_request=0.0005) == pytest.approx(6.5)
    assert routing.break_even_share(0.001, 0.01, escalation_rate=0.1, router_usd_per_request=0.0005) == pytest.approx(0.0625)
    # small attempt plus wasted escalations cost more than a large answer: no share wins
    assert routing.break_even_share(0.009, 0.01, escalation_rate=0.2) == np.inf
    # fixed cost spread over the requests: (0 + 100 / 10,000) / (0.01 - 0.002) = 1.25 > 1: never within [0, 1]
    assert routing.break_even_share(0.002, 0.01, fixed_usd=100, requests=10_000) == np.inf
    assert routing.break_even_share(0.002, 0.01, fixed_usd=40, requests=10_000) == pytest.approx(0.5)
    assert routing.tiered_cost(100, [0.25, 0.75], [0.004, 0.001]) == pytest.approx(0.175)


def test_routing_at_break_even_costs_the_same():
    s = routing.break_even_share(0.001, 0.01, escalation_rate=0.15, router_usd_per_request=0.0007)
    assert routing.hybrid_cost_per_request(s, 0.001, 0.01, escalation_rate=0.15, router_usd_per_request=0.0007) == pytest.approx(0.01)


def test_routing_rejects_bad_share():
    with pytest.raises(InputError, match="small_share"):
        routing.hybrid_cost(10, 1.5, 0.001, 0.01)
    with pytest.raises(InputError, match="escalation_rate"):
        routing.large_share(0.5, -0.1)


# ---------------------------------------------------------------- properties

def test_more_requests_never_cost_less(small):
    grid = np.geomspace(0.01, 200, 400)
    totals = ent.sweep(small, "volume_scale", grid)
    for name, t in totals.items():
        assert np.all(np.diff(np.broadcast_to(t, grid.shape)) >= -1e-9), name
    users = ent.sweep(small, "users", np.linspace(1, 5000, 300))
    for name, t in users.items():
        assert np.all(np.diff(np.broadcast_to(t, (300,))) >= -1e-9), name


def test_higher_api_price_never_makes_api_cheaper(small):
    grid = np.linspace(0.1, 5, 200)
    totals = ent.sweep(small, "big.price_multiplier", grid)
    big = np.broadcast_to(totals["big"], grid.shape)
    assert np.all(np.diff(big) > 0)
    others = np.vstack([np.broadcast_to(totals[k], grid.shape) for k in totals if k != "big"])
    cheapest = big <= others.min(axis=0)
    # once it stops being the cheapest it never becomes the cheapest again at a higher price
    if not cheapest.all():
        first_lost = int(np.argmin(cheapest))
        assert not cheapest[first_lost:].any()


def test_break_even_volume_is_a_crossing(small):
    fast = {"slm.throughput_factor": 20.0}  # 100 tok/s x 20 = 2,000 tok/s
    assert np.isnan(ent.break_even_volume(small, "slm", "big"))  # 100 tok/s per GPU never pays off
    # at 2,000 tok/s one GPU carries up to 375x this load: 8,760 + 365 = 247.5 x + 100 at x = 36.5
    x = ent.break_even_volume(small, "slm", "big", values=fast)
    assert x == pytest.approx((8_760 + 365 - 100) / 247.5, rel=1e-3)
    t = ent.sweep(small, "volume_scale", np.array([x * 0.97, x * 1.03]), fast)
    assert t["slm"][0] > t["big"][0] and t["slm"][1] <= t["big"][1]


# ---------------------------------------------------------------- uncertainty

def test_tornado_and_monte_carlo(small):
    d = yaml.safe_load(SMALL)
    d["workload"]["users"] = [5, 10, 20]
    d["options"][0]["price_multiplier"] = [0.5, 1.0, 1.5]
    sc = ent.scenario_from_dict(d)
    rows = ent.sensitivity(sc, "big")
    keys = [r.key for r in rows]
    assert set(keys) == {"users", "big.price_multiplier"}
    users = rows[keys.index("users")]
    # API cost is linear in users: 247.5 x 0.5 + 100 and 247.5 x 2 + 100
    assert users.cost_at_low == pytest.approx(247.5 * 0.5 + 100)
    assert users.cost_at_high == pytest.approx(247.5 * 2 + 100)
    assert rows[0].swing >= rows[1].swing
    mc = ent.monte_carlo(sc, n=4000, seed=0)
    mc2 = ent.monte_carlo(sc, n=4000, seed=0)
    assert mc.p50 == mc2.p50  # fixed seed
    for k in sc.option_names:
        assert mc.p10[k] <= mc.p50[k] <= mc.p90[k]
    assert sum(mc.probability_cheapest.values()) == pytest.approx(1.0)
    # the self-hosted option's inputs are all pinned: its distribution is a point
    assert mc.p10["slm"] == mc.p90["slm"] == pytest.approx(8_760 + 365)


# ---------------------------------------------------------------- scenario files

@pytest.mark.parametrize("name", ent.example_scenarios())
def test_shipped_scenarios_round_trip(name):
    sc = ent.load_scenario(name)
    again = ent.parse_scenario(ent.dump_scenario(sc), "again.yaml")
    assert again == sc
    assert ent.scenario_from_dict(ent.scenario_to_dict(sc)) == sc


def test_small_round_trip(small):
    assert ent.parse_scenario(ent.dump_scenario(small)) == small


def _bad(replace_from: str, replace_to: str) -> str:
    assert replace_from in SMALL
    return SMALL.replace(replace_from, replace_to, 1)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    "text, field, needle",
    [
        (_bad("  users: 10\n", ""), "workload.users", "workload:"),  # missing field: line of its parent
        (_bad("users: 10", "users: -10"), "workload.users", "users: -10"),  # negative volume
        (_bad("requests_per_user_per_day: 20", "requests_per_user_per_day: -1"), "workload.tasks.chat.requests_per_user_per_day", "requests_per_user_per_day: -1"),
        (_bad("small_share: 0.5", "small_share: 1.5"), "options[3].small_share", "small_share: 1.5"),  # share above 1
        (_bad("escalation_rate: 0.2", "escalation_rate: [0.1, 0.2, 1.2]"), "options[3].escalation_rate[2]", "escalation_rate: [0.1"),
        (_bad("gpu: l4", "gpu: h900"), "options[2].gpu", "gpu: h900"),  # unknown GPU
        (_bad("api: gpt-4o\n", "api: gpt-9\n"), "options[0].api", "api: gpt-9"),  # unknown API
        (_bad("model: qwen2.5-7b", "model: qwen-99b"), "options[2].model", "model: qwen-99b"),
        (_bad("  growth_per_year: 0.2", "  growth_per_yaer: 0.2"), "workload.growth_per_yaer", "growth_per_yaer"),  # typo
        (_bad("kind: api\n", "kind: saas\n"), "options[0].kind", "kind: saas"),
        (_bad("users: 10", "users: [20, 10, 30]"), "workload.users", "users: [20"),  # low > mid
        (_bad("users: 10", "users: lots"), "workload.users", "users: lots"),
        (_bad("small: slm", "small: nothing"), "options[3].small", "small: nothing"),
        (_bad("peak_to_average: 2", "peak_to_average: 0.5"), "workload.peak_to_average", "peak_to_average: 0.5"),
        (_bad("utilization: 0.5", "utilization: 0"), "options[2].utilization", "utilization: 0"),
        (_bad("      prompt_tokens: 1000\n", "      prompt_tokens: 1000\n      prompt_tokens: 2000\n"), "workload.tasks.chat.prompt_tokens", "prompt_tokens: 2000"),
    ],
)
def test_invalid_scenarios_name_field_and_line(text, field, needle):
    with pytest.raises(ent.ScenarioError) as info:
        ent.parse_scenario(text, "bad.yaml")
    err = info.value
    assert err.field == field
    assert err.line == _line_of(text, needle)
    assert f"bad.yaml, line {err.line}: {field}" in str(err)


def test_yaml_syntax_error_names_line():
    text = SMALL.replace("  tasks:\n", "  tasks: [\n", 1)
    with pytest.raises(ent.ScenarioError) as info:
        ent.parse_scenario(text, "bad.yaml")
    assert info.value.line is not None and "bad.yaml, line" in str(info.value)


def test_fx_conversion():
    rate = ent.fx_rate("INR")
    assert rate.as_of == "2026-02-05" and rate.per_usd == pytest.approx(90.3957)
    assert ent.to_usd(8000) == pytest.approx(8000 / 90.3957)
    assert ent.fx_rate("INR", as_of="2024-12-31").per_usd == pytest.approx(82.92)
    hours, share = ent.gpu_hours_for_budget(584.0, 0.80)
    assert hours == pytest.approx(730) and share == pytest.approx(1.0)
    with pytest.raises(InputError, match="currency"):
        ent.fx_rate("XYZ")


# ---------------------------------------------------------------- CLI

def test_cli_json(tmp_path, capsys):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    assert main(["enterprise", str(path), "--json", "--samples", "2000"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["annual_requests"] == pytest.approx(55_000)
    assert out["options"]["big"]["annual_usd"] == pytest.approx(347.5)
    assert out["cheapest_at_mid"] == "mini"
    assert out["break_even_small_share"]["hyb_api"] == pytest.approx(0.3003, abs=2e-3)


def test_cli_text(tmp_path, capsys):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    assert main(["enterprise", str(path), "--samples", "2000"]) == 0
    assert "cheapest at mid inputs: mini" in capsys.readouterr().out


@pytest.mark.parametrize("text", [_bad("users: 10", "users: -10"), _bad("gpu: l4", "gpu: h900"), "name: [unclosed\n"])
def test_cli_bad_file_exits_2_with_one_line(tmp_path, capsys, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["enterprise", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.yaml, line" in err


def test_cli_missing_file_exits_2(capsys):
    assert main(["enterprise", "/nonexistent/x.yaml"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_finetune_compute_comes_from_training(small):
    from costlib.finetune import estimate_finetune

    d = yaml.safe_load(SMALL)
    d["options"][2].update(finetune_method="lora", finetune_tokens=50_000_000, finetune_gpu="a100-80gb", finetune_runs_per_year=4)
    sc = ent.scenario_from_dict(d)
    run = estimate_finetune("qwen2.5-7b", "lora", 50_000_000, "a100-80gb").cost_usd
    o = ent.annual_cost(sc).options["slm"]
    # people and data (730 over 2 years) plus four runs' compute at the mid band
    assert o.components_usd["finetune"] == pytest.approx(730 / 2 + 4 * run.mid)
    band = ent.parameters(sc)["slm.finetune_compute_usd_per_year"].band
    assert (band.low, band.high) == pytest.approx((4 * run.low, 4 * run.high))
    assert ent.parse_scenario(ent.dump_scenario(sc)) == sc


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"finetune_method": "dpo", "finetune_tokens": 1000, "finetune_gpu": "a100-80gb"}, "options[2].finetune_method"),
        ({"finetune_method": "lora", "finetune_tokens": 1000, "finetune_gpu": "a900"}, "options[2].finetune_gpu"),
        ({"finetune_method": "lora", "finetune_gpu": "a100-80gb"}, "options[2].finetune_tokens"),
    ],
)
def test_invalid_finetune_fields(extra, field):
    d = yaml.safe_load(SMALL)
    d["options"][2].update(extra)
    with pytest.raises(ent.ScenarioError) as info:
        ent.scenario_from_dict(d, file="x.yaml")
    assert info.value.field == field


def test_serving_profile_is_the_serving_model_at_each_task_target():
    """Fleet sizing reads costlib.serving (continuous batching) at each task's TTFT/TPOT targets: the profile's
    tokens/s = the capacity at those targets (4 significant digits) x the output tokens; the targets hold."""
    from costlib import serving

    sc = ent.load_scenario("sdlc_assistant")
    o = sc.option("slm_l40s")
    prof = ent.serving_profile(o, sc.workload)
    assert prof.source == "costlib.serving"
    for t in sc.workload.tasks:
        p, out = round(t.prompt_tokens.mid), round(t.output_tokens.mid)
        tg = ent.task_targets(t)
        assert (tg.ttft_s, tg.tpot_s) == (t.ttft_s, t.tpot_s)  # the scenario gives both
        pt = serving.capacity_at_slo(o.model, o.gpu, gpus=o.gpus_per_replica, precision=o.precision, engine=o.engine,
                                     prompt_tokens=p, output_tokens=out, ttft_s=t.ttft_s, tpot_s=t.tpot_s)
        assert prof.throughput_tokens_per_s[t.name] == pytest.approx(pt.max_rate_per_replica.mid * out, rel=1e-3)
        assert pt.ttft_s.mid <= t.ttft_s * (1 + 1e-6) and pt.tpot_s.mid <= t.tpot_s * (1 + 1e-6)
        assert prof.binding[t.name] == pt.binding


def test_task_targets_split_a_bare_latency_budget():
    t = ent.TaskType("x", Band.point(1), Band.point(100), Band.point(50), latency_budget_s=2.0)
    tg = ent.task_targets(t)
    assert tg.ttft_s == pytest.approx(0.25 * 2.0)
    assert tg.tpot_s == pytest.approx(0.75 * 2.0 / 50)


def test_reserved_price_derives_from_the_chosen_on_demand_price():
    """The bug of issue 14: with the price slider moved, reserved cost more than on demand. Now reserved = the
    chosen on-demand price x the reserved-1y factor (<= 1) at every price."""
    from costlib.planner import offer_price_factor

    sc = ent.load_scenario("sdlc_assistant")
    f = offer_price_factor("reserved-1y")
    assert f.high <= 1.0
    for price in (0.5, 1.0, 1.95, 4.0):
        v = {"slm_l40s.price_usd_per_gpu_hour": price, "slm_l40s_reserved.price_usd_per_gpu_hour": price}
        tot = ent.evaluate(sc, v)
        od, rs = tot["slm_l40s"], tot["slm_l40s_reserved"]
        assert float(rs["inference"]) == pytest.approx(float(od["inference"]) * f.mid)
        assert float(rs["total"]) <= float(od["total"])
    # the reserved factor is an uncertain input of its own (tornado, Monte Carlo)
    assert "slm_l40s_reserved.offer_price_factor" in ent.parameters(sc)


@pytest.mark.parametrize("written, value", [("1e1", 10.0), ("10", 10.0), ("0.01k", 10.0), ("1e8", 1e8), ("100M", 1e8),
                                            ("2.5k", 2500.0)])
def test_scenario_numbers_accept_quantity_strings(written, value):
    # PyYAML 1.1 reads "1e8" (no dot) as a string: the validator parses it (and "100M") with units.parse_quantity
    sc = ent.parse_scenario(SMALL.replace("users: 10", f"users: {written}", 1), "q.yaml")
    assert sc.workload.users.mid == value
    assert ent.annual_cost(sc).annual_requests == pytest.approx(
        ent.annual_cost(ent.parse_scenario(SMALL, "q.yaml")).annual_requests * value / 10.0)


@pytest.mark.parametrize("written", ["1e8x", "ten", "-1e3"])
def test_scenario_bad_quantity_strings_are_rejected(written):
    with pytest.raises(ent.ScenarioError) as info:
        ent.parse_scenario(SMALL.replace("users: 10", f"users: {written}", 1), "bad.yaml")
    assert info.value.field == "workload.users"


def test_option_summary_matches_annual_cost(small):
    rows, cheapest = ent.option_summary(small)
    res = ent.annual_cost(small)
    assert [r["label"] for r in rows] == [o.label for o in res.options.values()]
    for r, o in zip(rows, res.options.values()):
        assert r["annual_usd"] == o.annual_usd and r["monthly_usd"] == pytest.approx(o.annual_usd / 12)
        assert r["usd_per_1k_requests"] == pytest.approx(1000 * o.annual_usd / res.annual_requests)
    assert cheapest == min(rows, key=lambda r: r["annual_usd"])["label"]
