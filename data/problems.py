"""A problem found in a data package, in the terms a data steward can act on."""
from __future__ import annotations

from dataclasses import dataclass


class Description(str):
    """What was found, told in words ("a NUL byte", "3 more rows like the ones above") rather
    than a cell's value: printed as it is, where a value is quoted."""


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # as a spreadsheet numbers it (header = row 1); None for the whole file
    column: str | None
    value: str | None  # what was found: a cell's text, or a Description
    expected: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        found = "nothing" if self.value in (None, "") else self.value if isinstance(self.value, Description) else repr(self.value)
        return f"{where}: found {found}, expected {self.expected}"
