"""A keyed memo for heavy sweeps: one computation per distinct input, reused by every caller.

A chapter's figure, its explorer grid and its worked problem often ask for the same sweep (a batch
sweep, a panel of fine-tuning costs). :func:`memo` caches a pure function's result keyed by its
inputs, like :func:`functools.lru_cache`, but it also accepts the inputs a sweep takes: numpy arrays
(keyed by dtype, shape and a digest of their bytes), lists and tuples (recursively), dicts (by
sorted items) and dataclasses (their own hash, or their fields' keys when they hold arrays). A call with any other unhashable argument
is computed and not cached (counted in ``cache_info().uncached``), never an error.

Cached results are shared between callers, so numpy arrays in them (top level, inside a tuple,
list or dict, or fields of a dataclass such as :class:`costlib.uncertainty.Band`) are made
read-only: a caller that wants to modify one copies it first (``arr.copy()``).

Only for pure functions of their arguments: a function that reads a catalog gets the catalog as
it was at the first call (catalogs are loaded once per process anyway).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections import OrderedDict
from typing import Any, Callable, NamedTuple

import numpy as np


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    uncached: int
    maxsize: int
    currsize: int


class _Unkeyable(Exception):
    pass


def _key(x: Any):
    if isinstance(x, np.ndarray):
        arr = np.ascontiguousarray(x)
        return ("ndarray", arr.dtype.str, arr.shape, hashlib.sha1(arr.view(np.uint8).reshape(-1)).hexdigest())
    if isinstance(x, np.generic):
        return ("scalar", x.dtype.str, x.item())
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_key(v) for v in x))
    if isinstance(x, dict):
        return ("dict", tuple(sorted((_key(k), _key(v)) for k, v in x.items())))
    try:
        hash(x)
    except TypeError as exc:
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            # a dataclass holding arrays (e.g. a Band of arrays) is keyed by its fields
            return (type(x).__qualname__, tuple(_key(getattr(x, f.name)) for f in dataclasses.fields(x)))
        raise _Unkeyable from exc
    return (type(x).__qualname__, x)


def _freeze(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        x.flags.writeable = False
    elif isinstance(x, (list, tuple)):
        for v in x:
            _freeze(v)
    elif isinstance(x, dict):
        for v in x.values():
            _freeze(v)
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            _freeze(getattr(x, f.name))
    return x


def memo(maxsize: int = 32) -> Callable:
    """Decorator: cache up to ``maxsize`` results of a pure function, least recently used out.

    >>> @memo(maxsize=4)
    ... def total(xs):
    ...     return float(np.sum(xs))
    >>> total(np.arange(4.0)), total(np.arange(4.0)), total.cache_info().hits
    (6.0, 6.0, 1)
    """
    if not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1:
        from costlib.errors import InputError

        raise InputError("maxsize", maxsize, "a whole number of cached results, at least 1")

    def decorate(fn: Callable) -> Callable:
        store: OrderedDict = OrderedDict()
        stats = {"hits": 0, "misses": 0, "uncached": 0}

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                key = (_key(args), _key(kwargs))
            except _Unkeyable:
                stats["uncached"] += 1
                return fn(*args, **kwargs)
            if key in store:
                stats["hits"] += 1
                store.move_to_end(key)
                return store[key]
            stats["misses"] += 1
            result = _freeze(fn(*args, **kwargs))
            store[key] = result
            if len(store) > maxsize:
                store.popitem(last=False)
            return result

        def cache_info() -> CacheInfo:
            return CacheInfo(stats["hits"], stats["misses"], stats["uncached"], maxsize, len(store))

        def cache_clear() -> None:
            store.clear()
            stats.update(hits=0, misses=0, uncached=0)

        wrapper.cache_info = cache_info
        wrapper.cache_clear = cache_clear
        return wrapper

    return decorate
