"""Accelerator, CPU and Apple-silicon specifications from ``data/hardware.csv``.

Peaks are dense (no 2:4 sparsity) vendor datasheet figures; the roofline ridge point of a
device at a precision is its peak FLOP/s divided by its memory bandwidth (Williams,
Waterman and Patterson 2009, "Roofline: an insightful visual performance model").
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv
from .errors import InputError, UnknownIdError
from .units import GB, TERA

COMPUTE_COLUMNS = {
    "fp32": "fp32_tflops",
    "tf32": "tf32_tflops",
    "bf16": "bf16_tflops",
    "fp16": "fp16_tflops",
    "fp8": "fp8_tflops",
    "int8": "int8_tops",
}
SPARSE_PAIRS = (("bf16_tflops", "bf16_sparse_tflops"), ("fp8_tflops", "fp8_sparse_tflops"))


def _dense_le_sparse(row: dict) -> str | None:
    for dense, sparse in SPARSE_PAIRS:
        if row[dense] is not None and row[sparse] is not None and row[dense] > row[sparse]:
            return f"{dense}: dense {row[dense]} exceeds sparse {row[sparse]}; the catalog holds dense peaks"
    if not any(row[c] is not None for c in COMPUTE_COLUMNS.values()):
        return "fp32_tflops: a device needs at least one compute peak"
    return None


HARDWARE_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("name"),
        Column("vendor"),
        Column("kind", choices=("gpu", "tpu", "cpu", "soc")),
        Column("memory_gb", "float", positive=True, unit="GB"),
        Column("bandwidth_gb_s", "float", positive=True, unit="GB/s"),
        *(Column(c, "float", required=False, positive=True, unit="TFLOP/s") for c in COMPUTE_COLUMNS.values()),
        Column("bf16_sparse_tflops", "float", required=False, positive=True, unit="TFLOP/s"),
        Column("fp8_sparse_tflops", "float", required=False, positive=True, unit="TFLOP/s"),
        Column("tdp_w", "float", required=False, positive=True, unit="W"),
        Column("interconnect_gb_s", "float", required=False, positive=True, unit="GB/s"),
        SOURCE,
        AS_OF,
        NOTES,
    ),
    row_checks=(_dense_le_sparse,),
)


@dataclass(frozen=True)
class Device:
    """One device: memory, bandwidth, dense peaks by precision, power, provenance."""

    id: str
    name: str
    vendor: str
    kind: str
    memory_gb: float
    bandwidth_gb_s: float
    peak_tflops_by_precision: Mapping[str, float]
    sparse_tflops_by_precision: Mapping[str, float]
    tdp_w: float | None
    interconnect_gb_s: float | None
    source: str
    as_of: str
    notes: str = ""

    @property
    def precisions(self) -> tuple[str, ...]:
        """Precisions with a published dense peak on this device."""
        return tuple(self.peak_tflops_by_precision)

    def peak_tflops(self, precision: str) -> float:
        """Dense peak in TFLOP/s (TOPS for int8) at ``precision``; an error lists what the device has."""
        try:
            return self.peak_tflops_by_precision[precision]
        except KeyError:
            raise InputError(
                "precision", precision, f"{self.id} has dense peaks for " + ", ".join(self.precisions)
            ) from None

    def peak_flops(self, precision: str) -> float:
        """Dense peak in FLOP/s."""
        return self.peak_tflops(precision) * TERA

    @property
    def bandwidth_bytes_s(self) -> float:
        return self.bandwidth_gb_s * GB

    @property
    def memory_bytes(self) -> float:
        return self.memory_gb * GB

    def memory_read_time_s(self, nbytes):
        """Seconds to stream ``nbytes`` from device memory at the datasheet bandwidth (a lower bound)."""
        from .validate import non_negative

        return non_negative("nbytes", nbytes) / self.bandwidth_bytes_s

    def ridge_flops_per_byte(self, precision: str) -> float:
        """Arithmetic intensity (FLOP per byte of memory traffic) above which a kernel is compute-bound."""
        return self.peak_flops(precision) / self.bandwidth_bytes_s

    def tdp(self) -> float:
        """Board power in W; an error when the vendor publishes none."""
        if self.tdp_w is None:
            raise InputError("gpu", self.id, ("a device with a published board power (TDP) for the energy estimate; this one has none: "
                                          "choose another GPU, or give power_w= in Python"))
        return self.tdp_w


@lru_cache(maxsize=1)
def devices() -> Mapping[str, Device]:
    """All devices in the catalog, by id (loaded and validated once)."""
    out = {}
    for row in load_csv("hardware.csv", HARDWARE_SCHEMA):
        peaks = {p: row[c] for p, c in COMPUTE_COLUMNS.items() if row[c] is not None}
        out[row["id"]] = Device(
            id=row["id"],
            name=row["name"],
            vendor=row["vendor"],
            kind=row["kind"],
            memory_gb=row["memory_gb"],
            bandwidth_gb_s=row["bandwidth_gb_s"],
            peak_tflops_by_precision=MappingProxyType(peaks),
            sparse_tflops_by_precision=MappingProxyType(
                {p: row[f"{p}_sparse_tflops"] for p in ("bf16", "fp8") if row[f"{p}_sparse_tflops"] is not None}
            ),
            tdp_w=row["tdp_w"],
            interconnect_gb_s=row["interconnect_gb_s"],
            source=row["source"],
            as_of=row["as_of"].isoformat(),
            notes=row["notes"] or "",
        )
    return MappingProxyType(out)


def get_device(device_id: str | Device, parameter: str = "gpu") -> Device:
    """Look a device up by id; an unknown id raises an error that lists the known ones."""
    if isinstance(device_id, Device):
        return device_id
    table = devices()
    if device_id not in table:
        raise UnknownIdError(parameter, device_id, sorted(table))
    return table[device_id]


def device_table():
    """The catalog as a pandas DataFrame (one row per device), for tables in the book."""
    import pandas as pd

    rows = []
    for d in devices().values():
        rows.append(
            {
                "id": d.id,
                "name": d.name,
                "kind": d.kind,
                "memory_gb": d.memory_gb,
                "bandwidth_gb_s": d.bandwidth_gb_s,
                **{f"{p}_tflops": d.peak_tflops_by_precision.get(p) for p in COMPUTE_COLUMNS},
                "tdp_w": d.tdp_w,
                "source": d.source,
                "as_of": d.as_of,
            }
        )
    return pd.DataFrame(rows)


def attainable_flops(device: str | Device, precision: str, flop_per_byte):
    """Roofline: attainable FLOP/s = min(peak, intensity x bandwidth) (Williams et al. 2009).

    ``flop_per_byte`` may be an array (a whole curve in one call).
    """
    from .validate import positive

    d = get_device(device)
    intensity = positive("flop_per_byte", flop_per_byte)
    import numpy as np

    return np.minimum(d.peak_flops(precision), np.asarray(intensity) * d.bandwidth_bytes_s) if np.ndim(intensity) else min(
        d.peak_flops(precision), intensity * d.bandwidth_bytes_s
    )


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
    ``precision`` (TF32 is a compute mode: its weights are FP32). An unknown precision for the device raises
    the ``InputError`` of :meth:`Device.peak_tflops`, listing what the device has.
    """
    from .memory import weight_bytes  # memory imports this module
    from .validate import positive

    d = get_device(device)
    n = positive("params", params)
    peak = d.peak_tflops(precision)
    step_s = d.memory_read_time_s(weight_bytes(n, "fp32" if precision == "tf32" else precision))
    return DecodeFloor(d.id, precision, float(peak), float(d.bandwidth_gb_s), float(d.ridge_flops_per_byte(precision)),
                       float(step_s * 1e3), float(1.0 / step_s))
