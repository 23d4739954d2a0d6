"""How a chart reads on a projector: every text at least 20 px and dark enough to meet WCAG AA
contrast, whatever size and colour its builder chose for a desk screen. Applied to a copy of the
figure, so a builder stays one pure function for every screen. (Streamlit's own chart theme is
turned off with `theme=None` wherever a chart is drawn: it set ticks to 12 px in #808495.)"""
from __future__ import annotations

import json
import re

import plotly.graph_objects as go

from components.palette import BLACK, WHITE

MIN_TEXT_PX = 20  # the smallest chart text in presentation mode
BASE_TEXT_PX = 22  # ticks, legends and labels the builder left at the default size
TITLE_PX = 26
TEXT = BLACK
# Dark text is darkened until it has this contrast on white: above AA's 4.5 so that it still
# has 4.5 on the light tints charts draw behind labels (the leak's highlight, pale cells).
DARK_TEXT_CONTRAST = 5.5
# Plot areas drawn no shorter than this; the chart grows to fill the screen under its headline
# (st.plotly_chart height="stretch" in a container a screen tall, components/present.py).
MIN_PLOT_HEIGHT = 340
LEGEND_LINE_CHARS = 24  # a legend name's line in presentation mode: two columns of them fit half a 1280 px screen

_INLINE_SIZE = re.compile(r"font-size:\s*(\d+(?:\.\d+)?)px")
_NOT_CARTESIAN = {"choroplethmap", "scattermap", "densitymap", "choropleth", "scattergeo", "pie", "sunburst", "treemap"}
_FONT_KEYS = ("font", "textfont", "tickfont", "insidetextfont", "outsidetextfont")


def _rgb(colour: str) -> tuple[float, float, float] | None:
    colour = colour.strip()
    if colour.startswith("#") and len(colour) in (4, 7):
        digits = colour[1:] if len(colour) == 7 else "".join(c * 2 for c in colour[1:])
        return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))
    if colour.startswith("rgb"):
        values = colour[colour.index("(") + 1: colour.index(")")].split(",")
        return tuple(float(v) for v in values[:3])
    return None


