"""Names from the data and text typed by a user show as typed: never as a link, an image or HTML.

A package whose region, partner, program, site, indicator and stage names each carry a markdown
link, a markdown image, an HTML link and an HTML image (all to evil.example), and a story whose
name and step headline carry the same, are opened page by page in chromium. Streamlit's
markdown (captions, headers, metrics, button labels) and Plotly's chart text both render some
markup; on no page may any element link to or load from evil.example, and the hostile text
must be on the page, literally (bare addresses carry an invisible word joiner that stops
markdown from making them links: components.markup).
"""
from __future__ import annotations

import pytest

from components.markup import WORD_JOINER
from data import stories
from data.auth import cli_actor
from data.db import get_engine
from data.importer import import_package
from tests.browser import StreamlitServer, new_visit
from tests.packages import SPARSE_PACKAGE, write_package

pytestmark = pytest.mark.browser

HOSTILE = ("<a href='http://evil.example/a'>A</a> [L](http://evil.example/l) ![I](http://evil.example/i.png) "
           "**B** <img src='http://evil.example/x.png'> www.evil.example")
NAMED = ["Ada County", "Ada Schools", "Coding in class", "Boise Middle", "Four-year graduation rate",
         "Grade 5 science proficient"]
# Every element that could link to or load from the hostile host, the charts' SVG links included.
ACTIVE_JS = """() => Array.from(document.querySelectorAll('a, img, image, iframe, [src], [href]'))
    .map(e => [e.tagName, e.getAttribute('href') || e.getAttribute('xlink:href') || e.getAttribute('src') || ''])
    .filter(([, target]) => target.includes('evil') && !target.startsWith('#'))"""  # a heading's own anchor is not
PAGES = ["/", "/gaps", "/gaps?region=16001", "/coverage?region=16001", "/pathways?region=16001", "/stories"]


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    package = dict(SPARSE_PACKAGE)
    for name in NAMED:
        package = {file: text.replace(name, f"{name} {HOSTILE}") for file, text in package.items()}
    url = f"sqlite:///{folder / 'store.db'}"
    engine = get_engine(url)
    result = import_package(write_package(folder / "package", package), engine)
    assert result.ok, result.problems[:3]
    story = stories.create_story(engine, f"Story {HOSTILE}", actor=cli_actor())
    stories.add_step(engine, story, "gaps", {"region": "16001"}, f"Headline {HOSTILE}", actor=cli_actor())
    server = StreamlitServer(url)
    yield server.url
    server.stop()


@pytest.mark.parametrize("path", PAGES)
def test_hostile_names_show_as_typed(hostile_server, offline_browser, path):
    visit = new_visit(offline_browser, hostile_server + path)
    page = visit.page
    assert not visit.error_boxes()
    assert page.evaluate(ACTIVE_JS) == []
    assert not [u for u in visit.outside_requests if "evil" in u]  # no image tried to load
    # The text is there as typed: in the page's own text or in a chart's.
    shown = page.evaluate("() => document.body.innerText + ' ' + Array.from(document.querySelectorAll("
                          "'.js-plotly-plot svg')).map(s => s.textContent).join(' ')").replace(WORD_JOINER, "")
    assert "[L](http://evil.example/l)" in shown and "<a href='http://evil.example/a'>A</a>" in shown, path
