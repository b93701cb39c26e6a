"""Signed audit entries and the scan quarantine.

Each audit entry gets an Ed25519 signature of its hash (``signature``, base64; NULL for entries written
before this revision or without a key: ``audit verify`` reports those unless a signed checkpoint covers
them). ``scan_quarantine`` keeps every scan that ingest refused, with the reason, so that nothing is lost.

A registry that already holds business rows gets one ``baseline`` entry recording each row's digest
(``ledger``), so that ``audit verify`` can check them from now on. The migration holds no key: the entry is
unsigned, and the post anchors it once with ``cargoscan audit checkpoint --accept-unsigned`` after the upgrade.

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
    _baseline()


def _baseline() -> None:
    """One audit entry with the digest of every business row written before the ledger existed."""
    from sqlalchemy.orm import Session

    from cargoscan.registry import audit, ledger

    conn = op.get_bind()
    rows = dict(ledger.table_rows(Session(bind=conn)))
    if not rows:
        return
    with Session(bind=conn) as session:
        audit.append(session, actor="migration 0002", role="system", action="baseline", subject="",
                     details={"rows": rows, "note": "business rows written before revision 0002"})


def downgrade() -> None:
    op.drop_table('scan_quarantine')
    with op.batch_alter_table('audit_log', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('signature')
