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


NEW_2025 = ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b", "qwen3-30b-a3b",
            "qwen3-235b-a22b", "llama-4-scout", "llama-4-maverick", "gemma-3-1b", "gemma-3-4b", "gemma-3-12b",
            "gemma-3-27b", "phi-4", "phi-4-mini", "gpt-oss-20b", "gpt-oss-120b", "smollm3-3b", "mistral-small-24b",
            "deepseek-r1-distill-qwen-7b", "deepseek-v3.1"]


@pytest.mark.parametrize("model_id", sorted(models.models()))
def test_total_params_within_published_range(model_id):
    m = models.get_model(model_id)
    lo, hi = m.published_range
    assert lo <= m.total_params < hi
    # every total within 1% of the published total (the one two-digit card total, Qwen3-1.7B's "1.7B", is
    # replaced in models.csv by the exact count of the released weights, 1,720,574,976)
    assert m.total_params == pytest.approx(m.published_params, rel=0.01)


@pytest.mark.parametrize("model_id", sorted(k for k, m in models.models().items() if m.published_active))
def test_active_params_within_published_range(model_id):
    m = models.get_model(model_id)
    lo, hi = m.published_active_range
    assert lo <= m.active_params_published_basis < hi
    if (m.published_active_digits if m.published_active_params else m.published_digits) is None:
        assert m.active_params_published_basis == pytest.approx(m.published_active, rel=0.01)


def test_two_digit_figures_are_the_ones_recorded_as_such():
    """Only figures the maker printed to two digits get the wider range; every other count is within 1%."""
    loose = {k for k, m in models.models().items() if m.published_digits or m.published_active_digits}
    assert loose == {"deepseek-v3", "deepseek-v3.1", "qwen3-30b-a3b", "qwen3-235b-a22b",
                     "llama-4-scout", "llama-4-maverick"}
    assert all(models.get_model(k).published_digits is None for k in loose)  # only active figures are two-digit


def test_published_interval_by_hand():
    # three or more digits: 1% either side
    assert models.published_interval(116.83e9) == pytest.approx((115.6617e9, 117.9983e9))
    # "3.3B": rounded to nearest (3.25-3.35) or down (3.3-3.4) -> 3.25B to 3.40B
    assert models.published_interval(3.3e9, 2) == pytest.approx((3.25e9, 3.40e9))
    # "17B": 16.5B to 18B; "109B" (3 digits): half a unit is 0.46% < 1%, one unit 0.92% < 1% -> the 1% band
    assert models.published_interval(17e9, 2) == pytest.approx((16.5e9, 18e9))
    assert models.published_interval(109e9, 3) == pytest.approx((107.91e9, 110.09e9))
    with pytest.raises(InputError, match="digits"):
        models.published_interval(3.3e9, 0)


def test_qwen3_30b_a3b_active_by_hand():
    """Qwen3-30B-A3B (config.json: 48 layers, d 2048, 32/4 heads x 128, 128 experts of 768, top-8, untied vocab
    151936): 3,353,020,416 active. The card's "3.3B" is this count rounded down (to nearest it would be 3.4B);
    dropping the output head (3.04B) or both embeddings (2.73B) would not print as 3.3B either."""
    m = models.get_model("qwen3-30b-a3b")
    d, L, v = 2048, 48, 151936
    attn = d * 32 * 128 + 2 * d * 4 * 128 + 32 * 128 * d
    expert = 3 * d * 768
    per_layer = attn + 2 * d + 8 * expert + d * 128  # 8 routed experts + the router
    assert m.active_params == L * per_layer + 2 * v * d + d == 3_353_020_416
    assert m.total_params == L * (attn + 2 * d + 128 * expert + d * 128) + 2 * v * d + d  # 30.53B: card "30.5B"
    assert m.non_embedding_params / 1e9 == pytest.approx(29.9, abs=0.05)  # card: 29.9B non-embedding
    lo, hi = m.published_active_range
    assert lo <= m.active_params < hi and not lo <= m.active_params - v * d < hi


def test_models_cli_reports_published_ranges():
    from costlib.cli.catalog import models_payload

    rows = {r["id"]: r for r in models_payload()["models"]}
    q = rows["qwen3-30b-a3b"]
    assert q["published_active_digits"] == 2 and q["published_active_range"] == pytest.approx([3.25e9, 3.40e9])
    assert q["active_vs_published"] == pytest.approx(3_353_020_416 / 3.3e9 - 1)
    assert all(r["matches_published"] for r in rows.values())
    for mid in ("qwen3-8b", "gemma-3-27b", "gpt-oss-20b", "gpt-oss-120b"):
        assert abs(rows[mid]["total_vs_published"]) < 0.01


