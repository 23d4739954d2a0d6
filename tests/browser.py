"""Browser-test harness: a real Streamlit server on a store, and Debian's chromium driven by
Playwright with every non-localhost request blocked and recorded.

Use the fixtures from tests/conftest.py: `demo_server` (base URL of a server on the demo store)
and `offline_browser`, then `visit(browser, url)` which returns a `Visit` once the app has
finished running, holding the console errors and any request that tried to leave localhost.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--enable-unsafe-swiftshader",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def chromium_available() -> bool:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return False
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return True


_PORTS_PER_WORKER = 500
_ports_taken = 0


def free_port() -> int:
    """A free port from this test worker's own block (20000 + 500 per pytest-xdist worker, below
    Linux's ephemeral range): servers started at once by parallel workers never pick the same
    port, and a worker does not reuse a port it released a moment ago."""
    global _ports_taken
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = 20000 + (int(worker) if worker.isdigit() else 0) % 24 * _PORTS_PER_WORKER
    for _ in range(_PORTS_PER_WORKER):
        port = start + _ports_taken % _PORTS_PER_WORKER
        _ports_taken += 1
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # another program has it
                continue
            return port
    raise RuntimeError(f"no free port in {start}-{start + _PORTS_PER_WORKER - 1}")


class StreamlitServer:
    """`streamlit run app.py` on a free port, pointed at `database_url`."""

    def __init__(self, database_url: str, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, **(extra_env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace")
                raise RuntimeError(f"streamlit exited early:\n{output}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("streamlit did not become healthy in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Visit:
    page: object  # playwright Page
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)

    def unexpected_console_errors(self) -> list[str]:
        """Console errors, less the 404s of Streamlit's own base-path probe: opened at a page URL
        such as /data, its frontend first asks /data/_stcore/health and /data/_stcore/host-config,
        then falls back to /_stcore/. Any other failed request still counts."""
        probes = [r for r in self.failed_responses if re.search(r"^404 .+/[^/]+/_stcore/(health|host-config)$", r)]
        errors = list(self.console_errors)
        for _ in probes:
            for message in errors:
                if "Failed to load resource" in message and "404" in message:
                    errors.remove(message)
                    break
        if len(probes) != len(self.failed_responses):
            errors += [r for r in self.failed_responses if r not in probes]
        return errors

    def error_boxes(self) -> list[str]:
        return [box.inner_text() for box in self.page.query_selector_all('[data-testid="stException"]')]

    def captions(self) -> list[str]:
        """Every caption on the page as it reads (markdown rendered), whitespace collapsed."""
        return [spoken(c.inner_text()) for c in self.page.query_selector_all('[data-testid="stCaptionContainer"]')]

    def headings(self) -> list[str]:
        return [spoken(h.inner_text()) for h in self.page.query_selector_all("h1, h2, h3, h4, h5, h6")]

    def plot_count(self) -> int:
        return self.page.evaluate("document.querySelectorAll('.js-plotly-plot').length")

    def figure_data(self, index: int = 0) -> list[dict]:
        """The traces of the index-th drawn Plotly figure, as the browser holds them."""
        return self.page.evaluate(
            """(i) => {
                const plot = document.querySelectorAll('.js-plotly-plot')[i];
                const decode = (v) => ArrayBuffer.isView(v) ? Array.from(v) : v;
                return plot._fullData.map(t => {
                    const out = {};
                    for (const k of ['type', 'name', 'x', 'y', 'z', 'base', 'locations', 'text', 'customdata', 'lat', 'lon', 'visible']) {
                        if (t[k] !== undefined) out[k] = Array.isArray(t[k]) || ArrayBuffer.isView(t[k]) ? Array.from(t[k], decode) : t[k];
                    }
                    return out;
                });
            }""",
            index,
        )


def spoken(text: str) -> str:
    """Text with its whitespace collapsed, to compare a sentence the page shows with the one the
    sentence layer builds (markdown turns a line break into a space)."""
    return " ".join(str(text).split())


def new_visit(browser, url: str, wait_for_plots: int = 0, timeout_ms: int = 60_000) -> Visit:
    """Open `url` in a fresh context with the network blocked beyond localhost; wait until the
    app has run (and, if asked, until that many Plotly figures are drawn)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    visit = Visit(page=context.new_page())

    def route(route_request):
        host = urlparse(route_request.request.url).hostname or ""
        if host in LOCAL_HOSTS or route_request.request.url.startswith(("data:", "blob:")):
            route_request.continue_()
        else:
            visit.outside_requests.append(route_request.request.url)
            route_request.abort()

    context.route("**/*", route)
    visit.page.on("console", lambda msg: visit.console_errors.append(msg.text) if msg.type == "error" else None)
    visit.page.on("pageerror", lambda exc: visit.console_errors.append(str(exc)))
    visit.page.on("response", lambda r: visit.failed_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    visit.page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_until_idle(visit.page, timeout_ms)
    if wait_for_plots:
        visit.page.wait_for_function(
            "(n) => document.querySelectorAll('.js-plotly-plot').length >= n && "
            "Array.from(document.querySelectorAll('.js-plotly-plot')).every(p => p._fullData)",
            arg=wait_for_plots, timeout=timeout_ms,
        )
    return visit


def wait_until_idle(page, timeout_ms: int = 60_000) -> None:
    """The app has connected and finished its script runs (the state goes initial -> running ->
    notRunning), with no run in progress and the page no longer changing: a run can follow the
    first one (e.g. the frontend syncing query parameters), and between the two the state
    already reads notRunning."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    idle = ("() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'"
            " && !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    deadline = time.monotonic() + timeout_ms / 1000
    last, steady = None, 0
    while steady < 3:  # the same page, idle, three times 300 ms apart
        page.wait_for_function(idle, timeout=max(1, int((deadline - time.monotonic()) * 1000)))
        page.wait_for_timeout(300)
        now = page.evaluate("() => document.body.innerText")
        steady = steady + 1 if now == last and page.evaluate(idle) else 0
        last = now
        if time.monotonic() > deadline:
            raise TimeoutError("the page kept changing")
