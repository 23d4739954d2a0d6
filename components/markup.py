"""Text from the data or typed by a user, made inert for what draws it: Streamlit's markdown
(captions, headers, metrics, button labels) and Plotly's chart text both render some markup,
and a name such as `[Click](http://…)` or `<a href='…'>` must show as typed, never as a link,
an image or HTML."""
from __future__ import annotations

import re

import numpy as np

# What Streamlit's markdown would turn into formatting, a link, an image, HTML, maths ($) or a
# table (|). Line-start list and heading marks (`-`, `1.`, `#`) matter only in multi-line text
# and are left alone, so that numbers and dates read as they are in the sentence.
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>#~$|!"})
# A bare address (`http://…`, `www.…`, `name@host`) becomes a live link whatever is escaped
# (GFM autolinks read the text after escapes): an invisible word joiner breaks the pattern.
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)")
WORD_JOINER = "\u2060"


def plain(text: str) -> str:
    """Text from the data or typed by a user (a region's name, a sentence built from it) for
    st.markdown, st.caption, a header, a metric or a button label: every character markdown
    would read as formatting, a link, an image or HTML is escaped, so it shows as typed."""
    return _AUTOLINK.sub(WORD_JOINER, str(text).translate(_MARKDOWN_SPECIAL))


# Plotly draws a few HTML tags in any chart text: the ones the figure builders use stay, every
# other `<` (a link `<a href>`, an image, a script typed into a name) is shown as typed.
_OWN_TAGS = re.compile(r"<(?!(?:br|/?b|/?extra|/?span)[\s>/])", re.IGNORECASE)


def inert(spec):
    """A figure's dict (or any part of it) with every string's `<` that does not open one of the
    builders' own tags written as `&lt;`, which Plotly shows as `<`."""
    if isinstance(spec, str):
        return _OWN_TAGS.sub("&lt;", spec)
    if isinstance(spec, dict):
        return {k: inert(v) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [inert(v) for v in spec]
    if isinstance(spec, np.ndarray) and spec.dtype.kind in "OUS":  # labels, customdata
        return np.array([inert(v) for v in spec.ravel().tolist()], dtype=object).reshape(spec.shape)
    return spec
