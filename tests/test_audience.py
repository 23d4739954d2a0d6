"""The audience view (components/audience.py): the page phones get from a shared link is one
static file per view and data version, self-contained (plotly.js from the same folder), with
every text escaped; the share link's QR code points at it."""
from __future__ import annotations

import gzip
import re
from pathlib import Path
from urllib.parse import urlsplit

import plotly.graph_objects as go
import pytest

from components import audience
from tests.apptest import open_page

CAPTION = 'Rural regions trail by 5 points </script><b>"x"</b>'


def _chart():
    return [("gaps", CAPTION, go.Figure(go.Bar(x=["a", "b"], y=[1, 2], name="</script>"), layout={"width": 900}))]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(audience, "FOLDER", tmp_path / "audience")
    monkeypatch.setattr(audience, "_written", set())
    return tmp_path / "audience"


def test_the_page_escapes_every_text_and_loads_nothing_from_elsewhere():
    page = audience.render("Gaps <i>", _chart(), "http://10.0.0.2:8501/gaps?a=1&b=2", "Data version 3", "p.js", "p.js.gz")
    assert "<b>" not in page and "<i>" not in page and "&lt;b&gt;" in page
    assert page.count("</script>") == 2  # the figures' JSON (a trace named </script>) cannot close its element
    urls = re.findall(r'(?:src|href)="([^"]+)"|fetch\("([^"]+)"\)|script\.src = "([^"]+)"', page)
    assert sorted(u for group in urls for u in group if u) == ["http://10.0.0.2:8501/gaps?a=1&amp;b=2", "p.js", "p.js.gz"]
    assert '"x":["a","b"]' in page.replace(" ", "")


def test_one_file_per_view_and_data_version_written_once(folder):
    first = audience.publish("gaps", "Equity gaps", {"region": "47001"}, 7, "http://h/gaps", _chart())
    assert first.startswith("app/static/audience/") and first.endswith(".html")
    written = folder / Path(first).name
    stamp = written.stat().st_mtime_ns
    assert audience.publish("gaps", "Equity gaps", {"region": "47001"}, 7, "http://h/gaps", _chart()) == first
    assert written.stat().st_mtime_ns == stamp
    assert audience.publish("gaps", "Equity gaps", {"region": "47001"}, 8, "http://h/gaps", _chart()) != first
    assert audience.publish("gaps", "Equity gaps", {"region": "47003"}, 7, "http://h/gaps", _chart()) != first
    plain, packed = audience.plotly_files()
    assert gzip.decompress((folder / packed).read_bytes()) == (folder / plain).read_bytes()
    assert (folder / plain).stat().st_size > 1_000_000


def test_nothing_is_published_when_viewing_needs_a_sign_in_or_nothing_was_drawn(folder, monkeypatch):
    assert audience.publish("gaps", "Equity gaps", {}, 1, "http://h/gaps", []) is None
    monkeypatch.setenv("ALLIANCE_ANONYMOUS_VIEW", "0")
    assert audience.publish("gaps", "Equity gaps", {}, 1, "http://h/gaps", _chart()) is None
    assert not folder.exists()


def test_the_server_name_travels_in_the_link_for_the_load_balancer(folder, monkeypatch):
    monkeypatch.setenv(audience.SERVER_ID_SETTING, "app2")
    path = audience.publish("gaps", "Equity gaps", {}, 1, "http://h/gaps", _chart())
    assert path.endswith(".html?srv=app2")
    assert audience.absolute("https://dash.example.org/alliance/gaps?region=1", path) == \
        f"https://dash.example.org/alliance/{path}"


def test_the_share_link_offers_the_audience_page_of_the_view(demo_store_url, monkeypatch, folder):
    at = open_page(monkeypatch, demo_store_url, {"region": "all"}, page="pages/gaps.py")
    assert not at.exception
    links = [c.value for c in at.sidebar.get("code")]
    phones = next(v for v in links if "/app/static/audience/" in v)
    page = (folder / Path(urlsplit(phones).path).name).read_text(encoding="utf-8")
    assert page.count('class="chart"') == 5
    assert at.markdown  # the page itself drew
    captions = [c.value for c in at.caption]
    assert any(c and c[:40] in page for c in captions)
