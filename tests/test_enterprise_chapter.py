"""The enterprise chapter and the budget memo (costlib.book.enterprise_chapter / memo_chapter and their figures)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from costlib import enterprise as ent  # noqa: E402
from costlib import planner as pl  # noqa: E402
from costlib.book import enterprise_chapter as ec  # noqa: E402
from costlib.book import enterprise_figures as ef  # noqa: E402
from costlib.book import memo_chapter as mc  # noqa: E402
from costlib.book import memo_figures as mf  # noqa: E402
from costlib.book.claims import CHAPTER_CLAIMS  # noqa: E402
from costlib.prices import api_tiers, get_api_price  # noqa: E402
from costlib.present.report import SNAKE_CASE, exhibit_table, small_text  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ current API tiers (issue 15)
def test_scenarios_compare_against_current_tiers():
    tiers = api_tiers()
    assert ec.LARGE_API in tiers["large"] and ec.SMALL_API in tiers["small"]
    # the successors of the superseded 2024 rows the chapter used before
    assert get_api_price("gpt-4o").successor == ec.LARGE_API
    assert get_api_price("gpt-4o-mini").successor == ec.SMALL_API
    for name in (ec.REFERENCE, ec.SEED001, ec.SEED000):
        apis = [o.api for o in ec.scenario(name).options if isinstance(o, ent.ApiOption)]
        assert sorted(apis) == sorted([ec.LARGE_API, ec.SMALL_API]), name
        assert all(get_api_price(a).is_current for a in apis)
        assert not re.search(r"^\s*api: gpt-4o", (ent.SCENARIO_DIR / f"{name}.yaml").read_text(), re.M)
    assert all(get_api_price(a).is_current for a in ec.COMPARED_APIS)


def test_chapter_does_not_compare_against_superseded_offers():
    nb = json.loads((REPO / "notebooks" / "06_enterprise.ipynb").read_text())
    texts = ["".join(c["source"]) for c in nb["cells"]]
    # GPT-4o is named only in the introduction, where the prose says which current tier replaced it
    assert re.findall(r"gpt-4o", texts[0], re.I)
    assert not [i for i, t in enumerate(texts[1:], 1) if re.search(r"gpt-4o", t, re.I)]


def test_api_note_names_tier_price_and_date():
    note = ec.api_note(ec.LARGE_API)
    p = get_api_price(ec.LARGE_API)
    assert "large tier" in note and p.as_of in note and f"${p.output_usd_per_1m:g} out" in note


# ------------------------------------------------------------------ seed 001
def test_seed001_scenario_reproduces_the_seeds_llm_inference_line():
    # the scenario's users are chosen so that the large API's inference is the seed's "$300K+" (within 5%)
    df = ec.seed001_frame().set_index("line")
    assert df.loc["LLM-only: inference", "this model (USD/year)"] == pytest.approx(300_000, rel=0.05)
    # the seed's own fixed costs are carried over unchanged
    for line, usd in (("LLM-only: infrastructure (input)", 80_000), ("SLM-first: infrastructure (input)", 20_000)):
        assert df.loc[line, "this model (USD/year)"] == pytest.approx(usd)


def test_seed001_totals_are_the_sum_of_their_lines():
    df = ec.seed001_frame().set_index("line")
    v = df["this model (USD/year)"]
    assert v["LLM-only: total"] == pytest.approx(v["LLM-only: inference"] + v["LLM-only: infrastructure (input)"])
    assert v["SLM-first: total"] == pytest.approx(v["SLM-first: fine-tuning (input)"] + v["SLM-first: inference (7B on L40S, on demand)"]
                                                  + v["SLM-first: infrastructure (input)"])
    assert (df["model / seed"] == df["this model (USD/year)"] / df["seed 001 (USD/year)"]).all()


def test_saving_grows_with_volume_against_an_api():
    devs, curves = ec.saving_curves()
    s = curves[("reference", "slm_l40s")]
    assert s[-1] > s[0] and s.max() < 1.0
    df = ec.saving_frame()
    assert (df["best saving (%)"] <= 100).all()


def test_chapter_claims_are_the_audit_rows():
    assert set(ec.SEED001_CLAIMS + ec.SEED000_CLAIMS) == set(CHAPTER_CLAIMS["enterprise"])


# ------------------------------------------------------------------ reference assistant
def test_totals_are_the_components_and_monthly_is_a_twelfth():
    tot = ec.totals_frame().set_index("option")
    comp = ec.components_frame().set_index("option")
    assert np.allclose(comp.sum(axis=1), tot["annual cost (USD)"])
    assert np.allclose(tot["monthly cost (USD)"] * 12, tot["annual cost (USD)"])


def test_fleet_is_sized_with_the_serving_model_of_the_planner():
    """Issue 13: the chapter sizes fleets with costlib.serving through the planner (one serving model)."""
    sc = ec.scenario()
    o = sc.option("slm_l40s")
    prof = ent.serving_profile(o, sc.workload)
    for t in sc.workload.tasks:
        p, out = round(t.prompt_tokens.mid), round(t.output_tokens.mid)
        cap = pl.replica_capacity(o.model, o.gpu, o.gpus_per_replica, o.precision, o.engine, ((t.name, p, out),),
                                  ent.task_targets(t))
        assert prof.throughput_tokens_per_s[t.name] == pytest.approx(float(cap.rate_per_replica[t.name].mid) * out)


def test_reserved_is_never_dearer_than_on_demand_at_any_price():
    for price in (0.4, 1.2, 3.0):
        df, _ = ec.what_if_frame(ec.what_if_values(500, 150, 1.0, price, 0.8, 0.1))
        a = df.set_index("option")["annual cost (USD)"]
        sc = ec.scenario()
        assert a[sc.option("slm_l40s_reserved").label] <= a[sc.option("slm_l40s").label]


def test_worked_problem_two_saving_is_the_gpu_line_times_the_discount():
    # same GPUs on both offers, so the difference is GPUs x price x (1 - factor) x 24 h x 365 d
    n = ec.worked_numbers()
    r = ent.annual_cost(ec.scenario(), {"slm_l40s.price_usd_per_gpu_hour": ec.WORKED_GPU_PRICE,
                                        "slm_l40s_reserved.price_usd_per_gpu_hour": ec.WORKED_GPU_PRICE})
    gpus = r.options["slm_l40s"].gpus
    assert gpus == r.options["slm_l40s_reserved"].gpus
    expected = gpus * ec.WORKED_GPU_PRICE * (1 - n["wp6_factor"]) * 24 * 365
    assert n["wp6_saved"] == pytest.approx(expected, rel=0.01)


def test_hybrid_break_even_matches_the_closed_form():
    n = ec.hybrid_numbers()
    assert abs(n["h_be_api_10"] - n["h_be_api_closed"]) <= 1.0


# ------------------------------------------------------------------ seed 000
def test_single_l4_budget_arithmetic():
    s = ec.single_l4()
    assert s.l4_month_usd == pytest.approx(s.l4_usd_per_hour * 730)
    for b, h, share in zip(s.budget_usd, s.gpu_hours, s.month_share):
        assert h == pytest.approx(b / s.l4_usd_per_hour) and share == pytest.approx(h / 730)
    fx = ent.fx_rate("INR")
    assert s.budget_usd[1] == pytest.approx(25_000 / fx.per_usd)
    # one L4 serves the seed-000 team, and fewer developers than the search's upper end
    assert ec.scenario(ec.SEED000).workload.users.mid <= s.max_users < ec.SEED000_MAX_USERS


# ------------------------------------------------------------------ words, not ids
def test_labels_are_words():
    assert ec.in_words("slm_l40s: on-demand $/GPU-hour") == ec.scenario().option("slm_l40s").label + ": on-demand $/GPU-hour"
    assert ec.developers_text(float("nan"), none="never") == "never"
    assert ec.developers_text(1234.0, none="never") == "about 1,200 developers"
    for df in (ec.tornado_frame(), ec.assumptions_frame(), ec.breakeven_volume_frame(), ec.monte_carlo_frame()):
        cells = [str(v) for v in df.to_numpy().ravel()]
        assert not [v for v in cells if re.search(r"\b(slm_l40s|slm_l4|llm_api|small_api|hybrid_api)\b", v)]
    for df in (ec.totals_frame(), ec.components_frame(), ec.workload_frame(), mc.options_frame()):
        html = exhibit_table(df, "t").to_html() if hasattr(exhibit_table(df, "t"), "to_html") else exhibit_table(df, "t").data
        assert not re.findall(r"<th[^>]*>\s*([a-z0-9]+(?:_[a-z0-9]+)+)\s*</th>", html)


def test_chapter_numbers_are_finite_or_text():
    for k, v in ec.chapter_numbers().items():
        assert isinstance(v, str) or np.isfinite(v), k


# ------------------------------------------------------------------ figures legible at displayed size (issue 18)
@pytest.mark.parametrize("make", [ef.saving_figure, ef.reference_figure, ef.hybrid_figure, ef.volume_figure,
                                  ef.tornado_figure, ef.monte_carlo_figure, mf.breakeven_figure, mf.flip_figure],
                         ids=lambda f: f.__name__)
def test_figures_read_at_displayed_size(make):
    import matplotlib.pyplot as plt

    fig = make()
    try:
        assert small_text(fig) == []
        legends = [a.get_legend() for a in fig.axes if a.get_legend() is not None]
        for leg in legends:
            assert min(t.get_fontsize() for t in leg.get_texts()) >= 7.8  # 10 px at 7.3 in shown in 672 px
    finally:
        plt.close(fig)


# ------------------------------------------------------------------ the budget memo
def test_memo_glues_every_key_the_key_numbers_page_quotes():
    text = (REPO / "book" / "key-numbers.md").read_text()
    wanted = set(re.findall(r"01a_budget_memo\.ipynb::(\w+)", text))
    have = set(mc.memo_numbers()) | set(mc.key_numbers())
    assert wanted and wanted <= have, sorted(wanted - have)


def test_memo_break_even_is_consistent_with_the_monthly_costs():
    devs, curves = mc.monthly_curves()
    case = mc.memo_case()
    df = mc.breakeven_frame()
    for _, row in df[df["self-hosted is cheaper"] == "above"].iterrows():
        d = row["developers"]
        i = int(np.searchsorted(devs, d * 1.2))
        if i >= len(devs) or row["key"] not in curves or row["api"] not in curves:
            continue
        s = np.broadcast_to(curves[row["key"]].mid, devs.shape)[i]
        a = np.broadcast_to(curves[row["api"]].mid, devs.shape)[i]
        assert s <= a * 1.001, (row["key"], row["api"], d, case.developers)


def test_memo_options_frame_lists_every_option_with_its_cost():
    df = mc.options_frame()
    assert len(df) == len(mc.memo_case().options)
    served = df.dropna(subset=["USD per month (mid)"])
    assert (served["low"] <= served["USD per month (mid)"]).all() and (served["USD per month (mid)"] <= served["high"]).all()
