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

from components.formatting import rate_text as fmt_rate
from components.palette import DIVERGING, MISSING, SUPPRESSED, SUPPRESSED_PATTERN, TARGET, base_layout
from domain.vocabulary import SHORT_GROUP_LABELS

BETTER, WORSE = "#0072B2", "#D55E00"
VERDICT_COLOURS = {"closing": "#0072B2", "widening": "#D55E00", "no clear change": "#000000", "not enough data": "#000000"}
AREA_COLOURS = {"Rural regions": "#009E73", "Non-rural regions": "#CC79A7"}
FOCUS_COLOUR, REFERENCE_COLOUR = "#D55E00", "#0072B2"
# Tighter still beside a rate: the gap chart's row labels hold two group names.
SHORT_LABELS = {**SHORT_GROUP_LABELS, "all": "All", "econ_disadvantaged": "Econ. disadv.",
                "not_econ_disadvantaged": "Not econ. disadv."}
NO_DATA_TEXT = "no data"


def suppressed_text(limit: int) -> str:
    return f"suppressed (fewer than {limit} students)"


# --- words -------------------------------------------------------------------------------

def school_year_label(year) -> str:
    return str(year).replace("-", "–") if isinstance(year, str) else ""


def who(label: str) -> str:
    """A group label as the subject of a sentence: `Asian` -> `Asian students`."""
    special = {"Two or more races": "students of two or more races", "All students": "all students",
               "Female": "female students", "Male": "male students"}
    if label in special:
        return special[label]
    lowered = label[0].lower() + label[1:] if label[:1].isupper() and not label[:2].isupper() else label
    if label.lower().endswith(("students", "learners", "disabilities")):
        return lowered
    if label in ("Asian", "Black or African American", "Hispanic or Latino", "White",
                 "American Indian or Alaska Native", "Native Hawaiian or Other Pacific Islander"):
        return f"{label} students"
    return f"{lowered} students"


def fmt_points(value, digits: int = 1, signed: bool = True) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if round(abs(value), digits) == 0:
        return "0" if digits == 0 else f"{0:.{digits}f}"
    text = f"{value:+.{digits}f}" if signed else f"{abs(value):.{digits}f}"
    return text.replace("-", "−")


def fmt_gap(row) -> str:
    """`−9.3 pts`, or a range `≈ −4 to +1 pts` for a gap built from range-coded rates."""
    if pd.isna(row["gap"]):
        return ""
    if row["approximate"]:
        return f"≈ {fmt_points(row['gap_low'], 0)} to {fmt_points(row['gap_high'], 0)} pts"
    return f"{fmt_points(row['gap'])} pts"


def _direction(gap: float, higher_is_better: bool) -> str:
    return "above" if gap > 0 else "below"


def short(group_id: str, label: str) -> str:
    return SHORT_LABELS.get(group_id, label)


# --- 1. gaps for one indicator -----------------------------------------------------------

