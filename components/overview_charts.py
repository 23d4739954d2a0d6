"""Pure figure and table builders for the board overview. They take the overview payload
(`queries.overview.overview`, or a frozen snapshot of it) and never touch the store, so the
page and the board packet draw the same numbers."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from domain import formatting
from domain.formatting import rate_text
from components.palette import BLUE, BLUISH_GREEN, GRID, MID_GREY, MUTED_INK, ORANGE, REDDISH_PURPLE, SERIES, SUPPRESSED, TARGET, VERMILLION, base_layout
from domain import kpi
from domain.memo import memo_builders
from domain.suppression import threshold

STATUS_COLOURS = {kpi.ON_TRACK: BLUE, kpi.OFF_TRACK: VERMILLION, kpi.UNCLEAR: ORANGE,
                  kpi.NO_TARGET: MID_GREY, kpi.NO_DATA: SUPPRESSED}
STATUS_SYMBOLS = {kpi.ON_TRACK: "✓", kpi.OFF_TRACK: "✗", kpi.UNCLEAR: "≈", kpi.NO_TARGET: "–", kpi.NO_DATA: "·"}


def fmt_count(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:,.0f}"


def fmt_rate(item: dict) -> str:
    """A chart label's rate: `suppressed` for a hidden rate and for a range over the whole 0–100%
    (it says nothing: formatting.says_nothing), short beside a bar; tables and hovers give why."""
    if item.get("suppressed") or formatting.says_nothing(item.get("rate_low"), item.get("rate_high")):
        return "suppressed"
    low, high = item.get("rate_low"), item.get("rate_high")
    if low is None or high is None:
        return "no data"
    return rate_text(low, high, 0, exact_digits=1)


def indicator_delta(item: dict) -> tuple[str | None, bool]:
    """An indicator card's change since the year before, from the rates' ranges, never their
    midpoints (kpi.change_range, kpi.moved), and whether it has no direction (no arrow, no colour):
    `+1.2 points since 2023–24`; `+2 to +5 points since 2023–24` between ranges; `-3 to +4 points
    since 2023–24: too close to call` where the ranges overlap. (An ASCII sign: st.metric reads a
    leading `-` as a fall.)"""
    change = kpi.change_range(item.get("previous_low"), item.get("previous_high"), item.get("rate_low"), item.get("rate_high"))
    if change is None:
        return None, True
    since = kpi.school_year_label(item["previous_year"]) if item.get("previous_year") else "the year before"
    way = kpi.moved(item["previous_low"], item["previous_high"], item["rate_low"], item["rate_high"], item["higher_is_better"])
    if way == "same":
        return f"no change since {since}", True
    low, high = change
    if abs(high - low) < 1e-9:
        return f"{low:+.1f} points since {since}", False
    text = f"{low:+.0f} to {high:+.0f} points since {since}"
    return (f"{text}: {kpi.UNCLEAR}", True) if way == kpi.UNCLEAR else (text, False)


def reach_value_text(item: dict, limit: int) -> str:
    if item.get("suppressed"):
        return formatting.suppressed_text(limit)
    return fmt_count(item.get("value"))


def reach_delta_text(item: dict, previous_quarter: str) -> str | None:
    value, previous = item.get("value"), item.get("previous")
    if value is None or previous is None:
        return None
    delta = value - previous
    if delta == 0:
        return f"no change vs {kpi.quarter_label(previous_quarter)}"
    percent = f" ({delta / previous:+.0%})" if previous else ""
    return f"{delta:+,.0f}{percent} vs {kpi.quarter_label(previous_quarter)}"


# --- reach -------------------------------------------------------------------------------------

def reach_trend_frame(payload: dict) -> pd.DataFrame:
    return pd.DataFrame(payload.get("reach_trend", []))


def _few_ticks(labels: list[str]) -> list[str]:
    """The first, middle and last of a panel's periods: the same choice in every panel (plotly's
    own pick differed from panel to panel)."""
    return list(dict.fromkeys(labels[i] for i in (0, len(labels) // 2, len(labels) - 1))) if labels else []


def reach_figure(payload: dict) -> go.Figure:
    """Reach by quarter, one small panel per measure, with the quarter's target as a marker."""
    trend = reach_trend_frame(payload)
    reach = {item["measure"]: item for item in payload.get("reach", [])}
    titles = [reach[m]["label"] + ("<br>(not unique students)" if m == "participants" else "") for m in reach]
    fig = make_subplots(rows=1, cols=len(reach) or 1, subplot_titles=titles, horizontal_spacing=0.07)
    labels = [kpi.quarter_label(q) for q in trend.get("quarter", [])]
    for col, measure in enumerate(reach, start=1):
        if measure in trend:
            fig.add_trace(go.Scatter(x=labels, y=trend[measure], mode="lines+markers", line=dict(color=SERIES[0], width=2),
                                     marker=dict(size=5), name=reach[measure]["label"], showlegend=False,
                                     hovertemplate="%{x}: %{y:,.0f}<extra></extra>"), row=1, col=col)
        target = reach[measure].get("target")
        if target is not None:
            fig.add_trace(go.Scatter(x=[kpi.quarter_label(payload["quarter"])], y=[target], mode="markers",
                                     marker=dict(symbol="line-ew-open", size=18, color=TARGET, line=dict(width=3)),
                                     name="Target", showlegend=col == 1,
                                     hovertemplate="target %{y:,.0f}<extra></extra>"), row=1, col=col)
    fig.update_xaxes(tickvals=_few_ticks(labels), tickangle=0, tickfont=dict(size=11), ticklabelstandoff=6)
    fig.update_yaxes(rangemode="tozero", tickformat=",", tickfont=dict(size=11), automargin=True)
    fig.update_annotations(font_size=13)
    fig.update_layout(**base_layout(height=320, margin=dict(l=50, r=10, t=50, b=60),
                                    legend=dict(orientation="h", yanchor="top", y=-0.15, x=0)))
    return fig


