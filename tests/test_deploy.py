"""More than one process: two dashboard processes on one PostgreSQL store behind haproxy with
the repository's own configuration (deploy/haproxy.cfg). An editor imports through one
process; a viewer held on the other by the sticky cookie sees the new data within seconds,
because every process polls the store's data version (components/store.py) and keys its
caches by it."""
from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.apptest import TEST_PASSWORD, ensure_user
from tests.conftest import unavailable
from tests.packages import write_package

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "deploy" / "haproxy.cfg"
SEEN_WITHIN_S = 20  # the data version is polled every 5 s; a page view in between takes a few


@pytest.fixture
def balanced(postgres_url, tmp_path):
    """Two processes on one store (a small package already imported) behind haproxy: the
    balancer's address, and where to find each process."""
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if haproxy is None:
        unavailable("haproxy is not installed (apt-get install haproxy)")
    from data.db import get_engine, upgrade
    from data.importer import import_package
    from tests.browser import StreamlitServer, free_port

    engine = get_engine(postgres_url)
    upgrade(engine)
    assert import_package(write_package(tmp_path / "first"), engine).ok
    ensure_user(postgres_url, "editor")
    env = {"ALLIANCE_AUTOLOAD_DEMO": "0"}
    apps = [StreamlitServer(postgres_url, {**env, "ALLIANCE_SERVER_ID": name}) for name in ("app1", "app2")]
    port = free_port()
    balancer = subprocess.Popen(
        [haproxy, "-db", "-f", str(CONFIG)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={"ALLIANCE_LB_BIND": f"127.0.0.1:{port}", "ALLIANCE_APP1": f"127.0.0.1:{apps[0].port}",
             "ALLIANCE_APP2": f"127.0.0.1:{apps[1].port}", "PATH": "/usr/sbin:/usr/bin:/bin"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if balancer.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"haproxy did not start: {balancer.stdout.read().decode()[-800:]}")
                time.sleep(0.3)
        yield url
    finally:
        balancer.terminate()
        balancer.wait(timeout=10)
        for app in apps:
            app.stop()


def _pinned(browser, url: str, server: str):
    """A browser context whose sticky cookie holds it on `server`, offline beyond localhost."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": "ALLIANCE_SERVER", "value": server, "url": url}])
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort())
    return context.new_page()


def _regions_shown(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Regions")
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def test_an_import_through_one_process_is_seen_through_the_other(balanced, offline_browser, tmp_path):
    from tests.browser import wait_until_idle

    viewer = _pinned(offline_browser, balanced, "app2")
    response = viewer.goto(f"{balanced}/data")
    assert response.headers["x-alliance-server"] == "app2"
    wait_until_idle(viewer)
    assert _regions_shown(viewer) == "4"

    editor = _pinned(offline_browser, balanced, "app1")
    assert editor.goto(f"{balanced}/data").headers["x-alliance-server"] == "app1"
    wait_until_idle(editor)
    sidebar = editor.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Sign in", exact=True).first.click()
    sidebar.get_by_label("User name", exact=True).fill("editor-user")
    sidebar.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    sidebar.get_by_role("button", name="Sign in").click()
    wait_until_idle(editor)
    new_region = tmp_path / "regions.csv"
    new_region.write_text("region_id,name,locale,k12_enrollment,low_income_pct\n47001,Anderson County,town,11000,40.1\n")
    editor.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(new_region))
    wait_until_idle(editor)
    editor.get_by_role("button", name="Check this package").click()
    editor.get_by_role("button", name="Import this package").click(timeout=60_000)
    editor.get_by_text("Imported 1 rows", exact=False).wait_for(timeout=60_000)
    assert _regions_shown(editor) == "5"

    deadline = time.monotonic() + SEEN_WITHIN_S
    while True:
        assert viewer.reload().headers["x-alliance-server"] == "app2"
        wait_until_idle(viewer)
        if _regions_shown(viewer) == "5":
            break
        assert time.monotonic() < deadline, f"app2 still shows {_regions_shown(viewer)} regions after {SEEN_WITHIN_S} s"
        time.sleep(1)
