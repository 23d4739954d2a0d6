"""/gaps — equity gaps by student group: for each outcome, how far behind each group is, whether
the gap is closing, and whether targets are met. Thin: filters in, queries via the cache,
figures from components/gap_charts.py."""

from components.entry import through_app

through_app()  # a deep link as a server's first request must still run app.py

import streamlit as st

from components import gap_charts as charts
from components.filters import group_labels, scope_label, shared_filters, synced_select
from components.layout import chart_block, presented_text
from components.markup import plain
from components.store import run
from domain import sentences
from domain.gaps import headline_indicator
from domain.suppression import threshold
from queries import gaps, meta

st.title("Equity gaps")
st.markdown(
    "For each outcome: how far behind each student group is, whether the gap is closing, and whether "
    "targets are met. A gap is a group's rate minus its reference group's rate, in percentage points; "
    "rates are pooled (numerators and denominators added up across regions, then divided)."
)

indicator_list = run(meta.indicator_list)
if indicator_list.empty:
    st.info("No outcome indicators are loaded yet. Import `indicators.csv` and `outcomes.csv` (see the **Data** page).")
    st.stop()

filters = shared_filters(uses=("region", "year"), locale_scopes=True)
names = dict(zip(indicator_list["indicator_id"], indicator_list["name"]))
higher = dict(zip(indicator_list["indicator_id"], indicator_list["higher_is_better"].astype(bool)))
descriptions = dict(zip(indicator_list["indicator_id"], indicator_list["description"]))
stages = dict(zip(indicator_list["indicator_id"], indicator_list["stage"]))
headline = headline_indicator(names, [stages[i] for i in names])  # e.g. graduation, the usual headline
indicator = synced_select("indicator", "Indicator", list(names), headline, lambda i: names.get(i, i))
labels = group_labels()
group = synced_select("group", "Student group (over time)", [g for g in labels if g != "all"], "econ_disadvantaged",
                      lambda g: labels.get(g, g))
reference_names = {"complement": "Complementary group (default)", "all": "All students", "best": "Highest-performing group"}
reference = synced_select(
    "reference", "Compare with", [*reference_names, *[g for g in labels if g != "all"]], "complement",
    lambda r: reference_names.get(r, labels.get(r, r)),
    help="The complementary group is the group's opposite (economically disadvantaged vs. not); groups without one "
         "(race and ethnicity), or whose opposite the data does not report, are compared with all students.",
)
limit = threshold()
scope, year = filters.region, filters.year
name, better = names[indicator], higher[indicator]
area = scope_label(scope)

with presented_text("indicator"):  # which outcome and area the charts are about, also on the projector
    st.markdown(f"**{plain(name)}** · {plain(area)} · {'higher is better' if better else 'lower is better'}")
if isinstance(descriptions.get(indicator), str):
    st.caption(plain(descriptions[indicator]))

targets = run(gaps.indicator_targets, indicator=indicator, scope=scope)

# 1. gaps for one indicator ---------------------------------------------------------------
st.header(f"How far behind is each group? {charts.school_year_label(year)}")
table = run(gaps.gap_table, indicator=indicator, scope=scope, year=year, reference=reference)
chart_block(
    charts.gap_figure(table, name, better, year, targets, limit),
    sentences.gap_caption(table, name, better, year),
    charts.gap_table_view(table, targets, year), key="gaps", filename=f"gaps_{indicator}_{year}.csv",
)

# 2. over time ----------------------------------------------------------------------------
st.header("Is the gap closing?")
by_year, summary = run(gaps.gap_trends, indicator=indicator, scope=scope, reference=reference)
chart_block(
    charts.change_figure(summary, name), sentences.change_caption(summary), charts.change_table_view(summary),
    key="gap_change", filename=f"gap_change_{indicator}.csv",
)
st.markdown(f"**{plain(labels.get(group, group))}, year by year**")
chart_block(
    charts.trend_figure(by_year, group, targets, better), sentences.trend_caption(summary, group, name),
    charts.trend_table_view(by_year, group, targets), key="gap_trend", filename=f"gap_trend_{indicator}_{group}.csv",
)

# 3. everything on one screen -------------------------------------------------------------
st.header("Every indicator at a glance")
heat = run(gaps.gap_heatmap, scope=scope, year=year, reference=reference)
chart_block(
    charts.heatmap_figure(heat, year, limit), sentences.heatmap_caption(heat, year), charts.heatmap_table_view(heat),
    key="gap_heatmap", filename=f"gap_heatmap_{year}.csv",
)

# 4. rural vs non-rural -------------------------------------------------------------------
st.header("Rural vs non-rural regions")
locale = run(gaps.locale_gaps, indicator=indicator, year=year, reference=reference)
chart_block(
    charts.locale_figure(locale, name, year, limit), sentences.locale_caption(locale, year), charts.locale_table_view(locale),
    key="gap_locale", filename=f"gap_rural_{indicator}_{year}.csv",
)
if scope.is_region:
    st.caption("This comparison always covers the whole alliance, whatever area is chosen above.")

st.markdown(
    f"**How to read these charts.** Blue: better than the reference group; orange: worse (for measures where "
    f"lower is better, such as chronic absence, a higher rate is worse). **▨ / S, grey: suppressed** — fewer than "
    f"{limit} students, or a value that could otherwise be worked out by subtraction from a total, so it is hidden "
    "everywhere, including the downloads. Blank or *no data*: not reported. **≈**: built from range-coded public "
    "data (e.g. 90–94%), or a band that hides a small number of students meeting (or not meeting) the measure "
    f"(fewer than {limit}), so shown as a range. Error bars are 95% margins from group sizes; a gap is called closing "
    "or widening only when its change is larger than that uncertainty and at least 1 point."
)
