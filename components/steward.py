"""The data steward's sections of /data: upload, check, preview and import a package; the record
with the files of each import and undo; board snapshot versions; users. Each write goes through
a function in `data/` that checks the session's role itself; what is offered here only follows it.

An import runs in a background thread (one at a time in a process) while a fragment polls its
progress, so the page stays live for this visitor and every other.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from components import auth
from components.filters import quarter_label
from components.layout import download_csv
from components.markup import plain
from components.store import clear_caches, engine
from data import auth as accounts
from data import history, snapshots, uploads
from data.db import database_url, first_line, get_engine
from data.package import Limits, size_text
from domain import roles
from queries import overview as overview_queries
from reports import board

_STAGED, _CHECKED, _JOB = "_steward_staged", "_steward_checked", "_steward_job"
_IMPORTING = threading.Lock()  # one import at a time in this process: each fills a core or more


# --- upload, check, preview, import ---------------------------------------------------------------

def problems_frame(problems) -> pd.DataFrame:
    return pd.DataFrame([dict(file=p.file, row=p.row, column=p.column or "",
                              found="" if p.value is None else str(p.value), expected=p.expected) for p in problems],
                        columns=["file", "row", "column", "found", "expected"]).astype({"row": "Int64"})


def preview_frame(preview: dict) -> pd.DataFrame:
    return pd.DataFrame([dict(table=name, added=c["added"], replaced=c["replaced"], unchanged=c["unchanged"])
                         for name, c in preview["tables"].items()], columns=["table", "added", "replaced", "unchanged"])


@dataclass
class ImportJob:
    source: str
    share: float = 0.0
    message: str = "starting"
    result: object = None
    error: str | None = None
    done: bool = False
    thread: threading.Thread | None = field(default=None, repr=False)

    def update(self, share: float, message: str) -> None:
        self.share, self.message = share, message


def _start_import(staged: uploads.StagedUpload, actor: accounts.Actor) -> ImportJob | None:
    from data.importer import import_package

    if not _IMPORTING.acquire(blocking=False):
        return None
    job = ImportJob(staged.source)
    url = database_url()

    def run() -> None:
        try:
            # The actor is handed over: a thread has no session to take it from (data/auth.py).
            job.result = import_package(staged.path, get_engine(url), actor=actor, files=staged.files,
                                        source=staged.source, progress=job.update)
        except Exception as exc:  # the transaction rolled back: the store is as it was
            job.error = first_line(exc)
        finally:
            staged.discard()
            job.done = True
            _IMPORTING.release()

    job.thread = threading.Thread(target=run, name=f"import-{staged.source}", daemon=True)
    job.thread.start()
    return job


def _forget_upload() -> None:
    staged = st.session_state.pop(_STAGED, None)
    if staged is not None and st.session_state.get(_JOB) is None:
        staged.discard()
    st.session_state.pop(_CHECKED, None)


def import_section() -> None:
    st.header("Import a data package")
    limits = Limits.from_settings()
    st.markdown(
        "A **data package** is a .zip of CSV files, one .xlsx workbook with a sheet per table, or the CSV files "
        "themselves; only `regions.csv` is required. It is checked completely before anything is written: every "
        "problem is listed with its file, row, column, the value found and what was expected. A package with any "
        "problem writes nothing; importing the same package twice changes nothing, and a corrected row replaces "
        "the old one.")
    if not auth.may("import"):
        st.info(auth.needs("import") + " Or, on the dashboard's own computer: `python cli.py validate PATH`, then "
                "`python cli.py import PATH`.", icon=":material/lock:")
        return
    job = st.session_state.get(_JOB)
    if job is not None:
        _import_progress()
        return
    chosen = st.file_uploader(
        f"Package files (up to {size_text(limits.upload)} at once)", type=["zip", "xlsx", "csv", "geojson"],
        accept_multiple_files=True, key="package_upload", on_change=_forget_upload)
    if not chosen:
        return
    if st.button("Check this package", key="package_check", icon=":material/fact_check:", type="primary"):
        _forget_upload()
        problems = uploads.check_sizes({f.name: f.size for f in chosen}, limits)  # before reading any of it
        if problems:
            st.session_state[_CHECKED] = (problems, [], None)
        else:
            try:
                staged = uploads.stage([(f.name, f.getvalue()) for f in chosen])
            except uploads.UploadError as error:
                st.error(plain(str(error)))
                return
            with st.spinner("Checking every file against the data contract…"):
                st.session_state[_STAGED] = staged
                st.session_state[_CHECKED] = uploads.check(staged, engine())
    checked = st.session_state.get(_CHECKED)
    if checked is None:
        return
    problems, warnings, preview = checked
    for warning in warnings:
        st.warning(plain(warning))
    if problems:
        st.error(f"**{len(problems)} problem(s) found; nothing was written.** Fix them in the files and check again.")
        table = problems_frame(problems)
        st.dataframe(table, hide_index=True, width="stretch")
        download_csv(table, "package-problems.csv", key="problems_csv", label="Download the problems (CSV)")
        return
    st.success("**No problems found.** This is what importing the package would change:")
    st.dataframe(preview_frame(preview), hide_index=True, width="stretch")
    new = [f"**{label}**: {', '.join(values)}" for label, values in (
        ("New school years", preview["school_years"]), ("New quarters", [quarter_label(q) for q in preview["quarters"]]),
        ("New regions", [plain(r) for r in preview["regions"]])) if values]
    st.markdown("\n".join(f"- {line}" for line in new) if new else "No new school years, quarters or regions.")
    if st.button("Import this package", key="package_import", icon=":material/upload:", type="primary"):
        staged = st.session_state.get(_STAGED)
        started = _start_import(staged, auth.current()) if staged is not None else None
        if started is None:
            st.warning("Another import is running on this server. Try again when it has finished.")
            return
        st.session_state.pop(_STAGED, None)
        st.session_state.pop(_CHECKED, None)
        st.session_state[_JOB] = started
        st.rerun()


@st.fragment(run_every=1.0)
def _import_progress() -> None:
    job: ImportJob = st.session_state.get(_JOB)
    if job is None:
        return
    if not job.done:
        st.progress(min(max(job.share, 0.0), 1.0), text=f"Importing {job.source}: {job.message}…")
        st.caption("The dashboard stays usable meanwhile, here and for everyone else.")
        return
    st.session_state.pop(_JOB, None)
    clear_caches()
    if job.error:
        st.session_state["_steward_message"] = ("error", f"The import failed and the store is unchanged: {job.error}")
    elif job.result is not None and job.result.problems:
        st.session_state["_steward_message"] = ("error", f"The import found {len(job.result.problems)} problem(s) "
                                                "(the store changed since the check); nothing was written. Check it again.")
    else:
        result = job.result
        st.session_state["_steward_message"] = ("success", f"Imported {result.rows:,} rows from {job.source} in "
                                                f"{result.seconds:.1f} s.")
    st.rerun(scope="app")


def show_message() -> None:
    message = st.session_state.pop("_steward_message", None)
    if message:
        # Messages carry names users gave (files, accounts, notes): shown as typed, never as markdown.
        (st.success if message[0] == "success" else st.error)(plain(message[1]))


# --- the record, its files, undo ---------------------------------------------------------------------

def row_counts_text(details) -> str:
    """The row counts the record keeps, in words: an import's rows and how many it added and
    replaced; an undo's rows removed and restored."""
    if not isinstance(details, dict) or not isinstance(details.get("row_counts"), dict):
        return ""
    counts = details["row_counts"]
    if details.get("changes"):
        added = sum(c.get("added", 0) for c in details["changes"].values())
        replaced = sum(c.get("replaced", 0) for c in details["changes"].values())
        return f"{sum(counts.values()):,} rows: {added:,} added, {replaced:,} replaced"
    if counts and all(isinstance(c, dict) for c in counts.values()):
        removed = sum(c.get("removed", 0) for c in counts.values())
        restored = sum(c.get("restored", 0) for c in counts.values())
        return f"{removed:,} removed, {restored:,} restored"
    return ""


