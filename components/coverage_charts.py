"""Coverage figures, captions and tables (everything on /coverage except the map): pure
functions, DataFrame in, Plotly figure, sentence or table out. Frames come from
queries/coverage.py, already suppressed.

Colours: locales keep one Okabe-Ito colour each; the region chosen is vermillion, the alliance
blue; grey hatching (and "▨ suppressed" in tables) is a suppressed value; blank / "no data" is
missing. Participations are enrolments, not unique students, and every caption that counts them
says so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from domain import formatting
from domain.formatting import rate_text
from domain.periods import quarter_label, school_year_label
from components.palette import BLACK, BLUE, CELLS_UNDER_TEXT, BLUISH_GREEN, DARK_INK, DARK_ORANGE, GREY, GRID, MUTED_INK, ORANGE, PALE_ORANGE, REDDISH_PURPLE, SUPPRESSED, SUPPRESSED_PATTERN, VERMILLION, WHITE, base_layout
from domain.coverage import (
    CENTRES, DEFAULT_ORDER, DISTANCE_BASIS_TEXT, IN_REGION, MEASURED, Metric, distance_text,
)
from domain.scope import ALLIANCE, ANY, NONRURAL, RURAL, locale_cell
from domain.vocabulary import LOCALES, SHORT_GROUP_LABELS
from domain.vocabulary import label as vocab_label
from domain.memo import memo_builders

LOCALE_COLOURS = {"city": BLUE, "suburb": ORANGE, "town": BLUISH_GREEN, "rural": REDDISH_PURPLE}
REGION_COLOUR, ALLIANCE_COLOUR = VERMILLION, BLUE
SHADE = "rgba(213, 94, 0, 0.10)"
SUPPRESSED_CELL = "▨ suppressed"
NO_DATA = "no data"
PARTICIPATION_NOTE = "participations, not unique students"


# --- words -------------------------------------------------------------------------------

def quarter_text(quarter: str | None) -> str:
    """`2025-Q3` reads `2025 Q3`."""
    return quarter_label(quarter) if quarter else "all quarters"


def school_year_text(year: str | None) -> str:
    return school_year_label(year) if year else ""


def suppressed_text(limit: int) -> str:
    return formatting.suppressed_text(limit, why=True)


def _num(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return NO_DATA
    return f"{value:,.{digits}f}"


def _names(frame: pd.DataFrame, n: int = 3) -> str:
    """The first n names and how many more; one more is named rather than counted."""
    names = list(frame["name"].head(n + 1 if len(frame) == n + 1 else n))
    if not names:
        return ""
    more = len(frame) - len(names)
    text = ", ".join(names[:-1]) + (" and " if len(names) > 1 and not more else ", " if more else "") + names[-1]
    return text + (f" and {more} more" if more > 0 else "")


def filter_text(program_type: str, grade_band: str, sector: str) -> str:
    """`afterschool programs for middle grades run by K-12 partners`, or `all programs`."""
    parts = []
    what = f"{vocab_label(program_type).lower()} programs" if program_type not in (None, ANY) else "programs"
    if grade_band not in (None, ANY):
        what += " for " + ("all grade bands" if grade_band == "all" else vocab_label(grade_band).lower())
    if sector not in (None, ANY):
        what += f" run by {vocab_label(sector)} partners"
    parts.append(what)
    if what == "programs":
        return "all programs"
    return parts[0]


def _metric_values(frame: pd.DataFrame, metric: Metric) -> pd.Series:
    values = pd.to_numeric(frame[metric.column], errors="coerce")
    if metric.student_count:
        values = values.where(~frame["participations_suppressed"].astype(bool))
    return values


def metric_reference(frame: pd.DataFrame, metric: Metric, attrs: dict) -> tuple[float, str]:
    """The alliance's value of the metric (pooled per 1,000; the median region for counts)."""
    if metric.per_thousand:
        value = attrs.get(metric.column, np.nan)
        return (float(value) if value is not None else np.nan), "alliance"
    values = pd.to_numeric(frame[metric.column], errors="coerce").dropna()
    return (float(values.median()) if len(values) else np.nan), "median region"


# --- need against coverage ---------------------------------------------------------------

