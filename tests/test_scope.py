"""The area a figure is about (domain/scope.py): parsed once from the URL, whose values stay as
they were, and the only place scope strings are spelled."""
from __future__ import annotations

import ast
import pickle
import subprocess
from pathlib import Path

import pytest

from domain.scope import ALLIANCE, LOCALE_SCOPES, NONRURAL, RURAL, Scope, locale_cell, region
from domain.vocabulary import LOCALES

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value,scope", [
    ("all", ALLIANCE), (None, ALLIANCE), ("", ALLIANCE), ("locale:rural", RURAL), ("locale:nonrural", NONRURAL),
    ("47065", region("47065")), ("locale:elsewhere", region("locale:elsewhere")),
])
def test_url_values_parse_to_scopes(value, scope):
    assert Scope.from_param(value) == scope


@pytest.mark.parametrize("value", ["all", "locale:rural", "locale:nonrural", "47065"])
def test_a_scope_writes_the_url_value_it_came_from(value):
    assert Scope.from_param(value).param == value
    assert str(Scope.from_param(value)) == value


def test_what_each_scope_covers():
    assert ALLIANCE.is_alliance and ALLIANCE.locales == () and ALLIANCE.region_id is None
    assert RURAL.locales == ("rural",) and set(NONRURAL.locales) == set(LOCALES) - {"rural"}
    assert region("47065").region_id == "47065" and region("47065").is_region and region("47065").label is None
    assert [s.label for s in (ALLIANCE, *LOCALE_SCOPES)] == ["Alliance-wide", "Rural regions", "Non-rural regions"]
    # the keys of the stored rollup rows (data/rollup.py, data/participation_rollup.py)
    assert (ALLIANCE.cell, RURAL.cell, NONRURAL.cell, region("47065").cell) == (
        "__alliance__", "locale:rural", "locale:nonrural", "47065")
    assert locale_cell("city") == "locale:city"


def test_a_scope_can_key_a_cache():
    """Streamlit's cache hashes query arguments; equal scopes must hash alike and survive pickling."""
    assert hash(Scope.from_param("locale:rural")) == hash(RURAL)
    assert pickle.loads(pickle.dumps(region("47065"))) == region("47065")


def _string_literals(path: Path) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_scope_strings_are_spelled_only_in_domain_scope():
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True)
    spelled = {"locale:rural", "locale:nonrural", "locale:", "__alliance__"}
    offenders = []
    for name in tracked.stdout.splitlines():
        path = REPO / name
        if name.startswith(("tests/", "domain/scope.py")) or not path.is_file():
            continue
        found = _string_literals(path) & spelled
        if found:
            offenders.append(f"{name}: {sorted(found)}")
    assert offenders == []