def test_2025_families_present():
    assert set(NEW_2025) <= set(models.models())
    for mid in NEW_2025:
        m = models.get_model(mid)
        assert m.as_of >= "2025-01-01" and "huggingface.co" in m.source


def test_published_tolerance_by_hand():
    assert models.published_tolerance(8.2e9) == 0.01
    assert models.published_tolerance(1.7e9, 2) == pytest.approx(0.05 / 1.7)  # 1.65-1.75B
    assert models.published_tolerance(109e9, 3) == 0.01  # half a unit (0.5B) is 0.46% < 1%


def test_gpt_oss_by_hand():
    """gpt-oss model card table 1: 116.83B total / 5.13B active (120b), 20.91B / 3.61B (20b)."""
    m = models.get_model("gpt-oss-120b")
    d, v, L, E = 2880, 201088, 36, 128
    expert = 3 * d * 2880
    attn = d * 64 * 64 + 2 * d * 8 * 64 + 64 * 64 * d + 64 * 64 + 2 * 8 * 64  # q, k, v, o + qkv biases
    per_layer = attn + 2 * d + E * expert + d * E
    assert m.total_params == 2 * v * d + L * per_layer + d
    assert m.total_params / 1e9 == pytest.approx(116.83, rel=0.001)
    # OpenAI counts the active parameters without the input embedding (a table lookup)
    assert m.active_params - v * d == m.active_params_published_basis
    assert m.active_params_published_basis / 1e9 == pytest.approx(5.13, rel=0.002)
    # MXFP4 experts: 4.25 bits each, everything else bf16 -> about 65 GB, the "fits one 80 GB GPU" checkpoint
    experts = L * E * expert
    assert m.checkpoint_bytes == pytest.approx(experts * 4.25 / 8 + (m.total_params - experts) * 2)
    assert 60e9 < m.checkpoint_bytes < 70e9


def test_llama4_maverick_interleaves_dense_and_moe_layers():
    m = models.get_model("llama-4-maverick")
    assert m.moe_layers == 24 and m.dense_layers == 24
    d = 5120
    expert = 3 * d * 8192
    dense_mlp = 3 * d * 16384
    # active: every layer's attention + 24 dense MLPs + 24 x (1 shared + 1 routed expert) + router, embeddings
    attn = 2 * d * 40 * 128 + 2 * d * 8 * 128
    active = 2 * 202048 * d + 48 * (attn + 2 * d) + 24 * dense_mlp + 24 * (2 * expert + d * 128) + d
    assert m.active_params == active
    assert m.active_params / 1e9 == pytest.approx(17.2, abs=0.05)
    scout = models.get_model("llama-4-scout")
    assert scout.moe_layers == 48 and scout.shared_experts == 1 and scout.experts_active == 1


def test_vision_encoder_is_stored_but_not_active():
    g = models.get_model("gemma-3-27b")
    assert g.total_params == g.text_params + int(g.vision_params)
    assert g.active_params == g.text_params
    assert g.windowed_layers == 52 and g.full_attention_layers == 10


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


# --- KV cache per token, worked by hand from each config.json ------------------------------------------
def test_kv_gemma3_27b_sliding_window_by_hand():
    from costlib import memory as mem

    # 62 layers x 2 (K, V) x 16 KV heads x 128 head_dim x 2 bytes (fp16) = 507,904 bytes per token below 1024 tokens
    assert mem.kv_bytes_per_token("gemma-3-27b") == 62 * 2 * 16 * 128 * 2 == 507_904
    # past the 1024-token window only the 10 global layers grow: 10 x 2 x 16 x 128 x 2 = 81,920 bytes per token
    assert mem.kv_bytes_per_token_beyond_window("gemma-3-27b") == 81_920
    # 32k context: 10 layers hold 32768 tokens, 52 layers hold 1024
    per_layer_token = 2 * 16 * 128 * 2
    assert mem.kv_cache_bytes("gemma-3-27b", 32768) == (10 * 32768 + 52 * 1024) * per_layer_token


def test_kv_deepseek_mla_moe_by_hand():
    from costlib import memory as mem

    # MLA caches the compressed latent (kv_lora_rank 512) + the decoupled RoPE key (64) per layer: 61 x 576 x 2 bytes
    assert mem.kv_bytes_per_token("deepseek-v3.1") == 61 * (512 + 64) * 2 == 70_272
    # versus 61 x 2 x 128 heads x 128 x 2 = 3.99 MB for the same model with plain multi-head attention
    assert mem.kv_bytes_per_token("deepseek-v3.1") < 61 * 2 * 128 * 128 * 2 / 56


