"""Every built page, opened in headless Chromium as a reader would (served over HTTP on 127.0.0.1).

Fails on: a missing image, an unresolved glue reference, a broken internal link or anchor, a JavaScript
console error or uncaught exception, a failed local request, any request to an outside host, a stored
widget left blank, a page without its <title> or <h1>; a table whose last column is cut off at 1280 px
without a visible scroll cue, a snake_case header or row label, a cell showing Python's True/False/nan/None;
a control that changes nothing on the page (a dead widget); and, on a phone (390 px), a page that scrolls
sideways or a display equation that runs off the screen. Run after `make site` (`make browser`).

One page is opened per test, in the session's one Chromium; the next page loads while the current one is
checked (`PagePool`), and nothing waits a fixed time (conditions only).
"""

from __future__ import annotations

import pytest
from conftest import MISSING, built_pages
from pageprobe import (
    broken_images,
    broken_links,
    dead_controls,
    equation_problems,
    finish_page,
    glue_residue,
    horizontal_overflow,
    open_all_dropdowns,
    start_page,
    table_problems,
    title_and_h1,
    wait_for_widgets,
)

PHONE_WIDTH = 390

PAGES = built_pages()


class PagePool:
    """Opens pages ahead (in their own contexts) so the browser loads the next while the current is checked."""

    AHEAD = 2

    def __init__(self, browser, base_url, order):
        self.browser, self.base_url, self.order = browser, base_url, order
        self.open: dict[str, tuple] = {}

    def _start(self, rel):
        if rel not in self.open and rel != MISSING:
            context = self.browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            self.open[rel] = (context, page, start_page(page, self.base_url + rel, self.base_url))

    def take(self, rel):
        i = self.order.index(rel)
        for other in self.order[i: i + 1 + self.AHEAD]:
            self._start(other)
        context, page, report = self.open.pop(rel)
        finish_page(page)
        return context, page, report

    def close(self):
        for context, *_ in self.open.values():
            context.close()
        self.open.clear()


@pytest.fixture(scope="module")
def page_pool(browser, base_url):
    pool = PagePool(browser, base_url, PAGES)
    yield pool
    pool.close()


@pytest.mark.parametrize("rel", PAGES)
def test_page(rel, site_dir, base_url, page_pool):
    assert rel != MISSING  # site_dir already failed with the reason
    context, page, report = page_pool.take(rel)
    try:
        problems = []
        problems += wait_for_widgets(page)
        problems += [f"missing image: {src}" for src in broken_images(page)]
        problems += [f"unresolved glue / failed role: {r}" for r in glue_residue(page)]
        problems += broken_links(page, site_dir, base_url)
        problems += title_and_h1(page)
        problems += dead_controls(page)
        open_all_dropdowns(page)
        problems += [f"at 1280px: {p}" for p in table_problems(page)]
        problems += horizontal_overflow(page, PHONE_WIDTH)
        problems += [f"at {PHONE_WIDTH}px: {p}" for p in equation_problems(page)]
        problems += report.problems()  # last: includes errors raised while widgets rendered
        assert not problems, f"{rel}:\n  " + "\n  ".join(problems)
    finally:
        context.close()


def test_site_has_pages():
    """The build holds the root page and at least one notebook chapter."""
    assert PAGES != [MISSING], "no built site: run `make site` first"
    assert "index.html" in PAGES
    assert any(p.startswith("notebooks/") for p in PAGES), f"no notebook page among {PAGES}"
