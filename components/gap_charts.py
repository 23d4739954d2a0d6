"""Equity-gap figures, captions and tables: pure functions, DataFrame in, Plotly figure (or
sentence, or table) out. The frames come from queries/gaps.py, already suppressed.

Colour means the same thing on every chart: blue is better than the reference group, orange is
worse (read with `higher_is_better`), grey hatching is suppressed, blank is no data. Ranges
(from range-coded source rates) are drawn as ranges and marked "≈", never as a single value.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.palette import BLACK, BLUE, BLUISH_GREEN, DARK_GREY, DARK_INK, DIVERGING_UNDER_TEXT, GREY, GRID, INK, MISSING, MUTED_INK, REDDISH_PURPLE, STYLE_GREY, SUPPRESSED, SUPPRESSED_PATTERN, TARGET, VERMILLION, WHITE, base_layout
from domain import formatting
from domain.formatting import gap_label, rate_text as fmt_rate, signed
from domain.gaps import comparisons, side
from domain.periods import school_year_label as _year_label
from domain.vocabulary import BUILT_IN_GROUPS, SHORT_GROUP_LABELS
from domain.memo import memo_builders

BETTER, WORSE = BLUE, VERMILLION
# A gap whose range spans zero: neither better nor worse (dark grey, unlike the light hatched grey of suppressed).
NEITHER = DARK_GREY
SIDE_COLOURS = {"behind": WORSE, "ahead": BETTER, "level": NEITHER, "": NEITHER}
ON_COLOUR = {WORSE: INK, BETTER: WHITE, NEITHER: WHITE}  # text on each, at least 4.5:1
VERDICT_COLOURS = {"closing": BLUE, "widening": VERMILLION, "no clear change": BLACK, "not enough data": BLACK}
AREA_COLOURS = {"Rural regions": BLUISH_GREEN, "Non-rural regions": REDDISH_PURPLE}
FOCUS_COLOUR, REFERENCE_COLOUR = VERMILLION, BLUE
# Tighter still beside a rate: the gap chart's row labels hold two group names.
SHORT_LABELS = {**SHORT_GROUP_LABELS, "all": "All", "econ_disadvantaged": "Econ. disadv.",
                "not_econ_disadvantaged": "Not econ. disadv."}
NO_DATA_TEXT = "no data"
# A gap whose range is (nearly) the whole scale (domain.formatting.gap_says_nothing): hatched like
# the suppressed, since it is a band of small numbers that hides it.
NOT_COMPARABLE_TEXT = "▨ not comparable: ranges too wide"
STYLE = STYLE_GREY  # legend entries that explain a marker or line style, not a colour


def suppressed_text(limit: int) -> str:
    return formatting.suppressed_text(limit, students=True)


def school_year_label(year) -> str:
    return _year_label(year) if isinstance(year, str) else ""


def fmt_gap(row) -> str:
    """`−9.3 pts`, or a range `≈ −4 to +1 pts` for a gap built from range-coded rates."""
    return "" if pd.isna(row["gap"]) else gap_label(row["gap_low"], row["gap_high"])


def not_comparable(row) -> bool:
    """Whether a gap was left out for a range as wide as the scale (domain.gaps `not_comparable`)."""
    return bool(row.get("not_comparable", False))


def short(group_id: str, label: str) -> str:
    return SHORT_LABELS.get(group_id, label)


def _legend_only(fig: go.Figure, name: str, row: int | None = None, col: int | None = None, **style) -> None:
    """A legend entry for a style drawn without one of its own (a line, a hollow marker)."""
    trace = go.Scatter(x=[None], y=[None], name=name, hoverinfo="skip", **style)
    fig.add_trace(trace, row=row, col=col) if row else fig.add_trace(trace)


# --- 1. gaps for one indicator -----------------------------------------------------------

def _shown_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """Each comparison once (no reference rows, no mirrored pairs), best standing first from the
    top: sorted so the largest gap behind is at the top of a horizontal chart."""
    rows = comparisons(gaps).copy()
    rows["_order"] = rows["standing"].fillna(np.inf)
    rows["_rank"] = np.select([rows["suppressed"].astype(bool), rows["gap"].isna()], [2, 1], 0)
    return rows.sort_values(["_rank", "_order"], ascending=[False, False], kind="stable")


def _row_label(row) -> str:
    ref = row.get("reference_label") or ""
    return f"{row['group_label']}<br><span style='font-size:12px'>vs {ref}</span>"


def gap_figure(gaps: pd.DataFrame, indicator_name: str, higher_is_better: bool, year: str,
               targets: pd.DataFrame | None = None, limit: int = 10) -> go.Figure:
    """Each group's rate (left) and its gap to its named reference group (right), largest gap
    behind at the top; targets as black ticks; ranges as bars; suppressed groups labelled."""
    rows = _shown_gaps(gaps)
    labels = [_row_label(r) for r in rows.to_dict("records")]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04, column_widths=[0.5, 0.5],
                        subplot_titles=("Rate (%)", "Gap to the reference group (points)"))
    exact = rows["exact"].astype(bool) & rows["rate_low"].notna()
    ranged = ~rows["exact"].astype(bool) & rows["rate_low"].notna()
    label_of = dict(zip(rows.index, labels))
    # Rates: exact as dots, ranges as bars from low to high.
    fig.add_trace(go.Scatter(
        x=rows.loc[exact, "rate_low"], y=[label_of[i] for i in rows.index[exact]], mode="markers",
        marker=dict(size=13, color=FOCUS_COLOUR), name="Group's rate",
        customdata=np.stack([rows.loc[exact, "group_label"], rows.loc[exact, "denominator"].map(lambda v: f"{v:,.0f}")], axis=-1) if exact.any() else None,
        hovertemplate="%{customdata[0]}: %{x:.1f}%<br>%{customdata[1]} students<extra></extra>",
    ), row=1, col=1)
    if ranged.any():
        fig.add_trace(go.Bar(
            base=rows.loc[ranged, "rate_low"], x=rows.loc[ranged, "rate_high"] - rows.loc[ranged, "rate_low"],
            y=[label_of[i] for i in rows.index[ranged]], orientation="h", name="Group's rate, a range (≈)",
            marker=dict(color=FOCUS_COLOUR, opacity=0.55), width=0.35,
            customdata=np.stack([rows.loc[ranged, "group_label"], rows.loc[ranged, "rate_low"], rows.loc[ranged, "rate_high"]], axis=-1),
            hovertemplate="%{customdata[0]}: between %{customdata[1]:.1f}% and %{customdata[2]:.1f}% (a range: range-coded source data, or a band hiding a small number)<extra></extra>",
        ), row=1, col=1)
    has_ref = rows["reference_rate_low"].notna() & ~rows["reference_suppressed"].astype(bool) & ~rows["suppressed"].astype(bool)
    ref_exact = has_ref & ((rows["reference_rate_high"] - rows["reference_rate_low"]).abs() < 1e-9)
    ref_ranged = has_ref & ~ref_exact
    if ref_exact.any():
        fig.add_trace(go.Scatter(
            x=rows.loc[ref_exact, "reference_rate_low"], y=[label_of[i] for i in rows.index[ref_exact]], mode="markers",
            marker=dict(size=12, color="white", line=dict(color=REFERENCE_COLOUR, width=2.5), symbol="circle"),
            name="Reference group's rate", customdata=rows.loc[ref_exact, ["reference_label"]].to_numpy(),
            hovertemplate="Reference, %{customdata[0]}: %{x:.1f}%<extra></extra>",
        ), row=1, col=1)
    if ref_ranged.any():  # a range, drawn as one: an outlined bar, never a point at its midpoint
        sel = rows[ref_ranged]
        fig.add_trace(go.Bar(
            base=sel["reference_rate_low"], x=sel["reference_rate_high"] - sel["reference_rate_low"],
            y=[label_of[i] for i in sel.index], orientation="h", width=0.22, name="Reference group's rate, a range (≈)",
            marker=dict(color="rgba(255,255,255,0.6)", line=dict(color=REFERENCE_COLOUR, width=2.5)),
            customdata=np.stack([sel["reference_label"], [fmt_rate(a, b, 1) for a, b in
                                                          zip(sel["reference_rate_low"], sel["reference_rate_high"])]], axis=-1),
            hovertemplate="Reference, %{customdata[0]}: %{customdata[1]} (a range: range-coded source data, or a band hiding a small number)<extra></extra>",
        ), row=1, col=1)
    if targets is not None and not targets.empty:
        target_rows = rows.merge(targets[targets["school_year"] == year][["student_group", "target"]], on="student_group")
        if not target_rows.empty:
            fig.add_trace(go.Scatter(
                x=target_rows["target"], y=[_row_label(r) for r in target_rows.to_dict("records")], mode="markers",
                marker=dict(symbol="line-ns-open", size=22, color=TARGET, line=dict(width=3)), name="Target",
                customdata=target_rows[["group_label"]].to_numpy(),
                hovertemplate="Target for %{customdata[0]}: %{x:.0f}%<extra></extra>",
            ), row=1, col=1)
    # Gaps: exact as bars from zero with their 95% margin; ranges as floating bars.
    has_gap = rows["gap"].notna()
    exact_gap = has_gap & ~rows["approximate"].astype(bool)
    approx_gap = has_gap & rows["approximate"].astype(bool)
    colour_of = {i: SIDE_COLOURS[side(r)] for i, r in rows.iterrows()}
    if exact_gap.any():
        sel = rows[exact_gap]
        fig.add_trace(go.Bar(
            x=sel["gap"], y=[label_of[i] for i in sel.index], orientation="h", name="Gap (points)",
            marker=dict(color=[colour_of[i] for i in sel.index]), showlegend=False,
            error_x=dict(type="data", array=sel["margin"], color=MUTED_INK, thickness=1.2, width=4),
            customdata=np.stack([sel["group_label"], sel["reference_label"], sel["margin"]], axis=-1),
            hovertemplate="%{customdata[0]} vs %{customdata[1]}: %{x:+.1f} points (± %{customdata[2]:.1f})<extra></extra>",
        ), row=1, col=2)
    if approx_gap.any():
        sel = rows[approx_gap]
        fig.add_trace(go.Bar(
            base=sel["gap_low"], x=sel["gap_high"] - sel["gap_low"], y=[label_of[i] for i in sel.index],
            orientation="h", name="Gap, approximate (≈ range)",
            marker=dict(color=[colour_of[i] for i in sel.index], opacity=0.55, pattern=dict(shape=".")),
            customdata=np.stack([sel["group_label"], sel["reference_label"], sel["gap_low"], sel["gap_high"]], axis=-1),
            hovertemplate="%{customdata[0]} vs %{customdata[1]}: between %{customdata[2]:+.1f} and %{customdata[3]:+.1f} points (range-coded data)<extra></extra>",
        ), row=1, col=2)
    for index, row in rows[has_gap].iterrows():
        margin = 0 if pd.isna(row["margin"]) or row["approximate"] else row["margin"]
        # Beside the bar's outer end; a range across zero is labelled on its right, so that a
        # wide negative end does not push the label into the rates panel.
        right = row["gap"] >= 0 or row["gap_high"] > 0
        end = (row["gap_high"] + margin) if right else (row["gap_low"] - margin)
        fig.add_annotation(x=end, y=label_of[index], xref="x2", yref="y", text=fmt_gap(row), showarrow=False,
                           xanchor="left" if right else "right", xshift=4 if right else -4,
                           font=dict(size=14, color=INK))
    # Legend entries that explain colours and suppression (no data values).
    fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", marker=dict(color=BETTER),
                         name="Better than the reference"), row=1, col=2)
    fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", marker=dict(color=WORSE),
                         name="Worse than the reference"), row=1, col=2)
    if any(side(r) == "level" for _, r in rows[has_gap].iterrows()):
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", marker=dict(color=NEITHER, opacity=0.55),
                             name="Neither: the range spans zero"), row=1, col=2)
    if exact_gap.any():
        _legend_only(fig, "95% margin (group sizes)", 1, 2, mode="lines", line=dict(color=MUTED_INK, width=1.2))
    suppressed = rows[rows["suppressed"].astype(bool)]
    no_data = rows[~rows["suppressed"].astype(bool) & rows["gap"].isna()]
    fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name=suppressed_text(limit).capitalize(),
                         marker=dict(color=SUPPRESSED, pattern=dict(shape=SUPPRESSED_PATTERN))), row=1, col=2)
    for index, row in list(suppressed.iterrows()) + list(no_data.iterrows()):
        hidden = bool(row["suppressed"])
        text = ("▨ suppressed" if hidden else "reference suppressed" if row["reference_suppressed"]
                else NOT_COMPARABLE_TEXT if not_comparable(row) else NO_DATA_TEXT)
        fig.add_annotation(x=0, y=label_of[index], xref="x2", yref="y", text=text, showarrow=False, xanchor="left",
                           font=dict(color=MUTED_INK if hidden else GREY, size=13))
    # Make sure every category exists on the axis even with no data point.
    fig.add_trace(go.Scatter(x=[None] * len(rows), y=labels, mode="markers", showlegend=False, hoverinfo="skip",
                             marker=dict(opacity=0)), row=1, col=1)
    fig.add_vline(x=0, line=dict(color=DARK_INK, width=1), row=1, col=2)
    better = "higher is better" if higher_is_better else "lower is better"
    fig.update_layout(**base_layout(
        title=dict(text=f"{indicator_name}, {school_year_label(year)} ({better})", x=0, font=dict(size=18)),
        height=max(360, 58 * len(rows) + 170), barmode="overlay", bargap=0.35,
        legend=dict(orientation="h", yanchor="top", y=-0.06, x=0, font=dict(size=13)),
        margin=dict(l=10, r=60, t=80, b=10),
    ))
    # Categories even when nothing is drawn (every rate hidden): the notes sit on the rows.
    fig.update_yaxes(type="category", autorange="reversed", categoryorder="array", categoryarray=labels, row=1, col=1,
                     automargin=True)
    shown_rates = pd.concat([rows["rate_low"], rows["rate_high"], rows["reference_rate_low"], rows["reference_rate_high"],
                             *([targets["target"]] if targets is not None and not targets.empty else [])]).dropna()
    low, high = (0.0, 100.0) if shown_rates.empty else (max(0.0, 5 * math.floor(shown_rates.min() / 5 - 1)),
                                                        min(100.0, 5 * math.ceil(shown_rates.max() / 5 + 1)))
    fig.update_xaxes(range=[low, high], ticksuffix="%", gridcolor=GRID, row=1, col=1)
    span = rows[["gap_low", "gap_high"]].abs().max().max()
    span = 5.0 if pd.isna(span) else max(5.0, float(span) + (rows["margin"].max() if rows["margin"].notna().any() else 0))
    fig.update_xaxes(range=[-span * 1.6, span * 1.6], zeroline=False, gridcolor=GRID, row=1, col=2)
    return fig


def gap_table_view(gaps: pd.DataFrame, targets: pd.DataFrame | None, year: str) -> pd.DataFrame:
    """The numbers behind the gap chart, as shown."""
    rows = _shown_gaps(gaps)
    target_of = {}
    if targets is not None and not targets.empty:
        target_of = dict(targets[targets["school_year"] == year][["student_group", "target"]].itertuples(index=False))
    return pd.DataFrame({
        "Student group": rows["group_label"],
        "Reference group": rows["reference_label"],
        "Rate (%)": [_status_or(r, fmt_rate(r["rate_low"], r["rate_high"], 1).rstrip("%")) for r in rows.to_dict("records")],
        "Reference rate (%)": [fmt_rate(a, b, 1).rstrip("%") if not s else "suppressed"
                               for a, b, s in zip(rows["reference_rate_low"], rows["reference_rate_high"], rows["reference_suppressed"])],
        "Gap (points)": [_gap_cell(r) for r in rows.to_dict("records")],
        "95% margin (points)": rows["margin"].round(1),
        "Approximate (range-coded data)": rows["approximate"].map({True: "yes", False: ""}),
        "Students measured": [_status_or(r, f"{r['denominator']:,.0f}" if pd.notna(r["denominator"]) else "") for r in rows.to_dict("records")],
        "Target (%)": rows["student_group"].map(target_of),
    })


def _gap_cell(row) -> str:
    """A gap in a table, as the chart shows it: the gap, `suppressed`, or `not comparable`."""
    if row["suppressed"]:
        return "suppressed"
    return "not comparable (ranges too wide)" if not_comparable(row) else fmt_gap(row).replace(" pts", "")


def _status_or(row, text: str) -> str:
    if row["suppressed"]:
        return "suppressed"
    return text or NO_DATA_TEXT


# --- 2. over time ------------------------------------------------------------------------

def change_figure(summary: pd.DataFrame, indicator_name: str) -> go.Figure:
    """Per group (each comparison once), the first year's gap (hollow), the year before the
    latest (small diamond) and the latest (filled), joined by a line coloured by the verdict
    over the whole period: solid where the gap clearly moved, dotted where it did not. Gaps from
    range-coded data carry their range as a pale band."""
    rows = comparisons(summary)
    rows = rows[rows["latest_gap"].notna()].sort_values("latest_gap", ascending=True, kind="stable")
    label_of = {i: f"{r['group_label']}<br><span style='font-size:12px'>vs {r['reference_label']}</span>"
                for i, r in rows.iterrows()}
    labels = list(label_of.values())
    fig = go.Figure()
    ranged = rows[rows["approximate"].astype(bool)]
    if len(ranged):
        xs, ys = [], []
        for i, r in ranged.iterrows():
            for prefix in ("first_", "latest_"):
                if pd.notna(r[f"{prefix}gap_low"]):
                    xs += [r[f"{prefix}gap_low"], r[f"{prefix}gap_high"], None]
                    ys += [label_of[i], label_of[i], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="rgba(0,0,0,0.18)", width=12),
                                 name="Range of a gap from range-coded data (≈)", hoverinfo="skip"))
    for verdict, colour in VERDICT_COLOURS.items():
        sel = rows[rows["verdict"] == verdict]
        if sel.empty or verdict == "not enough data":
            continue
        ys = [label_of[i] for i in sel.index]
        xs_line, ys_line = [], []
        for (_, r), y in zip(sel.iterrows(), ys):
            xs_line += [r["first_gap"], r["latest_gap"], None]
            ys_line += [y, y, None]
        fig.add_trace(go.Scatter(x=xs_line, y=ys_line, mode="lines", line=dict(color=colour, width=3,
                                 dash="dot" if verdict == "no clear change" else "solid"),
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(
            x=sel["first_gap"], y=ys, mode="markers", marker=dict(size=11, color="white", line=dict(color=colour, width=2)),
            showlegend=False, customdata=np.stack([sel["group_label"], sel["first_year"].map(school_year_label),
                                                   [gap_label(a, b) for a, b in zip(sel["first_gap_low"], sel["first_gap_high"])]], axis=-1),
            hovertemplate="%{customdata[0]}, %{customdata[1]}: %{customdata[2]}<extra></extra>"))
        recent = sel[sel["years"] > 2]
        if len(recent):
            fig.add_trace(go.Scatter(
                x=recent["previous_gap"], y=[label_of[i] for i in recent.index], mode="markers", showlegend=False,
                marker=dict(size=9, symbol="diamond", color="white", line=dict(color=colour, width=1.5)),
                customdata=np.stack([recent["group_label"], recent["previous_year"].map(school_year_label),
                                     [gap_label(a, b) for a, b in zip(recent["previous_gap_low"], recent["previous_gap_high"])],
                                     recent["recent_verdict"]], axis=-1),
                hovertemplate="%{customdata[0]}, %{customdata[1]}: %{customdata[2]}<br>since then: %{customdata[3]}<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=sel["latest_gap"], y=ys, mode="markers", marker=dict(size=13, color=colour), name=verdict.capitalize(),
            customdata=np.stack([sel["group_label"], sel["latest_year"].map(school_year_label),
                                 [gap_label(a, b) for a, b in zip(sel["latest_gap_low"], sel["latest_gap_high"])],
                                 [f"{signed(a)} to {signed(b)}" for a, b in zip(sel["change_low"], sel["change_high"])]], axis=-1),
            hovertemplate="%{customdata[0]}, %{customdata[1]}: %{customdata[2]}<br>change with its 95% uncertainty: "
                          "%{customdata[3]} points<extra></extra>"))
    few = rows[rows["verdict"] == "not enough data"]
    if not few.empty:
        fig.add_trace(go.Scatter(x=few["latest_gap"], y=[label_of[i] for i in few.index], mode="markers",
                                 marker=dict(size=12, color=BLACK, symbol="x-thin", line=dict(width=2)),
                                 name="One year only", hovertemplate="%{x:+.1f} points<extra></extra>"))
    first_years = rows["first_year"].dropna()
    since = school_year_label(first_years.min()) if not first_years.empty else "the first year"
    if rows["first_gap"].notna().any():  # legend entries for the styles drawn above
        _legend_only(fig, f"Hollow: {since}", mode="markers", marker=dict(size=11, color="white", line=dict(color=STYLE, width=2)))
        if (rows["years"] > 2).any():
            _legend_only(fig, "The year before the latest", mode="markers",
                         marker=dict(size=9, symbol="diamond", color="white", line=dict(color=STYLE, width=1.5)))
        _legend_only(fig, "Filled: latest", mode="markers", marker=dict(size=13, color=STYLE))
        _legend_only(fig, "Solid line: clearly moved", mode="lines", line=dict(color=STYLE, width=3))
        _legend_only(fig, "Dotted line: no clear change", mode="lines", line=dict(color=STYLE, width=3, dash="dot"))
    fig.add_vline(x=0, line=dict(color=DARK_INK, width=1))
    # The bottom margin holds the axis title and up to five rows of legend, so automargin does not
    # grow it and shrink the plot under a legend placed in fractions of the plot's height.
    bottom = 220
    height = max(360, 46 * len(rows) + 210) + bottom - 10
    fig.update_layout(**base_layout(
        title=dict(text=f"{indicator_name}: gap in {since} (hollow) and latest (filled)", x=0, font=dict(size=18)),
        height=height, margin=dict(l=10, r=20, t=90, b=bottom),
        # Below the axis title, whatever the height: 110 px under the plot area.
        legend=dict(orientation="h", yanchor="top", y=-110 / (height - 90 - bottom), x=0, font=dict(size=13)),
    ))
    fig.update_yaxes(categoryorder="array", categoryarray=labels, automargin=True)
    fig.update_xaxes(title="Gap to the reference group (points)", zeroline=False, gridcolor=GRID)
    return fig


def _year_span(years: pd.Series) -> list[str]:
    """`2021-22` … `2023-24` with the years between them, from the years present."""
    starts = sorted({int(y[:4]) for y in years.dropna() if isinstance(y, str) and y[:4].isdigit()})
    if not starts:
        return []
    return [f"{y}-{(y + 1) % 100:02d}" for y in range(starts[0], starts[-1] + 1)]


def _range_bars(fig, x, low, high, name, colour, offset, row, col, hover, legend=True, pattern=""):
    """Years known only as a range, drawn as a floating bar from low to high: never a point."""
    fig.add_trace(go.Bar(x=x, base=low, y=high - low, name=name, width=0.26, offset=offset, showlegend=legend,
                         marker=dict(color=colour, opacity=0.5, line=dict(color=colour, width=2), pattern=dict(shape=pattern)),
                         customdata=np.stack([low, high], axis=-1), hovertemplate=hover), row=row, col=col)


def trend_figure(by_year: pd.DataFrame, group: str, targets: pd.DataFrame | None, higher_is_better: bool) -> go.Figure:
    """One group's rate and its reference group's rate by school year (left, with targets),
    and the gap with its 95% margin (right). Years with exact rates are points on the lines;
    years known only as a range (range-coded data) are floating bars, never points."""
    rows = by_year[by_year["student_group"] == group].sort_values("school_year")
    years = np.array([school_year_label(y) for y in rows["school_year"]], dtype=object)
    label = rows["group_label"].iloc[0] if not rows.empty else group
    ref_label = str(rows["reference_label"].dropna().iloc[-1]) if rows["reference_label"].notna().any() else "reference"
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08, subplot_titles=("Rate (%)", "Gap (points)"))
    for who, low, high, hidden, colour, dash, symbol, offset in (
            (label, "rate_low", "rate_high", "suppressed", FOCUS_COLOUR, "solid", "circle", -0.28),
            (ref_label, "reference_rate_low", "reference_rate_high", "reference_suppressed", REFERENCE_COLOUR, "dash",
             "circle-open", 0.02)):
        shown = rows[low].notna() & ~rows[hidden].astype(bool)
        exact = shown & ((rows[high] - rows[low]).abs() < 1e-9)
        fig.add_trace(go.Scatter(x=years, y=rows[low].where(exact), mode="lines+markers", name=who,
                                 line=dict(color=colour, width=3, dash=dash), marker=dict(size=9, symbol=symbol, line=dict(width=2)),
                                 hovertemplate="%{x}: %{y:.1f}%<extra>" + who + "</extra>"), row=1, col=1)
        ranged = shown & ~exact
        if ranged.any():
            _range_bars(fig, years[ranged.to_numpy()], rows.loc[ranged, low], rows.loc[ranged, high],
                        f"{who}, a range (≈)", colour, offset, 1, 1,
                        f"%{{x}}: between %{{customdata[0]:.1f}}% and %{{customdata[1]:.1f}}%<extra>{who}</extra>")
    if targets is not None and not targets.empty:
        own = targets[targets["student_group"] == group]
        if not own.empty:
            fig.add_trace(go.Scatter(x=[school_year_label(y) for y in own["school_year"]], y=own["target"], mode="markers",
                                     marker=dict(symbol="diamond-wide", size=14, color=TARGET), name=f"Target for {label}",
                                     hovertemplate="Target %{x}: %{y:.0f}%<extra></extra>"), row=1, col=1)
    has_gap = rows["gap"].notna()
    exact_gap = (has_gap & ~rows["approximate"].astype(bool)).to_numpy()
    approx_gap = (has_gap & rows["approximate"].astype(bool)).to_numpy()
    colours = np.array([SIDE_COLOURS[side(r)] for _, r in rows.iterrows()], dtype=object)
    if exact_gap.any():
        sel = rows[exact_gap]
        fig.add_trace(go.Bar(x=years[exact_gap], y=sel["gap"], marker=dict(color=list(colours[exact_gap])), name="Gap",
                             showlegend=False, error_y=dict(type="data", array=sel["margin"], color=MUTED_INK, thickness=1.2, width=5),
                             # At the bar's base, full size: outside, plotly shrank a label to the
                             # bar's width (about 7 px) and the error bar crossed it.
                             text=[fmt_gap(r).removesuffix(" pts") for r in sel.to_dict("records")], textposition="auto",
                             insidetextanchor="start", constraintext="none", textangle=0,
                             textfont=dict(size=13, color=INK), cliponaxis=False,
                             insidetextfont=dict(size=13, color=[ON_COLOUR[c] for c in colours[exact_gap]]),
                             hovertemplate="%{x}: %{y:+.1f} points<extra></extra>"), row=1, col=2)
        _legend_only(fig, "95% margin (group sizes)", 1, 2, mode="lines", line=dict(color=MUTED_INK, width=1.2))
    if approx_gap.any():
        sel = rows[approx_gap]
        fig.add_trace(go.Bar(x=years[approx_gap], base=sel["gap_low"], y=sel["gap_high"] - sel["gap_low"], width=0.5,
                             name="Gap, a range (≈)", marker=dict(color=list(colours[approx_gap]), opacity=0.55, pattern=dict(shape=".")),
                             text=[fmt_gap(r) for r in sel.to_dict("records")], textposition="outside", cliponaxis=False,
                             textfont=dict(size=13, color=INK), customdata=sel[["gap_low", "gap_high"]].to_numpy(),
                             hovertemplate="%{x}: between %{customdata[0]:+.1f} and %{customdata[1]:+.1f} points<extra></extra>"),
                      row=1, col=2)
    for side_name, colour, text in (("behind", WORSE, "Worse than the reference"), ("ahead", BETTER, "Better than the reference"),
                                    ("level", NEITHER, "Neither: the range spans zero")):
        if any(side(r) == side_name for _, r in rows.iterrows()):
            fig.add_trace(go.Bar(x=[None], y=[None], marker=dict(color=colour), name=text), row=1, col=2)
    for year, row in zip(years, rows.to_dict("records")):
        if row["suppressed"] or row["reference_suppressed"] or not_comparable(row):
            text = "▨ not comparable" if not_comparable(row) else "▨ suppressed"
            fig.add_annotation(x=year, y=0, xref="x2", yref="y2", text=text, showarrow=False, yanchor="bottom",
                               font=dict(color=MUTED_INK, size=12), textangle=-90)
    fig.add_hline(y=0, line=dict(color=DARK_INK, width=1), row=1, col=2)
    fig.update_layout(**base_layout(
        title=dict(text=f"{label} vs {ref_label}", x=0, font=dict(size=18)),
        height=460, margin=dict(l=10, r=10, t=90, b=10), bargap=0.4, barmode="overlay",
        legend=dict(orientation="h", yanchor="top", y=-0.14, x=0)))
    # Every school year from the first to the last, so a year with no data shows as a gap in time.
    fig.update_xaxes(type="category", tickangle=0, categoryorder="array",
                     categoryarray=[school_year_label(y) for y in _year_span(rows["school_year"])])
    fig.update_yaxes(ticksuffix="%", gridcolor=GRID, row=1, col=1, automargin=True)
    fig.update_yaxes(zeroline=False, gridcolor=GRID, row=1, col=2)
    return fig


def trend_table_view(by_year: pd.DataFrame, group: str, targets: pd.DataFrame | None) -> pd.DataFrame:
    rows = by_year[by_year["student_group"] == group].sort_values("school_year")
    target_of = {}
    if targets is not None and not targets.empty:
        target_of = dict(targets[targets["student_group"] == group][["school_year", "target"]].itertuples(index=False))
    return pd.DataFrame({
        "School year": rows["school_year"].map(school_year_label),
        "Student group": rows["group_label"],
        "Rate (%)": [_status_or(r, fmt_rate(r["rate_low"], r["rate_high"], 1).rstrip("%")) for r in rows.to_dict("records")],
        "Reference group": rows["reference_label"],
        "Reference rate (%)": [fmt_rate(a, b, 1).rstrip("%") if not s else "suppressed"
                               for a, b, s in zip(rows["reference_rate_low"], rows["reference_rate_high"], rows["reference_suppressed"])],
        "Gap (points)": [_gap_cell(r) for r in rows.to_dict("records")],
        "95% margin (points)": rows["margin"].round(1),
        "Target (%)": rows["school_year"].map(target_of),
    })


def change_table_view(summary: pd.DataFrame) -> pd.DataFrame:
    rows = comparisons(summary)
    gap = lambda prefix: [gap_label(a, b).replace(" pts", "") for a, b in  # noqa: E731
                          zip(rows[f"{prefix}gap_low"], rows[f"{prefix}gap_high"])]
    change = lambda prefix: [f"{signed(a)} to {signed(b)}" if pd.notna(a) else ""  # noqa: E731
                             for a, b in zip(rows[f"{prefix}change_low"], rows[f"{prefix}change_high"])]
    return pd.DataFrame({
        "Student group": rows["group_label"], "Reference group": rows["reference_label"],
        "First year": rows["first_year"].map(school_year_label), "Gap then (points)": gap("first_"),
        "Year before": rows["previous_year"].map(school_year_label), "Gap the year before (points)": gap("previous_"),
        "Latest year": rows["latest_year"].map(school_year_label), "Gap now (points)": gap("latest_"),
        "Change over the period, 95% range (points)": change(""), "Verdict over the period": rows["verdict"],
        "Change since the year before, 95% range (points)": change("recent_"),
        "Verdict since the year before": rows["recent_verdict"],
        "Approximate": rows["approximate"].map({True: "yes", False: ""}),
    })


# --- 3. everything on one screen ---------------------------------------------------------

def heatmap_figure(heat: pd.DataFrame, year: str, limit: int = 10) -> go.Figure:
    """Indicators (rows) x groups (columns): colour = standing against the reference (blue
    better, orange worse, white parity), text = the gap in points; suppressed cells grey and
    labelled, missing cells blank."""
    cells = comparisons(heat)
    group_order = [g for g in dict.fromkeys(heat.sort_values("student_group")["student_group"]) if g in set(cells["student_group"])]
    built_in = [g.group_id for g in BUILT_IN_GROUPS]
    group_order = sorted(group_order, key=lambda g: built_in.index(g) if g in built_in else len(built_in))
    indicators = list(dict.fromkeys(heat.sort_values(["stage", "indicator_name"])["indicator_name"])) if "stage" in heat else list(dict.fromkeys(heat["indicator_name"]))
    labels = {g: short(g, l) for g, l in zip(heat["student_group"], heat["group_label"])}
    x = [labels[g] for g in group_order]
    z = np.full((len(indicators), len(group_order)), np.nan)
    text = np.full(z.shape, "", dtype=object)
    hover = np.full(z.shape, "", dtype=object)
    hidden = np.full(z.shape, np.nan)
    row_of = {name: i for i, name in enumerate(indicators)}
    col_of = {g: j for j, g in enumerate(group_order)}
    for r in cells.to_dict("records"):
        i, j = row_of[r["indicator_name"]], col_of[r["student_group"]]
        if r["suppressed"] or r["reference_suppressed"] or not_comparable(r):
            hidden[i, j] = 1
            text[i, j] = ""  # the suppressed layer on top writes its S
            why = "not comparable (its range and its reference's are too wide)" if not_comparable(r) else suppressed_text(limit)
            hover[i, j] = f"{r['group_label']}, {r['indicator_name']}: {why}"
        elif pd.notna(r["gap"]):
            where = side(r)
            z[i, j] = 0.0 if where == "level" else r["standing"]  # a range across zero: parity's colour
            text[i, j] = fmt_gap(r).replace(" pts", "").replace("≈ ", "≈").replace(" to ", "…")
            hover[i, j] = (f"{r['group_label']} vs {r['reference_label']}<br>{r['indicator_name']}: {fmt_gap(r)} "
                           + {"behind": "(worse than the reference)", "ahead": "(better than the reference)",
                              "level": "(neither: the range spans zero)" if r["approximate"] else "(level)"}[where])
        else:
            hover[i, j] = f"{r['group_label']}, {r['indicator_name']}: no data"
    bound = np.nanmax(np.abs(z)) if np.isfinite(z).any() else 10
    bound = max(5.0, float(np.ceil(bound)))
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        z=z, x=x, y=indicators, text=text, texttemplate="%{text}", textfont=dict(size=13, color=BLACK), customdata=hover,
        hovertemplate="%{customdata}<extra></extra>", colorscale=DIVERGING_UNDER_TEXT, zmid=0, zmin=-bound, zmax=bound, xgap=2, ygap=2,
        colorbar=dict(title=dict(text="worse ← → better<br>(points)", side="right"), thickness=14),
        name="Gap",
    ))
    fig.add_trace(go.Heatmap(
        z=hidden, x=x, y=indicators, text=np.where(np.isnan(hidden), "", "S"), texttemplate="%{text}",
        textfont=dict(size=13, color=INK), customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        colorscale=[[0, SUPPRESSED], [1, SUPPRESSED]], showscale=False, xgap=2, ygap=2, name="Suppressed",
    ))
    fig.update_layout(**base_layout(
        title=dict(text=f"Gaps to the reference group, every indicator, {school_year_label(year)}", x=0, font=dict(size=18),
                   yref="container", y=0.99, yanchor="top"),
        height=max(380, 44 * len(indicators) + 260), margin=dict(l=10, r=10, t=170, b=10),
        plot_bgcolor=MISSING,
    ))
    fig.update_xaxes(side="top", tickangle=-35)
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def heatmap_table_view(heat: pd.DataFrame) -> pd.DataFrame:
    cells = comparisons(heat)
    return pd.DataFrame({
        "Indicator": cells["indicator_name"], "Student group": cells["group_label"],
        "Reference group": cells["reference_label"],
        "Rate (%)": [_status_or(r, fmt_rate(r["rate_low"], r["rate_high"], 1).rstrip("%")) for r in cells.to_dict("records")],
        "Gap (points)": [_gap_cell(r) for r in cells.to_dict("records")],
        "Standing": [side(r) if not r["suppressed"] else "" for r in cells.to_dict("records")],
        "Approximate (range-coded data)": cells["approximate"].map({True: "yes", False: ""}),
    })


# --- 4. rural vs non-rural ---------------------------------------------------------------

def locale_figure(locale: pd.DataFrame, indicator_name: str, year: str, limit: int = 10) -> go.Figure:
    """Each group's gap in rural regions and in non-rural regions, side by side: exact gaps as
    markers, gaps from range-coded data as their range (a thick bar, no point at its middle)."""
    rows = comparisons(locale).copy()
    order = (rows[rows["area"] == "Non-rural regions"].set_index("student_group")["standing"]
             .reindex(rows["student_group"].unique()).fillna(np.inf).sort_values(ascending=False).index.tolist())
    labels = {}
    for r in rows.to_dict("records"):
        labels[r["student_group"]] = f"{r['group_label']}<br><span style='font-size:12px'>vs {r['reference_label']}</span>"
    fig = go.Figure()
    for area, colour in AREA_COLOURS.items():
        sel = rows[rows["area"] == area].set_index("student_group").reindex(order)
        has = sel["gap"].notna()
        approx = has & sel["approximate"].fillna(False).astype(bool)
        exact = has & ~approx
        symbol = "circle" if area.startswith("Rural") else "square"
        fig.add_trace(go.Scatter(
            x=sel.loc[exact, "gap"], y=[labels[g] for g in sel.index[exact]], mode="markers", name=area,
            marker=dict(size=14, color=colour, symbol=symbol, line=dict(width=2, color=colour)),
            error_x=dict(type="data", array=sel.loc[exact, "margin"], color=colour, thickness=1.5, width=5),
            customdata=np.stack([[fmt_gap(r) for r in sel[exact].reset_index().to_dict("records")],
                                 [fmt_rate(a, b, 1) for a, b in zip(sel.loc[exact, "rate_low"], sel.loc[exact, "rate_high"])]],
                                axis=-1) if exact.any() else None,
            hovertemplate=area + ": %{customdata[0]} (rate %{customdata[1]})<extra></extra>",
        ))
        if approx.any():
            xs, ys, hover = [], [], []
            for g, r in sel[approx].iterrows():
                xs += [r["gap_low"], r["gap_high"], None]
                ys += [labels[g]] * 2 + [None]
                hover += [f"{area}: {fmt_gap(r)} (rate {fmt_rate(r['rate_low'], r['rate_high'], 1)})"] * 2 + [""]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"{area}, a range (≈)", text=hover,
                                     line=dict(color=colour, width=9), opacity=0.6, hovertemplate="%{text}<extra></extra>"))
    if rows["margin"].notna().any():
        _legend_only(fig, "95% margin (group sizes)", mode="lines", line=dict(color=MUTED_INK, width=1.5))
    # Where each group's drawn gap reaches (its range, or its point and margin), to keep a note
    # on that row clear of it.
    drawn = {}
    for r in rows[rows["gap"].notna()].to_dict("records"):
        if pd.notna(r.get("approximate")) and bool(r["approximate"]):  # NaN would read as true
            low, high = r["gap_low"], r["gap_high"]
        else:
            margin = 0.0 if pd.isna(r["margin"]) else float(r["margin"])
            low, high = r["gap"] - margin, r["gap"] + margin
        seen = drawn.get(r["student_group"], (np.inf, -np.inf))
        drawn[r["student_group"]] = (min(seen[0], low), max(seen[1], high))
    for area in AREA_COLOURS:
        for r in rows[(rows["area"] == area) & rows["gap"].isna()].to_dict("records"):
            what = ("suppressed" if r["suppressed"] else "reference suppressed" if r["reference_suppressed"]
                    else "not comparable" if not_comparable(r) else None)
            if what is None:  # no data: left blank, as everywhere
                continue
            g = r["student_group"]
            # Rural notes to the right of zero and non-rural ones to the left, unless the other
            # area's gap is drawn there: then on the side it leaves free, or beyond its end.
            x, anchor = 0.0, "left" if area.startswith("Rural") else "right"
            if g in drawn:
                low, high = drawn[g]
                if high <= 0:
                    anchor = "left"
                elif low >= 0:
                    anchor = "right"
                else:
                    x, anchor = float(high), "left"
            fig.add_annotation(x=x, y=labels[g], text=f"▨ {area.split()[0].lower()}: {what}", showarrow=False,
                               xanchor=anchor, xshift=6 if anchor == "left" else -6, font=dict(color=MUTED_INK, size=12))
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=suppressed_text(limit).capitalize(),
                             marker=dict(size=14, color=SUPPRESSED, symbol="square")))
    fig.add_trace(go.Scatter(x=[None] * len(order), y=[labels[g] for g in order], mode="markers", showlegend=False,
                             hoverinfo="skip", marker=dict(opacity=0)))
    fig.add_vline(x=0, line=dict(color=DARK_INK, width=1))
    fig.update_layout(**base_layout(
        title=dict(text=f"{indicator_name}, {school_year_label(year)}: rural vs non-rural regions", x=0, font=dict(size=18)),
        height=max(340, 50 * len(order) + 190), margin=dict(l=10, r=20, t=60, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.08, x=0),
    ))
    # Categories even when no gap is drawn (every group hidden): else the axis is numeric and the
    # notes placed on a group's row have no position (NaN in the browser).
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=[labels[g] for g in order], autorange="reversed",
                     automargin=True)
    fig.update_xaxes(title="Gap to the reference group (points)", zeroline=False, gridcolor=GRID)
    return fig


def locale_table_view(locale: pd.DataFrame) -> pd.DataFrame:
    rows = comparisons(locale)
    return pd.DataFrame({
        "Area": rows["area"], "Student group": rows["group_label"], "Reference group": rows["reference_label"],
        "Rate (%)": [_status_or(r, fmt_rate(r["rate_low"], r["rate_high"], 1).rstrip("%")) for r in rows.to_dict("records")],
        "Gap (points)": [_gap_cell(r) for r in rows.to_dict("records")],
        "95% margin (points)": rows["margin"].round(1),
        "Students measured": [_status_or(r, f"{r['denominator']:,.0f}" if pd.notna(r["denominator"]) else "") for r in rows.to_dict("records")],
    })


# Every view of every session asks for the same few figures, captions and tables: build each once.
memo_builders(globals())
