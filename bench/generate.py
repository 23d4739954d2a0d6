"""Generate a state-network-scale data package (contract v1) for the benchmark.

Everything is vectorised (numpy for the numbers, pyarrow for the text and the CSV writing) and
seeded, so the same arguments always give the same bytes. The package looks like real files:
real county FIPS codes (so the built-in boundaries attach), NCES locale codes mixed with
names, suppressed counts written `*`, `<10` and `PS`, and a share of outcome rows that give a
range-coded rate (`90-94`, `GE95`, `LT50`) instead of a numerator.

Shape of the default package (2,000 regions):
- outcomes: indicators x 10 school years x regions x 16 student groups, with just enough
  indicators for `outcome_rows` (16 indicators: 5,120,000 rows);
- participation: program sites x 40 quarters x 8 student groups, with just enough sites for
  `participation_rows` (6,250 sites: 2,000,000 rows);
- pathway: 10 cohorts x 7 stages x regions x 4 groups (560,000 rows);
- partners, programs, program sites (a tenth of them with coordinates inside their county),
  indicators, targets and a groups.csv declaring one extra group.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from domain import vocabulary as vocab

SEED = 20250601
FIRST_SCHOOL_YEAR = 2015  # 2015-16 .. 2024-25
SCHOOL_YEARS = 10
FIRST_QUARTER_YEAR = 2016  # 2016-Q1 .. 2025-Q4
QUARTERS = 40
MANIFEST = ".bench-manifest.json"  # hidden: the importer ignores dot-files

OUTCOME_GROUPS = tuple(g.group_id for g in vocab.BUILT_IN_GROUPS)  # all 16
PARTICIPATION_GROUPS = (
    "all", "econ_disadvantaged", "english_learner", "students_with_disabilities",
    "female", "male", "black", "hispanic",
)
PATHWAY_GROUPS = ("all", "econ_disadvantaged", "female", "male")
PATHWAY_STAGES = (
    "Grade 5 science proficient", "Algebra I by grade 9", "Advanced STEM course in high school",
    "Graduated ready", "Enrolled in postsecondary", "Declared a STEM major", "STEM credential",
)
# Share of a region's students in each group (roughly national), used to size denominators.
GROUP_SHARE = {
    "all": 1.0, "american_indian_alaska_native": 0.01, "asian": 0.05, "black": 0.15,
    "hispanic": 0.28, "native_hawaiian_pacific_islander": 0.004, "white": 0.45,
    "two_or_more_races": 0.05, "econ_disadvantaged": 0.45, "not_econ_disadvantaged": 0.55,
    "english_learner": 0.10, "not_english_learner": 0.90, "students_with_disabilities": 0.14,
    "not_students_with_disabilities": 0.86, "female": 0.49, "male": 0.51,
}
# Gap applied to each group's rate, in percentage points.
GROUP_GAP = {
    "all": 0, "american_indian_alaska_native": -9, "asian": 7, "black": -8, "hispanic": -6,
    "native_hawaiian_pacific_islander": -5, "white": 3, "two_or_more_races": -1,
    "econ_disadvantaged": -9, "not_econ_disadvantaged": 6, "english_learner": -14,
    "not_english_learner": 1, "students_with_disabilities": -18, "not_students_with_disabilities": 2,
    "female": 2, "male": -2,
}
INDICATOR_BASES = (
    # id, name, stage, higher_is_better, base rate %, share of enrolment measured
    ("sci5", "Grade 5 science proficiency", "elementary", True, 38, 1 / 13),
    ("math3", "Grade 3 math proficiency", "elementary", True, 45, 1 / 13),
    ("read3", "Grade 3 reading proficiency", "elementary", True, 42, 1 / 13),
    ("math8", "Grade 8 math proficiency", "middle", True, 33, 1 / 13),
    ("sci8", "Grade 8 science proficiency", "middle", True, 36, 1 / 13),
    ("alg9", "Algebra I by grade 9", "middle", True, 55, 1 / 13),
    ("absent", "Chronic absence", "middle", False, 16, 4 / 13),
    ("apstem", "Advanced STEM course taken", "high", True, 24, 4 / 13),
    ("cte", "CTE STEM concentrator", "high", True, 18, 4 / 13),
    ("grad4", "Four-year graduation rate", "high", True, 87, 1 / 13),
    ("ready", "Graduated college and career ready", "high", True, 41, 1 / 13),
    ("enroll", "Enrolled in postsecondary within a year", "postsecondary", True, 58, 1 / 13),
    ("stemmaj", "Declared a STEM major", "postsecondary", True, 19, 1 / 13),
    ("persist", "Persisted to second year", "postsecondary", True, 74, 1 / 13),
    ("stemjob", "Employed in a STEM occupation", "workforce", True, 12, 1 / 13),
    ("certtch", "STEM teachers fully certified", "educator", True, 91, 1 / 60),
)
SUPPRESSION_MARKS = ("*", "<10", "PS")


@dataclass
class GeneratedPackage:
    path: str
    seed: int
    regions: int
    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    bytes: int = 0
    reused: bool = False

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())


def generate_package(
    out_dir: str | Path,
    regions: int = 2000,
    outcome_rows: int = 5_000_000,
    participation_rows: int = 2_000_000,
    seed: int = SEED,
    located_share: float = 0.1,
) -> GeneratedPackage:
    """Write a package of CSV files into `out_dir` (created if needed) and describe it.

    `outcome_rows` and `participation_rows` are minimums: the grids are rounded up to whole
    indicators and whole program sites.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    counties = _pick_counties(regions, rng)
    n_regions = len(counties["region_id"])

    counts: dict[str, int] = {}
    enrollment = _write_regions(out, counties, rng, counts)
    n_indicators = max(1, math.ceil(outcome_rows / (n_regions * SCHOOL_YEARS * len(OUTCOME_GROUPS))))
    indicators = _write_indicators(out, n_indicators, counts)
    _write_groups(out, counts)
    n_sites = max(1, math.ceil(participation_rows / (QUARTERS * len(PARTICIPATION_GROUPS))))
    sites = _write_partners_programs_sites(out, counties, n_sites, located_share, rng, counts)
    _write_participation(out, sites, counties, rng, counts)
    _write_outcomes(out, indicators, counties, enrollment, rng, counts)
    _write_pathway(out, counties, enrollment, rng, counts)
    _write_targets(out, indicators, counties, counts)

    generated = GeneratedPackage(
        path=str(out), seed=seed, regions=n_regions, row_counts=counts,
        seconds=time.perf_counter() - started,
        bytes=sum(p.stat().st_size for p in out.glob("*.csv")),
    )
    settings = {"regions": regions, "outcome_rows": outcome_rows, "participation_rows": participation_rows,
                "seed": seed, "located_share": located_share}
    (out / MANIFEST).write_text(json.dumps({"settings": settings, "package": asdict(generated)}, indent=1))
    return generated


