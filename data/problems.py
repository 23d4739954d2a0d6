"""A problem found in a data package, in the terms a data steward can act on."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # as a spreadsheet numbers it (header = row 1); None for the whole file
    column: str | None
    value: str | None  # what was found
    expected: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        found = "nothing" if self.value in (None, "") else repr(self.value) if not self.value.startswith(("a ", "an ")) else self.value
        return f"{where}: found {found}, expected {self.expected}"
