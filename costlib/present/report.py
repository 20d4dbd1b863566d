"""Presentation helpers for the notebooks: the one label map, readable exhibit tables, figures sized for the page.

Everything a reader sees in a table or on an axis passes through here, so the book speaks one language:

* :data:`LABELS` is the one label map from costlib's column / field identifiers (``price_usd_per_gpu_hour``) to
  words with units ("price (USD per GPU-hour)"); :func:`label` falls back to a rule for identifiers not in the map
  (unit suffixes such as ``_gb_s`` or ``_usd_per_1m`` become words), so no snake_case id reaches a page.
* :func:`exhibit_table` turns a DataFrame into an exhibit: labelled columns and row labels, integers as integers,
  shares as percentages with 0-1 decimals, yes/no for booleans, a blank (never "nan") for a missing value, the
  verdict column first, and a table too wide for the text column split into parts that repeat the key column.
* :func:`figure_style` / :func:`exhibit_figure` size a matplotlib figure for the width it is *displayed* at, so
  every text is at least :data:`MIN_FONT_PX` pixels on the page; :func:`small_text` lists the texts that are not.
* :func:`verdict_words` says a seed claim's verdict in words a reader takes the right way ("right direction,
  understated: ...") instead of a bare factor.

pandas gives every styled table a random HTML id, which would make stored notebook outputs differ on every run;
:func:`table` (and :func:`exhibit_table`) fix the id to the table's label so nbval can compare the rendered HTML
(and its numbers).
"""
from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from costlib.errors import InputError

# ------------------------------------------------------------------------------------------------ label map
SNAKE_CASE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
"""A snake_case identifier (``peak_tflops``): never a header on a page (tests/browser checks this regex)."""

LABELS: dict[str, str] = {
    # identifiers and catalog fields
    "id": "id", "gpu_id": "GPU", "model_id": "model", "api_id": "API", "device": "device", "gpu": "GPU",
    "model": "model", "name": "name", "vendor": "vendor", "size_class": "size class", "family": "family",
    "source": "source", "as_of": "as of", "notes": "notes", "kind": "kind", "precision": "precision",
    "engine": "engine", "seed": "seed", "section": "section", "claim": "claim", "verdict": "verdict",
    "verdict_text": "verdict", "reason": "reason", "interpretation": "reading used", "claimed": "claimed",
    "computed": "costlib", "technique": "technique", "step": "step", "task": "task", "draft": "draft model",
    # serving and back-tests
    "rate_per_s": "request rate (requests/s)", "throughput_tokens_per_s_per_gpu": "throughput per GPU (output tokens/s)",
    "median_abs_error": "median absolute error", "median_width": "median band width (high / low)",
    "band_from": "band from", "nominal_coverage": "nominal coverage",
    # model geometry
    "params_b": "parameters (billions)", "total_params_b": "total parameters (billions)",
    "active_params_b": "active parameters (billions)", "published_b": "published parameters (billions)",
    "layers": "layers", "heads": "attention heads", "kv_heads": "KV heads", "head_dim": "head dimension",
    "d_model": "model width", "vocab": "vocabulary", "context": "context (tokens)", "seq_len": "sequence (tokens)",
    "sliding_window": "sliding window (tokens)", "kv_bytes_per_token": "KV cache per token (bytes)",
    # hardware
    "peak_tflops": "dense peak (TFLOP/s)", "bandwidth_gb_s": "memory bandwidth (GB/s)",
    "memory_gb": "memory (GB)", "memory_gib": "memory (GiB)", "memory_class": "memory type", "tdp_w": "board power (W)",
    "ridge_flop_per_byte": "ridge point (FLOP/byte)", "intensity_flop_per_byte": "arithmetic intensity (FLOP/byte)",
    # prices
    "price_usd_per_gpu_hour": "price (USD per GPU-hour)", "input_usd_per_1m": "input (USD per 1M tokens)",
    "output_usd_per_1m": "output (USD per 1M tokens)", "cached_input_usd_per_1m": "cached input (USD per 1M tokens)",
    "usd_per_1k_requests": "USD per 1,000 requests", "usd_per_request": "USD per request",
    "usd_per_m": "USD per 1M tokens", "cost_usd": "cost (USD)", "one_off_usd": "one-off cost (USD)",
    "annual_usd": "annual cost (USD)", "monthly_usd": "monthly cost (USD)",
    # memory
    "weights_gb": "weights (GB)", "costlib_weights_gb": "costlib weights (GB)", "seed_gb": "seed's figure (GB)",
    "int4_gb": "INT4 weights (GB)", "int8_gb": "INT8 weights (GB)", "with_scales_gb": "with quantization scales (GB)",
    "int4_ram_tier": "INT4 memory tier", "int8_ram_tier": "INT8 memory tier", "memory_gb_per_gpu": "memory per GPU (GB)",
    "kv_gb": "KV cache (GB)",
    # training / serving results
    "gpu_hours": "GPU-hours", "days": "days", "mfu": "MFU", "tokens": "tokens", "batch": "concurrent sequences",
    "predicted": "predicted", "measured": "measured", "published": "published", "error": "error",
    "error_pct": "error (%)", "inside": "inside the band", "covered": "inside the band",
    "predicted_tok_s": "predicted (tokens/s)", "measured_tok_s": "measured (tokens/s)",
    "bandwidth_ceiling_tok_s": "bandwidth ceiling (tokens/s)", "tokens_per_s": "tokens/s",
    "predicted_speedup": "predicted speed-up", "measured_speedup": "measured speed-up",
    "fa2_tflops": "FlashAttention-2 (TFLOP/s)", "measured_none_tflops": "measured without FlashAttention (TFLOP/s)",
    "predicted_none_tflops": "predicted without FlashAttention (TFLOP/s)", "traffic_multiplier": "memory traffic (x)",
    "flops_reduction": "FLOPs saved", "gpu_hours_reduction": "GPU-hours saved", "memory_reduction": "memory saved",
    "step_saving": "saving in the stack", "alone_saving": "saving alone", "cumulative_saving": "cumulative saving",
    "ttft_s": "time to first token (s)", "tpot_s": "time per output token (s)", "ttft_ms": "time to first token (ms)",
    "tpot_ms": "time per output token (ms)", "temperature": "temperature", "alpha": "acceptance rate α",
    "gamma": "draft tokens γ", "c": "draft/target step time c",
}

