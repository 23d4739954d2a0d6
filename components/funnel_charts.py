"""Pathway funnel figures, captions and tables: pure functions, DataFrame in, figure (or table,
or sentence) out. The frames come from queries/pathways.py through domain/funnel.py.

Every figure is drawn from the same rounded table that is shown under it and downloaded as
CSV, so the chart, the table and the file always carry the same numbers. Orange is the chosen
group, blue its reference; grey hatching is a suppressed count; a stage with no count has no
bar and says "no data".
"""
from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components.markup import plain
from components.palette import FOCUS, GRID, INK, LIGHT_GREY, LINE_GREY, REFERENCE, SUPPRESSED, SUPPRESSED_PATTERN, WHITE, base_layout
from domain import formatting
from components.theme import readable  # the groups' colours as text: vermillion and grey darkened to 5.5:1
from domain import funnel as funnel_rules
from domain import sentences
from domain.funnel import DECIMALS, Leak
from domain.sentences import group_name, students
from domain.memo import memo_builders

NO_DATA = "no data"
WARNING = "⚠"
HIGHLIGHT = "rgba(230, 159, 0, 0.18)"  # Okabe-Ito orange, light: the stage where the gap is largest
# The note naming the shaded stage's gap sits this far under the axis line, below its tick labels
# (at the projector's 20 px too), with the bottom margin grown to hold it.
NOTE_BELOW_AXIS_PX = 40
SUPPRESSED_STUB = 6.0  # how long (percent of the cohort) a suppressed bar is drawn: a marker, not a value
# White hatching over grey. "overlay" keeps the grey under the stripes, and is the mode in which
# the legend swatch is drawn too (Streamlit's plotly.js leaves a "replace" swatch blank).
_HATCH = dict(fgcolor=WHITE, solidity=0.4, size=7, fillmode="overlay")

# Display table columns (also the CSV header).
STAGE_NO, STAGE, GROUP, STUDENTS = "Stage number", "Stage", "Student group", "Students"
SHARE, CONVERSION = "Share of the cohort (%)", "Conversion from the stage before (%)"
COUNT_STATUS, LEFT_OUT, INCLUDED = "Count", "Regions left out (suppressed)", "Regions counted"
# A conversion's own counts (domain.funnel.conversions): as written beside its dot, the two
# numbers, how many regions they come from and whether they are the bars.
CONV_COUNTS = "Conversion: went on, of those at the stage before"
CONV_TO, CONV_FROM = "Conversion: went on", "Conversion: at the stage before"
CONV_REGIONS, CONV_OVER = "Conversion: regions counted", "Conversion counts"
# A share's own counts (domain.funnel.share_whole): as written beside its bar when they are not the bars.
SHARE_TO, SHARE_OF, SHARE_OVER = "Share: students counted", "Share: of the cohort counted", "Share counts"
AS_BARS = "the bars' students"
PROBLEM = "Data problem"
COHORT = "Class of"
TREND = "Trend across cohorts"


def suppressed_text(limit: int) -> str:
    return formatting.suppressed_text(limit, students=True, why=True)


def cohort_label(cohort) -> str:
    return f"Class of {int(cohort)}"


def wrap(text: str, width: int = 24) -> str:
    return "<br>".join(textwrap.wrap(str(text), width)) or str(text)


def _number(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f}"


def _pct(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{DECIMALS}f}%"


# --- the funnel --------------------------------------------------------------------------------