def _shown_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """Groups that have a reference other than themselves, best standing first from the top:
    sorted so the largest gap behind is at the top of a horizontal chart."""
    rows = gaps[~gaps["is_reference"].astype(bool)].copy()
    rows["_order"] = rows["standing"].fillna(np.inf)
    rows["_rank"] = np.select([rows["suppressed"], rows["gap"].isna()], [2, 1], 0)
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
            hovertemplate="%{customdata[0]}: between %{customdata[1]:.1f}% and %{customdata[2]:.1f}% (range-coded source data)<extra></extra>",
        ), row=1, col=1)
    has_ref = rows["reference_rate_low"].notna() & ~rows["reference_suppressed"].astype(bool) & ~rows["suppressed"].astype(bool)
    if has_ref.any():
        ref_mid = (rows.loc[has_ref, "reference_rate_low"] + rows.loc[has_ref, "reference_rate_high"]) / 2
        fig.add_trace(go.Scatter(
            x=ref_mid, y=[label_of[i] for i in rows.index[has_ref]], mode="markers",
            marker=dict(size=12, color="white", line=dict(color=REFERENCE_COLOUR, width=2.5), symbol="circle"),
            name="Reference group's rate",
            customdata=np.stack([rows.loc[has_ref, "reference_label"],
                                 [fmt_rate(a, b, 1) for a, b in zip(rows.loc[has_ref, "reference_rate_low"], rows.loc[has_ref, "reference_rate_high"])]], axis=-1),
            hovertemplate="Reference, %{customdata[0]}: %{customdata[1]}<extra></extra>",
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
    colours = np.where(rows["behind"], WORSE, BETTER)
    colour_of = dict(zip(rows.index, colours))
    if exact_gap.any():
        sel = rows[exact_gap]
        fig.add_trace(go.Bar(
            x=sel["gap"], y=[label_of[i] for i in sel.index], orientation="h", name="Gap (points)",
            marker=dict(color=[colour_of[i] for i in sel.index]), showlegend=False,
            error_x=dict(type="data", array=sel["margin"], color="#555555", thickness=1.2, width=4),
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
                           font=dict(size=14, color="#1A1A1A"))
    # Legend entries that explain colours and suppression (no data values).
    fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", marker=dict(color=BETTER),
                         name="Better than the reference"), row=1, col=2)
    fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", marker=dict(color=WORSE),
                         name="Worse than the reference"), row=1, col=2)
    suppressed = rows[rows["suppressed"]]
    no_data = rows[~rows["suppressed"] & rows["gap"].isna()]
    fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name=suppressed_text(limit).capitalize(),
                         marker=dict(color=SUPPRESSED, pattern=dict(shape=SUPPRESSED_PATTERN))), row=1, col=2)
    for index, row in list(suppressed.iterrows()) + list(no_data.iterrows()):
        hidden = bool(row["suppressed"])
        text = "▨ suppressed" if hidden else ("reference suppressed" if row["reference_suppressed"] else NO_DATA_TEXT)
        fig.add_annotation(x=0, y=label_of[index], xref="x2", yref="y", text=text, showarrow=False, xanchor="left",
                           font=dict(color="#555555" if hidden else "#777777", size=13))
        # Make sure the category exists on the axis even with no data point.
    fig.add_trace(go.Scatter(x=[None] * len(rows), y=labels, mode="markers", showlegend=False, hoverinfo="skip",
                             marker=dict(opacity=0)), row=1, col=1)
    fig.add_vline(x=0, line=dict(color="#333333", width=1), row=1, col=2)
    better = "higher is better" if higher_is_better else "lower is better"
    fig.update_layout(**base_layout(
        title=dict(text=f"{indicator_name}, {school_year_label(year)} ({better})", x=0, font=dict(size=18)),
        height=max(360, 58 * len(rows) + 170), barmode="overlay", bargap=0.35,
        legend=dict(orientation="h", yanchor="top", y=-0.06, x=0, font=dict(size=13)),
        margin=dict(l=10, r=60, t=80, b=10),
    ))
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels, row=1, col=1)
    shown_rates = pd.concat([rows["rate_low"], rows["rate_high"], rows["reference_rate_low"], rows["reference_rate_high"],
                             *([targets["target"]] if targets is not None and not targets.empty else [])]).dropna()
    low, high = (0.0, 100.0) if shown_rates.empty else (max(0.0, 5 * math.floor(shown_rates.min() / 5 - 1)),
                                                        min(100.0, 5 * math.ceil(shown_rates.max() / 5 + 1)))
    fig.update_xaxes(range=[low, high], ticksuffix="%", gridcolor="#E5E5E5", row=1, col=1)
    span = rows[["gap_low", "gap_high"]].abs().max().max()
    span = 5.0 if pd.isna(span) else max(5.0, float(span) + (rows["margin"].max() if rows["margin"].notna().any() else 0))
    fig.update_xaxes(range=[-span * 1.6, span * 1.6], zeroline=False, gridcolor="#E5E5E5", row=1, col=2)
    return fig


