"""The benchmark: generate a state-network-scale package, import it, time every page's queries.

`python cli.py bench [--database URL] [--regions 2000] [--out bench/results/latest.json]
[--keep PACKAGE_DIR]`

Import: rows per second overall and per table (reading, parsing and checking, writing), the
phases of the import, wall and CPU seconds (the CPU figure is what to compare between runs on a
shared machine; the load average is recorded beside it).

Page queries: `bench/pages.py` lists each page's as `[(name, callable)]`, each callable taking
an Engine. The harness adds the generic store queries below (PAGE_QUERIES["store"]), and times
each query twice over: cold, the first
run on a new engine (new connections: SQLite starts with an empty page cache; the operating
system's file cache and PostgreSQL's shared buffers stay warm), and warm, the median of
`warm_runs` runs on one engine.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, func, select, text

from bench.generate import SEED, generate_package, reuse_package
from bench.pages import PAGES, PageQuery

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
DATA_TABLES = ("regions", "partners", "programs", "program_sites", "participation", "indicators", "outcomes",
               "pathway", "targets", "student_groups")


# --- the queries --------------------------------------------------------------------------

def _table_counts(engine: Engine) -> dict[str, int]:
    from data.schema import metadata

    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one()
                for name in DATA_TABLES}


def _scalar(sql: str) -> Callable[[Engine], object]:
    def run(engine: Engine):
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    return run


def _rows(sql: str) -> Callable[[Engine], object]:
    def run(engine: Engine):
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    return run


# Queries every page leans on. Each page's own are in bench/pages.py.
PAGE_QUERIES: dict[str, list[PageQuery]] = {
    "store": [
        ("rows per table", _table_counts),
        ("latest quarter", _scalar("SELECT MAX(quarter) FROM participation")),
        ("latest school year", _scalar("SELECT MAX(school_year) FROM outcomes")),
        ("region list", _rows("SELECT region_id, name, locale FROM regions ORDER BY name")),
        ("participants per quarter, all students", _rows(
            "SELECT quarter, SUM(participants) FROM participation WHERE student_group = 'all' GROUP BY quarter")),
        ("pooled rate per indicator, latest year, all students", _rows(
            "SELECT indicator_id, SUM(numerator), SUM(denominator) FROM outcomes "
            "WHERE school_year = (SELECT MAX(school_year) FROM outcomes) AND student_group = 'all' "
            "AND NOT numerator_suppressed AND NOT denominator_suppressed GROUP BY indicator_id")),
    ],
}


def page_queries(pages: dict[str, Callable[[], list[PageQuery]]] | None = None,
                 ) -> tuple[dict[str, list[PageQuery]], dict[str, str]]:
    """Every page's benchmark queries, and the pages whose queries could not be listed (with why).

    `pages`: page name -> function listing its queries; by default `bench.pages.PAGES`."""
    registry = {page: list(entries) for page, entries in PAGE_QUERIES.items()}
    failed: dict[str, str] = {}
    for name, listing in sorted((pages if pages is not None else PAGES).items()):
        try:
            entries = listing()
        except Exception as exc:  # a broken page module is reported, not fatal to the benchmark
            failed[name] = f"{type(exc).__name__}: {exc}"
            continue
        registry[name] = [(str(label), query) for label, query in entries]
    return registry, failed


# --- timing the import --------------------------------------------------------------------

def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes (the import may decide
    suppression in worker processes)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system

@dataclass
class _Clock:
    wall: float = 0.0
    cpu: float = 0.0


class ImportClock:
    """Times the import's steps by wrapping the functions it calls (reading a CSV, parsing a
    table, writing a table, rebuilding a rollup). A function that is not there (renamed,
    removed) is simply not timed."""

    def __init__(self):
        self.read: dict[str, _Clock] = {}
        self.parse: dict[str, _Clock] = {}
        self.write: dict[str, _Clock] = {}
        self.phases: dict[str, _Clock] = {}

    @contextmanager
    def installed(self):
        import data.importer as importer
        import data.package as package

        with ExitStack() as stack:
            stack.enter_context(self._wrap(package, "_read_csv", self.read, lambda a, k: a[0]))
            stack.enter_context(self._wrap(importer, "_parse_table", self.parse, lambda a, k: a[0].name))
            stack.enter_context(self._wrap(importer, "write_rows", self.write, lambda a, k: a[1].name))
            stack.enter_context(self._wrap(importer, "validate", self.phases, lambda a, k: "validate (read, parse, check)"))
            for name in dir(importer):
                if name.startswith("rebuild_") and callable(getattr(importer, name)):
                    stack.enter_context(self._wrap(importer, name, self.phases, lambda a, k, n=name: n))
            from data.rollup import OutcomeRebuild  # started before the writes, finished after them

            stack.enter_context(self._wrap(OutcomeRebuild, "__init__", self.phases,
                                           lambda a, k: "outcome rollup (started before writes)"))
            stack.enter_context(self._wrap(OutcomeRebuild, "finish", self.phases,
                                           lambda a, k: "outcome rollup (finished after writes)"))
            import data.db as db  # import_package imports `upgrade` from data.db when it runs

            stack.enter_context(self._wrap(db, "upgrade", self.phases, lambda a, k: "schema upgrade"))
            yield self

    @staticmethod
    @contextmanager
    def _wrap(module, attribute: str, into: dict[str, _Clock], key_of):
        original = getattr(module, attribute, None)
        if original is None:
            yield
            return

        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), cpu_seconds()
            try:
                return original(*args, **kwargs)
            finally:
                clock = into.setdefault(key_of(args, kwargs), _Clock())
                clock.wall += time.perf_counter() - wall
                clock.cpu += cpu_seconds() - cpu

        setattr(module, attribute, timed)
        try:
            yield
        finally:
            setattr(module, attribute, original)


STORE_TABLE = {"groups": "student_groups"}  # package file -> store table, where they differ


def _import(package_dir: str, engine: Engine) -> dict:
    from data import geography
    from data.importer import import_package

    geography._county_features.cache_clear()  # noqa: SLF001 - an import pays for reading the county file
    clock = ImportClock()
    load_before = _load()
    wall, cpu = time.perf_counter(), cpu_seconds()
    with clock.installed():
        result = import_package(package_dir, engine)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    tables = {}
    for name, rows in result.row_counts.items():
        store = STORE_TABLE.get(name, name)
        parts = {"read": clock.read.get(name), "parse": clock.parse.get(name), "write": clock.write.get(store)}
        seconds = sum(c.wall for c in parts.values() if c)
        tables[name] = {
            "rows": rows,
            **{f"{k}_seconds": round(c.wall, 3) if c else None for k, c in parts.items()},
            "seconds": round(seconds, 3),
            "cpu_seconds": round(sum(c.cpu for c in parts.values() if c), 3),
            "rows_per_second": round(rows / seconds) if seconds > 0 else None,
        }
    return {
        "ok": result.ok,
        "problems": [str(p) for p in result.problems[:20]],
        "problem_count": len(result.problems),
        "warnings": result.warnings[:20],
        "rows": result.rows,
        "seconds": round(result.seconds, 3),  # as `cli.py import` reports it: validation + writing
        "rows_per_second": round(result.rows / result.seconds) if result.seconds > 0 else None,
        "wall_seconds": round(wall, 3),  # everything, schema upgrade included
        "cpu_seconds": round(cpu, 3),
        "rows_per_cpu_second": round(result.rows / cpu) if cpu > 0 else None,
        "load_average_before": load_before,
        "load_average_after": _load(),
        "phases": {name: {"seconds": round(c.wall, 3), "cpu_seconds": round(c.cpu, 3)} for name, c in clock.phases.items()},
        "tables": tables,
    }


# --- timing the pages ---------------------------------------------------------------------

def _size(value) -> int | None:
    """Rows (or items) a query returned; None for a single value."""
    if isinstance(value, (str, bytes)):
        return None
    try:
        return len(value)
    except TypeError:
        return None


def _time_queries(url: str, registry: dict[str, list[PageQuery]], warm_runs: int) -> dict[str, list[dict]]:
    from data.db import get_engine

    fresh = get_engine.__wrapped__  # the same engine set-up, without the per-process cache
    shared = fresh(url)
    pages: dict[str, list[dict]] = {}
    try:
        for page, entries in registry.items():
            pages[page] = []
            for name, query in entries:
                entry: dict = {"query": name}
                try:
                    cold_engine = fresh(url)
                    try:
                        started = time.perf_counter()
                        value = query(cold_engine)
                        entry["cold_ms"] = round((time.perf_counter() - started) * 1000, 2)
                    finally:
                        cold_engine.dispose()
                    runs = []
                    for _ in range(max(1, warm_runs)):
                        started = time.perf_counter()
                        value = query(shared)
                        runs.append((time.perf_counter() - started) * 1000)
                    entry["warm_ms"] = round(statistics.median(runs), 2)
                    entry["warm_runs"] = len(runs)
                    entry["result_size"] = _size(value)
                except Exception as exc:  # one failing query must not hide the others' timings
                    entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    entry["traceback"] = traceback.format_exc(limit=3)
                pages[page].append(entry)
    finally:
        shared.dispose()
    return pages


# --- the machine --------------------------------------------------------------------------

def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _machine() -> dict:
    info = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "processor": platform.processor() or None,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    import numpy
    import pandas
    import pyarrow
    import sqlalchemy
    import sqlite3

    info["versions"] = {"pandas": pandas.__version__, "numpy": numpy.__version__, "pyarrow": pyarrow.__version__,
                        "sqlalchemy": sqlalchemy.__version__, "sqlite": sqlite3.sqlite_version}
    return info


def _database(engine: Engine) -> dict:
    info = {"dialect": engine.dialect.name, "driver": engine.dialect.driver,
            "url": engine.url.render_as_string(hide_password=True)}
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                info["server_version"] = conn.execute(text("SHOW server_version")).scalar()
            elif engine.dialect.name == "sqlite":
                info["server_version"] = conn.execute(text("SELECT sqlite_version()")).scalar()
    except Exception as exc:
        info["server_version_error"] = str(exc).splitlines()[0]
    return info


# --- the whole run ------------------------------------------------------------------------

class StoreNotEmpty(Exception):
    pass


def run_bench(database: str | None = None, regions: int = 2000, outcome_rows: int = 5_000_000,
              participation_rows: int = 2_000_000, out: str | Path | None = DEFAULT_OUT, keep: str | Path | None = None,
              warm_runs: int = 5, seed: int = SEED, log: Callable[[str], None] = print) -> dict:
    """Generate (or reuse, with `keep`), import and time; write the JSON report to `out`.

    `database`: a store URL; by default a new SQLite file in a temporary folder, deleted after.
    The store must hold no regions yet: the benchmark adds millions of synthetic rows."""
    from data.db import get_engine

    report: dict = {"bench_version": 1, "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "machine": _machine()}
    with ExitStack() as cleanup:
        scratch = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="alliance-bench-")))
        url = database or f"sqlite:///{scratch / 'bench.db'}"
        engine = get_engine.__wrapped__(url)  # not the process-wide cached engine: disposed below
        cleanup.callback(engine.dispose)
        _require_empty(engine)
        report["database"] = _database(engine)

        settings = {"regions": regions, "outcome_rows": outcome_rows, "participation_rows": participation_rows, "seed": seed}
        package_dir = Path(keep) if keep else scratch / "package"
        generated = reuse_package(package_dir, **settings, located_share=0.1) if keep else None
        if generated is None:
            if keep and package_dir.exists() and any(package_dir.iterdir()):
                shutil.rmtree(package_dir)  # an older or different benchmark package
            log(f"generating a package of {regions:,} regions into {package_dir} …")
            generated = generate_package(package_dir, **settings)
            log(f"  {generated.rows:,} rows, {generated.bytes / 1e6:,.0f} MB in {generated.seconds:.1f} s")
        else:
            log(f"reusing the package in {package_dir} ({generated.rows:,} rows)")
        report["package"] = {
            "path": str(package_dir) if keep else None, "kept": bool(keep), "reused": generated.reused,
            "regions": generated.regions, "seed": generated.seed, "rows": generated.rows,
            "row_counts": generated.row_counts, "bytes": generated.bytes,
            "generate_seconds": round(generated.seconds, 3),
        }

        log(f"importing into {report['database']['url']} …")
        report["import"] = _import(str(package_dir), engine)
        if not report["import"]["ok"]:
            log(f"  the package was rejected: {report['import']['problem_count']} problem(s), first: "
                f"{(report['import']['problems'] or ['?'])[0]}")
        report["store_rows"] = _table_counts(engine)

        registry, failed = page_queries()
        log(f"timing {sum(len(v) for v in registry.values())} page queries (cold, then median of {warm_runs} warm) …")
        report["pages"] = _time_queries(url, registry, warm_runs)
        report["page_modules_failed"] = failed
        report["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if out:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, default=str) + "\n")
        report["out"] = str(out)
    return report


def _require_empty(engine: Engine) -> None:
    from data.db import current_revision

    if current_revision(engine) is None:
        return
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM regions LIMIT 1")).first() is not None:
            raise StoreNotEmpty(
                f"{engine.url.render_as_string(hide_password=True)} already holds data; the benchmark imports "
                "millions of synthetic rows, so give it an empty store (or leave out --database)")


# --- the readable table -------------------------------------------------------------------

def format_report(report: dict) -> str:
    lines = []
    machine, db, package, imported = report["machine"], report["database"], report["package"], report["import"]
    lines.append(f"machine   {machine.get('processor')}, {machine.get('cpus')} CPUs, {machine.get('memory_gb')} GB, "
                 f"Python {machine.get('python')}, load {imported.get('load_average_before')} -> {imported.get('load_average_after')}")
    lines.append(f"database  {db['dialect']} {db.get('server_version', '')} ({db['url']})")
    lines.append(f"package   {package['regions']:,} regions, {package['rows']:,} rows, {package['bytes'] / 1e6:,.0f} MB, "
                 f"generated in {package['generate_seconds']:.1f} s{' (reused)' if package['reused'] else ''}")
    status = "imported" if imported["ok"] else f"REJECTED ({imported['problem_count']} problems)"
    lines.append(f"import    {status}: {imported['rows']:,} rows in {imported['seconds']:.1f} s = "
                 f"{imported['rows_per_second'] or 0:,} rows/s  (wall {imported['wall_seconds']:.1f} s, "
                 f"CPU {imported['cpu_seconds']:.1f} s = {imported['rows_per_cpu_second'] or 0:,} rows per CPU second)")
    lines.append("")
    lines.append(f"  {'table':<16}{'rows':>12}{'read s':>9}{'parse s':>9}{'write s':>9}{'total s':>9}{'rows/s':>12}")
    for name, t in imported["tables"].items():
        def fmt(v):
            return f"{v:9.2f}" if v is not None else f"{'-':>9}"
        lines.append(f"  {name:<16}{t['rows']:>12,}{fmt(t['read_seconds'])}{fmt(t['parse_seconds'])}{fmt(t['write_seconds'])}"
                     f"{fmt(t['seconds'])}{(t['rows_per_second'] or 0):>12,}")
    if imported["phases"]:
        lines.append("")
        lines.append(f"  {'phase':<40}{'wall s':>9}{'CPU s':>9}")
        for name, p in imported["phases"].items():
            lines.append(f"  {name:<40}{p['seconds']:9.2f}{p['cpu_seconds']:9.2f}")
    lines.append("")
    lines.append(f"  {'page':<12}{'query':<58}{'cold ms':>10}{'warm ms':>10}")
    for page, entries in report["pages"].items():
        for entry in entries:
            if "error" in entry:
                lines.append(f"  {page:<12}{entry['query'][:57]:<58}  ERROR {entry['error'][:60]}")
            else:
                lines.append(f"  {page:<12}{entry['query'][:57]:<58}{entry['cold_ms']:10.1f}{entry['warm_ms']:10.1f}")
    for page, why in report.get("page_modules_failed", {}).items():
        lines.append(f"  {page}: its queries could not be listed: {why[:100]}")
    if report.get("out"):
        lines.append("")
        lines.append(f"written to {report['out']}")
    return "\n".join(lines)
