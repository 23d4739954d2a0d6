"""stories: a presenter's saved, ordered views (page + filters + headline)

Revision ID: stories01
Revises: snapshots01
"""
from alembic import op
import sqlalchemy as sa


revision = 'stories01'
down_revision = 'snapshots01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stories',
        sa.Column('story_id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('story_id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'story_steps',
        sa.Column('story_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('page', sa.String(length=64), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('headline', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('story_id', 'position'),
    )


def downgrade() -> None:
    op.drop_table('story_steps')
    op.drop_table('stories')
