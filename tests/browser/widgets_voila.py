"""Helpers for tests/browser/test_widgets.py: a Voilà server on 127.0.0.1 and a person-like widget driver.

No test here. `VoilaServer` starts Voilà (the `voila` package pinned in requirements.txt) as a subprocess on a
free local port with the token disabled, in a private Jupyter config/data/runtime folder, and stops it (and the
kernels it started) on exit. Voilà serves its own JavaScript and the ipywidgets front end from the installed
packages: nothing is fetched from the network. Its `lab` template links two Font Awesome stylesheets from a CDN;
`start_voila_page` answers exactly those two requests with an empty stylesheet (no control used here shows an
icon) and blocks and reports every other request to another host.

`WidgetDriver` finds every widget control in the rendered page by walking the DOM (dropdowns, selects, sliders,
number and text fields, checkboxes, toggle buttons, radio buttons, buttons), changes each one the way a person
would (select an option, press keys on a slider handle, type a number and press Enter, click) and reports
whether the result shown next to it (the HTML/Label widgets of the same cell output) changed without an error.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# Requests the Voilà lab template makes to a CDN (Font Awesome icons); answered locally with an empty stylesheet.
CDN_STYLESHEETS = re.compile(r"^https://cdn\.jsdelivr\.net/npm/@fortawesome/fontawesome-free@[^/]+/css/[\w.-]+\.css$")

# Text that shows a cell or callback failed. On the page (prose may say "Error = predicted / reported - 1"), only a
# traceback or an exception line; in a widget's result also costlib's handled-error messages and NaN.
PAGE_ERROR_PATTERNS = [
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"^\s*[A-Z]\w*(Error|Exception): ", re.M),  # the last line of a traceback: "ValueError: ..."
]
RESULT_ERROR_PATTERNS = PAGE_ERROR_PATTERNS + [
    re.compile(r"\b[A-Z]\w*(Error|Exception)\b"),  # ValueError, InputError, KeyError, ...
    re.compile(r"\bError\b"),
    re.compile(r"\bInput error\b", re.I),
    re.compile(r"is not allowed:"),  # costlib.errors.InputError's message
    re.compile(r"\bnan\b", re.I),
]

# After the kernel went idle following a change, the page gets this long to draw the updated result.
IDLE_GRACE_S = 1.0

# Kernel stderr that is not an error: once per page, when the widget manager connects, ipykernel logs a
# message for a comm id the page asks about before the kernel opened it (seen with ipywidgets 8.1 + Voilà 0.5).
BENIGN_KERNEL_STDERR = re.compile(r"^No such comm: [0-9a-f-]+$")

# Every widget control kind handled by the driver, keyed by a CSS selector of the element a person acts on.
# Anything else a person could type into or click inside a widget is reported as unhandled (the test fails),
# so a new kind of control cannot slip through untested.
CONTROL_JS = r"""
() => {
  const out = [];
  let next = window.__wtNext || 0;
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const mark = (el) => { if (!el.dataset.wtId) { el.dataset.wtId = String(next++); } return el.dataset.wtId; };
  const labelOf = (root) => {
    const l = root.querySelector(':scope > label.widget-label, :scope > .widget-label-basic, :scope > label');
    return l ? l.textContent.trim() : '';
  };
  const seen = new Set();
  const add = (kind, root, target, extra) => {
    seen.add(target);
    out.push(Object.assign({kind, id: mark(target), label: labelOf(root), visible: visible(target),
                            disabled: !!target.disabled || root.classList.contains('mod-disabled')}, extra || {}));
  };
  for (const root of document.querySelectorAll('.widget-dropdown, .widget-select')) {
    const sel = root.querySelector('select');
    if (!sel) continue;
    add(root.classList.contains('widget-dropdown') ? 'dropdown' : 'select', root, sel,
        {options: Array.from(sel.options).map(o => o.textContent), index: sel.selectedIndex});
    seen.add(sel);
  }
  for (const root of document.querySelectorAll('.widget-slider')) {
    const handles = root.querySelectorAll('.noUi-handle');
    const readout = root.querySelector('.widget-readout');
    handles.forEach((h, i) => add('slider', root, h, {handle: i, handles: handles.length,
      readout: readout ? readout.textContent.trim() : null}));
    if (readout) seen.add(readout);
  }
  for (const root of document.querySelectorAll('.widget-checkbox')) {
    const box = root.querySelector('input[type=checkbox]');
    if (box) add('checkbox', root, box, {checked: box.checked});
  }
  for (const root of document.querySelectorAll('.widget-radio-box')) {
    const radios = Array.from(root.querySelectorAll('input[type=radio]'));
    const parent = root.closest('.widget-radio') || root;
    if (radios.length) {
      const id = mark(radios[0]);
      radios.forEach(r => { mark(r); seen.add(r); });
      out.push({kind: 'radio', id, label: labelOf(parent), visible: visible(root), disabled: false,
                options: radios.map(r => r.dataset.wtId), index: radios.findIndex(r => r.checked)});
    }
  }
  for (const root of document.querySelectorAll('.widget-toggle-buttons')) {
    const buttons = Array.from(root.querySelectorAll('button'));
    if (buttons.length) {
      buttons.forEach(b => { mark(b); seen.add(b); });
      out.push({kind: 'togglebuttons', id: buttons[0].dataset.wtId, label: labelOf(root), visible: visible(root),
                disabled: false, options: buttons.map(b => b.dataset.wtId),
                index: buttons.findIndex(b => b.classList.contains('mod-active'))});
    }
  }
  for (const b of document.querySelectorAll('button.widget-toggle-button')) {
    if (!seen.has(b)) add('toggle', b, b, {active: b.classList.contains('mod-active')});
  }
  for (const b of document.querySelectorAll('button.widget-button')) {
    if (!seen.has(b)) add('button', b, b, {});
  }
  for (const root of document.querySelectorAll('.widget-text, .widget-textarea, .widget-combobox, .widget-password')) {
    const inp = root.querySelector('input, textarea');
    if (!inp || seen.has(inp)) continue;
    if (inp.type === 'number') {
      add('number', root, inp, {value: inp.value, min: inp.min, max: inp.max, step: inp.step});
    } else {
      add('text', root, inp, {value: inp.value});
    }
  }
  // Anything else a reader can act on inside a widget: unhandled.
  for (const el of document.querySelectorAll('.jupyter-widgets input, .jupyter-widgets select, .jupyter-widgets textarea, .jupyter-widgets button, .jupyter-widgets [contenteditable=true]')) {
    if (seen.has(el) || el.closest('.widget-slider') || el.closest('.widget-radio-box') || el.closest('.widget-toggle-buttons')) continue;
    add('unhandled', el.parentElement || el, el, {html: el.outerHTML.slice(0, 200)});
  }
  window.__wtNext = next;
  return out;
}
"""

# The text of the result widgets (HTML, HTMLMath, Label: not a control's own description <label>) in the same
# cell output as the control with data-wt-id == id; the whole page's result widgets if that output has none.
RESULT_JS = r"""
(id) => {
  const sel = '.widget-html, .widget-htmlmath, div.widget-label';
  const el = document.querySelector(`[data-wt-id="${id}"]`);
  const area = el ? (el.closest('.jp-OutputArea-output') || el.closest('.jp-OutputArea') || document) : document;
  let found = Array.from(area.querySelectorAll(sel));
  if (!found.length) found = Array.from(document.querySelectorAll(sel));
  return found.map(e => e.innerText.trim()).join('\n----\n');
}
"""

STATE_JS = r"""
(id) => {
  const el = document.querySelector(`[data-wt-id="${id}"]`);
  if (!el) return null;
  if (el.tagName === 'SELECT') return String(el.selectedIndex);
  if (el.classList.contains('noUi-handle')) {
    const root = el.closest('.widget-slider');
    const r = root && root.querySelector('.widget-readout');
    return (el.getAttribute('aria-valuenow') || '') + '|' + (r ? r.textContent.trim() : '');
  }
  if (el.type === 'checkbox') return String(el.checked);
  if (el.tagName === 'BUTTON') return String(el.classList.contains('mod-active'));
  return el.value;
}
"""


def error_text(text: str, patterns=RESULT_ERROR_PATTERNS) -> str | None:
    """The first error marker found in `text`, with some context, or None."""
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            a, b = max(0, m.start() - 80), m.end() + 80
            return " ".join(text[a:b].split())
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VoilaServer:
    """`with VoilaServer(folder) as server:` serves every notebook of `folder` at `server.url(name)`."""

    def __init__(self, folder: Path, startup_timeout_s: float = 120.0):
        self.folder = Path(folder)
        self.startup_timeout_s = startup_timeout_s
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self._tmp = tempfile.TemporaryDirectory(prefix="widgets-voila-")
        self.log_path = Path(self._tmp.name) / "voila.log"
        self.proc: subprocess.Popen | None = None

    def url(self, notebook: str) -> str:
        return f"{self.base_url}voila/render/{notebook}"

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_errors(self, start: int) -> list[str]:
        """Tracebacks Voilà or a kernel wrote to the log after byte `start` (a kernel's stderr goes there too:
        an exception raised in a widget callback is logged by ipykernel, not shown in the page)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        out, lines = [], text.splitlines()
        for i, line in enumerate(lines):
            if "Traceback (most recent call last)" in line or re.search(r"\bException in \w+", line):
                tail = [l for l in lines[i + 1: i + 40] if re.match(r"^[A-Z]\w*(Error|Exception|Exit)\b", l)]
                out.append(" ".join(line.split()) + (" ... " + tail[0] if tail else ""))
        return out

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> "VoilaServer":
        tmp = Path(self._tmp.name)
        env = dict(os.environ)
        # A private Jupyter configuration: no user config, user kernelspec or user extension changes what runs.
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
            (tmp / sub).mkdir()
            env[var] = str(tmp / sub)
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [
            sys.executable, "-m", "voila", str(self.folder),
            "--no-browser",
            f"--port={self.port}",
            "--Voila.port_retries=0",
            "--Voila.ip=127.0.0.1",
            "--token=",
            "--show_tracebacks=True",
            "--template=lab",
            "--theme=light",
            "--VoilaExecutor.timeout=600",  # the last cell drives every widget in the kernel (test_widget_callbacks)
        ]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=str(self.folder), env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            if self.proc.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError(f"Voilà exited with status {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url, timeout=5) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"Voilà did not answer on {self.base_url} within {self.startup_timeout_s:.0f} s:\n"
                                   f"{self.log_tail()}")
            time.sleep(0.5)

    def __exit__(self, *exc) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            # SIGTERM lets Voilà shut its kernels down; then the whole process group we started is killed.
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        elif proc is not None:
            try:  # kernels left behind by a Voilà that died
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        self._tmp.cleanup()


