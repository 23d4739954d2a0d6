"""An attacker written apart from the suppression engine and its audit (domain/suppression.py,
domain/audit.py): hostile tables are imported through the real import, `cli.py publish` writes
the public data file, and a linear program over that file's rows alone (scipy's HiGHS) finds
the smallest and largest value every protected count could take. Each range must be at least
the protection width wide (docs/privacy.md, "The attacker").

What the attacker uses (docs/privacy.md): every shown value; a rate at one decimal holds its
numerator to within half a tenth of a percent of its students; a band holds it inside the band
(and, as the rules say, a band that is not the whole 0-100% stands for a small count of 1 or
more); suppressed cells are not zero (zeros show); counts are whole numbers, at least 0, and a
numerator is at most its denominator; a region's group and its complement add up to its all
students, for students and for the numbers meeting the measure; pooled totals (rural,
non-rural, alliance) are the sums of their regions' cells that are not suppressed at source.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

PAIRS = (("econ_disadvantaged", "not_econ_disadvantaged"), ("female", "male"))
GROUPS = ("all", *[g for pair in PAIRS for g in pair])
LIMIT = 10
AGGREGATES = ("alliance", "rural", "nonrural")
REGIONS = {"47037": "city", "47149": "suburb", "47015": "rural", "47041": "rural", "47061": "rural"}
POOLED = ("shown", "banded", "suppressed")


def _region(letter: str) -> str:
    return {"R0": "47037", "R1": "47015", "R2": "47041", "R3": "47149", "R4": "47061"}[letter]


# Hostile tables: {region: {group: (numerator, denominator)}}, "*" for suppressed at source.
TABLES = {
    # Large groups, a few students meeting (or not meeting) the measure: "25.0% of 20".
    "small_numerators": {
        "R0": {"all": (300, 600), "econ_disadvantaged": (5, 20), "not_econ_disadvantaged": (295, 580), "female": (150, 290), "male": (150, 310)},
        "R1": {"all": (70, 120), "econ_disadvantaged": (40, 60), "not_econ_disadvantaged": (30, 60), "female": (3, 50), "male": (67, 70)},
        "R2": {"all": (97, 100), "econ_disadvantaged": (47, 50), "not_econ_disadvantaged": (50, 50), "female": (48, 50), "male": (49, 50)},
        "R3": {"all": (400, 800), "econ_disadvantaged": (200, 400), "not_econ_disadvantaged": (200, 400), "female": (210, 410), "male": (190, 390)},
    },
    # Zero rows everywhere around small ones: shown zeros tell the attacker every hidden cell
    # beside them is at least 1.
    "zero_rows": {
        "R0": {"all": (0, 0), "econ_disadvantaged": (0, 0), "not_econ_disadvantaged": (0, 0), "female": (0, 0), "male": (0, 0)},
        "R1": {"all": (20, 34), "econ_disadvantaged": (2, 3), "not_econ_disadvantaged": (18, 31), "female": (10, 17), "male": (10, 17)},
        "R2": {"all": (9, 40), "econ_disadvantaged": (0, 0), "not_econ_disadvantaged": (9, 40), "female": (4, 20), "male": (5, 20)},
        "R4": {"all": (55, 60), "econ_disadvantaged": (30, 30), "not_econ_disadvantaged": (25, 30), "female": (0, 0), "male": (55, 60)},
    },
    # Groups of 10 to 18 students, where any number meeting the measure but none or all is small.
    "small_groups": {
        "R0": {"all": (20, 30), "econ_disadvantaged": (7, 12), "not_econ_disadvantaged": (13, 18), "female": (9, 15), "male": (11, 15)},
        "R1": {"all": (300, 500), "econ_disadvantaged": (150, 250), "not_econ_disadvantaged": (150, 250), "female": (140, 240), "male": (160, 260)},
        "R3": {"all": (16, 16), "econ_disadvantaged": (11, 11), "not_econ_disadvantaged": (5, 5), "female": (8, 8), "male": (8, 8)},
    },
}


# The issue's counterexample (students): R0 non-rural, R1 and R2 rural; R0's all students
# suppressed at source. Shown zeros and the pooled totals pinned R0 all, R1 male and female.
COUNTEREXAMPLE = {
    "R0": {"all": ("*", "*"), "econ_disadvantaged": (0, 0), "not_econ_disadvantaged": (1, 1), "female": (0, 0), "male": (1, 1)},
    "R1": {"all": (6, 10), "econ_disadvantaged": (0, 0), "not_econ_disadvantaged": (6, 10), "female": (5, 8), "male": (1, 2)},
    "R2": {"all": (7, 10), "econ_disadvantaged": (7, 10), "not_econ_disadvantaged": (0, 0), "female": (0, 0), "male": (7, 10)},
}


def _package(folder: Path, table: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    names = {"47037": "Davidson", "47149": "Rutherford", "47015": "Cannon", "47041": "DeKalb", "47061": "Grundy"}
    (folder / "regions.csv").write_text("region_id,name,locale,k12_enrollment,low_income_pct\n" + "".join(
        f"{r},{names[r]} County,{locale},5000,40\n" for r, locale in REGIONS.items()), encoding="utf-8")
    (folder / "indicators.csv").write_text(
        "indicator_id,name,stage,higher_is_better,description\ngrad4,Graduation,high,true,\n", encoding="utf-8")
    rows = ["indicator_id,region_id,school_year,student_group,numerator,denominator,rate"]
    for letter, groups in table.items():
        for group, (numerator, denominator) in groups.items():
            rows.append(f"grad4,{_region(letter)},2024-25,{group},{numerator},{denominator},")
    (folder / "outcomes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def _truth(table: dict) -> pd.DataFrame:
    rows = []
    for letter, groups in table.items():
        for group, (numerator, denominator) in groups.items():
            at_source = denominator == "*"
            rows.append((_region(letter), group, None if at_source else numerator, None if at_source else denominator, at_source))
    return pd.DataFrame(rows, columns=["area", "student_group", "numerator", "denominator", "at_source"])


class Attacker:
    """A linear program over one indicator and year of outcomes.csv. Variables: every cell's
    students (D) and number meeting the measure (N)."""

    def __init__(self, published: pd.DataFrame, locales: dict[str, str]):
        self.rows = published.reset_index(drop=True)
        self.cells = {(a, g): i for i, (a, g) in enumerate(zip(self.rows["area"], self.rows["student_group"]))}
        n = len(self.rows)
        self.n = n
        self.eq, self.eq_b, self.ub, self.ub_b = [], [], [], []
        self.bounds = [(0, None)] * (2 * n)
        for i, row in self.rows.iterrows():
            self._cell(i, row)
        self._pooled(locales)
        self._pairs()

    def d(self, i: int) -> int:
        return i

    def num(self, i: int) -> int:
        return self.n + i

    def _vector(self, terms: dict[int, float]) -> np.ndarray:
        v = np.zeros(2 * self.n)
        for k, c in terms.items():
            v[k] += c
        return v

    def _cell(self, i: int, row) -> None:
        status = row["status"]
        d, n = self.d(i), self.num(i)
        self.ub.append(self._vector({n: 1, d: -1}))  # N <= D
        self.ub_b.append(0)
        if status in ("shown", "banded"):
            den = float(row["denominator"])
            self.bounds[d] = (den, den)
            if not math.isnan(row["numerator"]):
                self.bounds[n] = (float(row["numerator"]),) * 2
            elif not math.isnan(row["rate"]):
                self.bounds[n] = (max(0.0, den * (row["rate"] - 0.05) / 100), min(den, den * (row["rate"] + 0.05) / 100))
            elif not math.isnan(row["rate_low"]):
                low, high = den * row["rate_low"] / 100, den * row["rate_high"] / 100
                if status == "banded" and row["rate_low"] == 0 and row["rate_high"] < 100:
                    low = 1.0  # the rules: a low band stands for 1 or more (a zero would show)
                if status == "banded" and row["rate_high"] == 100 and row["rate_low"] > 0:
                    high = den - 1.0
                self.bounds[n] = (low, high)
        elif status == "suppressed":
            self.bounds[d] = (1, None)  # zeros show, so a suppressed count is 1 or more

    def _pooled(self, locales: dict[str, str]) -> None:
        """Each pooled total = the sum of its regions' cells not suppressed at source."""
        members = {"rural": [r for r, loc in locales.items() if loc == "rural"],
                   "nonrural": [r for r, loc in locales.items() if loc != "rural"], "alliance": list(locales)}
        for area, regions in members.items():
            for group in GROUPS:
                total = self.cells.get((area, group))
                if total is None:
                    continue
                parts = [self.cells[(r, group)] for r in regions if (r, group) in self.cells
                         and self.rows.at[self.cells[(r, group)], "status"] in POOLED]
                for var in (self.d, self.num):
                    terms = {var(total): 1.0}
                    for p in parts:
                        terms[var(p)] = terms.get(var(p), 0) - 1.0
                    self.eq.append(self._vector(terms))
                    self.eq_b.append(0.0)

    def _pairs(self) -> None:
        """In every region, a group and its complement add up to all students."""
        areas = {a for a, _ in self.cells if a not in AGGREGATES}
        for area in areas:
            for g, h in PAIRS:
                if all((area, x) in self.cells for x in ("all", g, h)):
                    for var in (self.d, self.num):
                        self.eq.append(self._vector({var(self.cells[(area, "all")]): 1, var(self.cells[(area, g)]): -1,
                                                     var(self.cells[(area, h)]): -1}))
                        self.eq_b.append(0.0)

    def range_of(self, terms: dict[int, float]) -> tuple[float, float]:
        """The least and greatest whole value of a sum of variables (infinite where nothing
        published bounds it: HiGHS reports the problem unbounded)."""
        c = self._vector(terms)
        kwargs = dict(A_ub=np.array(self.ub) if self.ub else None, b_ub=self.ub_b or None,
                      A_eq=np.array(self.eq) if self.eq else None, b_eq=self.eq_b or None, bounds=self.bounds,
                      method="highs")
        low = linprog(c, **kwargs)
        high = linprog(-c, **kwargs)
        # the truth is feasible, so each side is either optimal (0) or unbounded (3)
        assert low.status in (0, 3) and high.status in (0, 3), (low.message, high.message)
        return (math.ceil(low.fun - 1e-6) if low.status == 0 else -math.inf,
                math.floor(-high.fun + 1e-6) if high.status == 0 else math.inf)


