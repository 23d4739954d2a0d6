"""The one schema of the store (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Changes to it go through an Alembic migration in `data/migrations/versions/`.

How values are kept:
- A suppressed count is NULL with its `*_suppressed` flag set: never zero, never dropped.
  A NULL without the flag is missing.
- An outcome rate is kept as `rate_low`/`rate_high` percent. For a row given as numerator and
  denominator both equal the exact rate; for a row given as a range or bound (`90-94`, `GE95`)
  they are the range's limits, and `numerator` stays NULL because it is not known.
"""
from __future__ import annotations

from sqlalchemy import (
    Boolean, Column, Date, DateTime, Float, Index, Integer, LargeBinary, MetaData, String, Table, Text,
)

metadata = MetaData()

ID = String(64)

regions = Table(
    "regions", metadata,
    Column("region_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("locale", String(8), nullable=False),
    Column("k12_enrollment", Integer, nullable=False),
    Column("low_income_pct", Float),
    Column("geometry", Text),  # GeoJSON geometry, WGS84, simplified for display
    Column("geometry_source", String(16)),  # "county" (built in) or "package"
    Column("centroid_lon", Float),
    Column("centroid_lat", Float),
)

partners = Table(
    "partners", metadata,
    Column("partner_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("sector", String(32), nullable=False),
    Column("region_id", ID),
    Column("joined_on", Date),
    Column("left_on", Date),
)

programs = Table(
    "programs", metadata,
    Column("program_id", ID, primary_key=True),
    Column("partner_id", ID, nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("program_type", String(32), nullable=False),
    Column("grade_band", String(16), nullable=False),
    Column("start_on", Date),
    Column("end_on", Date),
)

# A site is keyed by program, region and site name ("" when the package gives none), so that
# re-importing the same sites replaces them.
program_sites = Table(
    "program_sites", metadata,
    Column("program_id", ID, primary_key=True),
    Column("region_id", ID, primary_key=True),
    Column("site_name", String(200), primary_key=True),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("seats", Integer, nullable=False),
    Index("ix_program_sites_region", "region_id"),
)

participation = Table(
    "participation", metadata,
    Column("program_id", ID, primary_key=True),
    Column("region_id", ID, primary_key=True),
    Column("quarter", String(7), primary_key=True),
    Column("student_group", ID, primary_key=True),
    Column("participants", Integer),
    Column("participants_suppressed", Boolean, nullable=False),
    Index("ix_participation_quarter_group", "quarter", "student_group", "region_id"),
)

# Participation summed per quarter, area, student group and filter combination, with
# complementary suppression decided once over all of them; rebuilt by
# `data.participation_rollup.rebuild_participation_cells` inside every import. region_id is a
# region, `locale:city|suburb|town|rural`, `locale:nonrural` or `__alliance__`; a filter column
# holds `__any__` when open. `participants` is the sum of the known counts (NULL when none is
# known), `source_rows` the rows suppressed at source and left out of it. `complement` marks a
# cell hidden so that no other value can be recovered by subtraction, at `threshold`.
participation_cells = Table(
    "participation_cells", metadata,
    Column("quarter", String(7), primary_key=True),
    Column("program_type", String(32), primary_key=True),
    Column("grade_band", String(16), primary_key=True),
    Column("sector", String(32), primary_key=True),
    Column("student_group", ID, primary_key=True),
    Column("region_id", ID, primary_key=True),
    Column("participants", Integer),
    Column("source_rows", Integer, nullable=False),
    Column("complement", Boolean, nullable=False),
    Column("threshold", Integer, nullable=False),
    Index("ix_participation_cells_region", "region_id", "student_group", "quarter"),
)

# Every program site with what the coverage page filters and draws it by, in one row: the
# program's type and grade band, its partner and sector, the coordinates (the region's centre
# when the package gives none; `located` says which) and the span in which both the program
# runs and its partner is a member (ISO dates, open ends as 0000-01-01 / 9999-12-31). Rebuilt
# by `data.coverage_rollup.rebuild_coverage_sites` inside every import, so that the page reads
# one table, in region order, instead of joining three for every view.
coverage_sites = Table(
    "coverage_sites", metadata,
    Column("region_id", ID, primary_key=True),
    Column("program_id", ID, primary_key=True),
    Column("site_name", String(200), primary_key=True),
    Column("program_name", Text, nullable=False),
    Column("partner_id", ID, nullable=False),
    Column("program_type", String(32), nullable=False),
    Column("grade_band", String(16), nullable=False),
    Column("sector", String(32), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("lon", Float),
    Column("lat", Float),
    Column("located", Boolean, nullable=False),
    Column("active_from", String(10), nullable=False),
    Column("active_to", String(10), nullable=False),
    sqlite_with_rowid=False,  # stored in region order: per-region counts read it in one pass
)

indicators = Table(
    "indicators", metadata,
    Column("indicator_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("higher_is_better", Boolean, nullable=False),
    Column("description", Text),
)

outcomes = Table(
    "outcomes", metadata,
    Column("indicator_id", ID, primary_key=True),
    Column("region_id", ID, primary_key=True),
    Column("school_year", String(7), primary_key=True),
    Column("student_group", ID, primary_key=True),
    Column("numerator", Integer),
    Column("numerator_suppressed", Boolean, nullable=False),
    Column("denominator", Integer),
    Column("denominator_suppressed", Boolean, nullable=False),
    Column("rate_low", Float),
    Column("rate_high", Float),
    Index("ix_outcomes_year_indicator_group", "school_year", "indicator_id", "student_group"),
)

# Pooled outcome sums per indicator, school year, student group and region locale, rebuilt by
# `data.rollup.rebuild_outcome_rollup` inside every import, so that alliance-wide, rural and
# non-rural figures never scan `outcomes`. Sums cover the rows that can be pooled (neither
# suppressed at source nor missing); a range-coded rate contributes numerator bounds
# rate_low*den/100 .. rate_high*den/100. `threshold` is the suppression threshold that
# `outcome_complements` was computed with.
outcome_rollup = Table(
    "outcome_rollup", metadata,
    Column("indicator_id", ID, primary_key=True),
    Column("school_year", String(7), primary_key=True),
    Column("student_group", ID, primary_key=True),
    Column("locale", String(8), primary_key=True),
    Column("source_rows", Integer, nullable=False),
    Column("pooled_rows", Integer, nullable=False),
    Column("suppressed_rows", Integer, nullable=False),
    Column("ranged_rows", Integer, nullable=False),
    Column("denominator", Integer, nullable=False),
    Column("numerator_low", Float, nullable=False),
    Column("numerator_high", Float, nullable=False),
    Column("threshold", Integer, nullable=False),
)

# Cells hidden by complementary suppression (not by their own small size), decided once per
# import over every region and the alliance, rural and non-rural totals together, so that no
# page can subtract its way to a protected value. region_id is a region, `__alliance__`,
# `locale:rural` or `locale:nonrural`.
outcome_complements = Table(
    "outcome_complements", metadata,
    Column("indicator_id", ID, primary_key=True),
    Column("region_id", ID, primary_key=True),
    Column("school_year", String(7), primary_key=True),
    Column("student_group", ID, primary_key=True),
    Column("threshold", Integer, nullable=False),
)

# Cells whose rate is hidden (their students shown) so that a small number meeting a measure,
# or not meeting it, elsewhere cannot be worked out (data.rollup.decide_cells; used under the
# `bands` disclosure policy).
outcome_band_complements = Table(
    "outcome_band_complements", metadata,
    Column("indicator_id", ID, primary_key=True),
    Column("region_id", ID, primary_key=True),
    Column("school_year", String(7), primary_key=True),
    Column("student_group", ID, primary_key=True),
    Column("threshold", Integer, nullable=False),
)

pathway = Table(
    "pathway", metadata,
    Column("cohort", Integer, primary_key=True),
    Column("stage_order", Integer, primary_key=True),
    Column("region_id", ID, primary_key=True),
    Column("student_group", ID, primary_key=True),
    Column("stage", Text, nullable=False),
    Column("students", Integer),
    Column("students_suppressed", Boolean, nullable=False),
    Index("ix_pathway_cohort_group", "cohort", "student_group"),
)

# region_id is "" for an alliance-wide target so that it can be part of the key.
targets = Table(
    "targets", metadata,
    Column("measure", ID, primary_key=True),
    Column("student_group", ID, primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("region_id", ID, primary_key=True),
    Column("target", Float, nullable=False),
)

student_groups = Table(
    "student_groups", metadata,
    Column("group_id", ID, primary_key=True),
    Column("label", Text, nullable=False),
    Column("category", String(16), nullable=False),
    Column("reference_group_id", ID),
)

imports = Table(
    "imports", metadata,
    Column("import_id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
    Column("outcome", String(16), nullable=False),  # "imported", or "undone" (rejected packages write nothing)
    Column("row_counts", Text, nullable=False),  # JSON: {"regions": 8, ...} rows in the package
    Column("warnings", Text, nullable=False),  # JSON list of warning sentences
)

# A quarter frozen for the board: the overview's figures exactly as presented (already
# suppressed), as JSON, so that later or corrected imports never change what was shown.
# Freezing a frozen quarter again adds a version (1, 2, …); earlier versions stay, and only an
# admin deletes one (data/snapshots.py).
snapshots = Table(
    "snapshots", metadata,
    Column("quarter", String(7), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("frozen_at", DateTime(timezone=True), nullable=False),
    Column("payload", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("frozen_by", String(200), nullable=False, server_default=""),
)

# Local accounts (data/auth.py). The password is kept only as an argon2 hash; failed sign-ins
# are counted so that guessing is slowed for every process serving the store.
users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("failed_sign_ins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
)

# The record of every change to the store (data/history.py): imports, undos, freezes, deleted
# snapshot versions, user changes and demo loads — who, when, what and row counts (JSON).
# Never deleted, so its highest id also versions the caches (queries.meta.data_version).
events = Table(
    "events", metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON object
    Column("import_id", Integer),
    sqlite_autoincrement=True,  # ids never reused
)

# The files of each import exactly as they arrived (an uploaded .zip, .xlsx or CSV files, or a
# folder's files), so that a shared deployment can hand them out again.
import_files = Table(
    "import_files", metadata,
    Column("import_id", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# What undoing an import needs, per contract table it wrote: the rows it replaced, as they were
# before (Parquet), and the keys it added (Parquet). Derived tables are rebuilt from these.
import_undo = Table(
    "import_undo", metadata,
    Column("import_id", Integer, primary_key=True),
    Column("table_name", String(64), primary_key=True),
    Column("replaced_rows", Integer, nullable=False),
    Column("added_rows", Integer, nullable=False),
    Column("replaced", LargeBinary, nullable=False),
    Column("added", LargeBinary, nullable=False),
)

# Stories: a presenter's ordered views (a page, its filters as URL query parameters, and a
# headline sentence), played one step per screen in presentation mode.
stories = Table(
    "stories", metadata,
    Column("story_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

story_steps = Table(
    "story_steps", metadata,
    Column("story_id", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),  # 1, 2, 3 … with no holes
    Column("page", String(64), nullable=False),  # the page's url_path, e.g. "gaps"
    Column("params", Text, nullable=False),  # JSON object of query parameters, e.g. {"region": "47065"}
    Column("headline", Text, nullable=False),
)

TABLE_FOR_FILE = {"groups": student_groups, **{t.name: t for t in (
    regions, partners, programs, program_sites, participation, indicators, outcomes, pathway, targets)}}
