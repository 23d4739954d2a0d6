"""components/funnel_charts.py: figures drawn from the same table that is shown and downloaded;
suppressed bars hatched grey with a legend entry, missing ones empty, zero ones at zero; the
largest gap shaded only when it is material; small multiples for any number of stages."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components import funnel_charts as ch
from components.palette import SUPPRESSED
from domain import funnel
from tests.test_pathways_domain import E, N, frame

LABELS = {E: "Economically disadvantaged", N: "Not economically disadvantaged"}
SERIES = list(LABELS.values())


def measured():
    # Group: stage 3 suppressed (1 region), stage 4 missing; reference: stage 4 is zero.
    return funnel.measures(frame({E: [1000, 400, None, None], N: [1000, 700, 500, 0]},
                                 suppressed_regions={E: [0, 0, 1, 0], N: [0, 0, 0, 0]}))


def test_the_table_says_shown_suppressed_and_no_data():
    table = ch.funnel_table(measured(), LABELS, 10)
    group = table[table[ch.GROUP] == SERIES[0]]
    assert group[ch.COUNT_STATUS].tolist()[:2] == ["shown", "shown"]
    assert group[ch.COUNT_STATUS].iloc[2].startswith("suppressed (fewer than 10")
    assert group[ch.COUNT_STATUS].iloc[3] == ch.NO_DATA
    assert group[ch.STUDENTS].iloc[2:].isna().all() and group[ch.SHARE].tolist()[:2] == [100.0, 40.0]
    reference = table[table[ch.GROUP] == SERIES[1]]
    assert reference[ch.STUDENTS].iloc[3] == 0 and reference[ch.SHARE].iloc[3] == 0.0


def test_the_funnel_draws_exactly_the_table():
    m = measured()
    table = ch.funnel_table(m, LABELS, 10)
    leak = funnel.biggest_leak(m, E, N)
    figure = ch.funnel_figure(table, SERIES, leak=leak, limit=10)
    bars = {t.name: t for t in figure.data if t.type == "bar"}
    group = bars[SERIES[0]]
    assert list(group.x[:2]) == [100.0, 40.0]
    assert group.x[2] == ch.SUPPRESSED_STUB and group.text[2] == "suppressed"
    assert group.marker.color[2] == SUPPRESSED and group.marker.pattern.shape[2] == "/"
    assert group.x[3] == 0.0 and group.text[3] == ch.NO_DATA
    assert [row[0] for row in group.customdata] == ["1,000", "400", "", ""]
    reference = bars[SERIES[1]]
    assert reference.x[3] == 0.0 and reference.text[3] == "0.0% · 0"  # zero is a value, drawn at zero
    legend = bars["Suppressed (fewer than 10)"]
    assert legend.showlegend and legend.marker.pattern.shape == "/"
    dots = {t.name: t for t in figure.data if t.type == "scatter" and t.mode == "markers+text"}
    assert list(dots[SERIES[1]].x[1:3]) == [70.0, pytest.approx(71.4)]
    # 40% vs 70% at stage 2 is the largest gap: shaded and labelled.
    assert leak.stage_order == 2 and len(figure.layout.shapes) == 1
    # Said under the conversions' axis (clear of the dots' labels on the rows), with room for it.
    note = next(a for a in figure.layout.annotations if "largest gap" in (a.text or ""))
    assert note.text == "Shaded row: largest gap: 30.0 points"
    assert (note.yref, note.y, note.yanchor, note.yshift) == ("paper", 0, "top", -ch.NOTE_BELOW_AXIS_PX)
    assert figure.layout.margin.b >= ch.NOTE_BELOW_AXIS_PX + 13 + 10


def test_no_shading_when_the_gap_is_not_material():
    m = funnel.measures(frame({E: [1000, 600, 400, 300], N: [1000, 610, 410, 305]}))
    leak = funnel.biggest_leak(m, E, N)
    figure = ch.funnel_figure(ch.funnel_table(m, LABELS, 10), SERIES, leak=leak)
    assert not leak.material and len(figure.layout.shapes) == 0
    assert "shaded" not in ch.funnel_caption(ch.funnel_table(m, LABELS, 10), SERIES, 2025, "Alliance-wide", leak)


def test_left_out_note_names_the_stage_and_the_regions():
    m = funnel.measures(frame({E: [1000, 400, 300], N: [1000, 700, 500]}, stages=funnel_stages(3)))
    m.loc[m["stage_order"] == 3, "regions_suppressed"] = [3, 1]
    note = ch.left_out_note(ch.funnel_table(m, LABELS, 10))
    assert "**Not included in these totals:**" in note
    assert ("**3. Advanced STEM course**: 3 regions' counts for economically disadvantaged; "
            "1 region's count for not economically disadvantaged") in note
    assert ch.left_out_note(ch.funnel_table(funnel.measures(frame({E: [10, 5]}, stages=funnel_stages(2))), LABELS, 10)) == ""


def funnel_stages(n):
    from tests.test_pathways_domain import STAGES

    return STAGES[:n]


@pytest.mark.parametrize("stages", [1, 2, 4, 5, 7, 9, 12])
def test_trend_small_multiples_for_any_number_of_stages(stages):
    rows = [{ch.STAGE_NO: k + 2, ch.STAGE: f"Stage {k}", ch.COHORT: 2019 + c, ch.GROUP: name,
             ch.CONVERSION: np.nan if (k, c) == (0, 0) else 40.0 + c, ch.TREND: "improving" if name == SERIES[0] else "",
             ch.PROBLEM: ""}
            for k in range(stages) for c in range(3) for name in SERIES]
    figure = ch.trend_figure(pd.DataFrame(rows), SERIES)
    assert len(figure.data) == 2 * stages
    assert sum(1 for t in figure.data if t.showlegend) == 2
    titles = [a.text for a in figure.layout.annotations]
    assert len(titles) == stages and all("improving" in t for t in titles)
    assert figure.data[0].y[0] is None  # a suppressed conversion is a gap in the line, not a zero


def test_phone_layout_stacks_the_panels_and_names_stages_above_their_bars():
    m = measured()
    figure = ch.funnel_figure(ch.funnel_table(m, LABELS, 10), SERIES, leak=funnel.biggest_leak(m, E, N), stacked=True)
    assert figure.layout.yaxis2.domain[1] < figure.layout.yaxis.domain[0]  # conversions under the shares
    assert not figure.layout.yaxis.showticklabels
    labels = [a.text for a in figure.layout.annotations if a.xanchor == "left"]
    assert labels.count("1. Grade 5 science proficient") == 2  # once per panel
    assert {t.yaxis for t in figure.data if t.type == "scatter"} == {"y2"}


def test_each_dot_states_its_own_counts_from_the_table():
    # Group: stage 3 suppressed in its one region, so no conversion into it or out of it.
    m = measured()
    table = ch.funnel_table(m, LABELS, 10)
    figure = ch.funnel_figure(table, SERIES, limit=10)
    dots = {t.name: t for t in figure.data if t.type == "scatter" and t.mode == "markers+text"}
    # Into stage 3 and out of it (stage 4 has no count at all): a count it needs is suppressed.
    assert list(dots[SERIES[0]].text) == ["", "40.0% · 400 of 1,000", "suppressed (fewer than 10)",
                                          "suppressed (fewer than 10)"]
    assert list(dots[SERIES[1]].text)[1:] == ["70.0% · 700 of 1,000", "71.4% · 500 of 700", "0.0% · 0 of 500"]
    group = table[table[ch.GROUP] == SERIES[0]]
    assert group[ch.CONV_TO].tolist()[1] == 400 and group[ch.CONV_FROM].tolist()[1] == 1000
    assert group[ch.CONV_TO].iloc[2:].isna().all() and group[ch.CONV_FROM].iloc[2:].isna().all()
    assert group[ch.CONV_OVER].iloc[1] == ch.AS_BARS
    assert ch.conversion_note(table) == ""  # every shown conversion is the bars


def test_a_conversion_that_is_not_the_bars_is_marked_and_explained():
    from tests.test_pathways_domain import two_regions

    m = funnel.measures(two_regions([[400, 200, 100], [300, None, 60]]))
    table = ch.funnel_table(m, {"all": "All students"}, 10)
    dots = [t for t in ch.funnel_figure(table, ["All students"], limit=10).data
            if t.type == "scatter" and t.mode == "markers+text"][0]
    assert list(dots.text) == ["", "50.0% · 200 of 400 †", "50.0% · 100 of 200 †"]
    assert table[ch.CONV_OVER].tolist()[1:] == ["† only the one region that shows both stages"] * 2
    note = ch.conversion_note(table)
    assert note.startswith("**† 2 of 2 conversions count only the regions that show both stages**")
    # The example is the dot furthest from the bars' ratio: into stage 3, 50.0% against 160 of 200.
    assert ("into “Advanced STEM course”, 100 of 200 students went on in the one region that shows both stages; "
            "the bars show 160 at that stage and 200 at the one before (80.0%), but from different regions") in note


def test_a_bar_s_label_states_the_counts_its_share_is_computed_from():
    # The case: 2,132 students at "Algebra I", but the share pools only the regions that
    # show both that stage and the first: 2,122 of 4,845 (a region with 10 shows Algebra I only).
    f = frame({N: [4845, 2845, 2132]})
    at = f["stage_order"] == 3
    f.loc[at, ["share_numerator", "share_denominator"]] = [2122.0, 4845.0]
    m = funnel.measures(f)
    assert m["share_whole"].tolist() == [True, True, False]
    table = ch.funnel_table(m, LABELS, 10)
    labels = [ch.bar_label(r) for _, r in table.iterrows()]
    assert labels == ["100.0% · 4,845", "58.7% · 2,845", "43.8% · 2,122 of 4,845 †"]
    # Each label's share is exactly its own counts, to the funnel's one decimal.
    assert round(100 * 2122 / 4845, 1) == table[ch.SHARE].iloc[2] == 43.8
    figure = ch.funnel_figure(table, [SERIES[1]], limit=10)
    bar = next(t for t in figure.data if t.type == "bar" and t.name == SERIES[1])
    assert list(bar.text) == labels
    note = ch.conversion_note(table)
    assert "**† 1 of 3 shares of the cohort count only the regions that show both that stage and the first**" in note
    assert "(e.g. 2,122 of 4,845)" in note


def test_a_share_whose_cohort_is_pooled_over_fewer_regions_is_marked_too():
    f = frame({N: [4622, 2233]})
    f.loc[f["stage_order"] == 2, "share_denominator"] = 4549.0  # the first stage's count where stage 2 is shown
    m = funnel.measures(f)
    assert m["share_whole"].tolist() == [True, False]
    from domain import sentences

    assert sentences.share_label(49.1, 2233, 4549, 2233, False) == "49.1% · 2,233 of 4,549 †"
    assert sentences.share_label(float("nan"), float("nan"), float("nan"), 21, True) == "21 students"