def funnel_table(measured: pd.DataFrame, labels: dict[str, str], limit: int) -> pd.DataFrame:
    """The numbers behind the funnel, one row per stage and group, exactly as drawn."""
    rows = []
    for row in measured.itertuples():
        if row.status == "shown":
            status = "shown"
            if row.regions_suppressed:
                status = f"shown; {_regions(row.regions_suppressed)} suppressed and not included"
        elif row.status == "suppressed":
            status = suppressed_text(limit)
        else:
            status = NO_DATA
        converts = row.conversion_status == funnel_rules.CONVERTS
        counts = (sentences.conversion_counts(row.conversion_numerator, row.conversion_denominator) if converts
                  else sentences.conversion_word(row.conversion_status, limit))
        over = ("" if not converts else AS_BARS if row.conversion_whole
                else f"{sentences.PARTIAL_MARK} only the {_n_regions(row.conversion_regions)} "
                     f"that show{'s' if int(row.conversion_regions) == 1 else ''} both stages")
        has_share = not pd.isna(row.share)
        rows.append({
            STAGE_NO: int(row.stage_order), STAGE: row.stage, GROUP: labels.get(row.student_group, row.student_group),
            STUDENTS: row.students, SHARE: row.share,
            SHARE_TO: row.share_numerator if has_share else np.nan, SHARE_OF: row.share_denominator if has_share else np.nan,
            SHARE_OVER: "" if not has_share else AS_BARS if row.share_whole else
            f"{sentences.PARTIAL_MARK} only the regions that show this stage and the first",
            CONVERSION: row.conversion, CONV_COUNTS: counts,
            CONV_TO: row.conversion_numerator if converts else np.nan,
            CONV_FROM: row.conversion_denominator if converts else np.nan,
            CONV_REGIONS: int(row.conversion_regions) if converts else pd.NA, CONV_OVER: over,
            COUNT_STATUS: status, INCLUDED: int(row.regions_reporting), LEFT_OUT: int(row.regions_suppressed),
            PROBLEM: _problem(row),
        })
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    for column in (STUDENTS, SHARE_TO, SHARE_OF, CONV_TO, CONV_FROM, CONV_REGIONS):
        table[column] = pd.to_numeric(table[column]).astype("Int64")
    return table


TABLE_COLUMNS = [STAGE_NO, STAGE, GROUP, STUDENTS, SHARE, CONVERSION, CONV_COUNTS, CONV_TO, CONV_FROM, CONV_REGIONS,
                 CONV_OVER, SHARE_TO, SHARE_OF, SHARE_OVER, COUNT_STATUS, INCLUDED, LEFT_OUT, PROBLEM]


def _n_regions(n) -> str:
    return "one region" if int(n) == 1 else f"{int(n)} regions"


