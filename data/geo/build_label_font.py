"""Build data/geo/label_font.json.gz: letter outlines for region names drawn on the map.

    .venv/bin/python -m data.geo.build_label_font [FONT.ttf]      (from the repository root)

MapLibre draws text only with glyphs fetched from a font server, which an offline dashboard
does not have; the map draws names as filled polygons instead (components/map_labels.py). This
keeps, for every printable ASCII and Latin-1 character, its advance width and its outline as
polygons (curves flattened), in font units (`units_per_em`). Default font: DejaVu Sans
Condensed Bold (Debian's fonts-dejavu-core). Its licence (Bitstream Vera; DejaVu's changes in
the public domain) allows modified copies under another name with its notice: the notice is in
data/README.md, and the file carries the copyright line.
"""
from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import shapely
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

OUT = Path(__file__).parent / "label_font.json.gz"
COPYRIGHT = ("Copyright (c) 2003 by Bitstream, Inc. All Rights Reserved. Bitstream Vera is a trademark of "
             "Bitstream, Inc. DejaVu changes are in public domain.")
LICENCE = "Bitstream Vera licence, full text in data/README.md (label_font.json.gz)"
DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"
CHARACTERS = [chr(c) for c in range(32, 127)] + [chr(c) for c in range(0xA1, 0x100)]
CURVE_STEPS = 4  # line segments per quadratic curve: smooth at the sizes labels are drawn


class _Rings(BasePen):
    """Collects each contour as a list of points, curves flattened."""

    def __init__(self, glyphs):
        super().__init__(glyphs)
        self.rings, self._ring = [], []

    def _moveTo(self, p):
        self._ring = [p]

    def _lineTo(self, p):
        self._ring.append(p)

    def _curveToOne(self, p1, p2, p3):
        (x0, y0) = self._ring[-1]
        for i in range(1, CURVE_STEPS + 1):
            t = i / CURVE_STEPS
            a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3
            self._ring.append((a * x0 + b * p1[0] + c * p2[0] + d * p3[0], a * y0 + b * p1[1] + c * p2[1] + d * p3[1]))

    def _qCurveToOne(self, p1, p2):
        (x0, y0) = self._ring[-1]
        for i in range(1, CURVE_STEPS + 1):
            t = i / CURVE_STEPS
            self._ring.append(((1 - t) ** 2 * x0 + 2 * (1 - t) * t * p1[0] + t ** 2 * p2[0],
                               (1 - t) ** 2 * y0 + 2 * (1 - t) * t * p1[1] + t ** 2 * p2[1]))

    def _closePath(self):
        if len(self._ring) >= 3:
            self.rings.append(self._ring)
        self._ring = []

    _endPath = _closePath


def outline(font: TTFont, character: str) -> tuple[int, list]:
    """(advance width, polygons as lists of rings) of one character (even-odd filling)."""
    name = font.getBestCmap().get(ord(character))
    if name is None:
        return 0, []
    glyphs = font.getGlyphSet()
    pen = _Rings(glyphs)
    glyphs[name].draw(pen)
    shape = shapely.Polygon()
    for ring in pen.rings:  # even-odd: a contour inside another is a hole
        shape = shapely.symmetric_difference(shape, shapely.make_valid(shapely.Polygon(ring)))
    shape = shapely.simplify(shape, 8)  # font units (2048 an em): under half a pixel at label sizes
    polygons = [p for p in shapely.get_parts(shape) if isinstance(p, shapely.Polygon) and not p.is_empty]
    rings = [[[[round(x), round(y)] for x, y in p.exterior.coords]] + [[[round(x), round(y)] for x, y in r.coords]
                                                                       for r in p.interiors] for p in polygons]
    return glyphs[name].width, rings


def main(path: str = DEFAULT_FONT) -> None:
    font = TTFont(path)
    head, os2 = font["head"], font["OS/2"]
    glyphs = {}
    for character in CHARACTERS:
        width, rings = outline(font, character)
        if width:
            glyphs[character] = {"w": width, "p": rings}
    doc = {"source": Path(path).name, "copyright": COPYRIGHT, "licence": LICENCE, "units_per_em": head.unitsPerEm, "cap_height": getattr(os2, "sCapHeight", 0),
           "ascent": os2.sTypoAscender, "descent": os2.sTypoDescender, "glyphs": glyphs}
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    OUT.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{OUT}: {len(glyphs)} characters, {OUT.stat().st_size / 1e3:.0f} KB")


if __name__ == "__main__":
    main(*sys.argv[1:])
