"""The audit log's one table; triggers created by its migration refuse UPDATE and DELETE."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow


class AuditEntry(Base):
    """Who did what to which object, when, from where, in which request."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_org_id_id", "org_id", "id"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    # No cascade: an organization with history cannot vanish with its audit log. None: a platform
    # staff action that touched no organization (the public pool, its pay).
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"))
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    target: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
