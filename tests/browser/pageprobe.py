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


def start_page(page, url: str, base_url: str) -> PageReport:
    """Start navigating `page` to `url` (returns at once, recording problems from then on); see `finish_page`.

    Lets a caller load the next page while it checks the current one (the browser loads it in its own processes)."""
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
    page.goto(url, wait_until="commit")
    return report


# Ready = loaded, MathJax has typeset (its startup promise resolved) and web fonts are in: a condition, not a sleep.
READY_JS = """async () => {
    if (document.readyState !== 'complete') await new Promise(r => window.addEventListener('load', r, {once: true}));
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) { try { await MathJax.startup.promise; } catch (e) {} }
    if (document.fonts && document.fonts.ready) await document.fonts.ready;
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    return true;
}"""


def finish_page(page, timeout_ms: int = 30000) -> None:
    """Wait until the page started by `start_page` is loaded and typeset (no fixed wait)."""
    page.wait_for_load_state("load", timeout=timeout_ms)
    page.evaluate(READY_JS)


def open_page(page, url: str, base_url: str) -> PageReport:
    """Navigate `page` to `url`, recording problems; waits until it is loaded and typeset."""
    report = start_page(page, url, base_url)
    finish_page(page)
    return report


def settle(page) -> None:
    """Wait for layout after a change (two animation frames), instead of a fixed sleep."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


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
    settle(page)
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


# --------------------------------------------------------------------------------------------- reading checks
SNAKE_CASE_JS = r"^[a-z0-9]+(_[a-z0-9]+)+$"  # the regex of costlib.report.SNAKE_CASE
PYTHON_RESIDUE = ["True", "False", "nan", "NaN", "None", "<NA>", "NaT"]


def open_all_dropdowns(page) -> None:
    """Open every collapsed block (long evidence tables, solutions) so that its tables are checked too."""
    page.evaluate("() => document.querySelectorAll('article details').forEach(d => { d.open = true; })")
    settle(page)


def table_problems(page) -> list[str]:
    """At the current viewport: every table's last column is visible, or its box scrolls with a visible cue (the
    scroll shadows of reader.css); no header is a snake_case id; no cell shows Python's True/False/nan/None."""
    return page.evaluate(
        """([snake, residue]) => {
        const problems = [];
        const W = document.documentElement.clientWidth;
        const re = new RegExp(snake);
        const name = (t, i) => {
            const fig = t.closest('figure');
            const cap = fig && fig.querySelector('figcaption .caption-number');
            return (cap ? cap.textContent.trim() : 'table') + ' #' + i;
        };
        Array.from(document.querySelectorAll('article table')).forEach((t, i) => {
            const r = t.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) return;
            const who = name(t, i);
            for (const th of t.querySelectorAll('th')) {
                const text = th.textContent.trim();
                if (re.test(text)) problems.push(`${who}: header or row label is an identifier: "${text}"`);
            }
            for (const td of t.querySelectorAll('td')) {
                const text = td.textContent.trim();
                if (residue.includes(text)) { problems.push(`${who}: a cell shows Python's "${text}"`); break; }
            }
            // the last column: the right edge of the widest row's last cell
            let right = r.right;
            for (const row of t.rows) { const c = row.cells[row.cells.length - 1]; if (c) right = Math.max(right, c.getBoundingClientRect().right); }
            if (right <= W + 1) return;
            let a = t.parentElement, box = null;
            while (a && a !== document.body) {
                const ox = getComputedStyle(a).overflowX;
                if (ox === 'auto' || ox === 'scroll') { box = a; break; }
                a = a.parentElement;
            }
            if (!box) { problems.push(`${who}: its last column ends at ${Math.round(right)} px, past the ${W} px window, and nothing scrolls`); return; }
            const br = box.getBoundingClientRect();
            const cue = getComputedStyle(box).backgroundImage.includes('gradient');
            if (br.right > W + 1) problems.push(`${who}: its scroll box itself runs past the ${W} px window`);
            else if (!cue) problems.push(`${who}: its last column is hidden past the box edge (${Math.round(right)} px) with no visible scroll cue`);
        });
        return problems;
    }""",
        [SNAKE_CASE_JS, PYTHON_RESIDUE],
    )


