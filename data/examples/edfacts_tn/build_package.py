#!/usr/bin/env python3
"""Build an alliance data package (contract v1) from real public files:

* EDFacts school-level four-year ACGR public-use files, SY2011-12 .. SY2014-15, one state;
* the Census school-district cartographic boundary shapefiles of that state (unified +
  secondary);
* a district profile for K-12 enrollment, low-income share and (optionally) locale.

Output (``--out DIR``): regions.csv, regions.geojson, indicators.csv, groups.csv, outcomes.csv.
Nothing is invented; every rule below is a reading of what the sources publish.

Regions
    A region is a school district: ``region_id`` = the 7-digit NCES LEAID, which is the
    shapefile ``GEOID`` (text, leading zeros kept). A district becomes a region only when it
    has a boundary polygon AND at least one graduation row AND a K-12 enrollment in the
    profile; everything left out is printed with the reason.

    Census "secondary school districts" (e.g. "Wilson County School District in Lebanon")
    carry pseudo-GEOIDs (47471xx) that no EDFacts LEA has: they are the area where an
    elementary (K-8) district exists and the named county/unified district runs the high
    schools. Each is dissolved into the polygon of the region whose name, without the
    trailing "School District"/"Schools"/"School System", equals the part before " in "
    ("Wilson County"), so the region covers its whole high-school attendance area. A
    secondary piece with no unique such parent is left out and printed.

Profile (``--profile``)
    Either the TDOE 2014-15 district profile (``achievement_profile_data_with_CORE.csv``:
    ``system``, ``Enrollment``, ``Pct_ED``), whose state district numbers are mapped to NCES
    LEAIDs with the TDOE school directories beside it (``LEA_ID``/``LEA_NCES``; for the six
    2014-15 Shelby County municipal districts the 2015 directory has ``--`` and the
    directory's district name is matched exactly, case-insensitively, to an EDFacts LEANM),
    or a generic CSV/xlsx with ``region_id`` (or ``LEAID``), ``k12_enrollment`` and optional
    ``low_income_pct`` and ``locale``. ``low_income_pct`` is the share economically
    disadvantaged (TDOE ``Pct_ED``), blank when not published.

Locale
    A real locale from the profile (``locale`` column, e.g. the NCES CCD LEA ``LOCALE``
    code) is always used first. The TN files carry none (no locale code in the district
    profiles nor in either school directory), and no population file is among the sources,
    so otherwise the locale is DERIVED, as a proxy, from the district's K-12 enrollment E and
    its student density D = E / land area in km^2 (shapefile ALAND, summed over the pieces of
    the region), first rule that matches:
      1. city   if D >= 25 and E >= 25,000   (large, dense district: a big urban core)
      2. suburb if D >= 10 and the polygon touches (< 200 m) a district of rule 1
      3. city   if D >= 40 and E >= 5,000    (small-city core not attached to a big one)
      4. town   if D >= 10
      5. rural  otherwise
    This is not the NCES locale (which follows Census urbanized areas/clusters and distance);
    ``--locale-report FILE`` writes each district's E, land area, D and the rule applied.

Outcomes (EDFacts is per school, the contract per region, one row per
(indicator, district, school year, group))
    Per school and group: COHORT is an exact count or '.'; RATE is exact ('93'), a range
    ('90-94' -> [90,94]), a bound ('GE95'/'GT95' -> [95,100], 'LT50'/'LE50' -> [0,50]),
    'PS' (privacy-suppressed -> [0,100]), '.' or blank (not published). A school with
    neither cohort nor rate, or a zero cohort, contributes nothing.
    District pooling over contributing schools i with cohort c_i and bounds [lo_i, hi_i]:
      denominator = sum c_i (exact);
      rate lower  = sum(c_i*lo_i)/sum(c_i), upper = sum(c_i*hi_i)/sum(c_i), rounded outward
                    to 0.1 (floor the lower, ceil the upper) and written 'lo-hi';
      exact value (rounded to 0.1) only when every school's rate is exact;
      'PS' when every contributing school is PS;
      a school with a cohort but no published rate counts as [0,100], like PS.
    A school that publishes a rate but no cohort ('.'; some states do this) has an unknown
    weight: the pooled rate then lies between the known schools' pooled bounds and that
    school's bounds, so lower = min of those lowers, upper = max of those uppers, and the
    denominator is written '*' (suppressed by the publisher: never zero, never guessed).
    Schools in an LEA with no region are not written. Groups: ALL all, MAM
    american_indian_alaska_native, MAS asian_pacific_islander (declared in groups.csv), MBL
    black, MHI hispanic, MTR two_or_more_races, MWH white, CWD students_with_disabilities,
    ECD econ_disadvantaged, LEP english_learner.

File quirks handled: column suffixes differ by year (_1112 .. _1415, read from the header,
which also gives the school year), file-name case differs ("Edfacts 2012.csv"), the 2013-14
file has an extra INSERT_DATE column, and every field is read as text so LEAIDs/NCESSCH keep
their leading zeros.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
import time
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

import geopandas as gpd
import pandas as pd

# Extracts of the public files, kept beside this script (each folder's SOURCE.txt says what
# was taken and from where), so the example runs from a clone with nothing else.
SOURCES = Path(__file__).resolve().parent / "sources"
TN_BOUNDARIES = SOURCES / "tn_district_boundaries_cb2016"
TN_PROFILE = SOURCES / "tn_tdoe_profiles_2014_2015" / "achievement_profile_data_with_CORE.csv"
BOUNDARY_SUFFIXES = (".shp", ".geojson", ".geojson.gz", ".gpkg", ".zip")

INDICATOR_ID = "acgr_4yr"

# EDFacts group code -> contract student_group id.
GROUPS = {
    "ALL": "all",
    "MAM": "american_indian_alaska_native",
    "MAS": "asian_pacific_islander",
    "MBL": "black",
    "MHI": "hispanic",
    "MTR": "two_or_more_races",
    "MWH": "white",
    "CWD": "students_with_disabilities",
    "ECD": "econ_disadvantaged",
    "LEP": "english_learner",
}
# Groups not in the contract's standard list must be declared in groups.csv.
DECLARED_GROUPS = [
    {
        "group_id": "asian_pacific_islander",
        "label": "Asian or Pacific Islander (combined, as in EDFacts)",
        "category": "race_ethnicity",
        "reference_group_id": "",
    },
]
GROUP_ORDER = list(GROUPS.values())

# Locale proxy thresholds (see the docstring); students per km^2 of land, students.
CITY_CORE_DENSITY, CITY_CORE_ENROLLMENT = 25, 25_000
SMALL_CITY_DENSITY, SMALL_CITY_ENROLLMENT = 40, 5_000
BUILT_UP_DENSITY = 10
TOUCH_METRES = 200

LOCALE_WORDS = {"city", "suburb", "town", "rural"}
LOCALE_CODES = {"11", "12", "13", "21", "22", "23", "31", "32", "33", "41", "42", "43"}

COLUMN_RE = re.compile(r"^([A-Z]{3})_(COHORT|RATE)_(\d{2})(\d{2})$")
RANGE_RE = re.compile(r"^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$")
BOUND_RE = re.compile(r"^(GE|GT|LE|LT)(\d+(?:\.\d+)?)$")
EXACT_RE = re.compile(r"^\d+(?:\.\d+)?$")
MISSING = {"", "."}

HUNDRED = Fraction(100)


# ---------------------------------------------------------------- EDFacts ----------------


def read_edfacts(edfacts_dir: Path, state: str) -> pd.DataFrame:
    """One long table: leaid, leanm, ncessch, school_year, group, cohort, rate (all text)."""
    files = sorted(
        p for p in edfacts_dir.iterdir()
        if p.is_file() and p.suffix.lower() == ".csv" and p.name.lower().startswith("edfacts")
    )
    if not files:
        sys.exit(f"no EDFacts *.csv files in {edfacts_dir}")
    frames, seen_years = [], {}
    for path in files:
        # dtype=str + keep_default_na=False: ids keep leading zeros, '.', 'PS' and '' stay
        # distinguishable instead of collapsing into NaN.
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        raw.columns = [c.strip().upper() for c in raw.columns]
        raw = raw[raw["STNAM"].str.strip().str.upper() == state]
        parsed = [(c, COLUMN_RE.match(c)) for c in raw.columns]
        suffixes = {m.group(3) + m.group(4) for _, m in parsed if m}
        if len(suffixes) != 1:
            sys.exit(f"{path.name}: expected one year suffix in the header, found {sorted(suffixes)}")
        yy = suffixes.pop()
        school_year = f"20{yy[:2]}-{yy[2:]}"
        if school_year in seen_years:
            sys.exit(f"{path.name} and {seen_years[school_year]} are both {school_year}")
        seen_years[school_year] = path.name
        codes = sorted({m.group(1) for _, m in parsed if m})
        for code in codes:
            if code not in GROUPS:
                print(f"  note: {path.name}: group {code} has no contract mapping, skipped")
                continue
            part = pd.DataFrame({
                "leaid": raw["LEAID"].str.strip(),
                "leanm": raw["LEANM"].str.strip(),
                "ncessch": raw["NCESSCH"].str.strip(),
                "school_year": school_year,
                "group": GROUPS[code],
                "cohort": raw[f"{code}_COHORT_{yy}"].str.strip(),
                "rate": raw[f"{code}_RATE_{yy}"].str.strip().str.upper(),
            })
            frames.append(part)
    return pd.concat(frames, ignore_index=True)


def rate_bounds(text: str) -> tuple[Fraction, Fraction, str]:
    """A published school rate as (lower, upper, kind); kind is exact, range or ps."""
    if text in MISSING or text == "PS":
        # PS, or a cohort whose rate was not published: the rate can be anything.
        return Fraction(0), HUNDRED, "ps"
    if EXACT_RE.match(text):
        value = Fraction(text)
        return value, value, "exact"
    m = RANGE_RE.match(text)
    if m:
        return Fraction(m.group(1)), Fraction(m.group(2)), "range"
    m = BOUND_RE.match(text)
    if m:
        op, value = m.group(1), Fraction(m.group(2))
        # GT80 is (80,100] and LT50 is [0,50): closed bounds contain them.
        return (value, HUNDRED, "range") if op in ("GE", "GT") else (Fraction(0), value, "range")
    raise ValueError(f"unrecognised EDFacts rate {text!r}")


def fmt(value: Fraction) -> str:
    """A one-decimal number written without a trailing .0 (90 not 90.0)."""
    text = f"{float(value):.1f}"
    return text[:-2] if text.endswith(".0") else text


def floor1(x: Fraction) -> Fraction:
    return Fraction(math.floor(x * 10), 10)


def ceil1(x: Fraction) -> Fraction:
    return Fraction(math.ceil(x * 10), 10)


def round1(x: Fraction) -> Fraction:
    return Fraction(math.floor(x * 10 + Fraction(1, 2)), 10)  # half up, no float drift


def pool_district(rows: list[tuple[str, str]]) -> tuple[str, str] | None:
    """(denominator, rate) for one district/year/group from its schools' (cohort, rate)."""
    known: list[tuple[int, Fraction, Fraction, str]] = []
    unweighted: list[tuple[Fraction, Fraction, str]] = []
    for cohort, rate in rows:
        if cohort in MISSING:
            if rate in MISSING:
                continue  # no students / not reported
            unweighted.append(rate_bounds(rate))
            continue
        n = int(cohort)
        if n == 0:
            continue
        known.append((n, *rate_bounds(rate)))
    if not known and not unweighted:
        return None
    kinds = {k for *_, k in known} | {k for *_, k in unweighted}
    total = sum(n for n, *_ in known)
    denominator = "*" if unweighted else str(total)
    if kinds == {"ps"}:
        return denominator, "PS"
    lows, highs = [], []
    if known:
        lows.append(sum(n * lo for n, lo, _, _ in known) / total)
        highs.append(sum(n * hi for n, _, hi, _ in known) / total)
    lows += [lo for lo, _, _ in unweighted]
    highs += [hi for _, hi, _ in unweighted]
    lo, hi = min(lows), max(highs)
    if kinds == {"exact"} and not unweighted:
        return denominator, fmt(round1(lo))
    lo, hi = floor1(lo), ceil1(hi)
    return denominator, fmt(lo) if lo == hi else f"{fmt(lo)}-{fmt(hi)}"


