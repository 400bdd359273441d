"""task_insert_cost: fewer checks and index entries per inserted task, and an index that reads a
project's tasks of one state in creation order

One foreign key (project_id, org_id) -> project (id, org_id) replaces the two to organization
and project: one lookup per inserted task instead of two, and it also refuses a task whose
organization is not its project's. The batch index leaves out the tasks of no batch. Exports
read (project_id, status, id) in order instead of sorting.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_project_id_org_id"), ["id", "org_id"])
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_constraint("fk_task_org_id_organization", type_="foreignkey")
        batch_op.drop_constraint("fk_task_project_id_project", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_task_project_id_project"),
            "project",
            ["project_id", "org_id"],
            ["id", "org_id"],
            ondelete="CASCADE",
        )
        batch_op.drop_index("ix_task_project_id_status")
        batch_op.create_index("ix_task_project_id_status_id", ["project_id", "status", "id"])
        batch_op.drop_index("ix_task_batch_id_status")
        batch_op.create_index(
            "ix_task_batch_id_status",
            ["batch_id", "status"],
            postgresql_where=sa.text("batch_id IS NOT NULL"),
            sqlite_where=sa.text("batch_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_batch_id_status")
        batch_op.create_index("ix_task_batch_id_status", ["batch_id", "status"])
        batch_op.drop_index("ix_task_project_id_status_id")
        batch_op.create_index("ix_task_project_id_status", ["project_id", "status"])
        batch_op.drop_constraint("fk_task_project_id_project", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_task_project_id_project"),
            "project",
            ["project_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_task_org_id_organization"),
            "organization",
            ["org_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_project_id_org_id"), type_="unique")
