"""/pathways — K-16 pathway funnels by student group: where students fall away, and who falls
away more. Reads filters, calls queries through the cache, composes components."""

from components.entry import through_app

through_app()  # a deep link as a server's first request must still run app.py

import streamlit as st

from components import funnel_charts as charts
from components.filters import group_labels, scope_label, shared_filters, synced_select
from components.layout import chart_block, download_csv, on_phone
from components.markup import plain
from components.store import run
from domain import funnel, sentences
from domain.suppression import threshold
from domain.gaps import reference_for
from queries import meta, pathways

NO_REFERENCE = "none"

st.title("Pathways")
st.markdown(
    "Where along the path from elementary school to postsecondary do students fall away — and who "
    "falls away more? Follow one cohort (students expected to graduate high school in the same year) "
    "stage by stage, and compare a student group with its reference group."
)

filters = shared_filters(uses=("region",), locale_scopes=True)
cohorts = run(pathways.cohorts)
if not cohorts:
    st.info(
        "**No pathway data yet.** This page needs `pathway.csv` in the alliance's data package: for each "
        "cohort, stage, region and student group, how many students reached the stage. See the **Data** "
        "page for the template.",
        icon=":material/info:",
    )
    st.stop()

labels = group_labels()
present = run(pathways.groups)
available = [g for g in present["student_group"] if g in labels] + [g for g in present["student_group"] if g not in labels]
available = sorted(available, key=lambda g: list(labels).index(g) if g in labels else len(labels))


def label_of(group_id: str) -> str:
    return "No comparison" if group_id == NO_REFERENCE else labels.get(group_id, group_id)


declared = run(meta.group_list)  # built-in groups, then a package's, with their complementary groups
complements = {g: r for g, r in zip(declared["group_id"], declared["reference_group_id"]) if isinstance(r, str) and r}


def default_reference(group_id: str) -> str:
    """The gaps' reference rule: the complementary group if the data has it, else all students;
    no comparison when that would be the group itself or is not in the pathway data."""
    reference = reference_for(group_id, "complement", complements, None, set(available))
    return reference if reference != group_id and reference in available else NO_REFERENCE


cohort = synced_select("cohort", "Cohort", [str(c) for c in cohorts], str(cohorts[-1]), charts.cohort_label,
                       help="Students expected to graduate from high school in the same year.")
default_group = next((g for g in ("econ_disadvantaged", "english_learner", "students_with_disabilities")
                      if g in available), available[0])
group = synced_select("group", "Student group", available, default_group, label_of)
if st.session_state.get("_pathways_group") not in (None, group):
    # A new group brings its own default reference (its complementary group), unless the link
    # asked for another one.
    for key in ("_filter_widget_reference", "_filter_reference"):
        st.session_state[key] = default_reference(group)
    st.query_params["reference"] = default_reference(group)
st.session_state["_pathways_group"] = group
reference = synced_select(
    "reference", "Compared with", [NO_REFERENCE] + [g for g in available if g != group], default_reference(group),
    label_of, help="By default the complementary group (e.g. not economically disadvantaged), otherwise all students.",
)

scope, area = filters.region, scope_label(filters.region)
compare = reference != NO_REFERENCE
series_ids = [group, reference] if compare else [group]
series = [label_of(g) for g in series_ids]
limit = threshold()

data = run(pathways.funnel, cohort=int(cohort), scope=scope, groups=tuple(series_ids))
if data.empty:
    st.info(plain(f"There are no pathway counts for {sentences.students(label_of(group))} in the class "
                  f"of {cohort} ({area.lower() if scope.is_alliance else area})."), icon=":material/info:")
    st.stop()

measured = funnel.measures(data)
problems = funnel.data_problems(measured, run(pathways.stages, cohort=int(cohort)), labels)
tidy = funnel.is_tidy(problems)
leak = funnel.biggest_leak(measured, group, reference) if compare else None
comparable = compare and funnel.conversion_gaps(measured, group, reference)["gap"].notna().any()

st.header(f"{charts.cohort_label(cohort)} · {plain(area)}")
message = (sentences.leak_sentence(leak, label_of(group), label_of(reference), compared=comparable) if compare
           else sentences.steepest_step_sentence(measured, group, label_of(group)))
