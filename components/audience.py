"""The audience view: the view a presenter shares, as one self-contained page for the phones in
the room.

A Streamlit session costs the server a script run (and a websocket) per phone: a hundred
phones scanning the QR code at once queued for minutes on one core. So the share link's QR code
points at a plain HTML file instead, written once per view and data version into
`static/audience/` and served by Streamlit's static file serving (`/app/static/...`) without
running any script: the charts the presenter's page drew (their captions as headings),
plotly.js from this server (never a CDN), and a link to the live dashboard.

plotly.js is 4.8 MB and the static route gzips every response anew (0.15 s of CPU each), so
the page fetches a gzip file made once (served as is, 1.5 MB) and unpacks it in the browser
(DecompressionStream); a browser without that loads the plain file.

Nothing is written when sign-in is required to view (ALLIANCE_ANONYMOUS_VIEW=0): a static file
would be readable by anyone. With several machines, each process sets ALLIANCE_SERVER_ID to its
name in the load balancer, and the link carries it (`?srv=`) so the balancer sends phones to
the machine that wrote the file (deploy/haproxy.cfg).
"""
from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from components.markup import inert

FOLDER = Path(__file__).resolve().parent.parent / "static" / "audience"
URL_PATH = "app/static/audience"
SERVER_ID_SETTING = "ALLIANCE_SERVER_ID"
MAX_PAGES = 2000  # oldest pages go beyond this many (a page is tens to hundreds of KB)

_NEXT, _LAST, _PAGE = "_audience_next", "_audience_last", "_audience_page"
_written: set[str] = set()  # pages this process knows exist


# --- what the page drew ----------------------------------------------------------------------

def start(page) -> None:
    """Called by app.py before the page runs: this run's charts start a new list; the last
    run's stay readable (the presenter's share dialog opens before the page draws)."""
    from components.present import url_path_of

    st.session_state[_PAGE] = (url_path_of(page), page.title)
    st.session_state[_LAST] = st.session_state.get(_NEXT) or st.session_state.get(_LAST, [])
    st.session_state[_NEXT] = []


def note(key: str, caption: str, figure) -> None:
    """A chart drawn on this run, for the audience page."""
    st.session_state.setdefault(_NEXT, []).append((key, caption, figure))


def drawn() -> list[tuple[str, str, object]]:
    return list(st.session_state.get(_NEXT) or st.session_state.get(_LAST, []))


# --- the page --------------------------------------------------------------------------------

def page_name(url_path: str, params: Mapping[str, str], version: int) -> str:
    """The file of a view at a data version: the same for every process, so any of them can
    tell whether it was written."""
    key = json.dumps([url_path, sorted((str(k), str(v)) for k, v in params.items()), version])
    return f"{hashlib.blake2b(key.encode(), digest_size=12).hexdigest()}.html"


def plotly_files() -> tuple[str, str]:
    """plotly.js next to the pages (plain and gzip), named by version; written once."""
    import plotly
    from plotly.offline import get_plotlyjs_version

    version = get_plotlyjs_version()
    plain, packed = f"plotly-{version}.min.js", f"plotly-{version}.min.js.gz"
    if not (FOLDER / packed).exists():
        source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        data = source.read_bytes()
        _write(FOLDER / plain, data)
        _write(FOLDER / packed, gzip.compress(data, 9, mtime=0))
    return plain, packed


def render(title: str, charts: list[tuple[str, str, object]], live_url: str, stamp: str,
           plotly_js: str, plotly_gz: str) -> str:
    """The HTML page: a heading per chart (its caption), the figures as JSON, plotly.js loaded
    from the same folder. Every text is escaped; the JSON cannot close its script element."""
    import plotly.io as pio

    figures = "[" + ",".join(pio.to_json(inert(figure.to_dict()), validate=False) for _, _, figure in charts) + "]"
    figures = figures.replace("</", "<\\/")
    sections = "\n".join(
        f'<section><h2>{html.escape(caption)}</h2><div class="chart" id="chart-{i}" role="img" '
        f'aria-label="{html.escape(caption, quote=True)}"></div></section>'
        for i, (_, caption, _) in enumerate(charts))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 0 auto; max-width: 70rem; padding: 0.75rem; color: #1A1A1A; background: #FFFFFF; }}
