"""Shared filters, mirrored in the URL so that a link reopens the same view.

Every filter is a select box whose value lives in three places kept in step: the widget, a
session value that survives switching pages, and a query parameter (`?region=47037&year=2024-25`).
A link's query parameter wins on arrival; an unknown value falls back to the default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import streamlit as st

from components.store import run
from domain.periods import period_span, quarter_label, school_year_label  # noqa: F401  (pages import them from here)
from domain.scope import ALLIANCE, LOCALE_SCOPES, Scope
from queries import meta

_FILTER_NAMES: set[str] = set()  # every query parameter a filter of this app has used


def filter_names() -> frozenset[str]:
    """The query parameters that are filters (the rest of a URL is not part of the view)."""
    return frozenset(_FILTER_NAMES)


def synced_select(
    name: str, label: str, options: Sequence[str], default: str | None = None,
    format_func: Callable[[str], str] = str, container=None, help: str | None = None,
) -> str | None:
    """A select box bound to query parameter `name`; returns the chosen option."""
    _FILTER_NAMES.add(name)
    options = list(options)
    if not options:
        st.query_params.pop(name, None)
        return None
    widget_key, state_key = f"_filter_widget_{name}", f"_filter_{name}"
    fallback = default if default in options else options[0]
    requested = st.query_params.get(name)
    remembered, current = st.session_state.get(state_key), st.session_state.get(widget_key)
    if requested in options and requested != remembered:
        chosen = requested  # a link on arrival, or the URL changed under us (back/forward, a story step)
    elif current in options:
        chosen = current  # the widget as the user left it
    else:
        chosen = remembered if remembered in options else fallback
    # Always set, never only when it changed: two pages may show this filter with different
    # options (the overview lists quarters newest first), which makes them different widgets
    # sharing one key, and a widget only takes a key's value set during its own run.
    st.session_state[widget_key] = chosen
    value = (container or st.sidebar).selectbox(label, options, key=widget_key, format_func=format_func, help=help)
    st.session_state[state_key] = value
    st.query_params[name] = value
    return value


@dataclass(frozen=True)
class Filters:
    region: Scope | None = None  # the area: alliance-wide, rural or non-rural regions, or a region
    year: str | None = None  # school year, e.g. 2024-25
    quarter: str | None = None  # e.g. 2025-Q3
    group: str | None = None  # student group id


def scope_label(scope: Scope, names: dict[str, str] | None = None) -> str:
    """'Alliance-wide', 'Rural regions', 'Non-rural regions' or the region's name."""
    if scope.label:
        return scope.label
    names = _region_names() if names is None else names
    return names.get(scope.region_id, scope.region_id)


def scope_options(names: dict[str, str], locale_scopes: bool = True) -> list[str]:
    """The URL values of the areas one can choose: the alliance, rural and non-rural regions
    (if asked), then every region."""
    return [ALLIANCE.param, *([s.param for s in LOCALE_SCOPES] if locale_scopes else []), *names]


def _region_names() -> dict[str, str]:
    regions = run(meta.region_list)
    return dict(zip(regions["region_id"], regions["name"]))


def group_labels() -> dict[str, str]:
    groups = run(meta.group_list)
    return dict(zip(groups["group_id"], groups["label"]))


def shared_filters(uses: Sequence[str] = ("region", "year", "quarter", "group"), locale_scopes: bool = False) -> Filters:
    """Render the shared filters a page uses in the sidebar and return their values."""
    chosen: dict[str, str | None] = {}
    st.sidebar.markdown("**Filters**")
    if "region" in uses:
        names = _region_names()
        # Label options from the names already read: a lookup per option through the cache
        # costs a copy of the region list each time (half a minute for 2,000 regions).
        chosen["region"] = Scope.from_param(synced_select(
            "region", "Area", scope_options(names, locale_scopes), ALLIANCE.param,
            lambda value: scope_label(Scope.from_param(value), names)))
    if "year" in uses:
        years = run(meta.school_years)
        chosen["year"] = synced_select("year", "School year", years, years[-1] if years else None, school_year_label)
    if "quarter" in uses:
        quarters = run(meta.quarters)
        chosen["quarter"] = synced_select("quarter", "Quarter", quarters, quarters[-1] if quarters else None, quarter_label)
    if "group" in uses:
        labels = group_labels()
        chosen["group"] = synced_select("group", "Student group", list(labels), "all", lambda g: labels.get(g, g))
    return Filters(**chosen)
