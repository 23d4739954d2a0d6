"""Maps that draw offline: Plotly's MapLibre traces (Choroplethmap, Scattermap) on the
"white-bg" style, which has no tile source, and no text layers (text would fetch glyphs from a
font server): region names are letter outlines drawn as one more choropleth trace
(components/map_labels.py). Pure functions: DataFrame in, figure out.

Every region is drawn. How a region looks says what is known about it:
- a colour on the sequential scale: the metric's value (zero included);
- a thick vermillion outline: no program site at all (for the filters chosen);
- grey: the value is suppressed (a small count, or one that could be worked out by subtraction);
- white with a grey outline: no data (e.g. no K-12 students, so no rate per 1,000).
Each trace carries only the features it draws, so the geometry is sent once.
"""
from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import convert_colors_to_same_type, sample_colorscale

from domain import formatting
from domain.formatting import rate_text
from components.map_labels import label_features, place_labels
from components.palette import BLACK, GREY, INK, MISSING, SEQUENTIAL, SUPPRESSED, VERMILLION, WHITE, base_layout
from domain.coverage import ORDERS, Metric, distance_text
from domain.memo import memo_builders

MAP_STYLE = "white-bg"
NO_SITES_OUTLINE = VERMILLION  # Okabe-Ito vermillion
SELECTED_OUTLINE = BLACK
SITE_COLOUR = BLACK
LABEL_COLOUR, LABEL_HALO = INK, WHITE
MAP_HEIGHT = 620
ASSUMED_WIDTH = 560  # px: the map's column on a laptop; wider screens show a margin around the alliance


def fit_view(bounds, height: int = MAP_HEIGHT, width: int = ASSUMED_WIDTH) -> dict:
    """Centre and zoom (web-mercator) that show the [west, south, east, north] box."""
    if not bounds:
        return {"center": {"lon": -96.0, "lat": 38.0}, "zoom": 3.0}
    west, south, east, north = bounds
    def merc(lat):
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    lon_span = max(east - west, 1e-3)
    y_span = max(merc(north) - merc(south), 1e-5)
    # MapLibre draws the world 512 px wide at zoom 0.
    zoom_x = math.log2(width / 512 * 360 / lon_span)
    zoom_y = math.log2(height / 512 * 2 * math.pi / y_span)
    zoom = max(0.0, min(zoom_x, zoom_y) - 0.15)  # a little margin
    centre_lat = math.degrees(2 * math.atan(math.exp((merc(north) + merc(south)) / 2)) - math.pi / 2)
    return {"center": {"lon": (west + east) / 2, "lat": centre_lat}, "zoom": round(zoom, 2)}


def _features(geometries: dict[str, str], ids) -> dict:
    """A FeatureCollection of the regions `ids` (feature id = region_id), parsed from the
    GeoJSON texts of queries.coverage.region_shapes.

    Each ring's coordinates become one numpy array: Plotly deep-copies a trace's GeoJSON when
    the trace is added and again when the figure is serialised, and copying an array is one
    memory copy where copying lists copies every point (for 2,000 regions, 0.9 s a view)."""
    def geometry(text: str) -> dict:
        shape = json.loads(text)
        if shape["type"] == "Polygon":
            shape["coordinates"] = [np.array(ring, dtype="float64") for ring in shape["coordinates"]]
        elif shape["type"] == "MultiPolygon":
            shape["coordinates"] = [[np.array(ring, dtype="float64") for ring in polygon] for polygon in shape["coordinates"]]
        return shape

    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": i, "properties": {}, "geometry": geometry(geometries[i])} for i in ids]}


