"""What the store holds: periods, regions, groups and table counts (the record of imports: data/history.py)."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select

from data.schema import events, indicators, metadata, outcomes, participation, pathway, regions, student_groups
from domain.vocabulary import BUILT_IN_GROUPS

DATA_TABLES = (
    "regions", "partners", "programs", "program_sites", "participation",
    "indicators", "outcomes", "pathway", "targets", "student_groups",
)


def data_version(engine: Engine) -> int:
    """Changes whenever the store changes (an import, an undo, a freeze: each adds an event,
    and events are never deleted); used to key caches."""
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(events.c.event_id), 0))).scalar_one()


def table_counts(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = [(name, conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one())
                for name in DATA_TABLES]
    return pd.DataFrame(rows, columns=["table", "rows"])


def school_years(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(outcomes.c.school_year).distinct().order_by(outcomes.c.school_year)).scalars())


def quarters(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(participation.c.quarter).distinct().order_by(participation.c.quarter)).scalars())


def cohorts(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(pathway.c.cohort).distinct().order_by(pathway.c.cohort)).scalars())


def region_list(engine: Engine) -> pd.DataFrame:
    query = select(regions.c.region_id, regions.c.name, regions.c.locale).order_by(regions.c.name)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def indicator_list(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(select(indicators).order_by(indicators.c.stage, indicators.c.name), conn)


def group_list(engine: Engine) -> pd.DataFrame:
    """Built-in groups followed by the groups a package declared."""
    built_in = pd.DataFrame([g.__dict__ for g in BUILT_IN_GROUPS])
    with engine.connect() as conn:
        declared = pd.read_sql(select(student_groups).order_by(student_groups.c.label), conn)
    return pd.concat([built_in, declared], ignore_index=True)


