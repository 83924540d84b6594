"""Issue 10, accounts: admin invitations, one-time reset passwords with expiry.

Revision ID: a10a0001
Revises: 6fb4959fa25a
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10a0001'
down_revision = '6fb4959fa25a'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
