"""Region geometry: the built-in US county boundaries, custom region files, point checks.

Pure functions, no Streamlit. Importing this module is cheap (numpy + shapely); pyproj and
pyogrio are imported only by the functions that need them. Geometries go in as shapely
geometries or GeoJSON geometry dicts and come out in WGS84 lon/lat.
"""

from __future__ import annotations

import gzip
import json
import math
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from data.problems import Description

COUNTIES_FILE = Path(__file__).parent / "geo" / "us_counties_2016.geojson.gz"

# Douglas-Peucker tolerance in degrees (~330 m north-south, ~270 m east-west at 36°N), applied to
# each shared edge once (simplify_coverage). Keeps maps small, and leaves most of the 1 km
# allowed for program-site coordinates.
SIMPLIFY_TOLERANCE_DEG = 0.003
COORD_DECIMALS = 4  # ~11 m

CUSTOM_REGIONS_EXPECTED = (
    "a GeoJSON FeatureCollection, or a .zip holding one shapefile (.shp, .shx, .dbf, .prj)"
)

Geometry = shapely.Geometry | Mapping[str, Any]


# --- geometry helpers -----------------------------------------------------------------------


def as_shape(geometry: Geometry | None) -> shapely.Geometry | None:
    """A shapely geometry from a shapely geometry or a GeoJSON geometry dict."""
    if geometry is None or isinstance(geometry, shapely.Geometry):
        return geometry
    return shape(geometry)


def _polygonal(geom: shapely.Geometry | None) -> shapely.Geometry:
    """The polygon parts of a geometry (an empty polygon when there are none)."""
    if geom is None:
        return shapely.Polygon()
    if isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        return geom
    parts = [
        p for p in shapely.get_parts(geom) if isinstance(p, (shapely.Polygon, shapely.MultiPolygon))
    ]
    return shapely.union_all(parts) if parts else shapely.Polygon()


# A region that lies in another by more than this share of its area is nested in it (a hub
# area inside a county), not drawn over it by a digitising error: the two are simplified apart.
NESTED_OVERLAP = 0.5


def clean_geometries(geometries: Iterable[shapely.Geometry | None]) -> np.ndarray:
    """Make valid, keep polygon parts, and simplify the regions as ONE coverage, so that
    neighbours keep sharing their edges: no overlaps and no slivers between them.

    The one simplification used for the built-in counties (the whole US layer at once) and a
    package's regions file. Steps: polygon parts of `make_valid`; coordinates snapped to the
    0.0001° grid; `shapely.coverage_clean` (overlaps go to the neighbour with the longest
    shared border, gaps narrower than the tolerance are filled, shared edges made identical);
    then `simplify_coverage` (Douglas-Peucker on each shared edge once, so every boundary stays
    within SIMPLIFY_TOLERANCE_DEG of the cleaned one); then back onto the grid. Regions nested in others (overlapping by
    more than NESTED_OVERLAP) are simplified in separate layers. Empty input or input with no
    area gives an empty polygon. Exterior rings end up counter-clockwise (RFC 7946); plotly's
    "geo" subplot wants the opposite, see shapely.orient_polygons.
    """
    geoms = np.array(list(geometries), dtype=object)
    # "structure" unions overlapping parts (instead of XOR-ing them) and drops collapsed
    # lines, so polygonal input stays polygonal.
    geoms = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
    layers = _layers(geoms)  # on valid geometries, before snapping may make some invalid
    # Snapped vertex by vertex: shared vertices stay shared (coverage_clean repairs the rest).
    geoms = shapely.set_precision(geoms, 10.0**-COORD_DECIMALS, mode="pointwise")
    out = np.array([shapely.Polygon()] * len(geoms), dtype=object)
    for layer in layers:
        cleaned = shapely.coverage_clean(geoms[layer], gap_width=SIMPLIFY_TOLERANCE_DEG)
        cleaned = np.array([_polygonal(g) for g in cleaned], dtype=object)
        out[layer] = simplify_coverage(cleaned, SIMPLIFY_TOLERANCE_DEG)
    # Back onto the grid (cleaning adds a few nodes off it); a sliver part collapsed by the
    # rounding goes, from both neighbours alike. Valid regions are left exactly as they are.
    out = shapely.set_precision(out, 10.0**-COORD_DECIMALS, mode="pointwise")
    invalid = ~shapely.is_valid(out)
    out[invalid] = shapely.make_valid(out[invalid], method="structure", keep_collapsed=False)
    out = np.array([_polygonal(g) for g in out], dtype=object)
    return shapely.orient_polygons(out)


