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
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.create_table(
        'captcha_challenge',
        sa.Column('id', sa.String(length=43), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('captcha_challenge') as batch_op:
        batch_op.create_index('ix_captcha_challenge_expires_at', ['expires_at'], unique=False)
    op.create_table(
        'totp_recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='fk_totp_recovery_code_user', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('totp_recovery_code') as batch_op:
        batch_op.create_index(batch_op.f('ix_totp_recovery_code_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('totp_recovery_code') as batch_op:
        batch_op.drop_index(batch_op.f('ix_totp_recovery_code_user_id'))
    op.drop_table('totp_recovery_code')
    with op.batch_alter_table('captcha_challenge') as batch_op:
        batch_op.drop_index('ix_captcha_challenge_expires_at')
    op.drop_table('captcha_challenge')
    with op.batch_alter_table('ab_user') as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('session_epoch')
