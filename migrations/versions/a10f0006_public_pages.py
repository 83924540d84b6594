"""Issue 10, public pages: registration, progress and upload limits.

Revision ID: a10f0006
Revises: a10e0005
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10f0006'
down_revision = 'a10e0005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
