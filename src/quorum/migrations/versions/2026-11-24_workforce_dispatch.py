"""workforce_dispatch

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 02:35:29.322275
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import quorum.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payout_run",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("worker_count", sa.Integer(), nullable=False),
        sa.Column("csv", sa.Text(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_payout_run_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_run")),
    )
    with op.batch_alter_table("payout_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_run_org_id"), ["org_id"], unique=False)

    op.create_table(
        "qualification",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("task_type", sa.String(length=40), nullable=True),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_qualification_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_qualification_org_id_name")),
    )
    with op.batch_alter_table("qualification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qualification_org_id"), ["org_id"], unique=False)

    op.create_table(
        "task_type_pay_rate",
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("task_type", sa.String(length=40), nullable=False),
        sa.Column("cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_task_type_pay_rate_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "task_type", name=op.f("pk_task_type_pay_rate")),
    )
    op.create_table(
        "worker",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("pool_org_id", sa.String(length=24), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("locale", sa.String(length=20), nullable=False),
        sa.Column(
            "languages",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "skills",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_org_id"],
            ["organization.id"],
            name=op.f("fk_worker_pool_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker")),
        sa.UniqueConstraint("email", name=op.f("uq_worker_email")),
    )
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_pool_org_id"), ["pool_org_id"], unique=False)

    op.create_table(
        "project_member",
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("worker_id", sa.String(length=24), nullable=False),
        sa.Column("added_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_member_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
            name=op.f("fk_project_member_worker_id_worker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "worker_id", name=op.f("pk_project_member")),
    )
    with op.batch_alter_table("project_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_member_worker_id"), ["worker_id"], unique=False
        )

    op.create_table(
        "project_pay_rate",
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_project_pay_rate_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_pay_rate_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_pay_rate")),
    )
    with op.batch_alter_table("project_pay_rate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_pay_rate_org_id"), ["org_id"], unique=False)

    op.create_table(
        "project_qualification",
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("qualification_id", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_qualification_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["qualification_id"],
            ["qualification.id"],
            name=op.f("fk_project_qualification_qualification_id_qualification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "qualification_id", name=op.f("pk_project_qualification")
        ),
    )
    with op.batch_alter_table("project_qualification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_qualification_qualification_id"),
            ["qualification_id"],
            unique=False,
        )

    op.create_table(
        "project_workforce",
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("access", sa.String(length=10), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("updated_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_project_workforce_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_workforce_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_workforce")),
    )
    with op.batch_alter_table("project_workforce", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_workforce_org_id"), ["org_id"], unique=False)

    op.create_table(
        "qualification_test_item",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("qualification_id", sa.String(length=24), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "gold",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["qualification_id"],
            ["qualification.id"],
            name=op.f("fk_qualification_test_item_qualification_id_qualification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification_test_item")),
    )
    with op.batch_alter_table("qualification_test_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qualification_test_item_qualification_id"),
            ["qualification_id"],
            unique=False,
        )

    op.create_table(
        "worker_qualification",
        sa.Column("worker_id", sa.String(length=24), nullable=False),
        sa.Column("qualification_id", sa.String(length=24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_score", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=True),
        sa.Column("granted_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["qualification_id"],
            ["qualification.id"],
            name=op.f("fk_worker_qualification_qualification_id_qualification"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
            name=op.f("fk_worker_qualification_worker_id_worker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "worker_id", "qualification_id", name=op.f("pk_worker_qualification")
        ),
    )
    with op.batch_alter_table("worker_qualification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_worker_qualification_qualification_id"),
            ["qualification_id"],
            unique=False,
        )

    op.create_table(
        "worker_token",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("worker_id", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
            name=op.f("fk_worker_token_worker_id_worker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_worker_token_digest")),
    )
    with op.batch_alter_table("worker_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_token_worker_id"), ["worker_id"], unique=False)

    op.create_table(
        "assignment",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("task_id", sa.String(length=24), nullable=False),
        sa.Column("worker_id", sa.String(length=24), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("leased_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("leased_until", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_assignment_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_assignment_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_assignment_task_id_task"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
            name=op.f("fk_assignment_worker_id_worker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
        sa.UniqueConstraint("task_id", "worker_id", name=op.f("uq_assignment_task_id_worker_id")),
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignment_state_leased_until", ["state", "leased_until"], unique=False
        )
        batch_op.create_index("ix_assignment_task_id_state", ["task_id", "state"], unique=False)
        batch_op.create_index("ix_assignment_worker_id_id", ["worker_id", "id"], unique=False)

    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("worker_id", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("cents", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.String(length=24), nullable=True),
        sa.Column("payout_run_id", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_ledger_entry_assignment_id_assignment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_ledger_entry_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payout_run_id"],
            ["payout_run.id"],
            name=op.f("fk_ledger_entry_payout_run_id_payout_run"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
            name=op.f("fk_ledger_entry_worker_id_worker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entry_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_entry_org_id_worker_id", ["org_id", "worker_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_entry_worker_id"), ["worker_id"], unique=False)

    op.create_table(
        "payout_item",
        sa.Column("ledger_entry_id", sa.String(length=24), nullable=False),
        sa.Column("payout_run_id", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_payout_item_ledger_entry_id_ledger_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payout_run_id"],
            ["payout_run.id"],
            name=op.f("fk_payout_item_payout_run_id_payout_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ledger_entry_id", name=op.f("pk_payout_item")),
    )
    with op.batch_alter_table("payout_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payout_item_payout_run_id"), ["payout_run_id"], unique=False
        )

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_dispatch_queue",
            ["project_id", sa.literal_column("priority DESC"), "id"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_task_dispatch_queue",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    with op.batch_alter_table("payout_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_item_payout_run_id"))

    op.drop_table("payout_item")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entry_worker_id"))
        batch_op.drop_index("ix_ledger_entry_org_id_worker_id")
        batch_op.drop_index(batch_op.f("ix_ledger_entry_assignment_id"))

    op.drop_table("ledger_entry")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_worker_id_id")
        batch_op.drop_index("ix_assignment_task_id_state")
        batch_op.drop_index("ix_assignment_state_leased_until")

    op.drop_table("assignment")
    with op.batch_alter_table("worker_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_token_worker_id"))

    op.drop_table("worker_token")
    with op.batch_alter_table("worker_qualification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_qualification_qualification_id"))

    op.drop_table("worker_qualification")
    with op.batch_alter_table("qualification_test_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qualification_test_item_qualification_id"))

    op.drop_table("qualification_test_item")
    with op.batch_alter_table("project_workforce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_workforce_org_id"))

    op.drop_table("project_workforce")
    with op.batch_alter_table("project_qualification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_qualification_qualification_id"))

    op.drop_table("project_qualification")
    with op.batch_alter_table("project_pay_rate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_pay_rate_org_id"))

    op.drop_table("project_pay_rate")
    with op.batch_alter_table("project_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_member_worker_id"))

    op.drop_table("project_member")
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_pool_org_id"))

    op.drop_table("worker")
    op.drop_table("task_type_pay_rate")
    with op.batch_alter_table("qualification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qualification_org_id"))

    op.drop_table("qualification")
    with op.batch_alter_table("payout_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_run_org_id"))

    op.drop_table("payout_run")