def build_outcomes(schools: pd.DataFrame) -> pd.DataFrame:
    grouped = defaultdict(list)
    for leaid, year, group, cohort, rate in schools[
        ["leaid", "school_year", "group", "cohort", "rate"]
    ].itertuples(index=False):
        grouped[(leaid, year, group)].append((cohort, rate))
    out = []
    for (leaid, year, group), rows in grouped.items():
        pooled = pool_district(rows)
        if pooled:
            out.append({
                "indicator_id": INDICATOR_ID, "region_id": leaid, "school_year": year,
                "student_group": group, "denominator": pooled[0], "rate": pooled[1],
            })
    return pd.DataFrame(out, columns=[
        "indicator_id", "region_id", "school_year", "student_group", "denominator", "rate"])


# ---------------------------------------------------------------- boundaries -------------


def read_boundaries(paths: list[Path]) -> gpd.GeoDataFrame:
    shapefiles = []
    for p in paths:
        shapefiles += sorted(f for f in p.iterdir() if f.name.lower().endswith(BOUNDARY_SUFFIXES)) \
            if p.is_dir() else [p]
    if not shapefiles:
        sys.exit(f"no boundary files ({', '.join(BOUNDARY_SUFFIXES)}) in {', '.join(map(str, paths))}")
    layers = []
    for shp in shapefiles:
        # GDAL reads a gzipped file through its /vsigzip/ prefix only.
        layer = gpd.read_file(f"/vsigzip/{shp}" if shp.name.lower().endswith(".gz") else shp)
        missing = {"GEOID", "NAME"} - set(layer.columns)
        if missing:
            sys.exit(f"{shp}: no {', '.join(sorted(missing))} column")
        # Census district layers name their code column by level.
        kind = ("secondary" if "SCSDLEA" in layer.columns
                else "elementary" if "ELSDLEA" in layer.columns else "unified")
        if layer.crs is None:
            sys.exit(f"{shp}: no .prj, CRS unknown")
        layer = layer.to_crs(4269)
        layer["GEOID"] = layer["GEOID"].astype(str).str.strip()
        # Census ALAND (m^2 of land) is the density base; without it the polygon area is used.
        layer["ALAND"] = (pd.to_numeric(layer["ALAND"], errors="coerce")
                          if "ALAND" in layer.columns else float("nan"))
        layer["kind"] = kind
        layers.append(layer[["GEOID", "NAME", "ALAND", "kind", "geometry"]])
    return gpd.GeoDataFrame(pd.concat(layers, ignore_index=True), crs=4269)


