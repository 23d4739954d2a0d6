"""Built-in county boundaries, custom region files and the point-in-region check."""
from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely

from data import geography

# The Census 2016 Tennessee unified school districts, as vendored for the EDFacts example.
TN_DISTRICTS = (Path(__file__).resolve().parent.parent / "data" / "examples" / "edfacts_tn" / "sources"
                / "tn_district_boundaries_cb2016" / "cb_2016_47_unsd_500k.geojson.gz")
METRO_NASHVILLE = "4703180"


def _km_to_deg_lon(km: float, lat: float) -> float:
    # WGS84 length of one degree of longitude at `lat`
    a, e2 = 6378.137, 0.00669438
    return km / (math.pi / 180 * a * math.cos(math.radians(lat)) / math.sqrt(1 - e2 * math.sin(math.radians(lat)) ** 2))


# --- built-in counties --------------------------------------------------------------------


def test_counties_file_is_small_and_complete():
    assert geography.COUNTIES_FILE.stat().st_size < 4_000_000
    geography._county_features.cache_clear()
    counties = geography.load_counties(["47037"])
    assert len(geography._county_features()) > 3200
    assert set(counties["47037"]) >= {"region_id", "name", "state_fips", "land_area_km2", "centroid_lon", "centroid_lat", "geometry"}


def test_davidson_county():
    davidson = geography.load_counties(["47037"])["47037"]
    assert davidson["name"] == "Davidson County"
    assert davidson["state_fips"] == "47"
    assert davidson["land_area_km2"] == pytest.approx(1305, abs=1)
    assert davidson["centroid_lon"] == pytest.approx(-86.8, abs=0.1)
    assert davidson["centroid_lat"] == pytest.approx(36.2, abs=0.1)
    geom = shapely.geometry.shape(davidson["geometry"])
    assert geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid
    assert geom.contains(shapely.Point(davidson["centroid_lon"], davidson["centroid_lat"]))


def test_leading_zero_fips_and_unknown_codes():
    counties = geography.load_counties(["01001", "1001", "99999"])
    assert list(counties) == ["01001"]
    assert counties["01001"]["name"] == "Autauga County"
    assert counties["01001"]["state_fips"] == "01"
    assert geography.is_county_fips("01001")
    for not_county in ("1001", "99999", "4703180", "01001 ", "０１００１", 1001, None):
        assert not geography.is_county_fips(not_county)


def test_county_names_follow_lsad():
    counties = geography.load_counties(["22071", "51600", "02110", "72097", "11001"])
    assert [c["name"] for c in counties.values()] == [
        "Orleans Parish", "Fairfax city", "Juneau City and Borough", "Mayagüez Municipio", "District of Columbia",
    ]