def need_scatter(frame: pd.DataFrame, metric: Metric, attrs: dict, selected: str | None = None) -> go.Figure:
    """Each region at (low-income share, coverage): the shaded corner is high need and low
    coverage. Regions without any program site are drawn as crosses; customdata[0] is the
    region_id so that clicking a dot selects the region."""
    values = _metric_values(frame, metric)
    x = pd.to_numeric(frame["low_income_pct"], errors="coerce")
    drawn = frame[values.notna() & x.notna()].assign(_x=x, _y=values)
    x_ref = attrs.get("low_income_pct", np.nan)
    y_ref, y_ref_name = metric_reference(frame, metric, attrs)
    fig = go.Figure()
    x_max = max(100.0, float(drawn["_x"].max()) if len(drawn) else 100.0)
    y_max = float(drawn["_y"].max()) * 1.08 if len(drawn) and drawn["_y"].max() > 0 else 1.0
    if np.isfinite(x_ref) and np.isfinite(y_ref):
        fig.add_shape(type="rect", x0=x_ref, x1=x_max, y0=0, y1=y_ref, fillcolor=SHADE, line=dict(width=0), layer="below")
        fig.add_annotation(x=x_max, y=y_ref, xanchor="right", yanchor="top", showarrow=False,
                           text="<b>High need,<br>low coverage</b>", align="right", font=dict(size=15, color=DARK_ORANGE))
    if np.isfinite(x_ref):
        fig.add_vline(x=x_ref, line=dict(color=MUTED_INK, width=1.5, dash="dash"))
        fig.add_annotation(x=x_ref, y=0, yref="paper", yanchor="bottom", xanchor="right", xshift=-4, showarrow=False,
                           text=f"alliance {x_ref:.0f}%", font=dict(size=13, color=DARK_INK))
    if np.isfinite(y_ref):
        fig.add_hline(y=y_ref, line=dict(color=MUTED_INK, width=1.5, dash="dash"))
        fig.add_annotation(x=0, y=y_ref, xanchor="left", yanchor="bottom", showarrow=False,
                           text=f"{y_ref_name} {y_ref:,.1f}" if metric.per_thousand else f"{y_ref_name} {y_ref:,.0f}",
                           font=dict(size=13, color=DARK_INK))
    for locale in LOCALES:
        part = drawn[drawn["locale"] == locale]
        if part.empty:
            continue
        symbols = np.where(part["sites"] <= 0, "x", "circle")
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=locale.capitalize(), legendgroup=locale,
                                 marker=dict(size=13, color=LOCALE_COLOURS[locale], symbol="circle")))
        fig.add_trace(go.Scatter(
            x=part["_x"], y=part["_y"], mode="markers", name=locale.capitalize(), legendgroup=locale, showlegend=False,
            marker=dict(size=15, color=LOCALE_COLOURS[locale], symbol=symbols, line=dict(color="white", width=1)),
            customdata=part[["region_id", "name"]].to_numpy(dtype=object),
            hovertemplate=("<b>%{customdata[1]}</b><br>Low-income: %{x:.0f}%<br>" + metric.short +
                           (": %{y:,.1f}" if metric.per_thousand else ": %{y:,.0f}") + "<extra></extra>"),
        ))
    if (drawn["sites"] <= 0).any():
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="× no program site",
                                 marker=dict(size=13, color=DARK_INK, symbol="x")))
    chosen = drawn[drawn["region_id"] == selected] if selected else drawn.iloc[:0]
    if len(chosen):
        fig.add_trace(go.Scatter(
            x=chosen["_x"], y=chosen["_y"], mode="markers", name=f"{chosen['name'].iloc[0]} (selected)",
            marker=dict(size=26, color="rgba(0,0,0,0)", line=dict(color=BLACK, width=3)), hoverinfo="skip",
            customdata=chosen[["region_id", "name"]].to_numpy(dtype=object),
        ))
    fig.update_layout(**base_layout(
        height=620, margin=dict(l=10, r=20, t=90, b=10),
        xaxis=dict(title="Low-income students (%)", range=[0, x_max], ticksuffix="%", gridcolor=GRID),
        yaxis=dict(title=metric.label, rangemode="tozero", range=[0, y_max], gridcolor=GRID),
        clickmode="event+select", dragmode=False,
    ))
    return fig


def need_scatter_caption(frame: pd.DataFrame, metric: Metric, attrs: dict) -> str:
    values = _metric_values(frame, metric)
    x = pd.to_numeric(frame["low_income_pct"], errors="coerce")
    x_ref = attrs.get("low_income_pct", np.nan)
    y_ref, _ = metric_reference(frame, metric, attrs)
    corner = frame[(x > x_ref) & (values < y_ref)].sort_values("rank") if np.isfinite(x_ref) and np.isfinite(y_ref) else frame.iloc[:0]
    left_out = int((values.isna() | x.isna()).sum())
    sentence = (f"Each dot is a region, further right with more low-income students and lower with "
                f"{'fewer' if metric.per_thousand else 'fewer'} {metric.short.lower()}")
    if len(corner):
        sentence += f"; {len(corner)} region{'s' if len(corner) != 1 else ''} in the shaded corner ({_names(corner)}) have high need and low coverage"
    else:
        sentence += "; no region is both above the alliance's low-income share and below its coverage"
    if left_out:
        sentence += f" ({left_out} region{'s' if left_out != 1 else ''} without a low-income share or a shown value {'are' if left_out != 1 else 'is'} not drawn)"
    if metric.student_count:
        sentence += f" — {PARTICIPATION_NOTE}"
    return sentence + "."


# --- the ranking -------------------------------------------------------------------------

def _outcome_cell(row) -> str:
    if bool(row.get("suppressed", False)):
        return SUPPRESSED_CELL
    low, high = row.get("rate_low"), row.get("rate_high")
    if low is None or pd.isna(low):
        return NO_DATA
    return rate_text(low, high)


def _shortfall_cell(row) -> str:
    low, high = row.get("outcome_behind_low"), row.get("outcome_behind_high")
    if low is None or pd.isna(low):
        return ""
    return f"{low:.1f}" if abs(high - low) < 0.05 else f"{low:.1f} to {high:.1f}"


def _maybe(value, digits: int = 1):
    return None if value is None or pd.isna(value) else round(float(value), digits)


def table_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns either all numbers (missing = blank) or all text, so that tables and CSV files
    show exactly the same thing."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype != object:
            continue
        values = out[column].dropna()
        if len(values) and values.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)).all():
            out[column] = pd.to_numeric(out[column], errors="coerce")
        else:
            out[column] = out[column].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out


