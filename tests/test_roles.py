"""Sign-in and roles: the role rules and the OpenID Connect mapping as pure functions, local
accounts (hashing, throttled sign-in, the command line), and the role check of every write path
called directly, for each role and for anonymous, on SQLite and PostgreSQL."""
from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from data import auth, history, snapshots, stories
from data.auth import ANONYMOUS, Actor, PermissionDenied
from data.db import get_engine, upgrade
from data.importer import import_package
from data.schema import users
from domain import roles
from reports import board
from tests.packages import write_package

REPO = Path(__file__).resolve().parent.parent
ACTORS = {None: ANONYMOUS, **{role: Actor(f"{role}-user", role) for role in roles.ROLES}}


# --- pure rules ---------------------------------------------------------------------------------

def test_each_role_may_do_what_the_one_before_may_and_more():
    allowed = {role: {a for a in roles.ACTIONS if roles.may(role, a)} for role in (None, *roles.ROLES)}
    assert allowed[None] == set()
    assert allowed["viewer"] == {"packet"}
    assert allowed["presenter"] == {"packet", "stories"}
    assert allowed["editor"] == {"packet", "stories", "import", "demo", "freeze"}
    assert allowed["admin"] == set(roles.ACTIONS)
    with pytest.raises(ValueError, match="viewer, presenter, editor, admin"):
        roles.check_role("owner")
    assert roles.check_role(" Editor ") == "editor"


MAPPING = {"admin": ["Steward@Alliance.org"], "editor": ["@alliance.org", "data@partner.org"],
           "presenter": ["museum.org"], "viewer": ["@partner.org"]}


@pytest.mark.parametrize("email, verified, default, expected", [
    ("steward@alliance.org", True, None, "admin"),  # by name, ignoring case
    ("  STEWARD@alliance.org ", None, None, "admin"),  # a provider that does not say whether it verified
    ("ana@alliance.org", True, None, "editor"),  # by domain, written with @
    ("guide@museum.org", True, None, "presenter"),  # by domain, written without @
    ("data@partner.org", True, None, "editor"),  # a named address beats its domain's role
    ("someone@partner.org", True, None, "viewer"),
    ("ana@sub.alliance.org", True, None, None),  # a subdomain is another domain
    ("ana@alliance.org.evil.com", True, None, None),
    ("eve@elsewhere.com", True, "viewer", "viewer"),  # anyone else: the configured default
    ("steward@alliance.org", False, None, None),  # an unverified address gets no role from the lists
    ("steward@alliance.org", False, "viewer", "viewer"),
    (None, True, None, None),
    ("not-an-address", True, None, None),
])
def test_roles_from_email_addresses_and_domains(email, verified, default, expected):
    assert roles.role_for_email(email, MAPPING, verified=verified, default=default) == expected


def test_an_address_listed_twice_takes_its_highest_role():
    assert roles.role_for_email("a@x.org", {"viewer": "a@x.org", "admin": ["a@x.org"]}) == "admin"
    with pytest.raises(ValueError):
        roles.role_for_email("a@x.org", {"superuser": ["a@x.org"]})


def test_lock_grows_after_free_failures_and_is_capped():
    assert auth.lock_for(auth.FREE_FAILURES - 1) == timedelta(0)
    assert auth.lock_for(auth.FREE_FAILURES) == auth.FIRST_LOCK
    assert auth.lock_for(auth.FREE_FAILURES + 1) == 2 * auth.FIRST_LOCK
    assert auth.lock_for(100) == auth.LONGEST_LOCK


def test_address_throttle_counts_failures_in_its_window():
    throttle = auth._AddressThrottle(free=3, window_s=60)
    for moment in (0, 1, 2):
        assert throttle.wait_s("10.0.0.1", now=moment) == 0
        throttle.fail("10.0.0.1", now=moment)
    assert throttle.wait_s("10.0.0.1", now=3) == pytest.approx(57)
    assert throttle.wait_s("10.0.0.2", now=3) == 0  # another address is not slowed
    assert throttle.wait_s("10.0.0.1", now=61) == 0  # the window passed


# --- local accounts ----------------------------------------------------------------------------

@pytest.fixture
def db(store):
    upgrade(store)
    return store


