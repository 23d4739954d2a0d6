"""/coverage — where students have few or no STEM opportunities, and where the next program or
partner should go. Thin: filters in, queries via the cache, figures from components/maps.py and
components/coverage_charts.py. Clicking a region on the map or the scatter selects it (the
`region` query parameter), as does the sidebar's region selector."""

from components.entry import through_app

through_app()  # a deep link as a server's first request must still run app.py

import pandas as pd
import streamlit as st

from components import coverage_charts as charts
from components import glance_charts as glance
from components import maps
from components.exports import export_buttons, file_stem
from components.filters import group_labels, scope_label, scope_options, shared_filters, synced_select
from components.layout import chart_block, presented_text
from components.markup import plain
from components.store import run
from domain.coverage import DEFAULT_ORDER, DISTANCE_BASIS_TEXT, METRICS, ORDER_METRIC, ORDERS, distance_text
from domain.suppression import threshold
from domain.vocabulary import label
from queries import coverage, meta
from domain.scope import ALLIANCE, Scope

NONE = ALLIANCE.param  # `region=all`: no region chosen
REGION_WIDGET = "_filter_widget_region"

st.title("Coverage and underserved areas")
st.markdown(
    "Where do students have few or no STEM opportunities, and where should the next program or partner go? "
    "Regions are coloured by what they have; need is their share of low-income students, whether they are "
    "rural, and how an outcome compares with the alliance's."
)

regions = run(meta.region_list)
if regions.empty:
    st.info("No regions are loaded yet. Import `regions.csv` (see the **Data** page).")
    st.stop()
if not run(coverage.has_programs):
    # Every region would show zero seats and no sites: a map that says nothing.
    st.info("No programs are loaded yet, so there is no coverage to map: import `partners.csv`, `programs.csv` and "
            "`program_sites.csv` (see the **Data** page). Outcome gaps are on **Equity gaps**.")
    st.stop()
names = dict(zip(regions["region_id"], regions["name"]))
limit = threshold()

# --- filters (all mirrored in the URL) ------------------------------------------------------
quarter = shared_filters(uses=("quarter",)).quarter
options = run(coverage.filter_options)
type_name = lambda v: "Any program type" if v == coverage.ANY else label(v)  # noqa: E731
band_name = lambda v: "Any grade band" if v == coverage.ANY else ("All grades" if v == "all" else label(v))  # noqa: E731
sector_name = lambda v: "Any partner sector" if v == coverage.ANY else label(v)  # noqa: E731
program_type = synced_select("program_type", "Program type", [coverage.ANY, *options["program_type"]], coverage.ANY, type_name)
grade_band = synced_select("grade_band", "Grade band", [coverage.ANY, *options["grade_band"]], coverage.ANY, band_name)
sector = synced_select("sector", "Partner sector", [coverage.ANY, *options["sector"]], coverage.ANY, sector_name)
choices = run(coverage.outcome_choices)
outcome_names = dict(zip(choices["indicator_id"], choices["name"]))
indicator = synced_select(
    "indicator", "Outcome used as a need measure", list(outcome_names), next(iter(outcome_names), None),
    lambda i: outcome_names.get(i, i), help="A region gets a need point when its all-students rate is worse than the "
    "alliance's pooled rate, in the latest school year with data.",
) if outcome_names else None
region = synced_select("region", "Region profile", [NONE, *regions["region_id"]], NONE,
                       lambda r: "— choose a region —" if r == NONE else names.get(r, r))
selected = None if region == NONE else region
params = dict(quarter=quarter, program_type=program_type, grade_band=grade_band, sector=sector)
what = charts.filter_text(program_type, grade_band, sector)

order_column, metric_column = st.columns(2)
order = synced_select("order", "Rank regions by", list(ORDERS), DEFAULT_ORDER, lambda o: ORDERS[o], container=order_column,
                      help="Shortfall weighs need against coverage; the other two orders use one side only. "
                      "The rule is spelled out above the ranking.")