def history_section() -> None:
    st.header("History")
    record = history.history(engine(), limit=200)
    if record.empty:
        st.write("Nothing has been imported, frozen or changed yet.")
        return
    shown = record.assign(at=record["at"].map(lambda t: str(t)[:16]),
                          rows=record["details"].map(row_counts_text))[["at", "actor", "action", "summary", "rows"]]
    st.dataframe(shown, hide_index=True, width="stretch")
    imported = record[record["action"].isin(["import"]) & record["import_id"].notna()]
    if not imported.empty:
        left, right = st.columns([3, 2], vertical_alignment="bottom")
        labels = {int(r.import_id): f"{int(r.import_id)}: {r.summary} ({str(r.at)[:10]})" for r in imported.itertuples()}
        picked = left.selectbox("Files of an import", list(labels), format_func=labels.get, key="history_files")
        named = history.download_name(engine(), picked)
        if named is None:
            right.caption("No files were kept for this import.")
        else:
            url = database_url()
            # Read from the store only when clicked (Streamlit runs the callable then, in a thread
            # of its own): an upload can be hundreds of MB, and this page reruns on every click.
            right.download_button(f"Download {plain(named[0])}", lambda: history.download_of(get_engine(url), picked)[1],
                                  file_name=named[0], mime=named[1], key="history_download", icon=":material/download:")
    _undo_block()


