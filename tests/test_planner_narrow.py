"""The planner's result table carries, on every data cell, its column's header as ``data-label``: at phone width
the page's CSS (one @media rule) stacks each row into a card and prints those labels, so the labels must be the
headers, cell for cell (the browser check of the layout is tests/browser/test_planner_layout.py)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from costlib.present import explore_planner as xp


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._in = [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "pl-results" in (a.get("class") or ""):
            self._in = True
        elif self._in and tag == "tr":
            self.rows.append({"attrs": a, "cells": []})
        elif self._in and tag in ("td", "th"):
            self.rows[-1]["cells"].append({"tag": tag, **a, "text": ""})

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = False

    def handle_data(self, data):
        if self._in and self.rows and self.rows[-1]["cells"]:
            self.rows[-1]["cells"][-1]["text"] += data


@pytest.fixture(scope="module")
def page():
    html = xp.planner_html()
    parser = _Rows()
    parser.feed(html)
    return html, parser.rows


def test_every_data_cell_is_labelled_with_its_header(page):
    _, rows = page
    head = rows[0]
    assert head["attrs"].get("class") == "pl-head" and all(c["tag"] == "th" for c in head["cells"])
    headers = [c["text"].strip() for c in head["cells"]]
    assert headers[0] == "option" and headers[-1] == "binding constraint" and len(headers) == 6
    body = rows[1:]
    assert body[0]["attrs"].get("data-row") == "self" and len(body) >= 2
    for row in body:
        cells = row["cells"]
        assert len(cells) == len(headers)
        assert "pl-name" in cells[0].get("class", "") and "data-label" not in cells[0]  # the card's title
        assert [c.get("data-label") for c in cells[1:]] == headers[1:], row


def test_the_phone_rule_stacks_rows_and_prints_the_labels(page):
    html, _ = page
    rule = re.search(r"@media \(max-width:640px\)\{(.*?)\}\s*</style>", html, re.S)
    assert rule, "no phone-width rule in the planner's CSS"
    css = rule.group(1)
    assert "tr.pl-head{display:none}" in css
    assert "td[data-label]::before{content:attr(data-label)" in css
    assert re.search(r"table\.pl-results td\{display:block", css)
