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
    with op.batch_alter_table('ab_user') as batch_op:
        batch_op.add_column(sa.Column('temp_password_expires_at', sa.DateTime(), nullable=True))
    op.create_table(
        'admin_invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('role_ids', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='fk_admin_invitation_user'),
        sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name='fk_admin_invitation_org'),
        sa.ForeignKeyConstraint(['invited_by_id'], ['ab_user.id'], name='fk_admin_invitation_invited_by'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'org_id', name='uq_admin_invitation_user_org'),
    )
    with op.batch_alter_table('admin_invitation') as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_invitation_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_invitation_org_id'), ['org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('admin_invitation') as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_invitation_org_id'))
        batch_op.drop_index(batch_op.f('ix_admin_invitation_user_id'))
    op.drop_table('admin_invitation')
    with op.batch_alter_table('ab_user') as batch_op:
        batch_op.drop_column('temp_password_expires_at')
