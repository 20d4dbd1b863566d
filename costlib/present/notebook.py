"""The helpers every chapter notebook shares: glue a number, a text or a figure, save its downloads, write a band.

One place for them (issue 17: no helper defined in two notebooks). A chapter's own exhibits live in its module
under :mod:`costlib.book` (analyses: the tables) and :mod:`costlib.present` (presentation: figures, widgets);
the notebook keeps prose and one visible call per exhibit.

Conventions (CONTRIBUTING.md, "Notebook helpers"):

* :func:`glue_number` glues a plain Python float (never a numpy scalar), rounded to ``digits`` significant
  figures when asked (the last digits of a model's output are noise);
* :func:`downloads` saves a figure (SVG + PNG) or a table (CSV) under ``_downloads/`` and glues its Markdown
  links as ``dl-<key>`` (used in a caption as ``{glue:md}`dl-<key>`:myst``);
* :func:`glue_figure` glues a figure, saves its downloads and closes it.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

from costlib.errors import InputError
from costlib.present.explore import save_figure, save_table
from costlib.uncertainty import Band

DOWNLOAD_PREFIX = "dl-"
"""Glue name prefix of a download-links value: ``dl-<key>``."""


def _glue(key: str, value: Any) -> None:
    from myst_nb import glue  # on demand: only notebooks glue; the library and the CLI never need myst_nb

    glue(key, value, display=False)


def rounded(value: Any, digits: int | None = None) -> float:
    """``value`` as a plain float, rounded to ``digits`` significant figures (``None``: unrounded).

    >>> rounded(1234.5678, 3)
    1230.0
    """
    if isinstance(value, bool):
        raise InputError("value", value, "a number, not a truth value")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError("value", value, "a number") from None
    if digits is None or x == 0 or not math.isfinite(x):
        return x
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise InputError("digits", digits, "a whole number >= 1")
    return float(f"{x:.{digits}g}")


def glue_number(key: str, value: Any, digits: int | None = None) -> None:
    """Glue ``value`` as a plain float under ``key`` (rounded to ``digits`` significant figures if given)."""
    _glue(key, rounded(value, digits))


def glue_text(key: str, text: Any) -> None:
    """Glue ``text`` as a string under ``key``."""
    _glue(key, str(text))


def glue_value(key: str, value: Any, digits: int | None = None) -> None:
    """Glue a string as text, a whole number (Python or numpy integer) as an integer ("batch 16", not "16.0"),
    and any other number as a plain float rounded to ``digits`` significant figures if given."""
    if isinstance(value, str):
        glue_text(key, value)
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        _glue(key, int(value))
    else:
        glue_number(key, value, digits)


def downloads(key: str, obj: Any, *, index: bool = False) -> str:
    """Save ``obj`` (a matplotlib figure, or a DataFrame / Styler) under ``_downloads/<key>.*``; glue the
    Markdown links as ``dl-<key>`` and return them."""
    from IPython.display import Markdown  # on demand, as for glue

    text = save_figure(obj, key) if hasattr(obj, "savefig") else save_table(obj, key, index=index)
    _glue(DOWNLOAD_PREFIX + key, Markdown(text))
    return text


def glue_figure(key: str, fig: Any) -> None:
    """Glue a figure under ``key``, save its downloads (``dl-<key>``) and close it."""
    import matplotlib.pyplot as plt

    _glue(key, fig)
    downloads(key, fig)
    plt.close(fig)


def significant(x: Any, digits: int = 3) -> str:
    """``x`` to ``digits`` significant figures with thousands separators and no exponent.

    >>> significant(1234567, 3)
    '1,230,000'
    >>> significant(0.012345, 2)
    '0.012'
    """
    x = rounded(x)
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    d = digits - 1 - int(math.floor(math.log10(abs(x))))
    return f"{round(x, d):,.{max(d, 0)}f}"


def band_text(b: Band, fmt: str | None = "{:,.0f}", scale: float = 1.0) -> str:
    """``"mid (low-high)"`` for a :class:`Band`; ``fmt`` a format string, or ``None`` for 3 significant figures.

    >>> band_text(Band(1.0, 2.0, 3.5), "{:.1f}")
    '2.0 (1.0-3.5)'
    """
    if not isinstance(b, Band):
        raise InputError("b", type(b).__name__, "a Band (low, mid, high)")
    f = significant if fmt is None else fmt.format
    if b.low == b.high:
        return f(b.mid * scale)
    return f"{f(b.mid * scale)} ({f(b.low * scale)}-{f(b.high * scale)})"
