"""Every page, every value of every filter the store offers: no traceback, and a sentence
wherever a chart has nothing to draw.

Runs on the demo alliance and on a package with sparse coverage (tests.packages.SPARSE_PACKAGE:
a region with one indicator in one year, years missing, groups not reported, a region with no
outcomes), each on SQLite and on PostgreSQL. One filter is varied at a time (the others at the
page's defaults), through the page's own select boxes, the way a user changes them; a few
links arrive with values no store offers. One AppTest per page and store, re-run per value, so
the stores and Streamlit's caches are shared across values.
"""
from __future__ import annotations

import re
from contextlib import ExitStack

import pytest
from streamlit.testing.v1 import AppTest

from data.db import get_engine
from tests.apptest import APP
from tests.conftest import postgres_schema
from tests.packages import SPARSE_PACKAGE, write_package

PAGES = ("pages/overview.py", "pages/gaps.py", "pages/coverage.py", "pages/pathways.py", "pages/data.py",
         "pages/stories.py")
FILTER_PREFIX = "_filter_widget_"
# A chart with nothing to draw must say so in its caption (or the page in a notice).
NOTHING_WORDS = re.compile(r"\b(no|not|nothing|none|cannot|too few)\b", re.IGNORECASE)


def _store(kind: str, backend: str, folder, stack: ExitStack) -> str:
    url = f"sqlite:///{folder / 'store.db'}" if backend == "sqlite" else stack.enter_context(postgres_schema())
    engine = get_engine(url)
    if kind == "demo":
        from data.demo import load_demo

        assert load_demo(engine).ok
    else:
        from data.importer import import_package

        result = import_package(write_package(folder / "package", SPARSE_PACKAGE), engine)
        assert result.ok, result.problems[:3]
    from reports.board import freeze
    from queries.overview import quarters_with_data

    # The latest quarter (the default) frozen twice: the overview's "Figures" and "Frozen version" filters.
    freeze(engine, quarters_with_data(engine)[-1])
    freeze(engine, quarters_with_data(engine)[-1], note="Corrected participation")
    return url


@pytest.fixture(scope="module", params=[
    "demo-sqlite", pytest.param("demo-postgresql", marks=pytest.mark.postgres),
    "sparse-sqlite", pytest.param("sparse-postgresql", marks=pytest.mark.postgres),
])
def swept_store(request, tmp_path_factory):
    kind, backend = request.param.split("-")
    with ExitStack() as stack:
        yield _store(kind, backend, tmp_path_factory.mktemp(request.param), stack)


def _flatten(node) -> list:
    children = getattr(node, "children", None)
    if children is None:
        return [node]
    out = []
    for child in (children.values() if isinstance(children, dict) else children):
        out += _flatten(child)
    return out


def _has_points(spec: dict) -> bool:
    """Whether a Plotly figure (as AppTest holds it) draws any value."""
    for trace in spec.get("data", []):
        for axis in ("x", "y", "z", "locations", "values"):
            values = trace.get(axis)
            if isinstance(values, dict):  # a typed array: base64 bytes
                if values.get("bdata"):
                    return True
            elif isinstance(values, list) and any(v is not None for v in _flat(values)):
                return True
    return False


def _flat(values):
    for v in values:
        if isinstance(v, list):
            yield from _flat(v)
        else:
            yield v


def problems_of(at: AppTest, where: str) -> list[str]:
    """What is wrong with the page as it stands: exceptions, errors, and charts that draw
    nothing without a sentence saying why."""
    import json

    found = [f"{where}: {e.message.splitlines()[0] if e.message else e}" for e in at.exception]
    found += [f"{where}: error box: {e.value[:120]}" for e in at.error]
    elements = _flatten(at.main)
    notices = " ".join(str(getattr(e, "value", "")) for e in elements if getattr(e, "type", "") in ("alert", "info", "warning"))
    for k, element in enumerate(elements):
        if getattr(element, "type", "") != "plotly_chart":
            continue
        spec = json.loads(element.proto.spec)
        if _has_points(spec):
            continue
        caption = next((str(e.value) for e in elements[k + 1:] if getattr(e, "type", "") == "caption"), "")
        if not (NOTHING_WORDS.search(caption) or NOTHING_WORDS.search(notices)):
            found.append(f"{where}: an empty chart without a sentence saying why (caption: {caption[:100]!r})")
    return found


def _filters(at: AppTest) -> dict[str, int]:
    return {s.key[len(FILTER_PREFIX):]: len(s.options) for s in at.selectbox if str(s.key).startswith(FILTER_PREFIX)}


def _open(monkeypatch, url: str, page: str, params: dict | None = None) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    return at


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_value_of_every_filter(swept_store, page, monkeypatch):
    at = _open(monkeypatch, swept_store, page)
    found = problems_of(at, f"{page} (defaults)")
    swept = 0
    for name in _filters(at):
        key = FILTER_PREFIX + name
        box = at.selectbox(key=key)
        default = box.index
        for index in range(len(box.options)):
            # Options can depend on other filters (a pathway's reference on its group): re-read.
            if key not in [s.key for s in at.selectbox] or index >= len(at.selectbox(key=key).options):
                break
            at.selectbox(key=key).select_index(index)
            at.run()
            swept += 1
            found += problems_of(at, f"{page}?{name}={at.selectbox(key=key).value}" if key in [s.key for s in at.selectbox]
                                 else f"{page} {name} #{index}")
            if at.exception:  # start again from a fresh session: an exception can leave the page half drawn
                at = _open(monkeypatch, swept_store, page)
        if key in [s.key for s in at.selectbox] and default is not None:
            at.selectbox(key=key).select_index(default)
            at.run()
    assert not found, "\n".join(found[:40])
    if page in ("pages/gaps.py", "pages/coverage.py", "pages/overview.py"):
        assert swept > 0, f"{page} offered no filter to sweep"


# Links that arrive with values the store does not offer, or with parameters no page knows.
ODD_LINKS = [
    ("pages/gaps.py", {"region": "16055"}), ("pages/gaps.py", {"region": "99999", "year": "1999-00"}),
    ("pages/gaps.py", {"indicator": "nonsense", "group": "nobody", "reference": "nobody"}),
    ("pages/overview.py", {"quarter": "1999-Q1", "view": "sideways"}), ("pages/overview.py", {"view": "frozen", "version": "99"}),
    ("pages/pathways.py", {"cohort": "1850", "group": "nobody", "region": "locale:nowhere"}),
    ("pages/coverage.py", {"region": "<script>", "metric": "nonsense", "quarter": "2099-Q4"}),
    ("pages/overview.py", {"utm_source": "x" * 3200}), ("pages/data.py", {"fbclid": "y" * 5000}),
    ("pages/stories.py", {"gclid": "z" * 4000, "region": "all"}),
]


@pytest.mark.parametrize("page,params", ODD_LINKS, ids=[f"{p.split('/')[-1][:-3]}-{'&'.join(q)}" for p, q in ODD_LINKS])
def test_links_with_values_no_store_offers(swept_store, page, params, monkeypatch):
    at = _open(monkeypatch, swept_store, page, params)
    assert not problems_of(at, page)