def ranking_view(ranked: pd.DataFrame, attrs: dict, limit: int) -> pd.DataFrame:
    """The underserved table exactly as shown (and downloaded): the rank, why in words, and
    every component of the rule. Blank is no data; participations say when they are suppressed."""
    outcome = attrs.get("indicator_name") or "Outcome"
    year = school_year_text(attrs.get("school_year"))
    available = attrs.get("participations_available", True)
    rows = []
    for row in ranked.to_dict("records"):
        participations = (NO_DATA if not available else SUPPRESSED_CELL if row.get("participations_suppressed") else
                          _num(row.get("participations_per_1000"), 1))
        best, worst = row.get("rank_best"), row.get("rank_worst")
        could = "" if row.get("ranked") or best is None or pd.isna(best) else (
            f"{int(best)}" if best == worst else f"{int(best)}–{int(worst)}")
        point = row.get("low_income_point")
        rows.append({
            "Rank": None if row.get("rank") is None or pd.isna(row.get("rank")) else int(row["rank"]),
            "Region": row["name"],
            "Why it ranks here": row["reason"],
            "Shortfall (need points × coverage gap)": _maybe(row.get("shortfall_score"), 2),
            "Need points": int(row["need_points"]),
            "Need points possible": int(row["need_max"]),
            "Coverage gap (% short of the alliance's seats per 1,000)": _maybe(
                None if pd.isna(row.get("coverage_gap")) else 100 * row["coverage_gap"], 0),
            "Seats per 1,000": _maybe(row.get("seats_per_1000")),
            "Program sites": int(row["sites"]),
            "Nearest site (km)": _maybe(row.get("nearest_site_km")),
            "Distance measured": DISTANCE_BASIS_TEXT.get(row.get("distance_basis"), ""),
            "Low-income %": _maybe(row.get("low_income_pct")),
            "Low-income above alliance": "unknown" if point is None or pd.isna(point) else "yes" if point else "no",
            "Locale": str(row["locale"]).capitalize(),
            f"{outcome} {year}".strip(): _outcome_cell(row),
            "Points behind the alliance (negative: ahead)": _shortfall_cell(row),
            f"Participations per 1,000 (all programs; {PARTICIPATION_NOTE})": participations,
            "K-12 students": int(row["k12_enrollment"]) if pd.notna(row.get("k12_enrollment")) else None,
            "Tied with": row.get("tied_with") or "",
            "Inputs missing": row.get("missing_inputs") or "",
            "Could rank (when not ranked)": could,
        })
    return table_safe(pd.DataFrame(rows))


def ranking_caption(ranked: pd.DataFrame, filters: str, quarter: str | None, order: str = DEFAULT_ORDER) -> str:
    """What the ranking shows, led by the region it puts first."""
    shown = ranked[ranked["ranked"].astype(bool)] if "ranked" in ranked else ranked
    if shown.empty:
        return ("No region can be ranked: every region is missing an input the rule needs."
                if len(ranked) else "There are no regions to rank.")
    top = shown.iloc[0]
    need = f"need {int(top['need_points'])} of {int(top['need_max'])}"
    coverage = ("no program site" if top["sites"] <= 0 else f"{top['seats_per_1000']:,.1f} seats per 1,000 students")
    lead = {
        "shortfall": f"{top['name']} has the largest shortfall ({top['shortfall_score']:.2f}: {need}, {coverage})",
        "need": f"{top['name']} ranks first with {need} and {coverage}",
        "coverage": f"{top['name']} has the fewest seats ({coverage})",
    }[order]
    no_sites = int((ranked["sites"] <= 0).sum())
    sentence = (f"For {filters} running in {quarter_text(quarter)}, {lead}; {no_sites} of {len(ranked)} "
                f"region{'s' if len(ranked) != 1 else ''} {'has' if no_sites == 1 else 'have'} no program site at all")
    unranked = len(ranked) - len(shown)
    if unranked:
        sentence += f"; {unranked} {'is' if unranked == 1 else 'are'} not ranked because an input is missing (listed last)"
    tied = int((shown["tied_with"] != "").sum()) if "tied_with" in shown else 0
    if tied:
        sentence += f"; {tied} share a rank with another region"
    return sentence + "."


# --- access distance ---------------------------------------------------------------------

def distance_figure(frame: pd.DataFrame, filters: str, selected: str | None = None, top: int = 25) -> go.Figure:
    """The regions farthest from a running site, as horizontal bars (km), coloured by locale;
    a distance between region centres (sites without coordinates) is hatched and reads ≈."""
    known = pd.to_numeric(frame["nearest_site_km"], errors="coerce").notna()
    data = frame[known].sort_values(["nearest_site_km", "name"], ascending=[False, True]).head(top).iloc[::-1]
    basis = data["distance_basis"] if "distance_basis" in data else pd.Series(MEASURED, index=data.index)
    approximate = (basis == CENTRES).to_numpy()
    colours = [LOCALE_COLOURS.get(l, GREY) for l in data["locale"]]
    outline = [4 if r == selected else 0 for r in data["region_id"]]
    fig = go.Figure(go.Bar(
        x=data["nearest_site_km"], y=data["name"], orientation="h",
        marker=dict(color=colours, line=dict(color=BLACK, width=outline),
                    pattern=dict(shape=["." if a else "" for a in approximate], fillmode="overlay", fgcolor=WHITE)),
        text=[f"{'≈' if a else ''}{v:,.0f} km" for v, a in zip(data["nearest_site_km"], approximate)],
        textposition="outside", cliponaxis=False,
        customdata=np.column_stack([data["region_id"], data["locale"],
                                    ["between region centres (approximate)" if a else "to the site's coordinates"
                                     for a in approximate]]) if len(data) else None,
        showlegend=False,
        hovertemplate="<b>%{y}</b> (%{customdata[1]})<br>%{x:,.1f} km to the nearest site, %{customdata[2]}<extra></extra>",
    ))
    for locale in LOCALES:
        if (data["locale"] == locale).any():
            fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name=locale.capitalize(),
                                 marker=dict(color=LOCALE_COLOURS[locale])))
    if approximate.any():
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name="≈ between region centres (no site coordinates)",
                             marker=dict(color=GREY, pattern=dict(shape=".", fillmode="overlay", fgcolor=WHITE))))
    fig.update_layout(**base_layout(
        height=max(320, 34 * len(data) + 120), barmode="overlay", margin=dict(l=10, r=60, t=40, b=10),
        xaxis=dict(title="Distance from the region's centre to the nearest site (km)", gridcolor=GRID, rangemode="tozero"),
        yaxis=dict(title=None, categoryorder="array", categoryarray=list(data["name"])),
    ))
    return fig


