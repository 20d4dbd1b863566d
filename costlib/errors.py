"""Errors that name the parameter, the value and what is allowed.

Every check in costlib raises one of these instead of letting numpy return a NaN,
a negative cost or a traceback from deep inside an array operation.
"""
from __future__ import annotations


class CostlibError(ValueError):
    """Base class for every error costlib raises on purpose."""


class InputError(CostlibError):
    """A bad argument: ``parameter=value`` is not allowed, and what is."""

    def __init__(self, parameter: str, value: object, allowed: str):
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        super().__init__(f"{parameter}={_short(value)} is not allowed: {allowed}")


class UnknownIdError(InputError):
    """An id that is not in a catalog; the message lists the known ids."""

    def __init__(self, parameter: str, value: object, known: list[str]):
        self.known = list(known)
        super().__init__(parameter, value, "known ids are " + ", ".join(self.known))


class CatalogError(CostlibError):
    """A catalog file that fails validation; names the file, row and column."""

    def __init__(self, file: str, row: int | None, column: str | None, message: str):
        self.file, self.row, self.column = file, row, column
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