NAME_SUFFIX_RE = re.compile(r"\s+(school district|school system|schools|public schools)$", re.I)


def name_stem(name: str) -> str:
    return NAME_SUFFIX_RE.sub("", name.strip()).lower()


def assign_features(features: gpd.GeoDataFrame, grad_leaids: set[str], log) -> gpd.GeoDataFrame:
    """Features keyed by region_id: matched GEOIDs plus secondary pieces of their parents."""
    features = features.copy()
    features["region_id"] = features["GEOID"].where(features["GEOID"].isin(grad_leaids))
    matched = features[features["region_id"].notna()]
    stems = defaultdict(set)
    for rid, name in zip(matched["region_id"], matched["NAME"]):
        stems[name_stem(name)].add(rid)
    for idx, row in features[features["region_id"].isna()].iterrows():
        parent = None
        if row["kind"] == "secondary" and " in " in row["NAME"]:
            candidates = stems.get(name_stem(row["NAME"].split(" in ")[0]), set())
            parent = next(iter(candidates)) if len(candidates) == 1 else None
        if parent:
            features.at[idx, "region_id"] = parent
            log["merged"].append(f"{row['GEOID']} {row['NAME']} -> {parent}")
        else:
            reason = ("secondary piece with no unique parent district"
                      if row["kind"] == "secondary" else "no graduation rows in EDFacts")
            log["polygon_dropped"].append(f"{row['GEOID']} {row['NAME']}: {reason}")
    kept = features[features["region_id"].notna()]
    names = matched.drop_duplicates("region_id").set_index("region_id")["NAME"]
    dissolved = kept.dissolve(by="region_id", aggfunc={"ALAND": "sum"}).reset_index()
    dissolved["name"] = dissolved["region_id"].map(names)
    return dissolved[["region_id", "name", "ALAND", "geometry"]]


