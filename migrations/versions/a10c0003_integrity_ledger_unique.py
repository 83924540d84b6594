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
    op.create_table(
        'hours_posting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('declaration_id', sa.Integer(), nullable=False),
        sa.Column('professional_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('subject_type', sa.String(length=16), nullable=False),
        sa.Column('hours', sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['declaration_id'], ['declaration.id'], name='fk_hours_posting_declaration',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['professional_id'], ['professional.id'], name='fk_hours_posting_professional'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('declaration_id', name='uq_hours_posting_declaration'),
    )
    with op.batch_alter_table('hours_posting') as batch_op:
        batch_op.create_index('ix_hours_posting_professional_id', ['professional_id'], unique=False)
    # Every declaration approved so far has its hours in the ledger: record one posting for each.
    op.execute(
        "INSERT INTO hours_posting (declaration_id, professional_id, year, subject_type, hours, created) "
        "SELECT id, professional_id, year, subject_type, COALESCE(recognised_hours, requested_hours, 0), "
        "COALESCE(decided_at, submitted_at, created) FROM declaration WHERE state = 'approved'"
    )
    # Parallel final approvals on SQLite counted some declarations two or three times: the running
    # totals are set again to the sum of the postings (one per approved declaration).
    op.execute(
        "UPDATE hours_ledger SET hours = COALESCE(s.total, 0) FROM ("
        "SELECT l.id AS lid, SUM(p.hours) AS total FROM hours_ledger l LEFT JOIN hours_posting p "
        "ON p.professional_id = l.professional_id AND p.year = l.year AND p.subject_type = l.subject_type "
        "GROUP BY l.id) AS s WHERE hours_ledger.id = s.lid AND hours_ledger.hours <> COALESCE(s.total, 0)"
    )


def downgrade():
    with op.batch_alter_table('hours_posting') as batch_op:
        batch_op.drop_index('ix_hours_posting_professional_id')
    op.drop_table('hours_posting')