@dataclass
class VoilaPage:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    kernel_errors: list[str] = field(default_factory=list)
    # The kernel's last reported execution state and when it last became idle (monotonic seconds).
    kernel_state: str = "unknown"
    kernel_idle_at: float = 0.0

    def problems(self) -> list[str]:
        out = [f"the kernel reported an error to the page (a callback raised or wrote to stderr): {m}"
               for m in self.kernel_errors]
        out += [f"console error: {m}" for m in self.console_errors]
        out += [f"uncaught JavaScript exception: {m}" for m in self.page_errors]
        out += [f"failed request: {m}" for m in self.failed_requests]
        out += [f"request to an outside host (blocked: the test has no network): {m}" for m in self.external_requests]
        return out


def start_voila_page(page, url: str, timeout_s: float = 240.0) -> VoilaPage:
    """Start loading a Voilà render URL (Voilà then runs the notebook in a new kernel); record problems."""
    report = VoilaPage()
    local = urlsplit(url).netloc

    def on_route(route):
        req_url = route.request.url
        parts = urlsplit(req_url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == local:
            route.continue_()
        elif CDN_STYLESHEETS.match(req_url):
            route.fulfill(status=200, content_type="text/css", body="/* Font Awesome not needed offline */")
        else:
            report.external_requests.append(req_url)
            route.abort()

    def on_console(msg):
        if msg.type == "error":
            report.console_errors.append(msg.text[:500])

    def on_response(response):
        if response.status >= 400 and urlsplit(response.url).netloc == local:
            report.failed_requests.append(f"{response.url}: HTTP {response.status}")

    def on_frame(payload):
        # Kernel messages to the page (JSON, or the binary v1 websocket protocol whose parts are JSON): an
        # exception in a widget callback arrives as a stderr stream (ipykernel logs it) or an error message.
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, (bytes, bytearray)) else payload
        state = re.search(r'"execution_state"\s*:\s*"(\w+)"', text)
        if state:
            report.kernel_state = state.group(1)
            if report.kernel_state == "idle":
                report.kernel_idle_at = time.monotonic()
        if '"stderr"' in text or '"msg_type": "error"' in text or '"msg_type":"error"' in text:
            found = re.findall(r'"(?:text|ename|evalue)"\s*:\s*"((?:[^"\\]|\\.)*)"', text)
            message = " ".join(" ".join(found).replace("\\n", " ").split())
            if not BENIGN_KERNEL_STDERR.match(message):
                report.kernel_errors.append(message[:600] or text[:300])

    page.route("**/*", on_route)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: report.page_errors.append(str(exc)[:500]))
    page.on("response", on_response)
    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
    return report


