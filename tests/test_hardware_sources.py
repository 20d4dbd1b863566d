"""Hardware rows whose peaks are derived (no vendor figure) are hand-worked from the clock their notes cite."""
from __future__ import annotations

import pytest

from costlib.hardware import get_device


@pytest.mark.parametrize("device, cores, ghz", [("m3-max", 40, 1.398), ("m4-max", 40, 1.678)])
def test_apple_gpu_fp32_is_cores_x_128_lanes_x_2_x_clock(device, cores, ghz):
    d = get_device(device)
    derived = cores * 128 * 2 * ghz / 1e3  # TFLOP/s
    assert d.peak_tflops("fp32") == pytest.approx(derived, abs=0.05)
    assert d.peak_tflops("fp16") == d.peak_tflops("fp32")  # Apple GPUs run FP16 at the FP32 rate
    assert f"{ghz * 1000:,.0f} MHz" in d.notes


def test_b300_int8_is_nvidias_hgx_figure_per_gpu_dense():
    # HGX B300 (8 GPUs): INT8 2 POPS with sparsity -> 2000 / 8 / 2 = 125 dense TOPS per GPU
    assert get_device("b300").peak_tflops("int8") == pytest.approx(2000 / 8 / 2)

