"""The alliance at a glance (on /coverage): partners by sector, programs by type and grade band,
seats and participations by quarter, for the whole alliance or one area, with the change since
the quarter before. Pure functions: the frames of queries.coverage.alliance_glance (already
suppressed) in, a figure, a sentence or a table out. Participations are enrolments, not unique
students, and every caption and table that counts them says so."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.coverage_charts import (
    ALLIANCE_COLOUR, NO_DATA, PARTICIPATION_NOTE, SUPPRESSED_CELL, _empty_figure, _num, quarter_text, suppressed_text,
    table_safe,
)
from components.palette import BLACK, BLUE, CELLS_UNDER_TEXT, GREYISH_BLUE, GRID, LIGHT_BLUE, MUTED_INK, SUPPRESSED, SUPPRESSED_PATTERN, base_layout
from domain.vocabulary import GRADE_BANDS
from domain.vocabulary import label as vocab_label
from domain.memo import memo_builders

BEFORE_COLOUR = GREYISH_BLUE  # the quarter before: a pale version of the alliance blue
CURRENT_COLOUR, OTHER_QUARTER = BLUE, LIGHT_BLUE


def change_text(now, before) -> str:
    """`+2`, `−3` (a true minus) or `no change`; empty when there is no quarter before."""
    if before is None or (isinstance(before, float) and np.isnan(before)):
        return ""
    delta = int(now) - int(before)
    return "no change" if delta == 0 else f"+{delta:,}" if delta > 0 else f"−{-delta:,}"


def _band(band: str) -> str:
    return "All grades" if band == "all" else vocab_label(band)


def _programs(filters: str) -> str:
    """`programs`, or the filtered kind: `afterschool programs for middle grades`."""
    return "programs" if filters == "all programs" else filters


def _since(attrs: dict) -> str:
    return f"since {quarter_text(attrs.get('previous'))}" if attrs.get("previous") else ""


# --- partners by sector ---------------------------------------------------------------------

def sectors_figure(sectors: pd.DataFrame, area: str) -> go.Figure:
    """Partners by sector this quarter (blue) beside the quarter before (pale)."""
    if sectors.empty:
        return _empty_figure(f"No partner runs these programs in {area} this quarter.")
    attrs = sectors.attrs
    data = sectors.iloc[::-1]
    names = [vocab_label(s) for s in data["sector"]]
    fig = go.Figure()
    if attrs.get("previous"):
        fig.add_trace(go.Bar(x=data["partners_before"], y=names, orientation="h", name=quarter_text(attrs["previous"]),
                             marker=dict(color=BEFORE_COLOUR), hovertemplate="%{y}: %{x} partners<extra>%{fullData.name}</extra>"))
    fig.add_trace(go.Bar(
        x=data["partners"], y=names, orientation="h", name=quarter_text(attrs.get("quarter")),
        marker=dict(color=ALLIANCE_COLOUR), textposition="outside", cliponaxis=False,
        text=[f"{n}" + (f" ({change_text(n, b)})" if attrs.get("previous") and n != b else "")
              for n, b in zip(data["partners"], data["partners_before"])],
        hovertemplate="%{y}: %{x} partners<extra>%{fullData.name}</extra>"))
    fig.update_layout(**base_layout(
        height=max(240, 52 * len(data) + 110), barmode="group", margin=dict(l=10, r=70, t=50, b=10),
        xaxis=dict(title="Partners running a program here", gridcolor=GRID, rangemode="tozero"),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, traceorder="reversed")))
    return fig


def sectors_caption(sectors: pd.DataFrame, area: str, filters: str) -> str:
    attrs = sectors.attrs
    when = quarter_text(attrs.get("quarter"))
    if sectors.empty:
        return f"No partner runs {_programs(filters)} at a site in {area} in {when}."
    total, before = int(sectors["partners"].sum()), sectors["partners_before"].sum()
    top = sectors.iloc[0]
    share = (f"the largest group from {vocab_label(top['sector'])} ({int(top['partners'])})"
             if len(sectors) > 1 and top["partners"] > sectors["partners"].iloc[1] else
             f"from {len(sectors[sectors['partners'] > 0])} sectors")
    sentence = (f"In {when}, {total:,} partner{'s run' if total != 1 else ' runs'} {_programs(filters)} at sites in {area}, {share}")
    if attrs.get("previous"):
        sentence += f"; {change_text(total, before)} {_since(attrs)}"
        moved = sectors[sectors["partners"] != sectors["partners_before"]]
        if 0 < len(moved) <= 3:
            sentence += " (" + ", ".join(f"{vocab_label(r['sector'])} {change_text(r['partners'], r['partners_before'])}"
                                         for r in moved.to_dict("records")) + ")"
    return sentence + "."


def sectors_table(sectors: pd.DataFrame) -> pd.DataFrame:
    attrs = sectors.attrs
    now, before = quarter_text(attrs.get("quarter")), quarter_text(attrs.get("previous"))
    table = {"Sector": [vocab_label(s) for s in sectors["sector"]], f"Partners, {now}": sectors["partners"]}
    if attrs.get("previous"):
        table[f"Partners, {before}"] = sectors["partners_before"]
        table["Change"] = sectors["partners"] - sectors["partners_before"]
    return pd.DataFrame(table)


# --- programs by type and grade band ----------------------------------------------------------

def programs_figure(programs: pd.DataFrame, area: str) -> go.Figure:
    """Programs by type (rows) and grade band (columns): each cell gives programs, the change
    since the quarter before and seats."""
    shown = programs[programs["programs"] > 0]
    if shown.empty:
        return _empty_figure(f"No program runs in {area} this quarter.")
    attrs = programs.attrs
    types = sorted(shown["program_type"].unique(), key=vocab_label)
    bands = [b for b in GRADE_BANDS if b in set(shown["grade_band"])]
    cells = shown.set_index(["program_type", "grade_band"])
    z, text = [], []
    for t in types:
        z_row, text_row = [], []
        for b in bands:
            if (t, b) not in cells.index:
                z_row.append(None)
                text_row.append("")
                continue
            cell = cells.loc[(t, b)]
            change = change_text(cell["programs"], cell["programs_before"]) if attrs.get("previous") else ""
            z_row.append(int(cell["programs"]))
            text_row.append(f"<b>{int(cell['programs'])}</b>" + (f" ({change})" if change and change != "no change" else "")
                            + f"<br><span style='font-size:13px'>{int(cell['seats']):,} seats</span>")
        z.append(z_row)
        text.append(text_row)
    fig = go.Figure(go.Heatmap(
        z=z, x=[_band(b) for b in bands], y=[vocab_label(t) for t in types], text=text, texttemplate="%{text}",
        colorscale=CELLS_UNDER_TEXT, showscale=False, xgap=3, ygap=3, textfont=dict(size=15, color=BLACK),
        hovertemplate="%{y}, %{x}: %{z} programs<extra></extra>"))
    fig.update_layout(**base_layout(height=max(240, 56 * len(types) + 120), margin=dict(l=10, r=10, t=40, b=10),
                                    xaxis=dict(side="top"), yaxis=dict(autorange="reversed")))
    return fig


def programs_caption(programs: pd.DataFrame, area: str, filters: str) -> str:
    attrs = programs.attrs
    when = quarter_text(attrs.get("quarter"))
    shown = programs[programs["programs"] > 0]
    if shown.empty:
        return f"No {_programs(filters)} run at a site in {area} in {when}."
    total, seats = int(shown["programs"].sum()), int(shown["seats"].sum())
    by_type = shown.groupby("program_type")["programs"].sum().sort_values(ascending=False, kind="stable")
    lead = (f"most of them {vocab_label(by_type.index[0]).lower()} ({int(by_type.iloc[0])})"
            if len(by_type) > 1 and by_type.iloc[0] > by_type.iloc[1] else f"of {len(by_type)} types")
    which = "" if filters == "all programs" else f" ({filters})"
    sentence = (f"{total:,} program{'s' if total != 1 else ''}{which} run{'' if total != 1 else 's'} in {area} "
                f"in {when} with {seats:,} seats, {lead}")
    if attrs.get("previous"):
        programs_change = change_text(total, programs["programs_before"].sum())
        seats_change = change_text(seats, programs["seats_before"].sum())
        sentence += ("; no change " if programs_change == seats_change == "no change" else
                     f"; {programs_change} programs and {seats_change} seats ").replace("no change programs", "no change in programs") \
            .replace("no change seats", "no change in seats") + _since(attrs)
    return sentence + "; an empty cell is a grade band no program of that type serves."


def programs_table(programs: pd.DataFrame) -> pd.DataFrame:
    attrs = programs.attrs
    now, before = quarter_text(attrs.get("quarter")), quarter_text(attrs.get("previous"))
    table = {"Program type": [vocab_label(t) for t in programs["program_type"]],
             "Grade band": [_band(b) for b in programs["grade_band"]],
             f"Programs, {now}": programs["programs"]}
    if attrs.get("previous"):
        table[f"Programs, {before}"] = programs["programs_before"]
        table["Programs, change"] = programs["programs"] - programs["programs_before"]
    table[f"Sites, {now}"] = programs["sites"]
    table[f"Seats, {now}"] = programs["seats"]
    if attrs.get("previous"):
        table[f"Seats, {before}"] = programs["seats_before"]
        table["Seats, change"] = programs["seats"] - programs["seats_before"]
    return pd.DataFrame(table)


# --- seats and participations by quarter --------------------------------------------------------

def reach_figure(by_quarter: pd.DataFrame, area: str, limit: int) -> go.Figure:
    """Seats (for the program filters) and participations (all programs) in every quarter; the
    chosen quarter is dark, a suppressed count hatched grey and labelled."""
    if by_quarter.empty:
        return _empty_figure(f"No quarter of data for {area}.")
    attrs = by_quarter.attrs
    labels = [quarter_text(q) for q in by_quarter["quarter"]]
    colours = [CURRENT_COLOUR if q == attrs.get("quarter") else OTHER_QUARTER for q in by_quarter["quarter"]]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14,
                        subplot_titles=("Seats offered", "Participations, all programs (not unique students)"))
    fig.add_trace(go.Bar(x=labels, y=by_quarter["seats"], marker=dict(color=colours), showlegend=False,
                         text=[f"{v:,}" for v in by_quarter["seats"]], textposition="outside", cliponaxis=False,
                         hovertemplate="%{x}: %{y:,} seats<extra></extra>"), row=1, col=1)
    hidden = by_quarter["participations_suppressed"].astype(bool).to_numpy()
    values = by_quarter["participations"].where(~hidden)
    fig.add_trace(go.Bar(x=labels, y=values, marker=dict(color=colours), showlegend=False,
                         text=[SUPPRESSED_CELL if h else _num(v) for v, h in zip(by_quarter["participations"], hidden)],
                         textposition="outside", cliponaxis=False,
                         hovertemplate="%{x}: %{y:,.0f} participations<extra></extra>"), row=2, col=1)
    for label, is_hidden in zip(labels, hidden):
        if is_hidden:
            fig.add_annotation(x=label, y=0, yanchor="bottom", text="▨", showarrow=False, row=2, col=1,
                               font=dict(size=16, color=MUTED_INK))
    if hidden.any():
        fig.add_trace(go.Bar(x=[None], y=[None], name=suppressed_text(limit).capitalize(),
                             marker=dict(color=SUPPRESSED, pattern=dict(shape=SUPPRESSED_PATTERN))), row=2, col=1)
    fig.add_trace(go.Bar(x=[None], y=[None], name=f"{quarter_text(attrs.get('quarter'))} (chosen quarter)",
                         marker=dict(color=CURRENT_COLOUR)), row=1, col=1)
    fig.update_layout(**base_layout(height=560, margin=dict(l=10, r=10, t=60, b=10),
                                    legend=dict(orientation="h", yanchor="bottom", y=1.06, x=0)))
    fig.update_yaxes(rangemode="tozero", gridcolor=GRID)
    fig.update_xaxes(type="category")
    return fig


def reach_caption(by_quarter: pd.DataFrame, area: str, filters: str) -> str:
    attrs = by_quarter.attrs
    rows = by_quarter.set_index("quarter")
    quarter, previous = attrs.get("quarter"), attrs.get("previous")
    if quarter not in rows.index:
        return f"No quarter of data for {area}."
    now = rows.loc[quarter]
    before = rows.loc[previous] if previous in rows.index else None
    per = f" ({now['seats_per_1000']:,.1f} per 1,000 K-12 students)" if pd.notna(now["seats_per_1000"]) else ""
    sentence = f"{area} had {int(now['seats']):,} seats in {_programs(filters)} in {quarter_text(quarter)}{per}"
    if before is not None:
        sentence += f", {change_text(now['seats'], before['seats'])} {_since(attrs)}"
    if not attrs.get("participations_available", True):
        return sentence + "; no participation data is loaded."
    if bool(now["participations_suppressed"]):
        sentence += "; its participations that quarter are suppressed"
    else:
        sentence += f", and {now['participations']:,.0f} participations in all programs"
        if before is not None and not bool(before["participations_suppressed"]):
            sentence += f" ({change_text(now['participations'], before['participations'])})"
    return sentence + f" — {PARTICIPATION_NOTE}: one child in two programs counts twice."


def reach_table(by_quarter: pd.DataFrame) -> pd.DataFrame:
    hidden = by_quarter["participations_suppressed"].astype(bool)
    available = by_quarter.attrs.get("participations_available", True)
    return table_safe(pd.DataFrame({
        "Quarter": [quarter_text(q) for q in by_quarter["quarter"]],
        "Program sites": by_quarter["sites"], "Programs": by_quarter["programs"], "Partners": by_quarter["partners"],
        "Seats": by_quarter["seats"], "Seats per 1,000 K-12 students": by_quarter["seats_per_1000"].round(1),
        f"Participations, all programs ({PARTICIPATION_NOTE})": [
            NO_DATA if not available else SUPPRESSED_CELL if h else _num(v) for v, h in zip(by_quarter["participations"], hidden)],
        "Participations per 1,000": [NO_DATA if not available else SUPPRESSED_CELL if h else _num(v, 1)
                                     for v, h in zip(by_quarter["participations_per_1000"], hidden)],
    }))


# Every view of every session asks for the same few figures, captions and tables: build each once.
memo_builders(globals())
