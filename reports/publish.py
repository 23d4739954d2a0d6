"""The public data file (docs/public-file.md): every figure as the dashboard shows it, suppressed
cells marked, in plain CSV files anyone may reuse.

Read only from the query layer (suppressed, banded, audited rollups), never from raw tables, so
the file can give away no more than the pages do. Written through reports/files.py.

    outcomes.csv       indicator x school year x area x student group
    participation.csv  quarter x area x student group
    pathways.csv       cohort x area x student group x stage
    README.md          what the files hold, the disclosure policy, threshold and protection width
"""
from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from data import participation_rollup as participation
from data.schema import indicators, regions
from domain.scope import ALLIANCE, NONRURAL, RURAL, region
from domain.suppression import POLICIES, disclosure_policy, protection_width, threshold
from queries import gaps, pathways
from queries.participation import all_programs, protected_cells
from reports.files import csv_bytes

OUTCOME_COLUMNS = ["indicator_id", "school_year", "area", "student_group", "denominator", "numerator", "rate",
                   "rate_low", "rate_high", "status"]
PARTICIPATION_COLUMNS = ["quarter", "area", "student_group", "participants", "status"]
PATHWAY_COLUMNS = ["cohort", "area", "student_group", "stage_order", "stage", "students", "status"]
SHOWN, BANDED, SUPPRESSED, AT_SOURCE, NOT_REPORTED = "shown", "banded", "suppressed", "suppressed_at_source", "not_reported"
# Areas as the file names them; the query layer's scopes and cells behind them.
OUTCOME_SCOPES = {"alliance": ALLIANCE, "rural": RURAL, "nonrural": NONRURAL}
PARTICIPATION_AREAS = {scope.cell: area for area, scope in OUTCOME_SCOPES.items()}


def outcome_rows(engine: Engine) -> pd.DataFrame:
    """Every pooled rate of every indicator, school year, area and student group, as shown."""
    with engine.connect() as conn:
        ids = tuple(conn.execute(select(indicators.c.indicator_id).order_by(indicators.c.indicator_id)).scalars())
        region_ids = list(conn.execute(select(regions.c.region_id).order_by(regions.c.region_id)).scalars())
    if not ids:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    frames = [gaps.group_rates(engine, ids, scope).assign(area=area) for area, scope in OUTCOME_SCOPES.items()]
    frames += [gaps.group_rates(engine, ids, region(region_id)).assign(area=region_id) for region_id in region_ids]
    rates = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else None
    if rates is None:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    suppressed = rates["suppressed"].astype(bool).to_numpy()
    banded = rates["banded"].astype(bool).to_numpy()
    at_source = (rates["pooled_rows"].to_numpy() == 0) & (rates["suppressed_rows"].to_numpy() > 0)
    reported = rates["pooled_rows"].to_numpy() > 0
    status = np.select([at_source, suppressed, ~reported, banded], [AT_SOURCE, SUPPRESSED, NOT_REPORTED, BANDED], SHOWN)
    exact = rates["exact"].astype(bool).to_numpy() & ~banded & ~suppressed
    numerator = np.where(exact & (rates["numerator_low"] == rates["numerator_high"]), rates["numerator_low"], np.nan)
    out = pd.DataFrame({
        "indicator_id": rates["indicator_id"], "school_year": rates["school_year"], "area": rates["area"],
        "student_group": rates["student_group"], "denominator": rates["denominator"], "numerator": numerator,
        "rate": np.where(exact, rates["rate_low"], np.nan), "rate_low": rates["rate_low"], "rate_high": rates["rate_high"],
        "status": status,
    })
    return out.sort_values(["indicator_id", "school_year", "area", "student_group"], kind="stable").reset_index(drop=True)


def participation_rows(engine: Engine) -> pd.DataFrame:
    """Participations (every program) per quarter, area and student group, as shown."""
    with engine.connect() as conn:
        cells = protected_cells(engine, conn, **all_programs())
    aggregate = cells["region_id"].isin(participation.AGGREGATE_CELLS)
    keep = ~aggregate | cells["region_id"].isin(PARTICIPATION_AREAS)  # city, suburb, town: not areas of the file
    cells = cells[keep]
    hidden = cells["participations_suppressed"].astype(bool).to_numpy()
    out = pd.DataFrame({
        "quarter": cells["quarter"], "area": cells["region_id"].map(lambda r: PARTICIPATION_AREAS.get(r, r)),
        "student_group": cells["student_group"], "participants": cells["participations"].where(~hidden),
        "status": np.where(hidden, SUPPRESSED, SHOWN),
    })
    return out.sort_values(["quarter", "area", "student_group"], kind="stable").reset_index(drop=True)


