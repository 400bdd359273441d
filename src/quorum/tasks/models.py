"""Projects, batches and tasks: the customer's work, always owned by one organization."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow

TASK_STATUSES = ("pending", "completed", "canceled", "error")


class Project(Base):
    __tablename__ = "project"
    # (id, org_id) is what a task's foreign key names: one check per inserted task that its
    # project exists and belongs to the task's organization.
    __table_args__ = (UniqueConstraint("org_id", "name"), UniqueConstraint("id", "org_id"))

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    param_history: Mapped[list[Any]] = mapped_column(default=list)
    required_responses: Mapped[int] = mapped_column(default=1)
    callback_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Batch(Base):
    __tablename__ = "batch"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    callback: Mapped[str] = mapped_column(Text, default="")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    calibration_batch: Mapped[bool] = mapped_column(default=False)
    self_label_batch: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finalized_at: Mapped[datetime | None]


class Task(Base):
    __tablename__ = "task"
    # Every index and foreign key here is paid for by each inserted task (bulk imports insert
    # millions), so each one serves a query: one foreign key covers the project and its
    # organization (deleting either cascades), the batch index holds only tasks in a batch, and
    # (project_id, status, id) reads a project's tasks of one state in creation order.
    __table_args__ = (
        UniqueConstraint("org_id", "unique_id"),
        ForeignKeyConstraint(
            ["project_id", "org_id"], ["project.id", "project.org_id"], ondelete="CASCADE"
        ),
        Index("ix_task_org_id_id", "org_id", "id"),
        Index("ix_task_project_id_status_id", "project_id", "status", "id"),
        Index(
            "ix_task_batch_id_status",
            "batch_id",
            "status",
            postgresql_where=text("batch_id IS NOT NULL"),
            sqlite_where=text("batch_id IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(IdType)
    project_id: Mapped[str] = mapped_column(IdType)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    instruction: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]]
    response: Mapped[dict[str, Any] | None]
    callback_url: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    unique_id: Mapped[str | None] = mapped_column(String(255))
    priority: Mapped[int] = mapped_column(default=0)
    required_responses: Mapped[int] = mapped_column(default=1)
    is_test: Mapped[bool] = mapped_column(default=False)
    customer_review_status: Mapped[str | None] = mapped_column(String(20))
    callback_succeeded: Mapped[bool | None]
    # The database's clock too: bulk imports leave both out of COPY (parsing two timestamps is
    # about a twentieth of PostgreSQL's work per task), so they are when the chunk's transaction
    # began.
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )
    completed_at: Mapped[datetime | None]
