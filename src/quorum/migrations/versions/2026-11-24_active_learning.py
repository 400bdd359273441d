"""active_learning: each opted-in project's text classifier (pickled in the database so that
every server shares it), its settings and when it was last trained

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import quorum.db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "active_learning_model",
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("backend_id", sa.String(length=24), nullable=False),
        sa.Column("order_queue", sa.Boolean(), nullable=False),
        sa.Column("retrain_every", sa.Integer(), nullable=False),
        sa.Column("min_labels", sa.Integer(), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=True),
        sa.Column(
            "classes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("trained_on", sa.Integer(), nullable=False),
        sa.Column("trained_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", quorum.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["backend_id"],
            ["model_backend.id"],
            name=op.f("fk_active_learning_model_backend_id_model_backend"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_active_learning_model_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_active_learning_model_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_active_learning_model")),
    )
    op.create_index(
        op.f("ix_active_learning_model_backend_id"), "active_learning_model", ["backend_id"]
    )
    op.create_index(op.f("ix_active_learning_model_org_id"), "active_learning_model", ["org_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_active_learning_model_org_id"), table_name="active_learning_model")
    op.drop_index(op.f("ix_active_learning_model_backend_id"), table_name="active_learning_model")
    op.drop_table("active_learning_model")