st.markdown(f"### {plain(message)}")
serious = [p for p in problems if not p.partial]
if serious:
    st.warning(
        "**Data problems in this pathway** — these stages are flagged with ⚠ and left out of the comparison:\n"
        + "\n".join(f"- {plain(p.message)}" for p in serious),
        icon=":material/warning:",
    )
regional = [p for p in problems if p.partial]
if regional:
    rising = run(pathways.rising_counts, cohort=int(cohort), scope=scope, groups=tuple(series_ids))
    with st.expander(f"⚠ Data problem: in {rising['region_id'].nunique()} region(s) a stage count is larger than "
                     "the count at the stage before; those regions are left out of that step's conversion"):
        st.markdown("\n".join(f"- {plain(p.message)}" for p in regional))
        names = run(meta.region_list).set_index("region_id")["name"]
        listed = charts.rising_table(rising, names, label_of)
        st.dataframe(listed, hide_index=True, width="stretch")
        download_csv(listed, f"pathway_rising_counts_{cohort}.csv", key="csv_pathway_rising")

table = charts.funnel_table(measured, {g: label_of(g) for g in series_ids}, limit)
suffix = f"{cohort}_{str(scope).replace(':', '-')}_{group}" + (f"_vs_{reference}" if compare else "")
chart_block(
    charts.funnel_figure(table, series, leak=leak, tidy=tidy, limit=limit, stacked=on_phone()),
    charts.funnel_caption(table, series, cohort, area, leak),
    table, key="pathway_funnel", filename=f"pathway_funnel_{suffix}.csv",
    headline=message,  # on the projector the leak is the headline; the caption says how to read the bars
)
note = charts.left_out_note(table)
if note:
    st.markdown(note)
partial = charts.conversion_note(table)  # dots whose counts are not the bars, and why
if partial:
    st.markdown(partial)

st.header("Across cohorts: is each step getting better?")
if len(cohorts) < 2:
    st.info("Only one cohort has pathway data, so there is no trend to show yet.", icon=":material/info:")
else:
    trend_data = funnel.measures(run(pathways.conversion_trend, scope=scope, groups=tuple(series_ids)))
    summary = funnel.cohort_trend(trend_data, group, reference if compare else None)
    renamed = summary[summary["names"].str.contains(" / ", regex=False)]
    if len(renamed):
        st.warning("**Stages named differently in different cohorts** — their trends may compare different things:\n"
                   + "\n".join(f"- Stage {r.stage_order}: {plain(r.names)}" for r in renamed.itertuples()),
                   icon=":material/warning:")
    trend_table = charts.trend_table(trend_data, summary, {g: label_of(g) for g in series_ids}, series_ids)
    chart_block(
        charts.trend_figure(trend_table, series, columns=2 if on_phone() else 4),
        sentences.funnel_trend_sentence(summary, label_of(group), label_of(reference) if compare else None),
        trend_table, key="pathway_trend", filename=f"pathway_trend_{suffix}.csv",
    )

with st.expander("How these numbers are made"):
    st.markdown(
        f"""
- **Share of the cohort**: students who reached the stage, as a percent of the students at the first stage.
- **Conversion**: students who reached the stage, as a percent of those who reached the stage before.
- Area figures add up the regions' counts, then divide (pooled, never an average of regional percents).
  Shares and conversions use only the regions that show both numbers involved.
- **Each dot states its own counts** ("11 of 15": went on, of those at the stage before). Unmarked, they
  are the two bars; marked †, a region that shows one stage and not the other is left out, so they are
  fewer students than the bars. Where a count a conversion needs is suppressed, the dot says so and
  neither its rate nor its counts are shown.
- **Each bar's label is its share with the counts it is made of**: "58.7% · 2,845" when those are the bar's students
  of the first stage's; marked † ("43.8% · 2,122 of 4,845 †") when a region that shows one of the two stages and
  not the other is left out of the share, so its counts are not the bar's.
- **Suppressed** counts (fewer than {limit} students, `*` in the source file, or hidden so that another small
  count cannot be worked out by subtraction) are never shown and never counted as zero. Totals say how many
  regions' counts they leave out.
- **The stage where a group loses the most ground** is the one where its conversion falls furthest below the
  reference group's. A count that rises from the stage before is a data problem: that region is left out of
  the step's conversion, and a step whose counts rise everywhere is not compared at all.
- **Trend across cohorts**: the change in conversion from the first to the latest cohort on a straight-line
  fit; less than {funnel.CHANGE_POINTS:.0f} points either way is "little change".
"""
    )
