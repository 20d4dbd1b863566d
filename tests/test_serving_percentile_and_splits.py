"""TTFT at a stated percentile (equation 5 of costlib.serving: M/D/1 wait with an exponential tail)."""
import json
import math

import numpy as np
import pytest

from costlib import serving as sv
from costlib.cli import main
from costlib.errors import InputError


def test_hand_worked_quantile():
    # own prefill 100 ms, prefill budget busy half the time (rho 0.5), p90:
    # W_0.9 = 0.1 / (2 x 0.5) x ln(0.5 / 0.1) = 0.1 ln 5 = 0.16094 s
    assert sv.ttft_quantile_s(0.1, 0.5, 0.9) == pytest.approx(0.1 + 0.1 * math.log(5.0), rel=1e-12)
    # light load: 95% of arrivals find the budget free, so the p90 request does not wait
    assert sv.ttft_quantile_s(0.1, 0.05, 0.9) == pytest.approx(0.1, rel=1e-12)


def test_the_tail_has_the_pollaczek_khinchine_mean():
    """Averaging the quantile function over q in (0, 1) gives E[W] = rho own / (2 (1 - rho))."""
    own, rho = 0.08, 0.7
    q = (np.arange(200000) + 0.5) / 200000
    waits = sv.ttft_quantile_s(own, rho, q) - own
    assert waits.mean() == pytest.approx(rho * own / (2 * (1 - rho)), rel=2e-3)


KW = dict(gpus=1, precision="fp8", engine="tensorrt-llm", prompt_tokens=4000, output_tokens=50, tpot_s=1.0)


def test_a_higher_percentile_never_raises_capacity():
    """Long prompts on an L4 with a 1 s TTFT target: TTFT binds, and a p99 target admits far less load."""
    caps = [sv.capacity_at_slo("llama-3.1-8b", "l4", ttft_s=1.0, ttft_percentile=p, **KW)
            for p in (50, 90, 99, 99.9)]
    mids = [c.max_rate_per_replica.mid for c in caps]
    assert all(a >= b for a, b in zip(mids, mids[1:])) and mids[0] > 2 * mids[2]
    mean = sv.capacity_at_slo("llama-3.1-8b", "l4", ttft_s=1.0, **KW)
    assert mean.binding == caps[2].binding == "ttft" and caps[2].max_rate_per_replica.mid < mean.max_rate_per_replica.mid
    assert caps[2].ttft_statistic == "p99" and caps[2].ttft_mean_s is not None
    # at its own capacity a TTFT-bound point sits on its target, and its mean is below it
    assert caps[2].ttft_s.mid == pytest.approx(1.0, rel=1e-3)
    assert caps[2].ttft_mean_s.mid < caps[2].ttft_s.mid


def test_mean_is_the_default():
    a = sv.capacity_at_slo("llama-3.1-8b", "l4", ttft_s=1.0, **KW)
    assert a.ttft_statistic == "mean" and a.ttft_mean_s is None


@pytest.mark.parametrize("bad", [0, 100, 150, -5])
def test_bad_percentile(bad):
    with pytest.raises(InputError, match="ttft_percentile"):
        sv.capacity_at_slo("llama-3.1-8b", "l4", ttft_s=1.0, ttft_percentile=bad, **KW)