covered = run(coverage.region_coverage, **params)
ranked = coverage.rank(covered, run(coverage.need_measures, indicator=indicator), order)  # no SQL: both halves are cached
attrs = ranked.attrs
RANKING_MEASURE = "ranking"  # the map's colour follows the order of the ranking
metric_id = synced_select(
    "metric", "Colour the regions by", [RANKING_MEASURE, *METRICS], RANKING_MEASURE,
    lambda m: f"The ranking's measure: {METRICS[ORDER_METRIC[order]].label}" if m == RANKING_MEASURE else METRICS[m].label,
    container=metric_column)
metric = METRICS[ORDER_METRIC[order] if metric_id == RANKING_MEASURE else metric_id]
if metric.student_count and not quarter:
    st.info("No participation data is loaded, so participations cannot be shown. Showing seats instead.")
    metric = METRICS["seats_per_1000"]
elif metric.student_count and attrs.get("participations_filtered"):
    st.info("Participations count every program: split by program type, grade band or sector, most counts would be "
            "too small to show. The program filters apply to sites, seats, programs, partners and distance.",
            icon=":material/info:")


def _select_from(chart_key: str) -> None:
    """A click on a region (or a site) in a chart selects that region."""
    points = (st.session_state.get(chart_key) or {}).get("selection", {}).get("points", [])
    for point in points:
        custom = point.get("customdata")
        region_id = custom[0] if isinstance(custom, (list, tuple)) and custom else custom or point.get("location")
        if region_id in names:
            st.session_state[REGION_WIDGET] = region_id
            st.query_params["region"] = region_id
            return


# 1 + 2. the map, and need against coverage ------------------------------------------------
st.header(plain(f"{metric.label}: {'all programs' if metric.student_count else what}, {charts.quarter_text(quarter)}"))
shapes = run(coverage.region_shapes)
sites = run(coverage.site_points, **params)
map_column, scatter_column = st.columns([1.3, 1], gap="medium")
with map_column:
    figure = maps.coverage_map(ranked, shapes, metric, limit, sites=sites, selected=selected,
                               outcome_name=attrs.get("indicator_name"), labels=run(coverage.label_anchors))
    chart_block(figure, charts.map_caption(ranked, metric, what, quarter, limit),
                charts.map_table(ranked.sort_values("name"), metric, limit), key="coverage_map",
                filename=f"coverage_{metric.metric_id}_{quarter}.csv", config={"scrollZoom": True},
                on_select=lambda: _select_from("chart_coverage_map"), png=False)  # a WebGL map: no static image offline
    note = f"Showing the {len(sites):,} largest of {sites.attrs.get('total', len(sites)):,} sites. " if len(sites) < sites.attrs.get("total", 0) else ""
    missing_xy = attrs.get("sites_without_coordinates", 0)
    if missing_xy or note:
        st.caption(f"{note}{missing_xy:,} running sites have no coordinates and are not drawn as points.")
with scatter_column:
    st.markdown("**Need against coverage**")
    coverage_metric = METRICS["seats_per_1000"] if metric.ranking else metric  # the scatter's height is coverage
    chart_block(charts.need_scatter(ranked, coverage_metric, attrs, selected),
                charts.need_scatter_caption(ranked, coverage_metric, attrs),
                charts.map_table(ranked.sort_values("name"), coverage_metric, limit), key="need_scatter",
                filename=f"need_coverage_{quarter}.csv", on_select=lambda: _select_from("chart_need_scatter"))
st.caption("Click a region on the map or a dot in the chart to open its profile below.")

