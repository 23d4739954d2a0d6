"""band complements: cells whose rate is hidden so that no small number meeting a measure can be worked out

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outcome_band_complements',
    sa.Column('indicator_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=64), nullable=False),
    sa.Column('school_year', sa.String(length=7), nullable=False),
    sa.Column('student_group', sa.String(length=64), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('indicator_id', 'region_id', 'school_year', 'student_group')
    )
    # Stores imported before this revision get their band complements now.
    from data.rollup import rebuild_outcome_rollup

    rebuild_outcome_rollup(op.get_bind())


def downgrade() -> None:
    op.drop_table('outcome_band_complements')