def distance_caption(frame: pd.DataFrame, filters: str) -> str:
    distance = pd.to_numeric(frame["nearest_site_km"], errors="coerce")
    basis = frame["distance_basis"] if "distance_basis" in frame else pd.Series(MEASURED, index=frame.index)
    in_region = int((basis == IN_REGION).sum())
    approximate = int((basis == CENTRES).sum())
    unmeasured = (f"; {in_region} region{'s have' if in_region != 1 else ' has'} a site without coordinates inside, "
                  "so the distance is not known (not shown)") if in_region else ""
    if distance.notna().sum() == 0:
        return (f"No distance to a site of {filters} can be measured{unmeasured or ': none is running'}.")
    far = frame.loc[distance.idxmax()]
    how = " between region centres (its nearest sites have no coordinates)" if far.get("distance_basis") == CENTRES else ""
    rural = distance[frame["locale"] == "rural"].median()
    other = distance[frame["locale"] != "rural"].median()
    compare = (f"; the median rural region is {rural:,.0f} km from one, the median non-rural region {other:,.0f} km"
               if pd.notna(rural) and pd.notna(other) else "")
    approx = (f"; {approximate} distance{'s are' if approximate != 1 else ' is'} between region centres (≈, hatched)"
              if approximate else "")
    return (f"Students in {far['name']} are farthest from {filters}: {distance_text(far['nearest_site_km'], far.get('distance_basis', MEASURED))} "
            f"from the region's centre to the nearest site{how}{compare}{approx}{unmeasured}.")


def distance_table(frame: pd.DataFrame) -> pd.DataFrame:
    data = frame.sort_values(["nearest_site_km", "name"], ascending=[False, True], na_position="last")
    basis = data["distance_basis"] if "distance_basis" in data else pd.Series(MEASURED, index=data.index)
    return pd.DataFrame({
        "Region": data["name"], "Locale": data["locale"].str.capitalize(),
        "Nearest site (km)": data["nearest_site_km"].round(1),
        "Distance measured": [DISTANCE_BASIS_TEXT.get(b, "") for b in basis],
        "Program sites in the region": data["sites"],
    }).reset_index(drop=True)


# --- rural vs non-rural ------------------------------------------------------------------

def locale_figure(summary: pd.DataFrame, limit: int) -> go.Figure:
    """Seats and participations per 1,000 students by locale, with the alliance as a line."""
    order = [*(locale_cell(locale) for locale in LOCALES), NONRURAL.cell]
    rows = summary.set_index("area").reindex([a for a in order if a in set(summary["area"])])
    rows = rows[rows["regions"] > 0]
    alliance = summary.set_index("area").loc[ALLIANCE.cell] if ALLIANCE.cell in set(summary["area"]) else None
    labels = [f"{l}<br>({int(n)} region{'s' if n != 1 else ''})" for l, n in zip(rows["label"], rows["regions"])]
    colours = [LOCALE_COLOURS.get(a.split(":")[1], MUTED_INK) for a in rows.index]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=("Seats per 1,000 K-12 students", "Participations per 1,000 (not unique students)"))
    fig.add_trace(go.Bar(x=rows["seats_per_1000"], y=labels, orientation="h", marker=dict(color=colours), showlegend=False,
                         text=[_num(v, 1) for v in rows["seats_per_1000"]], textposition="outside", cliponaxis=False,
                         hovertemplate="%{y}: %{x:,.1f} seats per 1,000<extra></extra>"), row=1, col=1)
    hidden = rows["participations_suppressed"].astype(bool)
    fig.add_trace(go.Bar(x=rows["participations_per_1000"].where(~hidden), y=labels, orientation="h", marker=dict(color=colours),
                         showlegend=False, text=[SUPPRESSED_CELL if h else _num(v, 1) for v, h in zip(rows["participations_per_1000"], hidden)],
                         textposition="outside", cliponaxis=False,
                         hovertemplate="%{y}: %{x:,.1f} participations per 1,000<extra></extra>"), row=1, col=2)
    if alliance is not None:
        for col, column in ((1, "seats_per_1000"), (2, "participations_per_1000")):
            value = alliance[column]
            if pd.notna(value) and not (column.startswith("participations") and bool(alliance["participations_suppressed"])):
                fig.add_vline(x=float(value), line=dict(color=BLACK, width=2, dash="dash"), row=1, col=col)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="Alliance as a whole",
                                 line=dict(color=BLACK, width=2, dash="dash")), row=1, col=1)
    if hidden.any():
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name=suppressed_text(limit).capitalize(),
                             marker=dict(color=SUPPRESSED, pattern=dict(shape=SUPPRESSED_PATTERN))), row=1, col=2)
    height = max(340, 70 * len(rows) + 120)
    # The legend's top 36 px under the axis, clear of the tick labels (5% of the plot's height,
    # ~20 px, put it on them).
    fig.update_layout(**base_layout(height=height, margin=dict(l=10, r=70, t=70, b=10),
                                    legend=dict(orientation="h", yanchor="top", y=-36 / (height - 80), x=0)))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(rangemode="tozero", gridcolor=GRID)
    return fig


def locale_caption(summary: pd.DataFrame, filters: str, quarter: str | None) -> str:
    rows = summary.set_index("area")
    if RURAL.cell not in rows.index or rows.loc[RURAL.cell, "regions"] == 0:
        return "The alliance has no rural regions, so there is no rural comparison to make."
    rural, other = rows.loc[RURAL.cell], rows.loc[NONRURAL.cell]
    if other["regions"] == 0:
        return f"Every region is rural: {rural['seats_per_1000']:,.1f} seats per 1,000 students for {filters}."
    ratio = rural["seats_per_1000"] / other["seats_per_1000"] if other["seats_per_1000"] else np.nan
    compare = f" ({ratio:.1f} times as many)" if np.isfinite(ratio) and ratio >= 1 else (
        f" ({(1 - ratio) * 100:.0f}% fewer)" if np.isfinite(ratio) else "")
    return (f"In {quarter_text(quarter)}, rural regions have {rural['seats_per_1000']:,.1f} seats per 1,000 students for "
            f"{filters} against {other['seats_per_1000']:,.1f} in non-rural regions{compare}, and "
            f"{int(rural['regions_without_sites'])} of {int(rural['regions'])} rural regions {'has' if rural['regions_without_sites'] == 1 else 'have'} no program site.")