def luminance(rgb) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(_rgb(a)), luminance(_rgb(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(colour, on_white: float = DARK_TEXT_CONTRAST):
    """A text colour that reads: light text (meant for dark fills) as it is, dark text darkened
    towards black until it has `on_white` contrast on white. Non-colours pass through."""
    if not isinstance(colour, str) or (rgb := _rgb(colour)) is None or luminance(rgb) > 0.4:
        return colour
    for step in range(0, 101, 2):
        mixed = "#{:02X}{:02X}{:02X}".format(*(round(c * (1 - step / 100)) for c in rgb))
        if contrast(mixed, WHITE) >= on_white:
            return mixed
    return TEXT


def _bigger(size, floor: int):
    if isinstance(size, (list, tuple)):
        return [_bigger(s, floor) for s in size]
    return floor if size is None else max(size, floor)


def _fix_fonts(node, floor: int = MIN_TEXT_PX) -> None:
    """Every font below `node`: at least `floor` px, its colours readable."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _FONT_KEYS and isinstance(value, dict):
                if "size" in value:
                    value["size"] = _bigger(value["size"], floor)
                if "color" in value:
                    value["color"] = [readable(c) for c in value["color"]] if isinstance(value["color"], (list, tuple)) \
                        else readable(value["color"])
            if key != "hoverlabel":
                _fix_fonts(value, floor)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _fix_fonts(item, floor)


# An x axis's tick labels this far below the axis: clear of the y axis's lowest label, which
# is centred on the axis line ('0%' sat on '0' at the corner of a scatter). About half the tick size.
PROJECTOR_X_STANDOFF_PX = 14
PHONE_X_STANDOFF_PX = 8


def _axes(layout: dict, data: list, standoff: int) -> list[tuple[str, dict]]:
    """The figure's cartesian axes, those the builder left to defaults created (plotly's
    automargin is off unless asked), each making room for its labels, x tick labels `standoff`
    px below their axis. For the projector and the phone alike."""
    for trace in data:
        if trace.get("type", "scatter") not in _NOT_CARTESIAN:
            for ref in (trace.get("xaxis", "x"), trace.get("yaxis", "y")):
                layout.setdefault(ref[0] + "axis" + ref[1:], {})
    axes = [(name, axis) for name, axis in layout.items() if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict)]
    for name, axis in axes:
        axis["automargin"] = True
        if name.startswith("xaxis") and axis.get("showticklabels") is not False:
            axis["ticklabelstandoff"] = max(axis.get("ticklabelstandoff") or 0, standoff)
    return axes


def projector(figure: go.Figure) -> go.Figure:
    """A copy of `figure` for the projector: base text 22 px black, no text under 20 px, every
    text colour readable on white, titles 26 px, axes and the title making room for their
    labels; the height a floor the screen-tall container stretches."""
    # Sizes written into labels (a smaller second line: "<span style='font-size:12px'>vs …")
    # grow too, the same in every place a label occurs (it is also a category's name).
    text = _INLINE_SIZE.sub(lambda m: f"font-size:{max(float(m.group(1)), MIN_TEXT_PX):g}px", figure.to_json())
    spec = json.loads(text)
    layout = spec.setdefault("layout", {})
    _fix_fonts(spec)
    _side_by_side(layout.get("annotations") or [])
    layout["font"] = {**layout.get("font", {}), "size": BASE_TEXT_PX, "color": TEXT}
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        title["font"] = {**title.get("font", {}), "size": TITLE_PX, "color": TEXT}
        # Pinned to the top of the figure, with the margin growing to hold it (left where the
        # builder put it, a 26 px title overhung the top of the picture).
        title.update(automargin=True, yref="container", y=1, yanchor="top", pad=dict(t=20, b=10))
    layout["hoverlabel"] = {**layout.get("hoverlabel", {}), "font": {"size": BASE_TEXT_PX}}
    for _, axis in _axes(layout, spec.get("data", []), standoff=PROJECTOR_X_STANDOFF_PX):
        tickfont = axis.get("tickfont", {})
        axis["tickfont"] = {**tickfont, "size": _bigger(tickfont.get("size") or BASE_TEXT_PX, MIN_TEXT_PX)}
    # A legend under the plot was placed for the desk height (a fraction of the plot area below
    # it); the stretched height moves it onto the axis title. At the foot of the figure instead,
    # with the margin growing to hold it.
    legend = layout.get("legend") or {}
    if isinstance(legend.get("y"), (int, float)) and legend["y"] < 0:
        legend.update(yref="container", y=0, yanchor="bottom")
        layout["legend"] = legend
    if legend.get("orientation") == "h" and legend.get("yref") == "container":
        # Across the figure's width (plotly grants that to a legend left of and beyond the plot
        # area; inside it, only the plot's width).
        legend.update(xref="container", x=-0.0001, xanchor="left", y=-0.0001)
    if legend.get("orientation") == "h":
        # Plotly lays a legend that takes more than one row in columns as wide as its widest
        # entry, within the plot's width: at 22 px one long name ('Suppressed (fewer than 10
        # students)') made it one entry a row, taller than its box, scrolled and cut off.
        # Long names in short lines keep the columns narrow.
        for trace in spec.get("data", []):
            if trace.get("showlegend") is not False and isinstance(trace.get("name"), str) and "<br>" not in trace["name"]:
                trace["name"] = _wrap(trace["name"], LEGEND_LINE_CHARS)
        legend["font"] = {**legend.get("font", {}), "size": MIN_TEXT_PX}
        layout["legend"] = legend
    _room_for_side_labels(layout, data=spec.get("data", []))
    layout["height"] = MIN_PLOT_HEIGHT
    return go.Figure(spec)


def _side_by_side(annotations: list) -> None:
    """Notes a builder stacked in one row, shifted up and down from the row's centre (the
    overview's '▨ rural: suppressed' under '▨ non-rural: suppressed'), on the row's centre line
    one after the other: at 20 px two stacked lines are taller than a row on a 720 px screen,
    and met the next row's notes."""
    rows: dict[tuple, list[dict]] = {}
    for note in annotations:
        if note.get("yshift") and note.get("xanchor") == "left" and note.get("showarrow") is False:
            rows.setdefault((note.get("xref", "x"), note.get("yref", "y"), note.get("x"), note.get("y")), []).append(note)
    for notes in rows.values():
        if len(notes) < 2:
            continue
        shift = notes[0].get("xshift") or 0
        for note in sorted(notes, key=lambda n: -n["yshift"]):  # the upper one first
            size = (note.get("font") or {}).get("size") or BASE_TEXT_PX
            note.update(yshift=0, xshift=shift)
            shift += _text_width(note.get("text", ""), size) + size


# Width of a projected text, estimated (plotly does not grow a margin for an annotation): the
# widest glyphs of the sans fonts drawn here average under 0.6 em a character.
_EM_PER_CHARACTER = 0.6


def _text_width(text: str, size: float) -> float:
    lines = re.sub(r"<br\s*/?>", "\n", str(text))
    lines = re.sub(r"<[^>]+>", "", lines).split("\n")
    return max((len(line) for line in lines), default=0) * size * _EM_PER_CHARACTER


def _in_right_half(layout: dict, xref: str, x) -> bool:
    """Whether a label at `x` on that axis can reach its right end: in the right half of a range
    the builder fixed, or anywhere on an axis that sizes itself (a label at a bar's end).
    A note at the start of a row (a suppressed mark at 1%) is not."""
    axis = layout.get("xaxis" + xref[1:]) or {}
    span = axis.get("range")
    if not (isinstance(span, list) and len(span) == 2 and all(isinstance(v, (int, float)) for v in span)
            and isinstance(x, (int, float))):
        return True
    return x >= (span[0] + span[1]) / 2


def _room_for_side_labels(layout: dict, data: list) -> None:
    """The right margin holds every label written beside the plot: in the right margin (paper
    x beyond 1), or at a bar's end in the rightmost panel (its value can sit at the axis's end).
    Left where the builder sized it for 13 px, the projector's 20 px labels ran out of the chart."""
    rightmost = {name[0] + name[5:] for name, axis in layout.items() if name.startswith("xaxis") and isinstance(axis, dict)
                 and (axis.get("domain") or [0, 1])[1] >= 0.99}
    need = 0.0
    for note in layout.get("annotations") or []:
        if not isinstance(note, dict) or not note.get("text") or note.get("xanchor", "auto") not in ("left", "auto"):
            continue
        size = (note.get("font") or {}).get("size") or BASE_TEXT_PX
        width = _text_width(note["text"], size) + (note.get("xshift") or 0)
        xref = note.get("xref", "x")
        if xref == "paper" and isinstance(note.get("x"), (int, float)) and note["x"] > 1:
            need = max(need, width)  # the margin's share before it is small beside the label: ignored, padded below
        elif xref in rightmost and note.get("xanchor") == "left" and _in_right_half(layout, xref, note.get("x")):
            need = max(need, width)
    if need:
        margin = layout.setdefault("margin", {})
        margin["r"] = max(margin.get("r") or 0, int(need) + 16)


# --- phones -----------------------------------------------------------------------------------

PHONE_TEXT_PX = 13
PHONE_CHART_PX = 340  # a phone chart's width, less its margins
PHONE_EM_PER_CHARACTER = 0.62  # digits, signs and spaces of a value label
PHONE_TITLE_CHARS = 34  # a title line at 15 px that fits 390 px less the page's padding
PHONE_LABEL_CHARS = 46  # a row's name at 13 px across a phone's chart


def _wrap(text: str, width: int) -> str:
    lines, line = [], ""
    for word in str(text).split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line] if line else lines)


