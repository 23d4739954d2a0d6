"""Region names on the map as letter outlines (components/map_labels.py): laid out from the
bundled outlines, placed only where they fit, and sent as polygons, never as map text."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely

from components import map_labels, maps
from data.geography import label_anchors


def test_text_outline_has_the_letters_and_their_holes():
    shape, width, height = map_labels.text_outline(["Rhea"])
    assert 1.5 < width < 3.0 and height == pytest.approx(0.72)
    assert len(shapely.get_parts(shape)) == 4  # R, h, e, a
    assert sum(shapely.get_num_interior_rings(p) for p in shapely.get_parts(shape)) >= 3  # R, e, a have counters
    two, _, tall = map_labels.text_outline(["Sequatchie", "County"])
    assert tall > height and shapely.bounds(two)[1] < shapely.bounds(shape)[1]


def test_characters_beyond_ascii_are_drawn_and_unknown_ones_leave_a_gap():
    shape, width, _ = map_labels.text_outline(["Mayagüez Doña"])
    assert not shape.is_empty and width > 5
    _, gap, _ = map_labels.text_outline(["A\u4e00B"])  # a character the font lacks: a gap, no error
    assert gap > map_labels.text_outline(["AB"])[1]


def test_labels_go_only_where_they_fit():
    square = shapely.box(-85.5, 35.0, -85.0, 35.5)  # ~45 x 55 km
    sliver = shapely.box(-84.0, 35.0, -83.99, 35.5)  # 1 km wide
    anchors = label_anchors(["A", "B"], ["Wide County", "Narrow County"], [square, sliver])
    assert anchors.set_index("region_id").loc["A", "radius_km"] == pytest.approx(22.6, abs=0.5)
    placed = dict(map_labels.place_labels(anchors, zoom=8))
    assert set(placed) == {"A"}
    assert square.contains(placed["A"])  # inside its region
    assert map_labels.place_labels(anchors, zoom=4) == []  # zoomed far out nothing fits
    # zoomed in, a name too wide for its region on one line goes on two
    tall = shapely.box(-85.5, 35.0, -85.40, 35.5)
    anchors = label_anchors(["T"], ["Long Name"], [tall])
    (_, shape), = map_labels.place_labels(anchors, zoom=9)
    em_lat = map_labels.EM_PX * map_labels.km_per_px(9, 35.25) / map_labels.KM_PER_DEGREE
    (_, low, _, high) = shapely.bounds(shape)
    assert (high - low) / em_lat > 1.7  # two lines: capitals of the first to the baseline of the second
    assert tall.contains(shape)


def test_county_names_drop_the_word_county_on_the_map_only():
    assert map_labels.map_name("Hamilton County") == "Hamilton"
    assert map_labels.map_name("Orleans Parish") == "Orleans"
    assert map_labels.map_name("Fairfax city") == "Fairfax city"  # not Fairfax County
    assert map_labels.map_name("Juneau City and Borough") == "Juneau City and Borough"
    assert map_labels.map_name("County") == "County"  # nothing would be left
    assert map_labels.map_name("North hub area") == "North hub area"


def test_the_map_sends_names_as_polygons_and_stays_small():
    from data.geography import load_counties
    from domain.coverage import METRICS

    ids = ["47065", "47011", "47107", "47143", "47115", "47153", "47007", "47061"]
    counties = load_counties(ids)
    shapes = {"geometries": {i: json.dumps(counties[i]["geometry"]) for i in ids}, "bounds": [-86.0, 34.9, -84.5, 35.9]}
    anchors = label_anchors(ids, [counties[i]["name"] for i in ids],
                            [shapely.geometry.shape(counties[i]["geometry"]) for i in ids])
    frame = pd.DataFrame({"region_id": ids, "name": [counties[i]["name"] for i in ids], "locale": "rural",
                          "k12_enrollment": 5000.0, "low_income_pct": 50.0, "sites": 1, "seats": 100,
                          "seats_per_1000": [float(i) for i in range(8)], "nearest_site_km": 5.0,
                          "participations_suppressed": False})
    without = len(maps.coverage_map(frame, shapes, METRICS["seats_per_1000"]).to_json())
    figure = maps.coverage_map(frame, shapes, METRICS["seats_per_1000"], labels=anchors)
    names = [t for t in figure.data if t.name == "Region names"]
    assert names and all(t.type == "choroplethmap" for t in names)
    assert sum(len(t.locations) for t in names) >= 6
    named = sum(len(t.locations) for t in names)
    assert (len(figure.to_json()) - without) / named < 4_000  # bytes a name: ~2 KB on the demo


def test_letters_are_white_on_the_darkest_fills_and_dark_elsewhere():
    from data.geography import load_counties
    from domain.coverage import METRICS

    ids = ["47065", "47011", "47107", "47143"]
    counties = load_counties(ids)
    shapes = {"geometries": {i: json.dumps(counties[i]["geometry"]) for i in ids}, "bounds": [-85.6, 34.9, -84.5, 35.9]}
    anchors = label_anchors(ids, [counties[i]["name"] for i in ids],
                            [shapely.geometry.shape(counties[i]["geometry"]) for i in ids])
    frame = pd.DataFrame({"region_id": ids, "name": [counties[i]["name"] for i in ids], "locale": "rural",
                          "k12_enrollment": 5000.0, "low_income_pct": 50.0, "sites": 1, "seats": 100,
                          "seats_per_1000": [0.0, 10.0, 90.0, 100.0], "nearest_site_km": 5.0,
                          "participations_suppressed": False})
    figure = maps.coverage_map(frame, shapes, METRICS["seats_per_1000"], labels=anchors)
    colour = {loc: (t.colorscale[0][1], t.marker.line.color) for t in figure.data if t.name == "Region names"
              for loc in t.locations}
    assert set(colour) == set(ids)
    assert colour["47065"] == colour["47011"] == (maps.LABEL_COLOUR, maps.LABEL_HALO)  # light fills
    assert colour["47107"] == colour["47143"] == (maps.LABEL_HALO, maps.LABEL_COLOUR)  # the darkest fills
    assert maps.contrast("#FFFFFF", "#000000") == pytest.approx(21) and maps.contrast("#08306B", "#08306B") == 1


def test_the_outline_file_is_small_and_names_its_source_and_licence():
    import gzip

    assert map_labels.FONT_FILE.stat().st_size < 40_000
    with gzip.open(map_labels.FONT_FILE, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    assert doc["source"] == "DejaVuSansCondensed-Bold.ttf" and "Bitstream, Inc." in doc["copyright"]
    assert "data/README.md" in doc["licence"]
    assert "Bitstream Vera" in (map_labels.FONT_FILE.parent.parent / "README.md").read_text(encoding="utf-8")
