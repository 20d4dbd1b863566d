"""`make pdf`: the whole built book as one PDF, printed by the headless Chromium the browser tests use.

Usage: python tools/book_pdf.py [SITE_DIR] [OUT.pdf]   (defaults: _build/html, _build/book.pdf; BOOK_HTML_DIR and
CHROMIUM as in tests/browser). Every page of _toc.yml, in its order, is appended to one page of the site (so its
styles, relative images and MathJax stay as published) and printed on A4. Explorers print their default values;
nothing is fetched from the network.
"""
from __future__ import annotations

import functools
import http.server
import os
import sys
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return [f + ".html" for f in files]


JOIN_JS = """async (pages) => {
    const article = document.querySelector('article.bd-article') || document.querySelector('article');
    article.innerHTML = '';
    for (const rel of pages) {
        const text = await (await fetch('../' + rel)).text();
        const doc = new DOMParser().parseFromString(text, 'text/html');
        const part = doc.querySelector('article.bd-article') || doc.querySelector('article');
        const section = document.createElement('section');
        section.style.breakBefore = 'page';
        // the pages sit one folder deep (book/, notebooks/), like this one: relative links and images still resolve
        section.innerHTML = part ? part.innerHTML : '';
        section.querySelectorAll('script, .costlib-explorer script').forEach(s => s.remove());
        section.querySelectorAll('details').forEach(d => d.open = true);
        article.appendChild(section);
    }
    document.querySelectorAll('.bd-sidebar-primary, .bd-sidebar-secondary, .bd-header, .bd-footer, .prev-next-area, .header-article')
        .forEach(e => e.remove());
    await Promise.all(Array.from(document.images).map(i => i.complete ? null :
        new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
    if (window.MathJax && MathJax.typesetPromise) await MathJax.typesetPromise();
    return pages.length;
}"""


def main(argv: list[str]) -> int:
    site = Path(argv[0] if argv else os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html")).resolve()
    out = Path(argv[1] if len(argv) > 1 else ROOT / "_build" / "book.pdf").resolve()
    if not (site / "index.html").is_file():
        print(f"no built site at {site}: run `make site` first", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    pages = toc_pages()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                         args=["--no-sandbox", "--disable-gpu"], headless=True)
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) or
                       r.request.url.startswith(("data:", "blob:")) else r.abort())
            page.goto(base + pages[0], wait_until="load")
            n = page.evaluate(JOIN_JS, pages)
            page.emulate_media(media="print")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(path=str(out), format="A4", print_background=True,
                     margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
            browser.close()
    finally:
        server.shutdown()
    print(f"{out} ({n} pages of the site, {out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