def fmt_number(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "no data"
    return f"{value:,.{digits}f}"


def metric_text(row, metric: Metric, limit: int) -> str:
    """The metric's value as a reader sees it: a number, 'suppressed …' or 'no data'."""
    if metric.student_count and bool(row.get("participations_suppressed", False)):
        return formatting.suppressed_text(limit, why=True)
    value = row.get(metric.column)
    if value is None or pd.isna(value):
        if (metric.per_thousand or metric.ranking) and not (row.get("k12_enrollment", 0) > 0):
            return "no K-12 students"
        return f"not ranked ({row.get('missing_inputs') or 'an input'} unknown)" if metric.ranking else "no data"
    return fmt_number(value, metric.digits)


def _hover_lines(frame: pd.DataFrame, metric: Metric, limit: int, outcome_name: str | None) -> list[str]:
    lines = []
    order = frame.attrs.get("order")
    ranked = int(frame["ranked"].sum()) if "ranked" in frame else len(frame)
    for row in frame.to_dict("records"):
        parts = [f"<b>{row['name']}</b> ({row['locale']})",
                 f"{metric.short}: {metric_text(row, metric, limit)}",
                 f"Low-income students: {fmt_number(row.get('low_income_pct'), 0)}{'%' if pd.notna(row.get('low_income_pct')) else ''}",
                 f"K-12 students: {fmt_number(row.get('k12_enrollment'))}",
                 f"Program sites: {int(row.get('sites', 0))} · nearest "
                 f"{distance_text(row.get('nearest_site_km', np.nan), row.get('distance_basis', 'measured'))}"]
        if outcome_name:
            parts.append(f"{outcome_name}: {outcome_text(row)}")
        if "need_points" in row and pd.notna(row.get("need_points")):
            rank = (f"rank {int(row['rank'])} of {ranked}" if row.get("ranked") and pd.notna(row.get("rank"))
                    else "not ranked")
            unknown = f", {row['need_missing']} unknown" if row.get("need_missing") else ""
            parts.append(f"Need points: {int(row['need_points'])} of {int(row.get('need_max', 3))}{unknown} · {rank}"
                         f"{' (' + ORDERS[order].split(':')[0].lower() + ')' if order in ORDERS else ''}")
        lines.append("<br>".join(parts))
    return lines


def outcome_text(row) -> str:
    """A region's outcome rate and its distance from the alliance's, in words."""
    if bool(row.get("suppressed", False)):
        return "suppressed"
    low, high = row.get("rate_low"), row.get("rate_high")
    if low is None or pd.isna(low):
        return "no data"
    rate = rate_text(low, high)
    s_low, s_high = row.get("outcome_behind_low"), row.get("outcome_behind_high")
    if s_low is None or pd.isna(s_low):
        return rate
    if s_low > 0:
        return f"{rate}, worse than the alliance by {_points(s_low, s_high)}"
    if s_high < 0:
        return f"{rate}, better than the alliance by {_points(-s_high, -s_low)}"
    return f"{rate}, about the alliance's"


def _points(a: float, b: float) -> str:
    return f"{a:.1f} points" if abs(b - a) < 0.05 else f"{a:.1f}–{b:.1f} points"


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a "#RRGGBB" or "rgb(r, g, b)" colour."""
    (channels,), _ = convert_colors_to_same_type([colour], "tuple")
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    low, high = sorted((_luminance(a), _luminance(b)))
    return (high + 0.05) / (low + 0.05)


def coverage_map(regions: pd.DataFrame, shapes: dict, metric: Metric, limit: int = 10,
                 sites: pd.DataFrame | None = None, selected: str | None = None,
                 outcome_name: str | None = None, height: int = MAP_HEIGHT,
                 labels: pd.DataFrame | None = None) -> go.Figure:
    """Regions coloured by `metric`, program sites as points, the selected region outlined.

    `regions`: one row per region (queries.coverage.underserved or region_coverage); `shapes`:
    queries.coverage.region_shapes. Every trace's customdata[0] is the region_id, so a click
    on a region or a site selects that region. `labels` (queries.coverage.label_anchors): the
    regions whose name fits are named, in outlined letters over the colours."""
    geometries = shapes["geometries"]
    frame = regions[regions["region_id"].isin(list(geometries))].reset_index(drop=True)
    values = pd.to_numeric(frame[metric.column], errors="coerce")
    hidden = frame["participations_suppressed"].astype(bool) if metric.student_count else pd.Series(False, index=frame.index)
    no_sites = frame["sites"] <= 0
    shown = values.notna() & ~hidden
    hover = _hover_lines(frame, metric, limit, outcome_name)
    fig = go.Figure()
    zmax = float(values[shown].max()) if shown.any() else 1.0
    zmax = zmax if zmax > 0 else 1.0

    def choropleth(mask, name, z, colorscale, line_colour, line_width, showscale=False, legend=True, **extra):
        idx = np.flatnonzero(mask.to_numpy())
        if not len(idx):
            return
        ids = frame.loc[idx, "region_id"].tolist()
        fig.add_trace(go.Choroplethmap(
            geojson=_features(geometries, ids), locations=ids, featureidkey="id", z=z, zmin=0, zmax=zmax,
            colorscale=colorscale, showscale=showscale, name=name, showlegend=legend,
            marker=dict(line=dict(color=line_colour, width=line_width)),
            customdata=np.array(ids, dtype=object).reshape(-1, 1),
            hovertext=[hover[i] for i in idx], hovertemplate="%{hovertext}<extra></extra>", **extra,
        ))

    # Coloured regions with sites; then coloured regions with none (outlined); then the rest.
    with_sites = shown & ~no_sites
    # The metric's name in lines of at most 40 characters: one line of it ran off a phone's map.
    colourbar = dict(title=dict(text="<br>".join(textwrap.wrap(metric.label, 40)), side="top"), orientation="h",
                     thickness=14, len=0.9,
                     x=0.5, xanchor="center", y=-0.01, yanchor="top", tickfont=dict(size=14))
    any_shown = bool(shown.any())
    choropleth(with_sites, metric.short, values[with_sites].tolist(), SEQUENTIAL, WHITE, 1,
               showscale=any_shown, legend=False, colorbar=colourbar)
    choropleth(shown & no_sites, "No program site (vermillion outline)", values[shown & no_sites].tolist(), SEQUENTIAL, NO_SITES_OUTLINE, 3.5,
               showscale=any_shown and not with_sites.any(), colorbar=colourbar)
    choropleth(hidden, formatting.suppressed_text(limit).capitalize(), [1] * int(hidden.sum()),
               [[0, SUPPRESSED], [1, SUPPRESSED]], WHITE, 1)
    missing = values.isna() & ~hidden
    choropleth(missing, "Not ranked (an input is missing)" if metric.ranking else "No data", [1] * int(missing.sum()),
               [[0, MISSING], [1, MISSING]], GREY, 1)
    if selected is not None and selected in set(frame["region_id"]):
        choropleth(frame["region_id"] == selected, "Selected region", [1], [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                   SELECTED_OUTLINE, 5, legend=False)
    if sites is not None and len(sites):
        size = np.clip(np.sqrt(pd.to_numeric(sites["seats"], errors="coerce").fillna(0).to_numpy()) * 1.2, 6, 18)
        fig.add_trace(go.Scattermap(
            lon=sites["lon"], lat=sites["lat"], mode="markers", name="Program site (size: seats)",
            marker=dict(size=size, color=SITE_COLOUR, opacity=0.75),
            customdata=sites[["region_id"]].to_numpy(dtype=object),
            hovertext=[f"<b>{p}</b><br>{s or 'site'}<br>{int(n):,} seats" for p, s, n in
                       zip(sites["program"], sites["site_name"], sites["seats"])],
            hovertemplate="%{hovertext}<extra></extra>",
        ))
    view = fit_view(shapes.get("bounds"), height)
    named = place_labels(labels[labels["region_id"].isin(set(frame["region_id"]))], view["zoom"]) if labels is not None else []
    if named:
        # Dark letters with a white halo, or white ones with a dark halo where they contrast
        # more with the region's fill (the darker blues).
        fills = np.where(hidden, SUPPRESSED, MISSING).astype(object)
        fills[shown.to_numpy()] = sample_colorscale(SEQUENTIAL, (values[shown] / zmax).clip(0, 1).tolist())
        light_letters = {r: contrast(f, LABEL_HALO) > contrast(f, LABEL_COLOUR) for r, f in zip(frame["region_id"], fills)}
        for light, (text, halo) in ((False, (LABEL_COLOUR, LABEL_HALO)), (True, (LABEL_HALO, LABEL_COLOUR))):
            part = [(r, g) for r, g in named if light_letters[r] == light]
            if not part:
                continue
            ids = [region_id for region_id, _ in part]
            fig.add_trace(go.Choroplethmap(
                geojson=label_features(part), locations=ids, featureidkey="id", z=[1] * len(ids),
                colorscale=[[0, text], [1, text]], showscale=False, showlegend=False, name="Region names",
                marker=dict(line=dict(color=halo, width=1.2)), hoverinfo="skip",
                customdata=np.array(ids, dtype=object).reshape(-1, 1),
            ))
    fig.update_layout(**base_layout(
        map=dict(style=MAP_STYLE, center=view["center"], zoom=view["zoom"]),
        height=height, margin=dict(l=0, r=0, t=10, b=80),
        legend=dict(orientation="v", yanchor="top", y=0.99, x=0.01, bgcolor="rgba(255,255,255,0.85)",
                    font=dict(size=14)),
        hoverlabel=dict(font_size=15, align="left"), clickmode="event+select", dragmode="pan",
    ))
    return fig


# Every view of every session asks for the same few figures, captions and tables: build each once.
memo_builders(globals())
