"""Fixtures for the browser tests: the built site served on 127.0.0.1 and Debian's headless Chromium.

The site folder is `_build/html` (after `make site`), or the folder named by the environment variable
`BOOK_HTML_DIR` (for a private build: `BOOK_HTML_DIR=/tmp/build-me/_build/html make browser`).
The browser is `/usr/bin/chromium` (override with `CHROMIUM`), driven by Playwright; no browser is
downloaded (never `playwright install`). Pages are served over HTTP from this machine so that they behave
as published; every request to another host is blocked and reported as a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE_DIR = Path(os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html")).resolve()
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Folders of the build that hold assets, not pages.
ASSET_DIRS = {"_static", "_sources", "_images", "_downloads", "_panels_static", ".doctrees", "build"}
MISSING = "<site not built>"


def site_missing_message() -> str | None:
    """None if the built site is there, else the message a failing test shows."""
    if (SITE_DIR / "index.html").is_file():
        return None
    return (
        f"no built site at {SITE_DIR} (index.html missing): run `make site` first "
        "(or point BOOK_HTML_DIR at a private build's _build/html)"
    )


def built_pages() -> list[str]:
    """Every HTML page of the site, as a path relative to the site folder (posix)."""
    if site_missing_message():
        return [MISSING]
    pages = []
    for path in sorted(SITE_DIR.rglob("*.html")):
        rel = path.relative_to(SITE_DIR)
        if rel.parts[0] in ASSET_DIRS:
            continue
        pages.append(rel.as_posix())
    return pages


def pytest_configure(config):
    # Show the reason of every skip/xfail in the summary, so nothing is skipped silently.
    chars = config.option.reportchars or ""
    for c in "sxX":
        if c not in chars:
            chars += c
    config.option.reportchars = chars


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


def serve(directory: Path):
    """Serve `directory` on 127.0.0.1 (a free port) in a daemon thread; returns (server, base_url)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/"


@pytest.fixture(scope="session")
def site_dir() -> Path:
    message = site_missing_message()
    if message:
        pytest.fail(message, pytrace=False)
    return SITE_DIR


@pytest.fixture(scope="session")
def base_url(site_dir):
    server, url = serve(site_dir)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's `chromium` (apt-get install chromium), "
            "or set CHROMIUM to its path",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def voila(browser):
    """Voilà serving the chapters with widgets (test_widgets.serve_chapters): one server for the session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}", pytrace=False)
    import test_widgets

    yield from test_widgets.serve_chapters()


def _chapters_taken(items) -> list[str]:
    """The Voilà chapters the collected tests take, in run order (so only those are opened ahead)."""
    import test_widgets

    order = []
    for item in items:
        if "chapters" not in getattr(item, "fixturenames", ()):
            continue
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("notebook") if callspec else test_widgets.CANARY
        if name and name not in order:
            order.append(name)
    return order


@pytest.fixture(scope="session")
def chapters(request, browser, voila):
    """The Voilà chapter pages, opened ahead in the session's browser (test_widgets.Prefetch)."""
    import test_widgets

    pool = test_widgets.Prefetch(browser, voila, order=_chapters_taken(request.session.items))
    yield pool
    pool.close()


@pytest.fixture(scope="session", autouse=True)
def _chapters_start_early(request):
    """When the run includes the Voilà widget tests, open their first chapters at the start of the session: Voilà
    executes those notebooks in their kernels (CPU in other processes) while the static pages are checked in the
    browser, instead of after them. Nothing is checked earlier or differently; only the start moves."""
    if any("chapters" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("chapters").start_ahead()
    yield


@pytest.fixture
def new_page(browser):
    """Factory: a fresh page (own context) with a given viewport; closed after the test."""
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
