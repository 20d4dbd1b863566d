"""One concept, one rule: quantities two modules both need are computed in one place, and agree."""
import itertools

import pytest

from costlib import inference as inf
from costlib import memory as mem

MODELS = ("llama-3.1-8b", "qwen2.5-7b", "llama-3.2-1b", "llama-3.1-70b")
GPUS = ("l4", "a100-80gb", "h100-sxm")
PRECISIONS = ("bf16", "fp8", "int8", "int4")


def test_kv_default_is_one_rule():
    # hand-worked: FP8 weights keep an FP8 cache (TensorRT-LLM FP8 recipes), 16-bit otherwise
    assert mem.default_kv_precision("fp8") == "fp8"
    assert mem.default_kv_precision("bf16") == "fp16"
    assert mem.default_kv_precision("int4") == "fp16"
    assert mem.default_kv_precision("fp32") == "fp32"
    for p in PRECISIONS:
        assert inf._kv_default(p) == mem.default_kv_precision(p)


def test_llama_8b_fp8_on_an_l4_at_8k_tokens_by_hand():
    # weights: 8.03e9 x 1 byte = 8.0 GB; FP8 KV: 32 layers x 2 x 8 heads x 128 x 1 byte = 65,536 B per token,
    # 8,192 tokens -> 0.537 GB per sequence. The two modules must give the same batch (the issue saw 12 vs 24).
    m = mem.max_batch("llama-3.1-8b", "l4", "fp8", 8192)
    assert m == inf.max_batch("llama-3.1-8b", "l4", "fp8", 8192)
    assert 15 <= m <= 30  # 24 GB less ~8 GB of weights and overheads, over 0.54 GB a sequence


@pytest.mark.parametrize("model, gpu", list(itertools.product(MODELS, GPUS)))
def test_memory_and_inference_max_batch_agree(model, gpu):
    for precision, context in itertools.product(PRECISIONS, (2048, 8192)):
        a = mem.max_batch(model, gpu, precision, context)
        b = inf.max_batch(model, gpu, precision, context)
        assert a == b, (model, gpu, precision, context, a, b)


def test_one_fx_rule_for_the_audit_and_the_enterprise_chapter():
    from costlib import enterprise as ent
    from costlib import fx

    band = fx.fx_band("INR")
    # fx_rates.csv: 81.85 (2023-04-07), 82.92 (2024-02-02), 90.3957 (2026-02-05); mid = the newest
    assert (band.low, band.mid, band.high) == (81.85, 90.3957, 90.3957)
    assert band.mid == fx.fx_rate("INR").per_usd == ent.fx_rate("INR").per_usd
    assert ent.fx_rates is fx.fx_rates and ent.to_usd is fx.to_usd


def test_one_month_of_hours():
    from costlib import enterprise as ent
    from costlib import units
    from costlib.book import audit

    assert units.HOURS_PER_MONTH == 730.0 == 8760 / 12
    assert ent.HOURS_PER_MONTH is units.HOURS_PER_MONTH and audit.HOURS_PER_MONTH is units.HOURS_PER_MONTH


def test_memory_cli_reports_the_kv_cache_it_counts(capsys):
    import json

    from costlib.cli import main

    assert main(["memory", "--model", "llama-3.1-8b", "--precision", "fp8", "--context", "8192", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # FP8 cache: 32 layers x 2 x 8 KV heads x 128 x 1 byte = 65,536 bytes a token; 8,192 tokens = 0.537 GB
    assert out["kv_bytes_per_token"] == 65536
    assert out["kv_cache_gb"] == pytest.approx(65536 * 8192 / 1e9, rel=1e-3)
