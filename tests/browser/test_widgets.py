"""Every chapter's widgets, used as a person uses them: in a live Jupyter front end, in headless Chromium.

Each chapter notebook in notebooks/ that imports ipywidgets is served by Voilà (a real Jupyter front end: it
runs the notebook in a fresh kernel and draws the widgets with the ipywidgets JavaScript) on 127.0.0.1, with no
network. For every control found in the page (dropdowns, selects, sliders, number and text fields, checkboxes,
toggle and radio buttons) the test makes a change a person would make and asserts that the result widget in
the same cell output (the HTML/Label widget) shows a different text, with no error text, no traceback, no
stderr output, no JavaScript console error or uncaught exception, and no request to another host.
A callback that raises fails the test twice over: the kernel sends the exception to the page (ipykernel logs it
to stderr, which reaches the page's websocket; Voilà does not display it) and the result stays unchanged. The
failure names the control and the exception. `test_a_raising_callback_fails_the_check` proves this on every run
with a generated canary notebook whose dropdown callback raises.

Voilà serves a temporary copy of notebooks/ (set WIDGETS_NOTEBOOKS_DIR to serve another folder, e.g. a copy with a
callback broken on purpose); the next chapter is opened while the current one is driven, so its kernel runs meanwhile.

The controls are discovered by walking the DOM, so a chapter's new widget is covered without editing this file;
a control of a kind the driver cannot change fails the test (see `widgets_voila.CONTROL_JS`).
Run with `make browser` (part of `make test`) or `.venv/bin/python -m pytest tests/browser/test_widgets.py -q`.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT
from conftest import CHROMIUM
from test_widget_callbacks import DRIVER, kernel_report_from_text, problems_in
from widgets_voila import (
    VoilaServer,
    WidgetDriver,
    controls,
    rendered_errors,
    reveal_next_section,
    start_voila_page,
    wait_rendered,
)

# The chapters to serve (override to try a modified copy, e.g. one with a callback broken on purpose).
NOTEBOOKS = Path(os.environ.get("WIDGETS_NOTEBOOKS_DIR", ROOT / "notebooks")).resolve()
CANARY = "zz_canary_raising_callback.ipynb"


def widget_notebooks() -> list[str]:
    """Chapter notebooks whose code imports ipywidgets."""
    names = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []) if c.get("cell_type") == "code")
        if "ipywidgets" in code:
            names.append(path.name)
    return names


WIDGET_NOTEBOOKS = widget_notebooks()


def serve_chapters():
    """Voilà serving a copy of notebooks/ (so nothing a notebook writes lands in the tree) plus the canary below; a
    generator for the session fixture ``voila`` (tests/browser/conftest.py)."""
    with tempfile.TemporaryDirectory(prefix="widgets-chapters-") as tmp:
        root = Path(tmp) / "notebooks"
        shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        write_canary(root / CANARY)
        for name in WIDGET_NOTEBOOKS:  # the kernel-side driver (test_widget_callbacks.DRIVER) as the last cell
            append_driver(root / name)
        with VoilaServer(root) as server:
            yield server


def append_driver(path: Path) -> None:
    """Append the kernel-side widget driver as the last cell of a served copy: Voilà runs it after the chapter's cells,
    in the same kernel, and shows its one-line report (read back by `kernel_report`)."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cell = nbformat.v4.new_code_cell(DRIVER)
    cell.metadata["tags"] = ["costlib-widget-driver"]
    nb.cells.append(cell)
    nbformat.write(nb, str(path))


KERNEL_REPORT_JS = """() => {
    const areas = Array.from(document.querySelectorAll('.jp-OutputArea'));
    const mine = areas.filter(a => a.innerText.includes('@@WIDGET-DRIVE@@'));
    const area = mine.length ? mine[mine.length - 1] : null;
    return area ? area.innerText : '';
}"""
KERNEL_REPORTS: dict[str, dict | str] = {}


def kernel_report(page) -> dict:
    return kernel_report_from_text(page.evaluate(KERNEL_REPORT_JS))


def write_canary(path: Path) -> None:
    """A two-control notebook whose dropdown callback raises and whose slider callback works (on a second tab)."""
    import nbformat

    code = (
        "import ipywidgets as widgets\n"
        "letter = widgets.Dropdown(options=['a', 'b', 'c'], value='a', description='letter')\n"
        "n = widgets.IntSlider(value=3, min=0, max=10, description='n')\n"
        "result = widgets.HTML('letter a, n 3')\n"
        "def on_letter(change):\n"
        "    raise ZeroDivisionError('a callback broken on purpose')\n"
        "def on_n(change):\n"
        "    result.value = f'letter {letter.value}, n {n.value}'\n"
        "letter.observe(on_letter, 'value')\n"
        "n.observe(on_n, 'value')\n"
        "tabs = widgets.Tab(children=[letter, n], titles=['first', 'second'])\n"
        "widgets.VBox([tabs, result])\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Canary"), nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


