"""The benchmark harness at a tiny scale: it generates a valid package, imports it and reports
import rates and page query timings (correctness of the harness, not speed)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

import cli
from bench import generate, run
from data.importer import validate

TINY = {"regions": 30, "outcome_rows": 3000, "participation_rows": 2000}


@pytest.fixture(scope="module")
def tiny_package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench") / "package"
    return generate.generate_package(folder, **TINY)


def test_generated_package_is_valid_and_real(tiny_package):
    assert tiny_package.regions == 30
    counts = tiny_package.row_counts
    assert counts["outcomes"] >= 3000 and counts["participation"] >= 2000
    assert {"regions", "partners", "programs", "program_sites", "participation", "indicators", "outcomes",
            "pathway", "targets", "groups"} <= set(counts)
    package, result = validate(tiny_package.path)
    assert result.problems == []
    assert package is not None and result.row_counts == counts
    regions = package.frames["regions"]
    assert regions["geometry_source"].eq("county").all()  # real FIPS codes: built-in boundaries attached
    sites = package.frames["program_sites"]
    assert sites["latitude"].notna().any()  # some sites carry coordinates, inside their county
    outcomes = pd.read_csv(f"{tiny_package.path}/outcomes.csv", dtype=str, keep_default_na=False)
    assert outcomes["numerator"].isin(["*", "<10", "PS"]).any()  # suppressed counts, as real files write them
    assert outcomes["rate"].str.match(r"^(GE|LT)?\d").any()  # and range-coded rates
    years = sorted(outcomes["school_year"].unique())
    assert len(years) == 10 and years[0] == "2015-16"
    quarters = pd.read_csv(f"{tiny_package.path}/participation.csv", dtype=str)["quarter"].unique()
    assert len(quarters) == 40


def test_generation_is_deterministic(tiny_package, tmp_path):
    again = generate.generate_package(tmp_path / "again", **TINY)
    for name in tiny_package.row_counts:
        first = (generate.Path(tiny_package.path) / f"{name}.csv").read_bytes()
        assert (tmp_path / "again" / f"{name}.csv").read_bytes() == first, name
    assert generate.reuse_package(tmp_path / "again", **TINY) is not None
    assert generate.reuse_package(tmp_path / "again", **{**TINY, "regions": 31}) is None


def test_bench_reports_import_rates_and_page_timings(tmp_path, capsys):
    out = tmp_path / "result.json"
    code = cli.main(["bench", "--database", f"sqlite:///{tmp_path / 'store.db'}", "--regions", "30",
                     "--outcome-rows", "3000", "--participation-rows", "2000", "--warm-runs", "2",
                     "--out", str(out), "--keep", str(tmp_path / "package")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    report = json.loads(out.read_text())

    assert report["database"]["dialect"] == "sqlite"
    assert report["machine"]["cpus"] >= 1
    imported = report["import"]
    assert imported["ok"] and imported["rows"] == report["package"]["rows"]
    assert imported["rows_per_second"] > 0 and imported["cpu_seconds"] > 0
    for name in ("regions", "outcomes", "participation", "pathway"):
        table = imported["tables"][name]
        assert table["rows"] > 0 and table["rows_per_second"] > 0
        assert table["read_seconds"] is not None and table["parse_seconds"] is not None and table["write_seconds"] is not None
    assert "validate (read, parse, check)" in imported["phases"]
    assert report["store_rows"]["outcomes"] == report["package"]["row_counts"]["outcomes"]

    store = {entry["query"]: entry for entry in report["pages"]["store"]}
    assert set(store) == {name for name, _ in run.PAGE_QUERIES["store"]}
    for entry in store.values():
        assert "error" not in entry, entry
        assert entry["cold_ms"] >= 0 and entry["warm_ms"] >= 0 and entry["warm_runs"] == 2
    assert store["latest quarter"]["result_size"] is None
    assert "import" in printed and "rows/s" in printed and "latest school year" in printed

    # Same settings and --keep: the package is reused, and a store with data is refused.
    again = cli.main(["bench", "--database", f"sqlite:///{tmp_path / 'store.db'}", "--regions", "30",
                      "--outcome-rows", "3000", "--participation-rows", "2000", "--out", str(out),
                      "--keep", str(tmp_path / "package")])
    assert again == 2
    assert "already holds data" in capsys.readouterr().err


def test_every_page_lists_its_queries_and_a_broken_one_is_reported():
    calls = []

    def broken():
        raise ImportError("no module named queries.missing")

    pages = {"probe": lambda: [("probe: count regions", lambda engine: calls.append(engine) or 1)], "missing": broken}
    registry, failed = run.page_queries(pages)
    assert [name for name, _ in registry["probe"]] == ["probe: count regions"]
    assert "store" in registry and "missing" not in registry
    assert failed == {"missing": "ImportError: no module named queries.missing"}
    registry["probe"][0][1]("engine")
    assert calls == ["engine"]


def test_every_page_is_benchmarked():
    registry, failed = run.page_queries()
    assert failed == {}
    assert set(registry) == {"store", "coverage", "gaps", "overview", "pathways"}
    assert all(callable(query) for entries in registry.values() for _, query in entries)
