"""Section 2 of `make bench`: costlib's vectorized sweeps at 1e4, 1e5 and 1e6 scenarios.

Scenarios per second (median of repeats), peak traced memory, and a cProfile of any sweep below
the 1e6/s goal. The serving-capacity sweep (costlib.serving.capacity_sweep: the capacity at a
service level of a continuously batched server, TTFT and TPOT targets as arrays) is reported "not
available" while costlib.serving or the function does not exist.
"""
from __future__ import annotations

from bench.common import GOAL_SCENARIOS_PER_S, NotAvailable, fmt_bytes, log, peak_bytes, profile_top, time_call


def _sweeps():
    """name -> (what it evaluates, builder(n) returning a zero-argument call that does n scenarios)."""
    import numpy as np

    def training(n):
        try:
            from costlib.training import gpu_hours, training_flops
        except ImportError as exc:
            raise NotAvailable(f"costlib.training: {exc}")
        rng = np.random.default_rng(0)
        params, tokens = rng.uniform(1e8, 1e11, n), rng.uniform(1e10, 2e13, n)

        def call():
            band = gpu_hours(training_flops(params, tokens), "h100-sxm", "bf16")  # calibrated MFU band
            assert np.shape(band.mid) == (n,)
            return band
        return call

    def inference(n):
        try:
            from costlib.inference import decode_step_time_s, prefill_time_s
        except ImportError as exc:
            raise NotAvailable(f"costlib.inference: {exc}")
        rng = np.random.default_rng(0)
        batch, prompt, out = rng.integers(1, 65, n), rng.integers(128, 4097, n), rng.integers(16, 1025, n)

        def call():
            ttft = prefill_time_s("llama-3.1-8b", "h100-sxm", "bf16", batch, prompt)
            tpot = decode_step_time_s("llama-3.1-8b", "h100-sxm", "bf16", batch, prompt + out / 2.0)
            latency = ttft + (out - 1) * tpot
            assert np.shape(latency) == (n,)
            return latency
        return call

    def memory(n):
        try:
            from costlib.memory import fits, inference_memory
        except ImportError as exc:
            raise NotAvailable(f"costlib.memory: {exc}")
        rng = np.random.default_rng(0)
        context, batch = rng.integers(256, 131_073, n), rng.integers(1, 65, n)

        def call():
            ok = fits(inference_memory("llama-3.1-8b", "bf16", context, batch), "a100-80gb")
            assert np.shape(ok) == (n,)
            return ok
        return call

    def enterprise(n):
        try:
            from costlib.enterprise import example_scenarios, load_scenario, monte_carlo, SCENARIO_DIR
        except ImportError as exc:
            raise NotAvailable(f"costlib.enterprise: {exc}")
        names = example_scenarios()
        if not names:
            raise NotAvailable("no example scenario shipped")
        sc = load_scenario(SCENARIO_DIR / f"{names[0]}.yaml")

        def call():
            mc = monte_carlo(sc, n=n, seed=0)
            return mc
        return call

    def api_cost(n):
        from costlib.prices import get_api_price
        rng = np.random.default_rng(0)
        i = rng.uniform(1e2, 1e5, n)
        o, c = rng.uniform(1e1, 1e4, n), i * rng.uniform(0, 1, n)
        price = get_api_price("gpt-4o-mini")
        return lambda: price.cost_usd(i, o, c)

    def serving_capacity(n):
        try:
            from costlib import serving
        except ImportError as exc:
            raise NotAvailable(f"costlib.serving: {exc}")
        sweep = getattr(serving, "capacity_sweep", None)
        if sweep is None:
            raise NotAvailable("costlib.serving has no capacity_sweep (the vectorized capacity-at-SLO sweep)")
        rng = np.random.default_rng(0)
        ttft, tpot = rng.uniform(0.05, 3.0, n), rng.uniform(0.008, 0.1, n)

        def call():
            rate, binding = sweep("llama-3.1-8b", "h100-sxm", prompt_tokens=1000, output_tokens=250, ttft_s=ttft,
                                  tpot_s=tpot)
            assert np.shape(rate) == (n,)
            return rate, binding
        return call

    return {
        "serving capacity at a service level": ("capacity_sweep: llama-3.1-8b on h100-sxm, vllm, 1000/250 tokens, TTFT x TPOT "
                                                "targets -> max requests/s (continuous batching)", serving_capacity),
        "training (FLOPs + GPU-hour band)": ("training_flops + gpu_hours: params x tokens on h100-sxm, calibrated MFU band", training),
        "inference (TTFT + TPOT + latency)": ("prefill_time_s + decode_step_time_s: llama-3.1-8b, batch x prompt x output", inference),
        "memory fit": ("inference_memory + fits: llama-3.1-8b bf16, context x batch on a100-80gb", memory),
        "enterprise Monte Carlo": ("monte_carlo(sdlc_assistant, n samples): annual cost of every option", enterprise),
        "API cost (foundation)": ("ApiPrice.cost_usd with cached input: gpt-4o-mini", api_cost),
    }



def section_sweeps(sizes) -> dict:
    res = {"rows": [], "profiles": {}}
    for name, (what, build) in _sweeps().items():
        row = {"name": name, "what": what, "by_n": {}}
        for n in sizes:
            try:
                call = build(n)
                secs, reps = time_call(call, warm_up=n == sizes[0])
                peak = peak_bytes(call)
                row["by_n"][n] = {"s": secs, "rate": n / secs, "peak": peak, "repeats": reps}
                log(f"sweep {name} n={n:.0e}: {secs:.3f} s, {n / secs:.3g}/s, peak {fmt_bytes(peak)}")
            except NotAvailable as exc:
                row["na"] = str(exc)
                break
            except Exception as exc:  # a costlib error is a finding, not a crash of the bench
                row["na"] = f"error: {type(exc).__name__}: {exc}"
                break
        res["rows"].append(row)
        largest = max(row["by_n"]) if row["by_n"] else None
        if largest and row["by_n"][largest]["rate"] < GOAL_SCENARIOS_PER_S:
            try:
                res["profiles"][name] = profile_top(build(min(largest, 100_000)))
            except Exception as exc:
                res["profiles"][name] = [f"profile failed: {exc}"]
    return res

