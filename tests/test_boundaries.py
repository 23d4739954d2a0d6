"""Borders that meet: the built-in counties and an imported region layer are simplified as one
coverage, so neighbours share their edges, with no overlaps and no holes between them, and every
boundary stays within the simplification tolerance of the source."""
from __future__ import annotations

import gzip
import importlib.resources
import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from data import geography
from data.demo import REGIONS
from data.geography import SIMPLIFY_TOLERANCE_DEG, coverage_defects

DISTRICTS = (Path(__file__).resolve().parent.parent / "data" / "examples" / "edfacts_tn" / "sources"
             / "tn_district_boundaries_cb2016")
CLEAN = {"overlaps": 0, "holes": 0, "unmatched": 0}
DEMO_COUNTIES = tuple(r.fips for r in REGIONS)


def _built_in(prefix: str = "") -> dict[str, shapely.Geometry]:
    with gzip.open(geography.COUNTIES_FILE, "rt", encoding="utf-8") as f:
        features = json.load(f)["features"]
    return {f["id"]: shapely.geometry.shape(f["geometry"]) for f in features if f["id"].startswith(prefix)}


@pytest.fixture(scope="module")
def census_tennessee() -> dict[str, shapely.Geometry]:
    """The Census 1:500,000 Tennessee counties as the built-in file was made from (plotly-geo)."""
    import pyogrio.raw

    folder = Path(str(importlib.resources.files("_plotly_geo") / "package_data"))
    meta, _, wkb, fields = pyogrio.raw.read(folder / "cb_2016_us_county_500k.shp", where="STATEFP = '47'")
    geoms = geography.to_wgs84(shapely.from_wkb(wkb), "EPSG:4269")
    return dict(zip(fields[list(meta["fields"]).index("GEOID")], geoms))


def test_the_measure_sees_what_one_by_one_simplification_did(census_tennessee):
    """The old way (each county simplified alone) left overlaps and slivers between
    neighbours: the count must see them, or its zeros below would prove nothing."""
    alone = shapely.simplify(np.array(list(census_tennessee.values()), dtype=object), SIMPLIFY_TOLERANCE_DEG,
                             preserve_topology=True)
    defects = coverage_defects(alone)
    assert defects["overlaps"] > 100 and defects["unmatched"] > 50, defects
    assert coverage_defects(census_tennessee.values()) == CLEAN  # the Census file itself is clean


def test_built_in_counties_meet_their_neighbours():
    demo = _built_in()
    assert coverage_defects(demo[c] for c in DEMO_COUNTIES) == CLEAN
    assert coverage_defects(_built_in("47").values()) == CLEAN  # all of Tennessee
    # Georgia and Tennessee together: neighbours across a state line too
    assert coverage_defects([*_built_in("47").values(), *_built_in("13").values()]) == CLEAN
    # the whole country: edge-matched, no overlap, no enclosed gap (the narrow water channels the
    # Census line leaves between some coastal counties are real, and not counted here)
    country = np.array(list(_built_in().values()), dtype=object)
    assert shapely.coverage_is_valid(country)
    assert {k: v for k, v in coverage_defects(country).items() if k != "unmatched"} == {"overlaps": 0, "holes": 0}


def test_built_in_counties_stay_within_the_tolerance_of_the_census_line(census_tennessee):
    built = _built_in("47")
    for fips, source in census_tennessee.items():
        # + one grid step: the coordinates are snapped to 0.0001 degree
        assert shapely.hausdorff_distance(built[fips], source) <= SIMPLIFY_TOLERANCE_DEG + 1.5e-4, fips
    sizes = shapely.get_num_coordinates(np.array(list(built.values()), dtype=object))
    assert sizes.sum() < 0.3 * shapely.get_num_coordinates(np.array(list(census_tennessee.values()), dtype=object)).sum()


def _geojson(features: list[tuple[str, shapely.Geometry]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"region_id": rid}, "geometry": shapely.geometry.mapping(g)}
        for rid, g in features]}).encode()


