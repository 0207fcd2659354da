"""服务商评价 totals per provider (issue 12): zs_provider_rating_total holds, per provider, the number of complete
ratings of submitted completions and the sums of their four star ratings, kept with the ratings by
zsdx.completion.refresh_rating_totals; the 服务商评价 page (paged now) and the catalog read it instead of
aggregating every rating (43,000 in a gen-load city: a 10 ms sequential scan per page). Filled here from the
ratings already stored.

Revision ID: 977406bcb148
Revises: a6fd93b3c0ac
Create Date: 2026-11-27 20:23:21.363711

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "977406bcb148"
down_revision = "a6fd93b3c0ac"
branch_labels = None
depends_on = None

# the same figures as zsdx.completion.refresh_rating_totals, in SQL both databases run the same way (integer
# division of non-negative integers truncates: rank = the average to one place, half up, ×10)
FILL = """
INSERT INTO zs_provider_rating_total
    (provider_id, ratings, product_stars, overall_stars, attitude_stars, after_sales_stars, rank)
SELECT provider_id, n, p, o, a, s, (20 * (p + o + a + s) + 4 * n) / (8 * n)
FROM (
    SELECT r.provider_id AS provider_id, count(r.id) AS n, sum(r.product_stars) AS p, sum(r.overall_stars) AS o,
           sum(r.attitude_stars) AS a, sum(r.after_sales_stars) AS s
    FROM zs_provider_rating r JOIN zs_completion c ON c.id = r.completion_id
    WHERE c.status = 'submitted' AND r.product_stars IS NOT NULL AND r.overall_stars IS NOT NULL
      AND r.attitude_stars IS NOT NULL AND r.after_sales_stars IS NOT NULL
    GROUP BY r.provider_id
) AS totals
"""


def upgrade():
    op.create_table(
        "zs_provider_rating_total",
        sa.Column("provider_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("product_stars", sa.Integer(), nullable=False),
        sa.Column("overall_stars", sa.Integer(), nullable=False),
        sa.Column("attitude_stars", sa.Integer(), nullable=False),
        sa.Column("after_sales_stars", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["zs_organisation.id"]),
        sa.PrimaryKeyConstraint("provider_id"),
    )
    with op.batch_alter_table("zs_provider_rating_total", schema=None) as batch_op:
        batch_op.create_index("ix_zs_provider_rating_total_rank", ["rank"], unique=False)
    op.execute(FILL)


def downgrade():
    with op.batch_alter_table("zs_provider_rating_total", schema=None) as batch_op:
        batch_op.drop_index("ix_zs_provider_rating_total_rank")
    op.drop_table("zs_provider_rating_total")
