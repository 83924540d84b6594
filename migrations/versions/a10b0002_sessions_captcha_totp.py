"""Issue 10, sessions: session epoch (columns added by the foundation), captcha one-use store, TOTP.

Revision ID: a10b0002
Revises: a10a0001
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10b0002'
down_revision = 'a10a0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user') as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('ab_user') as batch_op:
        batch_op.drop_column('session_epoch')