def equation_problems(page) -> list[str]:
    """Display equations fit the window or scroll inside their own box (checked on a phone)."""
    return page.evaluate(
        """() => {
        const W = document.documentElement.clientWidth, out = [];
        document.querySelectorAll('article mjx-container[display="true"], article div.math').forEach((m, i) => {
            const r = m.getBoundingClientRect();
            if (r.width === 0 || r.right <= W + 1) return;
            let a = m, ok = false;
            while (a && a !== document.body) {
                const ox = getComputedStyle(a).overflowX;
                if ((ox === 'auto' || ox === 'scroll') && a.getBoundingClientRect().right <= W + 1) { ok = true; break; }
                a = a.parentElement;
            }
            if (!ok) out.push(`display equation #${i} runs past the ${W} px window without scrolling in its box`);
        });
        return out;
    }"""
    )


# What a reader can change on a page, and the text that must then change (everything in the article except the
# controls themselves and their own readouts).
CONTROLS_JS = """() => {
    const sel = 'article input:not([type=hidden]), article select, article textarea, article [role=slider], ' +
                'article .jupyter-widgets button, article .widget-toggle-button';
    const out = [];
    let n = 0;
    for (const el of document.querySelectorAll(sel)) {
        if (el.closest('.bd-search, form[role=search]')) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        el.dataset.rdId = String(n++);
        const kind = el.tagName === 'SELECT' ? 'select' : (el.getAttribute('role') === 'slider' ? 'slider'
                   : (el.type === 'range' ? 'range' : (el.tagName === 'BUTTON' ? 'button'
                   : (el.type === 'checkbox' || el.type === 'radio' ? 'check' : 'text'))));
        const label = (el.labels && el.labels[0] && el.labels[0].textContent.trim())
                   || (el.closest('.widget-inline-hbox') && el.closest('.widget-inline-hbox').textContent.trim())
                   || el.getAttribute('aria-label') || el.id || el.tagName.toLowerCase();
        out.push({id: el.dataset.rdId, kind, label: label.slice(0, 60),
                  options: el.tagName === 'SELECT' ? el.options.length : 0,
                  index: el.tagName === 'SELECT' ? el.selectedIndex : 0,
                  min: el.min || '', max: el.max || '', value: el.value || ''});
    }
    return out;
}"""

# Watches the article for a change of text or elements outside the control itself and its own readout (a slider's
# value label): set before each change, read as a flag (cheap to poll, unlike comparing the whole page's text).
WATCH_JS = """(id) => {
    const ctl = document.querySelector(`[data-rd-id="${id}"]`);
    const own = (ctl && ctl.closest('.widget-inline-hbox, .widget-slider, .widget-dropdown')) || ctl;
    if (window.__rdObserver) window.__rdObserver.disconnect();
    window.__rdChanged = false;
    window.__rdObserver = new MutationObserver(muts => {
        for (const m of muts) {
            const t = m.target.nodeType === 3 ? m.target.parentElement : m.target;
            if (!t || (own && own.contains(t)) || t.closest('output, .widget-readout')) continue;
            window.__rdChanged = true;
        }
    });
    window.__rdObserver.observe(document.querySelector('article') || document.body,
                                {subtree: true, childList: true, characterData: true});
}"""


def dead_controls(page) -> list[str]:
    """Every control on the page must change some text on the page when it is changed (a saved ipywidget without a
    kernel does not: it looks live and shows its stored result whatever the reader does)."""
    problems = []
    for c in page.evaluate(CONTROLS_JS):
        loc = page.locator(f'[data-rd-id="{c["id"]}"]')
        page.evaluate(WATCH_JS, c["id"])
        changed = False
        if c["kind"] == "select":
            tries = [i for i in range(c["options"]) if i != c["index"]]
            acts = [lambda i=i: loc.select_option(index=i) for i in tries]
        elif c["kind"] == "range":
            lo, hi = int(float(c["min"] or 0)), int(float(c["max"] or 0))
            acts = [lambda v=v: loc.fill(str(v)) for v in range(lo, hi + 1) if str(v) != c["value"]]
        elif c["kind"] == "slider":
            acts = [lambda k=k: (loc.focus(), loc.press(k)) for k in ("PageUp", "PageDown", "End", "Home")]
        elif c["kind"] in ("button", "check"):
            acts = [lambda: loc.click()]
        else:
            acts = [lambda: (loc.fill("2"), loc.press("Enter"))]
        for act in acts[:4]:
            act()
            try:  # a working control updates the page synchronously or within a moment: wait for that, not a sleep
                page.wait_for_function("() => window.__rdChanged === true", timeout=1000, polling=50)
                changed = True
                break
            except Exception:  # noqa: BLE001 - not changed yet: next value
                continue
        if not changed:
            problems.append(f"a {c['kind']} control ({c['label']!r}) changes nothing on the page: a reader without a "
                            "kernel sees a dead widget (tag its cell remove-output; see CONTRIBUTING.md, 'Widgets')")
    return problems