def _published(tmp_path: Path, table: dict, monkeypatch) -> pd.DataFrame:
    import cli

    monkeypatch.delenv("ALLIANCE_DISCLOSURE_POLICY", raising=False)  # the default policy
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", str(LIMIT))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert cli.main(["import", str(_package(tmp_path / "package", table)), "--database", url]) == 0
    assert cli.main(["publish", "--out", str(tmp_path / "public"), "--database", url]) == 0
    return pd.read_csv(tmp_path / "public" / "outcomes.csv", dtype={"area": str})


def _protection_width() -> int:
    from domain.suppression import protection_width

    return protection_width(LIMIT)


def _protected(truth: pd.DataFrame):
    """(what, area, group, kind) of every count below the threshold or suppressed at source:
    students, the number meeting the measure, the number not meeting it."""
    for row in truth.itertuples(index=False):
        if row.at_source:
            yield row.area, row.student_group, "students"
            continue
        for kind, value in (("students", row.denominator), ("meeting", row.numerator),
                            ("not meeting", row.denominator - row.numerator)):
            if 0 < value < LIMIT:
                yield row.area, row.student_group, kind


def _check(tmp_path, monkeypatch, table: dict) -> list[str]:
    published = _published(tmp_path, table, monkeypatch)
    assert not published.empty
    attacker = Attacker(published, REGIONS)
    width = _protection_width()
    narrow = []
    for area, group, kind in _protected(_truth(table)):
        i = attacker.cells[(area, group)]
        terms = {"students": {attacker.d(i): 1}, "meeting": {attacker.num(i): 1},
                 "not meeting": {attacker.d(i): 1, attacker.num(i): -1}}[kind]
        low, high = attacker.range_of(terms)
        if high - low < width:
            narrow.append(f"{area} {group} {kind}: {low}..{high}")
    return narrow


