"""participation rollup with store-wide complementary suppression (coverage page)

Revision ID: 0004
Revises: stories01
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = 'stories01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('participation_cells',
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('program_type', sa.String(length=32), nullable=False),
    sa.Column('grade_band', sa.String(length=16), nullable=False),
    sa.Column('sector', sa.String(length=32), nullable=False),
    sa.Column('student_group', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=64), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=True),
    sa.Column('source_rows', sa.Integer(), nullable=False),
    sa.Column('complement', sa.Boolean(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('quarter', 'program_type', 'grade_band', 'sector', 'student_group', 'region_id')
    )
    with op.batch_alter_table('participation_cells', schema=None) as batch_op:
        batch_op.create_index('ix_participation_cells_region', ['region_id', 'student_group', 'quarter'], unique=False)
    # Stores imported before this revision get their rollup now.
    from data.participation_rollup import rebuild_participation_cells

    rebuild_participation_cells(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('participation_cells', schema=None) as batch_op:
        batch_op.drop_index('ix_participation_cells_region')
    op.drop_table('participation_cells')