def reuse_package(out_dir: str | Path, **settings) -> GeneratedPackage | None:
    """The package already in `out_dir` if it was generated with exactly these settings."""
    manifest = Path(out_dir) / MANIFEST
    if not manifest.is_file():
        return None
    try:
        saved = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    wanted = {"regions": 2000, "outcome_rows": 5_000_000, "participation_rows": 2_000_000,
              "seed": SEED, "located_share": 0.1, **settings}
    if saved.get("settings") != wanted:
        return None
    package = GeneratedPackage(**saved["package"])
    if not all((Path(out_dir) / f"{name}.csv").is_file() for name in package.row_counts):
        return None
    package.reused = True
    return package


# --- helpers ------------------------------------------------------------------------------

def _write(out: Path, name: str, columns: dict[str, pa.Array], counts: dict[str, int], quote: bool = False) -> None:
    table = pa.table(columns)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed" if quote else "none", batch_size=65_536)
    with pa.OSFile(str(out / f"{name}.csv"), "wb") as sink:
        sink.write((",".join(columns) + "\n").encode())  # a plain header, as spreadsheets write it
        pacsv.write_csv(table, sink, options)
    counts[name] = table.num_rows


def _dictionary(indices: np.ndarray, values) -> pa.DictionaryArray:
    """Text column as codes into a small vocabulary: cheap to build and to write."""
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), pa.array(list(values), pa.string()))


