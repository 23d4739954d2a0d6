"""History and undo: every import recorded with who, when and row counts, its files kept, and
undo restoring the store exactly as it was — every table's rows, derived tables included — on
SQLite and PostgreSQL."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from data import history
from data.auth import Actor, PermissionDenied
from data.db import get_engine, upgrade
from data.importer import import_package, preview, validate
from tests.packages import VALID_PACKAGE, write_package

REPO = Path(__file__).resolve().parent.parent
ADMIN = Actor("ana", "admin")
EDITOR = Actor("eli", "editor")
# The record itself and what undo keeps grow with each change: everything else must be restored.
RECORD_TABLES = {"events", "imports", "import_files", "import_undo", "alembic_version"}


def rows(engine) -> dict[str, list[tuple]]:
    """Every row of every table but the record, sorted."""
    with engine.connect() as conn:
        names = sorted(set(inspect(conn).get_table_names()) - RECORD_TABLES)
        return {name: sorted((tuple(r) for r in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr) for name in names}


def corrected_package(folder: Path) -> Path:
    """The valid package with a corrected count, a new region, a new quarter and a new year."""
    files = dict(VALID_PACKAGE)
    files["regions.csv"] += "47189,Wilson County,suburb,19000,22.0\n"
    files["participation.csv"] = files["participation.csv"].replace("G1,47037,2025-Q2,all,115", "G1,47037,2025-Q2,all,117") \
        + "G1,47189,2025-Q3,all,40\n"
    files["outcomes.csv"] += "grad4,47189,2024-25,all,1700,1800,\n"
    files["program_sites.csv"] += "G1,47189,Wilson Middle,36.2,-86.3,30\n"
    return write_package(folder, files)


def test_undo_restores_every_table_then_the_import_before(store, tmp_path):
    upgrade(store)
    empty = rows(store)
    first = import_package(write_package(tmp_path / "first"), store, actor=EDITOR)
    assert first.ok and first.written
    after_first = rows(store)
    second = import_package(corrected_package(tmp_path / "second"), store, actor=EDITOR)
    assert second.ok, second.problems[:3]
    assert rows(store) != after_first
    # the derived tables changed with it (so that their restoration is tested too)
    assert rows(store)["participation_cells"] != after_first["participation_cells"]
    assert rows(store)["outcome_rollup"] != after_first["outcome_rollup"]
    assert rows(store)["coverage_sites"] != after_first["coverage_sites"]

    done = history.undo_latest(store, actor=ADMIN)
    assert done["import_id"] == second.import_id
    assert rows(store) == after_first  # every table, derived ones included
    history.undo_latest(store, actor=ADMIN)
    assert rows(store) == empty
    with pytest.raises(history.UndoError, match="no import to undo"):
        history.undo_latest(store, actor=ADMIN)

    record = history.history(store)
    assert record["action"].tolist() == ["undo", "undo", "import", "import"]
    assert record["actor"].tolist() == ["ana", "ana", "eli", "eli"]
    assert record.iloc[3]["details"]["row_counts"]["regions"] == 4
    assert record.iloc[2]["details"]["changes"]["participation"] == {"added": 1, "replaced": 1, "unchanged": 4}


def test_undo_restores_the_demo_alliance_after_a_correction(store, tmp_path):
    """On the demo alliance (every table full, suppression decided across thousands of cells)."""
    from data.demo import load_demo

    assert load_demo(store).ok
    before = rows(store)
    fix = tmp_path / "fix"
    fix.mkdir()
    with store.connect() as conn:
        part = conn.execute(text("SELECT program_id, region_id, quarter, student_group, participants FROM participation "
                                 "WHERE participants IS NOT NULL ORDER BY program_id, region_id, quarter, student_group LIMIT 40")).all()
        regions = conn.execute(text("SELECT region_id, name, locale, k12_enrollment FROM regions")).all()
    (fix / "regions.csv").write_text("region_id,name,locale,k12_enrollment\n"
                                     + "".join(f"{r[0]},{r[1]},{r[2]},{r[3]}\n" for r in regions))
    (fix / "participation.csv").write_text("program_id,region_id,quarter,student_group,participants\n"
                                           + "".join(f"{p[0]},{p[1]},{p[2]},{p[3]},{p[4] + 7}\n" for p in part))
    result = import_package(fix, store, actor=EDITOR)
    assert result.ok, result.problems[:3]
    assert rows(store)["participation_cells"] != before["participation_cells"]
    history.undo_latest(store, actor=ADMIN)
    assert rows(store) == before


def test_only_an_admin_undoes(store, tmp_path):
    upgrade(store)
    import_package(write_package(tmp_path / "p"), store, actor=EDITOR)
    for actor in (EDITOR, Actor("pat", "presenter"), Actor("vic", "viewer"), Actor("anonymous", None, "anonymous")):
        with pytest.raises(PermissionDenied):
            history.undo_latest(store, actor=actor)
    assert history.latest_undoable(store)["import_id"] == 1


def test_the_files_of_an_import_are_kept_and_handed_out_again(store, tmp_path):
    upgrade(store)
    folder = write_package(tmp_path / "p")
    result = import_package(folder, store, actor=EDITOR)
    name, data, mime = history.download_of(store, result.import_id)
    assert name.endswith(".zip") and mime == "application/zip"
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {n: archive.read(n).decode() for n in archive.namelist()} == VALID_PACKAGE
    archive_path = tmp_path / "package.zip"
    archive_path.write_bytes(data)
    again = import_package(archive_path, store, actor=EDITOR)
    assert history.download_of(store, again.import_id) == ("package.zip", data, "application/zip")


def test_preview_counts_what_an_import_would_change_and_writes_nothing(store, tmp_path):
    upgrade(store)
    package, _ = validate(write_package(tmp_path / "p"), store)
    fresh = preview(store, package)
    assert fresh["tables"]["regions"] == {"added": 4, "replaced": 0, "unchanged": 0}
    assert fresh["quarters"] == ["2025-Q1", "2025-Q2"] and fresh["school_years"] == ["2023-24", "2024-25"]
    import_package(write_package(tmp_path / "p"), store, actor=EDITOR)
    before = rows(store)
    package, _ = validate(corrected_package(tmp_path / "c"), store)
    change = preview(store, package)
    assert change["tables"]["participation"] == {"added": 1, "replaced": 1, "unchanged": 4}
    assert change["tables"]["regions"] == {"added": 1, "replaced": 0, "unchanged": 4}
    assert change["tables"]["outcomes"] == {"added": 1, "replaced": 0, "unchanged": 6}
    assert change["regions"] == ["47189"] and change["quarters"] == ["2025-Q3"] and change["school_years"] == []
    assert rows(store) == before


def test_cli_history_and_undo(sqlite_url, tmp_path):
    def cli(*args, stdin=None):
        return subprocess.run([sys.executable, "cli.py", *args, "--database", sqlite_url], cwd=REPO, input=stdin,
                              capture_output=True, text=True, timeout=180)

    assert cli("import", str(write_package(tmp_path / "p"))).returncode == 0
    assert cli("import", str(corrected_package(tmp_path / "c"))).returncode == 0
    engine = get_engine(sqlite_url)
    refused = cli("undo")  # not at a terminal and no --yes: nothing happens
    assert refused.returncode == 1 and "--yes" in refused.stderr
    done = cli("undo", "--yes")
    assert done.returncode == 0, done.stderr
    assert "undid import 2 (c)" in done.stdout
    listing = cli("history")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert "undo" in lines[0] and "cli" in lines[0] and "import" in lines[1] and "imported c" in lines[1]
    assert history.latest_undoable(engine)["import_id"] == 1
