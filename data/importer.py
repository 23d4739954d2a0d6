"""Validate and import a data package (contract: docs/data-package.md, version 1).

A package is checked completely before anything is written: every problem is collected with
its file, row, column, value and what was expected; only a package without problems is
written, in one transaction, by upserting on each table's key so that re-importing is
idempotent and a corrected row replaces the old one.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd
import pandera.pandas as pa
from sqlalchemy import Engine, insert, select

from data import geography, history, parsers
from data.auth import Actor, require
from data.package import RawPackage, RawTable, read_package
from data.problems import Description, Problem
from data.coverage_rollup import rebuild_coverage_sites
from data.participation_rollup import has_participation, rebuild_participation_cells
from data.rollup import indicators_not_stored, outcome_rebuild
from data.schema import TABLE_FOR_FILE, imports, metadata
from data.writer import write_rows
from domain import vocabulary as vocab

MAX_PROBLEMS_PER_COLUMN = 50
MAX_COUNT = 2_147_483_647  # the store's INTEGER columns (PostgreSQL integer is 32-bit)
MAX_ID_LENGTH = 64  # data.schema.ID
MAX_SITE_NAME_LENGTH = 200  # program_sites.site_name


# --- what each file holds -----------------------------------------------------------------

@dataclass(frozen=True)
class Col:
    name: str
    kind: str  # id, text, count, suppressible_count, percent, rate, number, date, quarter, school_year, bool, locale, year
    required: bool = False
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableSpec:
    columns: tuple[Col, ...]
    key: tuple[str, ...]

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


SPECS: dict[str, TableSpec] = {
    "groups": TableSpec((
        Col("group_id", "id", True), Col("label", "text", True),
        Col("category", "text", True, vocab.GROUP_CATEGORIES), Col("reference_group_id", "id"),
    ), ("group_id",)),
    "regions": TableSpec((
        Col("region_id", "id", True), Col("name", "text", True), Col("locale", "locale", True),
        Col("k12_enrollment", "count", True), Col("low_income_pct", "percent"),
    ), ("region_id",)),
    "partners": TableSpec((
        Col("partner_id", "id", True), Col("name", "text", True), Col("sector", "text", True, vocab.SECTORS),
        Col("region_id", "id"), Col("joined_on", "date"), Col("left_on", "date"),
    ), ("partner_id",)),
    "programs": TableSpec((
        Col("program_id", "id", True), Col("partner_id", "id", True), Col("name", "text", True),
        Col("program_type", "text", True, vocab.PROGRAM_TYPES), Col("grade_band", "text", True, vocab.GRADE_BANDS),
        Col("start_on", "date"), Col("end_on", "date"),
    ), ("program_id",)),
    "program_sites": TableSpec((
        Col("program_id", "id", True), Col("region_id", "id", True), Col("site_name", "text"),
        Col("latitude", "number"), Col("longitude", "number"), Col("seats", "count", True),
    ), ("program_id", "region_id", "site_name")),
    "participation": TableSpec((
        Col("program_id", "id", True), Col("region_id", "id", True), Col("quarter", "quarter", True),
        Col("student_group", "id", True), Col("participants", "suppressible_count", True),
    ), ("program_id", "region_id", "quarter", "student_group")),
    "indicators": TableSpec((
        Col("indicator_id", "id", True), Col("name", "text", True), Col("stage", "text", True, vocab.STAGES),
        Col("higher_is_better", "bool", True), Col("description", "text"),
    ), ("indicator_id",)),
    "outcomes": TableSpec((
        Col("indicator_id", "id", True), Col("region_id", "id", True), Col("school_year", "school_year", True),
        Col("student_group", "id", True), Col("numerator", "suppressible_count"), Col("rate", "rate"),
        Col("denominator", "suppressible_count", True),
    ), ("indicator_id", "region_id", "school_year", "student_group")),
    "pathway": TableSpec((
        Col("cohort", "year", True), Col("stage_order", "count", True), Col("stage", "text", True),
        Col("region_id", "id", True), Col("student_group", "id", True), Col("students", "suppressible_count", True),
    ), ("cohort", "stage_order", "region_id", "student_group")),
    "targets": TableSpec((
        Col("measure", "id", True), Col("student_group", "id", True), Col("period", "text", True),
        Col("target", "number", True), Col("region_id", "id"),
    ), ("measure", "student_group", "period", "region_id")),
}

EXPECTED = {
    "count": "a whole number of 0 or more",
    "suppressible_count": "a whole number of 0 or more, or a suppression mark (*, <10, n<10, --, PS)",
    "percent": "a percentage from 0 to 100",
    "rate": "a percent rate from 0 to 100: exact (91), a range (90-94), a bound (GE95, LT50) or PS/* if suppressed",
    "number": "a number",
    "date": "a date written YYYY-MM-DD",
    "quarter": "a quarter written YYYY-Qn, e.g. 2025-Q3",
    "school_year": "a school year written YYYY-YY, e.g. 2024-25",
    "bool": "true or false",
    "locale": "city, suburb, town or rural (or an NCES locale code 11-43)",
    "year": "a four-digit year, e.g. 2025",
}

PARSERS: dict[str, Callable[[pd.Series], parsers.Parsed]] = {
    "count": parsers.parse_count, "suppressible_count": parsers.parse_count, "percent": parsers.parse_number,
    "rate": parsers.parse_rate, "number": parsers.parse_number, "date": parsers.parse_date,
    "quarter": parsers.parse_quarter, "school_year": parsers.parse_school_year, "bool": parsers.parse_bool,
    "locale": parsers.parse_locale, "year": parsers.parse_count,
}


# --- results ------------------------------------------------------------------------------

@dataclass
class ImportResult:
    source: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    written: bool = False
    import_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())


class _Problems:
    """Collects problems, capping how many one column of one file reports."""

    def __init__(self):
        self.items: list[Problem] = []
        self.capped: dict[tuple[str, str | None], int] = {}

    def add_mask(self, table: RawTable, column: str | None, mask: pd.Series, values: pd.Series, expected: str):
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        hits = mask[mask].index
        for index in hits[:MAX_PROBLEMS_PER_COLUMN]:
            value = values.get(index)
            self.items.append(Problem(table.file, table.row_number(index), column, None if pd.isna(value) else str(value), expected))
        if len(hits) > MAX_PROBLEMS_PER_COLUMN:
            self.capped[(table.file, column)] = len(hits) - MAX_PROBLEMS_PER_COLUMN

    def add(self, problem: Problem):
        self.items.append(problem)

    def all(self) -> list[Problem]:
        more = [Problem(file, None, column, Description(f"{n} more rows like the ones above"), "the same fix") for (file, column), n in self.capped.items()]
        return self.items + more


# --- validation ---------------------------------------------------------------------------

@dataclass
class ValidPackage:
    source: str
    frames: dict[str, pd.DataFrame]  # typed, ready to write, columns as in the schema
    row_counts: dict[str, int]
    warnings: list[str]


def validate(path: str | Path, engine: Engine | None = None) -> tuple[ValidPackage | None, ImportResult]:
    """Check a package against the contract and against what the store already holds."""
    started = time.perf_counter()
    raw = read_package(path)
    result = ImportResult(source=str(path))
    problems = _Problems()
    for problem in raw.problems:
        problems.add(problem)
    result.warnings += [f"{name}: not part of the data package contract, ignored" for name in raw.unknown_files]

    typed: dict[str, pd.DataFrame] = {}
    for name, table in raw.tables.items():
        frame = _parse_table(table, SPECS[name], problems, result.warnings)
        if frame is not None:
            typed[name] = frame
            result.row_counts[name] = len(frame)

    # Checks across rows and files run even when some cells are bad, so that a steward sees
    # every problem at once. A bad cell is NA in `typed` and is not reported twice; a table that
    # could not be read at all is not used to judge references to it.
    unusable = set(raw.unreadable) | (set(raw.tables) - set(typed))
    if "regions" in typed and typed["regions"].empty:
        problems.add(Problem(raw.tables["regions"].file, 2, None, Description("a header and no rows"),
                             "at least one region: regions.csv is the one required table"))
    if "regions" not in typed or typed["regions"].empty:
        unusable.add("regions")  # reported above or by the reader; every region_id would follow
    known = _known_ids(engine)
    _check_outcomes(raw, typed, problems)
    _check_references(raw, typed, known, problems, unusable)
    _check_pathway(raw, typed, problems)
    _check_targets(raw, typed, known, problems, unusable)
    _attach_geometry(raw, typed, known, problems, unusable)
    _warn_about_coverage(typed, result.warnings)

    result.problems = problems.all()
    result.seconds = time.perf_counter() - started
    if result.problems:
        return None, result
    frames = {name: _to_schema(name, frame) for name, frame in typed.items()}
    return ValidPackage(str(path), frames, result.row_counts, result.warnings), result


def _parse_table(table: RawTable, spec: TableSpec, problems: _Problems, warnings: list[str]) -> pd.DataFrame | None:
    frame = table.frame
    names = {c.name for c in spec.columns}
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    if table.name == "outcomes" and "numerator" not in frame.columns and "rate" not in frame.columns:
        missing.append("numerator (or rate)")
    for column in missing:
        problems.add(Problem(table.file, 1, column, None, f"a column named {column.split(' ')[0]}"))
    extra = [c for c in frame.columns if c not in names]
    if extra:
        warnings.append(f"{table.file}: unknown column(s) {', '.join(extra)} kept out of the store")
    cut = [row for row, absent in table.short_rows.items() if names.intersection(absent)]
    if cut:
        rows = ", ".join(map(str, cut[:5])) + (f" and {len(cut) - 5} more" if len(cut) > 5 else "")
        warnings.append(f"{table.file}: row(s) {rows} have fewer cells than the header, so their last cells were read "
                        "as blank (check for a missing comma)")
    if missing:
        return None

    out = pd.DataFrame(index=frame.index)
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        raw = frame[col.name]
        if col.kind in ("id", "text"):
            values = parsers.clean_text(raw)
            if col.allowed is not None:
                values = values.str.lower()
        else:
            parsed = PARSERS[col.kind](raw)
            problems.add_mask(table, col.name, parsed.bad, raw, EXPECTED[col.kind])
            values = parsed.values
            if col.kind == "suppressible_count":
                out[f"{col.name}_suppressed"] = parsed.suppressed
            elif col.kind in ("count", "year"):
                problems.add_mask(table, col.name, parsed.suppressed, raw, EXPECTED[col.kind] + " (this value may not be suppressed)")
            elif col.kind == "rate":
                out["rate_suppressed"] = parsed.suppressed
                out["rate_high"] = parsed.upper
        if col.kind in ("count", "suppressible_count", "year"):
            problems.add_mask(table, col.name, values > MAX_COUNT, raw, f"a whole number from 0 to {MAX_COUNT:,}")
        limit = MAX_ID_LENGTH if col.kind == "id" else MAX_SITE_NAME_LENGTH if col.name == "site_name" else None
        if limit is not None:
            problems.add_mask(table, col.name, values.str.len() > limit, values, f"at most {limit} characters")
        if col.required:
            # Blank text only: a value that was written but is bad (or suppressed) is not blank.
            blank = parsers.clean_text(raw).isna()
            problems.add_mask(table, col.name, blank, raw, "a value (this column is required)")
        out[col.name] = values

    _run_schema_checks(table, spec, out, problems)
    return out


def _pandera_schema(spec: TableSpec, frame: pd.DataFrame) -> pa.DataFrameSchema:
    checks: dict[str, pa.Column] = {}
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        column_checks = []
        if col.allowed is not None:
            column_checks.append(pa.Check.isin(col.allowed))
        if col.kind == "percent":
            column_checks.append(pa.Check.in_range(0, 100))
        if col.name == "latitude":
            column_checks.append(pa.Check.in_range(-90, 90))
        if col.name == "longitude":
            column_checks.append(pa.Check.in_range(-180, 180))
        if col.name == "stage_order":
            column_checks.append(pa.Check.ge(1))
        if col.kind == "year":
            column_checks.append(pa.Check.in_range(1900, 2200))
        checks[col.name] = pa.Column(checks=column_checks, nullable=True, coerce=False)
    key = [k for k in spec.key if k in frame.columns]
    return pa.DataFrameSchema(checks, unique=key, report_duplicates="exclude_first")


def _run_schema_checks(table: RawTable, spec: TableSpec, frame: pd.DataFrame, problems: _Problems) -> None:
    schema = _pandera_schema(spec, frame)
    checked = frame.copy()
    for key_col in spec.key:
        if key_col in checked.columns:
            # A key part written but unreadable (a bad school year) is reported as such: it must not
            # make rows with different written values look like repeats of each other.
            written = parsers.clean_text(table.frame[key_col]).notna() if key_col in table.frame.columns else False
            unreadable = checked[key_col].isna() & written
            checked[key_col] = checked[key_col].astype(object).where(~unreadable, [f"\0unreadable {i}" for i in checked.index])
            checked[key_col] = checked[key_col].fillna("")  # a blank optional key part is still a key
    try:
        schema.validate(checked, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
        duplicate_rows = set()
        for row in failures.itertuples(index=False):
            if row.index is None or pd.isna(row.index):
                continue
            index = int(row.index)
            if row.check == "multiple_fields_uniqueness":
                if index in duplicate_rows:
                    continue
                duplicate_rows.add(index)
                key_value = ", ".join(str(checked.at[index, k]) for k in spec.key if k in checked.columns)
                problems.add(Problem(table.file, table.row_number(index), "+".join(spec.key), key_value,
                                     "each key to appear once (this row repeats an earlier one)"))
                continue
            col = spec.column(row.column)
            if col.allowed is not None:
                expected = "one of " + ", ".join(col.allowed)
            elif col.name == "latitude":
                expected = "a latitude from -90 to 90"
            elif col.name == "longitude":
                expected = "a longitude from -180 to 180"
            elif col.name == "stage_order":
                expected = "a stage number of 1 or more"
            else:
                expected = EXPECTED[col.kind]
            raw_value = table.frame.at[index, row.column] if row.column in table.frame.columns else row.failure_case
            problems.add(Problem(table.file, table.row_number(index), row.column, str(raw_value), expected))


def _known_ids(engine: Engine | None) -> dict[str, set[str]]:
    """Ids already in the store, which a partial package may refer to."""
    wanted = {
        "regions": "region_id", "partners": "partner_id", "programs": "program_id",
        "indicators": "indicator_id", "student_groups": "group_id",
    }
    known = {name: set() for name in wanted}
    known["region_geometry"] = {}
    if engine is None:
        return known
    from data.db import current_revision

    if current_revision(engine) is None:
        return known
    with engine.connect() as conn:
        for name, column in wanted.items():
            table = metadata.tables[name]
            known[name] = set(conn.execute(select(table.c[column])).scalars())
        regions = metadata.tables["regions"]
        known["region_geometry"] = dict(conn.execute(select(regions.c.region_id, regions.c.geometry)).all())
    return known


def _ids(typed, name, column, known_name, known) -> set[str]:
    ids = set(known[known_name])
    if name in typed:
        ids |= set(typed[name][column].dropna())
    return ids


def _check_references(raw: RawPackage, typed: dict[str, pd.DataFrame], known: dict, problems: _Problems,
                      unusable: set[str] = frozenset()) -> None:
    regions = _ids(typed, "regions", "region_id", "regions", known)
    partners = _ids(typed, "partners", "partner_id", "partners", known)
    programs = _ids(typed, "programs", "program_id", "programs", known)
    indicators = _ids(typed, "indicators", "indicator_id", "indicators", known)
    groups = set(vocab.BUILT_IN_GROUP_IDS) | _ids(typed, "groups", "group_id", "student_groups", known)

    valid_ids = {"regions": regions, "partners": partners, "programs": programs, "indicators": indicators, "groups": groups}
    rules = [
        ("partners", "region_id", "regions", "a region_id listed in regions.csv"),
        ("programs", "partner_id", "partners", "a partner_id listed in partners.csv"),
        ("program_sites", "program_id", "programs", "a program_id listed in programs.csv"),
        ("program_sites", "region_id", "regions", "a region_id listed in regions.csv"),
        ("participation", "program_id", "programs", "a program_id listed in programs.csv"),
        ("participation", "region_id", "regions", "a region_id listed in regions.csv"),
        ("participation", "student_group", "groups", "a student group id from the contract or groups.csv"),
        ("outcomes", "indicator_id", "indicators", "an indicator_id listed in indicators.csv"),
        ("outcomes", "region_id", "regions", "a region_id listed in regions.csv"),
        ("outcomes", "student_group", "groups", "a student group id from the contract or groups.csv"),
        ("pathway", "region_id", "regions", "a region_id listed in regions.csv"),
        ("pathway", "student_group", "groups", "a student group id from the contract or groups.csv"),
        ("targets", "student_group", "groups", "a student group id from the contract or groups.csv"),
        ("targets", "region_id", "regions", "a region_id listed in regions.csv, or blank for alliance-wide"),
        ("groups", "reference_group_id", "groups", "a student group id from the contract or groups.csv, or blank"),
    ]
    for name, column, source, expected in rules:
        # ids from a table that could not be read would make every reference look unknown
        if name not in typed or column not in typed[name] or source in unusable:
            continue
        valid = valid_ids[source]
        values = typed[name][column]
        unknown = values.notna() & ~values.isin(list(valid))
        problems.add_mask(raw.tables[name], column, unknown, values, expected)

    if "groups" in typed:
        clash = typed["groups"]["group_id"].isin(list(vocab.BUILT_IN_GROUP_IDS))
        problems.add_mask(raw.tables["groups"], "group_id", clash, typed["groups"]["group_id"],
                          "a new group id (built-in groups need no declaration)")
    for name, start, end in (("partners", "joined_on", "left_on"), ("programs", "start_on", "end_on")):
        if name in typed:
            frame = typed[name]
            if start not in frame or end not in frame:
                continue
            reversed_dates = frame[start].notna() & frame[end].notna() & (frame[end] < frame[start]).fillna(False)
            problems.add_mask(raw.tables[name], end, reversed_dates, frame[end], f"a date on or after {start}")


def _check_outcomes(raw: RawPackage, typed: dict[str, pd.DataFrame], problems: _Problems) -> None:
    if "outcomes" not in typed:
        return
    frame, table = typed["outcomes"], raw.tables["outcomes"]
    def written(column):
        if column not in table.frame:
            return pd.Series(False, index=frame.index)
        return parsers.clean_text(table.frame[column]).notna()

    has_numerator, has_rate = written("numerator"), written("rate")
    problems.add_mask(table, "numerator", ~has_numerator & ~has_rate, frame.get("numerator", pd.Series(index=frame.index)),
                      "a numerator or a rate (write * if it is suppressed)")
    if "numerator" in frame:
        too_big = frame["numerator"].notna() & frame["denominator"].notna() & (frame["numerator"] > frame["denominator"])
        too_big = too_big.fillna(False).astype(bool)
        problems.add_mask(table, "numerator", too_big, table.frame["numerator"], "a numerator no larger than the denominator")
        if "rate" in frame:
            _check_rate_agrees(table, frame, problems)


RATE_ROUNDING = 0.5  # points: a rate written as a whole percent may differ this much from the exact one


def _check_rate_agrees(table: RawTable, frame: pd.DataFrame, problems: _Problems) -> None:
    """A row giving numerator, denominator and rate must agree with itself: the exact rate
    numerator/denominator within the written rate (or its range), allowing for rounding."""
    known = frame["numerator"].notna() & frame["denominator"].notna() & (frame["denominator"] > 0) & frame["rate"].notna()
    known = known.fillna(False).astype(bool)
    if not known.any():
        return
    exact = frame["numerator"].astype("float64") / frame["denominator"].astype("float64") * 100
    low, high = frame["rate"].astype("float64"), frame["rate_high"].astype("float64")
    contradicts = known & ((exact < low - RATE_ROUNDING) | (exact > high + RATE_ROUNDING)).fillna(False)
    for index in contradicts[contradicts].index[:MAX_PROBLEMS_PER_COLUMN]:
        problems.add(Problem(table.file, table.row_number(index), "rate", str(table.frame.at[index, "rate"]),
                             f"the rate that numerator and denominator give ({frame.at[index, 'numerator']} of "
                             f"{frame.at[index, 'denominator']} is {exact[index]:.1f}%), or a blank rate"))
    if contradicts.sum() > MAX_PROBLEMS_PER_COLUMN:
        problems.capped[(table.file, "rate")] = int(contradicts.sum()) - MAX_PROBLEMS_PER_COLUMN


def _check_pathway(raw: RawPackage, typed: dict[str, pd.DataFrame], problems: _Problems) -> None:
    if "pathway" not in typed:
        return
    frame, table = typed["pathway"], raw.tables["pathway"]
    names = frame.groupby(["cohort", "stage_order"])["stage"].transform("first")
    differs = frame["stage"].notna() & names.notna() & (frame["stage"] != names).fillna(False)
    problems.add_mask(table, "stage", differs, frame["stage"],
                      "the same stage name as the cohort's other rows with this stage_order")


def _check_targets(raw: RawPackage, typed: dict[str, pd.DataFrame], known: dict, problems: _Problems,
                   unusable: set[str] = frozenset()) -> None:
    if "targets" not in typed:
        return
    frame, table = typed["targets"], raw.tables["targets"]
    indicators = _ids(typed, "indicators", "indicator_id", "indicators", known)
    reach = frame["measure"].isin(list(vocab.REACH_MEASURES))
    indicator = frame["measure"].isin(list(indicators))
    judged = frame["measure"].notna() & ("indicators" not in unusable)
    problems.add_mask(table, "measure", judged & ~reach & ~indicator, frame["measure"],
                      "an indicator_id from indicators.csv, or participants, seats or partners")
    quarter = parsers.parse_quarter(frame["period"])
    year = parsers.parse_school_year(frame["period"])
    problems.add_mask(table, "period", reach & quarter.bad, frame["period"], EXPECTED["quarter"] + " for a reach measure")
    problems.add_mask(table, "period", indicator & year.bad, frame["period"], EXPECTED["school_year"] + " for an indicator")
    frame["period"] = quarter.values.where(reach, year.values).fillna(frame["period"])
    rate_out_of_range = indicator & ((frame["target"] < 0) | (frame["target"] > 100))
    problems.add_mask(table, "target", rate_out_of_range.fillna(False), frame["target"], "a rate target from 0 to 100")
    problems.add_mask(table, "target", (reach & (frame["target"] < 0)).fillna(False), frame["target"], "a count target of 0 or more")


def _attach_geometry(raw: RawPackage, typed: dict[str, pd.DataFrame], known: dict, problems: _Problems,
                     unusable: set[str] = frozenset()) -> None:
    """Every region gets a geometry: a built-in county, or a feature of regions.geojson."""
    custom: dict = {}
    if raw.geometry_file is not None:
        name, data = raw.geometry_file
        custom, geometry_problems = geography.read_custom_regions(data, name)
        for problem in geometry_problems:
            problems.add(Problem(**problem))
    if "regions" in typed:
        frame, table = typed["regions"], raw.tables["regions"]
        county_ids = [r for r in frame["region_id"].dropna() if r not in custom and geography.is_county_fips(r)]
        counties = geography.load_counties(county_ids)
        geometry, source, lon, lat = [], [], [], []
        for region_id in frame["region_id"]:
            if pd.isna(region_id):  # blank: reported as a required value
                geometry.append(None)
                source.append(None)
                lon.append(None)
                lat.append(None)
                continue
            if region_id in custom:
                geom = custom[region_id]
                geometry.append(geography.geometry_to_geojson_text(geom))
                source.append("package")
                centroid = geography.region_centroid(geom)
            elif region_id in counties:
                county = counties[region_id]
                geometry.append(json.dumps(county["geometry"], separators=(",", ":")))
                source.append("county")
                centroid = (county["centroid_lon"], county["centroid_lat"])
            else:
                geometry.append(None)
                source.append(None)
                centroid = (None, None)
            lon.append(centroid[0])
            lat.append(centroid[1])
        frame["geometry"], frame["geometry_source"] = geometry, source
        frame["centroid_lon"], frame["centroid_lat"] = lon, lat
        problems.add_mask(table, "region_id", frame["geometry"].isna() & frame["region_id"].notna(), frame["region_id"],
                          "a 5-digit US county FIPS code, or a feature with this region_id in regions.geojson")
        unused = sorted(set(custom) - set(frame["region_id"]))
        if unused and raw.geometry_file is not None:
            problems.add(Problem(raw.geometry_file[0], None, "region_id", ", ".join(unused[:10]), "only region_ids listed in regions.csv"))
    _check_site_points(raw, typed, known, problems, unusable)


def _check_site_points(raw: RawPackage, typed: dict[str, pd.DataFrame], known: dict, problems: _Problems,
                       unusable: set[str] = frozenset()) -> None:
    if "program_sites" not in typed or "regions" in unusable:
        return
    frame, table = typed["program_sites"], raw.tables["program_sites"]
    if "latitude" not in frame or "longitude" not in frame:
        return
    half = frame["latitude"].isna() != frame["longitude"].isna()
    problems.add_mask(table, "latitude", half, frame["latitude"], "both latitude and longitude, or neither")
    geometries = {k: v for k, v in known["region_geometry"].items() if isinstance(v, str)}
    if "regions" in typed:
        geometries.update((k, v) for k, v in zip(typed["regions"]["region_id"], typed["regions"]["geometry"])
                          if isinstance(k, str) and isinstance(v, str))
    # A site whose region is unknown or has no boundary is reported for that, not as "outside".
    located = (frame["latitude"].notna() & frame["longitude"].notna() & frame["latitude"].between(-90, 90)
               & frame["longitude"].between(-180, 180) & frame["region_id"].isin(list(geometries))).fillna(False)
    if not located.any():
        return
    sites = frame[located]
    inside = geography.points_in_regions(
        sites["longitude"].to_numpy(float), sites["latitude"].to_numpy(float), sites["region_id"].to_numpy(object),
        {k: json.loads(geometries[k]) for k in set(sites["region_id"])},
    )
    outside = pd.Series(False, index=frame.index)
    outside[sites.index] = ~inside
    values = frame["latitude"].astype(str) + ", " + frame["longitude"].astype(str)
    problems.add_mask(table, "latitude", outside, values, "a point inside its region (or within 1 km of it)")


def _warn_about_coverage(typed: dict[str, pd.DataFrame], warnings: list[str]) -> None:
    if "participation" in typed:
        frame = typed["participation"]
        keys = frame[["program_id", "region_id", "quarter"]].drop_duplicates()
        with_all = frame.loc[frame["student_group"] == "all", ["program_id", "region_id", "quarter"]].drop_duplicates()
        missing = len(keys) - len(with_all)
        if missing > 0:
            warnings.append(f"participation.csv: {missing} program/region/quarter combination(s) have no 'all' row, so totals for them are incomplete")


def _to_schema(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Shape a validated frame to its table's columns."""
    table = TABLE_FOR_FILE[name]
    frame = frame.copy()
    if name == "outcomes":
        frame = _outcome_rates(frame)
    elif name == "program_sites":
        frame["site_name"] = frame.get("site_name", pd.Series(index=frame.index, dtype="string")).fillna("")
    elif name == "targets":
        frame["region_id"] = frame.get("region_id", pd.Series(index=frame.index, dtype="string")).fillna("")
    columns = [c.name for c in table.columns]
    for column in columns:
        if column not in frame:
            frame[column] = None
    return frame[columns]


