"""Parameter counts computed from architecture match the makers' published counts."""
from __future__ import annotations

import json

import pytest

from costlib import models
from costlib.errors import InputError, UnknownIdError

REQUIRED = [
    "smollm2-135m", "smollm2-1.7b", "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-7b", "qwen2.5-72b",
    "llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "llama-2-7b", "llama-2-13b",
    "llama-2-70b", "mistral-7b", "phi-3-mini", "gemma-2-2b", "gemma-2-9b", "tinyllama-1.1b", "mixtral-8x7b", "deepseek-v3",
]


def test_catalog_has_required_models_spanning_0_1b_to_400b_plus():
    table = models.models()
    assert set(REQUIRED) <= set(table)
    sizes = [m.total_params for m in table.values()]
    assert min(sizes) < 0.2e9 and max(sizes) > 400e9


@pytest.mark.parametrize("model_id", sorted(models.models()))
def test_total_params_within_1pct_of_published(model_id):
    m = models.get_model(model_id)
    assert m.total_params == pytest.approx(m.published_params, rel=0.01)


def test_moe_active_params():
    mixtral = models.get_model("mixtral-8x7b")
    assert mixtral.active_params == pytest.approx(12.9e9, rel=0.01)  # Mistral: 12.9B active of 46.7B
    ds = models.get_model("deepseek-v3")
    # DeepSeek publishes "37B activated" to two digits; the exact count (with both embedding
    # matrices) is 37.55B, inside the rounding of a two-digit figure (1.5%).
    assert ds.active_params == pytest.approx(37e9, rel=0.015)
    assert ds.active_params < ds.total_params / 15


def test_llama2_7b_by_hand():
    m = models.get_model("llama-2-7b")
    d, f, v, layers = 4096, 11008, 32000, 32
    per_layer = 4 * d * d + 3 * d * f + 2 * d
    assert m.total_params == 2 * v * d + layers * per_layer + d  # 6,738,415,616
    assert m.total_params == 6_738_415_616


def test_gqa_shrinks_only_k_and_v():
    l8 = models.get_model("llama-3.1-8b")
    assert l8.attention_params_per_layer == 2 * 4096 * 4096 + 2 * 4096 * 8 * 128
    assert l8.kv_values_per_token_per_layer == 2 * 8 * 128


def test_tied_embeddings_counted_once():
    tied = models.get_model("llama-3.2-1b")
    untied = models.replace_spec(tied, tied_embeddings=False)
    assert untied.total_params - tied.total_params == tied.vocab * tied.d_model


def test_unknown_model_lists_known_ids():
    with pytest.raises(UnknownIdError, match="llama-3.1-8b"):
        models.get_model("llama-8b")


def test_from_hf_config_matches_catalog(tmp_path):
    cfg = {
        "model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 8,
        "num_hidden_layers": 32, "intermediate_size": 14336, "vocab_size": 128256, "hidden_act": "silu",
        "tie_word_embeddings": False, "max_position_embeddings": 131072,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    spec = models.from_hf_config(path, "my-llama")
    assert spec.total_params == models.get_model("llama-3.1-8b").total_params
    assert spec.kv_values_per_token_per_layer == 2 * 8 * 128


def test_from_hf_config_moe(tmp_path):
    cfg = {
        "model_type": "mixtral", "hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 8,
        "num_hidden_layers": 32, "intermediate_size": 14336, "vocab_size": 32000, "num_local_experts": 8,
        "num_experts_per_tok": 2,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    spec = models.from_hf_config(path)
    assert spec.active_params == models.get_model("mixtral-8x7b").active_params


def test_from_hf_config_errors(tmp_path):
    with pytest.raises(InputError, match="config="):
        models.from_hf_config(tmp_path / "missing.json")
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"hidden_size": 10}))
    with pytest.raises(InputError, match="num_attention_heads"):
        models.from_hf_config(bad)


def test_custom_model_rejects_bad_counts():
    with pytest.raises(InputError, match="params"):
        models.custom_model(-1)
    with pytest.raises(InputError, match="active_params"):
        models.custom_model(7e9, 8e9)
    m = models.custom_model(7e9)
    assert m.total_params == m.active_params == 7e9
    with pytest.raises(InputError, match="architecture"):
        m.kv_values_per_token_per_layer
