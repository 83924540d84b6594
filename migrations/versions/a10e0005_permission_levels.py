"""Issue 10, permissions: module levels, system-administrator edits of base roles kept by ce init.

Revision ID: a10e0005
Revises: a10d0004
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10e0005'
down_revision = 'a10d0004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