def gap_caption(gaps: pd.DataFrame, indicator_name: str, higher_is_better: bool, year: str, reference: str) -> str:
    rows = _shown_gaps(gaps)
    with_gap = rows[rows["gap"].notna()]
    name = indicator_name[0].lower() + indicator_name[1:]
    if with_gap.empty:
        return f"No group has a gap that can be shown for {name} in {school_year_label(year)}: too few students, or no data."
    worst = with_gap.sort_values("standing").iloc[0]
    behind = int(with_gap["behind"].sum())
    if worst["approximate"]:
        size = f"between {fmt_points(abs(worst['gap_high']), 0, False)} and {fmt_points(abs(worst['gap_low']), 0, False)} points"
    else:
        size = f"{fmt_points(worst['gap'], 1, False)} points"
    word = _direction(worst["gap"], higher_is_better)
    first = (f"In {school_year_label(year)}, the largest gap in {name} is for {who(worst['group_label'])}: "
             f"{fmt_rate(worst['rate_low'], worst['rate_high'])}, {size} {word} {who(worst['reference_label'])} "
             f"({fmt_rate(worst['reference_rate_low'], worst['reference_rate_high'])})")
    if not worst["behind"]:
        first = (f"In {school_year_label(year)}, no group is behind its reference group in {name}")
    hidden = int(rows["suppressed"].sum())
    tail = f"; {behind} of {len(with_gap)} groups are behind their reference group"
    if hidden:
        tail += f"; {hidden} {'group is' if hidden == 1 else 'groups are'} suppressed to protect small numbers"
    return first + tail + "."


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
        "Gap (points)": [fmt_gap(r).replace(" pts", "") if not r["suppressed"] else "suppressed" for r in rows.to_dict("records")],
        "95% margin (points)": rows["margin"].round(1),
        "Approximate (range-coded data)": rows["approximate"].map({True: "yes", False: ""}),
        "Students measured": [_status_or(r, f"{r['denominator']:,.0f}" if pd.notna(r["denominator"]) else "") for r in rows.to_dict("records")],
        "Target (%)": rows["student_group"].map(target_of),
    })


def _status_or(row, text: str) -> str:
    if row["suppressed"]:
        return "suppressed"
    return text or NO_DATA_TEXT


# --- 2. over time ------------------------------------------------------------------------