@pytest.mark.parametrize("name", list(TABLES))
def test_no_protected_count_can_be_narrowed_below_the_protection_width(tmp_path, monkeypatch, name):
    assert _check(tmp_path, monkeypatch, TABLES[name]) == []


# Shown zeros make every hidden count at least 1; with linear algebra alone the audit let these
# bounds pin R0 all students, R1 male and female (issue 14). The interval audit must not.
def test_the_issues_counterexample_leaves_every_protected_count_wide(tmp_path, monkeypatch):
    assert _check(tmp_path, monkeypatch, COUNTEREXAMPLE) == []


def test_rate_times_students_pins_no_small_numerator(tmp_path, monkeypatch):
    """Under the default policy, no published rate of a cell with 1 to 9 students meeting (or
    not meeting) the measure is exact, and no band is narrower than its small zone."""
    table = TABLES["small_numerators"]
    published = _published(tmp_path, table, monkeypatch).set_index(["area", "student_group"])
    truth = _truth(table)
    for row in truth.itertuples(index=False):
        small = 0 < row.numerator < LIMIT or 0 < row.denominator - row.numerator < LIMIT
        if not small or row.denominator < LIMIT:
            continue
        cell = published.loc[(row.area, row.student_group)]
        assert cell["status"] == "banded" and math.isnan(cell["numerator"]) and math.isnan(cell["rate"])
        den = cell["denominator"]
        assert den * (cell["rate_high"] - cell["rate_low"]) / 100 >= LIMIT - 1 - 1e-9
