"""Who is acting, and whether they may: local accounts, sign-in, and the role check every write
in `data/` makes before it writes.

Every function that changes the store takes `actor` and calls `require(actor, ACTION)` first.
When no actor is passed, `acting()` decides it from where the call runs:
- inside a Streamlit session's script run: the session's signed-in user, or anonymous;
- elsewhere inside a Streamlit server (a thread a page started): anonymous — such a thread
  must be handed its actor explicitly;
- outside Streamlit (`cli.py`, tests, the benchmark): the command line, which acts as an admin
  and is recorded as `cli (OS user)`. The command line runs on the steward's own machine with
  the store's own credentials (DATABASE_URL): whoever can run it can change the store directly
  anyway, so it does not ask for a password.

Passwords are hashed with argon2id (argon2-cffi); neither a password nor a hash is ever logged,
printed, shown or part of an error. Failed sign-ins are slowed per account (in the store, so
every process serving it agrees) and per client address (in this process).
"""
from __future__ import annotations

import getpass
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, delete, insert, select, update

from data.schema import users
from domain import roles

ANONYMOUS_NAME = "anonymous"
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a megabyte "password" is only load
# Sign-in throttling: after this many failures in a row an account waits, doubling each time.
FREE_FAILURES = 5
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(minutes=15)
SESSION_KEY = "_alliance_actor"


@dataclass(frozen=True)
class Actor:
    name: str  # what the record shows: a username, an e-mail address, "cli (ana)" or "anonymous"
    role: str | None  # None: anonymous
    source: str = "local"  # "local" (an account in the store), "oidc", "cli" or "anonymous"

    @property
    def signed_in(self) -> bool:
        return self.role is not None and self.source in ("local", "oidc")

    def may(self, action: str) -> bool:
        return roles.may(self.role, action)


ANONYMOUS = Actor(ANONYMOUS_NAME, None, "anonymous")


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except Exception:  # no user name in this environment (e.g. a container without passwd entry)
        who = ""
    return Actor(f"cli ({who})" if who else "cli", "admin", "cli")


class PermissionDenied(PermissionError):
    """The actor's role does not allow the action; the message is meant for the user."""

    def __init__(self, actor: Actor, action: str):
        need = roles.least_role(action)
        who = "Anonymous visitors" if actor.role is None else f"{actor.name} ({actor.role})"
        super().__init__(f"{who} may not {roles.ACTION_LABELS[action]}: that needs the {need} role or higher.")
        self.action = action


def acting(actor: Actor | None) -> Actor:
    """The actor in force: the one given, else the one of where this code runs (see above)."""
    if actor is not None:
        return actor
    try:
        from streamlit import runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:
        return cli_actor()
    if get_script_run_ctx(suppress_warning=True) is not None:
        import streamlit as st

        found = st.session_state.get(SESSION_KEY)
        return found if isinstance(found, Actor) else ANONYMOUS
    if runtime.exists():
        return ANONYMOUS
    return cli_actor()


def require(actor: Actor | None, action: str) -> Actor:
    """The actor in force, or PermissionDenied when its role may not do `action`."""
    actor = acting(actor)
    if not actor.may(action):
        raise PermissionDenied(actor, action)
    return actor


# --- local accounts ----------------------------------------------------------------------------

class AccountError(ValueError):
    """A user could not be added, changed or signed in; the message is meant for the user."""


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended parameters


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _check_username(name: str) -> str:
    name = (name or "").strip()
    if not USERNAME.match(name):
        raise AccountError("A user name is 1 to 64 letters, digits, dots, dashes, underscores or @, starting with a "
                           "letter or digit.")
    return name


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"The password is too long: use at most {MAX_PASSWORD_LENGTH} characters.")
    return password


def list_users(engine: Engine) -> list[dict]:
    """Every account's name, role and creation date (never its hash)."""
    with engine.connect() as conn:
        rows = conn.execute(select(users.c.username, users.c.role, users.c.created_at).order_by(users.c.username)).all()
    return [dict(username=r.username, role=r.role, created_at=r.created_at) for r in rows]


def user_role(engine: Engine, username: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(users.c.role).where(users.c.username == username)).scalar_one_or_none()


def add_user(engine: Engine, username: str, password: str, role: str, actor: Actor | None = None) -> None:
    from data.history import record

    actor = require(actor, "users")
    username, role = _check_username(username), _check_role(role)
    digest = _hasher().hash(_check_password(password))
    with engine.begin() as conn:
        if conn.execute(select(users.c.username).where(users.c.username == username)).first():
            raise AccountError(f"There is already a user called {username!r}.")
        conn.execute(insert(users).values(username=username, password_hash=digest, role=role, created_at=_now(),
                                          failed_sign_ins=0))
        record(conn, actor, "user_add", f"added user {username} as {role}", {"username": username, "role": role})


