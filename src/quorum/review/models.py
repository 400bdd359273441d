"""Reviews of consolidated answers, level by level, and customers' audits of delivered tasks."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow

# open: waiting for a reviewer (or leased to one until leased_until); accepted, fixed, rejected:
# decided; superseded: the task was reopened before anyone decided.


class Review(Base):
    """One review level of one round of a task: the answer shown and the reviewer's decision."""

    __tablename__ = "review"
    __table_args__ = (Index("ix_review_project_id_state", "project_id", "state"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    level: Mapped[int]
    state: Mapped[str] = mapped_column(String(12), default="open")
    response: Mapped[dict[str, Any]]
    fixed_response: Mapped[dict[str, Any] | None]
    reviewer_id: Mapped[str | None] = mapped_column(
        ForeignKey("worker.id", ondelete="SET NULL"), index=True
    )
    leased_until: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class TaskAudit(Base):
    """A customer's verdict on a delivered task (Scale's audit call); a rejection reopens it."""

    __tablename__ = "task_audit"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    comments: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