def _ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values.astype(np.int64)), pa.string())


def _text_where(mask: np.ndarray, when_true: pa.Array | pa.Scalar | str, otherwise: pa.Array | pa.Scalar | str) -> pa.Array:
    def scalar(value):
        return pa.scalar(value, pa.string()) if isinstance(value, str) else value
    return pc.if_else(pa.array(mask), scalar(when_true), scalar(otherwise))


def _marks(rng: np.random.Generator, n: int) -> pa.Array:
    """Suppression marks as real files mix them: mostly `*`, some `<10` and `PS`."""
    return _dictionary(rng.choice(len(SUPPRESSION_MARKS), size=n, p=[0.8, 0.15, 0.05]), SUPPRESSION_MARKS).dictionary_decode()


def _pick_counties(regions: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """`regions` real counties (fewest states that hold them), in FIPS order."""
    from data import geography

    features = geography._county_features()  # noqa: SLF001 - the one list of built-in counties
    codes = np.array(sorted(features), dtype=object)
    if regions > len(codes):
        raise ValueError(f"at most {len(codes):,} regions: that is every built-in county")
    # Whole states in a shuffled order until there are enough counties, like a state network.
    states = np.array([c[:2] for c in codes], dtype=object)
    order = rng.permutation(np.unique(states))
    chosen: list[str] = []
    for state in order:
        chosen += list(codes[states == state])
        if len(chosen) >= regions:
            break
    # The last state is partly in the network: keep a random part of it.
    picked = np.sort(rng.choice(np.array(chosen, dtype=object), size=regions, replace=False))
    return {
        "region_id": picked,
        "name": np.array([f"{features[c]['name']}, {features[c]['state']}" for c in picked], dtype=object),
        "area": np.array([features[c]["land_area_km2"] for c in picked], dtype=float),
        "geometry": [features[c]["geometry"] for c in picked],
    }


# --- tables -------------------------------------------------------------------------------

def _write_regions(out: Path, counties, rng, counts) -> np.ndarray:
    n = len(counties["region_id"])
    enrollment = np.maximum(150, rng.lognormal(mean=8.6, sigma=1.1, size=n)).round().astype(np.int64)
    # Locale loosely follows size: big counties are cities and suburbs.
    size_rank = enrollment.argsort().argsort() / max(1, n - 1)
    locale = np.select([size_rank > 0.93, size_rank > 0.75, size_rank > 0.45], [0, 1, 2], 3)
    code = rng.choice([1, 2, 3], size=n)
    as_code = rng.random(n) < 0.2  # a fifth written as NCES codes (11-43), like a CCD extract
    locale_text = np.where(as_code, ((locale + 1) * 10 + code).astype(str), np.array(vocab.LOCALES, dtype=object)[locale])
    low_income = np.clip(rng.normal(48, 15, size=n), 3, 97).round(1)
    low_income_text = _text_where(rng.random(n) < 0.03, "", pc.cast(pa.array(low_income), pa.string()))
    _write(out, "regions", {
        "region_id": pa.array(counties["region_id"], pa.string()),
        "name": pa.array(counties["name"], pa.string()),
        "locale": pa.array(locale_text.astype(str), pa.string()),
        "k12_enrollment": _ints(enrollment),
        "low_income_pct": low_income_text,
    }, counts, quote=True)
    return enrollment


def _write_indicators(out: Path, n: int, counts) -> list[tuple]:
    chosen = []
    for i in range(n):
        ident, name, stage, better, base, share = INDICATOR_BASES[i % len(INDICATOR_BASES)]
        lap = i // len(INDICATOR_BASES)
        if lap:
            ident, name = f"{ident}_{lap + 1}", f"{name} (variant {lap + 1})"
        chosen.append((ident, name, stage, better, base, share))
    _write(out, "indicators", {
        "indicator_id": pa.array([c[0] for c in chosen]),
        "name": pa.array([c[1] for c in chosen]),
        "stage": pa.array([c[2] for c in chosen]),
        "higher_is_better": pa.array(["true" if c[3] else "false" for c in chosen]),
        "description": pa.array([f"{c[1]}, percent of students measured; state report card, generated for the benchmark" for c in chosen]),
    }, counts, quote=True)
    return chosen


def _write_groups(out: Path, counts) -> None:
    _write(out, "groups", {
        "group_id": pa.array(["black_hispanic_native_american", "english_learners_with_transitional"]),
        "label": pa.array(["Black, Hispanic or Native American", "English learners with transitional students"]),
        "category": pa.array(["race_ethnicity", "language"]),
        "reference_group_id": pa.array(["", ""]),
    }, counts, quote=True)


def _write_partners_programs_sites(out: Path, counties, n_sites: int, located_share: float, rng, counts) -> dict:
    n_regions = len(counties["region_id"])
    n_programs = max(1, math.ceil(n_sites / 2))
    n_partners = max(1, math.ceil(n_programs / 4))
    # Partners
    partner_region = rng.integers(0, n_regions, size=n_partners)
    joined = np.datetime64("2012-01-01") + rng.integers(0, 13 * 365, size=n_partners).astype("timedelta64[D]")
    left = joined + rng.integers(200, 3000, size=n_partners).astype("timedelta64[D]")
    has_left = (rng.random(n_partners) < 0.06) & (left < np.datetime64("2025-12-31"))
    _write(out, "partners", {
        "partner_id": pa.array([f"P{i:05d}" for i in range(n_partners)]),
        "name": pa.array([f"Partner {i:05d} of {counties['name'][r]}" for i, r in enumerate(partner_region)]),
        "sector": _dictionary(rng.integers(0, len(vocab.SECTORS), size=n_partners), vocab.SECTORS),
        "region_id": pa.array(counties["region_id"][partner_region], pa.string()),
        "joined_on": pa.array(joined.astype(str)),
        "left_on": _text_where(has_left, pa.array(left.astype(str)), ""),
    }, counts, quote=True)
    # Programs: four per partner on average
    program_partner = np.sort(rng.integers(0, n_partners, size=n_programs))
    start = np.datetime64("2014-08-01") + rng.integers(0, 10 * 365, size=n_programs).astype("timedelta64[D]")
    _write(out, "programs", {
        "program_id": pa.array([f"G{i:05d}" for i in range(n_programs)]),
        "partner_id": pa.array([f"P{i:05d}" for i in program_partner]),
        "name": pa.array([f"STEM program {i:05d}" for i in range(n_programs)]),
        "program_type": _dictionary(rng.integers(0, len(vocab.PROGRAM_TYPES), size=n_programs), vocab.PROGRAM_TYPES),
        "grade_band": _dictionary(rng.integers(0, len(vocab.GRADE_BANDS), size=n_programs), vocab.GRADE_BANDS),
        "start_on": _text_where(rng.random(n_programs) < 0.7, pa.array(start.astype(str)), ""),
        "end_on": pa.array([""] * n_programs),
    }, counts, quote=True)
    # Sites: each program in up to two distinct regions (the participation key needs that)
    site_program = np.arange(n_sites) % n_programs
    second = np.arange(n_sites) >= n_programs
    site_region = (rng.integers(0, n_regions, size=n_programs)[site_program] + second * max(1, n_regions // 2)) % n_regions
    seats = rng.integers(10, 400, size=n_sites)
    lat, lon = _site_points(counties, site_region, rng.random(n_sites) < located_share)
    _write(out, "program_sites", {
        "program_id": pa.array([f"G{i:05d}" for i in site_program]),
        "region_id": pa.array(counties["region_id"][site_region], pa.string()),
        "site_name": pa.array([f"Site {i:05d}" for i in range(n_sites)]),
        "latitude": lat, "longitude": lon,
        "seats": _ints(seats),
    }, counts, quote=True)
    return {"program": site_program, "region": site_region, "seats": seats}


def _site_points(counties, site_region: np.ndarray, located: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """A point inside the county for located sites (its representative point), blank otherwise."""
    import shapely

    lat = np.full(len(site_region), np.nan)
    lon = np.full(len(site_region), np.nan)
    wanted = np.unique(site_region[located])
    if len(wanted):
        points = shapely.point_on_surface(
            shapely.from_geojson([json.dumps(counties["geometry"][i]) for i in wanted]))
        by_region = dict(zip(wanted, zip(shapely.get_x(points), shapely.get_y(points))))
        for i in np.flatnonzero(located):
            lon[i], lat[i] = by_region[site_region[i]]

    def text(values):
        return _text_where(np.isnan(values), "", pc.cast(pa.array(np.round(values, 5)), pa.string()))
    return text(lat), text(lon)


def _write_participation(out: Path, sites: dict, counties, rng, counts) -> None:
    n_sites, n_groups = len(sites["program"]), len(PARTICIPATION_GROUPS)
    # Row order: site, quarter, group (as a provider export would list them).
    site = np.repeat(np.arange(n_sites, dtype=np.int32), QUARTERS * n_groups)
    quarter = np.tile(np.repeat(np.arange(QUARTERS, dtype=np.int32), n_groups), n_sites)
    group = np.tile(np.arange(n_groups, dtype=np.int32), n_sites * QUARTERS)
    fill = rng.uniform(0.4, 1.0, size=n_sites)[site] * (1 + 0.15 * np.sin(quarter * np.pi / 2))
    share = np.array([GROUP_SHARE[g] for g in PARTICIPATION_GROUPS])[group]
    participants = rng.poisson(sites["seats"][site] * fill * share)
    suppressed = (participants < 10) & (group > 0)
    quarter_names = [f"{FIRST_QUARTER_YEAR + q // 4}-Q{q % 4 + 1}" for q in range(QUARTERS)]
    program_names = [f"G{i:05d}" for i in range(int(sites["program"].max()) + 1)]
    _write(out, "participation", {
        "program_id": _dictionary(sites["program"][site], program_names),
        "region_id": _dictionary(sites["region"][site], counties["region_id"]),
        "quarter": _dictionary(quarter, quarter_names),
        "student_group": _dictionary(group, PARTICIPATION_GROUPS),
        "participants": pc.if_else(pa.array(suppressed), _marks(rng, len(site)), _ints(participants)),
    }, counts)


def _school_year(i: int) -> str:
    start = FIRST_SCHOOL_YEAR + i
    return f"{start}-{(start + 1) % 100:02d}"


def _write_outcomes(out: Path, indicators: list[tuple], counties, enrollment: np.ndarray, rng, counts) -> None:
    n_ind, n_regions, n_groups = len(indicators), len(counties["region_id"]), len(OUTCOME_GROUPS)
    per_indicator = SCHOOL_YEARS * n_regions * n_groups
    n = n_ind * per_indicator
    # Row order: indicator, school year, region, group (a report-card extract's order).
    flat = np.arange(n, dtype=np.int64)
    ind = (flat // per_indicator).astype(np.int32)
    year = ((flat // (n_regions * n_groups)) % SCHOOL_YEARS).astype(np.int32)
    region = ((flat // n_groups) % n_regions).astype(np.int32)
    group = (flat % n_groups).astype(np.int32)
    del flat

    base = np.array([c[4] for c in indicators], dtype=float)
    measured = np.array([c[5] for c in indicators])
    share = np.array([GROUP_SHARE[g] for g in OUTCOME_GROUPS])
    gap = np.array([GROUP_GAP[g] for g in OUTCOME_GROUPS], dtype=float)
    region_effect = rng.normal(0, 6, size=n_regions)
    better = np.array([c[3] for c in indicators])
    sign = np.where(better, 1.0, -1.0)
    trend = 0.4 * year  # a slow improvement, in points per year

    expected_denominator = enrollment[region] * measured[ind] * share[group] * (1 + 0.01 * year)
    denominator = rng.poisson(expected_denominator)
    rate = np.clip(base[ind] + sign[ind] * (gap[group] + trend) + region_effect[region], 1, 99) / 100
    numerator = rng.binomial(denominator, rate)
    del expected_denominator, rate

    small = denominator < 10
    numerator_suppressed = small
    denominator_suppressed = small & (rng.random(n) < 0.2)
    # A share of rows come from report cards that publish a protected rate, not a numerator.
    rate_coded = ~small & (rng.random(n) < 0.04)
    percent = np.where(denominator > 0, numerator * 100 / np.maximum(denominator, 1), 0)
    low5 = (np.floor(percent / 5) * 5).astype(np.int64)
    rate_text = pc.binary_join_element_wise(_ints(low5), _ints(low5 + 4), "-")
    rate_text = _text_where(percent >= 95, "GE95", rate_text)
    rate_text = _text_where(percent < 5, "LT5", rate_text)
    exact = rate_coded & (rng.random(n) < 0.1)
    rate_text = _text_where(exact, pc.cast(pa.array(np.round(percent, 1)), pa.string()), rate_text)

    numerator_text = _text_where(rate_coded, "", _ints(numerator))
    numerator_text = pc.if_else(pa.array(numerator_suppressed), _marks(rng, n), numerator_text)
    denominator_text = pc.if_else(pa.array(denominator_suppressed), _marks(rng, n), _ints(denominator))
    rate_column = _text_where(rate_coded, rate_text, "")
    _write(out, "outcomes", {
        "indicator_id": _dictionary(ind, [c[0] for c in indicators]),
        "region_id": _dictionary(region, counties["region_id"]),
        "school_year": _dictionary(year, [_school_year(i) for i in range(SCHOOL_YEARS)]),
        "student_group": _dictionary(group, OUTCOME_GROUPS),
        "numerator": numerator_text,
        "denominator": denominator_text,
        "rate": rate_column,
    }, counts)


def _write_pathway(out: Path, counties, enrollment: np.ndarray, rng, counts) -> None:
    n_regions, n_groups, n_stages = len(counties["region_id"]), len(PATHWAY_GROUPS), len(PATHWAY_STAGES)
    cohorts = SCHOOL_YEARS
    per_cohort = n_stages * n_regions * n_groups
    flat = np.arange(cohorts * per_cohort, dtype=np.int64)
    cohort = (flat // per_cohort).astype(np.int32)
    stage = ((flat // (n_regions * n_groups)) % n_stages).astype(np.int32)
    region = ((flat // n_groups) % n_regions).astype(np.int32)
    group = (flat % n_groups).astype(np.int32)
    del flat
    share = np.array([GROUP_SHARE[g] for g in PATHWAY_GROUPS])
    keep = np.array([1.0, 0.62, 0.4, 0.33, 0.24, 0.09, 0.05])  # share of the cohort reaching each stage
    students = rng.poisson(enrollment[region] / 13 * share[group] * keep[stage])
    suppressed = (students < 10) & (stage > 0)
    _write(out, "pathway", {
        "cohort": _dictionary(cohort, [str(FIRST_QUARTER_YEAR + i) for i in range(cohorts)]),
        "stage_order": _dictionary(stage, [str(i + 1) for i in range(n_stages)]),
        "stage": _dictionary(stage, PATHWAY_STAGES),
        "region_id": _dictionary(region, counties["region_id"]),
        "student_group": _dictionary(group, PATHWAY_GROUPS),
        "students": pc.if_else(pa.array(suppressed), _marks(rng, len(students)), _ints(students)),
    }, counts)


def _write_targets(out: Path, indicators: list[tuple], counties, counts) -> None:
    measure, group, period, target, region = [], [], [], [], []
    latest = _school_year(SCHOOL_YEARS - 1)
    for ident, _name, _stage, better, base, _share in indicators:
        for year in range(SCHOOL_YEARS):
            for g in ("all", "econ_disadvantaged", "english_learner"):
                measure.append(ident), group.append(g), period.append(_school_year(year)), region.append("")
                target.append(min(100, base + (4 if better else -4)))
    for q in range(QUARTERS):
        measure.append("participants"), group.append("all"), region.append("")
        period.append(f"{FIRST_QUARTER_YEAR + q // 4}-Q{q % 4 + 1}"), target.append(50_000 + 500 * q)
    # Regional goals for the latest year of the first indicator.
    for region_id in counties["region_id"]:
        measure.append(indicators[0][0]), group.append("all"), period.append(latest)
        region.append(region_id), target.append(indicators[0][4] + 5)
    _write(out, "targets", {
        "measure": pa.array(measure), "student_group": pa.array(group), "period": pa.array(period),
        "target": pc.cast(pa.array(np.array(target, dtype=float)), pa.string()), "region_id": pa.array(region),
    }, counts, quote=True)
