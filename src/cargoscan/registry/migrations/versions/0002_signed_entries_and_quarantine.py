"""Signed audit entries and the scan quarantine.

Each audit entry gets an Ed25519 signature of its hash (``signature``, base64; NULL for entries written
before this revision or without a key: ``audit verify`` reports those unless a signed checkpoint covers
them). ``scan_quarantine`` keeps every scan that ingest refused, with the reason, so that nothing is lost.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The audit triggers refuse UPDATE only; adding a nullable column rewrites no row.
    with op.batch_alter_table('audit_log', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('signature', sa.String(length=100), nullable=True))
    op.create_table('scan_quarantine',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scan_id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=400), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('scan_quarantine')
    with op.batch_alter_table('audit_log', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('signature')
