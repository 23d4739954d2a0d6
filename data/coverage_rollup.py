"""Program sites flattened for the coverage page, rebuilt inside every import.

`coverage_sites` holds one row per program site with its program's type, grade band and name,
its partner and sector, its coordinates (the region's centre when the package gives none, with
`located` False) and the span in which the program runs and its partner is a member. The page
then filters and counts sites in one table: no join of sites, programs, partners and regions
for every view. Definitions match queries/overview.py: a program runs in a quarter when it
started by the quarter's last day and had not ended before its first; its partner counts when
it had joined by the last day and not left before the first day.
"""
from __future__ import annotations

from sqlalchemy import Connection, delete, text

from data.schema import coverage_sites

OPEN_START, OPEN_END = "0000-01-01", "9999-12-31"

# Dates are compared as ISO text, which is how SQLite stores them; PostgreSQL casts.
_REBUILD_SQL = """
INSERT INTO coverage_sites (program_id, region_id, site_name, program_name, partner_id, program_type, grade_band,
    sector, seats, lon, lat, located, active_from, active_to)
SELECT s.program_id, s.region_id, s.site_name, g.name, g.partner_id, g.program_type, g.grade_band,
    COALESCE(a.sector, 'other'), s.seats,
    COALESCE(s.longitude, r.centroid_lon), COALESCE(s.latitude, r.centroid_lat),
    CASE WHEN s.longitude IS NOT NULL AND s.latitude IS NOT NULL THEN {true} ELSE {false} END,
    CASE WHEN COALESCE({start}, :open_start) > COALESCE({joined}, :open_start)
         THEN COALESCE({start}, :open_start) ELSE COALESCE({joined}, :open_start) END,
    CASE WHEN COALESCE({end}, :open_end) < COALESCE({left}, :open_end)
         THEN COALESCE({end}, :open_end) ELSE COALESCE({left}, :open_end) END
FROM program_sites s
JOIN programs g ON g.program_id = s.program_id
LEFT JOIN partners a ON a.partner_id = g.partner_id
LEFT JOIN regions r ON r.region_id = s.region_id
"""


def rebuild_coverage_sites(conn: Connection) -> None:
    """Recompute the flattened sites from the whole store (inside the import transaction)."""
    conn.execute(delete(coverage_sites))
    if conn.dialect.name == "postgresql":
        as_text = {k: f"to_char({c}, 'YYYY-MM-DD')" for k, c in (
            ("start", "g.start_on"), ("end", "g.end_on"), ("joined", "a.joined_on"), ("left", "a.left_on"))}
        sql = _REBUILD_SQL.format(true="TRUE", false="FALSE", **as_text)
    else:
        sql = _REBUILD_SQL.format(true="1", false="0", start="g.start_on", end="g.end_on", joined="a.joined_on",
                                  left="a.left_on")
    conn.execute(text(sql), {"open_start": OPEN_START, "open_end": OPEN_END})
