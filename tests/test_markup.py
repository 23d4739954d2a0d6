"""components.markup: a name with markup shows as typed in Streamlit's markdown and in Plotly."""
from __future__ import annotations

import numpy as np

from components.markup import WORD_JOINER, inert, plain


def test_plain_escapes_links_images_html_and_formatting_but_not_numbers():
    assert plain("[L](x) ![I](y) <b>z</b> **B** _i_ `c` $m$ a|b ~s~ #h") == (
        r"\[L\](x) \!\[I\](y) \<b\>z\</b\> \*\*B\*\* \_i\_ \`c\` \$m\$ a\|b \~s\~ \#h")
    assert plain("12.5% of 1,200 (2024-25): −3.0 points") == "12.5% of 1,200 (2024-25): −3.0 points"


def test_plain_breaks_bare_addresses_with_an_invisible_joiner():
    assert plain("http://e.x www.e.x a@e.x") == f"http:{WORD_JOINER}//e.x www{WORD_JOINER}.e.x a@{WORD_JOINER}e.x"
    assert plain("HTTPS://E.X").replace(WORD_JOINER, "") == "HTTPS://E.X"


def test_inert_keeps_the_builders_tags_and_shows_any_other_as_typed():
    spec = {"data": [{"text": np.array(["<a href='h'>x</a>", "ok"], dtype=object), "x": np.array([1.0, 2.0]),
                      "hovertemplate": "%{y}<br><b>%{x}</b><extra></extra>"}],
            "layout": {"title": {"text": "<span style='color:red'>T</span> <img src=x> <script>"}}}
    out = inert(spec)
    assert out["data"][0]["text"].tolist() == ["&lt;a href='h'>x&lt;/a>", "ok"]
    assert out["data"][0]["x"] is spec["data"][0]["x"]  # numbers pass untouched
    assert out["data"][0]["hovertemplate"] == "%{y}<br><b>%{x}</b><extra></extra>"
    assert out["layout"]["title"]["text"] == "<span style='color:red'>T</span> &lt;img src=x> &lt;script>"
