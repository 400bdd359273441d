"""Assignments: a worker's lease on a task, then their submitted response."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow
from quorum.tasks.models import Task

# active: leased until leased_until; submitted: counts as a response; expired, skipped and
# released: gave the room back; rejected: a submitted response thrown out by review, an audit or
# a pause for low trust (its room returns too). A worker holds at most one assignment per task.


class Assignment(Base):
    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("task_id", "worker_id"),
        Index("ix_assignment_task_id_state", "task_id", "state"),
        Index("ix_assignment_worker_id_id", "worker_id", "id"),
        Index("ix_assignment_state_leased_until", "state", "leased_until"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10), default="active")
    leased_at: Mapped[datetime] = mapped_column(default=utcnow)
    leased_until: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    response: Mapped[dict[str, Any] | None]
    skip_reason: Mapped[str | None] = mapped_column(Text)
    # Skipped because the task itself cannot be done (the image does not load, the text is
    # empty); enough such reports from distinct workers fail the task.
    reported_broken: Mapped[bool] = mapped_column(default=False, server_default=false())


# The work queue of a project: pending tasks by priority, then age (ids sort by creation time).
Index(
    "ix_task_dispatch_queue",
    Task.project_id,
    Task.priority.desc(),
    Task.id,
    postgresql_where=Task.status == "pending",
    sqlite_where=Task.status == "pending",
)