def locale_table(summary: pd.DataFrame) -> pd.DataFrame:
    hidden = summary["participations_suppressed"].astype(bool)
    available = summary.attrs.get("participations_available", True)
    return pd.DataFrame({
        "Area": summary["label"], "Regions": summary["regions"], "K-12 students": summary["k12_enrollment"].astype(int),
        "Seats": summary["seats"].astype(int), "Seats per 1,000": summary["seats_per_1000"].round(1),
        "Participations (all programs)": [(NO_DATA if not available else SUPPRESSED_CELL if h else _num(v))
                                          for v, h in zip(summary["participations"], hidden)],
        "Participations per 1,000": [(NO_DATA if not available else SUPPRESSED_CELL if h else _num(v, 1))
                                     for v, h in zip(summary["participations_per_1000"], hidden)],
        "Regions with no site": summary["regions_without_sites"],
        "Median distance to a site (km)": summary["median_distance_km"].round(1),
    }).pipe(table_safe)


# --- one region --------------------------------------------------------------------------

def _empty_figure(text: str, height: int = 260) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(x=0.5, y=0.5, xref="paper", yref="paper", text=text, showarrow=False, font=dict(size=16, color=MUTED_INK))
    fig.update_layout(**base_layout(height=height, xaxis=dict(visible=False), yaxis=dict(visible=False)))
    return fig


def sector_figure(by_sector: pd.DataFrame, region: str) -> go.Figure:
    if by_sector.empty:
        return _empty_figure(f"No partner runs a program in {region} this quarter.")
    data = by_sector.iloc[::-1]
    fig = go.Figure(go.Bar(x=data["partners"], y=[vocab_label(s) for s in data["sector"]], orientation="h",
                           marker=dict(color=ALLIANCE_COLOUR), text=data["partners"], textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x} partners<extra></extra>"))
    fig.update_layout(**base_layout(height=max(190, 38 * len(data) + 90), margin=dict(l=10, r=40, t=20, b=10),
                                    xaxis=dict(title="Partners", dtick=1, gridcolor=GRID, rangemode="tozero")))
    return fig


def sector_caption(by_sector: pd.DataFrame, region: str, quarter: str | None) -> str:
    if by_sector.empty:
        return f"No partner runs a program at a site in {region} in {quarter_text(quarter)}."
    top = by_sector.iloc[0]
    total = int(by_sector["partners"].sum())
    if total == 1:
        return f"One partner runs programs in {region} in {quarter_text(quarter)}, from the {vocab_label(top['sector'])} sector."
    return (f"{total} partners run programs in {region} in {quarter_text(quarter)}, most of them "
            f"{vocab_label(top['sector'])} ({int(top['partners'])}).")


def sector_table(by_sector: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Sector": [vocab_label(s) for s in by_sector["sector"]], "Partners": by_sector["partners"]})


def programs_figure(programs: pd.DataFrame, region: str) -> go.Figure:
    """Programs by type (rows) and grade band (columns); each cell gives programs and seats."""
    if programs.empty:
        return _empty_figure(f"No program runs in {region} this quarter.")
    types = sorted(programs["program_type"].unique())
    from domain.vocabulary import GRADE_BANDS

    bands = [b for b in GRADE_BANDS if b in set(programs["grade_band"])]
    grid = programs.pivot_table(index="program_type", columns="grade_band", values="programs", aggfunc="sum").reindex(index=types, columns=bands)
    seats = programs.pivot_table(index="program_type", columns="grade_band", values="seats", aggfunc="sum").reindex(index=types, columns=bands)
    text = [[("" if pd.isna(grid.iloc[i, j]) else f"{int(grid.iloc[i, j])}<br><span style='font-size:12px'>{int(seats.iloc[i, j]):,} seats</span>")
             for j in range(len(bands))] for i in range(len(types))]
    band_names = ["All grades" if b == "all" else vocab_label(b) for b in bands]
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(dtype=float), x=band_names, y=[vocab_label(t) for t in types], text=text, texttemplate="%{text}",
        colorscale=CELLS_UNDER_TEXT, showscale=False, xgap=3, ygap=3, textfont=dict(size=15, color=BLACK),
        hovertemplate="%{y}, %{x}: %{z} programs<extra></extra>"))
    fig.update_layout(**base_layout(height=max(200, 52 * len(types) + 110), margin=dict(l=10, r=10, t=30, b=10),
                                    xaxis=dict(side="top"), yaxis=dict(autorange="reversed")))
    return fig


def programs_caption(programs: pd.DataFrame, region: str) -> str:
    if programs.empty:
        return f"No program runs at a site in {region} in this quarter."
    by_type = programs.groupby("program_type")["programs"].sum().sort_values(ascending=False)
    total, seats = int(programs["programs"].sum()), int(programs["seats"].sum())
    if total == 1:
        return (f"One program runs in {region}, with {seats:,} seats: {vocab_label(by_type.index[0]).lower()}, "
                f"for {('all grades' if programs['grade_band'].iloc[0] == 'all' else vocab_label(programs['grade_band'].iloc[0]).lower())}.")
    return (f"{total} programs run in {region} with {seats:,} seats, most of them "
            f"{vocab_label(by_type.index[0]).lower()} ({int(by_type.iloc[0])}); empty cells are grade bands no program of that type serves.")


def programs_table(programs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Program type": [vocab_label(t) for t in programs["program_type"]],
        "Grade band": ["All grades" if b == "all" else vocab_label(b) for b in programs["grade_band"]],
        "Programs": programs["programs"], "Sites": programs["sites"], "Seats": programs["seats"],
    })


