"""Colours and chart styling shared by every figure: the Okabe-Ito palette (safe for
colour-blind viewers and projectors), and how suppressed and missing values look."""
from __future__ import annotations

# Every colour a figure uses is named here (tests/test_layers.py keeps other modules from typing their own).
# The Okabe-Ito colours:
BLACK, ORANGE, SKY_BLUE, BLUISH_GREEN = "#000000", "#E69F00", "#56B4E9", "#009E73"
YELLOW, BLUE, VERMILLION, REDDISH_PURPLE = "#F0E442", "#0072B2", "#D55E00", "#CC79A7"
WHITE = "#FFFFFF"
# Text and lines, darkest first: body text, axis and zero lines, notes and margins.
INK, DARK_INK, MUTED_INK = "#1A1A1A", "#333333", "#555555"
# Greys for marks that carry no colour meaning: neither ahead nor behind, legend entries explaining a
# style, neutral markers, no target, a zero line, funnel connectors, and gridlines.
DARK_GREY, STYLE_GREY, GREY, MID_GREY, LIGHT_GREY, LINE_GREY, GRID = (
    "#5F5F5F", "#6B6B6B", "#777777", "#7F7F7F", "#999999", "#9E9E9E", "#E5E5E5")
# Pale and dark tints of blue and orange: count heat maps (pale to mid blue), earlier quarters,
# the bars behind a highlighted one, and text on a pale orange area.
PALE_BLUE, LIGHT_BLUE, GREYISH_BLUE, MID_BLUE = "#DCEAF6", "#9CC3E0", "#B8CDE0", "#2171B5"
PALE_ORANGE, DARK_ORANGE = "#E7A977", "#8A3A00"
# Categorical order for series: strong contrasts first; yellow last (weak on white).
SERIES = [BLUE, ORANGE, BLUISH_GREEN, VERMILLION, REDDISH_PURPLE, SKY_BLUE, BLACK, YELLOW]
# A chosen group against its reference group.
FOCUS, REFERENCE = VERMILLION, BLUE
TARGET = BLACK
# Suppressed is grey with a hatch pattern: visibly not zero and not missing (missing is blank).
SUPPRESSED = "#9E9E9E"
SUPPRESSED_PATTERN = "/"
MISSING = WHITE
# Diverging scale around zero for gaps: blue = better than the reference, orange = worse.
DIVERGING = [[0.0, "#B35806"], [0.25, "#F1A340"], [0.5, "#F7F7F7"], [0.75, "#67A9CF"], [1.0, "#2166AC"]]
# The same scale for cells that carry their number in black text: its ends light enough for 6:1.
DIVERGING_UNDER_TEXT = [[0.0, "#E08214"], [0.25, "#F1A340"], [0.5, "#F7F7F7"], [0.75, "#67A9CF"], [1.0, "#4393C3"]]
# Counts in cells that carry their number in black text (programs by type x grade band): pale to
# mid blue, 5.8:1 or more for the text.
CELLS_UNDER_TEXT = [[0.0, PALE_BLUE], [1.0, "#4393C3"]]
# Sequential scale for coverage (light = low, dark = high), readable in greyscale.
SEQUENTIAL = [[0.0, "#F7FBFF"], [0.25, "#C6DBEF"], [0.5, "#6BAED6"], [0.75, "#2171B5"], [1.0, "#08306B"]]

FONT = dict(family="sans-serif", size=15, color=INK)


def base_layout(**overrides) -> dict:
    """Layout every figure starts from: readable type, white background, no clutter."""
    layout = dict(
        font=FONT, paper_bgcolor="white", plot_bgcolor="white", margin=dict(l=10, r=10, t=50, b=10),
        hoverlabel=dict(font_size=14), legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        colorway=SERIES,
    )
    layout.update(overrides)
    return layout
