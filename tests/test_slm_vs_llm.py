"""costlib.book.slm_vs_llm: chapter 05's pair tables, capability and deployment helpers."""
import pytest

from costlib.book import slm_vs_llm as slm
from costlib.errors import InputError
from costlib.uncertainty import Band


def test_pareto_frontier_by_hand():
    # (1, 50) and (3, 60) are undominated; (2, 40) is beaten by (1, 50); (4, 55) by (3, 60)
    assert slm.pareto_frontier([1, 2, 3, 4], [50, 40, 60, 55]).tolist() == [True, False, True, False]
    # identical points do not dominate each other
    assert slm.pareto_frontier([1, 1], [50, 50]).tolist() == [True, True]
    with pytest.raises(InputError, match="cost="):
        slm.pareto_frontier([1, 2], [1])


def test_benchmark_scores_are_sourced_and_in_range():
    from costlib.models import models

    df = slm.benchmark_scores()
    assert set(df.model_id) <= set(models())
    assert ((df.score > 0) & (df.score <= 100)).all()
    assert df.source.str.startswith("https://").all()
    assert df.id.is_unique
    # read in meta-llama/llama-models models/llama3_1/MODEL_CARD.md (base pretrained table)
    assert slm.score("llama-3.1-70b", "MMLU") == 79.3
    # no base HumanEval for Llama 3.1: variant=None falls back to the instruct figure
    assert slm.score("llama-3.1-8b", "HumanEval") is None
    assert slm.score("llama-3.1-8b", "HumanEval", None) == 72.6
    # larger models of one family score higher on MMLU (a property of the published tables)
    for small, large in slm.PAIRS:
        assert slm.score(large, "MMLU") > slm.score(small, "MMLU")


def test_best_precision_and_deployment_class():
    # Llama-3.1-8B in BF16 is 16.1 GB of weights: fits a 24 GB L4 with one 4,096-token sequence
    assert slm.best_precision("llama-3.1-8b", "l4") == "bf16"
    # 405B does not fit one A100 even in INT4 (~200 GB of weights)
    assert slm.best_precision("llama-3.1-405b", "a100-80gb") is None
    # 70B: 141 GB in BF16 > 80 GB; INT8 ~71 GB fits
    assert slm.best_precision("llama-3.1-70b", "a100-80gb") == "int8"
    # BF16 405B (810 GB of weights) is more than eight 80 GB GPUs hold
    assert slm.deployment_class("llama-3.1-405b", "bf16") == "more than one node"
    assert slm.deployment_class("llama-3.2-1b", "bf16") == "laptop"


def test_smallest_fitting_model_respects_the_budget():
    from types import SimpleNamespace

    easy = SimpleNamespace(name="t", prompt_tokens=Band(100, 100, 100), output_tokens=Band(10, 10, 10), latency_budget_s=1e6)
    hard = SimpleNamespace(name="t", prompt_tokens=Band(100, 100, 100), output_tokens=Band(10, 10, 10), latency_budget_s=1e-6)
    chosen, tried = slm.smallest_fitting_model(easy, ["qwen2.5-0.5b", "llama-3.1-8b"])
    assert chosen == "qwen2.5-0.5b" and len(tried) == 1
    chosen, tried = slm.smallest_fitting_model(hard, ["qwen2.5-0.5b", "llama-3.1-8b"])
    assert chosen is None and len(tried) == 2
    # a bigger model is slower on the same hardware
    assert tried[1][2] > tried[0][2]
