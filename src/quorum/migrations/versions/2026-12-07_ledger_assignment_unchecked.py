"""ledger_assignment_unchecked: a ledger entry's assignment is no longer a foreign key

PostgreSQL checked it by locking the assignment row that the same round's submit had just
updated, which cost more than the rest of writing the entry; the one code path that deletes
assignments (deleting a project) now detaches their entries itself.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "fk_ledger_entry_assignment_id_assignment"


def upgrade() -> None:
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_constraint(CONSTRAINT, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_foreign_key(
            CONSTRAINT, "assignment", ["assignment_id"], ["id"], ondelete="SET NULL"
        )
