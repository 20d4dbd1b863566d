"""Issue 17, one rule: the compute path of a weight format (native low-precision math or weight-only
dequantization to 16-bit) is decided once, by costlib.inference.compute_path from weight_formats.csv, and
inference, serving and memory agree on it over a grid of devices and formats."""
import pytest

from costlib import inference as inf
from costlib import memory as mem
from costlib import serving as sv
from costlib.hardware import get_device

GPUS = ("t4", "l4", "a100-80gb", "h100-sxm", "h200", "b200", "rtx-4090", "mi300x")
FORMATS = tuple(inf.weight_formats())


@pytest.mark.parametrize("fmt", ["fp8", "int8", "bf16", "gguf-q8_0", "awq-int4", "nvfp4", "mxfp4"])
@pytest.mark.parametrize("gpu", ["t4", "a100-80gb", "h100-sxm", "b200"])
def test_hand_checked_paths(gpu, fmt):
    """Worked from the catalogs: FP8 is native only on FP8 tensor cores (H100, B200; A100 and T4 dequantize);
    INT8 W8A8 is native where INT8 tensor cores exist (all four); GGUF/AWQ are weight-only; FP4 formats are
    native only on Blackwell; BF16 on a T4 (no BF16 tensor cores) computes at FP16."""
    expected = {
        ("t4", "fp8"): ("fp16", "weight-only"), ("a100-80gb", "fp8"): ("fp16", "weight-only"),
        ("h100-sxm", "fp8"): ("fp8", "native"), ("b200", "fp8"): ("fp8", "native"),
        ("t4", "bf16"): ("fp16", "weight-only"), ("a100-80gb", "bf16"): ("bf16", "native"),
        ("h100-sxm", "bf16"): ("bf16", "native"), ("b200", "bf16"): ("bf16", "native"),
        ("b200", "nvfp4"): ("fp4", "native"), ("b200", "mxfp4"): ("fp4", "native"),
    }
    for g in ("t4", "a100-80gb", "h100-sxm", "b200"):
        expected.setdefault((g, "int8"), ("int8", "native"))
        for f in ("gguf-q8_0", "awq-int4", "nvfp4", "mxfp4"):
            expected.setdefault((g, f), ("fp16", "weight-only"))
    cp = inf.compute_path(gpu, fmt)
    assert (cp.precision, cp.kind) == expected[(gpu, fmt)]


@pytest.mark.parametrize("gpu", GPUS)
def test_inference_serving_and_memory_agree(gpu):
    device = get_device(gpu)
    model = "llama-3.1-8b"
    for fmt in FORMATS:
        cp = inf.compute_path(device, fmt)
        # inference: the peak its step times divide by
        assert inf.compute_precision(device, fmt) == cp.precision
        assert inf.effective_peak_flops(device, fmt) == device.peak_flops(cp.precision)
        # serving: the prefill coefficient is FLOPs per token over that same peak
        c = sv.coefficients(inf._resolve_model(model), device.id, fmt, "fp16", "vllm", 1, 512, 128, 2048)
        f_pre = float(inf.flops_per_token(inf._resolve_model(model), 512))
        assert f_pre / c.pre_c == pytest.approx(device.peak_flops(cp.precision), rel=1e-12), fmt
        # serving: the assumptions it prints name the same path
        bands = inf.engine_bands("vllm")
        text = " ".join(sv.serving_assumptions(inf._resolve_model(model), device.id, fmt, inf.get_engine("vllm"),
                                               "fp16", 1, c, bands))
        assert f"{cp.precision} dense peak ({cp.kind})" in text, fmt
        # memory: the activation bytes it counts for the stored format are the compute path's
        assert mem._act_bytes(inf.storage_precision(fmt)) == cp.activation_bytes, fmt


def test_a_cpu_computes_at_fp32_and_the_path_says_so():
    cp = inf.compute_path("i9-13900k", "gguf-q4_0")
    assert (cp.precision, cp.kind, cp.activation_bytes) == ("fp32", "weight-only", 4.0)
