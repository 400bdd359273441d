"""staff_roles: platform staff accounts and their sessions; the worker/reviewer role of workers;
audit entries of staff actions that touched no organization; payout runs made by the platform

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quorum.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite rebuilds audit_entry to relax its NOT NULL, which drops its append-only triggers.
SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]


def _set_audit_org_nullable(nullable: bool) -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.alter_column("org_id", existing_type=sa.String(length=24), nullable=nullable)
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "staff_account",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_account")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_account_email")),
    )
    op.create_table(
        "staff_token",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("staff_id", sa.String(length=24), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_account.id"],
            name=op.f("fk_staff_token_staff_id_staff_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_staff_token_digest")),
    )
    with op.batch_alter_table("staff_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_token_staff_id"), ["staff_id"], unique=False)
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=10), server_default="worker", nullable=False)
        )
    with op.batch_alter_table("payout_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "paid_by", sa.String(length=12), server_default="organization", nullable=False
            )
        )
    _set_audit_org_nullable(True)


def downgrade() -> None:
    _set_audit_org_nullable(False)
    with op.batch_alter_table("payout_run", schema=None) as batch_op:
        batch_op.drop_column("paid_by")
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.drop_column("role")
    with op.batch_alter_table("staff_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_token_staff_id"))
    op.drop_table("staff_token")
    op.drop_table("staff_account")
