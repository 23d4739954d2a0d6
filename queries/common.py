"""Pieces every query module shares: the area scope as a SQL condition, and period helpers."""
from __future__ import annotations

from sqlalchemy import ColumnElement, select, true

from data.db import driver_rows
from data.schema import regions
from domain.scope import Scope


def scope_condition(region_column, scope: Scope) -> ColumnElement[bool]:
    """Rows of an area: alliance-wide, a locale scope's regions, or one region."""
    if scope.is_alliance:
        return true()
    if scope.is_locale:
        return region_column.in_(select(regions.c.region_id).where(regions.c.locale.in_(scope.locales)))
    return region_column == scope.region_id


def fast_tuples(conn, query) -> list[tuple]:
    """Rows as plain tuples, fetched by the driver's own cursor: for tens of thousands of rows
    several times faster than building SQLAlchemy rows (the statement is still compiled, and
    its parameters bound, by SQLAlchemy)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})  # IN (…) lists
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    return driver_rows(conn, str(compiled), params)