def seats_figure(region_row: pd.Series, attrs: dict) -> go.Figure:
    """Seats per 1,000 students here against the alliance's."""
    names = [region_row["name"], "Alliance"]
    values = [region_row["seats_per_1000"], attrs.get("seats_per_1000")]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker=dict(color=[REGION_COLOUR, ALLIANCE_COLOUR]),
                           text=[_num(v, 1) for v in values], textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x:,.1f} seats per 1,000 K-12 students<extra></extra>"))
    fig.update_layout(**base_layout(height=220, margin=dict(l=10, r=60, t=20, b=10),
                                    xaxis=dict(title="Seats per 1,000 K-12 students", rangemode="tozero", gridcolor=GRID),
                                    yaxis=dict(autorange="reversed")))
    return fig


def seats_caption(region_row: pd.Series, attrs: dict) -> str:
    if not region_row["k12_enrollment"] > 0:
        return f"{region_row['name']} has {int(region_row['seats']):,} seats and no K-12 students on record."
    return (f"{region_row['name']} offers {int(region_row['seats']):,} seats for {int(region_row['k12_enrollment']):,} K-12 students, "
            f"{region_row['seats_per_1000']:,.1f} per 1,000 against {attrs.get('seats_per_1000', np.nan):,.1f} across the alliance.")


def seats_table(region_row: pd.Series, attrs: dict) -> pd.DataFrame:
    return pd.DataFrame({
        "Area": [region_row["name"], "Alliance"],
        "Seats": [int(region_row["seats"]), int(attrs.get("seats", 0))],
        "K-12 students": [int(region_row["k12_enrollment"]), int(attrs.get("k12_enrollment", 0))],
        "Seats per 1,000": [round(region_row["seats_per_1000"], 1) if pd.notna(region_row["seats_per_1000"]) else None,
                            round(attrs.get("seats_per_1000", np.nan), 1)],
    })


def _bars_with_suppressed(labels, values, hidden, colour, limit, orientation="v", hover="%{x}: %{y:,.0f}"):
    traces = []
    vals = np.where(hidden, np.nan, values)
    if orientation == "v":
        traces.append(go.Bar(x=labels, y=vals, marker=dict(color=colour), showlegend=False,
                             text=[SUPPRESSED_CELL if h else _num(v) for v, h in zip(values, hidden)],
                             textposition="outside", cliponaxis=False, hovertemplate=hover + "<extra></extra>"))
    else:
        traces.append(go.Bar(x=vals, y=labels, orientation="h", marker=dict(color=colour), showlegend=False,
                             text=[SUPPRESSED_CELL if h else _num(v) for v, h in zip(values, hidden)],
                             textposition="outside", cliponaxis=False, hovertemplate=hover + "<extra></extra>"))
    if np.asarray(hidden).any():
        traces.append(go.Bar(x=[None], y=[None], name=suppressed_text(limit).capitalize(),
                             marker=dict(color=SUPPRESSED, pattern=dict(shape=SUPPRESSED_PATTERN))))
    return traces


def _mark_suppressed(fig: go.Figure, labels, hidden, orientation: str = "v") -> None:
    """Write "▨ suppressed" where a hidden value's bar would be (a bar with no value draws nothing)."""
    for name, is_hidden in zip(labels, hidden):
        if not is_hidden:
            continue
        if orientation == "v":
            fig.add_annotation(x=name, y=0, yanchor="bottom", text="▨", showarrow=False, font=dict(size=16, color=MUTED_INK),
                               hovertext="suppressed")
        else:
            fig.add_annotation(x=0, y=name, xanchor="left", text=SUPPRESSED_CELL, showarrow=False,
                               font=dict(size=13, color=MUTED_INK))


def quarter_figure(by_quarter: pd.DataFrame, region: str, limit: int, quarter: str | None = None) -> go.Figure:
    """Participations in each quarter (all programs); suppressed quarters are labelled."""
    if by_quarter.empty:
        return _empty_figure(f"No participation is reported for {region}.")
    labels = [quarter_text(q) for q in by_quarter["quarter"]]
    hidden = by_quarter["participations_suppressed"].astype(bool).to_numpy()
    colours = [REGION_COLOUR if q == quarter else PALE_ORANGE for q in by_quarter["quarter"]]
    fig = go.Figure(_bars_with_suppressed(labels, by_quarter["participations"].to_numpy(), hidden, colours, limit,
                                          hover="%{x}: %{y:,.0f} participations"))
    _mark_suppressed(fig, labels, hidden, "v")
    fig.update_layout(**base_layout(height=330, margin=dict(l=10, r=10, t=40, b=10),
                                    yaxis=dict(title="Participations", rangemode="tozero", gridcolor=GRID),
                                    xaxis=dict(type="category"), legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0)))
    return fig


def quarter_caption(by_quarter: pd.DataFrame, region: str, quarter: str | None) -> str:
    shown = by_quarter[~by_quarter["participations_suppressed"].astype(bool) & by_quarter["participations"].notna()]
    if shown.empty:
        return f"{region}'s participation by quarter is suppressed or not reported ({PARTICIPATION_NOTE})."
    last = shown.iloc[-1]
    first = shown.iloc[0]
    return (f"{region} counted {last['participations']:,.0f} participations in {quarter_text(last['quarter'])}, against "
            f"{first['participations']:,.0f} in {quarter_text(first['quarter'])} ({PARTICIPATION_NOTE}; the highlighted bar is "
            f"{quarter_text(quarter)}).")


def quarter_table(by_quarter: pd.DataFrame) -> pd.DataFrame:
    hidden = by_quarter["participations_suppressed"].astype(bool)
    return pd.DataFrame({
        "Quarter": [quarter_text(q) for q in by_quarter["quarter"]],
        "Participations": [SUPPRESSED_CELL if h else _num(v) for v, h in zip(by_quarter["participations"], hidden)],
        "Per 1,000 K-12 students": [SUPPRESSED_CELL if h else _num(v, 1) for v, h in zip(by_quarter["participations_per_1000"], hidden)],
        "Counts suppressed at source, not added": by_quarter["source_rows"],
    })