# Unit suffixes of identifiers not in LABELS, longest first: "_usd_per_1m" -> "(USD per 1M tokens)".
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_usd_per_gpu_hour", "USD per GPU-hour"), ("_usd_per_1k_requests", "USD per 1,000 requests"),
    ("_usd_per_1m", "USD per 1M tokens"), ("_usd_per_request", "USD per request"), ("_usd", "USD"),
    ("_flop_per_byte", "FLOP/byte"), ("_tflops", "TFLOP/s"), ("_gb_s", "GB/s"), ("_gib", "GiB"), ("_gb", "GB"),
    ("_mb", "MB"), ("_tok_s", "tokens/s"), ("_tokens_per_s", "tokens/s"), ("_ms", "ms"), ("_s", "s"),
    ("_pct", "%"), ("_b", "billions"), ("_w", "W"), ("_kwh", "kWh"), ("_hours", "hours"), ("_days", "days"),
)
# Words that are abbreviations in an identifier and capitals on the page.
_UPPER = {"gpu": "GPU", "api": "API", "kv": "KV", "mfu": "MFU", "slm": "SLM", "llm": "LLM", "fp8": "FP8", "fp16": "FP16",
          "bf16": "BF16", "int4": "INT4", "int8": "INT8", "tp": "TP", "ttft": "TTFT", "tpot": "TPOT", "ram": "RAM",
          "vram": "VRAM", "hbm": "HBM", "cpu": "CPU", "usd": "USD", "lora": "LoRA", "qlora": "QLoRA", "rag": "RAG"}


def is_identifier(text: Any) -> bool:
    """True for a snake_case identifier (``peak_tflops``), which must not be shown as a label."""
    return isinstance(text, str) and bool(SNAKE_CASE.match(text.strip()))


def label(name: Any, labels: Mapping[str, str] | None = None) -> Any:
    """The words (with unit) for a column or row identifier; anything not an identifier is returned unchanged.

    ``labels`` overrides the map for one exhibit. ``label("price_usd_per_gpu_hour")`` -> "price (USD per
    GPU-hour)"; an unknown ``"decode_ms"`` -> "decode (ms)"; ``"slm_l40s_reserved"`` -> "SLM l40s reserved".
    """
    if not isinstance(name, str):
        return name
    if labels and name in labels:
        return labels[name]
    if name in LABELS:
        return LABELS[name]
    if not is_identifier(name):
        return name
    unit = None
    for suffix, words in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name, unit = name[: -len(suffix)], words
            break
    words = " ".join(_UPPER.get(w, w) for w in name.split("_"))
    return f"{words} ({unit})" if unit else words