def _outcome_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Numerator rows get an exact rate; rate rows keep their range and an unknown numerator."""
    if "numerator" not in frame:
        frame["numerator"] = pd.array([pd.NA] * len(frame), dtype="Int64")
        frame["numerator_suppressed"] = False
    has_numerator = frame["numerator"].notna() | frame["numerator_suppressed"]
    exact = (frame["numerator"].astype("float64") / frame["denominator"].astype("float64") * 100).where(frame["denominator"] > 0)
    low = exact.astype("float64")
    high = low.copy()
    if "rate" in frame:
        use_rate = ~has_numerator
        low = low.where(~use_rate, frame["rate"])
        high = high.where(~use_rate, frame["rate_high"])
        frame["numerator_suppressed"] = frame["numerator_suppressed"] | (use_rate & frame["rate_suppressed"])
    frame["rate_low"], frame["rate_high"] = low, high
    return frame


# --- writing ------------------------------------------------------------------------------

Progress = Callable[[float, str], None]  # (share done 0..1, what is happening)


def import_package(path: str | Path, engine: Engine, actor: Actor | None = None, *,
                   files: list[tuple[str, bytes]] | None = None, source: str | None = None,
                   progress: Progress | None = None) -> ImportResult:
    """Validate, then write the whole package in one transaction (or nothing at all). Needs the
    editor role (`data.auth`; the command line acts as admin). The package's files (`files`, by
    default those at `path`) are kept with the import, and so is what undoing it needs."""
    actor = require(actor, "import")
    return write_package(path, engine, actor, files=history.files_of(path) if files is None else files,
                         source=source, progress=progress)


def preview(engine: Engine, package: ValidPackage) -> dict:
    """What importing a valid package would change, without writing anything: per table the
    rows added, replaced and unchanged, and the school years, quarters and regions it brings
    that the store does not hold yet."""
    from data.db import current_revision

    tables = {}
    if current_revision(engine) is None:
        tables = {name: dict(added=len(frame), replaced=0, unchanged=0) for name, frame in package.frames.items()}
        known_years, known_quarters, known_regions = set(), set(), set()
    else:
        with engine.connect() as conn:
            for name in (n for n in TABLE_FOR_FILE if n in package.frames):
                change = history.compare(conn, name, package.frames[name])
                tables[name] = dict(added=change.added, replaced=change.replaced, unchanged=change.unchanged)
            column = lambda table, name: set(conn.execute(select(TABLE_FOR_FILE[table].c[name]).distinct()).scalars())  # noqa: E731
            known_years, known_quarters = column("outcomes", "school_year"), column("participation", "quarter")
            known_regions = column("regions", "region_id")
    frames = package.frames
    def new_values(name, column, known):
        return sorted(set(frames[name][column].dropna()) - known) if name in frames else []
    return dict(tables=tables, school_years=new_values("outcomes", "school_year", known_years),
                quarters=new_values("participation", "quarter", known_quarters),
                regions=new_values("regions", "region_id", known_regions))


def write_package(path: str | Path, engine: Engine, actor: Actor, *, files: list[tuple[str, bytes]],
                  source: str | None = None, progress: Progress | None = None, action: str = "import") -> ImportResult:
    """The import itself, for an actor already checked (by `import_package`, or by
    `data.demo.load_demo` for the demo)."""
    from data.db import upgrade

    say = progress or (lambda _share, _message: None)
    upgrade(engine)
    started_at = datetime.now(timezone.utc)
    say(0.02, "checking every file against the data contract")
    package, result = validate(path, engine)
    if package is None:
        return result
    began = time.perf_counter()
    name_shown = source or Path(path).name
    names = [n for n in ("groups", "regions", "partners", "programs", "program_sites", "participation",
                         "indicators", "outcomes", "pathway", "targets") if n in package.frames]
    with engine.begin() as conn:
        say(0.25, "noting what the import replaces, so that it can be undone")
        changes = [history.compare(conn, name, package.frames[name]) for name in names]
        # Where the store held none of a kind of row, the rows stored are the package's: the
        # rollups take them from memory instead of reading them back, and the suppression of
        # new indicators is decided while the rows are written (data/rollup.py).
        participation_stored = None if has_participation(conn) else package.frames.get("participation")
        with outcome_rebuild(conn, package.frames, fresh=indicators_not_stored(conn, package.frames)) as outcomes_rollup:
            for step, name in enumerate(names):
                say(0.3 + 0.4 * step / len(names), f"writing {name}")
                write_rows(conn, TABLE_FOR_FILE[name], package.frames[name])
            say(0.72, "pooling outcomes and deciding their suppression")
            outcomes_rollup.finish(conn)  # pooled sums and complementary suppression (data/rollup.py)
        say(0.85, "summing participation and deciding its suppression")
        rebuild_participation_cells(conn, stored=participation_stored)  # participation sums and their suppression (data/participation_rollup.py)
        rebuild_coverage_sites(conn)  # one row per site for the coverage page (data/coverage_rollup.py)
        say(0.95, "recording the import")
        import_id = conn.execute(insert(imports).values(
            started_at=started_at, finished_at=datetime.now(timezone.utc), source=name_shown,
            outcome="imported", row_counts=json.dumps(package.row_counts), warnings=json.dumps(package.warnings),
        )).inserted_primary_key[0]
        history.keep_undo(conn, import_id, changes)
        history.keep_files(conn, import_id, files)
        history.record(conn, actor, action, f"{'loaded the demo alliance' if action == 'demo' else 'imported'} {name_shown}", {
            "row_counts": package.row_counts,
            "changes": {c.table: {"added": c.added, "replaced": c.replaced, "unchanged": c.unchanged} for c in changes},
            "files": [name for name, _ in files], "warnings": len(package.warnings),
        }, import_id=import_id)
    result.seconds += time.perf_counter() - began
    result.written = True
    result.import_id = import_id
    say(1.0, "done")
    return result
