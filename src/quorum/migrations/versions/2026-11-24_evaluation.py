"""evaluation: campaigns, private prompts, model owners and versions, prompt issues,
fingerprinted submissions and their outputs, comparison pairs, re-checks; model backends and
their answers (pre-labels, automatic ratings)

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-24 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import quorum.db.base

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_campaign",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rubric", sa.Text(), nullable=False),
        sa.Column(
            "criteria",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("required_responses", sa.Integer(), nullable=False),
        sa.Column("min_judgments", sa.Integer(), nullable=False),
        sa.Column("rater_cap", sa.Integer(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_evaluation_campaign_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_evaluation_campaign_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_campaign")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_evaluation_campaign_org_id_name")),
    )
    op.create_index(
        op.f("ix_evaluation_campaign_org_id"), "evaluation_campaign", ["org_id"], unique=False
    )
    op.create_table(
        "evaluation_prompt",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("campaign_id", sa.String(length=24), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["evaluation_campaign.id"],
            name=op.f("fk_evaluation_prompt_campaign_id_evaluation_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_prompt")),
        sa.UniqueConstraint(
            "campaign_id", "position", name=op.f("uq_evaluation_prompt_campaign_id_position")
        ),
    )
    op.create_index(
        op.f("ix_evaluation_prompt_campaign_id"), "evaluation_prompt", ["campaign_id"], unique=False
    )
    op.create_table(
        "model_owner",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("campaign_id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["evaluation_campaign.id"],
            name=op.f("fk_model_owner_campaign_id_evaluation_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_owner")),
        sa.UniqueConstraint("campaign_id", "name", name=op.f("uq_model_owner_campaign_id_name")),
        sa.UniqueConstraint("digest", name=op.f("uq_model_owner_digest")),
    )
    op.create_index(
        op.f("ix_model_owner_campaign_id"), "model_owner", ["campaign_id"], unique=False
    )
    op.create_table(
        "model_version",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("owner_id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("released_submission_id", sa.String(length=24), nullable=True),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["model_owner.id"],
            name=op.f("fk_model_version_owner_id_model_owner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_version")),
        sa.UniqueConstraint(
            "owner_id", "name", "version", name=op.f("uq_model_version_owner_id_name_version")
        ),
    )
    op.create_index(op.f("ix_model_version_owner_id"), "model_version", ["owner_id"], unique=False)
    op.create_table(
        "evaluation_submission",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("campaign_id", sa.String(length=24), nullable=False),
        sa.Column("model_version_id", sa.String(length=24), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("output_count", sa.Integer(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["evaluation_campaign.id"],
            name=op.f("fk_evaluation_submission_campaign_id_evaluation_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
            name=op.f("fk_evaluation_submission_model_version_id_model_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_submission")),
    )
    op.create_index(
        op.f("ix_evaluation_submission_campaign_id"),
        "evaluation_submission",
        ["campaign_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_evaluation_submission_model_version_id"),
        "evaluation_submission",
        ["model_version_id"],
        unique=False,
    )
    op.create_table(
        "prompt_issue",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("owner_id", sa.String(length=24), nullable=False),
        sa.Column("model_version_id", sa.String(length=24), nullable=False),
        sa.Column("prompt_id", sa.String(length=24), nullable=False),
        sa.Column("issued_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
            name=op.f("fk_prompt_issue_model_version_id_model_version"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["model_owner.id"],
            name=op.f("fk_prompt_issue_owner_id_model_owner"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["evaluation_prompt.id"],
            name=op.f("fk_prompt_issue_prompt_id_evaluation_prompt"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_issue")),
        sa.UniqueConstraint(
            "model_version_id", "prompt_id", name=op.f("uq_prompt_issue_model_version_id_prompt_id")
        ),
    )
    op.create_index(op.f("ix_prompt_issue_owner_id"), "prompt_issue", ["owner_id"], unique=False)
    op.create_index(op.f("ix_prompt_issue_prompt_id"), "prompt_issue", ["prompt_id"], unique=False)
    op.create_table(
        "evaluation_recheck",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("campaign_id", sa.String(length=24), nullable=False),
        sa.Column("submission_id", sa.String(length=24), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("match_rate", sa.Float(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["evaluation_campaign.id"],
            name=op.f("fk_evaluation_recheck_campaign_id_evaluation_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["evaluation_submission.id"],
            name=op.f("fk_evaluation_recheck_submission_id_evaluation_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_recheck")),
    )
    op.create_index(
        op.f("ix_evaluation_recheck_campaign_id"),
        "evaluation_recheck",
        ["campaign_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_evaluation_recheck_submission_id"),
        "evaluation_recheck",
        ["submission_id"],
        unique=False,
    )
    op.create_table(
        "submission_output",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("submission_id", sa.String(length=24), nullable=False),
        sa.Column("prompt_id", sa.String(length=24), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("reveals_identity", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["evaluation_prompt.id"],
            name=op.f("fk_submission_output_prompt_id_evaluation_prompt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["evaluation_submission.id"],
            name=op.f("fk_submission_output_submission_id_evaluation_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_output")),
        sa.UniqueConstraint(
            "submission_id", "prompt_id", name=op.f("uq_submission_output_submission_id_prompt_id")
        ),
    )
    op.create_index(
        op.f("ix_submission_output_prompt_id"), "submission_output", ["prompt_id"], unique=False
    )
    op.create_table(
        "comparison_pair",
        sa.Column("task_id", sa.String(length=24), nullable=False),
        sa.Column("campaign_id", sa.String(length=24), nullable=False),
        sa.Column("prompt_id", sa.String(length=24), nullable=False),
        sa.Column("left_output_id", sa.String(length=24), nullable=False),
        sa.Column("right_output_id", sa.String(length=24), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["evaluation_campaign.id"],
            name=op.f("fk_comparison_pair_campaign_id_evaluation_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["left_output_id"],
            ["submission_output.id"],
            name=op.f("fk_comparison_pair_left_output_id_submission_output"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["evaluation_prompt.id"],
            name=op.f("fk_comparison_pair_prompt_id_evaluation_prompt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["right_output_id"],
            ["submission_output.id"],
            name=op.f("fk_comparison_pair_right_output_id_submission_output"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
            name=op.f("fk_comparison_pair_task_id_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_comparison_pair")),
    )
    op.create_index(
        op.f("ix_comparison_pair_campaign_id"), "comparison_pair", ["campaign_id"], unique=False
    )

    op.create_table(
        "model_backend",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_model_backend_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_backend")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_model_backend_org_id_name")),
    )
    op.create_index(op.f("ix_model_backend_org_id"), "model_backend", ["org_id"], unique=False)
    op.create_table(
        "model_answer",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("task_id", sa.String(length=24), nullable=False),
        sa.Column("backend_id", sa.String(length=24), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["backend_id"],
            ["model_backend.id"],
            name=op.f("fk_model_answer_backend_id_model_backend"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_model_answer_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_answer")),
        sa.UniqueConstraint(
            "task_id", "backend_id", "role", name=op.f("uq_model_answer_task_id_backend_id_role")
        ),
    )
    op.create_index(
        op.f("ix_model_answer_backend_id"), "model_answer", ["backend_id"], unique=False
    )
    op.create_index(op.f("ix_model_answer_task_id"), "model_answer", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_model_answer_task_id"), table_name="model_answer")
    op.drop_index(op.f("ix_model_answer_backend_id"), table_name="model_answer")
    op.drop_table("model_answer")
    op.drop_index(op.f("ix_model_backend_org_id"), table_name="model_backend")
    op.drop_table("model_backend")
    op.drop_index(op.f("ix_comparison_pair_campaign_id"), table_name="comparison_pair")
    op.drop_table("comparison_pair")
    op.drop_index(op.f("ix_submission_output_prompt_id"), table_name="submission_output")
    op.drop_table("submission_output")
    op.drop_index(op.f("ix_evaluation_recheck_submission_id"), table_name="evaluation_recheck")
    op.drop_index(op.f("ix_evaluation_recheck_campaign_id"), table_name="evaluation_recheck")
    op.drop_table("evaluation_recheck")
    op.drop_index(op.f("ix_prompt_issue_prompt_id"), table_name="prompt_issue")
    op.drop_index(op.f("ix_prompt_issue_owner_id"), table_name="prompt_issue")
    op.drop_table("prompt_issue")
    op.drop_index(
        op.f("ix_evaluation_submission_model_version_id"), table_name="evaluation_submission"
    )
    op.drop_index(op.f("ix_evaluation_submission_campaign_id"), table_name="evaluation_submission")
    op.drop_table("evaluation_submission")
    op.drop_index(op.f("ix_model_version_owner_id"), table_name="model_version")
    op.drop_table("model_version")
    op.drop_index(op.f("ix_model_owner_campaign_id"), table_name="model_owner")
    op.drop_table("model_owner")
    op.drop_index(op.f("ix_evaluation_prompt_campaign_id"), table_name="evaluation_prompt")
    op.drop_table("evaluation_prompt")
    op.drop_index(op.f("ix_evaluation_campaign_org_id"), table_name="evaluation_campaign")
    op.drop_table("evaluation_campaign")
