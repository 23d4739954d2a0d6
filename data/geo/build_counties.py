"""Build data/geo/us_counties_2016.geojson.gz from the Census county file in plotly-geo.

    .venv/bin/python -m data.geo.build_counties      (from the repository root)

Source: U.S. Census Bureau 2016 Cartographic Boundary File, counties, 1:500,000
(cb_2016_us_county_500k), as shipped in the plotly-geo 1.0.0 PyPI package.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
from pathlib import Path

import pyogrio.raw
import shapely

from data.geography import (
    COUNTIES_FILE, clean_geometries, coverage_defects, geometry_mapping, region_centroid, to_wgs84,
)

# Census legal/statistical area description codes -> the suffix in the full name (NAMELSAD).
LSAD_SUFFIX = {
    "00": "", "03": " City and Borough", "04": " Borough", "05": " Census Area", "06": " County",
    "07": " District", "10": " Island", "12": " Municipality", "13": " Municipio",
    "15": " Parish", "25": " city",
}


def _read(path: Path) -> tuple[dict[str, list], list]:
    # The package ships no .prj/.cpg: Census cartographic boundary files are NAD83
    # (EPSG:4269) with UTF-8 text ("Mayagüez").
    meta, _, wkb, fields = pyogrio.raw.read(path, encoding="utf-8")
    columns = {str(name): list(values) for name, values in zip(meta["fields"], fields)}
    return columns, (shapely.from_wkb(wkb) if wkb is not None else None)


def main() -> None:
    package_data = Path(str(importlib.resources.files("_plotly_geo") / "package_data"))
    states, _ = _read(package_data / "cb_2016_us_state_500k.shp")
    postal = dict(zip(states["STATEFP"], states["STUSPS"]))
    cols, geoms = _read(package_data / "cb_2016_us_county_500k.shp")

    geoms = to_wgs84(geoms, "EPSG:4269")
    cleaned = clean_geometries(geoms)  # the whole US layer as one coverage: neighbours share edges
    # Edge-matched, no overlaps, no enclosed gaps. (Narrow water channels the Census line
    # leaves between coastal counties, e.g. the Arthur Kill, are real and stay.)
    defects = coverage_defects(cleaned)
    assert shapely.coverage_is_valid(cleaned) and defects["overlaps"] == defects["holes"] == 0, defects
    features = []
    for i, geoid in enumerate(cols["GEOID"]):
        assert not cleaned[i].is_empty, geoid
        lon, lat = region_centroid(geoms[i])  # from the unsimplified boundary
        features.append({
            "type": "Feature",
            "id": geoid,
            "properties": {
                "region_id": geoid,
                "name": cols["NAME"][i] + LSAD_SUFFIX[cols["LSAD"][i]],
                "state": postal.get(cols["STATEFP"][i], ""),
                "state_fips": cols["STATEFP"][i],
                "land_area_km2": round(cols["ALAND"][i] / 1e6, 2),
                "centroid_lon": round(lon, 4),
                "centroid_lat": round(lat, 4),
            },
            "geometry": geometry_mapping(cleaned[i]),
        })
    features.sort(key=lambda f: f["id"])
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"), ensure_ascii=False)
    # mtime=0 and no file name in the header: the same input gives the same bytes.
    COUNTIES_FILE.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{COUNTIES_FILE}: {len(features)} counties, {COUNTIES_FILE.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
