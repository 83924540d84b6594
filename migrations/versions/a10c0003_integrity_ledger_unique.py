"""Issue 10, integrity: one ledger entry per declaration on every database.

Revision ID: a10c0003
Revises: a10b0002
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10c0003'
down_revision = 'a10b0002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