def change_figure(summary: pd.DataFrame, indicator_name: str) -> go.Figure:
    """Per group, the first year's gap (hollow) and the latest (filled), joined, coloured by
    the verdict: closing, widening, or no clear change."""
    rows = summary[~summary["is_reference"] & summary["latest_gap"].notna()].copy()
    rows = rows.sort_values("latest_gap", ascending=True, kind="stable")
    labels = [f"{r['group_label']}<br><span style='font-size:12px'>vs {r['reference_label']}</span>" for r in rows.to_dict("records")]
    fig = go.Figure()
    for verdict, colour in VERDICT_COLOURS.items():
        sel = rows[rows["verdict"] == verdict]
        if sel.empty or verdict == "not enough data":
            continue
        ys = [labels[list(rows.index).index(i)] for i in sel.index]
        xs_line, ys_line = [], []
        for (_, r), y in zip(sel.iterrows(), ys):
            xs_line += [r["first_gap"], r["latest_gap"], None]
            ys_line += [y, y, None]
        fig.add_trace(go.Scatter(x=xs_line, y=ys_line, mode="lines", line=dict(color=colour, width=3,
                                 dash="dot" if verdict == "no clear change" else "solid"),
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(
            x=sel["first_gap"], y=ys, mode="markers", marker=dict(size=11, color="white", line=dict(color=colour, width=2)),
            showlegend=False, customdata=np.stack([sel["group_label"], sel["first_year"].map(school_year_label)], axis=-1),
            hovertemplate="%{customdata[0]}, %{customdata[1]}: %{x:+.1f} points<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=sel["latest_gap"], y=ys, mode="markers", marker=dict(size=13, color=colour), name=verdict.capitalize(),
            customdata=np.stack([sel["group_label"], sel["latest_year"].map(school_year_label), sel["change_low"], sel["change_high"]], axis=-1),
            hovertemplate="%{customdata[0]}, %{customdata[1]}: %{x:+.1f} points<br>change with its 95% uncertainty: "
                          "%{customdata[2]:+.1f} to %{customdata[3]:+.1f}<extra></extra>"))
    few = rows[rows["verdict"] == "not enough data"]
    if not few.empty:
        fig.add_trace(go.Scatter(x=few["latest_gap"], y=[labels[list(rows.index).index(i)] for i in few.index], mode="markers",
                                 marker=dict(size=12, color="#000000", symbol="x-thin", line=dict(width=2)),
                                 name="One year only", hovertemplate="%{x:+.1f} points<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#333333", width=1))
    first_years = summary["first_year"].dropna()
    since = school_year_label(first_years.min()) if not first_years.empty else ""
    fig.update_layout(**base_layout(
        title=dict(text=f"{indicator_name}: gap in {since} (hollow) and latest (filled)", x=0, font=dict(size=18)),
        height=max(320, 46 * len(rows) + 150), margin=dict(l=10, r=20, t=90, b=10),
    ))
    fig.update_yaxes(categoryorder="array", categoryarray=labels)
    fig.update_xaxes(title="Gap to the reference group (points)", zeroline=False, gridcolor="#E5E5E5")
    return fig


def change_caption(summary: pd.DataFrame) -> str:
    rows = summary[~summary["is_reference"] & summary["first_gap"].notna()]
    if rows.empty:
        return "There are not enough school years with shown values to tell whether any gap is closing."
    counts = rows["verdict"].value_counts()
    closing, widening = int(counts.get("closing", 0)), int(counts.get("widening", 0))
    still = int(counts.get("no clear change", 0))
    first, latest = rows["first_year"].min(), rows["latest_year"].max()
    parts = []
    moved = rows[rows["verdict"].isin(["closing", "widening"])].copy()
    if not moved.empty:
        moved["size"] = moved["change"].abs()
        top = moved.sort_values("size", ascending=False).iloc[0]
        verb = "narrowed" if top["verdict"] == "closing" else "widened"
        parts.append(f"the gap for {who(top['group_label'])} {verb} by {top['size']:.1f} points, "
                     f"from {fmt_points(top['first_gap'], 1, False)} to {fmt_points(top['latest_gap'], 1, False)}")
    summary_text = (f"Between {school_year_label(first)} and {school_year_label(latest)}, {closing} "
                    f"{'gap is' if closing == 1 else 'gaps are'} closing, {widening} widening and {still} show no clear change "
                    "beyond the uncertainty that group sizes give")
    return summary_text + ("; " + parts[0] if parts else "") + "."


def trend_figure(by_year: pd.DataFrame, group: str, targets: pd.DataFrame | None, higher_is_better: bool) -> go.Figure:
    """One group's rate and its reference group's rate by school year (left, with targets),
    and the gap with its 95% margin (right)."""
    rows = by_year[by_year["student_group"] == group].sort_values("school_year")
    years = [school_year_label(y) for y in rows["school_year"]]
    label = rows["group_label"].iloc[0] if not rows.empty else group
    ref_label = rows["reference_label"].dropna().iloc[-1] if rows["reference_label"].notna().any() else "reference"
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("Rate (%)", "Gap (points)"))
    mid = (rows["rate_low"] + rows["rate_high"]) / 2
    ref_mid = (rows["reference_rate_low"] + rows["reference_rate_high"]) / 2
    ref_shown = ~rows["reference_suppressed"].astype(bool)
    fig.add_trace(go.Scatter(x=years, y=mid, mode="lines+markers", name=label, line=dict(color=FOCUS_COLOUR, width=3),
                             marker=dict(size=9),
                             error_y=dict(type="data", symmetric=False, array=(rows["rate_high"] - mid), arrayminus=(mid - rows["rate_low"]),
                                          color=FOCUS_COLOUR, thickness=2, width=6),
                             hovertemplate="%{x}: %{y:.1f}%<extra>" + label + "</extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=years, y=ref_mid.where(ref_shown), mode="lines+markers", name=str(ref_label),
                             line=dict(color=REFERENCE_COLOUR, width=3, dash="dash"),
                             marker=dict(size=9, symbol="circle-open", line=dict(width=2)),
                             hovertemplate="%{x}: %{y:.1f}%<extra>" + str(ref_label) + "</extra>"), row=1, col=1)
    if targets is not None and not targets.empty:
        own = targets[targets["student_group"] == group]
        if not own.empty:
            fig.add_trace(go.Scatter(x=[school_year_label(y) for y in own["school_year"]], y=own["target"], mode="markers",
                                     marker=dict(symbol="diamond-wide", size=14, color=TARGET), name=f"Target for {label}",
                                     hovertemplate="Target %{x}: %{y:.0f}%<extra></extra>"), row=1, col=1)
    colours = [WORSE if b else BETTER for b in rows["behind"]]
    fig.add_trace(go.Bar(x=years, y=rows["gap"], marker=dict(color=colours), name="Gap", showlegend=False,
                         error_y=dict(type="data", array=rows["margin"], color="#555555", thickness=1.2, width=5),
                         text=[fmt_gap(r) for r in rows.to_dict("records")], textposition="inside", insidetextanchor="end",
                         textfont=dict(size=13, color="white"),
                         hovertemplate="%{x}: %{y:+.1f} points<extra></extra>"), row=1, col=2)
    for year, row in zip(years, rows.to_dict("records")):
        if row["suppressed"] or row["reference_suppressed"]:
            fig.add_annotation(x=year, y=0, xref="x2", yref="y2", text="▨ suppressed", showarrow=False, yanchor="bottom",
                               font=dict(color="#555555", size=12), textangle=-90)
    fig.add_hline(y=0, line=dict(color="#333333", width=1), row=1, col=2)
    fig.update_layout(**base_layout(
        title=dict(text=f"{label} vs {ref_label}", x=0, font=dict(size=18)),
        height=440, margin=dict(l=10, r=10, t=90, b=10), bargap=0.4,
        legend=dict(orientation="h", yanchor="top", y=-0.14, x=0)))
    fig.update_xaxes(type="category", tickangle=0)
    fig.update_yaxes(ticksuffix="%", gridcolor="#E5E5E5", row=1, col=1)
    fig.update_yaxes(zeroline=False, gridcolor="#E5E5E5", row=1, col=2)
    return fig