def _value(value) -> float:
    """A table cell as a float (NaN for none, pd.NA included)."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def bar_label(row) -> str:
    """The label beside a row's bar, from the table's own columns (domain.sentences.share_label):
    the share with the counts it is computed from."""
    return sentences.share_label(_value(row[SHARE]), _value(row[SHARE_TO]), _value(row[SHARE_OF]), _value(row[STUDENTS]),
                                 not str(row[SHARE_OVER]).startswith(sentences.PARTIAL_MARK))


def dot_label(row) -> str:
    """The label beside a row's conversion dot, from the table's own columns: the rate and its
    counts (`73.3% · 11 of 15`, marked when they are not the bars), or what stands instead."""
    rate = _value(row[CONVERSION])
    if math.isnan(rate):
        return str(row[CONV_COUNTS])
    mark = f" {sentences.PARTIAL_MARK}" if str(row[CONV_OVER]).startswith(sentences.PARTIAL_MARK) else ""
    return f"{_pct(rate)} · {row[CONV_COUNTS]}{mark}"


def conversion_items(table: pd.DataFrame) -> list[dict]:
    """The conversions whose counts are not the bars, with the bars beside them (for the note)."""
    items = []
    for group, part in table.groupby(GROUP, sort=False):
        bars = dict(zip(part[STAGE_NO], part[STUDENTS].map(_value)))
        orders = sorted(bars)
        for _, row in part[part[CONV_OVER].astype(str).str.startswith(sentences.PARTIAL_MARK)].iterrows():
            at = orders.index(row[STAGE_NO])
            items.append({"stage_order": int(row[STAGE_NO]), "stage": row[STAGE], "group": group,
                          "went_on": _value(row[CONV_TO]), "before": _value(row[CONV_FROM]),
                          "regions": int(row[CONV_REGIONS]), "students": bars[row[STAGE_NO]],
                          "previous_students": bars[orders[at - 1]] if at else float("nan")})
    return items


def conversion_note(table: pd.DataFrame, markdown: bool = True) -> str:
    """Under the funnel: the dots whose counts are not the bars, and why (domain.sentences); as
    markdown for the page (stage and group names escaped) or as plain text (the packet)."""
    converts = int(table[CONVERSION].notna().sum())
    marked = table[table[SHARE_OVER].astype(str).str.startswith(sentences.PARTIAL_MARK)]
    example = sentences.conversion_counts(marked[SHARE_TO].iloc[0], marked[SHARE_OF].iloc[0]) if len(marked) else ""
    items = conversion_items(table)
    if markdown:
        items = [{**i, "stage": plain(i["stage"]), "group": plain(i["group"])} for i in items]
    notes = (sentences.conversion_note(items, converts),
             sentences.share_note(len(marked), int(table[SHARE].notna().sum()), example))
    text = " ".join(note for note in notes if note)
    return text if markdown else text.replace("**", "")


def _problem(row) -> str:
    if row.rising:
        return "counts rise: more students than at the stage before"
    if row.rising_regions:
        return (f"counts rise in {row.rising_regions} region{'s' if row.rising_regions != 1 else ''}, "
                "left out of the conversion")
    return ""


def _stage_label(order: int, name: str, flagged: bool) -> str:
    return (f"{WARNING} " if flagged else "") + wrap(f"{order}. {name}", 26)


def funnel_figure(table: pd.DataFrame, series: list[str], leak: Leak | None = None,
                  tidy: bool = True, limit: int = 10, stacked: bool = False) -> go.Figure:
    """Share of the cohort reaching each stage (bars, left) and conversion from the stage before
    (dots, right), for each group in `series` (labels as in the table: chosen group first,
    reference second), on the same 0-100% scales. The stage where the group's conversion falls
    furthest below the reference's is shaded. `stacked` puts the conversion panel under the
    shares, each with its own stage labels, for phone screens.

    Traces and layout are assembled as plain dicts and the figure is built once (plotly's
    make_subplots and update_* calls cost more than everything else on the page)."""
    stages = table.drop_duplicates(STAGE_NO).sort_values(STAGE_NO)
    flagged = set(table.loc[table[PROBLEM].str.startswith("counts rise:"), STAGE_NO])
    y_of = {int(r[STAGE_NO]): _stage_label(int(r[STAGE_NO]), r[STAGE], int(r[STAGE_NO]) in flagged)
            for _, r in stages.iterrows()}
    categories = list(y_of.values())
    colours = [FOCUS, REFERENCE]
    first_stage = stages[STAGE_NO].min() if len(stages) else None
    bars, dots, unknown_words = [], [], {}
    for i, name in enumerate(series):
        part = table[table[GROUP] == name].sort_values(STAGE_NO)
        if part.empty:
            continue
        colour = colours[i % len(colours)]
        status = part[COUNT_STATUS].astype(str).tolist()
        suppressed = [s.startswith("suppressed") for s in status]
        missing = [s == NO_DATA for s in status]
        share = part[SHARE].astype("float64").tolist()
        conversion = part[CONVERSION].astype("float64").tolist()
        students = part[STUDENTS].astype("float64").tolist()
        orders = [int(o) for o in part[STAGE_NO]]
        y = [y_of[o] for o in orders]
        # A suppressed count gets a short hatched stub; no count at all gets no bar (x=0 keeps
        # its "no data" label on the chart).
        x = [SUPPRESSED_STUB if s and math.isnan(v) else 0.0 if m and math.isnan(v) else v
             for s, m, v in zip(suppressed, missing, share)]
        text = ["suppressed" if s else NO_DATA if m else bar_label(r)
                for s, m, (_, r) in zip(suppressed, missing, part.iterrows())]
        custom = [[_number(n), _pct(v), _pct(c), st] for n, v, c, st in zip(students, share, conversion, status)]
        # On a phone the stage name sits above its bars, so the bars take the lower part of the row.
        width, start = (0.55 / len(series), -0.2) if stacked else (0.8 / len(series), -0.4)
        bars.append(dict(
            type="bar", orientation="h", x=x, y=y, name=name, legendgroup=name, width=width,
            offset=start + i * width, xaxis="x", yaxis="y",
            marker=dict(color=[SUPPRESSED if s else colour for s in suppressed],
                        pattern=dict(shape=[SUPPRESSED_PATTERN if s else "" for s in suppressed], **_HATCH)),
            text=text, textposition="outside", cliponaxis=False, customdata=custom,
            hovertemplate=(f"<b>{name}</b><br>%{{y}}<br>Students: %{{customdata[0]}}<br>"
                           "Share of the cohort: %{customdata[1]}<br>Count: %{customdata[3]}<extra></extra>"),
        ))
        unknown = [math.isnan(c) and o != first_stage for c, o in zip(conversion, orders)]
        # Each dot says its rate and its own counts, or why it has none (the table's columns).
        words = ["" if o == first_stage else dot_label(r) for o, (_, r) in zip(orders, part.iterrows())]
        dot_custom = [[_pct(c), "" if o == first_stage else str(r[CONV_COUNTS]), _dot_over(r)]
                      for o, c, (_, r) in zip(orders, conversion, part.iterrows())]
        # One grey word per stage is enough when both groups' conversions are unknown.
        words = ["" if u and unknown_words.get(o) == w else w for u, o, w in zip(unknown, orders, words)]
        unknown_words.update({o: w for u, o, w in zip(unknown, orders, words) if u and w})
        dots.append(dict(
            type="scatter", mode="markers+text", x=[0.0 if u else (None if math.isnan(c) else c)
                                                    for u, c in zip(unknown, conversion)],
            y=y, name=name, legendgroup=name, showlegend=False, xaxis="x2", yaxis="y2" if stacked else "y",
            marker=dict(color=colour, size=[0 if u else 14 for u in unknown], opacity=1,
                        symbol="circle" if i == 0 else "diamond", line=dict(color=WHITE, width=1)),
            text=words,
            # Labels above (group) and below (reference) their dots, running away from the panel's
            # edges so that a long one ("88.5% · 1,154 of 1,304") stays inside the chart.
            textposition=[f"{'top' if i == 0 else 'bottom'} {_side(0.0 if u else c)}" for u, c in zip(unknown, conversion)],
            textfont=dict(color=[readable(SUPPRESSED if u else colour) for u in unknown], size=13), cliponaxis=False,
            customdata=dot_custom,
            hovertemplate=(f"<b>{name}</b><br>%{{y}}<br>Conversion from the stage before: %{{customdata[0]}}"
                           "<br>Went on: %{customdata[1]}<br>%{customdata[2]}<extra></extra>"),
        ))
    connectors = _connectors(table, series, y_of, "y2" if stacked else "y") if len(series) > 1 else []
    # Legend entry explaining the hatched bars (a zero-length bar: it draws nothing).
    legend_entry = dict(
        type="bar", orientation="h", x=[0], y=categories[:1], name=formatting.suppressed_text(limit).capitalize(), width=0.01,
        offset=0, xaxis="x", yaxis="y", hoverinfo="skip", showlegend=True,
        marker=dict(color=SUPPRESSED, pattern=dict(shape=SUPPRESSED_PATTERN, **_HATCH)),
    )
    ticks = dict(tickvals=[0, 25, 50, 75, 100], ticktext=["0%", "25%", "50%", "75%", "100%"], showgrid=True,
                 gridcolor=GRID)
    rows = max(len(categories), 1)
    y_axis = dict(categoryorder="array", categoryarray=categories, autorange="reversed", automargin=True,
                  tickfont=dict(size=14, color=INK), showticklabels=not stacked)
    if stacked:  # shares on top, conversions below, full width each, stage names above their rows
        left, right, top, bottom = [0, 1], [0, 1], [0.53, 0.97], [0, 0.44]
        titles = [(0.5, 0.985, "Share of the cohort reaching the stage"),
                  (0.5, 0.455, "Conversion from the stage before")]
        # Rows tall enough for a stage name above the row and a dot's label above its dot.
        height = 220 + 2 * 96 * rows
    else:
        split = 0.55
        left, right, top, bottom = [0, split], [split + 0.06, 1], [0, 1], [0, 1]
        titles = [(split / 2, 1, "Share of the cohort<br>reaching the stage"),
                  ((split + 0.06 + 1) / 2, 1, "Conversion from<br>the stage before")]
        height = 140 + 86 * rows
    shapes = []
    annotations = [dict(text=text, x=x, xref="paper", y=y, yref="paper", xanchor="center", yanchor="bottom",
                        showarrow=False, font=dict(size=15)) for x, y, text in titles]
    if stacked:
        for axis, above in (("y", 0.32), ("y2", 0.44)):  # conversions: over the label above the group's dot
            annotations += [dict(text=label.replace("<br>", " "), x=0, xref="paper", xanchor="left", y=k - above,
                                 yref=axis, yanchor="middle", showarrow=False, font=dict(size=13, color=INK))
                            for k, label in enumerate(categories)]
    dots_axis = "y2" if stacked else "y"
    noted = leak is not None and leak.material and leak.stage_order in y_of
    if noted:
        position = categories.index(y_of[leak.stage_order])
        for axis, domain in (("y", left), (dots_axis, right)) if stacked else (("y", [0, 1]),):
            shapes.append(dict(type="rect", xref="paper", x0=domain[0], x1=domain[1], yref=axis,
                               y0=position - 0.5, y1=position + 0.5, fillcolor=HIGHLIGHT, line=dict(width=0),
                               layer="below"))
        text = f"largest gap: {leak.gap:.{DECIMALS}f} points"
        if stacked:  # at the row's edge: a phone's legend is under the plot, where the desk's note goes
            annotations.append(dict(xref="x2 domain", x=1, yref=dots_axis, y=position + 0.5, yanchor="bottom",
                                    xanchor="right", text=text, showarrow=False, font=dict(size=13, color=INK)))
        else:
            # Under the conversions' axis, in space of its own: on the row's edge it met the dots'
            # labels (on the projector "largest gap: 38.6 points" touched "80.4% · 917 of 1,140 †").
            annotations.append(dict(xref="x2 domain", x=1, yref="paper", y=0, yanchor="top", yshift=-NOTE_BELOW_AXIS_PX,
                                    xanchor="right", text=f"Shaded row: {text}", showarrow=False,
                                    font=dict(size=13, color=INK)))
    layout = base_layout(
        height=height, barmode="overlay", margin=dict(l=10, r=30, t=60, b=30) if stacked else dict(l=10, r=30, t=90, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.06 if not stacked else 1.03, x=0, traceorder="normal"),
        xaxis=dict(domain=left, range=[0, 128], zeroline=True, zerolinecolor=LIGHT_GREY, anchor="y", **ticks),
        xaxis2=dict(domain=right, range=[0, 105], anchor=dots_axis, **ticks),
        yaxis=dict(domain=top, anchor="x", **y_axis),
        shapes=shapes, annotations=annotations,
    )
    if stacked:
        layout["yaxis2"] = dict(domain=bottom, anchor="x2", **y_axis)
    if not tidy:
        layout["title"] = dict(text=f"{WARNING} Stage counts as reported: the stages do not form a funnel "
                                    "(see the data problems above)", font=dict(size=15), x=0)
    if noted and not stacked:  # room under the axis's tick labels for the note, the plot keeping its height
        layout["margin"]["b"] += NOTE_BELOW_AXIS_PX + 10
        layout["height"] += NOTE_BELOW_AXIS_PX + 10
    return go.Figure(data=[*connectors, *bars, *dots, legend_entry], layout=layout)


def _side(x: float) -> str:
    """Where a dot's label runs: right of a dot near 0%, left of one near 100%, else centred."""
    return "right" if x < 30 else "left" if x > 70 else "center"