def test_kv_gpt_oss_alternating_windows_and_llama4_chunks_by_hand():
    from costlib import memory as mem

    # gpt-oss-120b: 36 layers x 2 x 8 KV heads x 64 x 2 bytes = 73,728 B/token; 18 layers keep only 128 tokens
    assert mem.kv_bytes_per_token("gpt-oss-120b") == 36 * 2 * 8 * 64 * 2 == 73_728
    assert mem.kv_cache_bytes("gpt-oss-120b", 131072) == (18 * 131072 + 18 * 128) * 2 * 8 * 64 * 2
    # Llama 4 Scout: 3 of 4 layers attend within 8192-token chunks, every 4th layer is global
    lay = mem.kv_layer_layout("llama-4-scout")
    assert lay == {"full_layers": 12, "windowed_layers": 36, "window": 8192, "window_kind": "chunked",
                   "values_per_token_per_layer": 2 * 8 * 128, "attention": "gqa"}
    assert mem.kv_cache_bytes("llama-4-scout", 10**6) == (12 * 10**6 + 36 * 8192) * 2 * 8 * 128 * 2
    # Qwen3-30B-A3B (no window): 48 x 2 x 4 x 128 x 2 = 98,304 bytes per token at every length
    assert mem.kv_bytes_per_token("qwen3-30b-a3b") == mem.kv_bytes_per_token_beyond_window("qwen3-30b-a3b") == 98_304


def test_quality_axes_are_one_basis_each():
    know, code = models.quality_axis("knowledge"), models.quality_axis("coding")
    assert (know["benchmark"], know["variant"]) == ("MMLU-Pro", "base")
    assert (code["benchmark"], code["variant"]) == ("EvalPlus", "base")
    # old (2024) and new (2025) models on the same axis
    for axis in (know, code):
        assert {"qwen2.5-72b", "deepseek-v3", "qwen3-30b-a3b", "llama-4-scout", "gemma-3-27b"} <= set(axis["scores"])
        assert all(0 <= s <= 100 for s in axis["scores"].values())
    with pytest.raises(InputError, match="axis"):
        models.quality_axis("vibes")


def test_quality_axis_refuses_mixed_variants(monkeypatch):
    rows = list(models.quality_scores())
    mixed = dict(rows[0], variant="instruct", id="mixed")
    monkeypatch.setattr(models, "quality_scores", lambda: tuple(rows + [mixed]))
    with pytest.raises(InputError, match="one basis"):
        models.quality_axis(rows[0]["axis"])


def test_self_hosted_vs_api_same_request_on_both_sides():
    from costlib import market, prices

    luna = prices.get_api_price("groq-gpt-oss-20b")
    # 1,000 in + 250 out: per 1M output tokens = 4 x input price + output price = 4 x 0.075 + 0.30
    assert market.api_cost_per_1m_output(luna) == pytest.approx(4 * 0.075 + 0.30)
    df = market.self_hosted_vs_api(("gpt-oss-20b", "qwen3-30b-a3b"))
    assert list(df["model"]) == ["gpt-oss-20b", "qwen3-30b-a3b"]
    assert (df["self_hosted_low"] <= df["self_hosted_mid"]).all() and (df["self_hosted_mid"] <= df["self_hosted_high"]).all()
    assert (df["api_low"] <= df["api_high"]).all() and (df["gpus"] >= 1).all()
    with pytest.raises(InputError, match="hosted price"):
        market.self_hosted_vs_api(("llama-7b",))


def _write_cfg(tmp_path, cfg):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return path


