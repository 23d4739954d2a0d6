"""board snapshots: a frozen copy of a quarter's overview figures

Revision ID: snapshots01
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = 'snapshots01'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'snapshots',
        sa.Column('quarter', sa.String(length=7), nullable=False),
        sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('quarter'),
    )


def downgrade() -> None:
    op.drop_table('snapshots')
