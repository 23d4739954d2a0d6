"""Command line for data stewards: `python cli.py --help`.

Every command takes `--database URL` (default: DATABASE_URL, else the embedded SQLite store).
"""
from __future__ import annotations

import argparse
import sys

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
    result = import_package(args.path, engine)
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
    code = _print_result(demo.load_demo(engine, args.seed), "imported the synthetic demo alliance:")
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


def cmd_snapshot(args) -> int:
    from domain.kpi import quarter_label
    from queries.overview import freeze

    engine = get_engine(args.database)
    try:
        payload = freeze(engine, args.quarter)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"froze {quarter_label(args.quarter)} on {payload['frozen_at'][:10]}: {payload['headline']['text']}")
    return 0


def cmd_report(args) -> int:
    from pathlib import Path

    from reports.packet import PacketError, make_packet

    engine = get_engine(args.database)
    try:
        packet = make_packet(engine, args.quarter, frozen=not args.live, progress=lambda m: print(f"… {m}"))
    except PacketError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    Path(args.out).write_bytes(packet.pdf)
    print(f"wrote {args.out}: {packet.pages} pages, {len(packet.pdf) / 1024:,.0f} KB in {packet.seconds:.1f} s")
    if packet.left_out:
        print("nothing to show (the packet says why): " + ", ".join(packet.left_out))
    return 0


def cmd_story(args) -> int:
    from pathlib import Path

    from data import stories
    from queries.stories import story_id_by_name, story_list

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
        text = stories.export_story(engine, story_id)
        if args.file in (None, "-"):
            sys.stdout.write(text)
        else:
            Path(args.file).write_text(text, encoding="utf-8")
            print(f"exported {args.name!r} to {args.file}")
        return 0
    try:
        story_id = stories.import_story(engine, Path(args.file).read_bytes(), name=args.name)
    except (stories.StoryError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    from queries.stories import load_story

    print(f"imported {args.file} as story {load_story(engine, story_id).name!r}")
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
    _add_database(snap)
    snap.set_defaults(func=cmd_snapshot)

    rep = commands.add_parser("report", help="write the board packet PDF of a quarter")
    rep.add_argument("--quarter", help="YYYY-Qn (default: the latest with data)")
    rep.add_argument("--out", default="board-packet.pdf", help="PDF file to write (default board-packet.pdf)")
    rep.add_argument("--live", action="store_true", help="use live figures even if the quarter was frozen")
    _add_database(rep)
    rep.set_defaults(func=cmd_report)

    ben = commands.add_parser("bench", help="generate a state-scale package, import it and time the import and every page's queries")
    ben.add_argument("--database", metavar="URL", help="an EMPTY store to import into (default: a new temporary SQLite file)")
    ben.add_argument("--regions", type=int, default=2000, help="real counties in the package (default 2000)")
    ben.add_argument("--outcome-rows", type=int, default=5_000_000, help="at least this many outcome rows (default 5,000,000)")
    ben.add_argument("--participation-rows", type=int, default=2_000_000, help="at least this many participation rows (default 2,000,000)")
    ben.add_argument("--warm-runs", type=int, default=5, help="warm runs of each query, the median is reported (default 5)")
    ben.add_argument("--out", default="bench/results/latest.json", help="JSON report (default bench/results/latest.json)")
    ben.add_argument("--keep", metavar="PACKAGE_DIR", help="write the package here and keep it; reused when it matches")
    ben.set_defaults(func=cmd_bench)
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