def relabel(df: pd.DataFrame, labels: Mapping[str, str] | None = None, *, rows: bool = True) -> pd.DataFrame:
    """A copy of ``df`` with every column label (and, with ``rows``, every index label) passed through :func:`label`."""
    out = df.rename(columns=lambda c: label(c, labels))
    if rows:
        out = out.rename(index=lambda r: label(r, labels))
        if out.index.name:
            out.index.name = label(out.index.name, labels)
    return out


# ------------------------------------------------------------------------------------------------ values
def format_number(value: Any, *, kind: str = "auto", digits: int = 3) -> str:
    """One table cell as text.

    ``kind``: ``"int"`` (thousands separators, no decimals), ``"percent"`` (a share 0.5833 -> "58.3%"; one decimal
    under 10 %, none above, so 0-1 decimals), ``"number"`` (``digits`` significant digits, thousands separators,
    trailing zeros dropped), ``"auto"`` (an integral value as an integer, else ``"number"``). Booleans show as
    yes/no, missing values (None, NaN) as an empty string, text unchanged.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if kind == "percent":
        p = 100 * x
        text = f"{p:,.1f}" if abs(p) < 9.95 else f"{p:,.0f}"
        return text.replace("-", "−") + "%"
    if kind == "int" or (kind == "auto" and x == round(x) and abs(x) < 1e15):
        return f"{int(round(x)):,}".replace("-", "−")
    if kind not in ("auto", "number"):
        raise InputError("kind", kind, "one of auto, int, percent, number")
    if x == 0:
        return "0"
    magnitude = int(math.floor(math.log10(abs(x))))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", "−")


def _column_kind(series: pd.Series, name: str, percent: set, integer: set) -> str:
    if name in percent:
        return "percent"
    if name in integer:
        return "int"
    values = [v for v in series if not (v is None or (isinstance(v, float) and math.isnan(v)))]
    if values and all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in values):
        return "int"
    return "auto"


VERDICT_COLUMNS = ("verdict", "verdict_text", "inside", "covered", "within band", "inside the band")


def exhibit_table(
    df: pd.DataFrame,
    label_: str,
    *,
    labels: Mapping[str, str] | None = None,
    percent: Iterable[str] = (),
    integer: Iterable[str] = (),
    formats: Mapping[str, Any] | None = None,
    digits: int = 3,
    key: Sequence[str] | str | None = None,
    verdict_first: bool = True,
    max_columns: int = 7,
    index: bool = False,
):
    """A readable exhibit table from a DataFrame (glue it and show it with ``{glue:figure}``).

    Columns and row labels pass through :func:`label` (``labels`` overrides the map); cells through
    :func:`format_number` (``percent``: columns holding shares 0-1 shown as percentages, ``integer``: columns shown
    as whole numbers; ``formats``: column -> callable or format string for anything else). A verdict column
    (:data:`VERDICT_COLUMNS`) moves to just after the ``key`` column(s) (default: the first column), so the answer is
    read first. With more than ``max_columns`` columns the table is split into parts that each repeat the key
    columns (one HTML block of several tables with one stable id per part). Returns a pandas Styler (one part)
    or an ``IPython.display.HTML`` (several parts).
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError("df", type(df).__name__, "a pandas DataFrame")
    if isinstance(max_columns, bool) or not isinstance(max_columns, int) or max_columns < 2:
        raise InputError("max_columns", max_columns, "a whole number >= 2")
    data = df.reset_index() if index else df.copy()
    cols = list(data.columns)
    if not cols:
        raise InputError("df", "no columns", "a DataFrame with at least one column")
    keys = [key] if isinstance(key, str) else list(key or cols[:1])
    missing = [k for k in keys if k not in cols]
    if missing:
        raise InputError("key", missing, f"columns of the table: {cols}")
    if verdict_first:
        verdicts = sorted((c for c in cols if str(c) in VERDICT_COLUMNS and c not in keys),
                          key=lambda c: VERDICT_COLUMNS.index(str(c)))
        rest = [c for c in cols if c not in keys and c not in verdicts]
        cols = keys + verdicts + rest
    else:
        cols = keys + [c for c in cols if c not in keys]
    percent, integer = set(percent), set(integer)
    unknown = sorted(str(c) for c in (percent | integer | set(formats or {})) if c not in data.columns)
    if unknown:
        raise InputError("percent/integer/formats", unknown, f"columns of the table: {list(data.columns)}")
    shown = pd.DataFrame(index=data.index)
    for c in cols:
        spec = (formats or {}).get(c)
        if callable(spec):
            shown[c] = data[c].map(spec)
        elif isinstance(spec, str):
            shown[c] = data[c].map(lambda v, s=spec: "" if v is None or (isinstance(v, float) and math.isnan(v))
                                   else s.format(v))
        else:
            kind = _column_kind(data[c], c, percent, integer)
            shown[c] = data[c].map(lambda v, k=kind: format_number(v, kind=k, digits=digits))
    shown.columns = [label(c, labels) for c in cols]
    if len(cols) <= max_columns:
        return table(shown, label_)
    from IPython.display import HTML

    rest = cols[len(keys):]
    per_part = max(1, max_columns - len(keys))
    parts = [rest[i: i + per_part] for i in range(0, len(rest), per_part)]
    blocks = []
    for n, part in enumerate(parts, start=1):
        sub = shown[[label(c, labels) for c in keys + part]]
        styler = table(sub, f"{label_}-part{n}")
        blocks.append(f'<div class="exhibit-part"><p class="exhibit-part-title">Part {n} of {len(parts)}</p>'
                      f"{styler.to_html()}</div>")
    return HTML(f'<div class="exhibit-split" id="{_uuid(label_)}">' + "".join(blocks) + "</div>")