def _restack(layout: dict, data: list, annotations: list, shapes: list) -> list[dict] | None:
    """Two panels side by side (xaxis, xaxis2), one above the other: full width each, the
    second under the first with its own copy of a shared y axis (the same rows, in the same
    order, and names of its own). Returns the lower panel's titles (to be placed over it once
    the panels' heights are known), or None if it did not restack."""
    x1, x2 = layout.get("xaxis") or {}, layout.get("xaxis2") or {}
    if not (x1.get("domain") and x2.get("domain")) or x2["domain"][0] < x1["domain"][1] or "xaxis3" in layout:
        return None
    shared = x2.get("anchor", "y") == "y"  # the second panel draws on the first one's y axis
    lower = "y3" if shared else x2.get("anchor", "y2")
    upper_axis = layout.setdefault("yaxis", {})
    if shared:
        layout["yaxis3"] = {**upper_axis, "anchor": "x2"}
    # make_subplots' shared y matches the first panel's axis and hides its labels: apart, the
    # lower panel takes the upper one's rows and order (a row with no gap drawn is still a row).
    lower_axis = layout.setdefault("yaxis" + lower[1:], {})
    lower_axis.pop("matches", None)
    for key in ("categoryorder", "categoryarray", "autorange", "type"):
        if key in upper_axis:
            lower_axis[key] = upper_axis[key]
    x1["domain"], x2["domain"] = [0, 1], [0, 1]
    x2["anchor"] = lower
    upper_axis.update(domain=[0.56, 1])
    lower_axis.update(domain=[0, 0.40], anchor="x2", showticklabels=True)
    for trace in data:
        if trace.get("xaxis") == "x2" and trace.get("yaxis", "y") == "y":
            trace["yaxis"] = lower
    lower_titles = []
    for item in annotations + shapes:
        if item.get("xref", "").startswith("x2") and item.get("yref") in ("y", "y domain"):
            item["yref"] = item["yref"].replace("y", lower, 1)
        elif item.get("xref") == "paper" and item.get("yref") == "paper" and item.get("y", 0) >= 1 and "x" in item:
            # a panel title over a column: over its panel instead, from the left (centred, a
            # long one ran off both edges)
            right = item["x"] > 0.5
            item.update(text=_wrap(str(item.get("text", "")).replace("<br>", " "), PHONE_TITLE_CHARS), x=0, xanchor="left",
                        y=0.44 if right else 1.0, yanchor="bottom", align="left",
                        font={**(item.get("font") or {}), "size": PHONE_TEXT_PX + 1})
            if right:
                lower_titles.append(item)
    return lower_titles