# ---------------------------------------------------------------- profile ----------------


def read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xls"):
        df = pd.read_excel(path, dtype=str)
    else:
        # pandas reads the TDOE file's old-Mac CR-only line endings as well.
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [str(c).strip() for c in df.columns]
    return df.fillna("")


def tdoe_system_to_leaid(folder: Path, edfacts_names: dict[str, str], log) -> dict[str, str]:
    """TDOE district number -> NCES LEAID from the TDOE school directories in folder."""
    mapping: dict[str, str] = {}
    names: dict[str, str] = {}
    # Newest directory first, so its ids win.
    # The TDOE xlsx files, or CSV extracts of them (the example's sources/).
    directories = [p for p in folder.glob("data_schl_directory_*")
                   if p.suffix.lower() in (".xlsx", ".xls", ".csv")]
    for path in sorted(directories, key=lambda p: p.stem, reverse=True):
        d = read_table(path)
        d.columns = [c.upper().replace(" ", "_") for c in d.columns]
        for _, r in d.iterrows():
            system, nces = r.get("LEA_ID", "").strip(), r.get("LEA_NCES", "").strip()
            if not system:
                continue
            if re.fullmatch(r"\d{7}", nces):
                mapping.setdefault(system, nces)
            elif r.get("LEA_ACCOUNTS", "").strip():
                names.setdefault(system, r["LEA_ACCOUNTS"].strip())
    # New districts the directory lists with LEA_NCES '--': exact name match to EDFacts.
    by_name = defaultdict(set)
    for leaid, name in edfacts_names.items():
        by_name[name.lower()].add(leaid)
    for system, name in names.items():
        if system in mapping:
            continue
        hits = by_name.get(name.lower(), set())
        if len(hits) == 1:
            mapping[system] = next(iter(hits))
            log["crosswalk"].append(f"TDOE {system} {name} -> {mapping[system]} (by name)")
    return mapping


