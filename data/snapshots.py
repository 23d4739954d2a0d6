"""Freezing a quarter for the board, and deleting a snapshot version: writes, so they check the
actor's role (data/auth.py) and are recorded (data/history.py).

A snapshot stores the overview of a quarter exactly as `queries.overview.overview` returns it
(already suppressed); `reports.board.freeze` reads it and hands it here. Freezing a quarter
that is frozen already adds a new version and needs a note saying why; earlier versions stay,
and the overview can show each one. Only an admin deletes a version.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import Engine, delete, func, insert, select

from data import history
from data.auth import Actor, require
from data.schema import snapshots
from domain import kpi

MAX_NOTE_LENGTH = 1000


class SnapshotError(ValueError):
    """A quarter cannot be frozen, or a version deleted; the message is meant for the user."""


def store(engine: Engine, quarter: str, payload: dict | None, note: str = "", actor: Actor | None = None) -> dict:
    """Store `payload`, the quarter's overview as it is now, as the quarter's next version.
    Returns the stored snapshot (with `version`, `note` and `frozen_by`). A quarter frozen
    already is frozen again only with a note saying why."""
    actor = require(actor, "freeze")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise SnapshotError(f"The note is too long: at most {MAX_NOTE_LENGTH} characters.")
    if not payload or payload["quarter"] != quarter:
        raise SnapshotError(f"There is no participation data for {kpi.quarter_label(quarter)}, so it cannot be frozen.")
    frozen_at = datetime.now(timezone.utc).replace(microsecond=0)
    with engine.begin() as conn:
        latest = conn.execute(select(func.max(snapshots.c.version)).where(snapshots.c.quarter == quarter)).scalar()
        if latest is not None and not note:
            raise SnapshotError(f"{kpi.quarter_label(quarter)} is frozen already. Freezing it again keeps the earlier "
                                "version and adds a new one: give a note saying why.")
        version = (latest or 0) + 1
        payload.update(frozen_at=frozen_at.isoformat(), version=version, note=note, frozen_by=actor.name)
        conn.execute(insert(snapshots).values(quarter=quarter, version=version, frozen_at=frozen_at,
                                              payload=json.dumps(payload), note=note, frozen_by=actor.name))
        history.record(conn, actor, "freeze", f"froze {kpi.quarter_label(quarter)} as version {version}"
                       + (f": {note}" if note else ""), {"quarter": quarter, "version": version, "note": note})
    return payload


def delete_version(engine: Engine, quarter: str, version: int, actor: Actor | None = None) -> None:
    """Delete one version of a frozen quarter (admins only); recorded with the version's date."""
    actor = require(actor, "delete_snapshot")
    with engine.begin() as conn:
        row = conn.execute(select(snapshots.c.frozen_at, snapshots.c.note).where(
            snapshots.c.quarter == quarter, snapshots.c.version == version)).first()
        if row is None:
            raise SnapshotError(f"{kpi.quarter_label(quarter)} has no version {version}.")
        conn.execute(delete(snapshots).where(snapshots.c.quarter == quarter, snapshots.c.version == version))
        history.record(conn, actor, "delete_snapshot",
                       f"deleted version {version} of {kpi.quarter_label(quarter)} (frozen {str(row.frozen_at)[:10]})",
                       {"quarter": quarter, "version": version, "frozen_at": str(row.frozen_at), "note": row.note})