def _uuid(label_: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", label_)


def table(df: pd.DataFrame, label: str, formats: dict | str | None = None, *, precision: int | None = None):
    """A pandas Styler with a stable id (from ``label``), no index column, and optional number formats.

    Glue it (``glue(label, table(df, label), display=False)``) and show it with a ``{glue:figure}`` directive that
    carries the caption and ``:name: label``. For number formats in the book's style and split tables use
    :func:`exhibit_table`.

    Headers are shown through the label map (:func:`label`: words with units, never a snake_case id) and Python
    booleans as "yes" / "no"; ``formats`` stays keyed by the DataFrame's own column names.
    """
    styler = df.style.hide(axis="index").set_uuid(_uuid(label))
    styler = styler.format(formats, precision=precision, na_rep="")
    return readable(styler)


def readable(styler):
    """A Styler whose column headers read as words (:func:`label`) and whose Python booleans show as "yes" / "no".

    :func:`table` applies it; a chapter that builds its own Styler passes it through this function before gluing.
    """
    df = styler.data
    bools = [c for c in df.columns if any(isinstance(v, (bool, np.bool_)) for v in df[c].tolist())]
    if bools:
        styler = styler.format(_yes_no, subset=bools, na_rep="")
    if not isinstance(df.columns, pd.MultiIndex):
        shown = [_label(c) for c in df.columns]
        if shown != list(df.columns):
            styler = styler.relabel_index(shown, axis="columns")
    return styler


def _yes_no(value: Any) -> Any:
    return ("yes" if value else "no") if isinstance(value, (bool, np.bool_)) else value


_label = label


# ------------------------------------------------------------------------------------------------ figures
TEXT_COLUMN_PX = 672
"""Width at which a glued figure is shown at a 1280 px window (sphinx-book theme; every figure of the built book
measured in headless Chromium, 2026-12-02: 672 CSS px for a 720 px PNG): a figure wider than this is scaled down to
it, a narrower one is shown at its own size."""
FIGURE_DPI = 100
"""matplotlib's default dpi, which the inline backend uses for the PNG in the page."""
MIN_FONT_PX = 10
"""The smallest text a figure may show, in CSS pixels as displayed (issue 18: 'fonts at least 10 px as shown')."""


def displayed_font_px(fontsize_pt: float, fig_width_in: float, *, displayed_px: float = TEXT_COLUMN_PX,
                      dpi: float = FIGURE_DPI) -> float:
    """Height in page pixels of a ``fontsize_pt`` text in a figure ``fig_width_in`` wide shown at ``displayed_px``.

    The PNG is ``fig_width_in * dpi`` pixels wide and is shown at ``min(that, displayed_px)``; a point is dpi/72
    pixels in the PNG. A 9-inch figure at 8 pt shown 672 px wide: 8 * 100/72 * 672/900 = 8.3 px.
    """
    for name, v in (("fontsize_pt", fontsize_pt), ("fig_width_in", fig_width_in), ("displayed_px", displayed_px),
                    ("dpi", dpi)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v > 0:
            raise InputError(name, v, "a positive number")
    natural_px = fig_width_in * dpi
    return fontsize_pt * dpi / 72 * min(1.0, displayed_px / natural_px)


def min_font_pt(fig_width_in: float, *, displayed_px: float = TEXT_COLUMN_PX, dpi: float = FIGURE_DPI,
                min_px: float = MIN_FONT_PX) -> float:
    """The smallest font size (points) that shows at ``min_px`` or more (inverse of :func:`displayed_font_px`)."""
    return min_px / displayed_font_px(1.0, fig_width_in, displayed_px=displayed_px, dpi=dpi)


def figure_style(width_in: float = 7.3, *, displayed_px: float = TEXT_COLUMN_PX, dpi: float = FIGURE_DPI,
                 min_px: float = MIN_FONT_PX) -> dict:
    """matplotlib rc settings whose smallest text (ticks, legend) shows at ``min_px`` or more at ``displayed_px``.

    Use as ``with plt.rc_context(figure_style(w)): fig, ax = plt.subplots(figsize=(w, h))``, or call
    :func:`exhibit_figure`. Titles and labels are one step larger than ticks.
    """
    small = math.ceil(min_font_pt(width_in, displayed_px=displayed_px, dpi=dpi, min_px=min_px) * 2) / 2
    return {"font.size": small + 1, "axes.titlesize": small + 1.5, "axes.labelsize": small + 1,
            "xtick.labelsize": small, "ytick.labelsize": small, "legend.fontsize": small,
            "legend.title_fontsize": small, "figure.titlesize": small + 2, "figure.dpi": dpi}


def exhibit_figure(nrows: int = 1, ncols: int = 1, *, width_in: float = 7.3, aspect: float = 0.55,
                   displayed_px: float = TEXT_COLUMN_PX, **subplots_kw):
    """``plt.subplots`` sized for the text column with fonts readable as displayed; returns ``(fig, axes)``.

    ``aspect`` is height / width of the whole figure. Panels side by side share the width: prefer one panel per
    row (``nrows``) over three squeezed in a row. Texts drawn later with an explicit ``fontsize`` must respect
    :func:`min_font_pt` (check with :func:`small_text`).
    """
    import matplotlib.pyplot as plt

    if not aspect > 0:
        raise InputError("aspect", aspect, "a positive height/width ratio")
    with plt.rc_context(figure_style(width_in, displayed_px=displayed_px)):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width_in, width_in * aspect), **subplots_kw)
    # rc_context only applies while it is open: copy its sizes onto the texts already made, and keep the
    # figure's own default for the texts made later through the figure's style
    style = figure_style(width_in, displayed_px=displayed_px)
    for ax in np.atleast_1d(axes).ravel():
        ax.tick_params(labelsize=style["xtick.labelsize"])
        ax.xaxis.label.set_size(style["axes.labelsize"])
        ax.yaxis.label.set_size(style["axes.labelsize"])
        ax.title.set_size(style["axes.titlesize"])
    fig._costlib_min_pt = style["xtick.labelsize"]  # noqa: SLF001 - read by small_text
    return fig, axes


