"""Argument checks shared by every module.

Each check accepts a Python number or a numpy array (so a whole sweep is one call),
returns it as a float or float array, and raises :class:`~costlib.errors.InputError`
naming the parameter, the offending value and what is allowed.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .errors import InputError

ArrayLike = float | np.ndarray
_INF = float("inf")

MAX_MAGNITUDE = 1e30
"""Largest magnitude any checked input may have: above every real count (the largest training runs are ~1e26 FLOP),
and far enough below float's 1.8e308 that products of a few inputs cannot overflow to infinity."""


_SCALARS = (float, int, np.float64, np.int64)


def _as_float(name: str, value) -> ArrayLike:
    if type(value) in _SCALARS:  # a plain number (the single-estimate path): no array, same checks
        x = float(value)
        if x != x or x in (_INF, -_INF):
            raise InputError(name, x, "a finite number (not NaN or infinity)")
        if abs(x) > MAX_MAGNITUDE:
            raise InputError(name, x, f"a number of magnitude at most {MAX_MAGNITUDE:g}")
        return x
    if isinstance(value, bool):
        raise InputError(name, value, "a number, not a boolean")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(name, value, "a number") from None
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0] if arr.ndim else float(arr)
        raise InputError(name, float(bad), "a finite number (not NaN or infinity)")
    big = np.abs(arr) > MAX_MAGNITUDE
    if np.any(big):
        bad = arr[big].flat[0] if arr.ndim else float(arr)
        raise InputError(name, float(bad), f"a number of magnitude at most {MAX_MAGNITUDE:g}")
    return float(arr) if arr.ndim == 0 else arr


def _first_bad(arr, ok):
    return float(arr) if np.ndim(arr) == 0 else float(np.asarray(arr)[~ok].flat[0])


def positive(name: str, value) -> ArrayLike:
    """A finite number > 0."""
    arr = _as_float(name, value)
    if type(arr) is float:
        if arr > 0:
            return arr
        raise InputError(name, arr, "a number greater than 0")
    ok = np.asarray(arr) > 0
    if not np.all(ok):
        raise InputError(name, _first_bad(arr, ok), "a number greater than 0")
    return arr


def non_negative(name: str, value) -> ArrayLike:
    """A finite number >= 0."""
    arr = _as_float(name, value)
    if type(arr) is float:
        if arr >= 0:
            return arr
        raise InputError(name, arr, "a number greater than or equal to 0")
    ok = np.asarray(arr) >= 0
    if not np.all(ok):
        raise InputError(name, _first_bad(arr, ok), "a number greater than or equal to 0")
    return arr


def fraction(name: str, value, *, allow_zero: bool = False, allow_one: bool = True) -> ArrayLike:
    """A share: 0 < x <= 1 by default (``allow_zero`` admits 0, ``allow_one=False`` excludes 1)."""
    arr = _as_float(name, value)
    if type(arr) is float:
        if (arr >= 0 if allow_zero else arr > 0) and (arr <= 1 if allow_one else arr < 1):
            return arr
        ok = np.asarray(False)
    else:
        a = np.asarray(arr)
        ok = (a >= 0 if allow_zero else a > 0) & (a <= 1 if allow_one else a < 1)
    if not np.all(ok):
        lo = "0 <=" if allow_zero else "0 <"
        hi = "<= 1" if allow_one else "< 1"
        raise InputError(name, _first_bad(arr, ok), f"a fraction with {lo} {name} {hi}")
    return arr


def at_least(name: str, value, minimum: float) -> ArrayLike:
    """A finite number >= ``minimum``."""
    arr = _as_float(name, value)
    ok = np.asarray(arr) >= minimum
    if not np.all(ok):
        raise InputError(name, _first_bad(arr, ok), f"a number >= {minimum:g}")
    return arr


def whole(name: str, value, minimum: int = 1) -> ArrayLike:
    """A whole number >= ``minimum`` (GPU counts, batch sizes, layers)."""
    arr = _as_float(name, value)
    if type(arr) is float:
        if arr >= minimum and arr == int(arr):
            return arr
        raise InputError(name, arr, f"a whole number >= {minimum}")
    a = np.asarray(arr)
    ok = (a >= minimum) & (np.floor(a) == a)
    if not np.all(ok):
        raise InputError(name, _first_bad(arr, ok), f"a whole number >= {minimum}")
    return arr


def choice(name: str, value: str, options: Iterable[str]) -> str:
    """One of a fixed set of strings."""
    options = list(options)
    if value not in options:
        raise InputError(name, value, "one of " + ", ".join(options))
    return value


def context_within(model, tokens, parameter: str = "context", *, allow_longer: bool = False) -> ArrayLike:
    """Tokens per sequence (prompt + output, or a KV-cache length) within ``model.max_context``.

    A model known only by its parameter count has no maximum and passes. ``allow_longer=True`` admits a longer
    context; the caller should then warn that the model was not trained on it (RoPE scaling or a sliding window
    is the user's claim, not the catalog's). On the CLI a longer context comes from ``--config`` with a
    config.json whose ``max_position_embeddings`` states it.
    Shared by the memory, inference, serving and training paths so the rule and the message are one.
    """
    arr = non_negative(parameter, tokens)
    limit = getattr(model, "max_context", None) if not type(model).__name__ == "_ParamsOnly" else None
    if limit and not allow_longer:
        ok = np.asarray(arr) <= limit
        if not np.all(ok):
            raise InputError(parameter, _first_bad(arr, ok),
                             f"at most {limit:,} tokens, the maximum context of {getattr(model, 'id', 'the model')} "
                             "(its max_position_embeddings)")
    return arr


def count(name: str, value, minimum: int = 1) -> int:
    """A single whole count (samples, replicas, batch) as an int: 1.9, 0 or -5 is an error, never truncated."""
    if isinstance(value, bool) or value is None:
        raise InputError(name, value, f"a whole number >= {minimum}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(name, value, f"a whole number >= {minimum}") from None
    if not np.isfinite(x) or x != int(x) or x < minimum:
        shown = int(x) if np.isfinite(x) and x == int(x) else value
        raise InputError(name, shown, f"a whole number >= {minimum}")
    return int(x)


def identifier(name: str, value, hint: str = "") -> str:
    """A non-empty id (model, GPU, claim): ``''`` or blanks is an error, not "everything"."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, value, "a non-empty id" + (f" ({hint})" if hint else ""))
    return value
