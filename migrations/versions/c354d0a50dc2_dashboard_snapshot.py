"""数据看板 snapshots (issue 12): the figures of a scope as last counted, shared by every worker and node, so a
scope is counted once per DASHBOARD_CACHE_SECONDS for them all instead of once in each worker. A cache: the
downgrade drops it, and nothing is lost.

Revision ID: c354d0a50dc2
Revises: eed90824e5c8
Create Date: 2026-11-28 00:05:57.267700

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c354d0a50dc2"
down_revision = "eed90824e5c8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "zs_dashboard_snapshot",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )


def downgrade():
    op.drop_table("zs_dashboard_snapshot")
