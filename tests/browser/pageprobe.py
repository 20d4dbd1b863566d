"""Open a built page in Chromium and collect everything a reader would stumble on.

Used by the browser tests; no test here. `open_page` records console errors, uncaught exceptions, failed
requests, HTTP errors and any request to a host other than the local server (blocked: the published site
must not depend on the network, and the test machine has none).
"""

from __future__ import annotations

import html.parser
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'
WIDGET_STATE = 'script[type="application/vnd.jupyter.widget-state+json"]'

# What an unresolved glue reference (or any other failed role/directive) leaves in the HTML.
# myst-nb turns a missing `{glue:}` key, and MyST an unknown role (a typo such as `{glu:text}`), into a
# docutils system message; Sphinx drops those from the page unless `keep_warnings: true` (set in
# _config.yml), which renders them as `.system-message` boxes ("System Message: WARNING/2 ...").
# A cross-page key (`path::key`) that is missing is removed silently: only the strict build (`-W`) sees it.
RESIDUE_SELECTORS = [".system-message", ".problematic", "[class*='pending-glue']", "[class*='pending_glue']"]
RESIDUE_TEXT = ["System Message:", "{glue:", "{glue}", "glue:text`", "glue:any`", "glue:figure`", "glue:md`"]


@dataclass
class PageReport:
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = [f"console error: {m}" for m in self.console_errors]
        out += [f"uncaught JavaScript exception: {m}" for m in self.page_errors]
        out += [f"failed request: {m}" for m in self.failed_requests]
        out += [f"request to an outside host (blocked; the site must work offline): {m}" for m in self.external_requests]
        return out


def open_page(page, url: str, base_url: str) -> PageReport:
    """Navigate `page` to `url`, recording problems; waits for the load event and idle network."""
    report = PageReport(url)
    local = urlsplit(base_url).netloc

    def on_route(route):
        req_url = route.request.url
        parts = urlsplit(req_url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == local:
            route.continue_()
        else:
            report.external_requests.append(req_url)
            route.abort()

    def on_console(msg):
        if msg.type == "error":
            loc = msg.location or {}
            where = f" ({loc.get('url', '')}:{loc.get('lineNumber', '')})" if loc.get("url") else ""
            report.console_errors.append(msg.text + where)

    def on_request_failed(request):
        if urlsplit(request.url).netloc == local:
            report.failed_requests.append(f"{request.url}: {request.failure}")

    def on_response(response):
        if response.status >= 400 and urlsplit(response.url).netloc == local:
            report.failed_requests.append(f"{response.url}: HTTP {response.status}")

    page.route("**/*", on_route)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: report.page_errors.append(str(exc)))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.goto(url, wait_until="load")
    try:
        page.wait_for_load_state("networkidle", timeout=5000)
    except Exception:  # noqa: BLE001 - a page that keeps polling is still checked below
        pass
    return report


def wait_for_widgets(page, timeout_ms: int = 15000) -> list[str]:
    """Wait until every stored widget view is rendered; return a problem per view left blank."""
    n_views = page.locator(WIDGET_VIEW).count()
    if n_views == 0:
        return []
    if page.locator(WIDGET_STATE).count() == 0:
        return [f"{n_views} widget view(s) but no stored widget state: re-execute with store_widget_state=True"]
    js = f"""() => Array.from(document.querySelectorAll('{WIDGET_VIEW}')).every(s => {{
        const prev = s.previousElementSibling;
        return prev && prev.classList.contains('widget-subarea') && prev.children.length > 0;
    }})"""
    try:
        page.wait_for_function(js, timeout=timeout_ms)
    except Exception:  # noqa: BLE001 - reported as a problem below
        pass
    blank = page.evaluate(
        f"""() => Array.from(document.querySelectorAll('{WIDGET_VIEW}')).map((s, i) => {{
            const prev = s.previousElementSibling;
            const ok = prev && prev.classList.contains('widget-subarea') && prev.children.length > 0
                       && prev.getBoundingClientRect().height > 0;
            return ok ? null : i;
        }}).filter(i => i !== null)"""
    )
    return [f"widget view #{i} is blank (not rendered from the stored state)" for i in blank]


