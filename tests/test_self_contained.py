"""The repository stands alone: no test, example or script reads a path outside it (a fresh
clone has nothing beside it), and the real public files the tests use are in it, small."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "data" / "examples" / "edfacts_tn" / "sources"

# An absolute path into this machine's work area, or a step out of the checkout to a sibling
# folder (../shared, REPO.parent / "shared", parents[3] / ...).
OUTSIDE = re.compile(
    r"""(["'](/work|/home|/root|/Users)/)"""
    r"""|(\.\./(shared|realdata))"""
    r"""|(\.parent\s*/\s*["'](shared|realdata)["'])"""
    r"""|(parents\[\d\]\s*\.parent)""")


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True)
    return [REPO / line for line in out.stdout.splitlines()]


def test_no_file_reads_outside_the_repository():
    offenders = []
    for path in tracked_files():
        if path.suffix not in {".py", ".md", ".toml", ".ini", ".cfg", ".txt", ".sh", ""} \
                or not path.is_file() or path == Path(__file__).resolve():
            continue
        if "SOURCE.txt" == path.name:  # provenance notes name where the originals were
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []


def test_vendored_real_files_are_small_and_documented():
    folders = [p for p in SOURCES.iterdir() if p.is_dir()]
    assert {p.name for p in folders} == {
        "edfacts_acgr_school", "tn_district_boundaries_cb2016", "tn_tdoe_profiles_2014_2015"}
    for folder in folders:
        note = (folder / "SOURCE.txt").read_text()
        assert "EXTRACT" in note and ("PUBLIC DOMAIN" in note or "PUBLIC RECORDS" in note)
    total = sum(p.stat().st_size for p in SOURCES.rglob("*") if p.is_file())
    assert total < 1_000_000, total