def test_an_imported_district_layer_meets_its_neighbours():
    """The Census Tennessee school districts (unified and secondary), read as a package's
    regions.geojson."""
    features = []
    for name in ("cb_2016_47_unsd_500k.geojson.gz", "cb_2016_47_scsd_500k.geojson.gz"):
        with gzip.open(DISTRICTS / name, "rt", encoding="utf-8") as f:
            features += [(x["properties"]["GEOID"], geography.to_wgs84(np.array([shapely.geometry.shape(x["geometry"])]),
                                                                       "EPSG:4269")[0])
                         for x in json.load(f)["features"]]
    regions, problems = geography.read_custom_regions(_geojson(features), "regions.geojson")
    assert problems == [] and len(regions) == len(features)
    assert coverage_defects(regions.values()) == CLEAN
    # shared edges went through the text the store keeps (rounded to 4 decimals) unchanged
    stored = [json.loads(geography.geometry_to_geojson_text(g)) for g in regions.values()]
    assert coverage_defects(stored) == CLEAN


def _wobbly(x0, y0, x1, y1, seed, n=40, jitter=0.0008):
    """A line from (x0, y0) to (x1, y1) digitised with noise: each neighbour draws its own."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
    noise = rng.normal(0, jitter, n)
    noise[[0, -1]] = 0
    if x0 == x1:
        x = x + noise
    else:
        y = y + noise
    return list(zip(x, y))


def _hostile_layer() -> list[tuple[str, shapely.Geometry]]:
    """A 4 x 4 grid of 0.1-degree districts whose shared edges were each digitised twice with
    different noise (overlaps and slivers along every edge), one district drawn 0.002 degree
    too large (a strip over its neighbour), and a small hub area nested inside another."""
    features = []
    for i in range(4):
        for j in range(4):
            x0, y0 = -86 + 0.1 * i, 35 + 0.1 * j
            seed = 100 * i + j
            ring = (_wobbly(x0, y0, x0 + 0.1, y0, seed)[:-1] + _wobbly(x0 + 0.1, y0, x0 + 0.1, y0 + 0.1, seed + 1)[:-1]
                    + _wobbly(x0 + 0.1, y0 + 0.1, x0, y0 + 0.1, seed + 2)[:-1] + _wobbly(x0, y0 + 0.1, x0, y0, seed + 3))
            polygon = shapely.make_valid(shapely.Polygon(ring))
            if (i, j) == (1, 1):
                polygon = shapely.buffer(polygon, 0.002, join_style="mitre")
            features.append((f"D{i}{j}", polygon))
    features.append(("HUB", shapely.box(-85.78, 35.22, -85.74, 35.26)))  # inside D22
    return features


def test_a_hostile_layer_comes_out_as_one_clean_coverage():
    features = _hostile_layer()
    districts = [g for rid, g in features if rid != "HUB"]
    before = coverage_defects(districts)
    assert before["overlaps"] > 10 and before["unmatched"] > 10, before  # as drawn: far from a coverage
    regions, problems = geography.read_custom_regions(_geojson(features), "regions.geojson")
    assert problems == [] and set(regions) == {rid for rid, _ in features}
    assert coverage_defects(g for rid, g in regions.items() if rid != "HUB") == CLEAN
    # the nested hub area is kept whole, not cut out of (or into) the district around it
    hub = dict(features)["HUB"]
    assert shapely.area(shapely.symmetric_difference(regions["HUB"], hub)) < 0.02 * hub.area
    assert regions["D22"].contains(shapely.Point(-85.76, 35.24))
    # every district keeps its place: the area it had, give or take the strip and the noise
    for rid, polygon in features[:-1]:
        assert abs(regions[rid].area - 0.01) < 0.0012, rid


def test_simplify_coverage_keeps_holes_and_empty_geometries():
    """A layer with a real hole (a lake no region covers) keeps it; empty input stays empty."""
    ring = shapely.box(0, 0, 3, 3).difference(shapely.box(1, 1, 2, 2))
    inner = shapely.box(0, 0, 3, 1)
    layer = np.array([inner, ring.difference(inner), shapely.Polygon()], dtype=object)
    out = geography.simplify_coverage(layer, 0.01)
    assert out[2].is_empty
    assert shapely.area(shapely.union_all(out[:2])) == pytest.approx(8.0)
    assert coverage_defects(out) == {"overlaps": 0, "holes": 1, "unmatched": 0}