def broken_images(page) -> list[str]:
    """Every <img> must load (naturalWidth > 0); lazy images are switched to eager first."""
    return page.evaluate(
        """async () => {
        const imgs = Array.from(document.images);
        imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
        await Promise.all(imgs.map(i => i.complete ? null :
            new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r);
                               setTimeout(r, 5000); })));
        return imgs.filter(i => !(i.complete && i.naturalWidth > 0))
                   .map(i => i.getAttribute('src') || '(no src)');
    }"""
    )


def glue_residue(page) -> list[str]:
    found = []
    for sel in RESIDUE_SELECTORS:
        for text in page.locator(sel).all_inner_texts():
            found.append(f"{sel}: {' '.join(text.split())[:200]}")
    body = page.locator("body").inner_text()
    for marker in RESIDUE_TEXT:
        idx = body.find(marker)
        if idx >= 0:
            context = " ".join(body[max(0, idx - 60): idx + 80].split())
            found.append(f"text {marker!r}: ...{context}...")
    return found


def title_and_h1(page) -> list[str]:
    problems = []
    title = (page.title() or "").strip()
    if not title or "<no title>" in title:
        problems.append(f"missing <title> (got {title!r})")
    h1 = page.evaluate(
        "() => Array.from(document.querySelectorAll('main h1, article h1, h1')).map(h => h.textContent.trim())"
    )
    if not any(h1):
        problems.append("no <h1> with text")
    return problems


class _IdCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (key == "name" and tag == "a"):
                if value:
                    self.ids.add(value)


@lru_cache(maxsize=None)
def ids_in(path: Path) -> frozenset[str]:
    parser = _IdCollector()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def broken_links(page, site_dir: Path, base_url: str) -> list[str]:
    """Every link to a local page, file or anchor must exist (checked against the built files)."""
    hrefs = page.evaluate(
        "() => Array.from(document.querySelectorAll('a[href]')).map(a => [a.getAttribute('href'), a.href])"
    )
    base = urlsplit(base_url)
    here = urlsplit(page.url)
    problems = []
    for raw, absolute in hrefs:
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or parts.netloc != base.netloc:
            continue  # external, mailto:, javascript: ...: not checked offline
        rel = unquote(parts.path)[len(base.path):] if unquote(parts.path).startswith(base.path) else None
        if rel is None:
            problems.append(f"link outside the site root: {raw!r}")
            continue
        target = site_dir / rel
        if rel == "" or rel.endswith("/"):
            target = target / "index.html"
        if not target.exists():
            problems.append(f"link to a missing file: {raw!r} -> {rel}")
            continue
        frag = unquote(parts.fragment)
        if frag and target.suffix == ".html":
            same_page = parts.path == here.path
            if same_page:
                exists = page.evaluate("(id) => document.getElementById(id) !== null || "
                                       "document.getElementsByName(id).length > 0", frag)
            else:
                exists = frag in ids_in(target)
            if not exists:
                problems.append(f"link to a missing anchor: {raw!r} (no id {frag!r} in {target.relative_to(site_dir)})")
    return sorted(set(problems))


def horizontal_overflow(page, width: int) -> list[str]:
    """At a viewport `width` wide, the page itself must not scroll sideways (wide tables scroll in their box)."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_timeout(100)
    result = page.evaluate(
        """() => {
        const W = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= W + 1) return null;
        const culprits = [];
        for (const el of document.querySelectorAll('article *')) {
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.right <= W + 1) continue;
            let a = el.parentElement, clipped = false;
            while (a) {
                if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) { clipped = true; break; }
                a = a.parentElement;
            }
            if (!clipped) culprits.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : ''));
            if (culprits.length >= 3) break;
        }
        return [document.documentElement.scrollWidth, W, culprits];
    }"""
    )
    if not result:
        return []
    scroll_width, client_width, culprits = result
    return [f"at {width}px the page scrolls sideways ({scroll_width}px wide content): {', '.join(culprits) or '?'}"]
