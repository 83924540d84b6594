"""Issue 10, hardening: audit of logins, exports, prints and console edits.

Revision ID: a10d0004
Revises: a10c0003
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10d0004'
down_revision = 'a10c0003'
branch_labels = None
depends_on = None


def upgrade():
    # No schema change: prints, exports and console edits are rows of the existing audit_log table.
    pass


def downgrade():
    pass

