"""The load benchmark: many people on the dashboard at once, measured from outside the server.

`python cli.py bench load --sessions 50 --page gaps --change Area` starts the dashboard (one
or more processes, `--processes`), opens one warm-up session, then N sessions at once over
Streamlit's own websocket protocol: each opens the page, waits for the script run to finish,
changes one select box and waits again. It prints p50/p95/max of the first view and of the
filter change, the bytes each first view received, errors (exception and error boxes), and the
servers' CPU seconds per script run (read from /proc, so it holds on a busy machine where
wall-clock times do not).

`--audience URL` measures the audience view instead: N phones fetching the pre-built page and
everything it loads (plotly.js), all at once; the time is to the last byte of the last file.

`--url` measures a server already running (e.g. behind the load balancer, deploy/README.md);
`--server-pid` then says which processes' CPU to count.

Sessions are spread over the processes in turn, as a load balancer would; each websocket is
its own session, so no stickiness is needed here.
"""
from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 150
HEALTH_TIMEOUT_S = 60


# --- servers ------------------------------------------------------------------------------

@contextmanager
def servers(count: int, first_port: int, database: str | None, log=print):
    """`count` dashboard processes on consecutive ports; stopped (and waited for) on exit."""
    env = {**os.environ, "ALLIANCE_AUTOLOAD_DEMO": os.environ.get("ALLIANCE_AUTOLOAD_DEMO", "1")}
    if database:
        env["DATABASE_URL"] = database
    procs = []
    try:
        for i in range(count):
            port = first_port + i
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                 "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        for i, proc in enumerate(procs):
            wait_healthy(f"http://127.0.0.1:{first_port + i}", proc)
        log(f"{count} dashboard process(es) on ports {first_port}-{first_port + count - 1}")
        yield [(first_port + i, proc.pid) for i, proc in enumerate(procs)]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_healthy(base: str, proc: subprocess.Popen | None = None, timeout: float = HEALTH_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the dashboard at {base} stopped: {proc.stderr.read().decode()[-500:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the dashboard at {base} did not answer within {timeout:.0f} s")


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU seconds of these processes (Linux /proc); None where unreadable."""
    total = 0.0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


# --- live sessions ------------------------------------------------------------------------

async def _run_until_finished(ws) -> dict:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    run = {"boxes": [], "exceptions": [], "errors": [], "bytes": 0, "charts": 0, "codes": []}
    while True:
        raw = await asyncio.wait_for(ws.recv(), TIMEOUT_S)
        run["bytes"] += len(raw)
        message = ForwardMsg()
        message.ParseFromString(raw)
        kind = message.WhichOneof("type")
        if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            what = element.WhichOneof("type")
            if what == "selectbox":
                run["boxes"].append(element.selectbox)
            elif what == "plotly_chart":
                run["charts"] += 1
            elif what == "code":
                run["codes"].append(element.code.code_text)
            elif what == "exception":
                run["exceptions"].append(element.exception.message[:120])
            elif what == "alert" and element.alert.format == 1:  # an error box
                run["errors"].append(element.alert.body[:120])
        elif kind == "script_finished":
            if message.script_finished == 2:  # stopped early for a rerun: keep waiting
                continue
            return run


def _rerun(page: str, query: str, widget=None, value: str | None = None) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    message.rerun_script.query_string = query
    message.rerun_script.page_name = page
    if widget is not None:
        state = message.rerun_script.widget_states.widgets.add()
        state.id, state.string_value = widget.id, value
    return message.SerializeToString()


async def _session(port: int, page: str, label: str, query: str) -> dict:
    import websockets

    result: dict = {}
    started = time.perf_counter()
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=2**27, open_timeout=60, ping_interval=None) as ws:
            await ws.send(_rerun(page, query))
            first = await _run_until_finished(ws)
            result.update(open_s=time.perf_counter() - started, open_bytes=first["bytes"], charts=first["charts"],
                          exceptions=first["exceptions"], errors=first["errors"])
            if not label:
                return result
            box = next((b for b in first["boxes"] if label.lower() in b.label.lower() and len(b.options) > 1), None)
            if box is None:
                result["no_box"] = True
                return result
            current = box.raw_value if box.HasField("raw_value") else (
                box.options[box.default[0]] if box.default else box.options[0])
            other = next(o for o in box.options if o != current)
            changed = time.perf_counter()
            await ws.send(_rerun(page, query, box, other))
            second = await _run_until_finished(ws)
            result.update(change_s=time.perf_counter() - changed, change_bytes=second["bytes"],
                          box=f"{box.label}: {current} -> {other}")
            result["exceptions"] += second["exceptions"]
            result["errors"] += second["errors"]
    except Exception as exc:  # a refused or dropped connection is a result, not a crash
        result["fail"] = f"{type(exc).__name__}: {str(exc)[:100]}"
    return result


def _pct(values: list[float], p: float):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 2) if values else None


def live(ports: list[int], sessions: int, page: str, label: str = "", query: str = "",
         pids: list[int] | None = None, warm: bool = True) -> dict:
    """`sessions` sessions at once, spread over `ports`; see the module docstring."""
    async def all_sessions(count: int):
        return await asyncio.gather(*(_session(ports[i % len(ports)], page, label, query) for i in range(count)))

    if warm:  # one session per process first: the figures below are the warm case
        asyncio.run(all_sessions(len(ports)))
    cpu_before = cpu_seconds(pids or [])
    started = time.perf_counter()
    results = asyncio.run(all_sessions(sessions))
    wall = time.perf_counter() - started
    cpu_after = cpu_seconds(pids or [])
    opens = [r["open_s"] for r in results if "open_s" in r]
    changes = [r["change_s"] for r in results if "change_s" in r]
    runs = len(opens) + len(changes)
    cpu = cpu_after - cpu_before if pids and cpu_before is not None and cpu_after is not None else None
    return {
        "mode": "live", "sessions": sessions, "processes": len(ports), "page": page, "query": query,
        "wall_s": round(wall, 1),
        "open_ok": len(opens), "open_p50": _pct(opens, 50), "open_p95": _pct(opens, 95), "open_max": _pct(opens, 100),
        "change_ok": len(changes), "change_p50": _pct(changes, 50), "change_p95": _pct(changes, 95),
        "change_max": _pct(changes, 100),
        "open_kb": round(statistics.median(r["open_bytes"] for r in results if "open_bytes" in r) / 1024, 1) if opens else None,
        "change_kb": round(statistics.median(r["change_bytes"] for r in results if "change_bytes" in r) / 1024, 1) if changes else None,
        "charts": max((r.get("charts", 0) for r in results), default=0),
        "server_cpu_s": round(cpu, 2) if cpu is not None else None,
        "cpu_per_run_s": round(cpu / runs, 3) if cpu is not None and runs else None,
        "failures": sum("fail" in r for r in results),
        "example_failure": next((r["fail"] for r in results if "fail" in r), None),
        "exceptions": sum(len(r.get("exceptions", [])) for r in results),
        "error_boxes": sum(len(r.get("errors", [])) for r in results),
        "example_exception": next((r["exceptions"][0] for r in results if r.get("exceptions")), None),
        "no_box": sum(bool(r.get("no_box")) for r in results),
        "example_change": next((r["box"] for r in results if "box" in r), None),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


# --- the audience view --------------------------------------------------------------------

def audience_link(port: int, page: str, query: str) -> str:
    """The audience page of a view, as its share link offers it: one session opens the view
    and the link is read from the sidebar (the page is written by that run)."""
    async def one():
        import websockets

        async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=2**27, open_timeout=60, ping_interval=None) as ws:
            await ws.send(_rerun(page, query))
            return (await _run_until_finished(ws))["codes"]

    path = next((urlsplit(c).path for c in asyncio.run(one()) if "/app/static/audience/" in c), None)
    if path is None:
        raise RuntimeError(f"no audience link on {page}?{query} (is viewing without sign-in allowed?)")
    return f"http://127.0.0.1:{port}{path}"


async def _get(url: str, gzip: bool = True) -> tuple[int, int]:
    """One HTTP/1.1 GET on its own connection, as a phone would: (status, bytes received)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
                      f"{'Accept-Encoding: gzip' + chr(13) + chr(10) if gzip else ''}\r\n").encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), TIMEOUT_S)
    finally:
        writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, len(data)


