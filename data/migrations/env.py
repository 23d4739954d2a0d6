"""Alembic environment: runs migrations on the engine handed over by `data.db.upgrade`,
or on DATABASE_URL / the default store when invoked through the `alembic` command."""
from alembic import context

from data.db import get_engine
from data.schema import metadata

config = context.config
engine = config.attributes.get("engine") or get_engine()

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
