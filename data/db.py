"""The one way to open the store.

With no configuration the store is a SQLite file under `var/` in the checkout, created on first
use. `DATABASE_URL` (an environment variable, or a Streamlit secret of that name) points the
app and the command line at another database, e.g. PostgreSQL:
`postgresql+psycopg://user@host:5432/alliance`.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from domain.settings import streamlit_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = REPO_ROOT / "var" / "alliance.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(explicit: str | None = None) -> str:
    """The URL in force: explicit argument, then DATABASE_URL, then a Streamlit secret, then
    the embedded SQLite default."""
    if explicit:
        return _normalise(explicit)
    if os.environ.get("DATABASE_URL"):
        return _normalise(os.environ["DATABASE_URL"])
    secret = streamlit_secret("DATABASE_URL")
    if secret:
        return _normalise(secret)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _normalise(url: str) -> str:
    # Hosting services hand out `postgres://` URLs; SQLAlchemy wants a driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


@functools.lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """One cached engine per database URL for the whole process."""
    url = database_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while an import writes; NORMAL is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def driver_rows(conn, sql: str, params=()) -> list[tuple]:
    """Every row of `sql` as plain tuples, through the driver's own cursor: for hundreds of
    thousands of rows several times faster than SQLAlchemy's result rows."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


# --- schema versions -----------------------------------------------------------------------

def _alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@functools.lru_cache(maxsize=1)  # the migrations shipped with this code: read once, not on every page view
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Create the schema, or bring an older one up to date."""
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")


@dataclass(frozen=True)
class StoreStatus:
    state: str  # "unreachable", "uninitialised", "outdated", "damaged", "empty" or "ready"
    url: str
    detail: str = ""

    @property
    def usable(self) -> bool:
        return self.state in ("empty", "ready")


def store_status(url: str | None = None) -> StoreStatus:
    """What state the store is in, without ever raising: the pages turn this into a message."""
    resolved = database_url(url)
    shown = display_url(resolved)
    try:
        engine = get_engine(resolved)
        revision = current_revision(engine)
    except Exception as exc:  # any driver error means the same thing to a user: cannot reach it
        return StoreStatus("unreachable", shown, first_line(exc))
    if revision is None:
        return StoreStatus("uninitialised", shown)
    if revision != head_revision():
        return StoreStatus("outdated", shown, f"schema {revision}, this version needs {head_revision()}")
    from data.schema import metadata

    try:
        with engine.connect() as conn:
            missing = sorted(set(metadata.tables) - set(inspect(conn).get_table_names()))
            if missing:
                return StoreStatus("damaged", shown, "missing table(s): " + ", ".join(missing))
            has_regions = conn.execute(text("SELECT 1 FROM regions LIMIT 1")).first() is not None
    except Exception as exc:
        return StoreStatus("unreachable", shown, first_line(exc))
    return StoreStatus("ready" if has_regions else "empty", shown)


def first_line(exc: Exception) -> str:
    """The driver's own message, one line, for a readable error."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
