"""costlib.roofline.decode_floor: the device-at-a-precision summary behind chapter 00's widget and explorer."""

import pytest

from costlib.errors import InputError
from costlib.roofline import decode_floor


def test_a100_bf16_7b_hand_worked():
    # A100-80GB datasheet: 312 TFLOP/s dense BF16, 2,039 GB/s. 7e9 weights x 2 bytes = 14 GB.
    f = decode_floor("a100-80gb", "bf16", 7e9)
    assert f.peak_tflops == 312.0
    assert f.ridge_flops_per_byte == pytest.approx(312e12 / 2039e9)  # 153.0
    assert f.weight_read_ms == pytest.approx(14e9 / 2039e9 * 1e3)  # 6.866 ms
    assert f.max_batch1_tokens_per_s == pytest.approx(2039 / 14)  # 145.6 tokens/s


def test_tf32_reads_fp32_weights_and_fewer_bits_read_faster():
    tf32 = decode_floor("a100-80gb", "tf32", 7e9)
    assert tf32.weight_read_ms == pytest.approx(28e9 / 2039e9 * 1e3)
    fp8 = decode_floor("h100-sxm", "fp8", 7e9)
    bf16 = decode_floor("h100-sxm", "bf16", 7e9)
    assert fp8.max_batch1_tokens_per_s == pytest.approx(2 * bf16.max_batch1_tokens_per_s)
    assert fp8.ridge_flops_per_byte == pytest.approx(2 * bf16.ridge_flops_per_byte)


def test_bad_inputs_name_the_parameter():
    with pytest.raises(InputError, match="precision"):
        decode_floor("t4", "bf16", 7e9)  # the T4 has no BF16 tensor cores
    with pytest.raises(InputError, match="params"):
        decode_floor("a100-80gb", "bf16", -1)


def test_fp4_floor_on_blackwell_reads_mxfp4_blocks():
    # B200: 9,000 TFLOP/s dense FP4, 7,700 GB/s; 7e9 weights x 4.25 bits / 8 = 3.72 GB per step
    f = decode_floor("b200", "fp4", 7e9)
    assert f.peak_tflops == 9000
    assert f.weight_read_ms == pytest.approx(7e9 * 4.25 / 8 / 7700e9 * 1e3)
    with pytest.raises(InputError, match="h100-sxm has dense peaks for"):
        decode_floor("h100-sxm", "fp4", 7e9)  # Hopper has no FP4 tensor cores


def test_new_devices_have_a_floor_at_their_16_bit_precision():
    from costlib.hardware import devices

    for d in devices().values():
        p = "bf16" if "bf16" in d.precisions else "fp16" if "fp16" in d.precisions else "fp32"
        f = decode_floor(d, p, 7e9)
        assert f.max_batch1_tokens_per_s == pytest.approx(d.bandwidth_gb_s * 1e9 / (7e9 * (4 if p == "fp32" else 2)))


def test_roofline_at_a_compute_precision_by_hand():
    from costlib.inference import attainable_flops
    from costlib.roofline import roofline_flops

    # A100-80GB: 2,039 GB/s, 312 TFLOP/s dense BF16: 1 FLOP/byte is bandwidth-bound, 1e4 compute-bound
    assert roofline_flops("a100-80gb", "bf16", 1.0) == pytest.approx(2039e9)
    assert roofline_flops("a100-80gb", "bf16", 1e4) == pytest.approx(312e12)
    assert roofline_flops("a100-80gb", "bf16", [1.0, 1e4]).tolist() == pytest.approx([2039e9, 312e12])
    # the two rooflines mean different things: INT8 tensor cores (624 TOPS) vs INT8 *weights*, whose matrix
    # multiplies the inference model runs on its compute path for that weight format
    assert roofline_flops("a100-80gb", "int8", 1e4) == pytest.approx(624e12)
    assert attainable_flops("a100-80gb", "int8", 1e4) <= roofline_flops("a100-80gb", "int8", 1e4)
