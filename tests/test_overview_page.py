"""The board overview page (/) under AppTest on the demo store: runs, the quarter round-trips
through the URL, and a frozen quarter says so."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data.db import get_engine
from reports.board import freeze
from queries import overview as q
from tests.test_overview import copy_store
from tests.apptest import sign_in

APP = "../app.py"


@pytest.fixture(scope="module")
def store_copy(demo_store_url, tmp_path_factory) -> str:
    return copy_store(demo_store_url, tmp_path_factory.mktemp("overview_page"))


def run(monkeypatch, url: str, role: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = sign_in(AppTest.from_file(APP, default_timeout=120), url, role)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    return at


def param(at: AppTest, name: str):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def body(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [i.value for i in at.info] + [w.value for w in at.warning] + \
        [s.value for s in at.header] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


def test_the_overview_opens_on_the_latest_quarter(monkeypatch, store_copy):
    at = run(monkeypatch, store_copy)
    assert not at.exception
    latest = q.quarters_with_data(get_engine(store_copy))[-1]
    assert at.sidebar.selectbox[0].value == latest and param(at, "quarter") == latest
    assert "measures moving the right way" in body(at)
    labels = [m.label for m in at.metric]
    assert {"Partners", "Programs", "Seats"} <= set(labels) and any(l.startswith("Participations") for l in labels)
    assert "not unique students" in body(at)
    assert len(at.get("plotly_chart")) >= 1


def test_the_quarter_round_trips_through_the_url(monkeypatch, store_copy):
    at = run(monkeypatch, store_copy, quarter="2024-Q2")
    assert not at.exception
    assert at.sidebar.selectbox[0].value == "2024-Q2" and param(at, "quarter") == "2024-Q2"
    assert "2024 Q2" in body(at) and "since 2024 Q1" in body(at)
    at.sidebar.selectbox[0].select("2025-Q1").run()
    assert not at.exception and param(at, "quarter") == "2025-Q1"
    unknown = run(monkeypatch, store_copy, quarter="1999-Q9")
    assert not unknown.exception and param(unknown, "quarter") == q.quarters_with_data(get_engine(store_copy))[-1]


def test_a_frozen_quarter_says_so_and_offers_the_live_view(monkeypatch, store_copy):
    frozen = freeze(get_engine(store_copy), "2025-Q2")
    at = run(monkeypatch, store_copy, quarter="2025-Q2")
    assert not at.exception
    assert f"As frozen on {frozen['frozen_at'][:10]}" in body(at)
    assert param(at, "view") == "frozen"
    live = run(monkeypatch, store_copy, quarter="2025-Q2", view="live")
    assert not live.exception
    assert "Live figures" in body(live) and "As frozen on" not in body(live)
    other = run(monkeypatch, store_copy, quarter="2025-Q1")
    assert "As frozen on" not in body(other) and param(other, "view") is None


def test_the_data_page_freezes_a_quarter(monkeypatch, store_copy):
    monkeypatch.setenv("DATABASE_URL", store_copy)
    at = sign_in(AppTest.from_file(APP, default_timeout=120), store_copy, "editor")
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    at.selectbox(key="freeze_quarter").select("2024-Q4")
    at.button(key="freeze_button").click().run()
    assert not at.exception
    assert any("2024 Q4 frozen on" in s.value for s in at.success)
    assert q.snapshot(get_engine(store_copy), "2024-Q4") is not None


def test_the_packet_button_offers_a_pdf_download(monkeypatch, store_copy):
    """The button builds the packet (stubbed here: the real one is tested in test_packet.py)
    for the quarter and view on screen, then offers it for download."""
    calls = []

    def fake_build(engine, quarter, frozen=True, **_):
        calls.append((quarter, frozen))
        return b"%PDF-1.4 stub"

    monkeypatch.setattr("reports.packet.build_packet", fake_build)
    at = run(monkeypatch, store_copy, "viewer", quarter="2024-Q3")
    assert not at.exception
    before = len(at.get("download_button"))
    at.button(key="make_packet").click().run()
    assert not at.exception
    assert calls == [("2024-Q3", False)]
    assert len(at.get("download_button")) == before + 1


def test_a_packet_that_cannot_be_made_says_why_without_a_traceback(monkeypatch, store_copy):
    from reports.packet import PacketError

    def no_browser(engine, quarter, frozen=True, **_):
        raise PacketError("The charts cannot be drawn: kaleido could not start the browser at /usr/bin/chromium")

    monkeypatch.setattr("reports.packet.build_packet", no_browser)
    monkeypatch.setattr("reports.board._last_started", {})  # no wait after another test's packet
    at = run(monkeypatch, store_copy, "viewer", quarter="2024-Q2")
    at.button(key="make_packet").click().run()
    assert not at.exception
    assert any("kaleido could not start the browser" in e.value for e in at.error)


def test_a_store_with_outcomes_but_no_participation_still_shows_its_indicators(monkeypatch, tmp_path):
    from data.importer import import_package
    from tests.packages import VALID_PACKAGE, write_package

    url = f"sqlite:///{tmp_path / 'outcomes_only.db'}"
    files = {name: VALID_PACKAGE[name] for name in ("regions.csv", "indicators.csv", "outcomes.csv")}
    assert import_package(write_package(tmp_path / "outcomes_only", files), get_engine(url)).ok
    at = run(monkeypatch, url)
    assert not at.exception, [e.value for e in at.exception]
    text = body(at)
    assert "No participation data is loaded yet" in text and "Indicators against the board's targets" in text
    assert at.get("plotly_chart") and at.metric  # the indicators chart and one card per indicator
