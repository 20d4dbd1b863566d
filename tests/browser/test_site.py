"""Every built page, opened in headless Chromium as a reader would (served over HTTP on 127.0.0.1).

Fails on: a missing image, an unresolved glue reference, a broken internal link or anchor, a JavaScript
console error or uncaught exception, a failed local request, any request to an outside host, a stored
widget left blank, a page without its <title> or <h1>, a page that scrolls sideways on a phone (390 px). Run after `make site` (`make browser`).
"""

from __future__ import annotations

import pytest
from conftest import MISSING, built_pages
from pageprobe import (
    broken_images,
    broken_links,
    glue_residue,
    horizontal_overflow,
    open_page,
    title_and_h1,
    wait_for_widgets,
)

PHONE_WIDTH = 390

PAGES = built_pages()


@pytest.mark.parametrize("rel", PAGES)
def test_page(rel, site_dir, base_url, new_page):
    assert rel != MISSING  # site_dir already failed with the reason
    page = new_page(1280, 900)
    report = open_page(page, base_url + rel, base_url)
    problems = []
    problems += wait_for_widgets(page)
    problems += [f"missing image: {src}" for src in broken_images(page)]
    problems += [f"unresolved glue / failed role: {r}" for r in glue_residue(page)]
    problems += broken_links(page, site_dir, base_url)
    problems += title_and_h1(page)
    problems += horizontal_overflow(page, PHONE_WIDTH)
    problems += report.problems()  # last: includes errors raised while widgets rendered
    assert not problems, f"{rel}:\n  " + "\n  ".join(problems)


def test_site_has_pages():
    """The build holds the root page and at least one notebook chapter."""
    assert PAGES != [MISSING], "no built site: run `make site` first"
    assert "index.html" in PAGES
    assert any(p.startswith("notebooks/") for p in PAGES), f"no notebook page among {PAGES}"
