"""coverage sites: program sites flattened for the coverage page

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('coverage_sites',
    sa.Column('region_id', sa.String(length=64), nullable=False),
    sa.Column('program_id', sa.String(length=64), nullable=False),
    sa.Column('site_name', sa.String(length=200), nullable=False),
    sa.Column('program_name', sa.Text(), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('program_type', sa.String(length=32), nullable=False),
    sa.Column('grade_band', sa.String(length=16), nullable=False),
    sa.Column('sector', sa.String(length=32), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('located', sa.Boolean(), nullable=False),
    sa.Column('active_from', sa.String(length=10), nullable=False),
    sa.Column('active_to', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('region_id', 'program_id', 'site_name'),
    sqlite_with_rowid=False,
    )
    # Stores imported before this revision get their sites now.
    from data.coverage_rollup import rebuild_coverage_sites

    rebuild_coverage_sites(op.get_bind())


def downgrade() -> None:
    op.drop_table('coverage_sites')