def test_every_county_geometry_is_valid_and_rounded():
    features = geography._county_features()
    geoms = [shapely.geometry.shape(f["geometry"]) for f in features.values()]
    assert shapely.is_valid(geoms).all() and not shapely.is_empty(geoms).any()
    coords = shapely.get_coordinates(geoms)
    assert np.allclose(coords, np.round(coords, 4), atol=1e-9)
    assert (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()


def test_150_county_alliance_serialises_small():
    features = geography._county_features()
    sizes = sorted(len(json.dumps(f["geometry"], separators=(",", ":"))) for f in features.values())
    assert sum(sizes[-150:]) < 1_500_000  # the 150 most detailed counties (coastal Alaska)
    texas = [f["geometry"] for k, f in features.items() if k.startswith("48")][:150]
    assert sum(len(geography.geometry_to_geojson_text(g)) for g in texas) < 500_000


# --- custom regions -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tn_districts():
    gpd = pytest.importorskip("geopandas")
    frame = gpd.read_file(f"/vsigzip/{TN_DISTRICTS}")
    assert frame.crs.to_epsg() == 4269
    return frame


def _zip_shapefile(frame, folder: Path, name: str = "districts") -> bytes:
    frame.to_file(folder / f"{name}.shp")
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.glob(f"{name}.*"):
            if part.suffix != ".zip":
                zf.write(part, f"some folder/{part.name}")
    return archive.read_bytes()


def test_tennessee_districts_from_zipped_shapefile(tn_districts, tmp_path):
    frame = tn_districts.assign(region_id=tn_districts["GEOID"])[["region_id", "NAME", "geometry"]]
    regions, problems = geography.read_custom_regions(_zip_shapefile(frame, tmp_path), "regions.zip")
    assert problems == []
    assert len(regions) == 126 and METRO_NASHVILLE in regions
    nashville = regions[METRO_NASHVILLE]
    assert nashville.is_valid
    lon, lat = geography.region_centroid(nashville)
    davidson = geography.load_counties(["47037"])["47037"]
    assert (lon, lat) == pytest.approx((davidson["centroid_lon"], davidson["centroid_lat"]), abs=0.02)
    minx, miny, maxx, maxy = shapely.union_all(list(regions.values())).bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((-90.31, 34.98, -81.65, 36.68), abs=0.02)
    text = geography.geometry_to_geojson_text(nashville)
    assert json.loads(text)["type"] in ("Polygon", "MultiPolygon") and len(text) < 20_000


def test_projected_shapefile_is_reprojected_and_attribute_name_case_ignored(tn_districts, tmp_path):
    frame = tn_districts.assign(REGION_ID=tn_districts["GEOID"])[["REGION_ID", "geometry"]].to_crs(5070)
    regions, problems = geography.read_custom_regions(_zip_shapefile(frame, tmp_path), "regions.zip")
    assert problems == []
    reference, _ = geography.read_custom_regions(
        _zip_shapefile(tn_districts.assign(region_id=tn_districts["GEOID"]), tmp_path, "ref"), "ref.zip")
    assert regions.keys() == reference.keys()
    assert shapely.hausdorff_distance(regions[METRO_NASHVILLE], reference[METRO_NASHVILLE]) < 0.01


def test_shapefile_without_region_id_attribute(tn_districts, tmp_path):
    regions, problems = geography.read_custom_regions(_zip_shapefile(tn_districts, tmp_path), "regions.zip")
    assert regions == {}
    assert len(problems) == 1
    assert problems[0]["file"] == "regions.zip" and problems[0]["column"] == "region_id"
    assert "GEOID" in problems[0]["value"]


def _square(x: float, y: float, size: float = 0.1) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]}


def _collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _feature(props, geometry) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def test_geojson_regions_and_row_problems(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[-86, 36], [-85.9, 36.1], [-85.9, 36], [-86, 36.1], [-86, 36]]]}
    data = _collection(
        _feature({"region_id": "hub-a"}, _square(-86.9, 36.1)),
        _feature({"name": "no id"}, _square(-86.5, 36.1)),
        _feature({"region_id": "hub-a"}, _square(-86.3, 36.1)),
        _feature({"region_id": "hub-b"}, None),
        _feature({"region_id": "hub-c"}, {"type": "Point", "coordinates": [-86, 36]}),
        _feature({"Region_ID": 47037}, _square(-86.9, 36.3)),  # numeric id, other case
        _feature({"region_id": "hub-d"}, bowtie),  # invalid: made valid, kept
        _feature({"region_id": "hub-e"}, _square(500000, 4000000, 1000)),  # projected, no crs
    )
    path = tmp_path / "regions.geojson"
    path.write_bytes(data)
    regions, problems = geography.read_custom_regions(path, "regions.geojson")
    assert sorted(regions) == ["47037", "hub-a", "hub-d"]
    assert regions["hub-d"].is_valid and regions["hub-d"].area > 0
    assert [(p["row"], p["column"]) for p in problems] == [
        (2, "region_id"), (3, "region_id"), (4, "geometry"), (5, "geometry"), (8, "geometry"),
    ]
    assert problems[1]["value"] == "hub-a" and "feature 1" in problems[1]["expected"]
    assert all(p["file"] == "regions.geojson" and isinstance(p["value"], str) for p in problems)


