"""model_owner_token_expiry: model owners' tokens expire and can be revoked

Owners admitted before this revision get the default lifetime (90 days) from now, so no token
is left that never expires.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 01:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import quorum.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXISTING_OWNERS_LIFETIME = timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("model_owner", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("revoked_at", quorum.db.base.UTCDateTime(timezone=True), nullable=True)
        )
    owners = sa.table(
        "model_owner", sa.column("expires_at", quorum.db.base.UTCDateTime(timezone=True))
    )
    op.execute(owners.update().values(expires_at=datetime.now(UTC) + EXISTING_OWNERS_LIFETIME))
    with op.batch_alter_table("model_owner", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at",
            existing_type=quorum.db.base.UTCDateTime(timezone=True),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("model_owner", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