def _undo_block() -> None:
    latest = history.latest_undoable(engine())
    if latest is None:
        return
    label = plain(f"import {latest['import_id']} ({latest['source']}, {str(latest['finished_at'])[:16]})")
    if not auth.may("undo"):
        st.caption(f"Undoing the latest import: {auth.needs('undo')}")
        return
    if not latest["undoable"]:
        st.caption(f"The latest {label} was made before imports could be undone.")
        return
    with st.expander(f"Undo the latest import: {label}", icon=":material/undo:"):
        st.write("The store goes back exactly to what it was before this import (then the one before it can be undone).")
        sure = st.checkbox("Yes, undo this import", key="undo_sure")
        if st.button("Undo", key="undo_button", disabled=not sure, icon=":material/undo:"):
            try:
                done = history.undo_latest(engine())
            except (history.UndoError, accounts.PermissionDenied) as error:
                st.error(plain(str(error)))
                return
            clear_caches()
            st.session_state["_steward_message"] = ("success", f"Undid import {done['import_id']} ({done['source']}).")
            st.rerun()


# --- board snapshots -------------------------------------------------------------------------------

def snapshots_section(quarters: list[str]) -> None:
    st.header("Board snapshots")
    st.markdown(
        "Freeze a quarter before the board meeting: the overview of a frozen quarter keeps showing exactly the "
        "numbers presented, even after newer or corrected data is imported (`python cli.py snapshot 2025-Q3`). "
        "Freezing it again adds a version with a note saying why; earlier versions stay.")
    versions = overview_queries.snapshot_versions(engine())
    if versions.empty:
        st.write("No quarter is frozen yet.")
    else:
        st.dataframe(versions.assign(quarter=versions["quarter"].map(quarter_label),
                                     frozen_at=versions["frozen_at"].map(lambda t: str(t)[:16])),
                     hide_index=True, width="stretch")
    if not quarters:
        return
    if not auth.may("freeze"):
        st.caption(auth.needs("freeze"))
        return
    left, right = st.columns([2, 3])
    to_freeze = left.selectbox("Quarter to freeze", list(reversed(quarters)), format_func=quarter_label, key="freeze_quarter")
    earlier = versions[versions["quarter"] == to_freeze]
    note, sure = "", True
    if not earlier.empty:
        right.warning(f"{quarter_label(to_freeze)} is frozen already ({len(earlier)} version(s), the latest on "
                      f"{str(earlier['frozen_at'].iloc[0])[:10]}). Freezing it again keeps those and adds a new version.")
        note = right.text_input("Why it is frozen again (shown with the version)", key="freeze_note", max_chars=1000)
        sure = right.checkbox("Yes, freeze a new version", key="freeze_sure")
    else:
        note = right.text_input("Note (optional)", key="freeze_note_first", max_chars=1000)
    if left.button("Freeze this quarter", key="freeze_button", icon=":material/lock:", disabled=not sure):
        try:
            done = board.freeze(engine(), to_freeze, note=note)
        except (snapshots.SnapshotError, accounts.PermissionDenied) as error:
            st.error(plain(str(error)))
            return
        version = f" as version {done['version']}" if done["version"] > 1 else ""
        st.session_state["_steward_message"] = (
            "success", f"{quarter_label(to_freeze)} frozen{version} on {done['frozen_at'][:10]}: {done['headline']['text']}.")
        st.rerun()
    if auth.may("delete_snapshot") and not versions.empty:
        with st.expander("Delete a snapshot version", icon=":material/delete:"):
            choices = {(r.quarter, int(r.version)): f"{quarter_label(r.quarter)}, version {int(r.version)} "
                       f"(frozen {str(r.frozen_at)[:10]})" for r in versions.itertuples()}
            picked = st.selectbox("Version", list(choices), format_func=choices.get, key="delete_version_pick")
            sure = st.checkbox("Yes, delete this version (the deletion is recorded)", key="delete_version_sure")
            if st.button("Delete", key="delete_version_button", disabled=not sure):
                try:
                    snapshots.delete_version(engine(), picked[0], picked[1])
                except (snapshots.SnapshotError, accounts.PermissionDenied) as error:
                    st.error(plain(str(error)))
                    return
                st.session_state["_steward_message"] = ("success", f"Deleted {choices[picked]}.")
                st.rerun()