class Prefetch:
    """Opens the next chapter while the current one is tested: Voilà runs its notebook in the meantime."""

    PREFETCH = 1  # chapters opened ahead (the CI machine has 2 cores)

    def __init__(self, browser, server, order: list[str] | None = None):
        self.browser, self.server = browser, server
        self.order = order or WIDGET_NOTEBOOKS + [CANARY]  # the chapters this run takes, in the order it takes them
        self.open: dict[str, tuple] = {}

    def _start(self, name):
        if name not in self.open:
            context = self.browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            self.open[name] = (context, page, start_voila_page(page, self.server.url(name)), time.monotonic())

    def start_ahead(self):
        """Open the first chapters now (their kernels run while other tests use the browser)."""
        for name in self.order[: 1 + self.PREFETCH]:
            self._start(name)

    def take(self, name):
        order = self.order if name in self.order else WIDGET_NOTEBOOKS + [CANARY]
        i = order.index(name)
        for other in order[i: i + 1 + self.PREFETCH]:
            self._start(other)
        return self.open.pop(name)

    def close(self):
        for context, *_ in self.open.values():
            context.close()


# The fixtures `voila` (the server) and `chapters` (a Prefetch pool) are session fixtures in conftest.py: the first
# chapters start executing in their Voilà kernels when the browser session starts, while the static pages are checked.


def exercise_all(page, driver):
    """Change every control once; returns (outcomes, controls that stayed hidden or disabled)."""
    done: set[str] = set()
    outcomes, hidden = [], []
    # Controls can appear or hide after a change: re-read the page until every visible control was changed once.
    for _ in range(40):
        todo = [c for c in controls(page) if c["id"] not in done]
        visible = [c for c in todo if c["visible"] and not c["disabled"]]
        hidden = [c for c in todo if not (c["visible"] and not c["disabled"])]
        if not visible:
            # A person opens the other tabs / accordion sections to reach controls hidden in them.
            if hidden and reveal_next_section(page):
                continue
            break
        for c in visible:
            done.add(c["id"])
            outcomes.append(driver.exercise(c))
    return outcomes, hidden


def test_chapters_have_widgets():
    """The book's interactive chapters are found (a broken discovery would silently test nothing)."""
    assert len(WIDGET_NOTEBOOKS) >= 3, f"only {WIDGET_NOTEBOOKS} import ipywidgets"


@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS)
def test_every_widget_control_changes_the_result(notebook, voila, chapters):
    context, page, report, t_open = chapters.take(notebook)
    try:
        _exercise(notebook, voila, page, report, t_open)
    finally:
        context.close()


def _exercise(notebook, voila, page, report, t_open):
    wait_rendered(page)
    try:
        KERNEL_REPORTS[notebook] = kernel_report(page)
    except AssertionError as exc:
        KERNEL_REPORTS[notebook] = str(exc)
    t0 = time.monotonic()
    t_render = t0 - t_open
    problems = rendered_errors(page)
    assert not problems, f"{notebook} as rendered by Voilà:\n  " + "\n  ".join(problems) + "\n" + voila.log_tail(15)

    log_start = voila.log_size()
    driver = WidgetDriver(page, report=report)
    outcomes, hidden = exercise_all(page, driver)
    assert outcomes, f"{notebook}: imports ipywidgets but Voilà shows no widget control"

    failures = [f"{o.control['kind']} {o.control['label']!r}: {o.detail}" for o in outcomes if not o.ok]
    failures += [f"{c['kind']} {c['label']!r} is never visible/enabled, so a reader cannot use it" for c in hidden]
    failures += rendered_errors(page)
    failures += report.problems()
    failures += [f"the kernel logged an exception while the widgets were used: {e}" for e in voila.log_errors(log_start)]
    elapsed = time.monotonic() - t0
    print(f"\n{notebook}: rendered {t_render:.1f} s after opening; {len(outcomes)} controls changed in {elapsed:.1f} s: "
          + ", ".join(f"{o.control['kind']} {o.control['label']!r} ({'; '.join(o.attempts + [o.detail])})"
                      for o in outcomes if o.ok))
    assert not failures, f"{notebook}: {len(failures)} problem(s):\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS)
def test_every_widget_control_responds_in_the_kernel(notebook):
    """test_widget_callbacks' check (every control set to several values through the kernel-side API: no raise, some
    displayed result changes, no traceback, nothing printed), from the driver cell Voilà ran in the chapter's kernel."""
    report = KERNEL_REPORTS.get(notebook)
    if report is None:
        pytest.fail(f"{notebook}: no kernel-side report (the Voilà test of this chapter did not run)", pytrace=False)
    if isinstance(report, str):
        pytest.fail(f"{notebook}: {report}", pytrace=False)
    problems = problems_in(report)
    assert not problems, f"{notebook}:\n  " + "\n  ".join(problems)


def test_a_raising_callback_fails_the_check(voila, chapters):
    """The canary: its dropdown's callback raises, so the driver must report that control, and only that one;
    the slider, on a second tab, is reached by opening the tab."""
    context, page, report, t_open = chapters.take(CANARY)
    try:
        wait_rendered(page)
        assert not rendered_errors(page)
        driver = WidgetDriver(page, change_timeout_s=5.0, max_attempts=2)  # blind to kernel messages: waits
        done, hidden = exercise_all(page, driver)
        assert not hidden, hidden
        outcomes = {o.control["label"]: o for o in done}
        assert any("broken on purpose" in e for e in report.kernel_errors), report.kernel_errors
        assert set(outcomes) == {"letter", "n"}, outcomes
        assert not outcomes["letter"].ok
        assert "the result did not change" in outcomes["letter"].detail
        assert outcomes["n"].ok, outcomes["n"].detail
    finally:
        context.close()