def group_figure(by_group: pd.DataFrame, labels: dict[str, str], region: str, limit: int) -> go.Figure:
    if by_group.empty:
        return _empty_figure(f"No participation by student group is reported for {region} in this quarter.")
    order = {g: i for i, g in enumerate(SHORT_GROUP_LABELS)}
    data = by_group.assign(_o=by_group["student_group"].map(lambda g: order.get(g, 99))).sort_values("_o")
    names = [SHORT_GROUP_LABELS.get(g, labels.get(g, g)) for g in data["student_group"]]
    hidden = data["participations_suppressed"].astype(bool).to_numpy()
    colours = [REGION_COLOUR if g == "all" else PALE_ORANGE for g in data["student_group"]]
    fig = go.Figure(_bars_with_suppressed(names, data["participations"].to_numpy(), hidden, colours, limit, orientation="h",
                                          hover="%{y}: %{x:,.0f} participations"))
    _mark_suppressed(fig, names, hidden, "h")
    fig.update_layout(**base_layout(height=max(300, 34 * len(data) + 100), margin=dict(l=10, r=120, t=40, b=10),
                                    xaxis=dict(title="Participations", rangemode="tozero", gridcolor=GRID),
                                    yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=names)))
    return fig


def group_caption(by_group: pd.DataFrame, labels: dict[str, str], region: str, quarter: str | None, limit: int) -> str:
    if by_group.empty:  # said as such, not as "(no data in all …); 0 groups are suppressed"
        return f"No participation by student group is reported for {region} in {quarter_text(quarter)}."
    hidden = int(by_group["participations_suppressed"].astype(bool).sum())
    everyone = by_group[by_group["student_group"] == "all"]
    total = ("suppressed" if len(everyone) and bool(everyone["participations_suppressed"].iloc[0])
             else _num(everyone["participations"].iloc[0]) if len(everyone) else NO_DATA)
    return (f"Participations in {region} in {quarter_text(quarter)} by student group ({total} in all; {PARTICIPATION_NOTE}); "
            f"{hidden} group{'s are' if hidden != 1 else ' is'} suppressed because the count is under {limit} or could be "
            f"worked out from the others.")


def group_table(by_group: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    hidden = by_group["participations_suppressed"].astype(bool)
    return pd.DataFrame({
        "Student group": [labels.get(g, g) for g in by_group["student_group"]],
        "Participations": [SUPPRESSED_CELL if h else _num(v) for v, h in zip(by_group["participations"], hidden)],
        "Counts suppressed at source, not added": by_group["source_rows"],
    })


def _rate_text(low, high) -> str:
    if low is None or pd.isna(low):
        return NO_DATA
    return rate_text(low, high, 0, exact_digits=1)


def outcomes_figure(outcomes: pd.DataFrame, region: str, limit: int) -> go.Figure:
    """Each indicator's all-students rate here (vermillion) and across the alliance (blue
    ring); range-coded rates are bars; suppressed rates are labelled."""
    if outcomes.empty:
        return _empty_figure(f"No outcome rates are reported for {region}.")
    one_year = outcomes["school_year"].nunique() == 1
    labels = [n + ("" if one_year else f" ({school_year_text(y)})") + ("" if h else " (lower is better)") for n, y, h in
              zip(outcomes["name"], outcomes["school_year"], outcomes["higher_is_better"])]
    fig = go.Figure()
    hidden = outcomes["suppressed"].astype(bool)
    exact = ~hidden & outcomes["rate_low"].notna() & ((outcomes["rate_high"] - outcomes["rate_low"]).abs() < 0.05)
    ranged = ~hidden & outcomes["rate_low"].notna() & ~exact
    a_hidden = outcomes["alliance_suppressed"].astype("boolean").fillna(True).astype(bool)
    a_ok = ~a_hidden & outcomes["alliance_low"].notna()
    lab = np.array(labels, dtype=object)
    if a_ok.any():
        fig.add_trace(go.Scatter(x=(outcomes.loc[a_ok, "alliance_low"] + outcomes.loc[a_ok, "alliance_high"]) / 2, y=lab[a_ok.to_numpy()],
                                 mode="markers", name="Alliance (pooled)",
                                 marker=dict(size=15, color="white", line=dict(color=ALLIANCE_COLOUR, width=3)),
                                 hovertemplate="Alliance: %{x:.1f}%<extra></extra>"))
    if ranged.any():
        fig.add_trace(go.Bar(base=outcomes.loc[ranged, "rate_low"], x=outcomes.loc[ranged, "rate_high"] - outcomes.loc[ranged, "rate_low"],
                             y=lab[ranged.to_numpy()], orientation="h", width=0.35, name=f"{region}, a range (≈)",
                             marker=dict(color=REGION_COLOUR, opacity=0.55),
                             hovertemplate="%{y}: a range (range-coded source data, or a band hiding a small number)<extra></extra>"))
    if exact.any():
        fig.add_trace(go.Scatter(x=outcomes.loc[exact, "rate_low"], y=lab[exact.to_numpy()], mode="markers", name=region,
                                 marker=dict(size=14, color=REGION_COLOUR), hovertemplate="%{y}: %{x:.1f}%<extra></extra>"))
    shown = pd.concat([outcomes["rate_low"], outcomes["rate_high"], outcomes["alliance_low"], outcomes["alliance_high"]]).dropna()
    low = 0.0 if shown.empty else max(0.0, 10 * np.floor(shown.min() / 10 - 0.5))
    high = 100.0 if shown.empty else min(100.0, 10 * np.ceil(shown.max() / 10 + 0.5))
    for i in np.flatnonzero(hidden.to_numpy()):
        fig.add_annotation(x=low, y=labels[i], xref="x", yref="y", text=SUPPRESSED_CELL, showarrow=False, xanchor="left",
                           font=dict(size=13, color=MUTED_INK), bgcolor="rgba(255,255,255,0.8)")
    if hidden.any():
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name=suppressed_text(limit).capitalize(),
                             marker=dict(color=SUPPRESSED, pattern=dict(shape=SUPPRESSED_PATTERN))))
    fig.add_trace(go.Scatter(x=[None] * len(labels), y=labels, mode="markers", showlegend=False, hoverinfo="skip", marker=dict(opacity=0)))
    fig.update_layout(**base_layout(
        height=max(320, 44 * len(labels) + 130), barmode="overlay", margin=dict(l=10, r=20, t=40, b=10),
        xaxis=dict(title="All students (%)", range=[low, high], ticksuffix="%", gridcolor=GRID),
        yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=labels),
    ))
    return fig


