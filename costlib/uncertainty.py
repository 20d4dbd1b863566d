"""Low / mid / high bands: every uncertain input and output in costlib is carried as one.

A :class:`Band` is three numbers (or three arrays of one shape) with low <= mid <= high.
Functions that are monotone in an uncertain input map a band through by evaluating at the
three points; :func:`band_from_samples` builds one from a distribution (for example the
effective MFU of published runs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class Band:
    """A low / mid / high triple. ``low <= mid <= high`` is enforced."""

    low: float
    mid: float
    high: float

    def __post_init__(self):
        lo, mi, hi = (np.asarray(v, dtype=float) for v in (self.low, self.mid, self.high))
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(mi)) and np.all(np.isfinite(hi))):
            raise InputError("band", (self.low, self.mid, self.high), "finite low, mid and high")
        if not (np.all(lo <= mi * (1 + 1e-12) + 1e-300) and np.all(mi <= hi * (1 + 1e-12) + 1e-300)):
            raise InputError("band", (self.low, self.mid, self.high), "low <= mid <= high")

    @classmethod
    def point(cls, value: float) -> "Band":
        """A band of zero width (a pinned input such as ``--mfu 0.4``)."""
        return cls(value, value, value)

    def map(self, fn: Callable[[float], float], *, decreasing: bool = False) -> "Band":
        """Apply a monotone function; ``decreasing=True`` swaps low and high."""
        lo, mi, hi = fn(self.low), fn(self.mid), fn(self.high)
        return Band(hi, mi, lo) if decreasing else Band(lo, mi, hi)

    def scale(self, factor: float) -> "Band":
        return Band(self.low * factor, self.mid * factor, self.high * factor)

    def as_dict(self, digits: int | None = None) -> dict[str, float]:
        vals = {"low": self.low, "mid": self.mid, "high": self.high}
        out = {}
        for key, v in vals.items():
            v = float(v)
            out[key] = _round_sig(v, digits) if digits else v
        return out

    def contains(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)

    def __iter__(self):
        return iter((self.low, self.mid, self.high))


def band_from_samples(samples, low_q: float = 0.1, high_q: float = 0.9) -> Band:
    """Band from data: the ``low_q`` quantile, the median and the ``high_q`` quantile."""
    arr = np.asarray(samples, dtype=float)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise InputError("samples", samples, "a non-empty set of finite numbers")
    lo, mi, hi = np.quantile(arr, [low_q, 0.5, high_q])
    return Band(float(lo), float(mi), float(hi))


def _round_sig(x: float, digits: int) -> float:
    if x == 0 or not np.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")