def test_accounts_are_kept_hashed_and_managed_by_an_admin(db):
    auth.add_user(db, "ana", "correct horse battery", "admin", actor=ACTORS["admin"])
    with db.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert auth.list_users(db)[0]["username"] == "ana" and "password_hash" not in auth.list_users(db)[0]
    assert auth.sign_in(db, "ana", "correct horse battery") == Actor("ana", "admin", "local")
    auth.add_user(db, "eli", "another password", "Editor", actor=ACTORS["admin"])
    assert auth.set_role(db, "eli", "presenter", actor=ACTORS["admin"]) == "editor"
    assert auth.user_role(db, "eli") == "presenter"
    with pytest.raises(auth.AccountError, match="already"):
        auth.add_user(db, "eli", "another password", "viewer", actor=ACTORS["admin"])
    with pytest.raises(auth.AccountError, match="too short"):
        auth.add_user(db, "bo", "short", "viewer", actor=ACTORS["admin"])
    with pytest.raises(auth.AccountError, match="not a role"):
        auth.set_role(db, "eli", "owner", actor=ACTORS["admin"])
    with pytest.raises(auth.AccountError, match="only admin"):
        auth.remove_user(db, "ana", actor=ACTORS["admin"])
    auth.remove_user(db, "eli", actor=ACTORS["admin"])
    assert [u["username"] for u in auth.list_users(db)] == ["ana"]
    record = history.history(db)
    assert record["action"].tolist() == ["user_remove", "user_role", "user_add", "user_add"]
    assert not record["details"].astype(str).str.contains("password|argon2", case=False).any()


def test_wrong_passwords_are_refused_then_slowed(db, caplog):
    caplog.set_level(logging.DEBUG)  # whatever any library logs, at any level
    auth.add_user(db, "ana", "correct horse battery", "editor", actor=ACTORS["admin"])
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(auth.AccountError, match="not right"):
            auth.sign_in(db, "ana", "wrong guess", address="test-wrong-passwords")
    with pytest.raises(auth.AccountError, match="Too many failed sign-ins for this account"):
        auth.sign_in(db, "ana", "correct horse battery", address="test-wrong-passwords")  # even the right one waits
    with db.begin() as conn:
        conn.execute(text("UPDATE users SET locked_until = NULL"))
    assert auth.sign_in(db, "ana", "correct horse battery").role == "editor"
    with db.connect() as conn:
        assert conn.execute(select(users.c.failed_sign_ins)).scalar_one() == 0
    with pytest.raises(auth.AccountError, match="not right"):  # an unknown name reads the same
        auth.sign_in(db, "nobody", "correct horse battery", address="test-unknown-name")
    assert not any(secret in caplog.text for secret in ("correct horse", "wrong guess", "argon2"))


def test_cli_manages_users_with_the_password_from_stdin(sqlite_url):
    def cli(*args, stdin=""):
        return subprocess.run([sys.executable, "cli.py", "user", *args, "--database", sqlite_url], cwd=REPO,
                              input=stdin, capture_output=True, text=True, timeout=120)

    added = cli("add", "ana", "--role", "admin", stdin="a long pass phrase\n")
    assert added.returncode == 0, added.stderr
    assert "a long pass phrase" not in added.stdout + added.stderr
    assert cli("add", "eli", "--role", "editor", stdin="another long one\n").returncode == 0
    assert cli("set-role", "eli", "viewer").returncode == 0
    listing = cli("list")
    assert listing.stdout.splitlines()[0].startswith("ana\tadmin") and "eli\tviewer" in listing.stdout
    assert "argon2" not in listing.stdout
    bad = cli("set-role", "eli", "owner")
    assert bad.returncode == 1 and "not a role" in bad.stderr
    assert cli("remove", "eli").returncode == 0
    engine = get_engine(sqlite_url)
    assert auth.sign_in(engine, "ana", "a long pass phrase").role == "admin"
    assert history.history(engine)["actor"].str.startswith("cli").all()


# --- every write path checks the role itself ------------------------------------------------------

def _story(db, tmp=None) -> int:
    story_id = stories.create_story(db, "Convening", actor=ACTORS["admin"])
    stories.add_step(db, story_id, "gaps", {}, "Gaps", actor=ACTORS["admin"])
    stories.add_step(db, story_id, "coverage", {}, "Coverage", actor=ACTORS["admin"])
    return story_id


def _imported(db, tmp):
    assert import_package(write_package(tmp / "base"), db, actor=ACTORS["admin"]).ok


def _frozen(db, tmp):
    _imported(db, tmp)
    board.freeze(db, "2025-Q2", actor=ACTORS["admin"])


def _someone(db, tmp):
    auth.add_user(db, "someone", "long enough password", "viewer", actor=ACTORS["admin"])