def trend_caption(by_year: pd.DataFrame, summary: pd.DataFrame, group: str, indicator_name: str) -> str:
    rows = summary[summary["student_group"] == group]
    if rows.empty:
        return f"{indicator_name}: no school year has a value for this group in this area, so there is no gap to show."
    if rows.iloc[0]["is_reference"]:
        return f"{indicator_name}: no gap to show, this group is the reference group itself; choose another group or reference."
    row = rows.iloc[0]
    subject = who(row["group_label"])
    if pd.isna(row["first_gap"]):
        return (f"There are not enough school years with shown values for {subject} to tell whether the gap is closing "
                "(suppressed or missing years are left out).")
    first, latest = school_year_label(row["first_year"]), school_year_label(row["latest_year"])
    sentence = (f"The gap between {subject} and {who(row['reference_label'])} went from "
                f"{fmt_points(row['first_gap'])} points in {first} to {fmt_points(row['latest_gap'])} in {latest}")
    if row["verdict"] == "closing":
        return sentence + f": it narrowed by {abs(row['change']):.1f} points, more than the uncertainty from group sizes."
    if row["verdict"] == "widening":
        return sentence + f": it widened by {abs(row['change']):.1f} points, more than the uncertainty from group sizes."
    return sentence + ": no clear change, the difference is within the uncertainty that group sizes give (or under 1 point)."


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
        "Gap (points)": [fmt_gap(r).replace(" pts", "") if not r["suppressed"] else "suppressed" for r in rows.to_dict("records")],
        "95% margin (points)": rows["margin"].round(1),
        "Target (%)": rows["school_year"].map(target_of),
    })


