"""Fine-tuning: hand-worked terms, the calibrated efficiency band, the back-test, the Done-when CLI cases, bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costlib import finetune as ft
from costlib import memory as mem
from costlib.cli import main
from costlib.errors import InputError
from costlib.hardware import get_device
from costlib.models import get_model

GB = 1e9


def test_executed_flops_per_token_by_hand():
    m = get_model("llama-3.1-8b")
    n = m.active_params
    a = mem.lora_trainable_params(m, 8, "torchtune")
    # 32 layers x (q 4096+4096, v 4096+1024, o 4096+4096, gate/up 4096+14336, down 14336+4096) x rank 8
    assert a == 32 * 8 * ((4096 + 4096) + (4096 + 1024) + (4096 + 4096) + 3 * (4096 + 14336))
    attn = 3 * 4 * 32 * (2048 + 1) / 2 * 4096  # forward 4·L·ctx·d_attn, causal mean ctx, x3 for training
    assert ft.executed_flops_per_token(m, "lora", 2048, "full", 8, "torchtune") == pytest.approx(6 * n + 8 * a + attn * 4 / 3)
    assert ft.executed_flops_per_token(m, "lora", 2048, "none", 8, "torchtune") == pytest.approx(4 * n + 6 * a + attn)
    assert ft.executed_flops_per_token(m, "full", 2048, "full") == pytest.approx(8 * n + attn * 4 / 3)


def test_qlora_dequantization_time_by_hand():
    # Llama-3.1-8B QLoRA on an RTX 4090 with checkpointing: 3 passes x quantized params x (4.127/8 + 2) B / 1008 GB/s
    m = get_model("llama-3.1-8b")
    br = mem.training_memory(m, "qlora", lora_rank=8, lora_targets="torchtune", seq_len=2048, batch=2)
    over = ft.step_overheads_s(m, "qlora", "rtx-4090", gpus=1, memory=br, checkpointing="full", offload="none", optimizer="adamw")
    q = m.total_params - m.embedding_params - m.layers * m.norm_params_per_layer - m.d_model
    assert over["dequant"] == pytest.approx(3 * q * (4.127 / 8 + 2) / 1008e9, rel=1e-3)
    assert over["paging"] == 0 and over["offload"] == 0


def test_padding_factor():
    assert ft.padding_factor(1, False) == 1.0 and ft.padding_factor(8, True) == 1.0
    assert ft.padding_factor(2, False) == pytest.approx(4 / 3)  # mean of the max of 2 uniforms on [0, 2m]
    assert ft.padding_factor(4, False) == pytest.approx(8 / 5)


def test_efficiency_band_is_calibrated_on_its_own_measurements():
    vals = [ft.implied_efficiency(b) for b in ft.fit_benchmarks()]
    assert all(0 < v < 1 for v in vals)  # every calibrating measurement is physically possible
    assert all(ft.implied_efficiency(b) > 1 for b in ft.load_finetune_benchmarks() if not b.use_in_fit)
    # torchtune: every measurement at one tokens-per-step per model, so no fixed overhead is fitted (t0 = 0) and the
    # band's mid is the median of its implied efficiencies (ratios r_i = e_ref / e_i; mid = e_ref / median r)
    tt = [ft.implied_efficiency(b) for b in ft.fit_benchmarks() if b.framework == "torchtune"]
    assert ft.step_overhead_s("torchtune")[0] == 0.0
    band = ft.efficiency_band(framework="torchtune")
    assert band.mid == pytest.approx(np.median(tt), rel=1e-9)
    assert 0 < band.low < band.mid <= band.high <= 1.0
    # the pooled band and each family's hold their own measurements only
    assert ft.efficiency_info("hf-peft")["measurements"] == sum(b.framework == "hf-peft" for b in ft.fit_benchmarks())
    assert ft.efficiency_info(None)["measurements"] == len(ft.fit_benchmarks())


def test_qwen_7b_spec_counts_its_published_parameters():
    assert ft.QWEN_7B.total_params == pytest.approx(7.72e9, rel=0.005)
    assert ft.benchmark_model("qwen-7b") is ft.QWEN_7B and ft.benchmark_model("llama-3.1-8b").id == "llama-3.1-8b"


def test_fixed_step_overhead_by_hand():
    # hf-peft (Qwen-7B, micro-batch 1, 256-8192 tokens): the fit is (e, t0) minimising sum of log(measured / (x / e + t0))^2
    rows = [b for b in ft.fit_benchmarks() if b.framework == "hf-peft"]
    t0, e = ft.step_overhead_s("hf-peft")
    shortest = min(ft._step_parts(b)[1] for b in rows)
    # t0 may not exceed the shortest measured micro-step (Qwen-7B LoRA at 256 tokens: 256 / (8 x 256 / 1.2 s) = 0.15 s);
    # on these measurements the fit sits at that cap (the ZeRO-3 and GPTQ rows have longer fixed floors still)
    assert shortest == pytest.approx(256 / (8 * 256 / 1.2), rel=1e-5)  # tokens/s stored to 6 digits
    assert 0 < t0 <= shortest + 1e-12 and 0.05 <= e <= 1

    def sse(e_, t0_):
        return sum(np.log(tm / (x / e_ + t0_)) ** 2 for x, tm in (ft._step_parts(b) for b in rows))

    best = sse(e, t0)
    for de, dt in ((1.05, 0), (0.95, 0), (1, -0.02), (1.05, -0.02), (0.95, -0.02)):
        assert best <= sse(e * de, max(t0 + dt, 0.0)) + 1e-12  # a minimum inside the allowed region
    # Qwen-7B LoRA at 2048 tokens: 8 x 2048 / 5.2 s = 3151 tokens/s; the model at (e, t0): x / e + t0 per micro-step
    b = ft.get_benchmark("qwen-7b-lora-2048")
    x, tm = ft._step_parts(b)
    assert tm == pytest.approx(2048 / (8 * 2048 / 5.2))
    assert x / e + t0 == pytest.approx(tm, rel=0.25)
    # the overhead makes short micro-steps slower per token: micro-batch 1 x 256 runs below 1 x 2048
    short = ft.estimate(ft.QWEN_7B, "lora", "a100-80gb", tokens=1e6, seq_len=256, micro_batch=1, framework="hf-peft")
    long = ft.estimate(ft.QWEN_7B, "lora", "a100-80gb", tokens=1e6, seq_len=2048, micro_batch=1, framework="hf-peft")
    assert short.tokens_per_s.mid < long.tokens_per_s.mid
    # a pinned efficiency is the user's whole-step utilisation: no fixed overhead is added
    pinned = ft.estimate(ft.QWEN_7B, "lora", "a100-80gb", tokens=1e6, efficiency=0.5)
    assert pinned.assumptions["step_overheads_s"]["fixed_per_step"] == 0.0


def test_finetune_backtest_goals():
    s = ft.backtest_summary()
    assert s["measurements"] >= 20
    assert s["loo_median_abs_error"] <= 0.20
    assert s["nominal_coverage"] - 0.10 <= s["loo_coverage"] <= s["nominal_coverage"] + 0.10
    fam = s["by_framework"]
    assert set(fam) == {"torchtune", "hf-peft"}
    for f in fam.values():
        assert f["loo_median_abs_error"] <= 0.20
        assert f["loo_coverage"] >= f["nominal_coverage"] - 0.10
    # memory: torchtune's reserved-memory peaks within 15 % (median); the Qwen README's peaks (how they were read is
    # not stated; HF computes the 152k-vocabulary logits unchunked in fp32) run 20-37 % above costlib: reported, bounded
    assert fam["torchtune"]["memory_median_abs_error"] <= 0.15 and fam["torchtune"]["memory_max_abs_error"] <= 0.30
    assert fam["hf-peft"]["memory_median_abs_error"] <= 0.40


def test_framework_choice_and_default():
    hf = ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=1e7)  # PEFT default recipe -> hf-peft band
    tt = ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=1e7, framework="torchtune")
    assert hf.assumptions["efficiency"]["framework"].startswith("Hugging Face")
    assert tt.assumptions["efficiency"]["framework"].startswith("torchtune")
    rec = ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=1e7, recipe_name="torchtune-lora-single-device")
    assert rec.assumptions["efficiency"]["framework"].startswith("torchtune")
    with pytest.raises(InputError, match="framework"):
        ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=1e7, framework="axolotl")


def test_more_tokens_take_longer_and_packing_helps():
    a = ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=1e7)
    b = ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=2e7)
    assert b.wall_hours.mid == pytest.approx(2 * a.wall_hours.mid)
    padded = ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=1e7, packed=False, tokens_per_example=300, micro_batch=4, seq_len=2048)
    packed = ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=1e7, packed=True, micro_batch=4, seq_len=2048)
    assert padded.wall_hours.mid > packed.wall_hours.mid
    for band in (a.tokens_per_s, a.wall_hours, a.gpu_hours):
        assert band.low <= band.mid <= band.high


def test_checkpointing_costs_time_and_saves_memory():
    on = ft.estimate("llama-3.1-8b", "full", "h100-sxm", tokens=1e7, checkpointing="full")
    off = ft.estimate("llama-3.1-8b", "full", "h100-sxm", tokens=1e7, checkpointing="none")
    assert on.wall_hours.mid > off.wall_hours.mid and on.memory.total_gb < off.memory.total_gb


def test_dataset_tokens_and_bad_input():
    assert ft.dataset_tokens(examples=52_002, tokens_per_example=300, epochs=3) == 52_002 * 300 * 3
    assert ft.dataset_tokens(tokens=1e6, epochs=2) == 2e6
    with pytest.raises(InputError, match="tokens"):
        ft.dataset_tokens(examples=10)
    with pytest.raises(InputError, match="method"):
        ft.estimate("llama-3.1-8b", "adapter", "a100-80gb", tokens=1e6)
    with pytest.raises(InputError, match="micro_batch"):
        ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=1e6, micro_batch=0)
    with pytest.raises(InputError, match="recipe"):
        ft.estimate("llama-3.1-8b", "lora", "a100-80gb", tokens=1e6, recipe_name="qlora-paper")


# --- the Done-when cases ----------------------------------------------------------------------------------------
def test_cli_full_finetune_of_8b_fits_one_24_gb_card(capsys):
    argv = ["finetune", "--model", "llama-3.1-8b", "--method", "full", "--gpu", "rtx-4090", "--optimizer", "adamw8bit-paged",
            "--checkpointing", "--micro-batch", "2", "--seq-len", "2048", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fits"] is True
    assert out["memory_gb"] * GB <= get_device("rtx-4090").memory_bytes
    assert out["assumptions"]["recipe"].startswith("torchtune llama3_1/8B_full_single_device")
    assert out["tokens_per_s"]["low"] < 1650 < out["tokens_per_s"]["high"]  # torchtune README measurement


def test_cli_qlora_65b_under_48_gb_with_named_defaults(capsys):
    assert main(["memory", "--model", "llama-65b", "--precision", "int4", "--mode", "qlora", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total_gb"] < 48
    a = out["assumptions"]
    assert "QLoRA paper" in a["recipe"] and "finetune_guanaco_65b.sh" in a["recipe"]
    for key in ("optimizer", "checkpointing", "micro_batch", "seq_len", "lora_rank", "lora_targets", "attention", "sharding"):
        assert key in a
    assert main(["memory", "--model", "llama-65b", "--precision", "bf16", "--mode", "full", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_gb"] > 780


@pytest.mark.parametrize("argv, flag", [
    (["--optimizer", "adagrad"], "optimizer"),
    (["--micro-batch", "0"], "micro_batch"),
    (["--lora-targets", "qkv"], "lora_targets"),
    (["--recipe", "nope"], "recipe"),
    (["--examples", "100"], "tokens"),
])
def test_cli_finetune_bad_input_is_one_line_naming_the_flag(capsys, argv, flag):
    base = ["finetune", "--model", "llama-3.1-8b", "--method", "lora", "--gpu", "a100-80gb"]
    assert main(base + argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and flag in err


def test_cli_finetune_json_is_strict(capsys):
    assert main(["finetune", "--model", "llama-3.1-70b", "--method", "lora", "--gpu", "a100-80gb", "--gpus", "8",
                 "--tokens", "50M", "--json"]) == 0
    raw = capsys.readouterr().out
    json.loads(raw, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    out = json.loads(raw)
    assert out["fits"] is True and out["assumptions"]["settings"]["zero"] == 3  # FSDP-sharded base on 8 GPUs


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 7), mode=st.sampled_from(["full", "lora", "qlora"]))
def test_throughput_never_falls_with_more_gpus_per_token_budget(k, mode):
    a = ft.estimate("llama-3.1-8b", mode, "a100-80gb", tokens=1e7, gpus=k, zero=3)
    b = ft.estimate("llama-3.1-8b", mode, "a100-80gb", tokens=1e7, gpus=k + 1, zero=3)
    assert b.tokens_per_s.mid >= a.tokens_per_s.mid


def test_explain_finetune_formula_matches_the_estimate(capsys):
    """The --explain basis of `finetune` walks finetune.estimate's step-time model and lands on its tokens/s."""
    import json
    import re

    from costlib.cli import main

    for argv in (["--model", "llama-3.1-8b", "--method", "qlora", "--gpu", "rtx-4090", "--tokens", "10M"],
                 ["--model", "llama-3.1-8b", "--method", "full", "--gpu", "a100-80gb", "--gpus", "8", "--examples", "52002",
                  "--tokens-per-example", "300", "--no-packing", "--micro-batch", "4", "--seq-len", "512"]):
        assert main(["finetune", *argv, "--explain", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        formula = out["basis"]["formula"]
        assert not any("MFU" in line for line in formula)  # the pre-training band is not what finetune uses
        step = next(line for line in formula if line.strip().startswith("at the mid efficiency"))
        step_s = float(re.search(r"= ([0-9.e+-]+) s$", step).group(1))
        st = out["assumptions"]["settings"]
        tps = out["gpus"] * st["micro_batch"] * st["computed_seq_len"] / out["assumptions"]["padding_factor"] / step_s
        assert tps == pytest.approx(out["tokens_per_s"]["mid"], rel=2e-3)
        names = [i["name"] for i in out["basis"]["inputs"]]
        assert any(n.startswith("fine-tuning efficiency band") for n in names)


def test_data_parallel_comm_by_hand():
    # Llama-2-7B full fine-tune on 8 x A100 80GB (600 GB/s NVLink both ways -> 300e9 B/s per direction), ZeRO-3:
    # all-gather before forward and backward (2 x 2 B x N) + reduce-scatter of bf16 gradients (2 B x N), x 7/8
    n = get_model("llama-2-7b").total_params
    assert ft.data_parallel_comm_s("llama-2-7b", "full", "a100-80gb", gpus=8, zero=3) == pytest.approx(7 / 8 * 6 * n / 300e9)
    # DDP (ZeRO 0): all-reduce of the gradients = 2 x 2 B x trained x (k - 1) / k
    assert ft.data_parallel_comm_s("llama-2-7b", "full", "a100-80gb", gpus=2, zero=0) == pytest.approx(1 / 2 * 4 * n / 300e9)
    # a QLoRA base sharded with FSDP gathers NF4 bytes, not 16-bit ones; the adapters' gradients are small
    q = ft.data_parallel_comm_s("llama-2-7b", "qlora", "a100-80gb", gpus=8, zero=3)
    lo = ft.data_parallel_comm_s("llama-2-7b", "lora", "a100-80gb", gpus=8, zero=3)
    assert q < lo / 3
    # one GPU communicates nothing; a PCIe card without NVLink (RTX 4090, 64 GB/s both ways) is 600/64 times slower
    assert ft.data_parallel_comm_s("llama-2-7b", "full", "a100-80gb", gpus=1, zero=3) == 0.0
    r = ft.data_parallel_comm_s("llama-2-7b", "full", "rtx-4090", gpus=8, zero=3) / ft.data_parallel_comm_s(
        "llama-2-7b", "full", "a100-80gb", gpus=8, zero=3)
    assert r == pytest.approx(600 / 64)
    # overlapped: on 8 x RTX 4090 over PCIe the 7B full fine-tune step is bound by communication, so more tokens
    # per step cost no extra time until compute catches up
    a = ft.estimate("llama-2-7b", "full", "rtx-4090", gpus=8, tokens=1e6, seq_len=512, micro_batch=1, framework="hf-peft")
    assert a.assumptions["step_overheads_s"]["comm"] > 0