def reach_table(payload: dict) -> pd.DataFrame:
    limit = payload.get("threshold", 10)
    rows = []
    for item in payload.get("reach", []):
        rows.append({
            "Measure": item["label"] + (" (not unique students)" if item["measure"] == "participants" else ""),
            kpi.quarter_label(payload["quarter"]): reach_value_text(item, limit),
            kpi.quarter_label(payload["previous_quarter"]): ("suppressed" if item.get("previous_suppressed")
                                                             else fmt_count(item.get("previous"))),
            "Target": fmt_count(item.get("target")),
            "Status": item["status"],
        })
    return pd.DataFrame(rows)


# --- indicators --------------------------------------------------------------------------------

def indicator_figure(payload: dict) -> go.Figure:
    """Every indicator's all-students rate (bar, coloured by status) and its target (black tick)."""
    items = list(reversed(payload.get("indicators", [])))
    names = [i["name"] + ("" if i["higher_is_better"] else " (lower is better)") for i in items]
    # A rate known as a range: a solid bar to its low end and a hatched one on to its high end
    # (its midpoint is never drawn as the rate). A hidden rate, or a range over the whole 0–100%
    # (it says nothing), has no bar at all: never a bar of 0, never a bar across the scale.
    shown = [i.get("rate_low") is not None and i.get("rate_high") is not None and not i.get("suppressed")
             and not formatting.says_nothing(i["rate_low"], i["rate_high"]) for i in items]
    lows = [i["rate_low"] if keep else None for i, keep in zip(items, shown)]
    spans = [(i["rate_high"] - i["rate_low"]) if keep else None for i, keep in zip(items, shown)]
    colours = [STATUS_COLOURS.get(i["status"], SUPPRESSED) for i in items]
    text = [f"{fmt_rate(i)}  {STATUS_SYMBOLS.get(i['status'], '')} {i['status']}" for i in items]
    fig = go.Figure(go.Bar(x=lows, y=names, orientation="h", marker=dict(color=colours), customdata=text,
                           name="Rate", hovertemplate="%{y}: %{customdata}<extra></extra>", showlegend=False))
    if any(v is not None and v > 1e-9 for v in spans):
        fig.add_trace(go.Bar(x=spans, base=lows, y=names, orientation="h", name="Range (≈, range-coded data)",
                             marker=dict(color=colours, opacity=0.45, pattern=dict(shape="/")), customdata=text,
                             hovertemplate="%{y}: %{customdata}<extra></extra>"))
        fig.update_layout(barmode="overlay")
    # Value and status in a column right of the 100% line, clear of the bars and target ticks.
    for name, label in zip(names, text):
        fig.add_annotation(x=1.01, xref="paper", y=name, yref="y", text=label, xanchor="left", showarrow=False,
                           font=dict(size=13))
    targets = [(i["target"], n) for i, n in zip(items, names) if i.get("target") is not None]
    if targets:
        fig.add_trace(go.Scatter(x=[t for t, _ in targets], y=[n for _, n in targets], mode="markers", name="Target",
                                 marker=dict(symbol="line-ns-open", size=22, color=TARGET, line=dict(width=3)),
                                 hovertemplate="target %{x:.1f}%<extra></extra>"))
    year = payload.get("school_year")
    fig.update_layout(**base_layout(height=110 + 38 * len(items), margin=dict(l=330, r=200, t=50, b=60),
                                    title=dict(text=f"Indicators, all students, {kpi.school_year_label(year) if year else 'no year'}",
                                               font=dict(size=16)), bargap=0.35,
                                    legend=dict(orientation="h", yanchor="top", y=-0.08, x=0)))
    fig.update_xaxes(range=[0, 100], ticksuffix="%", title=None)
    fig.update_yaxes(automargin=False, tickfont=dict(size=13))
    return fig


