"""A package uploaded in the browser: checked against the size limits before anything is read,
laid out as the importer reads packages (a .zip, an .xlsx, or a folder of CSV files) in a
temporary folder, validated and previewed without writing, then imported.

Accepted: one .zip of CSV files, one .xlsx workbook, or several CSV files (named after their
tables, e.g. outcomes.csv; a regions.geojson may come with them).
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from data.package import Limits, size_text
from data.problems import Description, Problem

LOOSE_FILES = (".csv", ".geojson")


class UploadError(ValueError):
    """The upload cannot be read as a package; the message is meant for the user."""


@dataclass
class StagedUpload:
    path: Path  # what the importer reads: the .zip or .xlsx, or the folder of CSV files
    source: str  # the name the record shows
    files: list[tuple[str, bytes]]  # as uploaded, kept with the import
    folder: Path = field(repr=False, default=None)

    def discard(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _safe_name(name: str) -> str:
    """The file's own name, without any folder a browser may send."""
    base = Path(str(name).replace("\\", "/")).name.strip()
    if not base or base in (".", ".."):
        raise UploadError(f"{name!r} is not a file name.")
    return base


def check_sizes(sizes: dict[str, int], limits: Limits | None = None) -> list[Problem]:
    """Problems with the sizes of what was uploaded (name -> bytes), before reading any of it."""
    limits = limits or Limits.from_settings()
    problems = []
    total = sum(sizes.values())
    if total > limits.upload:
        problems.append(Problem("(upload)", None, None, Description(f"{len(sizes)} file(s), {size_text(total)} in all"),
                                f"at most {size_text(limits.upload)} at once (the ALLIANCE_MAX_UPLOAD_MB setting)"))
    for name, size in sizes.items():
        if size > limits.file:
            problems.append(Problem(name, None, None, Description(f"a file of {size_text(size)}"),
                                    f"each file at most {size_text(limits.file)} (the ALLIANCE_MAX_FILE_MB setting)"))
    return problems


def stage(files: list[tuple[str, bytes]]) -> StagedUpload:
    """Lay the uploaded files out for the importer; UploadError when they are not one package."""
    if not files:
        raise UploadError("Choose a .zip of CSV files, one .xlsx workbook, or the CSV files of a package.")
    named = [(_safe_name(name), data) for name, data in files]
    suffixes = {Path(name).suffix.lower() for name, _ in named}
    folder = Path(tempfile.mkdtemp(prefix="alliance-upload-"))
    try:
        if len(named) == 1 and suffixes <= {".zip", ".xlsx", ".xlsm"}:
            name, data = named[0]
            (folder / name).write_bytes(data)
            return StagedUpload(folder / name, name, named, folder)
        if suffixes & {".zip", ".xlsx", ".xlsm"}:
            raise UploadError("Upload a .zip or an .xlsx workbook on its own, not together with other files.")
        unknown = sorted(name for name, _ in named if Path(name).suffix.lower() not in LOOSE_FILES)
        if unknown:
            raise UploadError(f"{', '.join(unknown)}: a package is a .zip, an .xlsx workbook or CSV files.")
        names = [name.lower() for name, _ in named]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise UploadError(f"{', '.join(repeated)} uploaded twice: upload each table once.")
        package = folder / "package"
        package.mkdir()
        for name, data in named:
            (package / name).write_bytes(data)
        source = named[0][0] if len(named) == 1 else f"{len(named)} CSV files"
        return StagedUpload(package, source, named, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def check(staged: StagedUpload, engine: Engine):
    """(problems, warnings, preview or None) — validation and, for a valid package, what importing
    it would change. Writes nothing."""
    from data.importer import preview, validate

    package, result = validate(staged.path, engine)
    return result.problems, result.warnings, (preview(engine, package) if package is not None else None)
