"""Command line for data stewards: `python cli.py --help`.

Every command takes `--database URL` (default: DATABASE_URL, else the embedded SQLite store).
The command line runs on the steward's own machine with the store's own credentials, so it acts
as an admin without a password and is recorded as `cli (OS user)` (see data/auth.py).
"""
from __future__ import annotations

import argparse
import sys

from data.auth import AccountError, cli_actor
from data.db import get_engine, upgrade

MAX_PROBLEMS_SHOWN = 200


def _add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL", help="database URL (default: DATABASE_URL, else the embedded SQLite store)")


def _print_result(result, action: str) -> int:
    for warning in result.warnings:
        print(f"warning: {warning}")
    if result.problems:
        shown = result.problems[:MAX_PROBLEMS_SHOWN]
        print(f"{len(result.problems)} problem(s) found in {result.source}; nothing was written:", file=sys.stderr)
        for problem in shown:
            print(f"  {problem}", file=sys.stderr)
        if len(result.problems) > len(shown):
            print(f"  … and {len(result.problems) - len(shown)} more", file=sys.stderr)
        return 1
    counts = ", ".join(f"{name} {rows:,}" for name, rows in result.row_counts.items())
    rate = f" ({result.rows / result.seconds:,.0f} rows/s)" if result.seconds > 0 else ""
    print(f"{action} {result.rows:,} rows in {result.seconds:.1f} s{rate}: {counts}")
    return 0


def cmd_import(args) -> int:
    from data.importer import import_package

    engine = get_engine(args.database)
    result = import_package(args.path, engine, actor=cli_actor())
    code = _print_result(result, "imported")
    if code == 0:
        print(f"into {engine.url.render_as_string(hide_password=True)}")
    return code


def cmd_validate(args) -> int:
    from data.importer import validate

    engine = get_engine(args.database) if args.database else None
    _, result = validate(args.path, engine)
    return _print_result(result, "valid:")


