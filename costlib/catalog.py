"""Loading and validating the CSV catalogs shipped in ``costlib/data``.

It also owns the one reader of a user's local text file (:func:`read_bounded_text`: a scenario YAML, a
config.json), with a size cap and strict UTF-8.

Every catalog row carries a ``source`` (a URL or a key in ``book/references.bib``) and an
``as_of`` ISO date. :func:`load_csv` checks required columns, types, units, positive
magnitudes, allowed values and unique ids, and raises :class:`~costlib.errors.CatalogError`
naming the file, the row (its line number in the file) and the column.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import CatalogError, InputError

DATA_DIR = Path(__file__).resolve().parent / "data"  # the package directory (importlib.resources costs ~10 ms at import)


@dataclass(frozen=True)
class Column:
    """One column of a catalog: its type and what values it admits."""

    name: str
    kind: str = "str"  # str | float | int | bool | date
    required: bool = True
    positive: bool = False  # > 0 when present
    non_negative: bool = False
    choices: tuple[str, ...] = ()
    unit: str = ""  # documentation: the unit the column is in
    magnitude: tuple[float, float] | None = None
    """Plausible (low, high) range in ``unit``: a value outside it is a magnitude slip (TB/s typed in a
    GB/s column, a price in cents), reported with file, row and column."""
    magnitude_by_class: tuple[tuple[str, float, float], ...] = ()
    """Per-class ranges, ``(class, low, high)``, keyed by the schema's ``class_column`` (device kind);
    a class not listed falls back to :attr:`magnitude`."""


@dataclass(frozen=True)
class Schema:
    columns: tuple[Column, ...]
    id_column: str | None = "id"
    row_checks: tuple[Callable[[dict], str | None], ...] = field(default_factory=tuple)
    class_column: str | None = None  # the column that selects a Column's magnitude_by_class range

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


SOURCE = Column("source")
AS_OF = Column("as_of", "date")
NOTES = Column("notes", required=False)


def _parse(col: Column, raw: str, file: str, row: int) -> Any:
    text = raw.strip()
    if text == "":
        if col.required:
            raise CatalogError(file, row, col.name, "is empty but required")
        return None
    try:
        if col.kind == "str":
            value: Any = text
        elif col.kind == "float":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        elif col.kind == "int":
            value = int(text)
        elif col.kind == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError
            value = text.lower() == "true"
        elif col.kind == "date":
            value = dt.date.fromisoformat(text)
        else:  # pragma: no cover - schema bug
            raise AssertionError(col.kind)
    except ValueError:
        raise CatalogError(file, row, col.name, f"{text!r} is not a valid {col.kind}") from None
    if col.positive and value <= 0:
        raise CatalogError(file, row, col.name, f"{text} must be greater than 0 ({col.unit or 'magnitude'})")
    if col.non_negative and value < 0:
        raise CatalogError(file, row, col.name, f"{text} must not be negative")
    if col.choices and value not in col.choices:
        raise CatalogError(file, row, col.name, f"{text!r} is not one of {', '.join(col.choices)}")
    if col.kind == "date" and value > dt.date.today():
        raise CatalogError(file, row, col.name, f"{text} is in the future")
    return value


def magnitude_problem(col: Column, value: Any, row_class: str | None = None) -> str | None:
    """Why ``value`` is implausible for ``col`` (for a row of class ``row_class``), or None."""
    if value is None or col.kind not in ("float", "int"):
        return None
    bounds = next(((lo, hi) for c, lo, hi in col.magnitude_by_class if c == row_class), col.magnitude)
    if bounds is None:
        return None
    lo, hi = bounds
    if lo <= value <= hi:
        return None
    what = f" for a {row_class}" if row_class and col.magnitude_by_class else ""
    return (f"{value:g} is outside the plausible range {lo:g} to {hi:g} {col.unit}{what}; "
            f"a magnitude slip (wrong unit, cents for dollars, TB/s for GB/s)?")


def load_csv(name: str | Path, schema: Schema, *, directory: Path | None = None) -> list[dict]:
    """Read and validate one catalog; returns its rows as dicts of parsed values."""
    path = Path(name) if Path(name).is_absolute() else (directory or DATA_DIR) / name
    file = path.name
    if not path.exists():
        raise CatalogError(file, None, None, f"file not found at {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        numbered = [(n, line) for n, line in enumerate(fh, start=1) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise CatalogError(file, None, None, "has no header")
    line_of = [n for n, _ in numbered]  # file line number of the header and of each row
    reader = csv.DictReader(line for _, line in numbered)
    header = reader.fieldnames or []
    missing = [c.name for c in schema.columns if c.required and c.name not in header]
    if missing:
        raise CatalogError(file, line_of[0], missing[0], "required column is missing from the header")
    known = set(schema.names)
    extra = [h for h in header if h not in known]
    if extra:
        raise CatalogError(file, line_of[0], extra[0], "unknown column (not in the schema)")
    rows: list[dict] = []
    seen: dict[str, int] = {}
    for k, raw in enumerate(reader, start=1):
        i = line_of[k]
        if None in raw:
            raise CatalogError(file, i, None, "has more fields than the header")
        row = {c.name: _parse(c, raw.get(c.name) or "", file, i) for c in schema.columns}
        row_class = row.get(schema.class_column) if schema.class_column else None
        for c in schema.columns:
            problem = magnitude_problem(c, row[c.name], row_class)
            if problem:
                raise CatalogError(file, i, c.name, problem)
        if schema.id_column:
            key = row[schema.id_column]
            if key in seen:
                raise CatalogError(file, i, schema.id_column, f"duplicate id {key!r} (first on row {seen[key]})")
            seen[key] = i
        for check in schema.row_checks:
            problem = check(row)
            if problem:
                raise CatalogError(file, i, problem.split(":", 1)[0], problem.split(":", 1)[-1].strip())
        row["_row"] = i
        rows.append(row)
    if not rows:
        raise CatalogError(file, None, None, "has no rows")
    return rows



def records(name: str, schema: Schema, cls, *, text_fields: tuple[str, ...] = ("notes",)) -> tuple:
    """A catalog's rows as ``cls`` instances (frozen dataclasses): columns starting with ``_`` dropped, ``as_of``
    as an ISO date string, and the optional text columns in ``text_fields`` as "" where empty."""
    out = []
    for row in load_csv(name, schema):
        fields = {k: v for k, v in row.items() if not k.startswith("_")}
        fields["as_of"] = row["as_of"].isoformat()
        for k in text_fields:
            fields[k] = row[k] or ""
        out.append(cls(**fields))
    return tuple(out)


def provenance(row: dict) -> dict[str, str]:
    """The source and as-of date of a catalog row, as strings for JSON and tables."""
    return {"source": row["source"], "as_of": row["as_of"].isoformat()}


class TextFileError(InputError):
    """A local text file that :func:`read_bounded_text` refuses: ``problem`` is ``"unreadable"`` (missing,
    a directory, no permission), ``"size"`` (over the cap; ``size`` in bytes) or ``"encoding"`` (not UTF-8;
    ``line`` and ``byte`` of the first bad byte). ``found`` says what was found in words, ``allowed`` what is allowed."""

    def __init__(self, parameter: str, value: object, allowed: str, *, problem: str, found: str,
                 size: int | None = None, line: int | None = None, byte: int | None = None):
        super().__init__(parameter, value, allowed)
        self.problem, self.found, self.size, self.line, self.byte = problem, found, size, line, byte


def read_bounded_text(path: str | Path, *, parameter: str, max_bytes: int, what: str = "a file") -> str:
    """The text of a local UTF-8 file of at most ``max_bytes`` bytes (a leading byte-order mark is dropped).

    The size is checked before a byte is read, so a huge file costs nothing. Every refusal is one line, a
    :class:`TextFileError` (an :class:`~costlib.errors.InputError`) naming ``parameter`` and the path:
    ``what`` of at most N bytes, UTF-8 text (with the first bad byte and its line), or a readable file
    (with the operating system's reason).
    """
    p = Path(path)

    def too_big(size: int) -> TextFileError:
        return TextFileError(parameter, str(p), f"{what} of at most {max_bytes:,} bytes (this one has {size:,})",
                             problem="size", found=f"a file of {size:,} bytes", size=size)

    try:
        info = p.stat()
        if not stat.S_ISREG(info.st_mode):  # a directory, a device (/dev/zero never ends), a pipe (blocks)
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise TextFileError(parameter, str(p), f"a readable file ({kind})", problem="unreadable", found=str(p))
        if info.st_size > max_bytes:
            raise too_big(info.st_size)
        with p.open("rb") as fh:
            raw = fh.read(max_bytes + 1)  # never more than the cap, even if the file grew since stat
        if len(raw) > max_bytes:
            raise too_big(len(raw))
    except OSError as exc:
        reason = f"a readable file ({exc.strerror or exc})"
        raise TextFileError(parameter, str(p), reason, problem="unreadable", found=str(p)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start]
        raise TextFileError(parameter, str(p), f"UTF-8 text (byte 0x{byte:02x} at line {line})", problem="encoding",
                            found=f"the byte 0x{byte:02x}", line=line, byte=byte) from None
