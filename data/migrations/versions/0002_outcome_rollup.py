"""outcome rollup and complementary suppression tables

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outcome_rollup',
    sa.Column('indicator_id', sa.String(length=64), nullable=False),
    sa.Column('school_year', sa.String(length=7), nullable=False),
    sa.Column('student_group', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('source_rows', sa.Integer(), nullable=False),
    sa.Column('pooled_rows', sa.Integer(), nullable=False),
    sa.Column('suppressed_rows', sa.Integer(), nullable=False),
    sa.Column('ranged_rows', sa.Integer(), nullable=False),
    sa.Column('denominator', sa.Integer(), nullable=False),
    sa.Column('numerator_low', sa.Float(), nullable=False),
    sa.Column('numerator_high', sa.Float(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('indicator_id', 'school_year', 'student_group', 'locale')
    )
    op.create_table('outcome_complements',
    sa.Column('indicator_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=64), nullable=False),
    sa.Column('school_year', sa.String(length=7), nullable=False),
    sa.Column('student_group', sa.String(length=64), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('indicator_id', 'region_id', 'school_year', 'student_group')
    )
    # Stores imported before this revision get their rollup now.
    from data.rollup import rebuild_outcome_rollup

    rebuild_outcome_rollup(op.get_bind())


def downgrade() -> None:
    op.drop_table('outcome_complements')
    op.drop_table('outcome_rollup')
