"""Memory: hand-worked values from each formula's source, properties, published figures, bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costlib import memory as mem
from costlib.cli import main
from costlib.errors import InputError
from costlib.models import custom_model, get_model

GB = 1e9


# --- weights ------------------------------------------------------------------------------------


def test_int4_weights_are_fp16_over_four_before_scales():
    n = 7e9
    assert mem.weight_bytes(n, "int4", group_size=None) == mem.weight_bytes(n, "fp16") / 4 == 3.5e9
    assert mem.weight_bytes(n, "int8", group_size=None) == mem.weight_bytes(n, "fp16") / 2
    assert mem.weight_bytes(n, "fp32") == 28e9


def test_group_128_with_16_bit_scales_is_4_125_bits():
    assert mem.bits_per_weight("int4") == 4 + 16 / 128 == 4.125
    assert mem.weight_bytes(1e9, "int4") == 1e9 * 4.125 / 8
    assert mem.bits_per_weight("int4", group_size=64) == 4.25
    assert mem.bits_per_weight("fp8") == 8.0  # per-tensor scale only


def test_nf4_double_quantization_bits():
    # QLoRA section 3: 32/64 = 0.5 bits of constants -> 8/64 + 32/(64*256) = 0.127 bits
    assert mem.bits_per_weight("nf4") == pytest.approx(4.127, abs=5e-4)
    assert mem.bits_per_weight("nf4") == 4 + 8 / 64 + 32 / (64 * 256)


def test_seed_memory_table_holds_for_weights_alone():
    # seed 000: 1B/3B/7B at FP16 2/6/14 GB, INT8 1/3/7, INT4 0.5/1.5/3.5
    for n, fp16, int8, int4 in [(1e9, 2, 1, 0.5), (3e9, 6, 3, 1.5), (7e9, 14, 7, 3.5)]:
        assert mem.weight_bytes(n, "fp16") / GB == fp16
        assert mem.weight_bytes(n, "int8", group_size=None) / GB == int8
        assert mem.weight_bytes(n, "int4", group_size=None) / GB == int4


def test_weights_accept_arrays_and_models():
    out = mem.weight_bytes(np.array([1e9, 2e9]), "bf16")
    assert out.tolist() == [2e9, 4e9]
    m = get_model("llama-3.1-8b")
    assert mem.weight_bytes(m, "bf16") == 2 * m.total_params


# --- KV cache -----------------------------------------------------------------------------------


def test_llama_3_1_8b_kv_is_128_kib_per_token():
    # 2 (K, V) x 32 layers x 8 KV heads x 128 head_dim x 2 bytes
    assert mem.kv_bytes_per_token("llama-3.1-8b", "fp16") == 2 * 32 * 8 * 128 * 2 == 131072


def test_vllm_opt_13b_is_800_kib_per_token():
    # Kwon et al. 2023 section 3: 2 x 5120 x 40 x 2 bytes
    assert mem.kv_bytes_per_token("opt-13b") == 2 * 5120 * 40 * 2 == 800 * 1024


def test_gqa_is_four_times_smaller_than_mha_at_same_shape():
    assert mem.kv_bytes_per_token("llama-2-7b") == 4 * mem.kv_bytes_per_token("llama-3.1-8b")


def test_mla_caches_the_latent():
    # DeepSeek-V3: (kv_lora_rank 512 + rope 64) x 61 layers x 2 bytes
    assert mem.kv_bytes_per_token("deepseek-v3", "bf16") == (512 + 64) * 61 * 2


def test_kv_quantization_scales_bytes():
    fp16 = mem.kv_bytes_per_token("llama-3.1-8b", "fp16")
    assert mem.kv_bytes_per_token("llama-3.1-8b", "fp8") == fp16 / 2
    assert mem.kv_bytes_per_token("llama-3.1-8b", "int4") == fp16 / 4


def test_kv_cache_total_is_per_token_times_context_times_batch():
    assert mem.kv_cache_bytes("llama-3.1-8b", 8192, 4) == 131072 * 8192 * 4


def test_sliding_window_caps_mistral_cache():
    per = mem.kv_bytes_per_token("mistral-7b")
    out = mem.kv_cache_bytes("mistral-7b", np.array([1000, 4096, 32768]))
    assert out.tolist() == [per * 1000, per * 4096, per * 4096]


def test_gemma2_half_the_layers_are_local():
    # 42 layers: 21 global hold 8192 tokens, 21 local hold 4096; 2 x 8 KV heads x 256 x 2 bytes
    per_layer_token = 2 * 8 * 256 * 2
    assert mem.kv_cache_bytes("gemma-2-9b", 8192) == per_layer_token * (21 * 8192 + 21 * 4096)


@pytest.mark.parametrize("model", ["llama-3.1-8b", "mistral-7b", "gemma-2-2b", "deepseek-v3"])
def test_kv_monotone_in_context_and_batch(model):
    ctx = np.array([0, 1, 512, 4096, 8192, 32768])
    kv = mem.kv_cache_bytes(model, ctx, 2)
    assert np.all(np.diff(kv) >= 0)
    assert mem.kv_cache_bytes(model, 4096, 3) == 3 * mem.kv_cache_bytes(model, 4096, 1)


# --- inference ----------------------------------------------------------------------------------


def test_inference_breakdown_adds_up_and_is_monotone():
    b = mem.inference_memory("llama-3.1-8b", "fp16", np.array([1024, 8192, 65536]), 2)
    parts = b.weights_gb + b.kv_cache_gb + b.activations_gb + b.overhead_gb
    assert np.allclose(b.total_gb, parts)
    assert np.all(np.diff(b.total_gb) > 0)
    assert b.kv_cache_gb[1] == pytest.approx(131072 * 8192 * 2 / GB)
    assert b.overhead_gb == mem.RUNTIME_OVERHEAD_GB
    b1 = mem.inference_memory("llama-3.1-8b", "fp16", 4096, 1)
    b8 = mem.inference_memory("llama-3.1-8b", "fp16", 4096, 8)
    assert b8.total_gb > b1.total_gb


def test_tensor_parallel_shards_weights_not_overhead():
    one = mem.inference_memory("llama-3.1-70b", "bf16", 4096, 1)
    two = mem.inference_memory("llama-3.1-70b", "bf16", 4096, 1, gpus=2)
    assert two.weights_gb == pytest.approx(one.weights_gb / 2)
    assert two.overhead_gb == one.overhead_gb
    assert two.total_gb * 2 > one.total_gb  # memory does not simply add up


def test_kv_heads_replicate_beyond_kv_head_count():
    # 8 KV heads on 16 GPUs: each GPU still holds one KV head = 1/8 of the cache
    one = mem.inference_memory("llama-3.1-405b", "bf16", 8192, 1)
    sixteen = mem.inference_memory("llama-3.1-405b", "bf16", 8192, 1, gpus=16)
    assert sixteen.kv_cache_gb == pytest.approx(one.kv_cache_gb / 8)


def test_params_only_model_has_weights_but_no_kv():
    m = custom_model(7e9)
    b = mem.inference_memory(m, "int4", 0)
    assert b.kv_cache_gb == 0 and b.weights_gb == pytest.approx(7e9 * 4.125 / 8 / GB)
    with pytest.raises(InputError, match="model=.*architecture"):
        mem.inference_memory(m, "int4", 4096)
    with pytest.raises(InputError, match="model="):
        mem.kv_bytes_per_token(m)


# --- training -----------------------------------------------------------------------------------


def test_mixed_precision_adam_is_16_bytes_per_param():
    m = get_model("llama-3.1-8b")
    b = mem.training_memory(m, "full", "bf16", "adam")
    per_param = (b.weights_gb + b.gradients_gb + b.optimizer_gb) * GB / m.total_params
    assert per_param == pytest.approx(16.0)
    b8 = mem.training_memory(m, "full", "bf16", "adam8bit")
    assert (b8.weights_gb + b8.gradients_gb + b8.optimizer_gb) * GB / m.total_params == pytest.approx(10.0)  # 2 + 2 + 4 + 2
    s = mem.training_memory(m, "full", "bf16", "sgd")
    assert (s.weights_gb + s.gradients_gb + s.optimizer_gb) * GB / m.total_params == pytest.approx(12.0)


def test_zero_stages_shard_what_they_should():
    m = "llama-3.1-8b"
    base = mem.training_memory(m, gpus=8, zero=0)
    z1 = mem.training_memory(m, gpus=8, zero=1)
    z2 = mem.training_memory(m, gpus=8, zero=2)
    z3 = mem.training_memory(m, gpus=8, zero=3)
    assert z1.optimizer_gb == pytest.approx(base.optimizer_gb / 8) and z1.gradients_gb == base.gradients_gb
    assert z2.gradients_gb == pytest.approx(base.gradients_gb / 8) and z2.weights_gb == base.weights_gb
    # ZeRO-3 / FSDP: a 1/8 shard of the bf16 weights plus two gathered layers (the prefetch buffer)
    spec = get_model(m)
    layer = spec.attention_params_per_layer + spec.norm_params_per_layer + spec.mlp_params_per_dense_layer
    assert z3.weights_gb == pytest.approx(base.weights_gb / 8 + 2 * layer * 2 / GB)
    assert z3.activations_gb == base.activations_gb  # data parallel: activations are not sharded
    assert base.total_gb > z1.total_gb > z2.total_gb > z3.total_gb


def test_korthikanti_activations_hand_worked():
    # Llama-2-7B, s=2048, b=1, h=4096, a=32, L=32: L*s*b*h*(34 + 5*a*s/h) + 4*s*b*vocab
    s, h, a, L, v = 2048, 4096, 32, 32, 32000
    none = L * s * h * (34 + 5 * a * s / h) + 4 * s * v
    assert mem.korthikanti_activation_bytes("llama-2-7b", s, 1, "none") == pytest.approx(none)
    sel = L * s * h * 34 + 4 * s * v
    assert mem.korthikanti_activation_bytes("llama-2-7b", s, 1, "selective") == pytest.approx(sel)
    full = L * 2 * s * h + s * h * (34 + 5 * a * s / h) + 4 * s * v
    assert mem.korthikanti_activation_bytes("llama-2-7b", s, 1, "full") == pytest.approx(full)


def test_flash_attention_activations_hand_worked():
    # Llama-3.1-8B block, per token: 2 bytes x (norm in 4096 + normed 4096 + Q 4096 + K 1024 + V 1024 + O 4096
    #   + norm in 4096 + normed 4096 + gate/up/product 3 x 14336) + fp32 log-sum-exp 4 x 32 heads
    per_token = 2 * (4096 * 2 + 4096 + 1024 + 1024 + 4096 + 4096 * 2 + 3 * 14336) + 4 * 32
    assert per_token == 139_392 and per_token - 128 == 34 * 4096  # Korthikanti's 34·h, without the 5·a·s term
    assert mem.layer_activation_bytes_per_token("llama-3.1-8b") == per_token
    s, b, L, v = 2048, 2, 32, 128256
    none = L * per_token * s * b + 4 * s * b * v
    assert mem.training_activation_bytes("llama-3.1-8b", s, b, "none") == pytest.approx(none)
    # full checkpointing: each layer keeps its bf16 input (4096 x 2 bytes per token) + one layer recomputed
    full = L * 4096 * 2 * s * b + per_token * s * b + 4 * s * b * v
    assert mem.training_activation_bytes("llama-3.1-8b", s, b, "full") == pytest.approx(full)
    # the materialized form keeps Korthikanti's 5·a·s bytes per token per layer instead of the log-sum-exp
    mat = mem.training_activation_bytes("llama-3.1-8b", s, b, "none", attention="materialized")
    assert mat - none == pytest.approx(L * (5 * 32 * s - 4 * 32) * s * b)


def test_recompute_orders_activation_memory():
    for attention in ("flash", "materialized"):
        n = mem.training_activation_bytes("llama-3.1-8b", 4096, 2, "none", attention=attention)
        s = mem.training_activation_bytes("llama-3.1-8b", 4096, 2, "selective", attention=attention)
        f = mem.training_activation_bytes("llama-3.1-8b", 4096, 2, "full", attention=attention)
        assert n >= s > f
    assert mem.training_activation_bytes("llama-3.1-8b", 4096, 2, "none", attention="materialized") > mem.training_activation_bytes(
        "llama-3.1-8b", 4096, 2, "selective", attention="materialized")


def test_lora_trainable_params_match_peft_count():
    # PEFT's well-known "trainable params: 4,194,304" for LLaMA-7B, r=8 on q_proj and v_proj:
    # 32 layers x 2 modules x 8 x (4096 + 4096)
    assert mem.lora_trainable_params("llama-2-7b", 8, ("q_proj", "v_proj")) == 4_194_304
    assert mem.lora_trainable_params("llama-2-7b", 8, "qv") == 4_194_304


@pytest.mark.parametrize("model", ["llama-3.2-1b", "llama-3.2-3b", "llama-2-7b", "llama-3.1-70b", "mixtral-8x7b"])
def test_qlora_below_lora_below_full(model):
    kw = dict(seq_len=2048, batch=1, recompute="full")
    full = mem.training_memory(model, "full", **kw).total_gb
    lora = mem.training_memory(model, "lora", **kw).total_gb
    qlora = mem.training_memory(model, "qlora", **kw).total_gb
    assert qlora < lora < full


def test_training_monotone_in_batch_and_seq_len():
    t = [mem.training_memory("llama-3.2-1b", "lora", batch=b).total_gb for b in (1, 2, 4, 8)]
    assert np.all(np.diff(t) > 0)
    t = [mem.training_memory("llama-3.2-1b", "full", seq_len=s).total_gb for s in (512, 1024, 4096)]
    assert np.all(np.diff(t) > 0)


# --- published figures -------------------------------------------------------------------------


def test_qlora_65b_fits_in_48_gb():
    # QLoRA paper: rank 64 on all linear layers, gradient checkpointing, one 48 GB GPU
    b = mem.training_memory(mem.LLAMA_65B, "qlora", seq_len=512, batch=1, recompute="full", lora_rank=64)
    assert b.total_gb < 48


def test_full_16_bit_finetune_of_65b_exceeds_780_gb():
    b = mem.training_memory(mem.LLAMA_65B, "full", "bf16", seq_len=512, batch=1, recompute="full")
    assert b.total_gb > 780
    # the weights + gradients + Adam states alone: 16 bytes x 65.3B
    assert (b.weights_gb + b.gradients_gb + b.optimizer_gb) > 780


def test_validation_table_has_no_contradiction():
    t = mem.validation_table()
    assert set(t["verdict"]) <= {"match", "consistent"}
    kv = t[t["id"].str.endswith("-kv")]
    assert len(kv) == 4 and (kv["error_pct"].abs() < 2.5).all()
    falcon = t.set_index("id")
    assert falcon.loc["falcon-bf16-inference", "costlib"].startswith("8 x a100-80gb")


# --- fit ----------------------------------------------------------------------------------------


def test_fits_and_min_gpus():
    b = mem.inference_memory("llama-3.1-8b", "fp16", 4096)
    assert mem.fits(b, "a100-80gb") and not mem.fits(b, "t4")
    # Llama-3.1-70B bf16 weights ~141 GB: two 80 GB GPUs, four 40 GB GPUs
    assert mem.min_gpus("llama-3.1-70b", "a100-80gb", "bf16", 4096) == 2
    assert mem.min_gpus("llama-3.1-70b", "a100-40gb", "bf16", 4096) == 4
    # Falcon-180B: 232 heads, so tensor parallel degree 8 (not 5) for ~360 GB on 80 GB GPUs
    assert mem.min_gpus("falcon-180b", "a100-80gb", "bf16", 2048) == 8


def test_max_batch_and_context_fit_and_one_more_does_not():
    b = mem.max_batch("llama-3.1-8b", "a100-80gb", "fp16", 8192)
    assert b > 0
    assert mem.fits(mem.inference_memory("llama-3.1-8b", "fp16", 8192, b), "a100-80gb")
    assert not mem.fits(mem.inference_memory("llama-3.1-8b", "fp16", 8192, b + 1), "a100-80gb")
    c = mem.max_context("llama-3.1-8b", "rtx-4090", "fp16", batch=1)
    assert 0 < c < 131072
    assert not mem.fits(mem.inference_memory("llama-3.1-8b", "fp16", c + 1), "rtx-4090")
    assert mem.max_batch("llama-3.1-405b", "t4", "bf16", 2048) == 0


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, parameter",
    [
        (lambda: mem.weight_bytes(7e9, "int3"), "precision=int3"),
        (lambda: mem.weight_bytes(-1, "fp16"), "params=-1"),
        (lambda: mem.kv_cache_bytes("llama-3.1-8b", -5), "context=-5"),
        (lambda: mem.kv_cache_bytes("llama-3.1-8b", 100.5), "context=100.5"),
        (lambda: mem.kv_cache_bytes("llama-3.1-8b", 100, 0), "batch=0"),
        (lambda: mem.kv_bytes_per_token("llama-3.1-8b", "fp12"), "kv_precision=fp12"),
        (lambda: mem.training_memory("llama-3.1-8b", zero=4), "zero=4"),
        (lambda: mem.training_memory("llama-3.1-8b", mode="dpo"), "mode=dpo"),
        (lambda: mem.training_memory("llama-3.1-8b", "full", "int4"), "precision=int4"),
        (lambda: mem.training_memory("llama-3.1-8b", optimizer="adagrad"), "optimizer=adagrad"),
        (lambda: mem.training_memory("llama-3.1-8b", recompute="some"), "recompute=some"),
        (lambda: mem.training_memory("llama-3.1-8b", "lora", lora_targets=("qkv",)), "lora_targets=qkv"),
        (lambda: mem.inference_memory("llama-3.1-8b", "bf16", 1024, gpus=3), "gpus=3"),
        (lambda: mem.inference_memory("no-such-model", "bf16", 1024), "model=no-such-model"),
        (lambda: mem.min_gpus("llama-3.1-8b", "no-such-gpu"), "gpu=no-such-gpu"),
    ],
)
def test_bad_input_names_parameter(call, parameter):
    name, value = parameter.split("=")
    with pytest.raises(InputError) as err:
        call()
    assert err.value.parameter == name
    assert value in str(err.value)


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_llama_8b_kv_bytes_exact(capsys):
    assert main(["memory", "--model", "llama-3.1-8b", "--precision", "fp16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kv_bytes_per_token"] == 131072 and isinstance(out["kv_bytes_per_token"], int)
    for key in ("weights_gb", "kv_cache_gb", "activations_gb", "gradients_gb", "optimizer_gb", "overhead_gb", "total_gb"):
        assert isinstance(out[key], float)
    assert out["kv_cache_gb"] == pytest.approx(131072 * 2048 / GB, abs=1e-4)
    assert out["fits"]["a100-80gb"] is True and out["fits"]["t4"] is False
    assert out["min_gpus"]["t4"] == 2


def test_cli_training_modes(capsys):
    assert main(["memory", "--model", "llama-3.1-8b", "--precision", "bf16", "--mode", "train", "--gpus", "8", "--zero", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "full" and out["gradients_gb"] > 0 and out["optimizer_gb"] > 0
    assert main(["memory", "--model", "llama-3.1-8b", "--precision", "bf16", "--mode", "qlora", "--json"]) == 0
    q = json.loads(capsys.readouterr().out)
    assert q["total_gb"] < out["total_gb"] * 8


def test_cli_params_only(capsys):
    assert main(["memory", "--params", "7B", "--precision", "int4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kv_cache_gb"] is None and out["kv_bytes_per_token"] is None
    assert out["weights_gb"] == pytest.approx(7e9 * 4.125 / 8 / GB, abs=1e-4)
    assert any("KV cache" in n for n in out["notes"])
    assert main(["memory", "--params", "7B", "--precision", "int4", "--context", "4096"]) == 2
    assert "context=4096" in capsys.readouterr().err


def test_cli_bad_input_exits_2(capsys):
    assert main(["memory", "--model", "llama-3.1-8b", "--precision", "int3"]) == 2
    assert main(["memory", "--model", "nope", "--precision", "fp16"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'int3'" in err and "model='nope'" in err


# --- edge / GGUF --------------------------------------------------------------------------------


def test_gguf_q4_0_is_4_5_bits_and_matches_ollama_file_sizes():
    # llama.cpp Q4_0: 32 weights + one fp16 scale per block -> 4 + 16/32 = 4.5 bits
    assert mem.bits_per_weight("int4", group_size=mem.GGUF_BLOCK) == 4.5
    assert mem.bits_per_weight("int8", group_size=mem.GGUF_BLOCK) == 8.5
    # Ollama's library: Llama 2 7B 3.8 GB, 13B 7.3 GB (Q4_0); the whole model at 4.5 bits
    for model, published in (("llama-2-7b", 3.8), ("llama-2-13b", 7.3)):
        gb = mem.edge_memory(model, "int4", 0).weights_gb
        assert gb == pytest.approx(get_model(model).total_params * 4.5 / 8 / GB)
        assert abs(gb / published - 1) < 0.02


def test_ram_tier_picks_the_smallest_that_holds():
    assert mem.ram_tier(7.9) == 8 and mem.ram_tier(8.0) == 8 and mem.ram_tier(8.01) == 16
    assert mem.ram_tier(64.5) is None
    with pytest.raises(InputError, match="total_gb"):
        mem.ram_tier(-1)


def test_embeddings_stay_16_bit_below_16_bits_unless_gguf():
    m = get_model("llama-3.2-1b")
    gptq = mem.inference_memory(m, "int4", 0).weights_gb * GB
    emb = m.embedding_params
    assert gptq == pytest.approx((m.total_params - emb) * 4.125 / 8 + emb * 2)
    assert mem.edge_memory(m, "int4", 0).weights_gb * GB == pytest.approx(m.total_params * 4.5 / 8)


def test_fit_table_agrees_with_fits_and_min_gpus():
    t = mem.fit_table(["llama-3.1-8b", "llama-3.1-70b"], ["t4", "a100-80gb"], ("bf16", "int4"), context=4096)
    assert len(t) == 2 * 2 * 2
    row = t[(t.model == "llama-3.1-70b") & (t.gpu == "a100-80gb") & (t.precision == "bf16")].iloc[0]
    assert not row.fits and row.min_gpus == 2
    assert ((t.min_gpus == 1) == t.fits).all()


# --- fine-tuning memory as practiced -----------------------------------------------------------------------------
def test_8bit_adamw_state_bytes_by_hand():
    m = get_model("llama-3.1-8b")
    assert mem.optimizer_state_bytes(m, "adamw8bit") == 2 * m.total_params  # Dettmers et al. 2022: 2 x 8-bit moments
    assert mem.optimizer_state_bytes(m, "adamw") == 8 * m.total_params
    # pure bf16 (torchtune) + 8-bit states on the GPU: 2 + 2 + 2 bytes per parameter
    b = mem.training_memory(m, "full", "bf16", "adamw8bit", master_weights=False, optimizer_in_backward=False)
    assert (b.weights_gb + b.gradients_gb + b.optimizer_gb) * GB == pytest.approx(6 * m.total_params)
    # paged: the states move to host memory and out of the GPU total
    p = mem.training_memory(m, "full", "bf16", "adamw8bit-paged", master_weights=False, optimizer_in_backward=False)
    assert p.optimizer_gb == 0 and p.host_gb * GB == pytest.approx(2 * m.total_params)


def test_adafactor_factored_states_by_hand():
    m = get_model("llama-3.2-1b")
    shapes = mem._matrix_shapes(m, "full", 0, "all-linear")
    assert mem.optimizer_state_bytes(m, "adafactor") == pytest.approx(sum(4 * (r + c) * n for r, c, n in shapes))
    assert mem.optimizer_state_bytes(m, "adafactor") < 0.01 * mem.optimizer_state_bytes(m, "adamw")


def test_optimizer_in_backward_keeps_one_gradient():
    m = get_model("llama-3.1-8b")
    b = mem.training_memory(m, "full", optimizer_in_backward=True)
    assert b.gradients_gb * GB == pytest.approx(128256 * 4096 * 2)  # the largest tensor: an embedding matrix in bf16


def test_fsdp_sharded_lora_base_by_hand():
    # Llama-3.1-70B LoRA on 8 GPUs with FSDP: the bf16 base is sharded 8 ways, plus two gathered layers
    m = get_model("llama-3.1-70b")
    one = mem.training_memory(m, "lora", lora_rank=16, lora_targets="torchtune", zero=0)
    fsdp = mem.training_memory(m, "lora", lora_rank=16, lora_targets="torchtune", zero=3, gpus=8)
    layer = m.attention_params_per_layer + m.norm_params_per_layer + m.mlp_params_per_dense_layer
    assert fsdp.weights_gb * GB == pytest.approx(one.weights_gb * GB / 8 + 2 * layer * 2)
    assert fsdp.total_gb < 80 < one.total_gb  # "does not fit" on one 80 GB GPU, fits on each of 8


def test_offload_moves_states_to_host():
    m = "llama-3.1-8b"
    base = mem.training_memory(m, "full")
    off = mem.training_memory(m, "full", offload="optimizer")
    assert off.optimizer_gb == 0 and off.host_gb == pytest.approx(base.optimizer_gb)
    allo = mem.training_memory(m, "full", offload="all", zero=3, gpus=8)
    assert allo.gradients_gb == 0 and allo.total_gb < off.total_gb


@settings(max_examples=30, deadline=None)
@given(g=st.integers(1, 63), mode=st.sampled_from(["full", "lora", "qlora"]), z=st.integers(0, 3))
def test_more_gpus_never_raise_per_gpu_memory(g, mode, z):
    a = mem.training_memory("llama-3.1-8b", mode, zero=z, gpus=g)
    b = mem.training_memory("llama-3.1-8b", mode, zero=z, gpus=g + 1)
    assert b.total_gb <= a.total_gb + 1e-12


@settings(max_examples=30, deadline=None)
@given(s=st.integers(128, 8192), b=st.integers(1, 8), mode=st.sampled_from(["full", "lora", "qlora"]),
       attention=st.sampled_from(["flash", "materialized"]))
def test_checkpointing_never_raises_memory(s, b, mode, attention):
    none = mem.training_memory("llama-3.2-1b", mode, seq_len=s, batch=b, recompute="none", attention=attention)
    sel = mem.training_memory("llama-3.2-1b", mode, seq_len=s, batch=b, recompute="selective", attention=attention)
    full = mem.training_memory("llama-3.2-1b", mode, seq_len=s, batch=b, recompute="full", attention=attention)
    assert full.total_gb <= sel.total_gb <= none.total_gb


def test_training_memory_bad_input():
    for call, text in [
        (lambda: mem.training_memory("llama-3.1-8b", offload="disk"), "offload='disk'"),
        (lambda: mem.training_memory("llama-3.1-8b", attention="sparse"), "attention='sparse'"),
        (lambda: mem.training_memory("llama-3.1-8b", "lora", recipe="qlora-paper"), "recipe"),
        (lambda: mem.training_memory("llama-3.1-8b", "full", recipe="nope"), "recipe='nope'"),
        (lambda: mem.training_memory("llama-3.1-8b", "lora", lora_rank=0), "lora_rank"),
    ]:
        with pytest.raises(InputError, match=text):
            call()
