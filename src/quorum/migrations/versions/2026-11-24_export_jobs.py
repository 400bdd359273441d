"""export_jobs: background exports with a downloadable artifact; callback events about a batch
or an export job, not only a task

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 05:17:25.306371
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import quorum.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_job",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("batch_id", sa.String(length=24), nullable=True),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("selection", sa.String(length=20), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("task_count", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column(
            "skipped",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("artifact", sa.String(length=100), nullable=True),
        sa.Column("file_name", sa.String(length=300), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batch.id"],
            name=op.f("fk_export_job_batch_id_batch"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_export_job_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_export_job_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_job")),
    )
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_export_job_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_export_job_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_export_job_project_id"), ["project_id"], unique=False)
        batch_op.create_index(
            "ix_export_job_state_created_at", ["state", "created_at"], unique=False
        )

    with op.batch_alter_table("callback_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("export_job_id", sa.String(length=24), nullable=True))
        batch_op.alter_column("task_id", existing_type=sa.VARCHAR(length=24), nullable=True)
        batch_op.create_index(batch_op.f("ix_callback_event_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_callback_event_export_job_id"), ["export_job_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_callback_event_export_job_id_export_job"),
            "export_job",
            ["export_job_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_callback_event_batch_id_batch"),
            "batch",
            ["batch_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("callback_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_callback_event_batch_id_batch"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_callback_event_export_job_id_export_job"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_callback_event_export_job_id"))
        batch_op.drop_index(batch_op.f("ix_callback_event_batch_id"))
        batch_op.alter_column("task_id", existing_type=sa.VARCHAR(length=24), nullable=False)
        batch_op.drop_column("export_job_id")
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.drop_index("ix_export_job_state_created_at")
        batch_op.drop_index(batch_op.f("ix_export_job_project_id"))
        batch_op.drop_index(batch_op.f("ix_export_job_org_id"))
        batch_op.drop_index(batch_op.f("ix_export_job_batch_id"))

    op.drop_table("export_job")