def page_assets(url: str) -> list[str]:
    """The page and every script, stylesheet and fetched file it loads from its own server."""
    with urllib.request.urlopen(url, timeout=30) as response:
        page = response.read().decode("utf-8", "replace")
    found = (re.findall(r'<script[^>]+src="([^"]+)"', page) + re.findall(r'<link[^>]+href="([^"]+)"', page)
             + re.findall(r'fetch\("([^"]+)"\)', page))  # the audience page fetches plotly.js itself
    return [url] + [urljoin(url, a) for a in found if urlsplit(urljoin(url, a)).netloc == urlsplit(url).netloc]


def audience(url: str, phones: int, pids: list[int] | None = None, warm: bool = True, browser: bool = False) -> dict:
    """`phones` clients at once, each fetching the audience page and all it loads; with
    `browser`, one more phone (headless chromium) times the first chart drawn meanwhile."""
    import threading

    assets = page_assets(url)
    drawn: dict = {}

    def in_browser():
        try:
            drawn["s"] = drawn_in_browser(url)
        except Exception as exc:
            drawn["fail"] = f"{type(exc).__name__}: {str(exc)[:100]}"

    async def phone():
        started = time.perf_counter()
        try:
            got = [await _get(a) for a in assets]
        except Exception as exc:
            return {"fail": f"{type(exc).__name__}: {str(exc)[:100]}"}
        bad = [s for s, _ in got if s != 200]
        return {"s": time.perf_counter() - started, "bytes": sum(b for _, b in got), "bad": bad}

    async def everyone():
        return await asyncio.gather(*(phone() for _ in range(phones)))

    if warm:
        asyncio.run(phone())
    watcher = threading.Thread(target=in_browser) if browser else None
    cpu_before = cpu_seconds(pids or [])
    started = time.perf_counter()
    if watcher:
        watcher.start()
    results = asyncio.run(everyone())
    wall = time.perf_counter() - started
    cpu_after = cpu_seconds(pids or [])
    if watcher:
        watcher.join()
    done = [r["s"] for r in results if "s" in r and not r["bad"]]
    cpu = cpu_after - cpu_before if pids and cpu_before is not None and cpu_after is not None else None
    return {
        "mode": "audience", "phones": phones, "url": url, "files": len(assets), "wall_s": round(wall, 1),
        "ok": len(done), "p50": _pct(done, 50), "p95": _pct(done, 95), "max": _pct(done, 100),
        "kb_per_phone": round(statistics.median(r["bytes"] for r in results if "bytes" in r) / 1024, 1) if done else None,
        "server_cpu_s": round(cpu, 2) if cpu is not None else None,
        "cpu_per_phone_s": round(cpu / phones, 4) if cpu is not None else None,
        "browser_drawn_s": drawn.get("s"), "browser_failure": drawn.get("fail"),
        "failures": sum("fail" in r or bool(r.get("bad")) for r in results) + ("fail" in drawn),
        "example_failure": next((r.get("fail") or f"HTTP {r['bad']}" for r in results if "fail" in r or r.get("bad")), None),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def drawn_in_browser(url: str, chromium: str = "/usr/bin/chromium") -> float:
    """Seconds from navigation to the first chart drawn, in headless chromium (Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--enable-unsafe-swiftshader"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=TIMEOUT_S * 1000)
            return round(time.perf_counter() - started, 2)
        finally:
            browser.close()

