"""One claim, one answer: every mention of a seed claim on every page shows the same claimed range, computed band
and verdict, and those are the seed audit's (``costlib.book.claims``).

Mentions are found by the marker convention of :mod:`costlib.book.claims` (CONTRIBUTING.md, "Showing a seed
claim"): glued values named ``claim-<id>-<field>`` and HTML spans ``data-claim="<id>"`` with ``data-claimed``,
``data-computed`` and ``data-verdict``. Sources: the executed notebooks' stored outputs, and the built site
(``_build/html``, or ``BOOK_HTML_DIR``) when it exists.
"""
from __future__ import annotations

import ast
import html
import json
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

from costlib.book import audit
from costlib.book.claims import FIELDS, GLUE_PREFIX, claim_fields, claim_html, glue_name

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SITE = Path(os.environ.get("BOOK_HTML_DIR", REPO / "_build" / "html")).resolve()
"""The built site, as the browser tests find it (``BOOK_HTML_DIR`` for a private build)."""

_SPAN = re.compile(r"<span\b[^>]*\bdata-claim=\"([^\"]+)\"[^>]*>")
_ATTR = re.compile(r"\bdata-(claimed|computed|verdict)=\"([^\"]*)\"")
_GLUE = re.compile(rf"^{re.escape(GLUE_PREFIX)}(?P<id>.+)-(?P<field>{'|'.join(FIELDS)})$")


def mentions_in_html(text: str, where: str):
    """(claim id, field, value, where) for every marker span in an HTML string."""
    for m in _SPAN.finditer(text):
        for field, value in _ATTR.findall(m.group(0)):
            yield m.group(1), field, html.unescape(value), where


def _strings(data: dict):
    for mime, value in data.items():
        yield mime, "".join(value) if isinstance(value, list) else value


def mentions_in_notebook(nb: dict, where: str):
    """Marker spans in any stored output, and glued ``claim-<id>-<field>`` values."""
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "markdown":
            yield from mentions_in_html("".join(cell.get("source", "")), f"{where} cell {i}")
        for out in cell.get("outputs", []):
            name = (out.get("metadata") or {}).get("scrapbook", {}).get("name", "")
            g = _GLUE.match(name)
            for mime, text in _strings(out.get("data") or {}):
                if not isinstance(text, str):
                    continue
                if g and mime.endswith("text/plain"):
                    try:
                        value = ast.literal_eval(text)
                    except (ValueError, SyntaxError):
                        value = text
                    yield g["id"], g["field"], str(value), f"{where} cell {i} (glue {name})"
                yield from mentions_in_html(text, f"{where} cell {i}")
            if out.get("output_type") == "stream":
                yield from mentions_in_html("".join(out.get("text", "")), f"{where} cell {i}")


def collect(sources) -> dict:
    """claim id -> field -> value -> [where]"""
    seen: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for cid, field, value, where in sources:
        seen[cid][field][value].append(where)
    return seen


def disagreements(seen: dict) -> list[str]:
    out = []
    for cid, fields in sorted(seen.items()):
        for field, values in sorted(fields.items()):
            if len(values) > 1:
                out.append(f"{cid} {field}: " + " | ".join(f"{v!r} at {', '.join(w[:3])}" for v, w in values.items()))
    return out


def _all_mentions():
    for path in NOTEBOOKS:
        yield from mentions_in_notebook(json.loads(path.read_text(encoding="utf-8")), path.name)
    if SITE.is_dir():
        for page in sorted(SITE.rglob("*.html")):
            yield from mentions_in_html(page.read_text(encoding="utf-8", errors="replace"), f"site {page.relative_to(SITE)}")


@pytest.fixture(scope="module")
def seen():
    return collect(_all_mentions())


def test_every_claim_id_shows_one_verdict_and_one_set_of_figures(seen):
    bad = disagreements(seen)
    assert not bad, "the same claim shows different figures on different pages:\n" + "\n".join(bad)


def test_mentions_match_the_seed_audit(seen):
    known = {c.id for c in audit.seed_claims()}
    unknown = sorted(set(seen) - known)
    assert not unknown, f"marked claim ids that are not in seed_claims.csv: {unknown}"
    stale = []
    for cid, fields in seen.items():
        truth = claim_fields(cid)
        for field, values in fields.items():
            for value, where in values.items():
                if value != truth[field]:
                    stale.append(f"{cid} {field}: page says {value!r}, the audit says {truth[field]!r} ({where[0]})")
    assert not stale, "pages disagree with the seed audit (re-execute the notebook):\n" + "\n".join(stale)


# --- the scanner itself must be able to fail -------------------------------------------------------------------
def _nb(*outputs, markdown: str = "") -> dict:
    cells = [{"cell_type": "markdown", "source": markdown}] if markdown else []
    cells.append({"cell_type": "code", "source": "", "outputs": list(outputs)})
    return {"cells": cells}


def _glued(name: str, value: str) -> dict:
    return {"output_type": "display_data", "metadata": {"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}},
            "data": {"application/papermill.record/text/plain": repr(value)}}


def test_scanner_flags_two_verdicts_for_one_claim():
    a = _nb(_glued("claim-s0-lora-cost-verdict", "holds"))
    b = _nb({"output_type": "display_data", "metadata": {},
             "data": {"text/html": '<span class="claim" data-claim="s0-lora-cost" data-verdict="optimistic by 3.6x">x</span>'}})
    seen = collect([*mentions_in_notebook(a, "a"), *mentions_in_notebook(b, "b")])
    bad = disagreements(seen)
    assert len(bad) == 1 and "s0-lora-cost verdict" in bad[0] and "'holds'" in bad[0] and "3.6x" in bad[0]


def test_scanner_reads_what_the_helpers_write():
    span = claim_html("s1-latency-slm")
    nb = _nb({"output_type": "display_data", "metadata": {}, "data": {"text/html": [span]}},
             _glued(glue_name("s1-latency-slm", "verdict"), claim_fields("s1-latency-slm")["verdict"]))
    seen = collect(mentions_in_notebook(nb, "n"))
    assert set(seen["s1-latency-slm"]) == set(FIELDS)
    assert not disagreements(seen)
    assert {v for v in seen["s1-latency-slm"]["verdict"]} == {claim_fields("s1-latency-slm")["verdict"]}


def test_chapter_claim_lists_name_real_claims_once():
    from costlib.book.claims import CHAPTER_CLAIMS

    known = {c.id for c in audit.seed_claims()}
    listed = [cid for ids in CHAPTER_CLAIMS.values() for cid in ids]
    assert set(listed) <= known, sorted(set(listed) - known)
    assert len(listed) == len(set(listed)), "a claim belongs to one chapter's seed table"
    # the five disagreements of issue 17 are all rows a chapter shows
    for cid in ("s0-train-7b-cost", "s0-lora-cost", "s1-latency-slm", "s0-qlora-time", "s0-rec-monthly"):
        assert cid in listed