def read_profile(path: Path, edfacts_names: dict[str, str], log) -> pd.DataFrame:
    """region_id, k12_enrollment, low_income_pct, locale (text; blank = not given)."""
    df = read_table(path)
    lower = {c.lower(): c for c in df.columns}
    if {"system", "enrollment", "pct_ed"} <= set(lower):
        crosswalk = tdoe_system_to_leaid(path.parent, edfacts_names, log)
        out = pd.DataFrame({
            "region_id": df[lower["system"]].str.strip().map(crosswalk),
            "k12_enrollment": df[lower["enrollment"]],
            "low_income_pct": df[lower["pct_ed"]],
            "locale": "",
        })
    else:
        idcol = lower.get("region_id") or lower.get("leaid")
        if not idcol or "k12_enrollment" not in lower:
            sys.exit(f"{path}: need region_id (or LEAID) and k12_enrollment columns")
        ids = df[idcol].str.strip()
        out = pd.DataFrame({
            # A spreadsheet may have eaten the leading zero: LEAIDs are 7 digits.
            "region_id": ids.where(~ids.str.fullmatch(r"\d{1,7}"), ids.str.zfill(7)),
            "k12_enrollment": df[lower["k12_enrollment"]],
            "low_income_pct": df[lower["low_income_pct"]] if "low_income_pct" in lower else "",
            "locale": df[lower["locale"]].str.strip().str.lower() if "locale" in lower else "",
        })
    out = out[out["region_id"].notna() & (out["region_id"] != "")]
    for col in ("k12_enrollment", "low_income_pct"):
        out[col] = out[col].str.strip().replace({"NA": "", "NaN": "", "nan": ""})
    bad = out[(out["locale"] != "") & ~out["locale"].isin(LOCALE_WORDS | LOCALE_CODES)]
    if len(bad):
        sys.exit(f"{path}: locale values not in city/suburb/town/rural or 11-43: "
                 f"{sorted(set(bad['locale']))}")
    return out.drop_duplicates("region_id").set_index("region_id")