def test_geojson_with_legacy_crs_member_is_reprojected():
    from pyproj import Transformer

    to_mercator = Transformer.from_crs(4326, 3857, always_xy=True)
    square = shapely.transform(shapely.geometry.shape(_square(-86.9, 36.1)), lambda x, y: to_mercator.transform(x, y), interleaved=False)
    doc = json.loads(_collection(_feature({"region_id": "x"}, shapely.geometry.mapping(square))))
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    regions, problems = geography.read_custom_regions(json.dumps(doc).encode(), "regions.geojson")
    assert problems == [] and regions["x"].bounds == pytest.approx((-86.9, 36.1, -86.8, 36.2), abs=1e-4)


@pytest.mark.parametrize("data", [
    b"\x00\x01garbage\xff\xfe",
    b"PK\x03\x04 not really a zip",
    b'{"type": "Topology"}',
    b"[1, 2, 3]",
    b'{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:999999"}}, "features": []}',
    b"",
])
def test_unreadable_files_are_problems_not_exceptions(data, tmp_path):
    regions, problems = geography.read_custom_regions(data, "regions.geojson")
    assert regions == {}
    assert len(problems) == 1 and problems[0]["file"] == "regions.geojson" and problems[0]["row"] is None


def test_missing_file_and_zip_without_shapefile(tmp_path):
    _, problems = geography.read_custom_regions(tmp_path / "nope.geojson", "nope.geojson")
    assert len(problems) == 1
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "no shapes here")
    regions, problems = geography.read_custom_regions(archive, "empty.zip")
    assert regions == {} and "0 .shp" in problems[0]["value"]


# --- points -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def davidson():
    return geography.load_counties(["47037"])["47037"]["geometry"]


def _west_of(geometry: dict, km: float) -> tuple[float, float]:
    """A point `km` due west of the westernmost vertex: exactly `km` from the region."""
    coords = shapely.get_coordinates(shapely.geometry.shape(geometry))
    lon, lat = coords[coords[:, 0].argmin()]
    return lon - _km_to_deg_lon(km, lat), lat


@pytest.mark.parametrize(("km", "inside"), [(0.5, True), (0.95, True), (1.05, False), (5, False)])
def test_point_near_region(davidson, km, inside):
    assert geography.point_in_region(*_west_of(davidson, km), davidson) is inside


def test_point_in_region(davidson):
    assert geography.point_in_region(-86.7816, 36.1627, davidson)  # downtown Nashville
    assert geography.point_in_region(-86.7816, 36.1627, shapely.geometry.shape(davidson))
    assert not geography.point_in_region(-85.3097, 35.0456, davidson)  # Chattanooga
    assert geography.point_in_region(*_west_of(davidson, 3), davidson, tolerance_km=5)


def test_points_in_regions_vectorised():
    counties = geography.load_counties([f"47{n:03d}" for n in range(1, 190, 2)])
    ids = list(counties)
    rng = np.random.default_rng(7)
    n = 5000
    lons, lats = rng.uniform(-90.3, -81.6, n), rng.uniform(35.0, 36.7, n)
    region_ids = rng.choice(ids, n).astype(object)
    lons[0] = np.nan
    region_ids[1] = "unknown"
    geometries = {k: c["geometry"] for k, c in counties.items()}

    result = geography.points_in_regions(lons, lats, region_ids, geometries)

    assert result.dtype == bool and result.shape == (n,)
    assert not result[0] and not result[1]
    shapes = {k: shapely.geometry.shape(g) for k, g in geometries.items()}
    inside = np.array([shapes[r].contains(shapely.Point(x, y)) if r in shapes else False
                       for x, y, r in zip(lons, lats, region_ids)])
    assert (result[inside]).all()  # everything inside is accepted
    assert 0 < (result & ~inside).sum() < 0.1 * result.sum()  # plus a thin band around
    for i in np.flatnonzero(result != inside)[:20]:
        assert geography.point_in_region(lons[i], lats[i], geometries[region_ids[i]]) == result[i]