def wait_rendered(page, timeout_s: float = 240.0) -> None:
    """Wait until Voilà ran every cell and the widget views are drawn."""
    # Voilà streams the cells as the kernel runs them and shows #rendered_cells when the last one finished.
    page.wait_for_selector("#rendered_cells", state="visible", timeout=timeout_s * 1000)
    # The widget views are drawn by the lab extensions once the page has loaded: wait (in the page) until their count
    # is positive and has not changed for half a second, the sign that the widget manager has drawn every view.
    page.wait_for_function(
        """() => {
            const n = document.querySelectorAll('.jupyter-widgets').length, now = performance.now();
            if (n !== window.__wtCount) { window.__wtCount = n; window.__wtSince = now; return false; }
            return n > 0 && now - window.__wtSince > 500;
        }""",
        timeout=60_000,
        polling=100,
    )


def open_voila_page(page, url: str, render_timeout_s: float = 240.0) -> VoilaPage:
    """Open a Voilà render URL and wait until every cell ran and the widgets are drawn; record problems."""
    report = start_voila_page(page, url, render_timeout_s)
    wait_rendered(page, render_timeout_s)
    return report


def rendered_errors(page) -> list[str]:
    """Error outputs Voilà rendered (a cell that raised, or wrote to stderr) and error text anywhere on the page."""
    problems = []
    stderr = page.evaluate(
        """() => Array.from(document.querySelectorAll(
            '[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output.jp-mod-error, .jp-RenderedText[data-mime-type*="error"]'
        )).map(e => e.innerText.trim().slice(0, 400))"""
    )
    problems += [f"error or stderr output in a cell: {t}" for t in stderr]
    body = page.locator("body").inner_text()
    found = error_text(body, PAGE_ERROR_PATTERNS)
    if found and not stderr:
        problems.append(f"error text on the page: ...{found}...")
    return problems