def pathway_rows(engine: Engine) -> pd.DataFrame:
    """Each cohort's students at each stage, per area and student group: region counts as the
    cube shows them, area counts as /pathways does (sums of the shown region counts)."""
    data = pathways.cube(engine)
    if data.empty:
        return pd.DataFrame(columns=PATHWAY_COLUMNS)
    g, c, r, s = np.nonzero(data.state != pathways.MISSING)
    shown = data.state[g, c, r, s] == pathways.SHOWN
    stage_name = data.stage_name[c, s]
    regional = pd.DataFrame({
        "cohort": data.cohorts[c].astype("int64"), "area": data.region_ids[r],
        "student_group": np.asarray(data.groups, dtype=object)[g], "stage_order": data.stage_orders[s].astype("int64"),
        "stage": stage_name, "students": np.where(shown, data.value[g, c, r, s], np.nan),
        "status": np.where(shown, SHOWN, SUPPRESSED),
    })
    areas = []
    for area, scope in OUTCOME_SCOPES.items():
        trend = pathways.conversion_trend(engine, scope, tuple(data.groups))
        if trend.empty:
            continue
        hidden = trend["students_suppressed"].astype(bool).to_numpy()
        areas.append(pd.DataFrame({
            "cohort": trend["cohort"].astype("int64"), "area": area, "student_group": trend["student_group"],
            "stage_order": trend["stage_order"].astype("int64"), "stage": trend["stage"],
            "students": trend["students"].where(~hidden),
            "status": np.where(hidden, SUPPRESSED, np.where(trend["students"].isna(), NOT_REPORTED, SHOWN)),
        }))
    out = pd.concat([*areas, regional], ignore_index=True)
    return out.sort_values(["cohort", "area", "student_group", "stage_order"], kind="stable").reset_index(drop=True)


def readme(limit: int, policy: str, width: int, counts: dict[str, int]) -> str:
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = "\n".join(f"| `{name}` | {counts[name]:,} |" for name in counts)
    return f"""# Public data file

Written {made} by `python cli.py publish` (or the download on the dashboard's `/data` page),
exactly as the dashboard shows its figures. The columns and statuses are documented in
`docs/public-file.md` of the dashboard's repository.

| file | rows |
|---|---|
{rows}

## Protection in force

- **Threshold: {limit}.** Counts from 1 to {limit - 1}, and rates of fewer than {limit} students,
  are suppressed; where one could be worked out from a total and its other parts, more cells
  are suppressed too (complementary suppression).
- **Disclosure policy: `{policy}`** — {POLICIES[policy]}.
- **Protection width: {width}.** Every protected count can take at least this range of values
  given everything published here and on the dashboard.
- Rates are percentages at one decimal. A hidden value is blank, never zero; `status` says why.
"""


def publish(engine: Engine, out: str | Path) -> dict[str, int]:
    """Write the public data file into the folder `out` (created if need be). Returns the row
    count of each CSV file."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files, counts = _files(engine)
    for name, content in files.items():
        (out / name).write_bytes(content)
    return counts


def public_files(engine: Engine) -> dict[str, bytes]:
    """The public data file's files by name, as bytes."""
    return _files(engine)[0]


def _files(engine: Engine) -> tuple[dict[str, bytes], dict[str, int]]:
    # The CSV files have no byte-order mark: they are for programs as much as for spreadsheets.
    limit, policy = threshold(), disclosure_policy()
    tables = {"outcomes.csv": (outcome_rows(engine), OUTCOME_COLUMNS),
              "participation.csv": (participation_rows(engine), PARTICIPATION_COLUMNS),
              "pathways.csv": (pathway_rows(engine), PATHWAY_COLUMNS)}
    files = {name: csv_bytes(table[columns], bom=False) for name, (table, columns) in tables.items()}
    counts = {name: len(table) for name, (table, _) in tables.items()}
    files["README.md"] = readme(limit, policy, protection_width(limit), counts).encode("utf-8")
    return files, counts


def public_zip(engine: Engine) -> bytes:
    """The public data file as one .zip (the /data page's download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in public_files(engine).items():
            archive.writestr(f"alliance-public-data/{name}", content)
    return buffer.getvalue()

