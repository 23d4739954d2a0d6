"""The EDFacts -> data package example builder, run on the real public files."""

from __future__ import annotations

import csv
import functools
import importlib.util
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "data" / "examples" / "edfacts_tn" / "build_package.py"
# Extracts of the real public files, in the repository (see each folder's SOURCE.txt).
EDFACTS = SCRIPT.parent / "sources" / "edfacts_acgr_school"

RANGE = re.compile(r"^(\d+(?:\.\d)?)-(\d+(?:\.\d)?)$")
EXACT = re.compile(r"^\d+(?:\.\d)?$")


def read_csv(path: Path) -> list[dict[str, str]]:
    # The csv module, not pandas: what is in the file is text, as the importer sees it.
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_builder():
    spec = importlib.util.spec_from_file_location("build_package", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("tn")
    run = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return out, run.stdout


def bounds(rate: str) -> tuple[float, float]:
    m = RANGE.match(rate)
    if m:
        return float(m.group(1)), float(m.group(2))
    assert EXACT.match(rate), rate
    return float(rate), float(rate)


def test_files_and_regions(package):
    out, _ = package
    regions = read_csv(out / "regions.csv")
    ids = [r["region_id"] for r in regions]
    assert len(ids) == len(set(ids)) > 100
    assert all(re.fullmatch(r"47\d{5}", i) for i in ids)
    assert all(r["locale"] in {"city", "suburb", "town", "rural"} for r in regions)
    assert all(r["k12_enrollment"].isdigit() for r in regions)
    assert all(0 <= float(r["low_income_pct"]) <= 100 for r in regions if r["low_income_pct"])
    # Statewide special schools and pre-2013 Memphis/legacy Shelby have no 2016 polygon.
    assert "4700144" not in ids and "4702940" not in ids and "4703180" in ids

    geo = json.loads((out / "regions.geojson").read_text())
    assert geo["type"] == "FeatureCollection"
    feature_ids = [f["properties"]["region_id"] for f in geo["features"]]
    assert all(isinstance(i, str) for i in feature_ids)
    assert sorted(feature_ids) == sorted(ids)
    lon, lat = geo["features"][0]["geometry"]["coordinates"][0][0][:2] if \
        geo["features"][0]["geometry"]["type"] == "Polygon" else \
        geo["features"][0]["geometry"]["coordinates"][0][0][0][:2]
    assert -91 < lon < -81 and 34 < lat < 37  # WGS84 lon/lat, Tennessee

    assert read_csv(out / "indicators.csv")[0]["indicator_id"] == "acgr_4yr"
    groups = {g["group_id"]: g for g in read_csv(out / "groups.csv")}
    assert groups["asian_pacific_islander"]["category"] == "race_ethnicity"
    assert groups["asian_pacific_islander"]["reference_group_id"] == ""


def test_outcomes_well_formed(package):
    out, _ = package
    rows = read_csv(out / "outcomes.csv")
    region_ids = {r["region_id"] for r in read_csv(out / "regions.csv")}
    keys = [(r["region_id"], r["school_year"], r["student_group"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["region_id"] for r in rows} <= region_ids
    assert {r["school_year"] for r in rows} == {"2011-12", "2012-13", "2013-14", "2014-15"}
    kinds = defaultdict(int)
    for r in rows:
        assert r["denominator"].isdigit() and int(r["denominator"]) > 0
        if r["rate"] == "PS":
            kinds["ps"] += 1
            continue
        lo, hi = bounds(r["rate"])
        assert 0 <= lo <= hi <= 100, r
        kinds["range" if "-" in r["rate"] else "exact"] += 1
    assert kinds["range"] > 1000 and kinds["ps"] > 500 and kinds["exact"] > 50


@functools.lru_cache(maxsize=1)
def raw_tn_schools():
    """(leaid, school_year, group code) -> [(cohort, rate)] straight from the raw files."""
    grouped = defaultdict(list)
    for path in EDFACTS.glob("*.csv"):
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                if row["STNAM"] != "TENNESSEE":
                    continue
                for col, cohort in row.items():
                    m = re.fullmatch(r"([A-Z]{3})_COHORT_(\d\d)(\d\d)", col)
                    if m:
                        rate = row[col.replace("_COHORT_", "_RATE_")]
                        year = f"20{m.group(2)}-{m.group(3)}"
                        grouped[(row["LEAID"], year, m.group(1))].append((cohort, rate))
    return grouped


def test_ps_only_groups_are_ps(package):
    out, _ = package
    written = {(r["region_id"], r["school_year"], r["student_group"]): r
               for r in read_csv(out / "outcomes.csv")}
    builder = load_builder()
    checked = 0
    for (leaid, year, code), schools in raw_tn_schools().items():
        key = (leaid, year, builder.GROUPS[code])
        published = [(c, r) for c, r in schools if c.isdigit() and int(c) > 0]
        if key not in written or not published:
            continue
        all_ps = all(r == "PS" for _, r in published)
        assert (written[key]["rate"] == "PS") == all_ps, (key, schools, written[key])
        assert written[key]["denominator"] == str(sum(int(c) for c, _ in published))
        checked += 1
    assert checked > 3000


def test_spot_check_benton_and_hamblen_2014_15(package):
    """Hand-computed from the raw 2014-15 file.

    Benton County (4700240): Big Sandy School ALL 21 GE80, MBL 1 PS, ECD 14 GE50, CWD 5 PS;
    Camden Central High ALL 137 GE95, MBL 6 GE50, ECD 89 90-94, CWD 13 GE50.
      all: (21*80 + 137*95)/158 = 93.006 -> 93 ; upper 100          -> "93-100", 158
      black: (1*0 + 6*50)/7 = 42.857 -> 42.8 ; upper 100             -> "42.8-100", 7
      econ: (14*50 + 89*90)/103 = 84.563 -> 84.5 ;
            (14*100 + 89*94)/103 = 94.815 -> 94.9                   -> "84.5-94.9", 103
      swd: (5*0 + 13*50)/18 = 36.11 -> 36.1 ; upper 100              -> "36.1-100", 18
    Hamblen County (4700001): Morristown East 342 at 91, West 315 at 96, both exact:
      (342*91 + 315*96)/657 = 93.397                                 -> "93.4", 657
    """
    raw = raw_tn_schools()
    assert sorted(raw[("4700240", "2014-15", "ALL")]) == [("137", "GE95"), ("21", "GE80")]
    assert sorted(raw[("4700240", "2014-15", "ECD")]) == [("14", "GE50"), ("89", "90-94")]
    assert sorted(raw[("4700001", "2014-15", "ALL")]) == [("315", "96"), ("342", "91")]
    out, _ = package
    got = {(r["region_id"], r["student_group"]): (r["denominator"], r["rate"])
           for r in read_csv(out / "outcomes.csv") if r["school_year"] == "2014-15"}
    assert got[("4700240", "all")] == ("158", "93-100")
    assert got[("4700240", "black")] == ("7", "42.8-100")
    assert got[("4700240", "econ_disadvantaged")] == ("103", "84.5-94.9")
    assert got[("4700240", "students_with_disabilities")] == ("18", "36.1-100")
    assert got[("4700001", "all")] == ("657", "93.4")


def test_secondary_pieces_merged_and_dropped_reported(package):
    _, stdout = package
    assert "4747189 Wilson County School District in Lebanon -> 4704550" in stdout
    assert "4700145" in stdout and "no boundary polygon" in stdout
    assert "4700078 Fort Campbell Schools" in stdout


def test_pooling_rules():
    pool = load_builder().pool_district
    assert pool([("10", "PS"), ("3", "PS"), (".", ".")]) == ("13", "PS")
    assert pool([("10", "80"), ("30", "90")]) == ("40", "87.5")
    assert pool([("10", "GE95"), ("10", "LT50")]) == ("20", "47.5-75")
    assert pool([("10", "LE20"), ("10", "GT80")]) == ("20", "40-60")
    assert pool([("9", "90"), ("1", "PS")]) == ("10", "81-91")
    assert pool([("3", "")]) == ("3", "PS")  # a cohort whose rate was not published
    assert pool([(".", "."), ("", "")]) is None
    # A rate published without its cohort: weight unknown, denominator suppressed,
    # bounds widened to the hull of the known pool and that school.
    assert pool([("10", "80"), (".", "60-69")]) == ("*", "60-80")


def test_other_state_leading_zeros(tmp_path):
    """Alabama ids start with 0: they must stay 7-digit text end to end."""
    import geopandas as gpd
    from shapely.geometry import box

    shp = tmp_path / "al.shp"
    gpd.GeoDataFrame(
        {"GEOID": ["0100005", "0199999"], "NAME": ["Albertville City School District", "Nowhere"],
         "ALAND": [67_000_000, 1_000_000]},
        geometry=[box(-86.25, 34.22, -86.15, 34.30), box(-86.0, 34.0, -85.99, 34.01)],
        crs=4269).to_file(shp)
    profile = tmp_path / "profile.csv"
    profile.write_text("LEAID,k12_enrollment,low_income_pct,locale\n100005,5600,70.1,32\n")
    out = tmp_path / "pkg"
    run = subprocess.run([sys.executable, str(SCRIPT), "--state", "alabama", "--boundaries",
                          str(shp), "--profile", str(profile), "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    regions = read_csv(out / "regions.csv")
    assert [(r["region_id"], r["locale"], r["k12_enrollment"]) for r in regions] == [
        ("0100005", "32", "5600")]
    outcomes = read_csv(out / "outcomes.csv")
    assert outcomes and {r["region_id"] for r in outcomes} == {"0100005"}
    # Albertville High Sch, SY2013-14 file, the LEA's only school: ALL 248 at 94 (exact).
    assert ("2013-14", "all", "248", "94") in {
        (r["school_year"], r["student_group"], r["denominator"], r["rate"]) for r in outcomes}
    geo = json.loads((out / "regions.geojson").read_text())
    assert [f["properties"]["region_id"] for f in geo["features"]] == ["0100005"]
    assert "0199999 Nowhere: no graduation rows" in run.stdout