# 5. one region ------------------------------------------------------------------------------
if selected:
    # The profile is of all programs, whatever the program filters: every figure in it, the
    # site count and the nearest site included, comes from the unfiltered coverage.
    profile = run(coverage.region_coverage, quarter=quarter)
    region_row = profile[profile["region_id"] == selected].iloc[0]
    row = ranked[ranked["region_id"] == selected].iloc[0]
    name = row["name"]
    st.header(f"{plain(name)}: profile")
    filtered = what != "all programs"
    st.caption(f"All programs in {charts.quarter_text(quarter)}"
               + (f": the program filters ({plain(what)}) apply to the map and the ranking, not to this profile, except "
                  "its underserved rank." if filtered else "."))
    cols = st.columns(6)
    cols[0].metric("K-12 students", f"{int(region_row['k12_enrollment']):,}")
    cols[1].metric("Low-income", "no data" if pd.isna(region_row["low_income_pct"]) else f"{region_row['low_income_pct']:.0f}%")
    cols[2].metric("Locale", str(region_row["locale"]).capitalize())
    cols[3].metric("Program sites", f"{int(region_row['sites']):,}",
                   help=f"{int(region_row['sites_located']):,} of them with coordinates")
    cols[4].metric("Nearest site", distance_text(region_row["nearest_site_km"], region_row["distance_basis"]),
                   help=f"From the region's centre: {DISTANCE_BASIS_TEXT[region_row['distance_basis']]}.")
    rank_text = f"{int(row['rank'])} of {int(ranked['ranked'].sum())}" if row["ranked"] else "not ranked"
    cols[5].metric("Underserved rank", rank_text, help=f"{row['reason']} {attrs['rule']}")
    programs = run(coverage.region_programs, region_id=selected, quarter=quarter)
    participation = run(coverage.region_participation, region_id=selected, quarter=quarter)
    outcomes = run(coverage.region_outcomes, region_id=selected)
    labels = group_labels()
    left, right = st.columns(2, gap="medium")
    with left:
        st.markdown("**Partners by sector**")
        chart_block(charts.sector_figure(programs["partners_by_sector"], name),
                    charts.sector_caption(programs["partners_by_sector"], name, quarter),
                    charts.sector_table(programs["partners_by_sector"]), key="profile_sectors", filename=f"partners_{selected}.csv")
        st.markdown("**Seats against enrolment**")
        chart_block(charts.seats_figure(region_row, profile.attrs), charts.seats_caption(region_row, profile.attrs),
                    charts.seats_table(region_row, profile.attrs), key="profile_seats", filename=f"seats_{selected}.csv")
        st.markdown("**Participation by student group**")
        chart_block(charts.group_figure(participation["by_group"], labels, name, limit),
                    charts.group_caption(participation["by_group"], labels, name, quarter, limit),
                    charts.group_table(participation["by_group"], labels), key="profile_groups",
                    filename=f"participation_groups_{selected}_{quarter}.csv")
    with right:
        st.markdown("**Programs by type and grade band**")
        chart_block(charts.programs_figure(programs["programs"], name), charts.programs_caption(programs["programs"], name),
                    charts.programs_table(programs["programs"]), key="profile_programs", filename=f"programs_{selected}.csv")
        st.markdown("**Participation by quarter**")
        chart_block(charts.quarter_figure(participation["by_quarter"], name, limit, quarter),
                    charts.quarter_caption(participation["by_quarter"], name, quarter),
                    charts.quarter_table(participation["by_quarter"]), key="profile_quarters",
                    filename=f"participation_quarters_{selected}.csv")
        st.markdown("**Outcomes against the alliance**")
        chart_block(charts.outcomes_figure(outcomes, name, limit), charts.outcomes_caption(outcomes, name),
                    charts.outcomes_table(outcomes, name), key="profile_outcomes", filename=f"outcomes_{selected}.csv")

# 3. the ranking -------------------------------------------------------------------------------
st.header("Underserved regions, ranked")
first = ranked[ranked["ranked"]].head(5)
with presented_text("ranking"):  # on the projector the ranking is its rule and first regions (no table)
    st.markdown(f"**The rule.** {plain(attrs['rule'])}")
    if len(first):
        st.markdown(f"**The first {len(first)}, and why:**\n" + "\n".join(
            f"{i}. **{plain(r['name'])}** (rank {int(r['rank'])}): {plain(r['reason'])}" for i, r in
            enumerate(first.to_dict("records"), start=1)))
view = charts.ranking_view(ranked, attrs, limit)
st.dataframe(view, hide_index=True, width="stretch", height=min(38 * len(view) + 40, 560),
             column_config={"Why it ranks here": st.column_config.TextColumn(width="large")})