def _dot_over(row) -> str:
    over = str(row[CONV_OVER])
    if not over:
        return ""
    return "Counts: the bars' students" if over == AS_BARS else f"Counts: {over.lstrip(sentences.PARTIAL_MARK + ' ')}"


def _connectors(table: pd.DataFrame, series: list[str], y_of: dict, y_axis: str = "y") -> list[dict]:
    """Thin grey lines joining each stage's two conversion dots, so the gap reads as a length."""
    a = table[table[GROUP] == series[0]].set_index(STAGE_NO)[CONVERSION].astype("float64")
    b = table[table[GROUP] == series[1]].set_index(STAGE_NO)[CONVERSION].astype("float64")
    xs, ys = [], []
    for order in a.index.intersection(b.index):
        if not (math.isnan(a[order]) or math.isnan(b[order])):
            xs += [a[order], b[order], None]
            ys += [y_of[int(order)]] * 2 + [None]
    if not xs:
        return []
    return [dict(type="scatter", x=xs, y=ys, mode="lines", line=dict(color=LINE_GREY, width=2), hoverinfo="skip",
                 showlegend=False, xaxis="x2", yaxis=y_axis)]


def funnel_caption(table: pd.DataFrame, series: list[str], cohort, area: str, leak: Leak | None = None) -> str:
    """One plain-language sentence (two at most) saying what the funnel chart shows."""
    first = table.sort_values(STAGE_NO)[STAGE].iloc[0] if len(table) else "the first stage"
    where = "across the alliance" if area == "Alliance-wide" else f"in {area.lower() if area.endswith('regions') else area}"
    if len(series) > 1:
        who = (f"{students(series[0])} (orange) and {students(series[1])} "
               "(blue)")
    else:
        who = students(series[0]) if series else "students"
    text = (f"Bars: the share of the class of {int(cohort)} ({who}, {where}) who reached each stage, counting "
            f"everyone at “{first}” as 100%. Dots: of the students at the stage before, the share who went on, "
            "and how many went on of how many.")
    if leak is not None and leak.material:
        text += " The shaded stage is where the gap in going on is largest."
    return text