def derive_locales(regions: gpd.GeoDataFrame) -> pd.DataFrame:
    """Proxy locale for every region from enrollment and student density (docstring rules)."""
    projected = regions.to_crs(6933)  # equal-area metres, for areas and distances
    land_km2 = regions["ALAND"].where(regions["ALAND"] > 0, projected.area) / 1e6
    enrollment = regions["k12_enrollment"].astype(float)
    density = enrollment / land_km2
    core = (density >= CITY_CORE_DENSITY) & (enrollment >= CITY_CORE_ENROLLMENT)
    core_union = projected[core].geometry.union_all() if core.any() else None
    touches = projected.geometry.apply(
        lambda g: core_union is not None and g.distance(core_union) < TOUCH_METRES)
    locale, rule = [], []
    for is_core, d, e, t in zip(core, density, enrollment, touches):
        if is_core:
            locale.append("city"); rule.append("1 large dense core")
        elif d >= BUILT_UP_DENSITY and t:
            locale.append("suburb"); rule.append("2 built-up; touches a core")
        elif d >= SMALL_CITY_DENSITY and e >= SMALL_CITY_ENROLLMENT:
            locale.append("city"); rule.append("3 small-city core")
        elif d >= BUILT_UP_DENSITY:
            locale.append("town"); rule.append("4 built-up")
        else:
            locale.append("rural"); rule.append("5 sparse")
    return pd.DataFrame({
        "land_km2": land_km2.round(1), "students_per_km2": density.round(2),
        "touches_core": touches, "derived_locale": locale, "rule": rule,
    }, index=regions.index)


# ---------------------------------------------------------------- output -----------------


