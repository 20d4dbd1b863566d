"""References by name: no typed "chapter N" in notebook or book text.

Notebook file numbers (01_training) are not the book's chapter numbers (training is chapter 3 of the built
book), so a typed number points the reader at the wrong chapter. Refer by name with a link:
``{doc}`training chapter <01_training>``` (or a ``{ref}`` to a label); in text a code cell prints (table
cells, captions), write the chapter's name ("the training chapter").
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TYPED = re.compile(r"\b[Cc]hapters?\s+\d+")


def typed_references(text: str) -> list[str]:
    return [m.group(0) for m in TYPED.finditer(text)]


def _notebook_texts():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            yield f"{path.name} cell {i} ({cell['cell_type']})", "".join(cell.get("source", ""))


def _book_texts():
    for path in sorted((REPO / "book").glob("*.md")):
        yield str(path.relative_to(REPO)), path.read_text(encoding="utf-8")


def test_the_pattern_catches_typed_numbers_and_spares_names():
    assert typed_references("the MFU band of chapter 1 and Chapter 6's scenario, chapters 2 and 3") == [
        "chapter 1", "Chapter 6", "chapters 2"]
    assert typed_references("the {doc}`training chapter <01_training>`; the chapter numbered by the table of contents") == []


@pytest.mark.parametrize("source", ["book", "notebooks"])
def test_no_typed_chapter_numbers(source):
    texts = _book_texts() if source == "book" else _notebook_texts()
    bad = [f"{where}: {ref!r}" for where, text in texts for ref in typed_references(text)]
    assert not bad, "typed chapter numbers (use {doc} links or the chapter's name):\n" + "\n".join(bad)