def indicator_table(payload: dict) -> pd.DataFrame:
    rows = []
    year, prior = payload.get("school_year"), payload.get("previous_school_year")
    limit = payload.get("threshold") or threshold()
    for item in payload.get("indicators", []):
        # The table says why a rate is hidden, in the one wording (the chart's label is short).
        rate = (formatting.suppressed_text(limit, why=True) if item.get("suppressed")
                else rate_text(item.get("rate_low"), item.get("rate_high"), 0, exact_digits=1, limit=limit) or "no data")
        rows.append({
            "Indicator": item["name"],
            "Better when": "higher" if item["higher_is_better"] else "lower",
            kpi.school_year_label(year) if year else "Rate": rate,
            kpi.school_year_label(prior) if prior else "Previous": ("—" if item.get("previous") is None
                                                                    else f"{item['previous']:.1f}%"),
            "Target": "—" if item.get("target") is None else f"{item['target']:.1f}%",
            "Status": item["status"],
            "Since last year": {"better": "right way", "worse": "wrong way", "same": "no change",
                                kpi.UNCLEAR: kpi.UNCLEAR}.get(item.get("moved"), "—"),
        })
    return pd.DataFrame(rows)


def indicator_trends_figure(payload: dict) -> go.Figure:
    """Small multiples: each indicator's rate over the school years, with targets; years known
    only as a range are drawn as a range (a vertical bar), not as a point on the line. A year
    whose rate is hidden, or a range over the whole 0–100% (it says nothing: a snapshot frozen
    before the overview hid those), is not drawn: a gap in the line, marked "▨" at its foot."""
    items = payload.get("indicators", [])
    cols = 3
    rows = max(1, -(-len(items) // cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[i["name"] for i in items],
                        vertical_spacing=0.16 if rows > 1 else 0.2, horizontal_spacing=0.09)
    trends = pd.DataFrame(payload.get("indicator_trends", []))
    ranged_legend = target_legend = hidden_legend = True
    for k, item in enumerate(items):
        r, c = divmod(k, cols)
        trend = trends[trends["indicator_id"] == item["indicator_id"]] if len(trends) else trends
        if trend.empty:
            continue
        labels = [kpi.school_year_label(y) for y in trend["school_year"]]
        fig.update_xaxes(tickvals=_few_ticks(labels), row=r + 1, col=c + 1)
        low = trend["low"] if "low" in trend else trend["value"]  # snapshots frozen before ranges were kept
        high = trend["high"] if "high" in trend else trend["value"]
        blank = pd.Series([formatting.says_nothing(a, b) for a, b in zip(low, high)], index=low.index, dtype=bool)
        hidden = blank | trend.get("suppressed", pd.Series(False, index=low.index)).fillna(False).astype(bool)
        exact = ((high - low).abs() < 1e-9) & ~hidden
        fig.add_trace(go.Scatter(x=labels, y=low.where(exact), mode="lines+markers", line=dict(color=SERIES[0]),
                                 showlegend=k == 0, name="Rate (all students)",
                                 hovertemplate="%{x}: %{y:.1f}%<extra></extra>"), row=r + 1, col=c + 1)
        ranged = (~exact & ~hidden & low.notna()).to_numpy()
        if ranged.any():
            fig.add_trace(go.Bar(x=[l for l, keep in zip(labels, ranged) if keep], base=low[ranged], y=(high - low)[ranged],
                                 width=0.3, marker=dict(color=SERIES[0], opacity=0.6), name="A range (≈)",
                                 showlegend=ranged_legend,
                                 customdata=[rate_text(a, b, 1) for a, b in zip(low[ranged], high[ranged])],
                                 hovertemplate="%{x}: %{customdata}<extra></extra>"),
                          row=r + 1, col=c + 1)
            ranged_legend = False
        axis = k + 1  # the subplot's own axes: x, x2, ...
        if hidden.any() and hidden_legend:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="▨ Suppressed: left out of the line",
                                     marker=dict(symbol="square", size=11, color=SUPPRESSED), hoverinfo="skip"),
                          row=r + 1, col=c + 1)
            hidden_legend = False
        for label, gone in zip(labels, hidden):
            if gone:  # the line breaks here; say why at the foot of the year, clear of the line
                fig.add_annotation(x=label, y=0, xref=f"x{axis if axis > 1 else ''}", yref=f"y{axis if axis > 1 else ''} domain",
                                   text="▨", showarrow=False, yanchor="bottom", font=dict(size=13, color=MUTED_INK),
                                   hovertext="suppressed")
        if trend["target"].notna().any():
            fig.add_trace(go.Scatter(x=labels, y=trend["target"], mode="markers", name="Target", showlegend=target_legend,
                                     marker=dict(symbol="line-ew-open", size=12, color=TARGET, line=dict(width=2)),
                                     hovertemplate="target %{y:.1f}%<extra></extra>"), row=r + 1, col=c + 1)
            target_legend = False
    fig.update_annotations(font_size=13)
    # Years below the lowest y tick, not beside it.
    fig.update_xaxes(tickfont=dict(size=11), ticklabelstandoff=6)
    # Numbers on every tick (a narrow range gave ticks that read only "%").
    fig.update_yaxes(ticksuffix="%", tickfont=dict(size=11), tickformat=".1~f", nticks=5, automargin=True)
    fig.update_layout(**base_layout(height=240 * rows + 90, margin=dict(l=50, r=10, t=80, b=10),
                                    legend=dict(orientation="h", yanchor="bottom", y=1.02 + 30 / (240 * rows), x=0)))
    return fig


