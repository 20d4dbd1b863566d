"""The planner's result table on a phone and on a desktop (costlib.present.explore_planner on the budget-memo page).

At 390 px every row becomes a card: the option's name, then each cell under its label, so the decisive cells
(option, $ per month, binding constraint) sit inside the planner's box with no sideways scrolling. At 1280 px it
stays a table: each row's cells side by side, the binding constraint in the last column.
"""
from __future__ import annotations

import pytest
from pageprobe import open_page, settle

PAGE = "notebooks/01a_budget_memo.html"
ROOT_SEL = ".costlib-planner"

_GEOMETRY = """r => {
  const box = r.getBoundingClientRect();
  const row = sel => Array.from(r.querySelectorAll(sel)).map(td => {
    const b = td.getBoundingClientRect();
    return {f: td.dataset.f || (td.classList.contains('pl-name') ? 'name' : ''), left: b.left, right: b.right, top: b.top,
            shown: b.width > 0 && b.height > 0, label: getComputedStyle(td, '::before').content};
  });
  return {left: box.left, right: box.right, scroll: r.scrollWidth, client: r.clientWidth,
          self: row('tr[data-row="self"] td'), api: row('tr[data-row="api"] td'),
          head: getComputedStyle(r.querySelector('tr.pl-head') || r.querySelector('tr')).display};
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_decisive_columns_are_in_view(width, base_url, new_page):
    page = new_page(width, 900)
    report = open_page(page, base_url + PAGE, base_url)
    assert not report.page_errors, report.page_errors
    page.select_option(f"{ROOT_SEL} [data-k='gpu']", index=0)  # any change: the page fills the table
    settle(page)
    g = page.eval_on_selector(ROOT_SEL, _GEOMETRY)
    assert g["scroll"] <= g["client"] + 1, f"the planner scrolls sideways at {width}px ({g['scroll']} > {g['client']})"
    for row in (g["self"], g["api"]):
        for cell in row:
            if cell["f"] in ("name", "month", "binding") or (row is g["self"] and cell["f"]):
                assert cell["shown"], (width, cell)
                assert g["left"] - 1 <= cell["left"] and cell["right"] <= g["right"] + 1, (width, cell)
    cells = {c["f"]: c for c in g["self"]}
    if width == 390:  # a card: cells stacked, each under its label, the header row hidden
        assert g["head"] == "none"
        tops = [cells[f]["top"] for f in ("name", "k", "gpus", "month", "per1k", "binding")]
        assert tops == sorted(tops) and len(set(tops)) == len(tops), tops
        assert "binding constraint" in cells["binding"]["label"] and "per month" in cells["month"]["label"]
    else:  # a table: one line of cells, binding constraint last
        assert g["head"] != "none"
        lefts = [cells[f]["left"] for f in ("name", "k", "gpus", "month", "per1k", "binding")]
        assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts), lefts
        assert cells["binding"]["label"] in ("none", "normal")
