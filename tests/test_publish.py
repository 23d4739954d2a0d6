"""The public data file (`cli.py publish`, docs/public-file.md): the columns and statuses the
contract names, hidden values blank and never zero, figures as the dashboard's queries return
them, and the protection in force named in its README."""
from __future__ import annotations

import io
import math
import zipfile

import pandas as pd
import pytest

from tests.packages import VALID_PACKAGE, write_package


@pytest.fixture
def published(tmp_path, monkeypatch):
    import cli

    monkeypatch.delenv("ALLIANCE_DISCLOSURE_POLICY", raising=False)
    monkeypatch.delenv("SUPPRESSION_THRESHOLD", raising=False)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    files = dict(VALID_PACKAGE)
    files["outcomes.csv"] += ("grad4,47037,2023-24,not_econ_disadvantaged,2500,2600,\n"
                              "grad4,47037,2023-24,english_learner,5,40,\n"
                              "grad4,47037,2023-24,not_english_learner,5095,5960,\n")
    assert cli.main(["import", str(write_package(tmp_path / "package", files)), "--database", url]) == 0
    assert cli.main(["publish", "--out", str(tmp_path / "public"), "--database", url]) == 0
    return tmp_path / "public", url


def _read(folder, name):
    return pd.read_csv(folder / name, dtype={"area": str, "school_year": str, "quarter": str})


def test_the_files_and_their_columns(published):
    folder, _ = published
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "outcomes.csv", "participation.csv", "pathways.csv"]
    outcomes = _read(folder, "outcomes.csv")
    assert list(outcomes.columns) == ["indicator_id", "school_year", "area", "student_group", "denominator", "numerator",
                                      "rate", "rate_low", "rate_high", "status"]
    assert list(_read(folder, "participation.csv").columns) == ["quarter", "area", "student_group", "participants", "status"]
    assert list(_read(folder, "pathways.csv").columns) == ["cohort", "area", "student_group", "stage_order", "stage",
                                                            "students", "status"]
    assert set(outcomes["area"]) >= {"alliance", "rural", "nonrural", "47037", "47015"}
    assert set(outcomes["status"]) <= {"shown", "banded", "suppressed", "suppressed_at_source", "not_reported"}
    assert not (folder / "outcomes.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # no byte-order mark


def test_hidden_values_are_blank_never_zero(published):
    folder, _ = published
    outcomes = _read(folder, "outcomes.csv").set_index(["area", "student_group"])
    hidden = outcomes[outcomes["status"].isin(["suppressed", "suppressed_at_source"])]
    assert len(hidden) and hidden[["denominator", "numerator", "rate", "rate_low", "rate_high"]].isna().all().all()
    source = outcomes.loc[("47015", "english_learner")]
    assert source["status"] == "suppressed_at_source"
    # 5 of 40 meeting the measure: a band, never the rate that gives the 5 back
    small = outcomes.loc[("47037", "english_learner")]
    assert small["status"] == "banded" and small["denominator"] == 40
    assert math.isnan(small["numerator"]) and math.isnan(small["rate"])
    assert small["rate_low"] == 0 and small["rate_high"] >= 9 / 40 * 100
    for name, column in (("participation.csv", "participants"), ("pathways.csv", "students")):
        table = _read(folder, name)
        assert table.loc[table["status"] == "suppressed", column].isna().all()
        assert (table["status"] == "suppressed").any()


def test_figures_are_the_dashboards(published, monkeypatch):
    from data.db import get_engine
    from domain.scope import ALLIANCE
    from queries.gaps import group_rates

    folder, url = published
    outcomes = _read(folder, "outcomes.csv")
    rates = group_rates(get_engine(url), ("grad4",), ALLIANCE, ("2023-24",)).set_index("student_group")
    alliance = outcomes[(outcomes["area"] == "alliance") & (outcomes["indicator_id"] == "grad4")].set_index("student_group")
    for group, row in alliance.iterrows():
        expected = rates.loc[group]
        for column in ("denominator", "rate_low", "rate_high"):
            assert (math.isnan(row[column]) and math.isnan(expected[column])) or row[column] == expected[column]
    # one decimal, never full precision
    rates_text = (folder / "outcomes.csv").read_text(encoding="utf-8")
    assert all(len(cell.split(".")[1]) <= 1 for line in rates_text.splitlines()[1:]
               for cell in line.split(",")[6:9] if "." in cell)


def test_the_readme_names_the_protection_in_force(published):
    from domain.suppression import protection_width

    folder, _ = published
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert "Threshold: 10" in text and "`bands`" in text and f"Protection width: {protection_width(10)}" in text


def test_the_counts_policy_bands_nothing(tmp_path, monkeypatch, published):
    from data.db import get_engine
    from reports.publish import public_zip

    _, url = published
    monkeypatch.setenv("ALLIANCE_DISCLOSURE_POLICY", "counts")
    archive = zipfile.ZipFile(io.BytesIO(public_zip(get_engine(url))))
    assert sorted(n.split("/")[-1] for n in archive.namelist()) == ["README.md", "outcomes.csv", "participation.csv",
                                                                     "pathways.csv"]
    outcomes = pd.read_csv(archive.open("alliance-public-data/outcomes.csv"), dtype={"area": str})
    assert "banded" not in set(outcomes["status"])
    assert "`counts`" in archive.read("alliance-public-data/README.md").decode()
