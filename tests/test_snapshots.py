"""Board snapshots are a record: freezing a frozen quarter needs a note and adds a version, the
earlier versions stay exactly as they were, only an admin deletes one and that is recorded; the
command line, the packet and the migration of older stores keep up. SQLite and PostgreSQL."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from data import history, snapshots
from data.auth import Actor, PermissionDenied
from data.db import _alembic_config, get_engine, upgrade
from data.importer import import_package
from queries import overview as q
from reports import board
from tests.packages import write_package
from tests.test_undo import corrected_package

REPO = Path(__file__).resolve().parent.parent
QUARTER = "2025-Q2"
EDITOR, ADMIN = Actor("eli", "editor"), Actor("ana", "admin")


def participations(payload: dict) -> float:
    return next(r["value"] for r in payload["reach"] if r["measure"] == "participants")


@pytest.fixture
def imported(store, tmp_path):
    upgrade(store)
    assert import_package(write_package(tmp_path / "first"), store, actor=EDITOR).ok
    return store


def test_freezing_again_needs_a_note_and_keeps_the_earlier_version(imported, tmp_path):
    first = board.freeze(imported, QUARTER, actor=EDITOR)
    assert (first["version"], first["note"], first["frozen_by"]) == (1, "", "eli")
    assert import_package(corrected_package(tmp_path / "fix"), imported, actor=EDITOR).ok  # 115 -> 117 participations
    with pytest.raises(snapshots.SnapshotError, match="frozen already.*give a note"):
        board.freeze(imported, QUARTER, actor=EDITOR)
    with pytest.raises(snapshots.SnapshotError, match="too long"):
        board.freeze(imported, QUARTER, note="x" * 1001, actor=EDITOR)
    second = board.freeze(imported, QUARTER, note="Corrected Q2 participation", actor=EDITOR)
    assert second["version"] == 2 and participations(second) == participations(first) + 2

    versions = q.snapshot_versions(imported, QUARTER)
    assert versions[["version", "note", "frozen_by"]].values.tolist() == [
        [2, "Corrected Q2 participation", "eli"], [1, "", "eli"]]
    assert q.snapshot(imported, QUARTER, 1) == first  # exactly as frozen, byte for byte
    assert q.snapshot(imported, QUARTER) == second  # the latest by default
    assert q.frozen_quarters(imported).values.tolist()[0][::2] == [QUARTER, 2]
    freezes = history.history(imported).query("action == 'freeze'")
    assert freezes["summary"].tolist() == ["froze 2025 Q2 as version 2: Corrected Q2 participation",
                                           "froze 2025 Q2 as version 1"]
    assert freezes["actor"].tolist() == ["eli", "eli"]


def test_only_an_admin_deletes_a_version_and_it_is_recorded(imported):
    board.freeze(imported, QUARTER, actor=EDITOR)
    board.freeze(imported, QUARTER, note="again", actor=EDITOR)
    with pytest.raises(PermissionDenied, match="needs the admin role"):
        snapshots.delete_version(imported, QUARTER, 1, actor=EDITOR)
    snapshots.delete_version(imported, QUARTER, 2, actor=ADMIN)
    assert q.snapshot_versions(imported, QUARTER)["version"].tolist() == [1]
    assert q.snapshot(imported, QUARTER)["version"] == 1  # the latest left
    with pytest.raises(snapshots.SnapshotError, match="has no version 2"):
        snapshots.delete_version(imported, QUARTER, 2, actor=ADMIN)
    event = history.history(imported).iloc[0]
    assert (event["action"], event["actor"]) == ("delete_snapshot", "ana")
    assert event["details"]["version"] == 2 and event["details"]["note"] == "again"
    # the next freeze takes the next number, never reusing a deleted one's place in the record
    assert board.freeze(imported, QUARTER, note="third", actor=EDITOR)["version"] == 2


def test_freezing_a_quarter_without_data_is_refused(imported):
    with pytest.raises(snapshots.SnapshotError, match="no participation data for 1999 Q1"):
        board.freeze(imported, "1999-Q1", actor=EDITOR)
    assert q.snapshot_versions(imported).empty


def test_the_packet_prints_the_version_asked_for(imported):
    from reports.packet import PacketError, make_packet
    from tests.test_packet import pdf_text

    board.freeze(imported, QUARTER, actor=EDITOR)
    board.freeze(imported, QUARTER, note="Corrected counts", actor=EDITOR)
    latest = pdf_text(make_packet(imported, QUARTER, images=False).pdf)
    assert "(version 2: Corrected counts)" in latest
    first = pdf_text(make_packet(imported, QUARTER, images=False, version=1).pdf)
    assert "As frozen on" in first and "version 2" not in first
    with pytest.raises(PacketError, match="no frozen version 7"):
        make_packet(imported, QUARTER, images=False, version=7)


def test_cli_snapshot_versions(sqlite_url, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "cli.py", *args, "--database", sqlite_url], cwd=REPO,
                              capture_output=True, text=True, timeout=180)

    assert cli("import", str(write_package(tmp_path / "p"))).returncode == 0
    first = cli("snapshot", QUARTER)
    assert first.returncode == 0 and first.stdout.startswith("froze 2025 Q2 on ")
    again = cli("snapshot", QUARTER)
    assert again.returncode == 1 and "give a note" in again.stderr and "--note" in again.stderr
    noted = cli("snapshot", QUARTER, "--note", "Corrected counts")
    assert noted.returncode == 0 and noted.stdout.startswith("froze 2025 Q2 (version 2) on ")
    assert cli("snapshot", QUARTER, "--delete-version", "1").stdout.strip() == "deleted version 1 of 2025 Q2"
    missing = cli("snapshot", QUARTER, "--delete-version", "1")
    assert missing.returncode == 1 and "has no version 1" in missing.stderr
    engine = get_engine(sqlite_url)
    assert q.snapshot_versions(engine)["version"].tolist() == [2]
    assert history.history(engine)["action"].tolist()[:3] == ["delete_snapshot", "freeze", "freeze"]


def test_the_migration_keeps_earlier_snapshots_and_imports(store_url):
    """A store from before versions: its frozen quarter becomes version 1, its imports start the
    record (and cannot be undone: what they replaced was not kept); downgrading keeps the latest."""
    engine = get_engine(store_url)
    command.upgrade(_alembic_config(engine), "0005")
    payload = {"quarter": QUARTER, "frozen_at": "2025-07-01T00:00:00+00:00", "reach": []}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO snapshots (quarter, frozen_at, payload) VALUES (:q, :at, :p)"),
                     dict(q=QUARTER, at="2025-07-01 00:00:00", p=json.dumps(payload)))
        conn.execute(text("INSERT INTO imports (started_at, finished_at, source, outcome, row_counts, warnings) "
                          "VALUES (:at, :at, 'old.zip', 'imported', '{\"regions\": 3}', '[]')"), dict(at="2025-06-01 00:00:00"))
    upgrade(engine)
    versions = q.snapshot_versions(engine)
    assert versions[["quarter", "version", "note"]].values.tolist() == [[QUARTER, 1, ""]]
    assert q.snapshot(engine, QUARTER) == payload
    record = history.history(engine)
    assert record[["actor", "action", "summary"]].values.tolist() == [["(before sign-in existed)", "import", "imported old.zip"]]
    assert record.iloc[0]["details"] == {"row_counts": {"regions": 3}}
    assert history.latest_undoable(engine)["undoable"] is False
    with pytest.raises(history.UndoError, match="before imports could be undone"):
        history.undo_latest(engine, actor=ADMIN)

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO snapshots (quarter, version, frozen_at, payload, note, frozen_by) "
                          "VALUES (:q, 2, :at, :p, 'later', 'ana')"),
                     dict(q=QUARTER, at="2025-08-01 00:00:00", p=json.dumps({**payload, "version": 2})))
    command.downgrade(_alembic_config(engine), "0005")
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT quarter, payload FROM snapshots")).all()
    assert [(r[0], json.loads(r[1])["version"]) for r in kept] == [(QUARTER, 2)]