def _layers(geoms: np.ndarray) -> list[np.ndarray]:
    """Indices of the non-empty regions, split into layers in which no region is nested in
    another (greedy colouring of the graph of large overlaps)."""
    index = np.flatnonzero(~shapely.is_empty(geoms))
    if not len(index):
        return []
    tree = shapely.STRtree(geoms[index])
    a, b = tree.query(geoms[index], predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    shared = shapely.area(shapely.intersection(geoms[index[a]], geoms[index[b]]))
    smaller = np.minimum(shapely.area(geoms[index[a]]), shapely.area(geoms[index[b]]))
    nested = shared > NESTED_OVERLAP * smaller
    colour = np.zeros(len(index), dtype=int)
    if nested.any():
        neighbours: dict[int, set[int]] = {}
        for i, j in zip(a[nested], b[nested]):
            neighbours.setdefault(int(i), set()).add(int(j))
            neighbours.setdefault(int(j), set()).add(int(i))
        for i in sorted(neighbours):
            taken = {colour[j] for j in neighbours[i] if j < i}
            colour[i] = next(c for c in range(len(taken) + 1) if c not in taken)
    return [index[colour == c] for c in range(colour.max() + 1)]


def simplify_coverage(coverage: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker simplification of a polygonal coverage that keeps it a coverage.

    The boundaries are cut into arcs between the points where three or more regions meet;
    each arc is simplified once (so both neighbours get the same edge); an arc that would then
    cross another is simplified less (halving the tolerance, at last not at all); the arcs are
    polygonized back into faces, and each face goes to the region it mostly lies in. Every
    boundary stays within `tolerance` of the input, unlike `shapely.coverage_simplify`
    (Visvalingam-Whyatt: for as many vertices, about twice the displacement). Expects a valid
    coverage (see shapely.coverage_clean); empty geometries stay empty."""
    coverage = np.asarray(coverage, dtype=object)
    present = np.flatnonzero(~shapely.is_empty(coverage))
    out = np.array([shapely.Polygon()] * len(coverage), dtype=object)
    if not len(present):
        return out
    regions = coverage[present]
    arcs = shapely.get_parts(shapely.line_merge(shapely.union_all(shapely.boundary(regions))))
    simple = shapely.simplify(arcs, tolerance, preserve_topology=True)
    for attempt in range(1, 8):
        tree = shapely.STRtree(simple)
        a, b = tree.query(simple, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        # Two arcs may meet only where they met before (their end nodes).
        moved = ~shapely.equals(shapely.intersection(simple[a], simple[b]), shapely.intersection(arcs[a], arcs[b]))
        crossing = np.unique(np.concatenate([a[moved], b[moved]]))
        if not len(crossing):
            break
        simple[crossing] = (shapely.simplify(arcs[crossing], tolerance / 2**attempt, preserve_topology=True)
                            if attempt < 7 else arcs[crossing])
    faces = shapely.get_parts(shapely.polygonize(simple))
    tree = shapely.STRtree(regions)
    face, region = tree.query(faces, predicate="intersects")
    overlap = shapely.area(shapely.intersection(faces[face], regions[region]))
    # The region each face mostly lies in; a face in no region (a hole of the layer) stays out.
    best: dict[int, tuple[int, float]] = {}
    for f, r, area in zip(face, region, overlap):
        if area > best.get(f, (-1, 0.0))[1]:
            best[f] = (r, area)
    parts: dict[int, list] = {}
    for f, (r, area) in best.items():
        if area >= 0.5 * faces[f].area:
            parts.setdefault(r, []).append(faces[f])
    for r, polygons in parts.items():
        out[present[r]] = shapely.coverage_union_all(polygons) if len(polygons) > 1 else polygons[0]
    return out


def coverage_defects(geometries: Iterable[Geometry], gap_width: float = 0.001) -> dict[str, int]:
    """What keeps a layer of regions from being a clean coverage, counted: `overlaps` (pairs of
    regions sharing area), `holes` (enclosed gaps: rings of the layer's union that no region
    fills) and `unmatched` (regions with an edge that a neighbour does not share exactly, or
    a sliver narrower than `gap_width` degrees between them: shapely.coverage_invalid_edges)."""
    geoms = np.array([as_shape(g) for g in geometries], dtype=object)
    geoms = geoms[~shapely.is_empty(geoms)]
    if not len(geoms):
        return {"overlaps": 0, "holes": 0, "unmatched": 0}
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    shared = shapely.area(shapely.intersection(geoms[a[keep]], geoms[b[keep]]))
    union = shapely.get_parts(shapely.union_all(geoms))
    edges = shapely.coverage_invalid_edges(geoms, gap_width=gap_width)
    return {"overlaps": int((shared > 1e-10).sum()),
            "holes": int(sum(shapely.get_num_interior_rings(p) for p in union)),
            "unmatched": int((~shapely.is_empty(edges)).sum())}


def _round_coords(coords: Any) -> Any:
    if isinstance(coords[0], (int, float)):
        return [round(c, COORD_DECIMALS) for c in coords[:2]]
    return [_round_coords(c) for c in coords]


def geometry_mapping(geometry: Geometry) -> dict:
    """A GeoJSON geometry dict with coordinates rounded to COORD_DECIMALS."""
    geo = mapping(as_shape(geometry))
    if geo["type"] == "GeometryCollection":
        return {"type": geo["type"], "geometries": [geometry_mapping(g) for g in geo["geometries"]]}
    return {"type": geo["type"], "coordinates": _round_coords(geo["coordinates"]) if geo["coordinates"] else []}


def geometry_to_geojson_text(geometry: Geometry) -> str:
    """Compact GeoJSON text of a geometry, coordinates rounded to COORD_DECIMALS."""
    return json.dumps(geometry_mapping(geometry), separators=(",", ":"))


def to_wgs84(geometries: np.ndarray, crs: Any) -> np.ndarray:
    """Reproject an array of geometries from `crs` (anything pyproj accepts) to EPSG:4326."""
    from pyproj import CRS, Transformer

    if crs is None or CRS.from_user_input(crs).equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return geometries
    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return shapely.transform(geometries, lambda x, y: transformer.transform(x, y), interleaved=False)


def _local_projection(geometry: shapely.Geometry, proj: str, units: str = "m"):
    """Transformer from WGS84 lon/lat to a projection centred on the region.

    Centred on a point inside the region, so regions that cross the antimeridian work too.
    Built as a PROJ pipeline: ~100x faster to create than from_crs, and one is made per region.
    """
    from pyproj import Transformer

    anchor = geometry.representative_point()
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad"
        f" +step +proj={proj} +lat_0={anchor.y} +lon_0={anchor.x} +ellps=WGS84 +units={units}"
    )


def region_centroid(geometry: Geometry) -> tuple[float, float]:
    """(lon, lat) of the area centroid, computed in a Lambert equal-area projection.

    The centroid can fall outside a crescent-shaped region; use representative_point()
    when a point inside is needed.
    """
    geom = as_shape(geometry)
    laea = _local_projection(geom, "laea")
    c = shapely.transform(geom, lambda x, y: laea.transform(x, y), interleaved=False).centroid
    lon, lat = laea.transform(c.x, c.y, direction="INVERSE")
    return float(lon), float(lat)


# --- built-in counties ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _county_features() -> dict[str, dict]:
    with gzip.open(COUNTIES_FILE, "rt", encoding="utf-8") as f:
        collection = json.load(f)
    return {
        f["properties"]["region_id"]: {**f["properties"], "geometry": f["geometry"]}
        for f in collection["features"]
    }


def load_counties(fips: Iterable[str]) -> dict[str, dict]:
    """Built-in counties by 5-digit FIPS code; unknown codes are left out.

    Each value: region_id, name, state, state_fips, land_area_km2, centroid_lon,
    centroid_lat and geometry (a simplified GeoJSON geometry dict, shared: do not mutate).
    """
    features = _county_features()
    return {code: dict(features[code]) for code in fips if code in features}


def is_county_fips(region_id: str) -> bool:
    """True for a 5-digit code of a county in the built-in boundaries."""
    return (
        isinstance(region_id, str)
        and len(region_id) == 5
        and region_id.isascii()
        and region_id.isdigit()
        and region_id in _county_features()
    )


# --- custom regions -------------------------------------------------------------------------


class _BadFile(Exception):
    """The file as a whole cannot be used; the message says what was found."""


def _problem(file: str, row: int | None, column: str | None, value: Any, expected: str) -> dict:
    return {"file": file, "row": row, "column": column, "value": value, "expected": expected}


def _region_id_key(names: Iterable[str]) -> str | None:
    """The attribute name meaning region_id (case and surrounding spaces ignored)."""
    return next((n for n in names if str(n).strip().lower() == "region_id"), None)


def _id_text(value: Any) -> str | None:
    if value is None or isinstance(value, (bool, list, dict)):
        return None
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)  # a numeric attribute: 47037.0 -> "47037"
    text = str(value).strip()
    return text or None


def _read_geojson(data: bytes) -> tuple[list, list, list[str] | None]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _BadFile(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise _BadFile(f"JSON of type {doc.get('type') if isinstance(doc, dict) else type(doc).__name__}")
    features = doc.get("features") if doc["type"] == "FeatureCollection" else [doc]
    if not isinstance(features, list):
        raise _BadFile("a FeatureCollection without a features list")

    ids, geoms, names = [], [], set()
    for feature in features:
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        names.update(props)
        key = _region_id_key(props)
        ids.append(props.get(key) if key else None)
        try:
            geoms.append(as_shape(feature.get("geometry")) if isinstance(feature, dict) else None)
        except Exception:  # malformed geometry: reported for this feature
            geoms.append(None)
    geoms = np.array(geoms, dtype=object)
    # RFC 7946 GeoJSON is always WGS84; honour the older "crs" member when a file has one.
    crs = (doc.get("crs") or {}).get("properties", {})["name"] if doc.get("crs") else None
    has_ids = not features or _region_id_key(names)
    return ids, list(to_wgs84(geoms, crs)), None if has_ids else sorted(names)


def _read_zipped_shapefile(data: bytes) -> tuple[list, list, list[str] | None]:
    import pyogrio.raw

    from data.package import TooBig, unpack_zip

    try:
        # The size limits hold for a zipped shapefile inside a package too (data/package.py).
        files = unpack_zip(data, "regions.zip")
    except TooBig as exc:
        raise _BadFile(f"{exc.problem.value} (the limit: {exc.problem.expected})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError):
        raise _BadFile("a damaged .zip") from None
    with tempfile.TemporaryDirectory() as tmp:
        shps = [n for n in files if n.lower().endswith(".shp")]
        if len(shps) != 1:
            raise _BadFile(f"a .zip with {len(shps)} .shp files")
        stem = shps[0][:-4]
        # Extract under fixed names: member paths from the archive are never used on disk.
        for name, content in files.items():
            base, _, ext = name.rpartition(".")
            if base == stem and ext.lower() in ("shp", "shx", "dbf", "prj", "cpg"):
                Path(tmp, f"layer.{ext.lower()}").write_bytes(content)
        try:
            meta, _, wkb, fields = pyogrio.raw.read(Path(tmp, "layer.shp"), force_2d=True)
        except Exception as exc:
            raise _BadFile(f"an unreadable shapefile ({exc.__class__.__name__})") from None

    names = [str(n) for n in meta["fields"]]
    key = _region_id_key(names)
    geoms = shapely.from_wkb(wkb) if wkb is not None else np.full(len(fields[0]) if fields else 0, None)
    ids = list(fields[names.index(key)]) if key else [None] * len(geoms)
    return ids, list(to_wgs84(geoms, meta["crs"])), None if key else names


def read_custom_regions(
    path_or_bytes: str | Path | bytes, source_name: str
) -> tuple[dict[str, shapely.Geometry], list[dict]]:
    """Read regions.geojson or a zipped shapefile with a region_id attribute.

    Returns ({region_id: cleaned WGS84 geometry}, problems). Never raises on bad input:
    each problem is {file, row, column, value, expected}, row being the 1-based feature
    number (None for the file as a whole). Features with a problem are left out.
    """
    try:
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            data = bytes(path_or_bytes)
        else:
            data = Path(path_or_bytes).read_bytes()
        if data[:4] == b"PK\x03\x04":
            raw_ids, raw_geoms, columns_without_id = _read_zipped_shapefile(data)
        else:
            raw_ids, raw_geoms, columns_without_id = _read_geojson(data)
        cleaned = clean_geometries(raw_geoms)
    except (_BadFile, OSError) as exc:
        return {}, [_problem(source_name, None, None, Description(str(exc)), CUSTOM_REGIONS_EXPECTED)]
    except Exception as exc:  # odd input tripping a parser or PROJ (e.g. an unknown CRS)
        found = Description(f"a file that could not be read ({exc.__class__.__name__}: {exc})"[:300])
        return {}, [_problem(source_name, None, None, found, CUSTOM_REGIONS_EXPECTED)]

    if columns_without_id is not None:
        found = Description(f"attributes {', '.join(columns_without_id)}" if columns_without_id else "no attributes")
        return {}, [_problem(source_name, None, "region_id", found, "a region_id attribute on every feature")]

    problems: list[dict] = []
    regions: dict[str, shapely.Geometry] = {}
    first_row: dict[str, int] = {}
    for row, (raw_id, raw, geom) in enumerate(zip(raw_ids, raw_geoms, cleaned), start=1):
        region_id = _id_text(raw_id)
        if region_id is None:
            problems.append(_problem(source_name, row, "region_id", "", "a region_id value"))
            continue
        if region_id in first_row:
            problems.append(_problem(source_name, row, "region_id", region_id,
                                     f"a unique region_id (also on feature {first_row[region_id]})"))
            continue
        first_row[region_id] = row
        if raw is None or raw.is_empty:
            problems.append(_problem(source_name, row, "geometry", Description("an empty geometry"), "a Polygon or MultiPolygon"))
        elif geom.is_empty:
            problems.append(_problem(source_name, row, "geometry", raw.geom_type,
                                     "a Polygon or MultiPolygon with an area (after rounding to 4 decimals)"))
        elif not _in_lon_lat_range(raw):
            bounds = ", ".join(f"{b:.6g}" for b in raw.bounds)
            problems.append(_problem(source_name, row, "geometry", Description(f"bounds {bounds}"),
                                     "WGS84 longitude/latitude (or a shapefile with its .prj)"))
        else:
            regions[region_id] = geom
    return regions, problems


def _in_lon_lat_range(geom: shapely.Geometry) -> bool:
    minx, miny, maxx, maxy = geom.bounds
    return -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90


def label_anchors(region_ids, names, geometries) -> pd.DataFrame:
    """Where each region's name would go: the centre of the largest circle inside it, found in
    a frame where a degree of longitude is as long as one of latitude at the region's
    latitude, and that circle's radius in km."""
    import shapely.affinity

    rows = []
    for region_id, name, geometry in zip(region_ids, names, geometries):
        if geometry is None or geometry.is_empty:
            continue
        lat0 = geometry.centroid.y
        squeeze = math.cos(math.radians(lat0))
        local = shapely.affinity.scale(geometry, squeeze, 1.0, origin=(0, 0))
        circle = shapely.maximum_inscribed_circle(local)
        (x, y) = shapely.get_coordinates(circle)[0]
        rows.append((region_id, name, x / squeeze, y, shapely.length(circle) * 111.32))
    return pd.DataFrame(rows, columns=["region_id", "name", "lon", "lat", "radius_km"]).astype(
        {"lon": "float64", "lat": "float64", "radius_km": "float64"})


# --- points in regions ----------------------------------------------------------------------


def points_in_regions(
    lons: Iterable[float],
    lats: Iterable[float],
    region_ids: Iterable[str],
    geometries_by_id: Mapping[str, Geometry],
    tolerance_km: float = 1.0,
) -> np.ndarray:
    """For each point, True if it lies in its region or within tolerance_km of it.

    Distances are measured in an azimuthal equidistant projection centred on each region
    (error well under 1% for regions a few hundred km across). Missing coordinates and
    regions without a geometry give False.
    """
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    ids = np.asarray([str(r) for r in region_ids], dtype=object)
    result = np.zeros(len(ids), dtype=bool)
    finite = np.isfinite(lons) & np.isfinite(lats)
    for region_id in set(ids[finite]):
        geom = as_shape(geometries_by_id.get(region_id))
        if geom is None or geom.is_empty:
            continue
        idx = np.flatnonzero(finite & (ids == region_id))
        aeqd = _local_projection(geom, "aeqd", units="km")
        local = shapely.transform(geom, lambda x, y: aeqd.transform(x, y), interleaved=False)
        shapely.prepare(local)
        x, y = aeqd.transform(lons[idx], lats[idx])
        result[idx] = shapely.dwithin(local, shapely.points(x, y), tolerance_km)
    return result


def point_in_region(lon: float, lat: float, geometry: Geometry, tolerance_km: float = 1.0) -> bool:
    """True if (lon, lat) lies in the region or within tolerance_km of it."""
    return bool(points_in_regions([lon], [lat], ["r"], {"r": geometry}, tolerance_km)[0])