def write_csv(path: Path, rows: pd.DataFrame) -> None:
    # Every value as text: identifiers keep leading zeros, nothing becomes 1.0 or NaN.
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(rows.columns)
        writer.writerows(rows.astype(str).itertuples(index=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state", default="TENNESSEE", help="EDFacts STNAM (default TENNESSEE)")
    ap.add_argument("--edfacts-dir", type=Path, default=SOURCES / "edfacts_acgr_school",
                    help="folder of EDFacts ACGR school files (default: the extract in sources/)")
    ap.add_argument("--boundaries", type=Path, nargs="+",
                    help="district boundary file(s) (.shp, .zip, .geojson[.gz], .gpkg) or "
                         "folders of them (default for TN: the Census 2016 unified + "
                         "secondary layers in sources/)")
    ap.add_argument("--profile", type=Path,
                    help="district profile: TDOE achievement_profile CSV or a CSV/xlsx with "
                         "region_id, k12_enrollment[, low_income_pct][, locale] (default for "
                         "TN: the TDOE 2014-15 profile)")
    ap.add_argument("--locale-report", type=Path, help="also write how each locale was chosen")
    ap.add_argument("--out", type=Path, required=True, help="package folder to write")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    state = args.state.strip().upper()
    if state == "TENNESSEE":
        args.boundaries = args.boundaries or [TN_BOUNDARIES]
        args.profile = args.profile or TN_PROFILE
    if not args.boundaries:
        sys.exit("--boundaries is required: the state's Census school-district shapefile(s)")
    if not args.profile:
        sys.exit("--profile is required: regions.csv needs k12_enrollment for every district")
    log = defaultdict(list)

    schools = read_edfacts(args.edfacts_dir, state)
    if schools.empty:
        sys.exit(f"no EDFacts rows for STNAM={state}")
    years = sorted(schools["school_year"].unique())
    outcomes = build_outcomes(schools)
    grad_leaids = set(outcomes["region_id"])
    edfacts_names = (schools.sort_values("school_year")
                     .drop_duplicates("leaid", keep="last").set_index("leaid")["leanm"].to_dict())

    features = read_boundaries(args.boundaries)
    regions = assign_features(features, grad_leaids, log)

    profile = read_profile(args.profile, edfacts_names, log)
    regions = regions.join(profile, on="region_id")
    # A spreadsheet cell may hold 5600 as "5600.0"; anything else is not a count.
    regions["k12_enrollment"] = regions["k12_enrollment"].fillna("").str.replace(
        r"^(\d+)\.0+$", r"\1", regex=True)
    has_enrollment = regions["k12_enrollment"].str.fullmatch(r"\d+")
    for rid, name in regions.loc[~has_enrollment, ["region_id", "name"]].itertuples(index=False):
        log["region_dropped"].append(f"{rid} {name}: no K-12 enrollment in the profile")
    regions = regions[has_enrollment].reset_index(drop=True)
    if regions.empty:
        sys.exit("no district has a polygon, graduation rows and an enrollment: nothing to write")

    derived = derive_locales(regions)
    given = regions["locale"].fillna("") != ""
    regions["locale_source"] = given.map({True: "profile", False: "derived"})
    regions["locale"] = regions["locale"].where(given, derived["derived_locale"])

    kept = set(regions["region_id"])
    polygon_ids = set(features["GEOID"])
    by_leaid = schools.groupby("leaid")
    # LEAs with a polygon but no region were reported above (no enrollment).
    for leaid in sorted(grad_leaids - kept - polygon_ids):
        part = by_leaid.get_group(leaid)
        log["lea_dropped"].append(
            f"{leaid} {edfacts_names[leaid]}: no boundary polygon "
            f"({part['ncessch'].nunique()} school(s); "
            f"{', '.join(sorted(part['school_year'].unique()))})")
    dropped_rows = (~outcomes["region_id"].isin(kept)).sum()
    outcomes = outcomes[outcomes["region_id"].isin(kept)].copy()
    outcomes["_g"] = outcomes["student_group"].map(GROUP_ORDER.index)
    outcomes = outcomes.sort_values(["region_id", "school_year", "_g"]).drop(columns="_g")

    args.out.mkdir(parents=True, exist_ok=True)
    regions = regions.sort_values("region_id").reset_index(drop=True)
    write_csv(args.out / "regions.csv",
              regions[["region_id", "name", "locale", "k12_enrollment", "low_income_pct"]]
              .fillna(""))
    geo = regions[["region_id", "name", "geometry"]].to_crs(4326)
    geojson = args.out / "regions.geojson"
    geojson.unlink(missing_ok=True)  # the GeoJSON driver will not overwrite
    # 5 decimals is ~1 m, far finer than the 1:500,000 source; RFC 7946 = WGS84 lon/lat.
    geo.to_file(geojson, driver="GeoJSON", COORDINATE_PRECISION=5, RFC7946="YES")
    write_csv(args.out / "indicators.csv", pd.DataFrame([{
        "indicator_id": INDICATOR_ID,
        "name": "Four-year adjusted cohort graduation rate",
        "stage": "high",
        "higher_is_better": "true",
        "description": (
            "Share of the 9th-grade cohort (adjusted for transfers) graduating with a regular "
            "diploma within four years. Source: U.S. Department of Education, EDFacts "
            f"school-level ACGR public-use files {years[0]} to {years[-1]}, pooled from schools "
            "to districts by cohort size; published ranges and bounds stay ranges, PS = "
            "privacy-suppressed."),
    }]))
    write_csv(args.out / "groups.csv", pd.DataFrame(DECLARED_GROUPS))
    write_csv(args.out / "outcomes.csv", outcomes)
    if args.locale_report:
        report = pd.concat([regions[["region_id", "name", "k12_enrollment", "locale",
                                     "locale_source"]], derived], axis=1)
        write_csv(args.locale_report, report)

    # ------------------------------------------------------------ report
    kinds = Counter("ps" if r == "PS" else "range" if "-" in r else "exact"
                    for r in outcomes["rate"])
    print(f"EDFacts {state}: {len(schools['ncessch'].unique())} schools, "
          f"{schools['leaid'].nunique()} LEAs, school years {', '.join(years)}")
    for title, key in [("secondary pieces merged into their district", "merged"),
                       ("TDOE districts matched by name", "crosswalk"),
                       ("polygons left out", "polygon_dropped"),
                       ("LEAs with graduation data left out", "lea_dropped"),
                       ("regions left out", "region_dropped")]:
        if log[key]:
            print(f"{title} ({len(log[key])}):")
            for line in log[key]:
                print(f"  {line}")
    print(f"regions: {len(regions)} ({Counter(regions['locale']).most_common()}; locale "
          f"{Counter(regions['locale_source']).most_common()})")
    print(f"outcome rows: {len(outcomes)} (exact {kinds['exact']}, range {kinds['range']}, "
          f"PS {kinds['ps']}; {(outcomes['denominator'] == '*').sum()} with an unknown "
          f"denominator); {dropped_rows} district rows not written (no region)")
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
