"""/data and the other pages that write, under AppTest: what each role is offered, that the
writes behind the controls refuse a role that may not (even when the page offers them to
everyone), uploading, checking, previewing and importing a package, undo, snapshot versions,
users, signing in (local accounts and OpenID Connect), and anonymous viewing turned off."""
from __future__ import annotations

import io
import time
import zipfile

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from components import steward
from components.markup import WORD_JOINER
from data import auth, history, snapshots
from data.auth import Actor
from data.db import get_engine, upgrade
from data.importer import import_package
from queries import overview as q
from reports import board
from reports.files import csv_bytes
from tests.apptest import APP, TEST_PASSWORD, ensure_user, sign_in
from tests.packages import VALID_PACKAGE, write_package
from tests.test_undo import corrected_package, rows

ROLES = [None, "viewer", "presenter", "editor", "admin"]
EDITOR = Actor("eli", "editor")


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"package/{name}", content)
    return buffer.getvalue()


def folder_zip(folder) -> bytes:
    return zipped({p.name: p.read_text() for p in sorted(folder.iterdir())})


@pytest.fixture
def loaded(store_url, tmp_path) -> str:
    """A store holding the small valid package (imported by an editor)."""
    engine = get_engine(store_url)
    upgrade(engine)
    assert import_package(write_package(tmp_path / "first"), engine, actor=EDITOR).ok
    return store_url


@pytest.fixture
def sqlite_loaded(sqlite_url, tmp_path) -> str:
    engine = get_engine(sqlite_url)
    upgrade(engine)
    assert import_package(write_package(tmp_path / "first"), engine, actor=EDITOR).ok
    return sqlite_url


def open_page(monkeypatch, url: str, role: str | None, page: str = "pages/data.py", **params) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = sign_in(AppTest.from_file(APP, default_timeout=180), url, role)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def keys(at: AppTest) -> set[str]:
    found = set()
    for kind in ("button", "checkbox", "selectbox", "text_input", "file_uploader", "download_button"):
        found |= {str(w.key) for w in at.get(kind) if getattr(w, "key", None)}
    return found | {str(b.proto.id) for b in at.get("button")}


def shown(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "error", "success", "warning", "header")
             for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def texts_everywhere(at: AppTest) -> str:
    """Every element the page sent, widgets' labels and values included."""
    return repr(at._tree) + shown(at)


def table(at: AppTest, column: str):
    """The last table on the page with that column (the problems, the preview, the history …)."""
    return [d.value for d in at.dataframe if column in d.value.columns][-1]


def unescaped(text: str) -> str:
    """A message as it reads on screen (names in it are escaped so markdown shows them as typed)."""
    return text.replace("\\", "")


# --- what each role is offered -----------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_what_each_role_is_offered_on_data(monkeypatch, sqlite_loaded, role):
    board.freeze(get_engine(sqlite_loaded), "2025-Q2", actor=EDITOR)
    at = open_page(monkeypatch, sqlite_loaded, role)
    offered = keys(at)
    rank = ROLES.index(role)
    assert ("package_upload" in offered) == (rank >= 3)
    assert ("freeze_button" in offered) == (rank >= 3)
    assert ("undo_sure" in offered) == (rank >= 4)
    assert ("delete_version_button" in offered) == (rank >= 4)
    assert ("user_add_name" in offered) == (rank >= 4)
    body = shown(at)
    if rank < 3:
        need = "Sign in as an editor (or higher) to import data" if role is None else \
            f"You are signed in as {role}; to import data needs the editor role or higher."
        assert need in body
    # everyone sees the record and the snapshot versions, and the templates
    assert "History" in body and "Board snapshots" in body
    assert {"templates_zip", "templates_xlsx"} <= offered


