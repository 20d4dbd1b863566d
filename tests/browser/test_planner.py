"""The published planner (costlib.present.explore_planner on the budget-memo page) shows what the CLI computes.

A seeded sample of >= 50 input combinations is set on the page in Chromium; for each, ``python -m costlib plan
... --json`` runs with the same inputs and every number the page shows (GPUs per replica, GPUs at peak mid / low /
high, $ per month mid / low / high, $ per 1K requests, binding constraint, each API row) must equal the CLI's to
the digit shown. A setup the CLI reports as unable to serve must show "cannot serve" on the page.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ROOT
from pageprobe import open_page

PAGE = "notebooks/01a_budget_memo.html"
N_CASES = 52
ROOT_SEL = ".costlib-planner"


def _data(page):
    return page.eval_on_selector(ROOT_SEL, "r => JSON.parse(r.querySelector('script.pl-data').textContent)")


def _cases(data, n, seed=14):
    rng = random.Random(seed)
    out = []
    # a few anchors a reader would try first, then random combinations (bias to setups that can serve)
    anchors = [("llama-3.2-3b", "l4"), ("llama-3.1-8b", "l40s"), ("llama-3.1-70b", "h100-sxm"), ("qwen3-30b-a3b", "h100-sxm"),
               ("gpt-oss-120b", "h200"), ("llama-3.1-405b", "b200"), ("qwen2.5-7b", "mi300x")]
    for i in range(n):
        if i < len(anchors) and anchors[i][0] in data["models"]:
            model, gpu = anchors[i]
        else:
            model, gpu = rng.choice(data["models"]), rng.choice(data["gpus"])
        gi = data["gpus"].index(gpu)
        out.append({
            "model": model, "gpu": gpu, "precision": rng.choice(data["precisions"]), "engine": rng.choice(data["engines"]),
            "prompt": rng.choice(data["prompts"]), "output": rng.choice(data["outputs"]),
            "preset": rng.randrange(len(data["presets"])),
            "rpd": rng.choice([300, 5_000, 86_000, 250_000, 1_000_000, 12_345_678]),
            "pf": rng.choice([1, 2, 3.5]), "hours": rng.choice([24, 10, 8]), "days": rng.choice([365, 250]),
            "price": round(data["gpu_price"][gi] * rng.choice([1.0, 0.6, 1.3]), 2),
            "offer": rng.choice(data["offers"]), "util": rng.choice([0.8, 0.5, 1.0]),
            "cached": rng.choice([0.0, 0.3]),
        })
    return out


def _set(page, case):
    sel = lambda k: f"{ROOT_SEL} [data-k='{k}']"  # noqa: E731
    page.select_option(sel("gpu"), case["gpu"])  # first: a GPU change resets the price field to its median
    for k in ("model", "precision", "engine", "offer"):
        page.select_option(sel(k), case[k])
    page.select_option(sel("prompt"), str(case["prompt"]))
    page.select_option(sel("output"), str(case["output"]))
    page.select_option(sel("preset"), str(case["preset"]))
    page.select_option(sel("hours"), str(case["hours"]))
    page.select_option(sel("days"), str(case["days"]))
    page.select_option(sel("cached"), str(case["cached"]) if case["cached"] else "0.0")
    for k, v in (("rpd", case["rpd"]), ("pf", case["pf"]), ("price", case["price"]), ("util", case["util"])):
        page.fill(sel(k), str(v))


def _shown(page):
    return page.eval_on_selector(ROOT_SEL, """r => ({
        self: Object.fromEntries(Array.from(r.querySelectorAll('tr[data-row="self"] [data-f]')).map(td => [td.dataset.f, td.textContent])),
        apis: Array.from(r.querySelectorAll('tr[data-row="api"]')).map(tr => ({
            month: tr.querySelector('[data-f="month"]').textContent, per1k: tr.querySelector('[data-f="per1k"]').textContent})),
        cmd: r.querySelector('.pl-cmd code').textContent,
        error: r.querySelector('.pl-error').hidden ? null : r.querySelector('.pl-error').textContent})""")


def _cli(case, data, tt, tp):
    args = [sys.executable, "-m", "costlib", "plan", "--requests-per-day", str(case["rpd"]),
            "--prompt-tokens", str(case["prompt"]), "--output-tokens", str(case["output"]),
            "--ttft-ms", f"{tt:g}", "--tpot-ms", f"{tp:g}", "--peak-factor", str(case["pf"]),
            "--active-hours", str(case["hours"]), "--active-days", str(case["days"]),
            "--max-utilization", str(case["util"]), "--cached-share", str(case["cached"]),
            "--gpu-price", f"{case['gpu']}={case['price']}", "--samples", "50",
            "--option", f"self:{case['model']}@{case['gpu']}:{case['precision']}:{case['engine']}:{case['offer']}"]
    for a in data["apis"]:
        args += ["--option", f"api:{a['id']}"]
    out = subprocess.run(args + ["--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


_NUM = re.compile(r"[-\d,.]+")


def _numbers(text):
    return [float(x.replace(",", "")) for x in _NUM.findall(text) if re.search(r"\d", x)]


def _close(shown: float, value: float, text: str):
    """Equal to the digit shown: |shown - value| <= half a unit of the last digit shown."""
    dec = len(text.split(".")[1]) if "." in text else 0
    assert abs(shown - value) <= 0.5 * 10 ** -dec + 1e-9 * abs(value), (text, value)


def _band_check(text, band):
    nums = _numbers(text)
    if band["low"] == band["high"]:
        assert len(nums) == 1
        _close(nums[0], band["mid"], text)
    else:
        assert len(nums) == 3, text
        for x, key in zip(nums, ("mid", "low", "high")):
            _close(x, band[key], text)


@pytest.fixture(scope="module")
def planner_page(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    report = open_page(page, base_url + PAGE, base_url)
    assert not report.page_errors and not report.external_requests, report
    assert page.locator(ROOT_SEL).count() >= 1, "no planner on the budget-memo page"
    yield page
    context.close()


def test_planner_page_matches_the_cli(planner_page):
    page = planner_page
    data = _data(page)
    cases = _cases(data, N_CASES)
    assert len(cases) >= 50
    served = 0
    # The CLI runs (fresh processes) go on two at a time while the page is driven: the same runs, checked in order.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(_cli, case, data, *data["presets"][case["preset"]]) for case in cases]
        for case, run in zip(cases, runs):
            served += _check_case(page, data, case, run.result())
    assert served >= 25, f"only {served} of {len(cases)} sampled setups can serve: widen the sample"


def _check_case(page, data, case, cli) -> int:
    """Set ``case`` on the page and compare what it shows with the CLI's answer; 1 if the setup can serve."""
    served = 0
    _set(page, case)
    shown = _shown(page)
    assert shown["error"] is None, (case, shown["error"])
    by = {o["name"]: o for o in cli["options"]}
    self_o = next(o for o in cli["options"] if o["kind"] == "self_hosted")
    s = shown["self"]
    if not self_o["feasible"]:
        assert s["month"].startswith("cannot serve"), (case, s, self_o["reason"])
    else:
        served += 1
        assert int(s["k"]) == self_o["gpus_per_replica"], case
        _band_check(s["gpus"], self_o["gpus"])
        _band_check(s["month"].replace("$", ""), self_o["monthly_usd"])
        _close(_numbers(s["per1k"])[0], self_o["usd_per_1k_requests"]["mid"], s["per1k"].replace("$", ""))
        assert s["binding"] == self_o["binding"], case
    for a, row in zip(data["apis"], shown["apis"]):
        o = by[f"api:{a['id']}"]
        _close(_numbers(row["month"])[0], o["monthly_usd"]["mid"], row["month"].replace("$", ""))
        _close(_numbers(row["per1k"])[0], o["usd_per_1k_requests"]["mid"], row["per1k"].replace("$", ""))
    assert f"--requests-per-day {case['rpd']}" in shown["cmd"]
    return served