def change_table_view(summary: pd.DataFrame) -> pd.DataFrame:
    rows = summary[~summary["is_reference"]]
    return pd.DataFrame({
        "Student group": rows["group_label"], "Reference group": rows["reference_label"],
        "First year": rows["first_year"].map(school_year_label), "Gap then (points)": rows["first_gap"].round(1),
        "Latest year": rows["latest_year"].map(school_year_label), "Gap now (points)": rows["latest_gap"].round(1),
        "Change (points)": rows["change"].round(1),
        "Change, 95% range (points)": [f"{fmt_points(a)} to {fmt_points(b)}" if pd.notna(a) else ""
                                       for a, b in zip(rows["change_low"], rows["change_high"])],
        "Verdict": rows["verdict"], "Approximate": rows["approximate"].map({True: "yes", False: ""}),
    })


# --- 3. everything on one screen ---------------------------------------------------------

def heatmap_figure(heat: pd.DataFrame, year: str, limit: int = 10) -> go.Figure:
    """Indicators (rows) x groups (columns): colour = standing against the reference (blue
    better, orange worse, white parity), text = the gap in points; suppressed cells grey and
    labelled, missing cells blank."""
    cells = heat[~heat["is_reference"]].copy()
    cells = cells[~cells["student_group"].isin(mirrored_groups(heat))]
    group_order = [g for g in dict.fromkeys(heat.sort_values("student_group")["student_group"]) if g in set(cells["student_group"])]
    from domain.vocabulary import BUILT_IN_GROUPS
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
        if r["suppressed"] or r["reference_suppressed"]:
            hidden[i, j] = 1
            text[i, j] = "S"
            hover[i, j] = f"{r['group_label']}, {r['indicator_name']}: {suppressed_text(limit)}"
        elif pd.notna(r["gap"]):
            z[i, j] = r["standing"]
            text[i, j] = ("≈" if r["approximate"] else "") + fmt_points(r["gap"], 0)
            hover[i, j] = (f"{r['group_label']} vs {r['reference_label']}<br>{r['indicator_name']}: "
                           f"{fmt_gap(r)} ({'worse' if r['behind'] else 'better'} than the reference)")
        else:
            hover[i, j] = f"{r['group_label']}, {r['indicator_name']}: no data"
    bound = np.nanmax(np.abs(z)) if np.isfinite(z).any() else 10
    bound = max(5.0, float(np.ceil(bound)))
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        z=z, x=x, y=indicators, text=text, texttemplate="%{text}", textfont=dict(size=13), customdata=hover,
        hovertemplate="%{customdata}<extra></extra>", colorscale=DIVERGING, zmid=0, zmin=-bound, zmax=bound, xgap=2, ygap=2,
        colorbar=dict(title=dict(text="worse ← → better<br>(points)", side="right"), thickness=14),
        name="Gap",
    ))
    fig.add_trace(go.Heatmap(
        z=hidden, x=x, y=indicators, text=np.where(np.isnan(hidden), "", "S"), texttemplate="%{text}",
        textfont=dict(size=13, color="#1A1A1A"), customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        colorscale=[[0, SUPPRESSED], [1, SUPPRESSED]], showscale=False, xgap=2, ygap=2, name="Suppressed",
    ))
    fig.update_layout(**base_layout(
        title=dict(text=f"Gaps to the reference group, every indicator, {school_year_label(year)}", x=0, font=dict(size=18),
                   yref="container", y=0.99, yanchor="top"),
        height=max(380, 44 * len(indicators) + 260), margin=dict(l=10, r=10, t=170, b=10),
        plot_bgcolor=MISSING,
    ))
    fig.update_xaxes(side="top", tickangle=-35)
    fig.update_yaxes(autorange="reversed")
    return fig


