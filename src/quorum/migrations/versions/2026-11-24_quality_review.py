"""quality_review

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 02:52:37.477481
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import quorum.db.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_quality",
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("gold_rate", sa.Float(), nullable=False),
        sa.Column("consolidation", sa.String(length=20), nullable=False),
        sa.Column("confidence_target", sa.Float(), nullable=False),
        sa.Column("max_responses", sa.Integer(), nullable=False),
        sa.Column("trust_threshold", sa.Float(), nullable=False),
        sa.Column("trust_min_scored", sa.Integer(), nullable=False),
        sa.Column("review_levels", sa.Integer(), nullable=False),
        sa.Column("reviewer_qualification_id", sa.String(length=24), nullable=True),
        sa.Column(
            "model",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_project_quality_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_quality_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_qualification_id"],
            ["qualification.id"],
            name=op.f("fk_project_quality_reviewer_qualification_id_qualification"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_quality")),
    )
    with op.batch_alter_table("project_quality", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_quality_org_id"), ["org_id"], unique=False)

    op.create_table(
        "worker_trust",
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("worker_id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("gold_scored", sa.Integer(), nullable=False),
        sa.Column("gold_score_sum", sa.Float(), nullable=False),
        sa.Column("em_accuracy", sa.Float(), nullable=True),
        sa.Column("em_labels", sa.Integer(), nullable=False),
        sa.Column(
            "confusion",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("trust", sa.Float(), nullable=False),
        sa.Column("scored_at_reinstatement", sa.Integer(), nullable=False),
        sa.Column("paused_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_worker_trust_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_worker_trust_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
            name=op.f("fk_worker_trust_worker_id_worker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "worker_id", name=op.f("pk_worker_trust")),
    )
    with op.batch_alter_table("worker_trust", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_trust_worker_id"), ["worker_id"], unique=False)

    op.create_table(
        "gold_task",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("task_id", sa.String(length=24), nullable=False),
        sa.Column(
            "answer",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_gold_task_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_gold_task_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_gold_task_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gold_task")),
        sa.UniqueConstraint("task_id", name=op.f("uq_gold_task_task_id")),
    )
    with op.batch_alter_table("gold_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gold_task_project_id"), ["project_id"], unique=False)

    op.create_table(
        "review",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("task_id", sa.String(length=24), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "fixed_response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("reviewer_id", sa.String(length=24), nullable=True),
        sa.Column("leased_until", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_review_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_review_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["worker.id"],
            name=op.f("fk_review_reviewer_id_worker"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_review_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index("ix_review_project_id_state", ["project_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_reviewer_id"), ["reviewer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_task_id"), ["task_id"], unique=False)

    op.create_table(
        "task_audit",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("task_id", sa.String(length=24), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_task_audit_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_audit_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_audit")),
    )
    with op.batch_alter_table("task_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_audit_task_id"), ["task_id"], unique=False)

    op.create_table(
        "task_confidence",
        sa.Column("task_id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("updated_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_task_confidence_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
            name=op.f("fk_task_confidence_task_id_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task_confidence")),
    )
    with op.batch_alter_table("task_confidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_task_confidence_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "gold_result",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("gold_task_id", sa.String(length=24), nullable=False),
        sa.Column("worker_id", sa.String(length=24), nullable=False),
        sa.Column("assignment_id", sa.String(length=24), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_gold_result_assignment_id_assignment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["gold_task_id"],
            ["gold_task.id"],
            name=op.f("fk_gold_result_gold_task_id_gold_task"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_gold_result_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_gold_result_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
            name=op.f("fk_gold_result_worker_id_worker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gold_result")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_gold_result_assignment_id")),
    )
    with op.batch_alter_table("gold_result", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gold_result_gold_task_id"), ["gold_task_id"], unique=False
        )
        batch_op.create_index(
            "ix_gold_result_project_id_worker_id", ["project_id", "worker_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("gold_result", schema=None) as batch_op:
        batch_op.drop_index("ix_gold_result_project_id_worker_id")
        batch_op.drop_index(batch_op.f("ix_gold_result_gold_task_id"))

    op.drop_table("gold_result")
    with op.batch_alter_table("task_confidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_confidence_project_id"))

    op.drop_table("task_confidence")
    with op.batch_alter_table("task_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_audit_task_id"))

    op.drop_table("task_audit")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_task_id"))
        batch_op.drop_index(batch_op.f("ix_review_reviewer_id"))
        batch_op.drop_index("ix_review_project_id_state")

    op.drop_table("review")
    with op.batch_alter_table("gold_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gold_task_project_id"))

    op.drop_table("gold_task")
    with op.batch_alter_table("worker_trust", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_trust_worker_id"))

    op.drop_table("worker_trust")
    with op.batch_alter_table("project_quality", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_quality_org_id"))

    op.drop_table("project_quality")
