"""/pathways in a real browser with the network blocked: the funnel is drawn, the stage counts
and shares it draws are the numbers the query returns, and the page's headline, funnel caption
and trend caption are the sentences built from those same numbers."""
from __future__ import annotations

import math

import pytest

from components import funnel_charts
from components.filters import scope_label
from data.db import get_engine
from domain import funnel, sentences
from domain.suppression import threshold
from queries import meta, pathways
from tests.browser import new_visit, spoken
from domain.scope import Scope

pytestmark = pytest.mark.browser

GROUP, REFERENCE = "econ_disadvantaged", "not_econ_disadvantaged"
LABELS = {GROUP: "Economically disadvantaged", REFERENCE: "Not economically disadvantaged"}


def expected(demo_store_url: str, scope: str):
    engine = get_engine(demo_store_url)
    cohort = pathways.cohorts(engine)[-1]
    return cohort, funnel.measures(pathways.funnel(engine, cohort=cohort, scope=Scope.from_param(scope), groups=(GROUP, REFERENCE)))


def drawn_bars(visit) -> dict[str, dict]:
    """The funnel's bars as the browser holds them, by group name."""
    return {trace["name"]: trace for trace in visit.figure_data(0)
            if trace.get("type") == "bar" and trace.get("name") in LABELS.values()}


def _sentences(demo_store_url: str, scope: str, cohort: int, measured):
    """The page's headline and its two chart captions, from the sentence functions."""
    engine = get_engine(demo_store_url)
    names = dict(zip(meta.region_list(engine)["region_id"], meta.region_list(engine)["name"]))
    leak = funnel.biggest_leak(measured, GROUP, REFERENCE)
    compared = funnel.conversion_gaps(measured, GROUP, REFERENCE)["gap"].notna().any()
    table = funnel_charts.funnel_table(measured, LABELS, threshold())
    series = [LABELS[GROUP], LABELS[REFERENCE]]
    trend = funnel.cohort_trend(funnel.measures(pathways.conversion_trend(engine, scope=Scope.from_param(scope), groups=(GROUP, REFERENCE))),
                                GROUP, REFERENCE)
    return (sentences.leak_sentence(leak, LABELS[GROUP], LABELS[REFERENCE], compared=compared),
            [funnel_charts.funnel_caption(table, series, cohort, scope_label(Scope.from_param(scope), names), leak),
             sentences.funnel_trend_sentence(trend, LABELS[GROUP], LABELS[REFERENCE])])


@pytest.mark.parametrize("scope", ["all", "47061"])  # alliance-wide; Grundy County, small and partly suppressed
def test_funnel_is_drawn_offline_with_the_query_numbers(offline_browser, demo_server, demo_store_url, scope):
    cohort, measured = expected(demo_store_url, scope)
    url = f"{demo_server}/pathways?region={scope}&cohort={cohort}&group={GROUP}&reference={REFERENCE}"
    visit = new_visit(offline_browser, url, wait_for_plots=2)
    try:
        assert visit.outside_requests == []
        assert visit.error_boxes() == []
        assert visit.unexpected_console_errors() == []
        # The headline names a leak, says the groups keep pace, or, where no step has a conversion
        # for both groups (a small county whose reference group's counts are suppressed before a
        # step: Grundy County's not economically disadvantaged Grade 5 counts), says nothing can
        # be compared. Which one is decided here from the query's conversions, not the page's.
        conversions = measured.pivot(index="stage_order", columns="student_group", values="conversion")
        comparable = conversions.reindex(columns=[GROUP, REFERENCE]).notna().all(axis=1).any()
        headline = " ".join(visit.headings())
        if comparable:
            assert any(words in headline for words in ("lose the most ground", "keep pace with", "at every stage that can be compared"))
        else:
            assert "No stage's conversion can be compared between economically disadvantaged students and " \
                   "not economically disadvantaged students" in headline
        bars = drawn_bars(visit)
        assert set(bars) == set(LABELS.values())
        for group, label in LABELS.items():
            rows = measured[measured["student_group"] == group].sort_values("stage_order")
            trace = bars[label]
            assert len(trace["y"]) == len(rows)
            for row, custom, text, x in zip(rows.itertuples(), trace["customdata"], trace["text"], trace["x"]):
                if row.status == "shown":
                    assert custom[0] == f"{row.students:,.0f}"  # the stage count
                    if math.isnan(row.share):
                        assert text == f"{row.students:,.0f} students"
                    else:
                        assert x == pytest.approx(row.share) and text.startswith(f"{row.share:.1f}% · ")
                        # The label states the counts its share is computed from: the bar's own
                        # students where they are the share's, else the share's counts, marked †.
                        if row.share_whole:
                            assert text == f"{row.share:.1f}% · {row.students:,.0f}"
                        else:
                            assert text == f"{row.share:.1f}% · {row.share_numerator:,.0f} of {row.share_denominator:,.0f} †"
                        assert round(100 * row.share_numerator / row.share_denominator, 1) == pytest.approx(row.share)
                elif row.status == "suppressed":
                    assert custom[0] == "" and text == "suppressed"
                else:
                    assert text == "no data"
        if scope != "all":
            assert any(t == "suppressed" for trace in bars.values() for t in trace["text"])
        # the sentences shown are the ones made from the same numbers
        heading, captions = _sentences(demo_store_url, scope, cohort, measured)
        assert spoken(heading) in visit.headings()
        assert [c for c in visit.captions() if c in map(spoken, captions)] == [spoken(c) for c in captions]
    finally:
        visit.page.context.close()