AREA_COLOURS = {"rural": BLUISH_GREEN, "nonrural": REDDISH_PURPLE}
AREA_NAMES = {"rural": "Rural regions", "nonrural": "Non-rural regions"}


def locale_figure(payload: dict) -> go.Figure:
    """Each indicator's all-students rate in rural and in non-rural regions, side by side on one
    0-100% scale: exact rates as markers, ranges as bars; suppressed labelled."""
    locale = payload.get("locale") or {}
    items = list(reversed(locale.get("indicators", [])))
    names = [i["name"] + ("" if i["higher_is_better"] else " (lower is better)") for i in items]
    fig = go.Figure()
    for key, symbol, shift in (("rural", "circle", -0.15), ("nonrural", "square", 0.15)):
        colour, area = AREA_COLOURS[key], AREA_NAMES[key]
        lows = [i.get(f"{key}_low") for i in items]
        highs = [i.get(f"{key}_high") for i in items]
        exact = [lo is not None and hi is not None and abs(hi - lo) < 1e-9 for lo, hi in zip(lows, highs)]
        # A range over the whole 0–100% says nothing: labelled suppressed below, not drawn.
        blank = [formatting.says_nothing(lo, hi) for lo, hi in zip(lows, highs)]
        fig.add_trace(go.Scatter(x=[lo if e else None for lo, e in zip(lows, exact)], y=names, mode="markers", name=area,
                                 marker=dict(size=13, symbol=symbol, color=colour),
                                 hovertemplate=area + ": %{x:.1f}%<extra>%{y}</extra>"))
        ranged = [lo is not None and hi is not None and not e and not b for lo, hi, e, b in zip(lows, highs, exact, blank)]
        if any(ranged):
            fig.add_trace(go.Bar(x=[hi - lo for lo, hi, keep in zip(lows, highs, ranged) if keep],
                                 base=[lo for lo, keep in zip(lows, ranged) if keep],
                                 y=[n for n, keep in zip(names, ranged) if keep], orientation="h", width=0.25, offset=shift - 0.125,
                                 name=f"{area}, a range (≈)", marker=dict(color=colour, opacity=0.5),
                                 customdata=[rate_text(lo, hi, 1) for lo, hi, keep in zip(lows, highs, ranged) if keep],
                                 hovertemplate=area + ": %{customdata}<extra>%{y}</extra>"))
        for name, item, b in zip(names, items, blank):
            if item.get(f"{key}_suppressed") or b:
                fig.add_annotation(x=1, y=name, text=f"▨ {area.split()[0].lower()}: suppressed", showarrow=False,
                                   xanchor="left", yshift=-9 if key == "rural" else 9, font=dict(size=12, color=MUTED_INK))
    fig.update_layout(**base_layout(height=120 + 40 * len(items), barmode="overlay", margin=dict(l=10, r=20, t=60, b=50),
                                    title=dict(text=f"Rural vs non-rural regions, all students, "
                                                    f"{kpi.school_year_label(locale['school_year']) if locale.get('school_year') else ''}",
                                               font=dict(size=16)),
                                    legend=dict(orientation="h", yanchor="top", y=-0.06 - 40 / (120 + 40 * max(len(items), 1)), x=0)))
    fig.update_xaxes(range=[0, 100], ticksuffix="%", gridcolor=GRID)
    fig.update_yaxes(automargin=True, tickfont=dict(size=13))
    return fig


def locale_table(payload: dict) -> pd.DataFrame:
    locale = payload.get("locale") or {}
    limit = payload.get("threshold")
    limit = threshold() if limit is None else limit
    hidden = formatting.suppressed_text(limit, why=True)
    rows = []
    for i in locale.get("indicators", []):
        rows.append({"Indicator": i["name"], "Better when": "higher" if i["higher_is_better"] else "lower",
                     **{AREA_NAMES[k]: (hidden if i.get(f"{k}_suppressed") else
                                                 rate_text(i.get(f"{k}_low"), i.get(f"{k}_high"), 0, exact_digits=1, limit=limit)
                                                 or "no data")
                        for k in ("rural", "nonrural")}})
    reach = locale.get("reach")
    if reach:
        rows.append({"Indicator": f"Participations per 1,000 K-12 students, {kpi.quarter_label(locale['quarter'])}",
                     "Better when": "higher", **{AREA_NAMES[k]: ("suppressed" if reach[k]["suppressed"] else
                                                                      fmt_count(reach[k]["per_1000"])) for k in ("rural", "nonrural")}})
    return pd.DataFrame(rows)


# Every view of every session asks for the same few figures, captions and tables: build each once.
memo_builders(globals())