st.caption(plain(charts.ranking_caption(ranked, what, quarter, order)))
filters_used = {
    "Quarter": charts.quarter_text(quarter), "Program type": type_name(program_type), "Grade band": band_name(grade_band),
    "Partner sector": sector_name(sector),
}
ranking_filters = {**filters_used, "Ranking order": ORDERS[order],
                   "Outcome used as a need measure": outcome_names.get(indicator, "none") if indicator else "none",
                   "Suppression threshold": str(limit)}
export_buttons({"Underserved regions": view}, ranking_filters, file_stem("underserved", order, quarter),
               key="export_underserved", notes={"Rule": attrs["rule"]})

# The alliance at a glance -----------------------------------------------------------------------
st.header("The alliance at a glance")
area = Scope.from_param(synced_select(
    "area", "Area", scope_options(names), ALLIANCE.param, lambda a: scope_label(Scope.from_param(a), names), container=st,
    help="The whole alliance, rural or non-rural regions, or one region. The program filters in the "
    "sidebar apply to partners, programs and seats; participations always count every program."))
area_name = "the alliance" if area.is_alliance else (area.label.lower() if area.is_locale else scope_label(area, names))
at_glance = run(coverage.alliance_glance, **params, area=area)
glance_filters = {**filters_used, "Area": scope_label(area, names), "Suppression threshold": str(limit)}
sector_table = glance.sectors_table(at_glance["sectors"])
program_table = glance.programs_table(at_glance["programs"])
reach_table = glance.reach_table(at_glance["by_quarter"])
left, right = st.columns(2, gap="medium")
with left:
    st.markdown("**Partners by sector**")
    chart_block(glance.sectors_figure(at_glance["sectors"], area_name),
                glance.sectors_caption(at_glance["sectors"], area_name, what), sector_table, key="glance_sectors",
                filename=f"{file_stem('partners_by_sector', area.param, quarter)}.csv", filters=glance_filters)
with right:
    st.markdown("**Seats and participations, quarter by quarter**")
    chart_block(glance.reach_figure(at_glance["by_quarter"], area_name, limit),
                glance.reach_caption(at_glance["by_quarter"], area_name.capitalize() if area.is_alliance else area_name,
                                     what),
                reach_table, key="glance_reach", filename=f"{file_stem('reach_by_quarter', area.param, quarter)}.csv",
                filters=glance_filters)
st.markdown("**Programs by type and grade band**")
chart_block(glance.programs_figure(at_glance["programs"], area_name),
            glance.programs_caption(at_glance["programs"], area_name, what), program_table, key="glance_programs",
            filename=f"{file_stem('programs_by_type', area.param, quarter)}.csv", filters=glance_filters)
export_buttons({"Partners by sector": sector_table, "Programs by type": program_table, "By quarter": reach_table},
               glance_filters, file_stem("alliance_at_a_glance", area.param, quarter), key="export_glance")

# 4. access distance ---------------------------------------------------------------------------
st.header("How far is the nearest program?")
chart_block(charts.distance_figure(ranked, what, selected), charts.distance_caption(ranked, what),
            charts.distance_table(ranked), key="distance", filename=f"distance_{quarter}.csv")
st.caption("Distance is measured in a straight line over the Earth's surface (great-circle) from the region's centre "
           "to a site's coordinates. A site without coordinates is only known to be in its region: from another region "
           "the distance is to its region's centre (≈, approximate); in its own region it is not known, never 0.")

# 6. rural vs non-rural --------------------------------------------------------------------------
st.header("Rural vs non-rural regions")
summary = coverage.by_locale(covered)  # no SQL
chart_block(charts.locale_figure(summary, limit), charts.locale_caption(summary, what, quarter),
            charts.locale_table(summary), key="locale", filename=f"coverage_by_locale_{quarter}.csv")

st.markdown(
    f"**How to read this page.** Seats are places programs offer per quarter; participations are enrolments "
    f"counted by providers — not unique students (one child in two programs counts twice). **Grey / ▨ suppressed**: "
    f"fewer than {limit}, or a value that could otherwise be worked out by subtraction, so it is hidden everywhere, "
    "including the downloads. **Vermillion outline**: no program site at all. **White**: no data."
)