def mirrored_groups(heat: pd.DataFrame) -> set[str]:
    """Groups whose gap only mirrors another shown one (not econ. disadvantaged vs econ.
    disadvantaged is the same gap with the sign turned): the later of each complementary pair."""
    from domain.vocabulary import BUILT_IN_GROUPS

    order = [g.group_id for g in BUILT_IN_GROUPS]
    pairs = heat[["student_group", "reference_group"]].dropna().drop_duplicates()
    mirrored = set()
    for group, ref in pairs.itertuples(index=False):
        back = pairs[(pairs["student_group"] == ref) & (pairs["reference_group"] == group)]
        if not back.empty and group in order and ref in order and order.index(group) > order.index(ref):
            mirrored.add(group)
    return mirrored


def heatmap_caption(heat: pd.DataFrame, year: str) -> str:
    heat = heat[~heat["student_group"].isin(mirrored_groups(heat))]
    cells = heat[~heat["is_reference"] & heat["gap"].notna()]
    if cells.empty:
        return f"No gap can be shown for {school_year_label(year)}."
    worst = cells.sort_values("standing").iloc[0]
    behind = int(cells["behind"].sum())
    hidden = int((heat["suppressed"] & ~heat["is_reference"]).sum())
    text = (f"In {school_year_label(year)}, {behind} of {len(cells)} group-and-indicator pairs are behind their reference group; "
            f"the widest gap is {who(worst['group_label'])} in {worst['indicator_name'][0].lower() + worst['indicator_name'][1:]} "
            f"({fmt_gap(worst)})")
    if hidden:
        text += f"; {hidden} cells (S) are suppressed to protect small numbers"
    return text + "."


def heatmap_table_view(heat: pd.DataFrame) -> pd.DataFrame:
    cells = heat[~heat["is_reference"] & ~heat["student_group"].isin(mirrored_groups(heat))]
    return pd.DataFrame({
        "Indicator": cells["indicator_name"], "Student group": cells["group_label"],
        "Reference group": cells["reference_label"],
        "Rate (%)": [_status_or(r, fmt_rate(r["rate_low"], r["rate_high"], 1).rstrip("%")) for r in cells.to_dict("records")],
        "Gap (points)": [fmt_gap(r).replace(" pts", "") if not r["suppressed"] else "suppressed" for r in cells.to_dict("records")],
        "Worse than the reference": cells["behind"].where(cells["gap"].notna()).map({True: "yes", False: "no"}),
        "Approximate (range-coded data)": cells["approximate"].map({True: "yes", False: ""}),
    })


# --- 4. rural vs non-rural ---------------------------------------------------------------

