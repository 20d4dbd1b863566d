"""Roofline summaries of one device at one precision (Williams, Waterman and Patterson 2009, "Roofline",
CACM 52(4)): the dense peak, the ridge point and the batch-1 decode floor of a model of ``params`` weights.

Above :mod:`costlib.hardware` (the catalog) and :mod:`costlib.memory` (the bytes of a weight format), so that
the hardware catalog does not import the memory model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hardware import Device, get_device
from .memory import weight_bytes
from .models import MXFP4_BITS_PER_WEIGHT
from .validate import positive


@dataclass(frozen=True)
class DecodeFloor:
    """A device at one precision, and the fastest a batch-1 decode of ``params`` weights can run on it."""

    device_id: str
    precision: str
    peak_tflops: float
    bandwidth_gb_s: float
    ridge_flops_per_byte: float
    weight_read_ms: float
    max_batch1_tokens_per_s: float


def decode_floor(device: str | Device, precision: str, params: float) -> DecodeFloor:
    """Dense peak, ridge point and the batch-1 decode floor of a ``params``-weight model at ``precision``.

    Batch-1 decode reads every weight once per token, so one step takes at least weight bytes / bandwidth
    (the memory roof of Williams et al. 2009); its inverse bounds tokens/s. Weights are stored at
    ``precision`` (TF32 is a compute mode: its weights are FP32; FP4 weights are MXFP4 blocks, 4.25 bits). An unknown
    precision for the device raises
    the ``InputError`` of :meth:`Device.peak_tflops`, listing what the device has.
    """
    d = get_device(device)
    n = positive("params", params)
    peak = d.peak_tflops(precision)
    if precision == "fp4":  # FP4 weights in OCP MXFP4 blocks: 4 bits + one 8-bit scale per 32 = 4.25 bits
        nbytes = n * MXFP4_BITS_PER_WEIGHT / 8
    else:
        nbytes = weight_bytes(n, "fp32" if precision == "tf32" else precision)
    step_s = d.memory_read_time_s(nbytes)
    return DecodeFloor(d.id, precision, float(peak), float(d.bandwidth_gb_s), float(d.ridge_flops_per_byte(precision)),
                       float(step_s * 1e3), float(1.0 / step_s))


def roofline_flops(device: str | Device, compute_precision: str, flop_per_byte):
    """Roofline at a compute precision: attainable FLOP/s = min(dense peak at ``compute_precision``, intensity x
    bandwidth) (Williams et al. 2009). :func:`costlib.inference.attainable_flops` differs: it takes a *weight*
    format and resolves the precision its matrix multiplies run at (the compute path).

    ``flop_per_byte`` may be an array (a whole curve in one call).
    """
    d = get_device(device)
    intensity = positive("flop_per_byte", flop_per_byte)
    return np.minimum(d.peak_flops(compute_precision), np.asarray(intensity) * d.bandwidth_bytes_s) if np.ndim(intensity) else min(
        d.peak_flops(compute_precision), intensity * d.bandwidth_bytes_s
    )