def outcomes_caption(outcomes: pd.DataFrame, region: str) -> str:
    ok = outcomes[~outcomes["suppressed"].astype(bool) & outcomes["rate_low"].notna() & outcomes["alliance_low"].notna()]
    if ok.empty:
        return f"No outcome rate for {region} can be shown against the alliance's (suppressed or not reported)."
    mid = (ok["rate_low"] + ok["rate_high"]) / 2 - (ok["alliance_low"] + ok["alliance_high"]) / 2
    worse = np.where(ok["higher_is_better"], mid < 0, mid > 0) & (
        (ok["rate_high"] < ok["alliance_low"]) | (ok["rate_low"] > ok["alliance_high"]))
    years = sorted(outcomes["school_year"].dropna().unique())
    when = school_year_text(years[-1]) if len(years) == 1 else "the latest school year of each"
    return (f"{region} is worse than the alliance on {int(worse.sum())} of the {len(ok)} outcomes it can be compared on "
            f"(all students, {when}; alliance rates pool every region's numerators and denominators).")


def outcomes_table(outcomes: pd.DataFrame, region: str) -> pd.DataFrame:
    return pd.DataFrame({
        "Outcome": outcomes["name"], "School year": [school_year_text(y) for y in outcomes["school_year"]],
        region: [SUPPRESSED_CELL if h else _rate_text(a, b) for a, b, h in
                 zip(outcomes["rate_low"], outcomes["rate_high"], outcomes["suppressed"].astype(bool))],
        "Students measured": [SUPPRESSED_CELL if h else _num(d) for d, h in zip(outcomes["denominator"], outcomes["suppressed"].astype(bool))],
        "Alliance": [SUPPRESSED_CELL if h else _rate_text(a, b) for a, b, h in
                     zip(outcomes["alliance_low"], outcomes["alliance_high"],
                         outcomes["alliance_suppressed"].astype("boolean").fillna(True).astype(bool))],
        "Higher is better": np.where(outcomes["higher_is_better"], "yes", "no"),
    })


def map_caption(frame: pd.DataFrame, metric: Metric, filters: str, quarter: str | None, limit: int) -> str:
    """One sentence for the map. Participations always count every program; the outline (no
    program site) follows the program filters, which the sentence names."""
    values = _metric_values(frame, metric)
    no_sites = int((frame["sites"] <= 0).sum())
    hidden = int(frame["participations_suppressed"].astype(bool).sum()) if metric.student_count else 0
    if values.notna().any():
        def where(value) -> str:  # the region with the value, or how many share it
            at = frame.loc[values.round(metric.digits) == round(value, metric.digits), "name"]
            return f"in {at.iloc[0]}" if len(at) == 1 else f"({len(at)} regions)"
        spread = (f"from {_num(values.min(), metric.digits)} {where(values.min())} to "
                  f"{_num(values.max(), metric.digits)} {where(values.max())}")
    else:
        spread = "with no value to show"
    counted = "all programs" if metric.student_count else filters
    site_kind = "program site" if filters == "all programs" else f"site of {filters}"
    darker = f" (darker: {metric.higher_is_more})" if metric.ranking else ""
    sentence = (f"{metric.label}{darker} for {counted} in {quarter_text(quarter)}, {spread}; "
                f"{no_sites} region{'s have' if no_sites != 1 else ' has'} no {site_kind} (vermillion outline)")
    if hidden:
        sentence += f" and {hidden} {'are' if hidden != 1 else 'is'} suppressed (grey)"
    unranked = int(values.isna().sum()) if metric.ranking else 0
    if unranked:
        sentence += f"; {unranked} {'are' if unranked != 1 else 'is'} not ranked, an input missing (white)"
    if metric.student_count:
        sentence += f" — {PARTICIPATION_NOTE}"
    return sentence + "."


def map_table(frame: pd.DataFrame, metric: Metric, limit: int) -> pd.DataFrame:
    """The map's numbers: every region with the coverage figures, the ranking's measures and its
    need measures."""
    hidden = frame["participations_suppressed"].astype(bool)
    data = {
        "Region": frame["name"], "Locale": frame["locale"].str.capitalize(),
        "K-12 students": frame["k12_enrollment"].astype("Int64"),
        "Program sites": frame["sites"], "Seats": frame["seats"], "Programs": frame["programs"], "Partners": frame["partners"],
        "Seats per 1,000": frame["seats_per_1000"].round(1),
        "Participations (all programs)": [NO_DATA if not frame.attrs.get("participations_available", True) else
                                          SUPPRESSED_CELL if h else _num(v) for v, h in zip(frame["participations"], hidden)],
        "Participations per 1,000": [NO_DATA if not frame.attrs.get("participations_available", True) else
                                     SUPPRESSED_CELL if h else _num(v, 1) for v, h in zip(frame["participations_per_1000"], hidden)],
        "Low-income %": frame["low_income_pct"].round(1),
        "Nearest site (km)": frame["nearest_site_km"].round(1),
        "Distance measured": [DISTANCE_BASIS_TEXT.get(b, "") for b in frame.get("distance_basis", pd.Series(MEASURED, index=frame.index))],
    }
    if "shortfall_score" in frame:
        data["Shortfall"] = frame["shortfall_score"].round(2)
        data["Need points (blank: not all known)"] = frame["need_points_known"]
        data["Rank"] = frame["rank"]
    return table_safe(pd.DataFrame(data).reset_index(drop=True))


# Every view of every session asks for the same few figures, captions and tables: build each once.
memo_builders(globals())
