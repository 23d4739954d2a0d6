"""Streamlit's view of the store: the cached engine, cached queries, and the gate that turns a
missing, empty, unreachable or outdated store into a readable message instead of a traceback."""
from __future__ import annotations

import importlib
import os
import threading
import time
from typing import Callable

import streamlit as st

from data.db import database_url, first_line, get_engine, store_status

AUTOLOAD_DEMO = os.environ.get("ALLIANCE_AUTOLOAD_DEMO", "1") != "0"
WARM_UP_DELAY_S = 2.0
READY_TTL_S = 5.0  # as the data version: a store found ready is not probed again for this long
_ready_at: dict[str, tuple[float, object]] = {}


def engine():
    return get_engine(database_url())


@st.cache_data(ttl=5, show_spinner=False)
def _data_version(url: str) -> int:
    from queries.meta import data_version

    return data_version(get_engine(url))


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(module: str, name: str, url: str, version: int, params: tuple):
    function = getattr(importlib.import_module(module), name)
    return function(get_engine(url), **dict(params))


def data_version() -> int:
    """The store's data version, as the caches see it (polled every few seconds)."""
    url = database_url()
    return _data_version(url)


def run(query: Callable, **params):
    """Run a function of `queries/` with caching keyed by its parameters and the data version,
    so a new import is seen within seconds and repeated views cost nothing."""
    url = database_url()
    return _cached(query.__module__, query.__name__, url, _data_version(url), tuple(sorted(params.items())))


def clear_caches() -> None:
    _cached.clear()
    _data_version.clear()
    _ready_at.clear()


def gate(allow_empty: bool = False) -> None:
    """Stop the page with a clear message unless the store can be read; load the demo into an
    empty store on first run. `allow_empty`: the page works on an empty store (/data, where the
    steward imports the first package), so a new store only gets its schema."""
    status = _status()
    if status.state == "unreachable":
        st.error(
            f"**The data store cannot be reached.** The dashboard tried `{status.url}` and got: "
            f"{status.detail}\n\nCheck that the database server is running and that `DATABASE_URL` "
            "is right, then reload this page."
        )
        st.stop()
    if status.state == "outdated":
        st.error(
            f"**The data store uses an older schema** ({status.detail}). Bring it up to date with "
            "`python cli.py migrate` (add `--database URL` for a shared database), then reload."
        )
        st.stop()
    if status.state == "damaged":
        st.error(
            f"**The data store is incomplete** ({status.detail}) at `{status.url}`. Restore it from a "
            "backup, or start a new store and import your data package again."
        )
        st.stop()
    if status.state in ("uninitialised", "empty"):
        if allow_empty and not AUTOLOAD_DEMO:
            if status.state == "uninitialised":
                from data.db import upgrade

                upgrade(engine())
            return
        if not AUTOLOAD_DEMO:
            st.info(
                "**The data store is empty.** An editor can import your alliance's data package on the "
                "**Data** page, or with `python cli.py import PATH`; `python cli.py demo` loads the demo alliance."
            )
            st.stop()
        _load_demo()


def _status():
    """The store's status; a ready store is remembered for READY_TTL_S. Probing it costs
    several round trips (schema version, tables, a region), on every rerun of every session;
    a store that goes away meanwhile still reads as a sentence (show_store_error)."""
    url = database_url()
    seen = _ready_at.get(url)
    if seen is not None and time.monotonic() - seen[0] < READY_TTL_S:
        return seen[1]
    status = store_status(url)
    if status.state == "ready":
        _ready_at[url] = (time.monotonic(), status)
    else:
        _ready_at.pop(url, None)
    return status


def warm_up() -> None:
    """Once a page is drawn: start building, in the background, what a later page would wait
    for (once per data version)."""
    url = database_url()
    _warm_pathways(url, _data_version(url))


@st.cache_resource(show_spinner=False, max_entries=4)
def _warm_pathways(url: str, version: int) -> threading.Thread:
    """Build the suppressed pathway cube in a background thread: it is the one cold cost left
    after an import (about 2 s at state scale), and a presenter going from the overview to
    /pathways should not wait for it. Started after the page is drawn, so as not to slow it."""
    from queries.pathways import cube

    def build() -> None:
        # Let the page that started this finish reaching the browser: the build holds the GIL
        # for most of its time, which would slow the server's sending.
        time.sleep(WARM_UP_DELAY_S)
        try:
            cube(get_engine(url))
        except Exception:  # e.g. an import under way: the page builds it again and says what is wrong
            pass

    thread = threading.Thread(target=build, name=f"warm-pathways-{version}", daemon=True)
    thread.start()
    return thread


def show_store_error(exc: Exception) -> None:
    """A database error met while drawing a page, as a sentence instead of a traceback."""
    st.error(
        f"**The data store could not be read** (`{first_line(exc)}`). If the database server was "
        "restarted or the store is being imported into, reload the page in a moment."
    )


def _load_demo() -> None:
    from data.demo import load_demo

    with st.status("First run: loading the demo alliance (synthetic data)…", expanded=True) as progress:
        st.write("Writing the demo data package and importing it through the regular importer.")
        result = load_demo(engine())
        if not result.ok:
            progress.update(label="The demo alliance could not be loaded", state="error")
            for problem in result.problems[:20]:
                st.write(str(problem))
            st.stop()
        progress.update(label=f"Demo alliance loaded: {result.rows:,} rows", state="complete")
    clear_caches()


def is_demo(engine) -> bool:
    """Whether the store's latest import is the built-in demo alliance."""
    from data.demo import is_demo as latest_import_is_demo

    return latest_import_is_demo(engine)
