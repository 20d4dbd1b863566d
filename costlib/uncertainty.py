"""Low / mid / high bands: every uncertain input and output in costlib is carried as one.

A :class:`Band` is three numbers (or three arrays of one shape) with low <= mid <= high.
Functions that are monotone in an uncertain input map a band through by evaluating at the
three points; :func:`band_from_samples` builds one from a distribution (for example the
effective MFU of published runs).
"""
from __future__ import annotations

import numbers

import math
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
        lo, mi, hi = self.low, self.mid, self.high
        if type(lo) is float and type(mi) is float and type(hi) is float:  # three plain floats: no arrays
            if not (math.isfinite(lo) and math.isfinite(mi) and math.isfinite(hi)):
                raise InputError("band", (lo, mi, hi), "finite low, mid and high")
            if not (lo <= mi * (1 + 1e-12) + 1e-300 and mi <= hi * (1 + 1e-12) + 1e-300):
                raise InputError("band", (lo, mi, hi), "low <= mid <= high")
            return
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

    # --- operations that used to be written out by hand ---------------------------------------------------
    @classmethod
    def from_values(cls, values) -> "Band":
        """Lowest, median, highest of a set of observations (price offers, dated rates, measured ratios)."""
        arr = np.asarray(values, dtype=float).ravel()
        if arr.size == 0 or not np.all(np.isfinite(arr)):
            raise InputError("values", values, "a non-empty set of finite numbers")
        return cls(float(arr.min()), float(np.median(arr)), float(arr.max()))

    @property
    def width_ratio(self) -> float:
        """high / low: how many times the top of the band is the bottom (inf when low is 0)."""
        return float(self.high / self.low) if self.low else float("inf")

    def __add__(self, other) -> "Band":
        """Band + Band adds low to low, mid to mid, high to high; Band + number shifts all three."""
        if isinstance(other, Band):
            return Band(self.low + other.low, self.mid + other.mid, self.high + other.high)
        return Band(self.low + other, self.mid + other, self.high + other)

    __radd__ = __add__

    def __mul__(self, other) -> "Band":
        """Band x Band pairs low with low and high with high (both non-negative: a cost is hours x price);
        Band x number is :meth:`scale` (a negative number swaps low and high)."""
        if isinstance(other, Band):
            if min(np.min(self.low), np.min(other.low)) < 0:
                raise InputError("band", (self, other), "non-negative bands to multiply")
            return Band(self.low * other.low, self.mid * other.mid, self.high * other.high)
        return self.scale(other) if np.all(np.asarray(other) >= 0) else Band(self.high * other, self.mid * other, self.low * other)

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Band":
        """Band / Band pairs low with the divisor's high (the cheapest price over the highest throughput);
        Band / number divides all three (a positive number)."""
        if isinstance(other, Band):
            if np.min(other.low) <= 0 or np.min(self.low) < 0:
                raise InputError("band", (self, other), "a non-negative band over a positive band")
            return Band(self.low / other.high, self.mid / other.mid, self.high / other.low)
        if not np.all(np.asarray(other) > 0):
            raise InputError("divisor", other, "a positive number")
        return self.scale(1.0 / other)


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


def order_statistic_coverage(n: int, k: int) -> float:
    """Probability that a new draw falls between the k-th smallest and k-th largest of n exchangeable draws (Wilks 1941):
    (n + 1 - 2k) / (n + 1). For n = 19, k = 2 that is 16 / 20 = 0.8."""
    for name, v in (("n", n), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise InputError(name, v, "a whole number >= 1")
    if 2 * k > n:
        raise InputError("k", k, f"at most n / 2 = {n / 2:g} (the k-th smallest and k-th largest of n values)")
    return (n + 1 - 2 * k) / (n + 1)
