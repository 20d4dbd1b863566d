"""Notebooks thin (issue 17): prose, one visible call per exhibit, and little code of their own.

* a visible exhibit cell (tagged ``hide-input``: collapsible on the page, so a reader can open the call behind
  the exhibit) is short: at most ``MAX_EXHIBIT_LINES`` lines of code;
* the rest of a notebook's code (set-up, glue, widgets: cells tagged ``remove-input`` or ``remove-cell``) is
  under ``MAX_OWN_LINES`` lines in all;
* no function is defined in two notebooks (a helper used twice lives in ``costlib.present.notebook`` or the
  chapter's module in ``costlib.book``).

Lines are counted without blank lines and comments.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
MAX_OWN_LINES = 150
MAX_EXHIBIT_LINES = 10
EXHIBIT_TAG = "hide-input"


def _code_lines(source: str) -> list[str]:
    return [ln for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _cells(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            yield "".join(cell["source"]), set(cell.get("metadata", {}).get("tags", []))


def own_lines(path: Path) -> int:
    return sum(len(_code_lines(src)) for src, tags in _cells(path) if EXHIBIT_TAG not in tags)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_code_is_thin(path):
    n = own_lines(path)
    assert n < MAX_OWN_LINES, f"{path.name}: {n} lines of its own code (goal < {MAX_OWN_LINES}); move helpers " \
                              "and exhibit code into costlib (costlib.book.<chapter> / costlib.present)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exhibit_cells_are_short_calls(path):
    long = [len(_code_lines(src)) for src, tags in _cells(path) if EXHIBIT_TAG in tags
            and len(_code_lines(src)) > MAX_EXHIBIT_LINES]
    assert not long, f"{path.name}: visible exhibit cells of {long} lines (at most {MAX_EXHIBIT_LINES})"


def test_no_helper_defined_in_two_notebooks():
    where = defaultdict(set)
    for path in NOTEBOOKS:
        for src, _ in _cells(path):
            for name in re.findall(r"^\s*def (\w+)\(", src, re.M):
                where[name].add(path.stem)
    twice = {k: sorted(v) for k, v in where.items() if len(v) > 1}
    assert not twice, f"helpers defined in more than one notebook: {twice}"
