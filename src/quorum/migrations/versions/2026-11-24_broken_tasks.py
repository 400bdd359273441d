"""broken_tasks: workers report a task broken when they skip it; enough reports fail the task

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reported_broken", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("project_workforce", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("broken_reports_to_fail", sa.Integer(), server_default="3", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("project_workforce", schema=None) as batch_op:
        batch_op.drop_column("broken_reports_to_fail")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_column("reported_broken")
