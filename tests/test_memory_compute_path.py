"""One rule for the bytes of an activation value in serving memory: the device's compute path.

costlib.inference.compute_path decides at which dense peak a weight format's matmuls run on a device
(native, or dequantized to 16-bit, or FP32 on a CPU without 16-bit peaks) and the bytes per activation
value that follow. costlib.memory takes that decision as ``compute_precision`` (it cannot import
costlib.inference, which imports it) and must count the same bytes."""
from __future__ import annotations

import pytest

from costlib import inference as inf
from costlib import memory as mem
from costlib.errors import InputError
from costlib.hardware import devices
from costlib.units import GB

# one device or more per class of the catalog: GPUs, a TPU, both CPUs (one with a BF16 peak, one FP32 only), an Apple SoC
DEVICES = ("h100-sxm", "t4", "b200", "tpu-v5e", "i9-13900k", "epyc-9654", "m2-max")
FORMATS = tuple(inf.weight_formats())


def test_the_grid_covers_every_device_class():
    kinds = {devices()[d].kind for d in DEVICES}
    assert kinds == {d.kind for d in devices().values()}


def test_a_7b_at_batch_1_on_a_cpu_counts_4_byte_activations():
    """Hand-worked: Llama 2 7B (d_model 4096, SwiGLU ffn 11008, vocab 32000), one sequence of 2048 tokens
    (2048 < the 8192-token prefill chunk, so all 2048 at once) as GGUF Q4_0 on an i9-13900K, whose catalog
    row has an FP32 peak only: the path is fp32 weight-only, so 4 bytes per activation value.
    Per token 4 x 4096 + 3 x 11008 = 49,408 values; 2048 x 49,408 x 4 = 404,750,336 B; plus the fp32 logits
    of the last token, 32,000 x 4 = 128,000 B: 404,878,336 B. At 16 bits (a GPU) the values take half:
    202,375,168 + 128,000 = 202,503,168 B."""
    cp = inf.compute_path("i9-13900k", "gguf-q4_0")
    assert (cp.precision, cp.activation_bytes) == ("fp32", 4.0)
    storage = inf.storage_precision("gguf-q4_0")
    cpu = mem.inference_activation_bytes("llama-2-7b", 2048, 1, storage, compute_precision=cp.precision)
    assert cpu == pytest.approx(404_878_336, abs=0.5)
    gpu_path = inf.compute_path("a100-80gb", "gguf-q4_0").precision
    gpu = mem.inference_activation_bytes("llama-2-7b", 2048, 1, storage, compute_precision=gpu_path)
    assert gpu == pytest.approx(202_503_168, abs=0.5)
    br = mem.inference_memory("llama-2-7b", storage, 2048, 1, compute_precision=cp.precision)
    assert br.activations_gb * GB == pytest.approx(404_878_336, rel=1e-12)
    # the weights, KV cache and overhead do not depend on the compute path
    base = mem.inference_memory("llama-2-7b", storage, 2048, 1)
    assert (br.weights_gb, br.kv_cache_gb, br.overhead_gb) == (base.weights_gb, base.kv_cache_gb, base.overhead_gb)


@pytest.mark.parametrize("gpu", DEVICES)
def test_memory_counts_the_bytes_of_the_inference_compute_path(gpu):
    """Property over (device class, weight format): the activation bytes per value memory counts are the
    ones compute_path reports, and the working set scales with them (values x bytes + fp32 logits)."""
    m = inf._resolve_model("llama-3.1-8b")
    k = 3  # SwiGLU
    values_per_token = 4 * m.d_model + k * m.ffn_dim
    for fmt in FORMATS:
        cp = inf.compute_path(gpu, fmt)
        storage = inf.storage_precision(fmt)
        assert mem.inference_activation_value_bytes(storage, cp.precision) == cp.activation_bytes, (gpu, fmt)
        act = mem.inference_activation_bytes(m, 1000, 2, storage, compute_precision=cp.precision)
        assert act == pytest.approx(2000 * values_per_token * cp.activation_bytes + 2 * m.vocab * mem.LOGITS_BYTES,
                                    rel=1e-12), (gpu, fmt)


@pytest.mark.parametrize("gpu", [d for d in devices() if devices()[d].kind == "gpu"])
def test_without_a_device_memory_takes_the_gpu_path(gpu):
    """The default (no compute precision given) is the path every GPU in the catalog takes: bytes of the
    stored precision's arithmetic (16-bit for every served format)."""
    for fmt in FORMATS:
        cp = inf.compute_path(gpu, fmt)
        assert mem.inference_activation_value_bytes(inf.storage_precision(fmt)) == cp.activation_bytes, (gpu, fmt)


def test_a_cpu_without_16_bit_peaks_differs_from_the_default_and_a_bf16_cpu_does_not():
    storage = inf.storage_precision("fp16")
    fp32_cpu = inf.compute_path("i9-13900k", "fp16")
    bf16_cpu = inf.compute_path("epyc-9654", "fp16")
    assert (fp32_cpu.precision, bf16_cpu.precision) == ("fp32", "bf16")
    default = mem.inference_activation_bytes("llama-2-7b", 512, 1, storage)
    assert mem.inference_activation_bytes("llama-2-7b", 512, 1, storage, compute_precision=bf16_cpu.precision) == default
    on_fp32 = mem.inference_activation_bytes("llama-2-7b", 512, 1, storage, compute_precision=fp32_cpu.precision)
    logits = 32000 * mem.LOGITS_BYTES
    assert on_fp32 - logits == pytest.approx(2 * (default - logits), rel=1e-12)


def test_min_gpus_takes_the_compute_path_through():
    """A bigger activation working set never lowers the GPU count."""
    for gpu in ("l4", "t4"):
        at16 = mem.min_gpus("llama-3.1-70b", gpu, "bf16", 8192, 8)
        at32 = mem.min_gpus("llama-3.1-70b", gpu, "bf16", 8192, 8, compute_precision="fp32")
        assert at16 is not None and at32 is not None and at32 >= at16


@pytest.mark.parametrize("bad", ["fp64", "int4", "", "FP32", 4])
def test_bad_compute_precision_is_one_line_naming_it(bad):
    with pytest.raises(InputError) as info:
        mem.inference_memory("llama-2-7b", "fp16", 1024, 1, compute_precision=bad)
    text = str(info.value)
    assert "\n" not in text and text.startswith("compute_precision=") and "fp32" in text