h1 {{ font-size: 1.4rem; margin: 0.2rem 0 0.6rem; }}
h2 {{ font-size: 1.1rem; line-height: 1.3; margin: 1.4rem 0 0.3rem; }}
.chart {{ width: 100%; min-height: 320px; }}
p {{ font-size: 1rem; line-height: 1.4; }}
a {{ color: #0072B2; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(stamp)} · <a href="{html.escape(live_url, quote=True)}">Open the live dashboard</a></p>
{sections}
<script type="application/json" id="figures">{figures}</script>
<script>
(async function () {{
  async function loadPlotly() {{
    if ("DecompressionStream" in window) {{
      try {{
        const response = await fetch({json.dumps(plotly_gz)});
        if (response.ok) {{
          const code = await new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).text();
          const script = document.createElement("script");
          script.text = code;
          document.head.appendChild(script);
          return;
        }}
      }} catch (error) {{}}
    }}
    await new Promise(function (resolve, reject) {{
      const script = document.createElement("script");
      script.src = {json.dumps(plotly_js)};
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    }});
  }}
  await loadPlotly();
  JSON.parse(document.getElementById("figures").textContent).forEach(function (figure, i) {{
    delete figure.layout.width;  // the phone's width
    Plotly.newPlot("chart-" + i, figure.data, figure.layout, {{responsive: true, displaylogo: false, displayModeBar: false}});
  }});
}})();
</script>
</body>
</html>
"""


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a phone never reads half a page, nor do two processes collide."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".tmp-") as handle:
        handle.write(data)
    os.chmod(handle.name, 0o644)  # read by the server, and by a web server in front of it
    os.replace(handle.name, path)


def _prune() -> None:
    pages = sorted(FOLDER.glob("*.html"), key=lambda p: p.stat().st_mtime)
    for old in pages[: max(0, len(pages) - MAX_PAGES)]:
        old.unlink(missing_ok=True)
        _written.discard(old.name)


def publish(url_path: str, title: str, params: Mapping[str, str], version: int, live_url: str,
            charts: list[tuple[str, str, object]]) -> str | None:
    """The audience page of this view (written if this process has not seen it yet), as a
    path under the server root with `?srv=` when set; None when there is nothing to show, when
    viewing needs a sign-in, or when the folder cannot be written (the QR code then opens
    the live dashboard)."""
    from components.auth import anonymous_view

    if not charts or not anonymous_view():
        return None
    name = page_name(url_path, params, version)
    try:
        if name not in _written and not (FOLDER / name).exists():
            plain, packed = plotly_files()
            stamp = f"Data version {version}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
            _write(FOLDER / name, render(title, charts, live_url, stamp, plain, packed).encode("utf-8"))
            _prune()
        _written.add(name)
    except OSError:
        return None
    server = os.environ.get(SERVER_ID_SETTING, "").strip()
    return f"{URL_PATH}/{name}" + (f"?srv={server}" if server else "")


def absolute(live_url: str, page_path: str) -> str:
    """The audience page's address on the same host (and prefix) as the live link."""
    parts = urlsplit(live_url)
    root = parts.path.rsplit("/", 1)[0] if parts.path and not parts.path.endswith("/") else parts.path.rstrip("/")
    path, _, query = page_path.partition("?")
    return urlunsplit((parts.scheme, parts.netloc, f"{root}/{path}", query, ""))


def link(live_url: str) -> str | None:
    """The audience page of the view this session shows, as an address like `live_url`'s."""
    from components import present, store

    url_path, title = st.session_state.get(_PAGE, ("", "Dashboard"))
    params = {k: v for k, v in present.current_view_params().items() if k not in present.PLAYBACK}
    relative = publish(url_path, f"{title} · STEM alliance dashboard", params, store.data_version(), live_url, drawn())
    return absolute(live_url, relative) if relative else None