def locale_figure(locale: pd.DataFrame, indicator_name: str, year: str, limit: int = 10) -> go.Figure:
    """Each group's gap in rural regions and in non-rural regions, side by side."""
    rows = locale[~locale["is_reference"]].copy()
    order = (rows[rows["area"] == "Non-rural regions"].set_index("student_group")["standing"]
             .reindex(rows["student_group"].unique()).fillna(np.inf).sort_values(ascending=False).index.tolist())
    labels = {}
    for r in rows.to_dict("records"):
        labels[r["student_group"]] = f"{r['group_label']}<br><span style='font-size:12px'>vs {r['reference_label']}</span>"
    fig = go.Figure()
    for area, colour in AREA_COLOURS.items():
        sel = rows[rows["area"] == area].set_index("student_group").reindex(order)
        has = sel["gap"].notna()
        y = [labels[g] for g in sel.index[has]]
        approx = sel.loc[has, "approximate"].astype(bool)
        fig.add_trace(go.Scatter(
            x=sel.loc[has, "gap"], y=y, mode="markers", name=area,
            marker=dict(size=14, color=colour, symbol=["diamond-open" if a else ("circle" if area.startswith("Rural") else "square") for a in approx],
                        line=dict(width=2, color=colour)),
            error_x=dict(type="data", symmetric=False, array=(sel.loc[has, "gap_high"] - sel.loc[has, "gap"]),
                         arrayminus=(sel.loc[has, "gap"] - sel.loc[has, "gap_low"]), color=colour, thickness=2, width=0),
            customdata=np.stack([[fmt_gap(r) for r in sel[has].reset_index().to_dict("records")],
                                 [fmt_rate(a, b, 1) for a, b in zip(sel.loc[has, "rate_low"], sel.loc[has, "rate_high"])]], axis=-1) if has.any() else None,
            hovertemplate=area + ": %{customdata[0]} (rate %{customdata[1]})<extra></extra>",
        ))
    for area in AREA_COLOURS:
        sel = rows[(rows["area"] == area) & rows["suppressed"]]
        for g in sel["student_group"]:
            fig.add_annotation(x=0, y=labels[g], text=f"▨ {area.split()[0].lower()}: suppressed", showarrow=False,
                               xanchor="left" if area.startswith("Rural") else "right", font=dict(color="#555555", size=12))
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=suppressed_text(limit).capitalize(),
                             marker=dict(size=14, color=SUPPRESSED, symbol="square")))
    fig.add_trace(go.Scatter(x=[None] * len(order), y=[labels[g] for g in order], mode="markers", showlegend=False,
                             hoverinfo="skip", marker=dict(opacity=0)))
    fig.add_vline(x=0, line=dict(color="#333333", width=1))
    fig.update_layout(**base_layout(
        title=dict(text=f"{indicator_name}, {school_year_label(year)}: rural vs non-rural regions", x=0, font=dict(size=18)),
        height=max(340, 50 * len(order) + 190), margin=dict(l=10, r=20, t=60, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.08, x=0),
    ))
    fig.update_yaxes(categoryorder="array", categoryarray=[labels[g] for g in order], autorange="reversed")
    fig.update_xaxes(title="Gap to the reference group (points)", zeroline=False, gridcolor="#E5E5E5")
    return fig


def locale_caption(locale: pd.DataFrame, year: str) -> str:
    rows = locale[~locale["is_reference"] & locale["gap"].notna()]
    rural = rows[rows["area"] == "Rural regions"].set_index("student_group")
    other = rows[rows["area"] == "Non-rural regions"].set_index("student_group")
    both = rural.index.intersection(other.index)
    if both.empty:
        return (f"In {school_year_label(year)} no group has a gap that can be shown in both rural and non-rural regions "
                "(too few students, or no data).")
    diff = (rural.loc[both, "standing"] - other.loc[both, "standing"])
    worst = diff.idxmin()
    worse_rural = int((diff < 0).sum())
    r, o = rural.loc[worst], other.loc[worst]
    return (f"In {school_year_label(year)}, {worse_rural} of {len(both)} groups stand further behind in rural regions than in "
            f"non-rural ones; the biggest difference is for {who(r['group_label'])}: {fmt_gap(r)} in rural regions, "
            f"{fmt_gap(o)} elsewhere.")


def locale_table_view(locale: pd.DataFrame) -> pd.DataFrame:
    rows = locale[~locale["is_reference"]]
    return pd.DataFrame({
        "Area": rows["area"], "Student group": rows["group_label"], "Reference group": rows["reference_label"],
        "Rate (%)": [_status_or(r, fmt_rate(r["rate_low"], r["rate_high"], 1).rstrip("%")) for r in rows.to_dict("records")],
        "Gap (points)": [fmt_gap(r).replace(" pts", "") if not r["suppressed"] else "suppressed" for r in rows.to_dict("records")],
        "95% margin (points)": rows["margin"].round(1),
        "Students measured": [_status_or(r, f"{r['denominator']:,.0f}" if pd.notna(r["denominator"]) else "") for r in rows.to_dict("records")],
    })