def test_cli_flag(capsys):
    args = ["serve", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "fp8", "--prompt-tokens", "2000",
            "--output-tokens", "200", "--ttft-ms", "300", "--tpot-ms", "200", "--ttft-percentile", "99", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ttft_statistic"] == "p99" and out["ttft_mean_s"]["mid"] <= out["ttft_s"]["mid"]
    assert main(args[:-3] + ["--ttft-percentile", "100"]) == 2


# --------------------------------------------------------------------------------------------
# Pipeline / layer split (serving.SPLITS)
# --------------------------------------------------------------------------------------------
from costlib import inference as inf  # noqa: E402

PKW = dict(precision="gguf-q4_k_m", engine="llama.cpp-cuda", prompt_tokens=512, output_tokens=256)


def _c(gpus, split):
    return sv._setup("llama-3.1-8b", "rtx-4090", gpus, PKW["precision"], PKW["engine"], 512, 256, None, None, split)[-1]


def test_pipeline_lone_stream_is_not_faster_by_hand():
    """A lone stream's step on k stages = the one-GPU step + (k - 1) hand-offs of one token's activations:
    PIPELINE_HOP_S + d_model x 2 bytes over half the 64 GB/s (PCIe) of an RTX 4090."""
    one = sv.state_at_rate(_c(1, "tensor"), 0.0, 0.7, 0.6)["tpot_s"]
    hop = sv.PIPELINE_HOP_S + 4096 * 2 / (64e9 / 2)
    for k in (2, 4):
        t = sv.state_at_rate(_c(k, "pipeline"), 0.0, 0.7, 0.6)["tpot_s"]
        assert t == pytest.approx(one + (k - 1) * hop, rel=1e-9)
    # tensor parallelism does make the lone stream faster (each GPU reads half the weights)
    assert sv.state_at_rate(_c(2, "tensor"), 0.0, 0.7, 0.6)["tpot_s"] < one


def test_pipeline_divides_memory_per_gpu():
    one, two = _c(1, "tensor"), _c(2, "pipeline")
    assert two.kv_cap > 2 * one.kv_cap  # half the weights and half of every sequence's cache per GPU
    # 70B at ~4.85 bits (43 GB) does not fit one 24 GiB card but fits two as a layer split
    kw = dict(PKW, ttft_s=5.0, tpot_s=0.2)
    assert not sv.capacity_at_slo("llama-3.1-70b", "rtx-4090", gpus=1, **kw).feasible
    two70 = sv.capacity_at_slo("llama-3.1-70b", "rtx-4090", gpus=2, split="pipeline", **kw)
    assert two70.feasible and two70.memory_concurrency_cap >= 1
    assert any("pipeline split over 2 GPUs" in a for a in two70.assumptions)


def test_pipeline_degree_checks():
    kw = dict(PKW, ttft_s=5.0, tpot_s=0.2)
    with pytest.raises(InputError, match="gpus"):  # 3 does not divide 32 heads / 8 KV heads: no TP ...
        sv.capacity_at_slo("llama-3.1-8b", "rtx-4090", gpus=3, **kw)
    assert sv.capacity_at_slo("llama-3.1-8b", "rtx-4090", gpus=3, split="pipeline", **kw).feasible  # ... a layer split is fine
    with pytest.raises(InputError, match="pipeline stages"):
        sv.capacity_at_slo("llama-3.1-8b", "rtx-4090", gpus=33, split="pipeline", **kw)
    with pytest.raises(InputError, match="split"):
        sv.capacity_at_slo("llama-3.1-8b", "rtx-4090", gpus=2, split="rows", **kw)
    with pytest.raises(InputError, match="gpus"):
        sv.capacity_at_slo("llama-3.1-8b", "i9-13900k", gpus=2, split="pipeline", **kw)


# --------------------------------------------------------------------------------------------
# Expert parallelism (split="expert")
# --------------------------------------------------------------------------------------------
def _mc(model, gpus, split):
    return sv._setup(model, "h200", gpus, "fp8", "vllm", 1000, 250, None, None, split)[-1]


def test_expected_max_normal_matches_tippett():
    assert [round(sv.expected_max_normal(k), 4) for k in (1, 2, 4, 8)] == [0.0, 0.5642, 1.0294, 1.4236]


def test_expert_parallel_reads_by_hand():
    """Mixtral on 2 GPUs: 4 whole experts each; one token touches a share p of them; the busier GPU reads
    p + 0.5642 sqrt(p (1 - p) / 4); tensor parallelism reads p."""
    tp, ep = _mc("mixtral-8x7b", 2, "tensor"), _mc("mixtral-8x7b", 2, "expert")
    p = tp.moe_share
    assert sv._weights_share(tp, 1.0) == pytest.approx(p, rel=1e-12)
    assert sv._weights_share(ep, 1.0) == pytest.approx(p + 0.5642 * (p * (1 - p) / 4) ** 0.5, rel=1e-3)
    # at a large batch every expert is busy on every GPU: the same reads
    assert sv._weights_share(ep, 4096.0) == pytest.approx(sv._weights_share(tp, 4096.0), abs=1e-9)
    # so EP is slower for a lone stream and the same at high load
    lone = [sv.state_at_rate(c, 0.0, 0.7, 0.45)["tpot_s"] for c in (tp, ep)]
    busy = [sv.state_at_rate(c, 5.0, 0.7, 0.45)["tpot_s"] for c in (tp, ep)]
    assert lone[1] > lone[0] and busy[1] == pytest.approx(busy[0], rel=1e-3)
    assert ep.kv_cap == tp.kv_cap  # memory as for tensor parallelism


def test_expert_parallel_checks():
    kw = dict(precision="fp8", engine="vllm", prompt_tokens=1000, output_tokens=250, ttft_s=2.0, tpot_s=0.05)
    with pytest.raises(InputError, match="mixture-of-experts"):
        sv.capacity_at_slo("llama-3.1-70b", "h200", gpus=2, split="expert", **kw)
    with pytest.raises(InputError, match="divisor of the 8 experts"):
        sv.capacity_at_slo("mixtral-8x7b", "h200", gpus=16, split="expert", **kw)
    assert sv.capacity_at_slo("qwen3-30b-a3b", "h200", gpus=4, split="expert", **kw).feasible


@pytest.mark.parametrize("model, gpu, gpus, split, prec", [("llama-3.1-70b", "rtx-4090", 2, "pipeline", "q4_k_m"),
                                                            ("qwen3-30b-a3b", "h200", 4, "expert", "fp8")])
def test_splits_sweep_equals_scalar(model, gpu, gpus, split, prec):
    kw = dict(gpus=gpus, split=split, precision=prec, engine="vllm", prompt_tokens=512, output_tokens=256)
    tt, tp = np.array([0.5, 2.0, 5.0]), np.array([0.02, 0.05, 0.2])
    rates, _ = sv.capacity_sweep(model, gpu, ttft_s=tt, tpot_s=tp, **kw)
    for r, a, b in zip(rates, tt, tp):
        point = sv.capacity_at_slo(model, gpu, ttft_s=float(a), tpot_s=float(b), **kw)
        assert r == pytest.approx(point.max_rate_per_replica.mid, rel=1e-9, abs=1e-12)