def test_from_hf_config_reads_2025_layouts(tmp_path):
    from costlib import memory as mem

    gemma = {"model_type": "gemma3", "text_config": {
        "model_type": "gemma3_text", "hidden_size": 5376, "num_attention_heads": 32, "num_key_value_heads": 16, "head_dim": 128,
        "num_hidden_layers": 62, "intermediate_size": 21504, "vocab_size": 262208, "hidden_activation": "gelu_pytorch_tanh",
        "sliding_window": 1024, "sliding_window_pattern": 6, "tie_word_embeddings": True, "max_position_embeddings": 131072}}
    g = models.from_hf_config(_write_cfg(tmp_path, gemma), "g")
    cat = models.get_model("gemma-3-27b")
    assert g.text_params == cat.text_params and g.windowed_layers == 52 and g.window_kind == "sliding"
    assert mem.kv_cache_bytes(g, 32768) == mem.kv_cache_bytes(cat, 32768)

    oss = {"model_type": "gpt_oss", "hidden_size": 2880, "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 64,
           "num_hidden_layers": 36, "intermediate_size": 2880, "vocab_size": 201088, "num_local_experts": 128,
           "num_experts_per_tok": 4, "attention_bias": True, "sliding_window": 128,
           "layer_types": ["sliding_attention", "full_attention"] * 18, "tie_word_embeddings": False}
    o = models.from_hf_config(_write_cfg(tmp_path, oss), "o")
    assert o.total_params == models.get_model("gpt-oss-120b").total_params
    assert o.windowed_layers == 18 and mem.kv_cache_bytes(o, 65536) == mem.kv_cache_bytes("gpt-oss-120b", 65536)

    mav = {"model_type": "llama4", "text_config": {
        "model_type": "llama4_text", "hidden_size": 5120, "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128,
        "num_hidden_layers": 48, "intermediate_size": 8192, "intermediate_size_mlp": 16384, "vocab_size": 202048,
        "num_local_experts": 128, "num_experts_per_tok": 1, "interleave_moe_layer_step": 2, "attention_chunk_size": 8192,
        "no_rope_layer_interval": 4, "tie_word_embeddings": False}}
    m = models.from_hf_config(_write_cfg(tmp_path, mav), "m")
    cat = models.get_model("llama-4-maverick")
    assert (m.text_params, m.active_params) == (cat.text_params, cat.active_params)
    assert m.window_kind == "chunked" and m.windowed_layers == 36

    qmoe = {"model_type": "qwen3_moe", "hidden_size": 2048, "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
            "num_hidden_layers": 48, "intermediate_size": 6144, "moe_intermediate_size": 768, "num_experts": 128,
            "num_experts_per_tok": 8, "vocab_size": 151936, "tie_word_embeddings": False, "sliding_window": None}
    q = models.from_hf_config(_write_cfg(tmp_path, qmoe), "q")
    assert (q.total_params, q.active_params) == (models.get_model("qwen3-30b-a3b").total_params, models.get_model("qwen3-30b-a3b").active_params)
    assert q.windowed_layers == 0


def test_qwen_prints_two_digit_counts_rounded_both_ways():
    """Why published_interval accepts rounding to nearest *and* down: Qwen1.5-MoE-A2.7B (config.json: 24 layers,
    d 2048, 16 heads (MHA) x 128, QKV bias, 60 routed experts of 1408 top-4 + a 5632-wide shared expert (4 x 1408),
    untied vocab 151936). Qwen's blog (2024-03-28) prints 14.3B total, 2.7B activated and 2.0B activated
    non-embedding. The computed 2.689B activated rounds to 2.7B only to nearest; the computed 2.067B non-embedding
    rounds to 2.0B only down. Both sit inside published_interval; neither rule alone holds both."""
    m = models.ModelSpec(id="qwen1.5-moe-a2.7b", name="Qwen1.5-MoE-A2.7B", layers=24, d_model=2048, heads=16, kv_heads=16,
                         head_dim=128, ffn_dim=5632, vocab=151936, bias="qkv", attention="mha", experts_total=60,
                         experts_active=4, shared_experts=4, moe_ffn_dim=1408)
    embeddings = 2 * 151936 * 2048
    active, active_non_embedding = m.active_params, m.active_params - embeddings
    assert m.total_params / 1e9 == pytest.approx(14.316, abs=0.001)
    assert active / 1e9 == pytest.approx(2.689, abs=0.001) and active_non_embedding / 1e9 == pytest.approx(2.067, abs=0.001)
    lo, hi = models.published_interval(14.3e9)
    assert lo <= m.total_params < hi
    for count, printed in ((active, 2.7e9), (active_non_embedding, 2.0e9)):
        lo, hi = models.published_interval(printed, 2)
        assert lo <= count < hi
    assert not 1.95e9 <= active_non_embedding < 2.05e9  # to nearest, "2.0B" would be 1.95-2.05B
    assert not 2.7e9 <= active < 2.8e9  # rounded down, "2.7B" would be 2.70-2.80B


def test_meta_counts_both_embeddings_in_llama4_active():
    """Llama 4 Scout / Maverick: 17.17B active with both embedding matrices, which Meta prints as "17B"; without the
    output head (or the input table) it would be 16.14B, which would print as "16B"."""
    for mid in ("llama-4-scout", "llama-4-maverick"):
        m = models.get_model(mid)
        lo, hi = m.published_active_range
        assert lo <= m.active_params < hi
        assert not lo <= m.active_params - m.vocab * m.d_model < hi