def set_role(engine: Engine, username: str, role: str, actor: Actor | None = None) -> str:
    """Change a user's role; returns the role it had."""
    from data.history import record

    actor = require(actor, "users")
    role = _check_role(role)
    with engine.begin() as conn:
        before = conn.execute(select(users.c.role).where(users.c.username == username)).scalar_one_or_none()
        if before is None:
            raise AccountError(f"There is no user called {username!r}.")
        if before == "admin" and role != "admin":
            _keep_an_admin(conn, username)
        conn.execute(update(users).where(users.c.username == username).values(role=role))
        record(conn, actor, "user_role", f"changed {username} from {before} to {role}",
               {"username": username, "from": before, "to": role})
    return before


def set_password(engine: Engine, username: str, password: str, actor: Actor | None = None) -> None:
    from data.history import record

    actor = require(actor, "users")
    digest = _hasher().hash(_check_password(password))
    with engine.begin() as conn:
        done = conn.execute(update(users).where(users.c.username == username)
                            .values(password_hash=digest, failed_sign_ins=0, locked_until=None)).rowcount
        if not done:
            raise AccountError(f"There is no user called {username!r}.")
        record(conn, actor, "user_password", f"set a new password for {username}", {"username": username})


def remove_user(engine: Engine, username: str, actor: Actor | None = None) -> None:
    from data.history import record

    actor = require(actor, "users")
    with engine.begin() as conn:
        role = conn.execute(select(users.c.role).where(users.c.username == username)).scalar_one_or_none()
        if role is None:
            raise AccountError(f"There is no user called {username!r}.")
        if role == "admin":
            _keep_an_admin(conn, username)
        conn.execute(delete(users).where(users.c.username == username))
        record(conn, actor, "user_remove", f"removed user {username} ({role})", {"username": username, "role": role})


def _check_role(role: str) -> str:
    try:
        return roles.check_role(role)
    except ValueError as exc:
        raise AccountError(str(exc)) from None


def _keep_an_admin(conn, username: str) -> None:
    """Signed-in admins may not remove the last admin account (the command line still can add one)."""
    others = conn.execute(select(users.c.username).where(users.c.role == "admin", users.c.username != username)).first()
    if others is None:
        raise AccountError(f"{username} is the only admin: add another admin first.")


# --- signing in -------------------------------------------------------------------------------

class _AddressThrottle:
    """Failures per client address in this process: someone trying many names from one place."""

    def __init__(self, free: int = FREE_FAILURES * 4, window_s: float = 900):
        self.free, self.window_s = free, window_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, address: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._failures.get(address, []) if now - t < self.window_s]
            self._failures[address] = recent
            if len(recent) < self.free:
                return 0.0
            return max(0.0, recent[-self.free] + self.window_s - now)

    def fail(self, address: str, now: float | None = None) -> None:
        with self._lock:
            self._failures.setdefault(address, []).append(time.monotonic() if now is None else now)


ADDRESS_THROTTLE = _AddressThrottle()
# Verified against when the name is unknown, so that an unknown name takes as long as a known one.
_DUMMY_HASH: list[str] = []


def lock_for(failures: int) -> timedelta:
    """How long an account waits after `failures` failed sign-ins in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 20)  # 30 s * 2**20 is far past the longest lock already
    return min(FIRST_LOCK * (2 ** doublings), LONGEST_LOCK)


def sign_in(engine: Engine, username: str, password: str, address: str = "") -> Actor:
    """The account's actor when the password is right; AccountError otherwise, saying only that
    the name or password is wrong, or how long to wait after too many failures."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    wait = ADDRESS_THROTTLE.wait_s(address)
    if wait > 0:
        raise AccountError(f"Too many failed sign-ins from here. Try again in {_minutes(wait)}.")
    username = (username or "").strip()
    hasher = _hasher()
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first() if username else None
    now = _now()
    if row is not None and row.locked_until is not None and _aware(row.locked_until) > now:
        raise AccountError(f"Too many failed sign-ins for this account. Try again in "
                           f"{_minutes((_aware(row.locked_until) - now).total_seconds())}.")
    ok = False
    try:
        if row is None:
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(hasher.hash("not a password anyone has"))
            hasher.verify(_DUMMY_HASH[0], password or "")
        else:
            ok = hasher.verify(row.password_hash, (password or "")[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        ADDRESS_THROTTLE.fail(address)
        if row is not None:
            failures = (row.failed_sign_ins or 0) + 1
            lock = lock_for(failures)
            with engine.begin() as conn:
                conn.execute(update(users).where(users.c.username == username).values(
                    failed_sign_ins=failures, locked_until=(now + lock) if lock else None))
        raise AccountError("The user name or password is not right.")
    with engine.begin() as conn:
        values = dict(failed_sign_ins=0, locked_until=None)
        if hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = hasher.hash(password)
        conn.execute(update(users).where(users.c.username == username).values(**values))
    return Actor(row.username, row.role, "local")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite returns naive UTC


def _minutes(seconds: float) -> str:
    seconds = max(1, int(round(seconds)))
    return f"{seconds} seconds" if seconds < 120 else f"{round(seconds / 60)} minutes"