@pytest.mark.parametrize("role", ROLES)
def test_what_each_role_is_offered_on_stories_and_the_overview(monkeypatch, demo_store_url, role):
    from data import stories

    engine = get_engine(demo_store_url)
    story_id = stories.create_story(engine, f"Offered to {role}")
    stories.add_step(engine, story_id, "gaps", {}, "One")
    stories.add_step(engine, story_id, "gaps", {}, "Two")
    try:
        at = open_page(monkeypatch, demo_store_url, role, "pages/stories.py")
        at.selectbox(key="story_pick").set_value(story_id).run()
        presenter = role in ("presenter", "editor", "admin")
        assert at.button(key="down_1").disabled is not presenter
        assert at.button(key="del_1").disabled is not presenter
        assert ("story_rename" in keys(at)) is presenter
        assert bool(at.get("file_uploader")) is presenter  # importing a story is offered to presenters only
        if not presenter:
            assert "to change stories" in shown(at)
        overview = open_page(monkeypatch, demo_store_url, role, "pages/overview.py")
        assert ("make_packet" in keys(overview)) is (role is not None)
        sidebar = "\n".join(c.value for c in overview.sidebar.caption)
        assert ("Sign in as a presenter (or higher) to change stories" in sidebar) is (role is None)
    finally:
        stories.delete_story(engine, story_id)


# --- the writes refuse on their own ----------------------------------------------------------------