def small_text(fig, *, displayed_px: float = TEXT_COLUMN_PX, min_px: float = MIN_FONT_PX) -> list[str]:
    """Every visible text of ``fig`` that shows smaller than ``min_px`` on the page: ``['tick 0.5: 8.1 px', ...]``."""
    width_in = fig.get_figwidth()
    found = []
    for text in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text")):
        if not text.get_visible() or not str(text.get_text()).strip():
            continue
        px = displayed_font_px(float(text.get_fontsize()), width_in, displayed_px=displayed_px, dpi=fig.dpi)
        if px < min_px - 1e-9:
            found.append(f"{str(text.get_text())[:30]!r}: {px:.1f} px")
    return found


# ------------------------------------------------------------------------------------------------ verdicts
def verdict_words(label_: str, *, claimed_low: float | None, claimed_high: float | None, computed=None,
                  unit: str = "", factor: float | None = None, fmt=None) -> str:
    """A seed claim's verdict in words a reader takes the right way.

    ``label_`` is the verdict class (``holds``, ``optimistic``, ``pessimistic``, ``physically impossible``,
    ``not checkable``); ``computed`` a Band (``low``, ``mid``, ``high``); ``fmt`` formats one value with its unit
    (default: :func:`format_number`, shares as percentages when ``unit`` is ``"share"``). A claim on the good side
    of costlib's band is "too optimistic"; on the bad side it is "right direction, understated": the seed's "90-98%
    saving" of a fine-tune that saves 99.99% is cautious, not wrong in direction, and a bare "pessimistic by 665x"
    reads as a failure. ``factor`` (costlib's middle against the claim) is said as how much better or worse the real
    figure is.
    """
    if fmt is None:
        def fmt(x):
            return format_number(x, kind="percent") if unit == "share" else format_number(x, digits=2)

    def rng(lo, hi):
        lo = None if lo is None or (isinstance(lo, float) and math.isnan(lo)) else lo
        hi = None if hi is None or (isinstance(hi, float) and (math.isnan(hi) or math.isinf(hi))) else hi
        if lo is None and hi is None:
            return "no figure"
        if lo is None:
            return f"under {fmt(hi)}"
        if hi is None:
            return f"{fmt(lo)} or more"
        if fmt(lo) == fmt(hi):
            return fmt(lo)
        return f"{fmt(lo)} to {fmt(hi)}"

    claimed = rng(claimed_low, claimed_high)
    ours = f"costlib {rng(computed.low, computed.high)}" if computed is not None else ""
    times = (f"{format_number(factor, digits=2)}x" if factor is not None and not math.isnan(factor) and factor >= 1.995
             else "")
    if label_ == "holds":
        return f"holds: claimed {claimed}, {ours}" if ours else "holds"
    if label_ == "optimistic":
        tail = f": the real figure is {times} worse" if times else ""
        return f"too optimistic: claimed {claimed}, {ours}{tail}"
    if label_ == "pessimistic":
        tail = f": the real figure is {times} better" if times else ": the real figure is better"
        return f"right direction, understated: claimed {claimed}, {ours}{tail}"
    if label_ == "physically impossible":
        tail = f", {times} past what the hardware can do" if times else ", beyond what the hardware can do"
        return f"physically impossible: claimed {claimed}{tail}"
    if label_ == "not checkable":
        return "not checkable"
    raise InputError("verdict", label_, "holds, optimistic, pessimistic, physically impossible or not checkable")