REVEAL_JS = r"""
() => {
  const heads = document.querySelectorAll(
    '.jupyter-widgets .lm-TabBar-tab:not(.lm-mod-current), .jupyter-widget-Collapse-header, .lm-AccordionPanel-title');
  let n = 0;
  for (const h of heads) {
    if (h.dataset.wtOpened) continue;
    h.dataset.wtOpened = String(++n + document.querySelectorAll('[data-wt-opened]').length);
    return h.dataset.wtOpened;
  }
  return null;
}
"""


def reveal_next_section(page) -> bool:
    """Click (a real mouse click: Lumino tab bars listen to pointer events) the next tab or accordion header not
    clicked yet; False when there is none."""
    marker = page.evaluate(REVEAL_JS)
    if marker is None:
        return False
    page.locator(f'[data-wt-opened="{marker}"]').click(timeout=10_000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # drawn
    return True


def controls(page) -> list[dict]:
    return page.evaluate(CONTROL_JS)


def result_text(page, control_id: str) -> str:
    return page.evaluate(RESULT_JS, control_id)


def state(page, control_id: str):
    return page.evaluate(STATE_JS, control_id)


def _number_candidates(c: dict) -> list[str]:
    """Values a person might type: double, half, one step up/down, the bounds; never the current value."""
    try:
        cur = float(c["value"])
    except (TypeError, ValueError):
        cur = 0.0
    lo = float(c["min"]) if c.get("min") not in (None, "") else None
    hi = float(c["max"]) if c.get("max") not in (None, "") else None
    step_text = c.get("step") or "any"
    step = float(step_text) if step_text not in ("any", "") else None
    integer = step is not None and float(step).is_integer() and cur.is_integer()

    def clip(v):
        if lo is not None:
            v = max(lo, v)
        if hi is not None:
            v = min(hi, v)
        return round(v) if integer else float(f"{v:.6g}")

    raw = [cur * 2 if cur else 1.0, cur / 2, cur + (step or max(abs(cur) * 0.1, 1)), cur - (step or max(abs(cur) * 0.1, 1))]
    if hi is not None:
        raw.append(hi)
    if lo is not None:
        raw.append(lo)
    out = []
    for v in raw:
        v = clip(v)
        if v != cur and (integer and v > 0 or not integer) and str(v) not in out:
            out.append(str(int(v)) if integer else repr(v))
    return out


@dataclass
class Outcome:
    control: dict
    ok: bool
    detail: str
    attempts: list[str] = field(default_factory=list)


class WidgetDriver:
    """Change one control at a time as a person would; check the result next to it changed and shows no error."""

    def __init__(self, page, change_timeout_s: float = 15.0, max_attempts: int = 3, report: VoilaPage | None = None):
        self.page = page
        self.report = report  # filled by the page's websocket listener: kernel errors and busy/idle state
        self.kernel_errors = report.kernel_errors if report is not None else []
        self.change_timeout_s = change_timeout_s
        self.max_attempts = max_attempts

    def _wait_idle(self, since: float, timeout_s: float = 2.0) -> None:
        """Wait until the kernel reported idle after `since` (without a kernel listener: a short fixed grace)."""
        r = self.report
        if r is None:
            time.sleep(0.3)
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not (r.kernel_state == "idle" and r.kernel_idle_at > since):
            self.page.wait_for_timeout(20)  # lets Playwright deliver the websocket frames that update `r`
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def _target(self, cid: str):
        return self.page.locator(f'[data-wt-id="{cid}"]')

    def _actions(self, c: dict):
        """(description, callable) pairs: the changes to try for control `c`, in order."""
        kind, cid = c["kind"], c["id"]
        loc = self._target(cid)
        acts = []
        if kind in ("dropdown", "select"):
            n, cur = len(c["options"]), c["index"]
            for k in range(1, n):
                i = (cur + k) % n
                acts.append((f"select {c['options'][i]!r}", lambda i=i: loc.select_option(index=i)))
        elif kind == "slider":
            for key in ("PageUp", "PageDown", "PageDown", "ArrowRight", "ArrowLeft", "End", "Home"):
                def press(key=key):
                    loc.focus()
                    loc.press(key)
                acts.append((f"press {key} on the slider handle", press))
        elif kind == "number":
            for v in _number_candidates(c):
                def type_value(v=v):
                    loc.fill(v)
                    loc.press("Enter")
                acts.append((f"type {v} + Enter", type_value))
        elif kind in ("checkbox", "toggle", "button"):
            acts.append(("click", lambda: loc.click()))
            acts.append(("click again", lambda: loc.click()))
        elif kind in ("radio", "togglebuttons"):
            n, cur = len(c["options"]), c["index"]
            for k in range(1, n):
                oid = c["options"][(cur + k) % n]
                acts.append((f"click option {k}", lambda oid=oid: self._target(oid).click()))
        elif kind == "text":
            for v in (c["value"] + " ", c["value"][:-1] if c["value"] else "x"):
                def type_text(v=v):
                    loc.fill(v)
                    loc.press("Enter")
                acts.append((f"type {v!r} + Enter", type_text))
        return acts

    def exercise(self, c: dict) -> Outcome:
        if c["kind"] == "unhandled":
            return Outcome(c, False, f"a control this test does not know how to change: {c.get('html')}")
        attempts = []
        tries = 0
        for desc, act in self._actions(c):
            if tries >= self.max_attempts:
                break
            before_state = state(self.page, c["id"])
            before = result_text(self.page, c["id"])
            acted_at = time.monotonic()
            n_errors = len(self.kernel_errors)
            act()
            # A control already at its bound does not move: try the next change at once.
            t0 = time.monotonic()
            while state(self.page, c["id"]) == before_state and time.monotonic() - t0 < 1.0:
                time.sleep(0.05)
            if state(self.page, c["id"]) == before_state and c["kind"] not in ("button",):
                attempts.append(f"{desc}: the control did not move")
                continue
            tries += 1
            deadline = time.monotonic() + self.change_timeout_s
            after = before
            while time.monotonic() < deadline:
                if len(self.kernel_errors) > n_errors:
                    time.sleep(0.3)
                    return Outcome(c, False, f"{desc}: the kernel reported an error: "
                                   + " | ".join(self.kernel_errors[n_errors:]), attempts)
                r = self.report
                if (r is not None and r.kernel_state == "idle" and r.kernel_idle_at > acted_at
                        and time.monotonic() - r.kernel_idle_at > IDLE_GRACE_S):
                    # The kernel handled the change and has been idle since: the result is final.
                    after = result_text(self.page, c["id"])
                    if after == before:
                        break
                after = result_text(self.page, c["id"])
                if after != before:
                    self._wait_idle(acted_at)  # let a multi-part update finish: the kernel went idle after the change
                    after = result_text(self.page, c["id"])
                    break
                time.sleep(0.1)
            if after == before:
                waited = time.monotonic() - acted_at
                attempts.append(f"{desc}: the result did not change ({'kernel idle after' if waited < self.change_timeout_s else 'waited'} {waited:.1f} s)")
                continue
            bad = error_text(after)
            if bad:
                attempts.append(f"{desc}: the result shows an error: ...{bad}...")
                continue
            return Outcome(c, True, desc, attempts)
        if not attempts:
            return Outcome(c, False, "no change could be made to this control", attempts)
        return Outcome(c, False, "; ".join(attempts), attempts)
