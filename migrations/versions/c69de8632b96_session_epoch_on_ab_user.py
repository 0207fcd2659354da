"""session epoch on ab_user: sessions and JWTs that logout, a password change and deactivation can end

Every existing session is signed out once on upgrade (it carries no epoch yet).

Revision ID: c69de8632b96
Revises: 0f1f02238056
Create Date: 2026-11-27 08:22:47.797150

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c69de8632b96'
down_revision = '0f1f02238056'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