NAME_LINE_PX = 17  # a line of a row's name at PHONE_TEXT_PX, with plotly's line spacing
TITLE_LINE_PX = 20  # a line of a phone chart's 15 px title
NAME_GAP_PX = 4  # between a row's name and its marks
PLOTLY_BARGAP = 0.2  # plotly's bargap when the builder sets none
PHONE_BARGAP = 0.5  # bars half a row thick under their names


def _row_extent(layout: dict, traces: list, notes: list) -> tuple[float, float]:
    """How far a row's marks reach from its centre line: in row heights (bars, which scale with
    the row) and in pixels (markers, lines and notes beside them, which do not)."""
    units, pixels = 0.0, 0.0
    for trace in traces:
        if trace.get("type") == "bar":
            width = trace.get("width")
            width = max(width) if isinstance(width, list) else width or 1 - layout.get("bargap", PLOTLY_BARGAP)
            offset = trace.get("offset")
            units = max(units, max(abs(offset), abs(offset + width)) if isinstance(offset, (int, float)) else width / 2)
        else:
            marker, line = trace.get("marker") or {}, trace.get("line") or {}
            size = marker.get("size", 6)
            size = max(size) if isinstance(size, list) else size
            if "markers" in trace.get("mode", "markers"):
                pixels = max(pixels, size / 2 + ((marker.get("line") or {}).get("width") or 0))
            if "lines" in trace.get("mode", ""):
                pixels = max(pixels, (line.get("width") or 2) / 2)
    for note in notes:
        size = (note.get("font") or {}).get("size") or PHONE_TEXT_PX
        pixels = max(pixels, abs(note.get("yshift") or 0) + 0.65 * size)
    return units, pixels


