"""/gaps in a real browser with the network blocked: no error box, no console error, no request
leaving the machine, all five charts drawn, no drawn number belongs to a suppressed group, and
each chart's caption is the sentence domain/sentences.py makes of the table that chart draws."""
from __future__ import annotations

import math

import pytest

from data.db import get_engine
from domain import sentences
from domain.formatting import gap_says_nothing, says_nothing
from queries import gaps, meta
from tests.browser import new_visit, spoken
from domain.scope import Scope

pytestmark = pytest.mark.browser


def _indicator_with_gaps(engine, year: str) -> str:
    """Graduation, or else the first indicator with a gap shown alliance-wide: a rate published as
    the whole 0-100% (the privacy audit's band complements, issue 14) is suppressed, and in the
    demo that hides all students' graduation rate, every group's reference there."""
    ids = ["grad4", *meta.indicator_list(engine)["indicator_id"]]
    return next(i for i in ids if gaps.gap_table(engine, i, Scope.from_param("all"), year, "complement")["gap"].notna().any())


@pytest.mark.parametrize("scope", ["all", "47061"])  # alliance-wide; Grundy County, small and partly suppressed
def test_gaps_page_draws_offline_and_never_draws_a_suppressed_value(offline_browser, demo_server, demo_store_url, scope):
    engine = get_engine(demo_store_url)
    year = "2024-25"
    indicator = _indicator_with_gaps(engine, year) if scope == "all" else "grad4"
    table = gaps.gap_table(engine, indicator, Scope.from_param(scope), year, "complement")
    hidden_labels = set(table.loc[table["suppressed"], "group_label"])
    shown_labels = set(table.loc[table["gap"].notna(), "group_label"])
    url = f"{demo_server}/gaps?indicator={indicator}&region={scope}&year={year}&reference=complement&group=econ_disadvantaged"
    visit = new_visit(offline_browser, url, wait_for_plots=5)
    try:
        assert visit.outside_requests == []
        assert visit.error_boxes() == []
        assert visit.unexpected_console_errors() == []
        assert visit.plot_count() == 5
        body = visit.page.inner_text("body")
        assert "Equity gaps" in body and "How to read these charts" in body
        # 1. the gap chart: every drawn point belongs to a shown group, with the query's gap
        traces = visit.figure_data(0)
        drawn = {}
        for trace in traces:
            for x, y in zip(trace.get("x") or [], trace.get("y") or []):
                if x is None or y is None:
                    continue
                group = y.split("<br>")[0]
                assert group not in hidden_labels, f"{group} is suppressed but drawn at {x}"
                drawn.setdefault(trace.get("name"), {})[group] = x
        # Since banding (bc06cc2) a gap whose rates are ranges is drawn as a floating bar from its
        # gap_low to its gap_high ("Gap, approximate (≈ range)"), an exact one as a bar from zero
        # ("Gap (points)"): every shown gap is drawn one of the two ways, and only shown ones.
        # (Grundy County has no shown gap in the demo: every reference there is suppressed.)
        gap_bars = drawn.get("Gap (points)", {})
        expected = dict(zip(table["group_label"], table["gap"]))
        for group, x in gap_bars.items():
            assert x == pytest.approx(expected[group])
        gap_ranges = {}
        for trace in traces:
            if trace.get("name") != "Gap, approximate (≈ range)":
                continue
            for base, width, y in zip(trace.get("base") or [], trace.get("x") or [], trace.get("y") or []):
                gap_ranges[y.split("<br>")[0]] = (base, base + width)
        low_of = dict(zip(table["group_label"], table["gap_low"]))
        high_of = dict(zip(table["group_label"], table["gap_high"]))
        for group, (low, high) in gap_ranges.items():
            assert (low, high) == (pytest.approx(low_of[group]), pytest.approx(high_of[group])), group
        assert not set(gap_bars) & set(gap_ranges)
        # A range that says nothing is never drawn: no rate bar over the whole 0-100%, no gap range
        # as wide as the scale (those are suppressed or "not comparable", as the table says).
        for trace in traces:
            for base, width in zip(trace.get("base") or [], trace.get("x") or []):
                if base is None or width is None:
                    continue
                if trace.get("name", "").startswith("Gap"):
                    assert not gap_says_nothing(base, base + width), (trace.get("name"), base, width)
                else:
                    assert not says_nothing(base, base + width), (trace.get("name"), base, width)
        from components.gap_charts import _shown_gaps  # each comparison once (no mirrored pair)
        compared = _shown_gaps(table)
        assert set(gap_bars) | set(gap_ranges) == set(compared.loc[compared["gap"].notna(), "group_label"])
        assert set(gap_bars) | set(gap_ranges) <= shown_labels
        if scope == "all":
            assert shown_labels, "the alliance-wide chart should show gaps"
        # group sizes drawn (hover data of the rate dots) are never small counts
        rate_dots = next(t for t in traces if t.get("name") == "Group's rate")
        for _, size in rate_dots.get("customdata") or []:
            assert int(size.replace(",", "")) == 0 or int(size.replace(",", "")) >= 10
        rates = gaps.group_rates(engine, (indicator,), Scope.from_param(scope), (year,))
        assert rates.loc[rates["suppressed"], ["rate_low", "rate_high", "denominator"]].isna().all().all()
        if scope != "all":
            assert hidden_labels, "Grundy County should have suppressed groups"
            assert "suppressed" in body
        # heat map: suppressed cells carry no gap value
        heat = gaps.gap_heatmap(engine, Scope.from_param(scope), year, "complement")
        heat_traces = {t["name"]: t for t in visit.figure_data(3)}
        z, xs, ys = heat_traces["Gap"]["z"], heat_traces["Gap"]["x"], heat_traces["Gap"]["y"]
        cell = {(y, x): z[i][j] for i, y in enumerate(ys) for j, x in enumerate(xs)}
        from components.gap_charts import short
        for row in heat[heat["suppressed"] & ~heat["is_reference"]].itertuples():
            value = cell.get((row.indicator_name, short(row.student_group, row.group_label)))
            assert value is None or (isinstance(value, float) and math.isnan(value))
        # the captions read the same tables
        indicators = meta.indicator_list(engine).set_index("indicator_id")
        name, better = indicators.loc[indicator, "name"], bool(indicators.loc[indicator, "higher_is_better"])
        _, summary = gaps.gap_trends(engine, indicator, Scope.from_param(scope), "complement")
        expected_captions = [
            sentences.gap_caption(table, name, better, year),
            sentences.change_caption(summary),
            sentences.trend_caption(summary, "econ_disadvantaged", name),
            sentences.heatmap_caption(heat, year),
            sentences.locale_caption(gaps.locale_gaps(engine, indicator, year, "complement"), year),
        ]
        shown = visit.captions()
        for sentence in expected_captions:
            assert spoken(sentence) in shown, (sentence, shown)
        assert [c for c in shown if c in map(spoken, expected_captions)] == [spoken(c) for c in expected_captions]
    finally:
        visit.page.context.close()