def left_out_note(table: pd.DataFrame, markdown: bool = True) -> str:
    """Says exactly which stage counts leave regions out because they are suppressed: markdown
    for the page (names from the data escaped), or plain text (the packet)."""
    name, bold = (plain, "**") if markdown else (str, "")
    lines = []
    for (order, stage), part in table[table[LEFT_OUT] > 0].groupby([STAGE_NO, STAGE], sort=True):
        counts = part[LEFT_OUT].tolist()
        if len(part) > 1 and len(set(counts)) == 1 and part[INCLUDED].all():
            who = f"{_regions(counts[0])} for each group"
        else:
            who = "; ".join(f"{_regions(r[LEFT_OUT])} for {name(group_name(r[GROUP]))}"
                            + ("" if r[INCLUDED] else " (no region's count can be shown)")
                            for _, r in part.iterrows())
        lines.append(f"- {bold}{order}. {name(stage)}{bold}: {who}")
    if not lines:
        return ""
    return (f"{bold}Not included in these totals:{bold} some regions' counts are suppressed (too few students to show "
            "safely), so they are left out; shares and conversions use only the regions that show both numbers "
            "involved.\n" + "\n".join(lines))


def _regions(n: int) -> str:
    return "1 region's count" if n == 1 else f"{n} regions' counts"