def _labels_above_rows(layout: dict, data: list, annotations: list) -> dict[str, float]:
    """Category names of horizontal bars and dots written above their rows, full width, instead
    of beside them (where a long name leaves a phone's plot a sliver). Each name sits just above
    its own row's marks, and a row is as tall as its name and marks need, so that a name meets
    neither its marks nor the row above; the axis gains room above the first row for its name.
    Returns, for each axis it changed, the pixels its rows need."""
    needs = {}
    for axis_name in [n for n in layout if n.startswith("yaxis")]:
        ref = "y" + axis_name[5:]
        traces = [t for t in data if t.get("yaxis", "y") == ref and t.get("type", "scatter") in ("bar", "scatter")
                  and (t.get("orientation") == "h" or t.get("type", "scatter") == "scatter")]
        values = [v for t in traces if isinstance(t.get("y"), list) for v in t["y"] if v is not None]
        if not values or not all(isinstance(v, str) for v in values):
            continue
        axis = layout[axis_name]
        if axis.get("showticklabels") is False:  # the builder writes its rows' names itself
            continue
        categories = list(axis.get("categoryarray") or dict.fromkeys(values))
        # A note beside a row in the right margin (a value, a status) joins the row's name.
        beside = {}
        for note in [a for a in annotations if a.get("xref") == "paper" and (a.get("x") or 0) > 1 and a.get("yref") == ref
                     and a.get("y") in categories]:
            beside[note["y"]] = note.get("text", "")
            annotations.remove(note)
        names = [_wrap(re.sub(r"<br>\s*|<[^>]+>", " ", label) + (f" · {beside[label]}" if label in beside else ""),
                       PHONE_LABEL_CHARS) for label in categories]
        in_rows = [a for a in annotations if a.get("yref", "y") == ref and a.get("y") in categories]
        if any(t.get("type") == "bar" and t.get("width") is None for t in traces):
            # Bars half a row thick: at a desk's two thirds, rows of a name and a bar were twice as tall.
            layout["bargap"] = max(layout.get("bargap", PLOTLY_BARGAP), PHONE_BARGAP)
        units, pixels = _row_extent(layout, [t for t in traces if any(v is not None for v in t.get("y") or [])], in_rows)
        name_px = NAME_LINE_PX * max(n.count("<br>") + 1 for n in names)
        # The name and the gap over it, and both rows' marks, within one row's height.
        row_px = max(2 * pixels + NAME_GAP_PX + name_px, (NAME_GAP_PX + name_px) / max(1 - 2 * units, 0.2)) + 4
        lift = max(units, pixels / row_px) + NAME_GAP_PX / row_px  # from a row's centre to its name's foot
        above = max(0.0, lift + name_px / row_px - 0.5) + 4 / row_px  # room over the first row for its name
        reverse = axis.get("autorange") == "reversed"
        span = [len(categories) - 0.5, -0.5 - above] if reverse else [-0.5, len(categories) - 0.5 + above]
        axis.update(showticklabels=False, categoryorder="array", categoryarray=categories, autorange=False, range=span)
        for k, name in enumerate(names):
            annotations.append(dict(text=name, x=0, xref="paper", xanchor="left", y=k - lift if reverse else k + lift,
                                    yref=ref, yanchor="bottom", showarrow=False, align="left",
                                    font=dict(size=PHONE_TEXT_PX, color=TEXT)))
        needs[ref] = row_px * (len(categories) + above)
    return needs


