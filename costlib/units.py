"""Units and named constants used across costlib.

Conventions (stated in book/methodology.md): GB = 10^9 bytes, TFLOP/s = 10^12 FLOP/s,
peaks are dense (not 2:4-sparse) tensor-core figures.
"""
from __future__ import annotations

import math
import re

from .errors import InputError

GB = 1e9
"""Bytes in a gigabyte (decimal, as vendors print memory and bandwidth)."""
GIB = 2**30
TERA = 1e12
"""FLOP in a TFLOP; TFLOP/s -> FLOP/s."""
SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24.0
HOURS_PER_YEAR = 8760.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0
"""730 hours: a month of round-the-clock rental (8,760 h / 12), as cloud price sheets count a month."""
KWH_PER_WH = 1e-3

BYTES_PER_VALUE: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
}
"""Bytes per stored value for each numeric format, before any quantization-scale overhead
(IEEE 754 / OCP FP8 spec sizes; int4 packs two values per byte)."""

PRECISIONS = tuple(BYTES_PER_VALUE)

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "p": 1e15}
_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*([kmbgtp]?)\s*$", re.IGNORECASE)


def parse_quantity(text: str | float | int, parameter: str = "value") -> float:
    """Parse ``7e9``, ``7B``, ``6.74b``, ``2T``, ``500M``, ``1.5k`` into a float.

    Suffixes: k = 10^3, M = 10^6, B or G = 10^9, T = 10^12, P = 10^15.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        match = _NUMBER.match(str(text))
        if not match:
            raise InputError(parameter, text, "a number such as 7e9, 7B, 500M or 2T")
        value = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    if not math.isfinite(value):
        raise InputError(parameter, text, "a finite number")
    return value


def bytes_per_value(precision: str) -> float:
    """Bytes per value for a precision name (see :data:`BYTES_PER_VALUE`)."""
    try:
        return BYTES_PER_VALUE[precision]
    except KeyError:
        raise InputError("precision", precision, "one of " + ", ".join(PRECISIONS)) from None