def rising_table(rising: pd.DataFrame, region_names: pd.Series, label) -> pd.DataFrame:
    """The regions whose count rises from the stage before, for the data steward to check."""
    return pd.DataFrame({
        "Region": rising["region_id"].map(region_names).fillna(rising["region_id"]),
        "Student group": rising["student_group"].map(label), "Stage": rising["stage"],
        "Students": rising["students"].astype("int64"), "Stage before": rising["previous_stage"],
        "Students at the stage before": rising["previous_students"].astype("int64"),
    })


# --- across cohorts ------------------------------------------------------------------------------

def trend_table(measured: pd.DataFrame, summary: pd.DataFrame, labels: dict[str, str], groups: list[str]) -> pd.DataFrame:
    """Conversion into each stage, cohort by cohort, for the groups drawn; with the group's trend."""
    data = measured[measured["previous_stage_order"].notna() & measured["student_group"].isin(groups)]
    direction = dict(zip(summary["stage_order"], summary["direction"]))
    gap_direction = dict(zip(summary["stage_order"], summary["gap_direction"]))
    rows = []
    for row in data.sort_values(["stage_order", "student_group", "cohort"],
                                key=lambda s: s.map({g: i for i, g in enumerate(groups)}) if s.name == "student_group" else s
                                ).itertuples():
        is_group = row.student_group == groups[0]
        rows.append({
            STAGE_NO: int(row.stage_order), STAGE: row.stage, COHORT: int(row.cohort),
            GROUP: labels.get(row.student_group, row.student_group),
            CONVERSION: np.nan if row.rising else row.conversion,
            TREND: direction.get(row.stage_order, "") if is_group else "",
            "Gap to the reference": gap_direction.get(row.stage_order, "") if is_group and len(groups) > 1 else "",
            PROBLEM: _problem(row),
        })
    columns = [STAGE_NO, STAGE, COHORT, GROUP, CONVERSION, TREND, "Gap to the reference", PROBLEM]
    table = pd.DataFrame(rows, columns=columns)
    if len(groups) < 2:
        table = table.drop(columns=["Gap to the reference"])
    return table