def _room_beside_bars(layout: dict, annotations: list) -> None:
    """An axis with a fixed range extends to hold the labels written beside a bar's end (a value
    such as '≈ −28 to +72 pts' at +72 ran past a phone's edge): its right end moves out until
    every left-anchored label on it ends inside, given that the axis then spans the phone."""
    for note in annotations:
        xref = note.get("xref", "x")
        axis = layout.get("xaxis" + xref[1:]) if xref.startswith("x") and xref != "x domain" else None
        span = (axis or {}).get("range")
        if not (isinstance(span, list) and len(span) == 2 and isinstance(note.get("x"), (int, float))
                and note.get("xanchor") == "left" and span[1] > span[0] and _span(axis.get("domain")) > 0.9):
            continue
        width = _text_width(note.get("text", ""), (note.get("font") or {}).get("size") or PHONE_TEXT_PX) \
            * PHONE_EM_PER_CHARACTER / _EM_PER_CHARACTER + (note.get("xshift") or 0) + 4
        share = min(width / PHONE_CHART_PX, 0.6)
        if note["x"] + share * (span[1] - span[0]) > span[1]:
            span[1] = (note["x"] - share * span[0]) / (1 - share)


def _span(domain) -> float:
    return (domain[1] - domain[0]) if isinstance(domain, list) and len(domain) == 2 else 1.0


def _lines(text) -> int:
    return str(text or "").count("<br>") + 1 if text else 0




def _panel_titles_px(layout: dict) -> int:
    """The height of the panel titles over the top of the plot (the chart's title goes above them)."""
    return sum(NAME_LINE_PX * _lines(a.get("text")) + 4 for a in layout.get("annotations") or []
               if a.get("xref") == "paper" and a.get("yref") == "paper" and a.get("y", 0) >= 1 and a.get("yanchor") == "bottom")