# --- users -------------------------------------------------------------------------------------------

def users_section() -> None:
    if not auth.may("users"):
        return
    st.header("Users")
    st.caption("Local accounts. On the dashboard's computer: `python cli.py user add NAME --role ROLE` (the password "
               "is read from standard input). What each role may do is in the README.")
    people = accounts.list_users(engine())
    st.dataframe(pd.DataFrame(people, columns=["username", "role", "created_at"]), hide_index=True, width="stretch")
    with st.form("user_add", clear_on_submit=True):
        left, middle, right = st.columns(3)
        name = left.text_input("User name", key="user_add_name")
        role = middle.selectbox("Role", roles.ROLES, key="user_add_role")
        password = right.text_input("Password", type="password", key="user_add_password", autocomplete="new-password")
        if st.form_submit_button("Add user", icon=":material/person_add:"):
            _user_change(lambda: accounts.add_user(engine(), name, password, role), f"Added {name} as {role}.")
    if people:
        names = [p["username"] for p in people]
        left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
        who = left.selectbox("User", names, key="user_pick")
        new_role = middle.selectbox("New role", roles.ROLES, key="user_new_role")
        if right.button("Change role", key="user_set_role"):
            _user_change(lambda: accounts.set_role(engine(), who, new_role), f"{who} is now {new_role}.")
        if st.checkbox(f"Remove {who}", key="user_remove_sure") and st.button("Remove user", key="user_remove"):
            _user_change(lambda: accounts.remove_user(engine(), who), f"Removed {who}.")


def _user_change(change, done: str) -> None:
    try:
        change()
    except (accounts.AccountError, accounts.PermissionDenied) as error:
        st.error(plain(str(error)))
        return
    st.session_state["_steward_message"] = ("success", done)
    st.rerun()