@pytest.mark.parametrize("role", [None, "viewer", "presenter"])
def test_a_page_offering_everything_still_writes_nothing(monkeypatch, sqlite_loaded, role):
    """Were a page to offer every control to everyone (components.auth.may always yes), the
    functions behind them still refuse: each click ends in a message, nothing is written."""
    engine = get_engine(sqlite_loaded)
    board.freeze(engine, "2025-Q2", actor=EDITOR)
    monkeypatch.setattr("components.auth.may", lambda action: True)
    at = open_page(monkeypatch, sqlite_loaded, role)
    before = rows(engine)
    with engine.connect() as conn:
        events = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()

    at.selectbox(key="freeze_quarter").set_value("2025-Q1").run()
    at.button(key="freeze_button").click().run()
    assert "may not freeze a quarter" in shown(at)
    at.checkbox(key="undo_sure").check().run()
    at.button(key="undo_button").click().run()
    assert "may not undo an import" in shown(at)
    at.checkbox(key="delete_version_sure").check().run()
    at.button(key="delete_version_button").click().run()
    assert "may not delete a snapshot version" in shown(at)
    at.text_input(key="user_add_name").input("mallory")
    at.text_input(key="user_add_password").input("long enough password")
    next(b for b in at.button if b.label == "Add user").click().run()
    assert "may not change users" in shown(at)
    at.file_uploader(key="package_upload").upload("package.zip", zipped(VALID_PACKAGE), "application/zip").run()
    at.button(key="package_check").click().run()
    at.button(key="package_import").click().run()
    assert "may not import data" in _wait_for_import(at)

    assert not at.exception
    assert rows(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one() == events
        assert conn.execute(text("SELECT COUNT(*) FROM users WHERE username = 'mallory'")).scalar_one() == 0


def test_a_role_taken_away_counts_at_the_next_click(monkeypatch, sqlite_loaded):
    engine = get_engine(sqlite_loaded)
    at = open_page(monkeypatch, sqlite_loaded, "editor")
    at.selectbox(key="freeze_quarter").set_value("2025-Q1")
    auth.set_role(engine, "editor-user", "viewer", actor=auth.cli_actor())  # meanwhile, an admin demotes them
    at.button(key="freeze_button").click().run()
    assert not at.exception
    assert q.snapshot_versions(engine).empty
    assert "Signed in as **editor-user** (viewer)" in "\n".join(c.value for c in at.sidebar.caption)


# --- upload, check, preview, import ----------------------------------------------------------------

def _wait_for_import(at: AppTest, timeout_s: float = 120) -> str:
    """Let the background import finish, then run the page as the progress fragment would;
    returns the messages of the run that started it and of this one (a quick import may have
    finished, and said so, already)."""
    before = shown(at)
    job = at.session_state["_steward_job"] if "_steward_job" in at.session_state else None
    deadline = time.monotonic() + timeout_s
    while job is not None and not job.done and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    return unescaped(before + "\n" + shown(at))


def test_upload_check_preview_and_import(monkeypatch, loaded, tmp_path):
    engine = get_engine(loaded)
    at = open_page(monkeypatch, loaded, "editor")
    before = rows(engine)

    broken = dict(VALID_PACKAGE)
    broken["outcomes.csv"] = broken["outcomes.csv"].replace("grad4,47037,2023-24,all", "grad4,47037,2023,all")
    broken["regions.csv"] = broken["regions.csv"].replace("Cannon County", "=HYPERLINK(\"http://x\")")
    broken["regions.csv"] = broken["regions.csv"].replace("47015,=HYPERLINK(\"http://x\"),rural,2100", "47015,=HYPERLINK(\"http://x\"),rural,lots")
    at.file_uploader(key="package_upload").upload("broken.zip", zipped(broken), "application/zip").run()
    at.button(key="package_check").click().run()
    assert not at.exception
    assert any("2 problem(s) found; nothing was written" in e.value for e in at.error)
    problems = table(at, "expected")
    assert problems.columns.tolist() == ["file", "row", "column", "found", "expected"]
    assert problems[["file", "row", "column", "found"]].values.tolist() == [
        ["regions.csv", 4, "k12_enrollment", "lots"], ["outcomes.csv", 2, "school_year", "2023"]]
    assert "problems_csv" in keys(at)
    assert "package_import" not in keys(at)
    assert rows(engine) == before

    at.file_uploader(key="package_upload").clear().upload(
        "corrected.zip", folder_zip(corrected_package(tmp_path / "c")), "application/zip").run()
    at.button(key="package_check").click().run()
    assert any("No problems found" in s.value for s in at.success)
    preview = table(at, "unchanged").set_index("table")
    assert preview.loc["participation"].tolist() == [1, 1, 4]
    assert preview.loc["regions"].tolist() == [1, 0, 4]
    body = shown(at)
    assert "**New quarters**: 2025 Q3" in body and "**New regions**: 47189" in body
    assert rows(engine) == before  # checking and previewing wrote nothing

    at.button(key="package_import").click().run()
    assert not at.exception
    said = _wait_for_import(at)
    assert "Imported 38 rows from corrected.zip in " in said, said  # 34 in the valid package, 4 more
    assert rows(engine) != before
    latest = history.history(engine).iloc[0]
    assert (latest["action"], latest["actor"], latest["summary"]) == ("import", "editor-user", "imported corrected.zip")
    assert history.download_of(engine, int(latest["import_id"]))[0] == "corrected.zip"


def test_a_workbook_uploads_checks_and_imports_like_a_zip(monkeypatch, sqlite_url, tmp_path):
    from tests.test_import import _workbook

    monkeypatch.setattr("components.store.AUTOLOAD_DEMO", False)
    at = open_page(monkeypatch, sqlite_url, "editor")
    workbook = _workbook(tmp_path / "alliance.xlsx", VALID_PACKAGE).read_bytes()
    at.file_uploader(key="package_upload").upload(
        "alliance.xlsx", workbook, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").run()
    at.button(key="package_check").click().run()
    assert not at.exception
    assert any("sheet Notes: not part of the data package contract, ignored" in unescaped(w.value) for w in at.warning)
    preview = table(at, "unchanged").set_index("table")
    assert preview.loc["regions"].tolist() == [4, 0, 0] and preview.loc["outcomes"].tolist() == [6, 0, 0]
    at.button(key="package_import").click().run()
    assert "Imported 34 rows from alliance.xlsx in " in _wait_for_import(at)
    assert history.download_of(get_engine(sqlite_url), int(history.history(get_engine(sqlite_url)).iloc[0]["import_id"]))[0] \
        == "alliance.xlsx"


def test_the_problem_report_downloads_as_a_safe_csv():
    from data.problems import Problem

    table = steward.problems_frame([Problem("regions.csv", 4, "name", "=HYPERLINK(\"http://x\")", "a name"),
                                    Problem("package.zip", None, None, None, "a readable .zip file")])
    data = csv_bytes(table).decode("utf-8-sig")
    assert data.splitlines()[0] == "file,row,column,found,expected"
    assert "'=HYPERLINK" in data and "\nregions.csv,4,name," in data


def test_an_upload_over_the_limits_is_refused_before_it_is_read(monkeypatch, sqlite_loaded):
    engine = get_engine(sqlite_loaded)
    at = open_page(monkeypatch, sqlite_loaded, "editor")
    before = rows(engine)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("regions.csv", VALID_PACKAGE["regions.csv"])
        archive.writestr("outcomes.csv", b"grad4,47037,2023-24,all,5100,6000,\n" * 3_000_000)  # 105 MB
    monkeypatch.setenv("ALLIANCE_MAX_FILE_MB", "50")
    at.file_uploader(key="package_upload").upload("bomb.zip", bomb.getvalue(), "application/zip").run()
    at.button(key="package_check").click().run()
    assert not at.exception
    [problem] = table(at, "expected").to_dict("records")
    assert problem["file"] == "bomb.zip" and problem["found"].startswith("outcomes.csv, 100.1 MB once unpacked")
    monkeypatch.setenv("ALLIANCE_MAX_UPLOAD_MB", "0.05")
    monkeypatch.setenv("ALLIANCE_MAX_FILE_MB", "0.05")
    at.button(key="package_check").click().run()
    assert table(at, "expected")["file"].tolist() == ["(upload)", "bomb.zip"]
    assert rows(engine) == before


def test_an_empty_store_opens_data_with_templates_and_upload(monkeypatch, sqlite_url):
    monkeypatch.setattr("components.store.AUTOLOAD_DEMO", False)
    at = open_page(monkeypatch, sqlite_url, "editor")
    assert "The data store is empty" in shown(at)
    assert {"package_upload", "templates_zip", "templates_xlsx"} <= keys(at)
    at.file_uploader(key="package_upload").upload("regions.csv", VALID_PACKAGE["regions.csv"].encode(), "text/csv")
    at.file_uploader(key="package_upload").upload("partners.csv", VALID_PACKAGE["partners.csv"].encode(), "text/csv").run()
    at.button(key="package_check").click().run()
    assert table(at, "unchanged").set_index("table").loc["regions"].tolist() == [4, 0, 0]
    at.button(key="package_import").click().run()
    assert "Imported 7 rows from 2 CSV files in " in _wait_for_import(at)
    with get_engine(sqlite_url).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM partners")).scalar_one() == 3


def test_the_page_stays_usable_while_an_import_runs(monkeypatch, sqlite_loaded, tmp_path):
    """The import runs in a thread: held mid-way, the page (this visitor's and another's) still
    opens and reads the store; a second import waits its turn."""
    import threading

    release, reached = threading.Event(), threading.Event()
    original = history.keep_undo

    def held(*args, **kwargs):
        reached.set()
        assert release.wait(60)
        return original(*args, **kwargs)

    monkeypatch.setattr("data.history.keep_undo", held)
    at = open_page(monkeypatch, sqlite_loaded, "editor")
    at.file_uploader(key="package_upload").upload(
        "corrected.zip", folder_zip(corrected_package(tmp_path / "c")), "application/zip").run()
    at.button(key="package_check").click().run()
    at.button(key="package_import").click().run()
    try:
        assert reached.wait(60)
        assert at.get("progress") and "Importing corrected.zip" in at.get("progress")[0].proto.text
        other = open_page(monkeypatch, sqlite_loaded, "editor", "pages/overview.py")
        assert other.metric and not other.exception
        second = open_page(monkeypatch, sqlite_loaded, "editor")
        second.file_uploader(key="package_upload").upload("again.zip", zipped(VALID_PACKAGE), "application/zip").run()
        second.button(key="package_check").click().run()
        second.button(key="package_import").click().run()
        assert any("Another import is running" in w.value for w in second.warning)
    finally:
        release.set()
    assert "rows from corrected.zip in " in _wait_for_import(at)


# --- undo, snapshot versions, users ---------------------------------------------------------------

def test_an_admin_undoes_the_latest_import_then_the_one_before(monkeypatch, loaded, tmp_path):
    engine = get_engine(loaded)
    ensure_user(loaded, "admin")
    after_first = rows(engine)
    assert import_package(corrected_package(tmp_path / "c"), engine, actor=EDITOR).ok
    at = open_page(monkeypatch, loaded, "admin")
    assert any(e.proto.label.startswith("Undo the latest import: import 2 (c,") for e in at.get("expander"))
    assert at.button(key="undo_button").disabled  # until confirmed
    at.checkbox(key="undo_sure").check().run()
    at.button(key="undo_button").click().run()
    assert not at.exception
    assert any("Undid import 2 (c)." in unescaped(s.value) for s in at.success)
    assert rows(engine) == after_first
    shown_record = table(at, "rows").query("action != 'user_add'")  # the record's row counts, in words
    assert shown_record["rows"].tolist() == ["4 removed, 1 restored", "38 rows: 4 added, 1 replaced",
                                             "34 rows: 34 added, 0 replaced"]
    at.checkbox(key="undo_sure").check().run()
    at.button(key="undo_button").click().run()
    assert any("Undid import 1 (first)." in unescaped(s.value) for s in at.success)
    record = history.history(engine)
    assert record.query("action == 'undo'")["actor"].tolist() == ["admin-user", "admin-user"]


def test_freezing_again_on_the_page_asks_for_a_note_and_the_overview_shows_each_version(monkeypatch, loaded):
    engine = get_engine(loaded)
    at = open_page(monkeypatch, loaded, "editor")
    at.selectbox(key="freeze_quarter").set_value("2025-Q2").run()
    at.button(key="freeze_button").click().run()
    assert any("2025 Q2 frozen on" in s.value for s in at.success)
    assert "is frozen already (1 version(s)" in shown(at)
    assert at.button(key="freeze_button").disabled  # until confirmed
    at.checkbox(key="freeze_sure").check().run()
    at.button(key="freeze_button").click().run()
    assert any("give a note saying why" in e.value for e in at.error)
    assert len(q.snapshot_versions(engine)) == 1
    at.text_input(key="freeze_note").input("Corrected *participation*")
    at.checkbox(key="freeze_sure").check().run()
    at.button(key="freeze_button").click().run()
    assert any("frozen as version 2" in s.value for s in at.success)

    overview = open_page(monkeypatch, loaded, None, "pages/overview.py", quarter="2025-Q2")
    version = overview.selectbox(key="_filter_widget_version")
    assert version.value == "2" and len(version.options) == 2
    assert version.options[0].startswith("Version 2, ") and version.options[0].endswith(": Corrected *participation*")
    info = "\n".join(i.value for i in overview.info)
    assert "(version 2 of 2)" in info and "Note: Corrected \\*participation\\*" in info  # as typed, not emphasis
    version.set_value("1").run()
    assert overview.query_params["version"] in ("1", ["1"]) and "(version 1 of 2)" in "\n".join(i.value for i in overview.info)

    admin = open_page(monkeypatch, loaded, "admin")
    admin.selectbox(key="delete_version_pick").set_value(("2025-Q2", 1)).run()
    admin.checkbox(key="delete_version_sure").check().run()
    admin.button(key="delete_version_button").click().run()
    assert q.snapshot_versions(engine)["version"].tolist() == [2]
    assert history.history(engine).iloc[0]["actor"] == "admin-user"


def test_an_admin_manages_users_on_the_page_and_no_password_is_shown(monkeypatch, sqlite_loaded):
    engine = get_engine(sqlite_loaded)
    at = open_page(monkeypatch, sqlite_loaded, "admin")
    at.text_input(key="user_add_name").input("pat")
    at.selectbox(key="user_add_role").set_value("presenter")
    at.text_input(key="user_add_password").input("pats secret phrase")
    next(b for b in at.button if b.label == "Add user").click().run()
    assert not at.exception
    assert auth.user_role(engine, "pat") == "presenter"
    everything = texts_everywhere(at)
    assert "pat" in everything and "user_add_password" in everything  # it does hold the widgets and their values
    assert "pats secret phrase" not in everything and "argon2" not in everything
    at.selectbox(key="user_pick").set_value("pat")
    at.selectbox(key="user_new_role").set_value("editor")
    at.button(key="user_set_role").click().run()
    assert auth.user_role(engine, "pat") == "editor"
    at.selectbox(key="user_pick").set_value("pat")
    at.checkbox(key="user_remove_sure").check().run()
    at.button(key="user_remove").click().run()
    assert auth.user_role(engine, "pat") is None
    assert history.history(engine)["action"].tolist()[:3] == ["user_remove", "user_role", "user_add"]


# --- signing in -----------------------------------------------------------------------------------

def _sidebar_form(at: AppTest):
    return (at.text_input(key="sidebar_sign_in_name"), at.text_input(key="sidebar_sign_in_password"),
            next(b for b in at.button if b.label == "Sign in"))


def test_signing_in_with_the_sidebar_form(monkeypatch, sqlite_loaded):
    engine = get_engine(sqlite_loaded)
    auth.add_user(engine, "ana", "the right pass phrase", "admin", actor=auth.cli_actor())
    at = open_page(monkeypatch, sqlite_loaded, None, "pages/overview.py")
    name, password, submit = _sidebar_form(at)
    name.input("ana")
    password.input("a wrong pass phrase")
    submit.click().run()
    assert any("The user name or password is not right." in e.value for e in at.error)
    assert "a wrong pass phrase" not in texts_everywhere(at)
    name, password, submit = _sidebar_form(at)
    name.input("ana")
    password.input("the right pass phrase")
    submit.click().run()
    assert not at.exception
    assert "Signed in as **ana** (admin)" in "\n".join(c.value for c in at.sidebar.caption)
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert not any("Signed in as" in c.value for c in at.sidebar.caption)


def test_sign_in_first_when_anonymous_viewing_is_off(monkeypatch, sqlite_loaded):
    monkeypatch.setenv("ALLIANCE_ANONYMOUS_VIEW", "0")
    at = open_page(monkeypatch, sqlite_loaded, None, "pages/overview.py")
    assert [t.value for t in at.title] == ["Sign in"]
    assert not at.metric and not at.get("plotly_chart")
    assert "open to signed-in users only" in shown(at)
    at.text_input(key="gate_sign_in_name").input("viewer-user")
    ensure_user(sqlite_loaded, "viewer")
    at.text_input(key="gate_sign_in_password").input(TEST_PASSWORD)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception
    assert "Board overview" in [t.value for t in at.title] and at.metric


OIDC_SECRETS = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                "client_id": "dashboard", "client_secret": "s",
                "server_metadata_url": "https://id.example.org/.well-known/openid-configuration"}


@pytest.mark.parametrize("email, verified, role", [
    ("steward@alliance.org", True, "admin"), ("ana@alliance.org", True, "editor"),
    ("ana@alliance.org", False, "viewer"), ("eve@elsewhere.com", True, "viewer"),
])
def test_openid_connect_users_get_the_role_their_address_maps_to(monkeypatch, sqlite_loaded, email, verified, role):
    monkeypatch.setenv("DATABASE_URL", sqlite_loaded)
    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets["auth"] = OIDC_SECRETS
    at.secrets["alliance_roles"] = {"admin": ["steward@alliance.org"], "editor": ["@alliance.org"], "default": "viewer"}
    at.user = {"is_logged_in": True, "email": email, "email_verified": verified}
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    assert f"Signed in as **{email.replace('@', '@' + WORD_JOINER)}** ({role})" in "\n".join(c.value for c in at.sidebar.caption)
    assert ("package_upload" in keys(at)) is (role in ("editor", "admin"))


def test_openid_connect_is_offered_when_configured(monkeypatch, sqlite_loaded):
    monkeypatch.setenv("DATABASE_URL", sqlite_loaded)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not [b for b in at.button if "organisation" in str(b.label)]
    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets["auth"] = OIDC_SECRETS
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button if "organisation" in str(b.label)] == ["Sign in with your organisation's account"]
