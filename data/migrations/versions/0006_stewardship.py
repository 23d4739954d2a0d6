"""stewardship: local users, the record of changes, kept import files, undo data, snapshot versions

Revision ID: 0006
Revises: 0005
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table('users',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username'),
    )
    events = op.create_table('events',
    sa.Column('event_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('event_id'),
    sqlite_autoincrement=True,
    )
    op.create_table('import_files',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('import_id', 'position'),
    )
    op.create_table('import_undo',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('replaced_rows', sa.Integer(), nullable=False),
    sa.Column('added_rows', sa.Integer(), nullable=False),
    sa.Column('replaced', sa.LargeBinary(), nullable=False),
    sa.Column('added', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('import_id', 'table_name'),
    )
    # The imports made before this revision start the record (they cannot be undone: what they
    # replaced was not kept).
    # Typed columns: SQLite hands back text for an untyped one, which a DateTime column refuses.
    imports = sa.table('imports', sa.column('import_id', sa.Integer), sa.column('finished_at', sa.DateTime(timezone=True)),
                       sa.column('source', sa.Text), sa.column('row_counts', sa.Text))
    earlier = bind.execute(sa.select(imports).order_by(imports.c.import_id)).all()
    if earlier:
        op.bulk_insert(events, [dict(
            at=row.finished_at, actor="(before sign-in existed)", action="import",
            summary=f"imported {row.source}", details=json.dumps({"row_counts": json.loads(row.row_counts)}),
            import_id=row.import_id) for row in earlier])

    # Snapshots become versions of a quarter: the frozen quarters so far are version 1.
    old = sa.table('snapshots', sa.column('quarter', sa.String), sa.column('frozen_at', sa.DateTime(timezone=True)),
                   sa.column('payload', sa.Text))
    kept = bind.execute(sa.select(old)).all()
    op.drop_table('snapshots')
    snapshots = op.create_table('snapshots',
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('frozen_by', sa.String(length=200), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('quarter', 'version'),
    )
    if kept:
        op.bulk_insert(snapshots, [dict(quarter=r.quarter, version=1, frozen_at=r.frozen_at, payload=r.payload,
                                        note="", frozen_by="") for r in kept])


def downgrade() -> None:
    bind = op.get_bind()
    versions = sa.table('snapshots', sa.column('quarter', sa.String), sa.column('version', sa.Integer),
                        sa.column('frozen_at', sa.DateTime(timezone=True)), sa.column('payload', sa.Text))
    latest = {r.quarter: r for r in bind.execute(sa.select(versions).order_by(versions.c.version))}
    op.drop_table('snapshots')
    snapshots = op.create_table('snapshots',
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('quarter'),
    )
    if latest:
        op.bulk_insert(snapshots, [dict(quarter=r.quarter, frozen_at=r.frozen_at, payload=r.payload) for r in latest.values()])
    op.drop_table('import_undo')
    op.drop_table('import_files')
    op.drop_table('events')
    op.drop_table('users')