def cmd_migrate(args) -> int:
    engine = get_engine(args.database)
    upgrade(engine)
    print(f"schema up to date in {engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_demo(args) -> int:
    from pathlib import Path

    from data import demo

    if args.out:
        folder = demo.write_demo_package(Path(args.out) / demo.DEMO_SOURCE, args.seed)
        print(f"wrote the synthetic demo package to {folder}")
        return 0
    engine = get_engine(args.database)
    code = _print_result(demo.load_demo(engine, args.seed, actor=cli_actor()), "imported the synthetic demo alliance:")
    if code == 0:
        print(f"into {engine.url.render_as_string(hide_password=True)}")
    return code


def cmd_bench(args) -> int:
    from bench.run import StoreNotEmpty, format_report, run_bench

    try:
        report = run_bench(args.database, args.regions, args.outcome_rows, args.participation_rows,
                           args.out, args.keep, args.warm_runs)
    except StoreNotEmpty as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if report["import"]["ok"] else 1


def cmd_bench_load(args) -> int:
    import json
    from contextlib import nullcontext

    from bench import load

    if args.url:
        load.wait_healthy(args.url.rstrip("/"))
        port = int(args.url.rsplit(":", 1)[1].split("/")[0])
        started = nullcontext([(port, pid) for pid in args.server_pid or [None]])
    else:
        started = load.servers(args.processes, args.port, args.database, log=lambda m: print(m, file=sys.stderr))
    with started as running:
        ports = sorted({port for port, _ in running})
        pids = [pid for _, pid in running if pid is not None]
        if args.audience:
            url = load.audience_link(ports[0], args.page, args.query) if args.audience == "auto" else args.audience
            result = load.audience(url, args.sessions, pids, warm=not args.cold, browser=args.browser)
        else:
            result = load.live(ports, args.sessions, args.page, args.change, args.query, pids, warm=not args.cold)
    print(json.dumps(result))
    return 0 if result["failures"] == 0 and not result.get("exceptions") and not result.get("error_boxes") else 1


def cmd_snapshot(args) -> int:
    from data.snapshots import SnapshotError, delete_version
    from reports.board import freeze
    from domain.kpi import quarter_label

    engine = get_engine(args.database)
    upgrade(engine)
    try:
        if args.delete_version is not None:
            delete_version(engine, args.quarter, args.delete_version, actor=cli_actor())
            print(f"deleted version {args.delete_version} of {quarter_label(args.quarter)}")
            return 0
        payload = freeze(engine, args.quarter, note=args.note or "", actor=cli_actor())
    except (SnapshotError, ValueError) as exc:
        print(f"error: {exc}" + (" (use --note)" if "give a note" in str(exc) else ""), file=sys.stderr)
        return 1
    version = f" (version {payload['version']})" if payload["version"] > 1 else ""
    print(f"froze {quarter_label(args.quarter)}{version} on {payload['frozen_at'][:10]}: {payload['headline']['text']}")
    return 0


def cmd_report(args) -> int:
    from pathlib import Path

    from reports.packet import PacketError, make_packet

    engine = get_engine(args.database)
    try:
        packet = make_packet(engine, args.quarter, frozen=not args.live, progress=lambda m: print(f"… {m}"),
                             version=args.snapshot_version)
    except PacketError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    Path(args.out).write_bytes(packet.pdf)
    print(f"wrote {args.out}: {packet.pages} pages, {len(packet.pdf) / 1024:,.0f} KB in {packet.seconds:.1f} s")
    if packet.left_out:
        print("nothing to show (the packet says why): " + ", ".join(packet.left_out))
    return 0


def cmd_publish(args) -> int:
    from reports.publish import publish

    counts = publish(get_engine(args.database), args.out)
    print(f"wrote {args.out}: " + ", ".join(f"{name} {rows:,} rows" for name, rows in counts.items()) + ", README.md")
    return 0


def cmd_story(args) -> int:
    from pathlib import Path

    from data import stories
    from queries.stories import export_story, load_story, story_id_by_name, story_list

    engine = get_engine(args.database)
    upgrade(engine)
    if args.action == "list":
        for row in story_list(engine).itertuples(index=False):
            print(f"{row.name} ({row.steps} steps)")
        return 0
    if args.action == "export":
        story_id = story_id_by_name(engine, args.name)
        if story_id is None:
            print(f"error: no story called {args.name!r} (see `python cli.py story list`)", file=sys.stderr)
            return 1
        text = export_story(engine, story_id)
        if args.file in (None, "-"):
            sys.stdout.write(text)
        else:
            Path(args.file).write_text(text, encoding="utf-8")
            print(f"exported {args.name!r} to {args.file}")
        return 0
    try:
        story_id = stories.import_story(engine, Path(args.file).read_bytes(), name=args.name, actor=cli_actor())
    except (stories.StoryError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"imported {args.file} as story {load_story(engine, story_id).name!r}")
    return 0


def _read_password() -> str:
    """The password from standard input: typed twice at a terminal, else the first line (piped)."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Password: ")
        if getpass.getpass("The same password again: ") != first:
            raise AccountError("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_user(args) -> int:
    from data import auth

    engine = get_engine(args.database)
    upgrade(engine)
    try:
        if args.action == "list":
            for user in auth.list_users(engine):
                print(f"{user['username']}\t{user['role']}\tsince {str(user['created_at'])[:10]}")
            return 0
        if args.action == "add":
            auth.add_user(engine, args.name, _read_password(), args.role, actor=cli_actor())
            print(f"added {args.name} as {args.role.lower()}")
        elif args.action == "set-role":
            before = auth.set_role(engine, args.name, args.role, actor=cli_actor())
            print(f"{args.name}: {before} -> {args.role.lower()}")
        elif args.action == "password":
            auth.set_password(engine, args.name, _read_password(), actor=cli_actor())
            print(f"set a new password for {args.name}")
        else:
            auth.remove_user(engine, args.name, actor=cli_actor())
            print(f"removed {args.name}")
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_history(args) -> int:
    from data.history import history

    engine = get_engine(args.database)
    upgrade(engine)
    record = history(engine, limit=args.limit)
    if record.empty:
        print("nothing recorded yet")
    for row in record.itertuples(index=False):
        counts = row.details.get("row_counts") or {}
        total = sum(v if isinstance(v, int) else sum(v.values()) for v in counts.values()) if counts else None
        rows = f" ({total:,} rows)" if total is not None and row.action == "import" else ""
        print(f"{row.event_id}\t{str(row.at)[:19]}\t{row.actor}\t{row.action}\t{row.summary}{rows}")
    return 0


def cmd_undo(args) -> int:
    from data.history import UndoError, latest_undoable, undo_latest

    engine = get_engine(args.database)
    upgrade(engine)
    latest = latest_undoable(engine)
    if latest is not None and not args.yes:
        if not sys.stdin.isatty():
            print(f"error: undoing import {latest['import_id']} ({latest['source']}) needs --yes when not at a terminal",
                  file=sys.stderr)
            return 1
        answer = input(f"Undo import {latest['import_id']} ({latest['source']}, {str(latest['finished_at'])[:16]})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing undone")
            return 1
    try:
        done = undo_latest(engine, actor=cli_actor())
    except UndoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    changed = ", ".join(f"{t} -{c['removed']:,} +{c['restored']:,}" for t, c in done["row_counts"].items())
    print(f"undid import {done['import_id']} ({done['source']}): {changed}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description="Alliance dashboard: import and manage the data store.")
    commands = parser.add_subparsers(dest="command", required=True)

    imp = commands.add_parser("import", help="validate and import a data package (folder, .zip or .xlsx)")
    imp.add_argument("path")
    _add_database(imp)
    imp.set_defaults(func=cmd_import)

    val = commands.add_parser("validate", help="check a data package without writing anything")
    val.add_argument("path")
    val.add_argument("--database", metavar="URL", help="also check references against this store")
    val.set_defaults(func=cmd_validate)

    mig = commands.add_parser("migrate", help="create the schema or bring it up to date")
    _add_database(mig)
    mig.set_defaults(func=cmd_migrate)

    dem = commands.add_parser("demo", help="import the synthetic demo alliance (or, with --out, only write its package)")
    dem.add_argument("--seed", type=int, default=2025, help="random seed; the same seed gives the same data (default 2025)")
    dem.add_argument("--out", metavar="DIR", help="write the package folder into DIR instead of importing it")
    _add_database(dem)
    dem.set_defaults(func=cmd_demo)

    sto = commands.add_parser("story", help="list, export or import presentation stories (JSON files)")
    sto_actions = sto.add_subparsers(dest="action", required=True)
    sto_list = sto_actions.add_parser("list", help="list saved stories")
    _add_database(sto_list)
    sto_export = sto_actions.add_parser("export", help="write a story to a JSON file")
    sto_export.add_argument("name", help="the story's name")
    sto_export.add_argument("file", nargs="?", help="file to write (default: print it)")
    _add_database(sto_export)
    sto_import = sto_actions.add_parser("import", help="save a story file as a new story")
    sto_import.add_argument("file")
    sto_import.add_argument("--name", help="save it under this name instead of the file's")
    _add_database(sto_import)
    sto.set_defaults(func=cmd_story)
    snap = commands.add_parser("snapshot", help="freeze a quarter's board overview (e.g. 2025-Q3) so it never changes")
    snap.add_argument("quarter", help="quarter to freeze, YYYY-Qn")
    snap.add_argument("--note", help="why it is frozen (needed to freeze a frozen quarter again: that adds a version)")
    snap.add_argument("--delete-version", type=int, metavar="N", help="delete version N of the quarter's snapshot instead")
    _add_database(snap)
    snap.set_defaults(func=cmd_snapshot)

    usr = commands.add_parser("user", help="local accounts: add, list, set-role, password, remove")
    usr_actions = usr.add_subparsers(dest="action", required=True)
    usr_add = usr_actions.add_parser("add", help="add a user; the password is read from standard input")
    usr_add.add_argument("name")
    usr_add.add_argument("--role", required=True, help="viewer, presenter, editor or admin")
    usr_list = usr_actions.add_parser("list", help="list users and their roles")
    usr_role = usr_actions.add_parser("set-role", help="change a user's role")
    usr_role.add_argument("name")
    usr_role.add_argument("role", help="viewer, presenter, editor or admin")
    usr_password = usr_actions.add_parser("password", help="set a user's password (read from standard input)")
    usr_password.add_argument("name")
    usr_remove = usr_actions.add_parser("remove", help="remove a user")
    usr_remove.add_argument("name")
    for sub in (usr_add, usr_list, usr_role, usr_password, usr_remove):
        _add_database(sub)
    usr.set_defaults(func=cmd_user)

    his = commands.add_parser("history", help="the record: imports, undos, freezes, user changes (newest first)")
    his.add_argument("--limit", type=int, default=50, help="how many entries (default 50)")
    _add_database(his)
    his.set_defaults(func=cmd_history)

    und = commands.add_parser("undo", help="undo the latest import (then the one before it, and so on)")
    und.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_database(und)
    und.set_defaults(func=cmd_undo)

    rep = commands.add_parser("report", help="write the board packet PDF of a quarter")
    rep.add_argument("--quarter", help="YYYY-Qn (default: the latest with data)")
    rep.add_argument("--out", default="board-packet.pdf", help="PDF file to write (default board-packet.pdf)")
    rep.add_argument("--live", action="store_true", help="use live figures even if the quarter was frozen")
    rep.add_argument("--snapshot-version", type=int, metavar="N", help="that version of a quarter frozen more than once (default: the latest)")
    _add_database(rep)
    rep.set_defaults(func=cmd_report)

    pub = commands.add_parser("publish", help="write the public data file (outcomes, participation, pathways as the dashboard shows them) into a folder")
    pub.add_argument("--out", required=True, metavar="DIR", help="folder to write (created if need be)")
    _add_database(pub)
    pub.set_defaults(func=cmd_publish)

    ben = commands.add_parser("bench", help="generate a state-scale package, import it and time the import and every page's queries")
    ben.add_argument("--database", metavar="URL", help="an EMPTY store to import into (default: a new temporary SQLite file)")
    ben.add_argument("--regions", type=int, default=2000, help="real counties in the package (default 2000)")
    ben.add_argument("--outcome-rows", type=int, default=5_000_000, help="at least this many outcome rows (default 5,000,000)")
    ben.add_argument("--participation-rows", type=int, default=2_000_000, help="at least this many participation rows (default 2,000,000)")
    ben.add_argument("--warm-runs", type=int, default=5, help="warm runs of each query, the median is reported (default 5)")
    ben.add_argument("--out", default="bench/results/latest.json", help="JSON report (default bench/results/latest.json)")
    ben.add_argument("--keep", metavar="PACKAGE_DIR", help="write the package here and keep it; reused when it matches")
    ben.set_defaults(func=cmd_bench)
    ben_actions = ben.add_subparsers(dest="bench_action")
    lod = ben_actions.add_parser("load", help="many sessions at once: first view, filter change, server CPU per run")
    lod.add_argument("--sessions", type=int, default=50, help="sessions (or phones, with --audience) at once (default 50)")
    lod.add_argument("--page", default="gaps", help="page url path, '' for the overview (default gaps)")
    lod.add_argument("--change", default="Area", metavar="LABEL", help="change the select box whose label has this (default Area; '' for none)")
    lod.add_argument("--query", default="", help="query string the sessions open, e.g. 'present=1&chart=gaps'")
    lod.add_argument("--processes", type=int, default=1, help="dashboard processes to start (default 1)")
    lod.add_argument("--port", type=int, default=8650, help="first port of the started processes (default 8650)")
    lod.add_argument("--url", help="measure a dashboard already running here instead of starting one")
    lod.add_argument("--server-pid", type=int, action="append", help="with --url: count these processes' CPU")
    lod.add_argument("--audience", metavar="URL", help="fetch this audience page and its files instead of opening sessions ('auto': the one --page and --query share)")
    lod.add_argument("--browser", action="store_true", help="with --audience: also time the first chart drawn in headless chromium meanwhile")
    lod.add_argument("--cold", action="store_true", help="no warm-up session first")
    _add_database(lod)
    lod.set_defaults(func=cmd_bench_load)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a database that is down must read as a sentence, not a traceback
        from sqlalchemy.exc import OperationalError, SQLAlchemyError

        from alembic.util.exc import CommandError

        if isinstance(exc, CommandError):  # e.g. a store written by a newer version of the dashboard
            print(f"error: the store's schema cannot be upgraded by this version: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, (OperationalError, SQLAlchemyError)):
            message = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            print(f"error: the database could not be used: {message}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