def _demo_over_data(db, actor, tmp):
    from data import demo, importer

    reached = []
    # Past the role check the demo's import itself is tested in test_demo.py: here it only has to be reached.
    original, importer.write_package = importer.write_package, lambda *a, **k: reached.append(k["action"])
    try:
        demo.load_demo(db, actor=actor)
    finally:
        importer.write_package = original
    assert reached == ["demo"]


def _packet(db, actor, tmp):
    board._last_started.clear()  # the cooldown per person is tested apart
    assert board.prepare_packet(db, "2025-Q2", frozen=False, actor=actor) == b"%PDF stub"


# write path -> (least role, what the store holds first, the write)
WRITES = {
    "create story": ("presenter", None, lambda db, a, tmp: stories.create_story(db, f"New {a.name}", actor=a)),
    "add step": ("presenter", _story, lambda db, a, tmp: stories.add_step(db, 1, "gaps", {}, "Gaps", actor=a)),
    "reorder steps": ("presenter", _story, lambda db, a, tmp: stories.move_step(db, 1, 1, 1, actor=a)),
    "edit headline": ("presenter", _story, lambda db, a, tmp: stories.set_headline(db, 1, 1, "x", actor=a)),
    "delete step": ("presenter", _story, lambda db, a, tmp: stories.delete_step(db, 1, 1, actor=a)),
    "rename story": ("presenter", _story, lambda db, a, tmp: stories.rename_story(db, 1, "Renamed", actor=a)),
    "delete story": ("presenter", _story, lambda db, a, tmp: stories.delete_story(db, 1, actor=a)),
    "import story": ("presenter", None, lambda db, a, tmp: stories.import_story(
        db, '{"name": "S", "steps": [{"page": "gaps"}]}', actor=a)),
    "import package": ("editor", None, lambda db, a, tmp: import_package(write_package(tmp / "p"), db, actor=a)),
    "load demo into a store with data": ("editor", _imported, _demo_over_data),
    "freeze": ("editor", _imported, lambda db, a, tmp: board.freeze(db, "2025-Q2", actor=a)),
    "delete snapshot": ("admin", _frozen, lambda db, a, tmp: snapshots.delete_version(db, "2025-Q2", 1, actor=a)),
    "undo": ("admin", _imported, lambda db, a, tmp: history.undo_latest(db, actor=a)),
    "add user": ("admin", None, lambda db, a, tmp: auth.add_user(db, "new", "long enough password", "viewer", actor=a)),
    "set role": ("admin", _someone, lambda db, a, tmp: auth.set_role(db, "someone", "editor", actor=a)),
    "remove user": ("admin", _someone, lambda db, a, tmp: auth.remove_user(db, "someone", actor=a)),
    "board packet": ("viewer", None, _packet),
}


@pytest.mark.parametrize("path", list(WRITES))
@pytest.mark.parametrize("role", [None, *roles.ROLES])
def test_every_write_checks_the_role(db, tmp_path, monkeypatch, path, role):
    monkeypatch.setattr("reports.packet.build_packet", lambda *a, **k: b"%PDF stub")
    least, setup, write = WRITES[path]
    if setup is not None:
        setup(db, tmp_path)
    actor = ACTORS[role]
    if roles.at_least(role, least):
        write(db, actor, tmp_path)
    else:
        with pytest.raises(PermissionDenied, match=f"needs the {least} role"):
            write(db, actor, tmp_path)


def test_a_refused_write_changes_nothing(db, tmp_path):
    _imported(db, tmp_path)
    with db.connect() as conn:
        before = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()
    with pytest.raises(PermissionDenied):
        import_package(write_package(tmp_path / "again"), db, actor=ACTORS["presenter"])
    with pytest.raises(PermissionDenied):
        board.freeze(db, "2025-Q2", actor=ACTORS["viewer"])
    with db.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one() == before
        assert conn.execute(text("SELECT COUNT(*) FROM snapshots")).scalar_one() == 0


def test_the_demo_loads_into_an_empty_store_for_anyone(db):
    from data.demo import load_demo

    assert load_demo(db, actor=ANONYMOUS).ok  # the first run of a new dashboard
    assert history.history(db)["actor"].tolist() == ["anonymous"]


def test_outside_streamlit_the_actor_is_the_command_line():
    actor = auth.acting(None)
    assert actor.role == "admin" and actor.source == "cli" and actor.name.startswith("cli")