def _furniture_px(layout: dict, data: list) -> float:
    """The height a phone chart gives to what is not the plot: its title (and a panel's title
    over the plot), the x axis's ticks and title, and the legend. Over- rather than under-
    estimated: a plot a little taller than its rows need only spaces them more."""
    title = layout.get("title") or {}
    height = NAME_LINE_PX * 1.2 * _lines(title.get("text")) + 16 if isinstance(title, dict) else 16
    height += _panel_titles_px(layout)
    bottom = min((n for n in layout if n.startswith("xaxis")), key=lambda n: (layout[n].get("domain") or [0])[0], default=None)
    if bottom:
        axis_title = (layout[bottom].get("title") or {}) if isinstance(layout[bottom].get("title"), dict) else {}
        height += 28 + NAME_LINE_PX * _lines(axis_title.get("text"))
    entries = [t.get("name") for t in data if t.get("name") and t.get("showlegend") is not False
               and (t.get("showlegend") or len(data) > 1)]
    if entries and layout.get("showlegend") is not False:
        # plotly lays a legend of several rows in columns as wide as its widest entry
        widest = max(40 + 7 * max(len(line) for line in str(e).split("<br>")) for e in entries)
        per_row = max(1, int(PHONE_CHART_PX // widest))
        height += 12 + 20 * -(-len(entries) // per_row) * max(_lines(e) for e in entries)
    return height


def phone(figure: go.Figure) -> go.Figure:
    """A copy of `figure` for a phone (about 360 px of chart width): two panels side by side
    restacked one above the other, the title wrapped, margins only as wide as the labels need,
    the legend under the chart."""
    spec = json.loads(figure.to_json())
    layout = spec.setdefault("layout", {})
    data = spec.get("data", [])
    annotations, shapes = layout.get("annotations") or [], layout.get("shapes") or []
    # before rows are moved: a sector chart with no yaxis in its layout kept its names beside
    _axes(layout, data, standoff=PHONE_X_STANDOFF_PX)
    lower_titles = _restack(layout, data, annotations, shapes)
    restacked = lower_titles is not None
    rows = _labels_above_rows(layout, data, annotations)
    wrapped = {}
    for trace in data:
        if trace.get("type") == "heatmap":
            if len(trace.get("x") or []) > 6:  # a wide grid's numbers would run into each other: colours and the table say them
                trace["texttemplate"] = ""
            if isinstance(trace.get("y"), list):  # row names in short lines, so that the grid keeps the width
                trace["y"] = [wrapped.setdefault(v, _wrap(v, 16)) if isinstance(v, str) else v for v in trace["y"]]
    for trace in data:  # a value beside its bar's end: inside the bar when the bar reaches the edge
        if trace.get("type") == "bar" and trace.get("textposition") == "outside":
            trace["textposition"] = "auto"
            trace.setdefault("textangle", 0)  # level: plotly turned a value inside a thin bar on its side
    # Bar labels that do not fit at a readable size are left out (hover and the table have them)
    # rather than shrunk to 8 px.
    layout["uniformtext"] = dict(minsize=11, mode="hide")
    layout["annotations"], layout["shapes"] = annotations, shapes
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        # Over the plot area, the top margin growing to hold every line (a wrapped title pinned to
        # the top of the picture ran out of it).
        # Plotly anchors a title of several lines by its first: the lines under it need room too.
        text = _wrap(title["text"].replace("<br>", " "), PHONE_TITLE_CHARS)
        title.update(text=text, x=0, xanchor="left", xref="container", font={**title.get("font", {}), "size": 15},
                     automargin=True, yref="paper", y=1, yanchor="bottom",
                     pad=dict(t=4, b=8 + _panel_titles_px(layout) + TITLE_LINE_PX * (_lines(text) - 1), l=4))
    layout["margin"] = {**layout.get("margin", {}), "l": 4, "r": 8}
    for name, axis in _axes(layout, data, standoff=PHONE_X_STANDOFF_PX):
        title = axis.get("title")
        if isinstance(title, dict) and title.get("text"):  # axis titles in short lines at body size
            title.update(text=_wrap(title["text"].replace("<br>", " "), 40),
                         font={**title.get("font", {}), "size": PHONE_TEXT_PX})
        ticks = axis.get("categoryarray")
        if name.startswith("xaxis") and isinstance(ticks, list) and len(ticks) > 4 and "tickvals" not in axis:
            axis["tickvals"] = [ticks[0], ticks[len(ticks) // 2], ticks[-1]]  # first, middle, last: no overlap
        if isinstance(axis.get("categoryarray"), list) and wrapped:
            axis["categoryarray"] = [wrapped.get(v, v) for v in axis["categoryarray"]]
    legend = layout.get("legend") or {}
    legend.update(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left",
                  font={**legend.get("font", {}), "size": PHONE_TEXT_PX - 1})
    layout["legend"] = legend
    _room_beside_bars(layout, annotations)
    for item in annotations:  # panel titles of stacked panels: from the left, in lines a phone holds
        if item.get("xref") == "paper" and item.get("yref") == "paper" and item.get("xanchor") == "center" \
                and 0 < (item.get("x") or 0) < 1 and _text_width(item.get("text", ""), PHONE_TEXT_PX + 1) > PHONE_CHART_PX:
            item.update(text=_wrap(str(item["text"]).replace("<br>", " "), PHONE_TITLE_CHARS), x=0, xanchor="left",
                        align="left", font={**(item.get("font") or {}), "size": PHONE_TEXT_PX + 1})
    lower = layout.get("xaxis2", {}).get("anchor", "y2") if restacked else None
    if restacked and {"y", lower} <= set(rows):
        # Each panel as tall as its rows need, with the upper panel's ticks and the lower one's
        # title between them.
        between = 40 + sum(NAME_LINE_PX * _lines(t.get("text")) for t in lower_titles)
        plot = rows["y"] + between + rows[lower]
        layout["yaxis"]["domain"] = [1 - rows["y"] / plot, 1]
        layout["yaxis" + lower[1:]]["domain"] = [0, rows[lower] / plot]
        for item in lower_titles:
            item["y"] = rows[lower] / plot
        layout["height"] = int(_furniture_px(layout, data) + plot)
    elif rows:  # as tall as its rows need, and what is around the plot
        share = {ref: _span(layout["yaxis" + ref[1:]].get("domain")) for ref in rows}
        layout["height"] = int(_furniture_px(layout, data) + max(px / share[ref] for ref, px in rows.items()))
    elif restacked:
        layout["height"] = int((layout.get("height") or 450) * 1.6)
    return go.Figure(spec)
