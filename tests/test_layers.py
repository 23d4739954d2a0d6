"""Rooms that say what they hold: imports only run down the layers (read with ast, every import
including those inside functions).

    domain/ (rules, pure)  <  data/ (the store, writes)  <  queries/ (reads)  <  components/, reports/  <  pages/

components/ and reports/ are one layer (the packet is drawn with the pages' own figure builders,
and page downloads use the safe file writer in reports/files.py). app.py, cli.py, bench/ and
tests/ sit above everything.
"""
from __future__ import annotations

import ast
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAYERS = {"domain": 0, "data": 1, "queries": 2, "components": 3, "reports": 3, "pages": 4}


def upward_imports() -> set[tuple[str, str]]:
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True)
    found = set()
    for name in tracked.stdout.splitlines():
        layer = LAYERS.get(name.split("/")[0])
        if layer is None or not (REPO / name).is_file():
            continue
        for node in ast.walk(ast.parse((REPO / name).read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                target = LAYERS.get(module.split(".")[0])
                if target is not None and target > layer:
                    found.add((name, module))
    return found


def test_no_import_runs_up_the_layers():
    assert upward_imports() == set()


def test_queries_only_read():
    """queries/ holds no write: no INSERT, UPDATE or DELETE statement, no begin() transaction."""
    writes = []
    for path in sorted((REPO / "queries").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            # sqlalchemy's insert(table) & co. by name; engine.begin() and write_rows by any path
            if isinstance(node.func, ast.Name) and node.func.id in {"insert", "update", "delete", "write_rows"} \
                    or isinstance(node.func, ast.Attribute) and node.func.attr in {"begin", "write_rows"}:
                writes.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}()")
    assert writes == []


def test_colours_come_from_the_palette():
    """No module types its own colour (a "#RRGGBB" string); components/palette.py names them all."""
    import re

    hexes = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
    typed = []
    for folder in ("components", "pages", "reports"):
        for path in sorted((REPO / folder).glob("*.py")):
            if path.name == "palette.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and hexes.match(node.value):
                    typed.append(f"{folder}/{path.name}:{node.lineno} {node.value}")
    assert typed == []