# ------------------------------------------------------------------------------------------------ seed emoji
SEED_SYMBOLS = {"🔻": ("↓", "down"), "🔺": ("↑", "up"), "⬇️": ("↓", "down"), "⬆️": ("↑", "up"), "⬇": ("↓", "down"),
                "⬆": ("↑", "up"), "✅": ("yes", None), "❌": ("no", None)}
"""Emoji the seed documents use, as plain symbols every font has (the seeds' 🔻 shows as an empty box where no
emoji font is installed)."""
_SEED_RUN = re.compile("(" + "|".join(sorted(map(re.escape, SEED_SYMBOLS), key=len, reverse=True)) + r")+(\s*\(\d+\))?")


def seed_arrows(text: Any) -> Any:
    """Seed emoji as plain arrows with their count: ``"train 🔻🔻🔻🔻 (4)"`` -> ``"train ↓↓↓↓ (4)"``.

    A run without a printed count gets one (``"🔻🔻"`` -> ``"↓↓ (2)"``); a check mark or cross becomes yes / no.
    Anything not a string is returned unchanged.
    """
    if not isinstance(text, str):
        return text

    def one(m):
        run = m.group(0)
        count_text = m.group(2)
        symbols = re.findall("|".join(sorted(map(re.escape, SEED_SYMBOLS), key=len, reverse=True)), run)
        plain = "".join(SEED_SYMBOLS[s][0] for s in symbols)
        if SEED_SYMBOLS[symbols[0]][1] is None:
            return plain + (count_text or "")
        return f"{plain} ({len(symbols)})"

    return _SEED_RUN.sub(one, text)


def arrows_in_words(text: str) -> str:
    """``"🔻🔻"`` -> ``"two down-arrows (↓↓)"``: for prose that quotes the seeds' symbols."""
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

    def one(m):
        symbols = re.findall("|".join(sorted(map(re.escape, SEED_SYMBOLS), key=len, reverse=True)), m.group(0))
        n = len(symbols)
        plain = "".join(SEED_SYMBOLS[s][0] for s in symbols)
        direction = SEED_SYMBOLS[symbols[0]][1] or "mark"
        return f"{words[n] if n < len(words) else n} {direction}-arrow{'s' if n != 1 else ''} ({plain})"

    return _SEED_RUN.sub(one, text)
