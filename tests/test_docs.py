"""The README documents what a user can set and run: every setting the code reads (environment
variables and Streamlit secrets) has a row in its Settings table, and every `cli.py` command and
subcommand is shown (as Datasette's test_docs.py does for its settings and plugin hooks)."""
from __future__ import annotations

import argparse
import ast
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()

# Ways the code reads a setting: os.environ.get(NAME), os.environ[NAME], os.getenv(NAME),
# os.environ.setdefault(NAME, ...), domain.settings.setting(NAME) (environment, then secret) and
# streamlit_secret(NAME);
# st.secrets.get(NAME) and components.auth._secrets().get(NAME) (a secrets.toml section).
ENV_READERS = {"os.environ.get", "os.getenv", "os.environ.setdefault", "setting", "settings.setting",
               "streamlit_secret", "settings.streamlit_secret"}
SECRET_READERS = {"st.secrets.get", "_secrets().get"}


def _source_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True)
    return [REPO / p for p in out.stdout.splitlines() if not p.startswith("tests/") and (REPO / p).is_file()]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    return "?"


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "text" assignments (e.g. ANONYMOUS_VIEW_SETTING = "ALLIANCE_ANONYMOUS_VIEW")."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _wrappers(tree: ast.Module) -> set[str]:
    """Functions (at any depth) that read the setting named by their first parameter, e.g.
    `def setting(name, default): ... os.environ.get(name, default)`: their callers name the setting."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.args.args:
            first = node.args.args[0].arg
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and _dotted(call.func) in ENV_READERS | SECRET_READERS and call.args \
                        and isinstance(call.args[0], ast.Name) and call.args[0].id == first:
                    names.add(node.name)
    return names


def settings_read() -> tuple[set[str], set[str], list[str]]:
    """(environment settings, secrets sections, reads whose name could not be worked out)."""
    env, secrets, unknown = set(), set(), []
    for path in _source_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        constants, wrappers = _constants(tree), _wrappers(tree)

        def name_of(arg: ast.AST) -> str | None:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                return arg.value
            if isinstance(arg, ast.Name):
                return constants.get(arg.id)
            return None

        for node in ast.walk(tree):
            reader = None
            if isinstance(node, ast.Call) and node.args:
                func = _dotted(node.func)
                if func in ENV_READERS or func in wrappers:
                    reader, arg = env, node.args[0]
                elif func in SECRET_READERS:
                    reader, arg = secrets, node.args[0]
            elif isinstance(node, ast.Subscript) and _dotted(node.value) == "os.environ":
                reader, arg = env, node.slice
            if reader is None:
                continue
            name = name_of(arg)
            if name is None:
                # the parameter of a wrapper (its callers are counted) or a name we cannot resolve
                enclosing = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name in wrappers
                             and node in ast.walk(f)]
                if not enclosing:
                    unknown.append(f"{path.relative_to(REPO)}:{node.lineno}")
                continue
            reader.add(name)
    return env, secrets, unknown


def settings_section() -> str:
    match = re.search(r"^## Settings\n(.*?)(?=^## )", README, re.MULTILINE | re.DOTALL)
    assert match, "README has no '## Settings' section"
    return match.group(1)


def test_the_scan_finds_the_settings_it_should():
    """A guard on the scanner itself: settings read in each of its ways are found."""
    env, secrets, unknown = settings_read()
    assert {"DATABASE_URL", "SUPPRESSION_THRESHOLD", "ALLIANCE_ANONYMOUS_VIEW", "ALLIANCE_MAX_FILE_MB",
            "BROWSER_PATH"} <= env
    assert {"auth", "alliance_roles"} <= secrets
    assert unknown == [], "settings read under a name the scan cannot resolve; name them with a constant"


@pytest.mark.parametrize("name", sorted(settings_read()[0]))
def test_every_environment_setting_is_in_the_readme_settings_table(name):
    assert re.search(rf"^\|\s*`{re.escape(name)}`", settings_section(), re.MULTILINE), \
        f"{name} is read by the code but has no row in the README's Settings table"


@pytest.mark.parametrize("name", sorted(settings_read()[1]))
def test_every_secrets_section_is_in_the_readme_settings_table(name):
    assert f"`[{name}]`" in settings_section(), \
        f"secrets.toml section [{name}] is read by the code but not in the README's Settings table"


def cli_commands() -> list[str]:
    """'import', 'story list', 'user set-role', ...: every command and subcommand of cli.py."""
    from cli import build_parser

    def walk(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append(f"{prefix}{name}")
                    found += walk(sub, f"{prefix}{name} ")
        return found

    return walk(build_parser(), "")


def test_the_cli_has_commands_and_subcommands():
    commands = cli_commands()
    assert "import" in commands and "story list" in commands and "user set-role" in commands


@pytest.mark.parametrize("command", cli_commands())
def test_every_cli_command_is_shown_in_the_readme(command):
    assert re.search(rf"cli\.py {re.escape(command)}(\s|`|$)", README, re.MULTILINE), \
        f"`cli.py {command}` is not shown in the README"
