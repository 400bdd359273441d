"""task_default_times: a task's created_at and updated_at default to the database's now()

Bulk imports on PostgreSQL leave both columns out of COPY: parsing two timestamps per row is
about a twentieth of the database's work per imported task. Only PostgreSQL gets the defaults:
SQLite cannot change a column's default without copying the whole table, and its bulk path
writes both columns.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("task", "created_at", server_default=sa.func.now())
    op.alter_column("task", "updated_at", server_default=sa.func.now())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("task", "updated_at", server_default=None)
    op.alter_column("task", "created_at", server_default=None)
