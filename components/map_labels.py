"""Region names on the map, offline. MapLibre draws text only with glyphs fetched from a font
server; these names are filled polygons instead (letter outlines from data/geo/label_font.json.gz,
made by data/geo/build_label_font.py), drawn by a choropleth trace like any region, so the map
needs nothing from the network. A name is drawn only where it fits inside its region at the
map's first zoom: it is then ~15 px high, and grows and shrinks with the map like the regions."""
from __future__ import annotations

import gzip
import json
import math
from functools import lru_cache
from pathlib import Path

import pandas as pd
import shapely
from shapely import affinity

FONT_FILE = Path(__file__).resolve().parent.parent / "data" / "geo" / "label_font.json.gz"
EM_PX = 15  # letter size (an em) at the map's first zoom, in screen pixels
LINE_SPACING = 1.1  # ems from one line to the next
KM_PER_DEGREE = 111.32
MAX_LABELS = 300  # past this many regions large enough to hold a name, the largest are named
FIT_ALLOWANCE = 1.15  # a name's box corners are mostly empty: it may reach a little past the circle
# The payload is the letters' vertices: outlines simplified to 0.025 em (under half a pixel at the
# first zoom) and coordinates kept to 0.0001 degree (~11 m, under a pixel until zoom ~12).
OUTLINE_TOLERANCE = 0.025
GRID_DEGREES = 1e-4


@lru_cache(maxsize=1)
def _font() -> tuple[int, dict[str, tuple[int, shapely.Geometry]]]:
    with gzip.open(FONT_FILE, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    glyphs = {c: (g["w"], shapely.MultiPolygon([shapely.Polygon(p[0], p[1:]) for p in g["p"]]) if g["p"] else None)
              for c, g in doc["glyphs"].items()}
    return doc["units_per_em"], glyphs


def text_outline(lines: list[str]) -> tuple[shapely.Geometry, float, float]:
    """The lines of text as one geometry in ems, centred on (0, 0), and its width and height
    in ems. A character the font lacks is left as a gap the width of a question mark."""
    em, glyphs = _font()
    blank = glyphs.get("?", (em // 2, None))[0]
    parts, widths = [], []
    for row, line in enumerate(lines):
        x, shapes = 0.0, []
        for character in line:
            width, shape = glyphs.get(character, (blank, None))
            if shape is not None:
                shapes.append(affinity.translate(shape, x, 0))
            x += width
        widths.append(x / em)
        line_shape = shapely.union_all(shapes) if shapes else shapely.Polygon()
        # centred horizontally; the lines stacked down from the first
        parts.append(affinity.translate(line_shape, -x / 2, -row * LINE_SPACING * em))
    shape = affinity.scale(shapely.union_all(parts), 1 / em, 1 / em, origin=(0, 0))
    height = 0.72 + LINE_SPACING * (len(lines) - 1)  # cap height of the first line to the baseline of the last
    shape = affinity.translate(shape, 0, height / 2 - 0.72)  # centred vertically on the capitals
    shape = shapely.simplify(shape, OUTLINE_TOLERANCE)
    return shape, max(widths, default=0.0), height


# A county map names its counties without the word, as printed maps do ("Hamilton"); the hover
# and the tables keep the full name. Other suffixes stay: "Fairfax city" is not Fairfax County.
MAP_DROPS = (" County", " Parish")


def map_name(name: str) -> str:
    """The name as the map prints it."""
    for suffix in MAP_DROPS:
        if name.endswith(suffix) and name[: -len(suffix)].strip():
            return name[: -len(suffix)]
    return name


def _candidates(name: str) -> list[list[str]]:
    """The name on one line, then on two (split at the space nearest its middle)."""
    name = map_name(name)
    words = name.split()
    options = [[name]]
    if len(words) > 1:
        cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
        options.append([" ".join(words[:cut]), " ".join(words[cut:])])
    return options


def km_per_px(zoom: float, lat: float) -> float:
    """Ground distance of one screen pixel at web-mercator `zoom` (MapLibre: 512 px world at 0)."""
    return 360.0 / (512 * 2**zoom) * KM_PER_DEGREE * math.cos(math.radians(lat))


def place_labels(anchors: pd.DataFrame, zoom: float) -> list[tuple[str, shapely.Geometry]]:
    """(region_id, name outline in lon/lat) for each region whose name fits in it at `zoom`.

    `anchors` (queries.coverage.label_anchors, from data.geography.label_anchors): region_id, name, lon, lat (the centre of
    the largest circle inside the region) and radius_km (that circle's radius)."""
    if anchors is None or anchors.empty:
        return []
    out = []
    for row in anchors.sort_values("radius_km", ascending=False).head(MAX_LABELS).to_dict("records"):
        em_km = EM_PX * km_per_px(zoom, row["lat"])
        for lines in _candidates(str(row["name"])):
            shape, width, height = text_outline(lines)
            if math.hypot(width, height) / 2 * em_km > FIT_ALLOWANCE * row["radius_km"]:
                continue
            em_lat = em_km / KM_PER_DEGREE
            em_lon = em_lat / math.cos(math.radians(row["lat"]))
            placed = affinity.translate(affinity.scale(shape, em_lon, em_lat, origin=(0, 0)), row["lon"], row["lat"])
            out.append((row["region_id"], shapely.set_precision(placed, GRID_DEGREES)))
            break
    return out


def label_features(labels: list[tuple[str, shapely.Geometry]]) -> dict:
    """A FeatureCollection of the placed names (feature id = region_id)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": region_id, "properties": {},
         "geometry": json.loads(shapely.to_geojson(shape))} for region_id, shape in labels]}
