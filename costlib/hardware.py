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
from .units import GB, GIB, TERA

COMPUTE_COLUMNS = {
    "fp32": "fp32_tflops",
    "tf32": "tf32_tflops",
    "bf16": "bf16_tflops",
    "fp16": "fp16_tflops",
    "fp8": "fp8_tflops",
    "int8": "int8_tops",
    "fp4": "fp4_tflops",
}
SPARSE_PAIRS = (("bf16_tflops", "bf16_sparse_tflops"), ("fp8_tflops", "fp8_sparse_tflops"))


def _dense_le_sparse(row: dict) -> str | None:
    for dense, sparse in SPARSE_PAIRS:
        if row[dense] is not None and row[sparse] is not None and row[dense] > row[sparse]:
            return f"{dense}: dense {row[dense]} exceeds sparse {row[sparse]}; the catalog holds dense peaks"
    if not any(row[c] is not None for c in COMPUTE_COLUMNS.values()):
        return "fp32_tflops: a device needs at least one compute peak"
    return None


# Plausible ranges per device class (gpu/tpu/cpu/soc), wide enough for a 2019 T4 and a 2025 B300, narrow
# enough to catch a factor-1000 slip (TB/s in a GB/s column, PFLOP/s in a TFLOP/s column, kW for W).
MAGNITUDE = {
    "memory_gib": (("gpu", 4, 1024), ("tpu", 4, 1024), ("cpu", 4, 16384), ("soc", 4, 1024)),
    "bandwidth_gb_s": (("gpu", 100, 50000), ("tpu", 100, 50000), ("cpu", 10, 5000), ("soc", 50, 5000)),
    "low_precision_tflops": (("gpu", 10, 50000), ("tpu", 10, 50000), ("cpu", 0.1, 500), ("soc", 0.5, 500)),
    "fp32_tflops": (("gpu", 1, 10000), ("tpu", 1, 10000), ("cpu", 0.1, 100), ("soc", 0.5, 200)),
    "tdp_w": (("gpu", 30, 3000), ("tpu", 30, 3000), ("cpu", 10, 1500), ("soc", 5, 500)),
}
INTERCONNECT_RANGE_GB_S = (1.0, 20000.0)

MEMORY_CLASSES = ("hbm", "gddr", "dram")
"""Memory technology behind ``bandwidth_gb_s``: HBM stacks (HBM2 to HBM3e: data-center GPUs, TPUs, Gaudi),
GDDR boards (GDDR6/6X/7: GeForce, RTX workstation, L4/L40S/A10/A40) and DRAM (DDR5 sockets, LPDDR5/5X
unified memory of Apple silicon), as each device's datasheet (its ``source``) names it. A decode kernel
reaches a different share of the peak on each (``costlib.inference.bandwidth_slice``)."""


def _peak_column(name: str) -> Column:
    ranges = MAGNITUDE["fp32_tflops" if name in ("fp32_tflops", "tf32_tflops") else "low_precision_tflops"]
    return Column(name, "float", required=False, positive=True, unit="TOPS" if name == "int8_tops" else "TFLOP/s",
                  magnitude_by_class=ranges)


HARDWARE_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("name"),
        Column("vendor"),
        Column("kind", choices=("gpu", "tpu", "cpu", "soc")),
        Column("memory_gib", "float", positive=True, unit="GiB", magnitude_by_class=MAGNITUDE["memory_gib"]),
        Column("bandwidth_gb_s", "float", positive=True, unit="GB/s", magnitude_by_class=MAGNITUDE["bandwidth_gb_s"]),
        *(_peak_column(c) for c in COMPUTE_COLUMNS.values()),
        _peak_column("bf16_sparse_tflops"),
        _peak_column("fp8_sparse_tflops"),
        Column("tdp_w", "float", required=False, positive=True, unit="W", magnitude_by_class=MAGNITUDE["tdp_w"]),
        Column("interconnect_gb_s", "float", required=False, positive=True, unit="GB/s", magnitude=INTERCONNECT_RANGE_GB_S),
        Column("memory_class", choices=MEMORY_CLASSES),
        SOURCE,
        AS_OF,
        NOTES,
    ),
    row_checks=(_dense_le_sparse,),
    class_column="kind",
)


@dataclass(frozen=True)
class Device:
    """One device: memory, bandwidth, dense peaks by precision, power, provenance."""

    id: str
    name: str
    vendor: str
    kind: str
    memory_gib: float
    bandwidth_gb_s: float
    peak_tflops_by_precision: Mapping[str, float]
    sparse_tflops_by_precision: Mapping[str, float]
    tdp_w: float | None
    interconnect_gb_s: float | None
    memory_class: str
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
        """Device memory in bytes: the vendor's capacity is binary ("80 GB" of HBM is 80 GiB = 85.9e9 bytes)."""
        return self.memory_gib * GIB

    @property
    def memory_gb(self) -> float:
        """Device memory in GB (1e9 bytes), derived from :attr:`memory_bytes`: 80 GiB -> 85.899 GB.

        Kept so that comparisons of model sizes in GB (``total_gb <= device.memory_gb``) stay right;
        new code compares bytes with :attr:`memory_bytes`.
        """
        return self.memory_bytes / GB

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
            memory_gib=row["memory_gib"],
            bandwidth_gb_s=row["bandwidth_gb_s"],
            peak_tflops_by_precision=MappingProxyType(peaks),
            sparse_tflops_by_precision=MappingProxyType(
                {p: row[f"{p}_sparse_tflops"] for p in ("bf16", "fp8") if row[f"{p}_sparse_tflops"] is not None}
            ),
            tdp_w=row["tdp_w"],
            interconnect_gb_s=row["interconnect_gb_s"],
            memory_class=row["memory_class"],
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
                "memory_gib": d.memory_gib,
                "memory_gb": round(d.memory_gb, 3),
                "bandwidth_gb_s": d.bandwidth_gb_s,
                "memory_class": d.memory_class,
                **{f"{p}_tflops": d.peak_tflops_by_precision.get(p) for p in COMPUTE_COLUMNS},
                "tdp_w": d.tdp_w,
                "source": d.source,
                "as_of": d.as_of,
            }
        )
    return pd.DataFrame(rows)
