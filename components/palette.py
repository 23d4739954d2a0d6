"""Colours and chart styling shared by every figure: the Okabe-Ito palette (safe for
colour-blind viewers and projectors), and how suppressed and missing values look."""
from __future__ import annotations

# Categorical order for series: strong contrasts first; yellow last (weak on white).
SERIES = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
# A chosen group against its reference group.
FOCUS, REFERENCE = "#D55E00", "#0072B2"
TARGET = "#000000"
# Suppressed is grey with a hatch pattern: visibly not zero and not missing (missing is blank).
SUPPRESSED = "#9E9E9E"
SUPPRESSED_PATTERN = "/"
MISSING = "#FFFFFF"
# Diverging scale around zero for gaps: blue = better than the reference, orange = worse.
DIVERGING = [[0.0, "#B35806"], [0.25, "#F1A340"], [0.5, "#F7F7F7"], [0.75, "#67A9CF"], [1.0, "#2166AC"]]
# Sequential scale for coverage (light = low, dark = high), readable in greyscale.
SEQUENTIAL = [[0.0, "#F7FBFF"], [0.25, "#C6DBEF"], [0.5, "#6BAED6"], [0.75, "#2171B5"], [1.0, "#08306B"]]

FONT = dict(family="sans-serif", size=15, color="#1A1A1A")


def base_layout(**overrides) -> dict:
    """Layout every figure starts from: readable type, white background, no clutter."""
    layout = dict(
        font=FONT, paper_bgcolor="white", plot_bgcolor="white", margin=dict(l=10, r=10, t=50, b=10),
        hoverlabel=dict(font_size=14), legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        colorway=SERIES,
    )
    layout.update(overrides)
    return layout
