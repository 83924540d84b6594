"""Issue 10, permissions: module levels, system-administrator edits of base roles kept by ce init.

* ``base_role_choice``: the system administrator's choice of module levels per capacity (role matrix).
* ``org_role.modules`` becomes ``{module: [levels]}``: every existing list of modules is migrated to
  all the levels those modules had (view, edit, export, review: the service keeps those a module
  really offers at the next ``flask ce init``). The password reset, formerly implied by the
  professionals module, is a module of its own and is not carried over (it was never chosen).

Revision ID: a10e0005
Revises: a10d0004
Create Date: 2026-12-01 23:30:00

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10e0005'
down_revision = 'a10d0004'
branch_labels = None
depends_on = None

ALL_LEVELS = ["view", "edit", "export", "review"]


def _rows(conn):
    org_role = sa.table("org_role", sa.column("id", sa.Integer), sa.column("modules", sa.JSON))
    return org_role, conn.execute(sa.select(org_role.c.id, org_role.c.modules)).all()


def _load(value):
    if isinstance(value, (bytes, str)):
        value = json.loads(value)
    return value


def upgrade():
    op.create_table(
        'base_role_choice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('capacity', sa.String(length=16), nullable=False),
        sa.Column('offered', sa.JSON(), nullable=False),
        sa.Column('chosen', sa.JSON(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('capacity'),
    )
    conn = op.get_bind()
    org_role, rows = _rows(conn)
    for role_id, modules in rows:
        modules = _load(modules)
        if isinstance(modules, list):
            levels = {str(key): list(ALL_LEVELS) for key in modules}
            conn.execute(org_role.update().where(org_role.c.id == role_id).values(modules=levels))


def downgrade():
    conn = op.get_bind()
    org_role, rows = _rows(conn)
    for role_id, modules in rows:
        modules = _load(modules)
        if isinstance(modules, dict):
            keys = [key for key, levels in modules.items() if levels]
            conn.execute(org_role.update().where(org_role.c.id == role_id).values(modules=keys))
    op.drop_table('base_role_choice')