def trend_figure(table: pd.DataFrame, series: list[str], columns: int = 4) -> go.Figure:
    """One small chart per stage: conversion from the stage before, by cohort, for the group
    (orange) and its reference (blue), on the same 0-100% scale. Assembled as plain dicts and
    built once, like funnel_figure."""
    stages = table.drop_duplicates(STAGE_NO).sort_values(STAGE_NO)
    n = max(len(stages), 1)
    columns = min(columns, n)
    rows = math.ceil(n / columns)
    cohorts = [str(c) for c in sorted(table[COHORT].unique())] if len(table) else []
    ticks = cohorts if len(cohorts) <= 5 else [cohorts[0], cohorts[len(cohorts) // 2], cohorts[-1]]
    h_gap, v_gap = 0.04, (0.2 if rows > 1 else 0.0)
    width = (1 - (columns - 1) * h_gap) / columns
    height = (1 - (rows - 1) * v_gap) / rows
    colours = [FOCUS, REFERENCE]
    layout = base_layout(height=150 + 260 * rows, margin=dict(l=10, r=10, t=150, b=30), showlegend=True)
    plot_height = 260 * rows - 30
    layout["legend"] = dict(orientation="h", yanchor="bottom", y=1 + 62 / plot_height, x=0)
    traces, annotations = [], []
    for k, (_, s) in enumerate(stages.iterrows()):
        row, col = divmod(k, columns)
        suffix = "" if k == 0 else str(k + 1)
        x0 = col * (width + h_gap)
        y1 = 1 - row * (height + v_gap)
        layout[f"xaxis{suffix}"] = dict(domain=_domain(x0, x0 + width), anchor=f"y{suffix}", type="category",
                                        categoryorder="array", categoryarray=cohorts, tickvals=ticks, tickangle=0)
        layout[f"yaxis{suffix}"] = dict(domain=_domain(y1 - height, y1), anchor=f"x{suffix}", range=[0, 100],
                                        tickvals=[0, 50, 100], ticktext=["0%", "50%", "100%"], gridcolor=GRID,
                                        showticklabels=col == 0)
        at_stage = table[table[STAGE_NO] == s[STAGE_NO]]
        direction = at_stage.loc[at_stage[TREND] != "", TREND]
        word = direction.iloc[0] if len(direction) else ""
        title = wrap("into " + str(s[STAGE]), 22) + (f"<br><b>{word}</b>" if word else "")
        annotations.append(dict(text=title, x=x0 + width / 2, xref="paper", y=y1, yref="paper", xanchor="center",
                                yanchor="bottom",
                                showarrow=False, font=dict(size=13)))
        for i, name in enumerate(series):
            part = at_stage[at_stage[GROUP] == name].sort_values(COHORT)
            if part.empty:
                continue
            values = [None if math.isnan(v) else v for v in part[CONVERSION].astype("float64")]
            traces.append(dict(
                type="scatter", mode="lines+markers", x=part[COHORT].astype(str).tolist(), y=values, name=name,
                legendgroup=name, showlegend=k == 0, xaxis=f"x{suffix}", yaxis=f"y{suffix}",
                line=dict(color=colours[i % 2], width=3 if i == 0 else 2, dash="solid" if i == 0 else "dot"),
                marker=dict(size=8, symbol="circle" if i == 0 else "diamond"),
                customdata=[str(s[STAGE])] * len(part),
                hovertemplate=f"<b>{name}</b><br>Class of %{{x}}<br>Into %{{customdata}}: %{{y:.{DECIMALS}f}}%<extra></extra>",
            ))
    layout["annotations"] = annotations
    return go.Figure(data=traces, layout=layout)


def _domain(start: float, end: float) -> list[float]:
    """An axis domain inside [0, 1] (sums of fractions can stray past it by a rounding error)."""
    return [min(max(round(start, 6), 0.0), 1.0), min(max(round(end, 6), 0.0), 1.0)]


# Every view of every session asks for the same few figures, captions and tables: build each once.
memo_builders(globals())
