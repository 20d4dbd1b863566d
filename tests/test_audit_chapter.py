"""The seed-audit appendix: every claim shown once, through the audit's markers, with the audit's verdict."""
from __future__ import annotations

import re

import pytest

from costlib.book import audit, audit_chapter as ch
from costlib.book.claims import claim_fields
from costlib.present.exhibits import render_table


def test_every_claim_appears_once_with_its_marker():
    part = ch.seed_tables()
    ids = []
    for label, t in part.tables.items():
        html = render_table(label, t)
        html = html.to_html() if hasattr(html, "to_html") else html.data
        ids += re.findall(r'data-claim="([^"]+)"', html)
    assert sorted(ids) == sorted(c.id for c in audit.seed_claims())


def test_marker_carries_the_audit_verdict():
    t = ch.seed_tables().tables["tbl-audit-000"]
    html = render_table("tbl-audit-000", t).to_html()
    m = re.search(r'data-claim="s0-train-7b-time"[^>]*data-verdict="([^"]*)"', html)
    assert m and m.group(1) == claim_fields("s0-train-7b-time")["verdict"]


def test_text_is_escaped_but_markers_are_not():
    t = ch.seed_tables().tables["tbl-audit-000"]
    html = render_table("tbl-audit-000", t).to_html()
    assert "&lt;span" not in html and '<span class="claim"' in html


def test_counts_add_up():
    part = ch.summary()
    v = part.values
    assert v["n_seed0"] + v["n_seed1"] == v["n_claims"]
    assert v["n_holds"] + v["n_optimistic"] + v["n_pessimistic"] + v["n_impossible"] == v["n_checkable"]
    assert v["n_checkable"] + v["n_not_checkable"] == v["n_claims"]


def test_worked_problem_1_by_hand():
    # 6 x 7e9 x 1e12 = 4.2e22 FLOPs; 32 A100 x 312 TFLOP/s x 14 days = 1.2076e22 FLOP at 100 %
    v = ch.worked_problems().values
    assert v["p90_flops"] == pytest.approx(4.2e22)
    assert v["p90_mfu"] == pytest.approx(100 * 4.2e22 / (32 * 312e12 * 14 * 86400))  # 348 %: impossible
    assert v["p90_mfu"] > 100
