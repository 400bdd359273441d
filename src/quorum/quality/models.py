"""Quality settings per project, gold tasks, and what the platform knows of each worker."""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow


class ProjectQuality(Base):
    """How a project mixes in gold, decides when a task is done, and whom it stops trusting."""

    __tablename__ = "project_quality"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    gold_rate: Mapped[float] = mapped_column(Float, default=0.0)
    consolidation: Mapped[str] = mapped_column(String(20), default="dawid_skene")
    confidence_target: Mapped[float] = mapped_column(Float, default=0.0)
    max_responses: Mapped[int] = mapped_column(default=1)
    trust_threshold: Mapped[float] = mapped_column(Float, default=0.0)
    trust_min_scored: Mapped[int] = mapped_column(default=10)
    review_levels: Mapped[int] = mapped_column(default=0)
    reviewer_qualification_id: Mapped[str | None] = mapped_column(
        ForeignKey("qualification.id", ondelete="SET NULL")
    )
    # The last Dawid-Skene fit of the project: {"classes": [...], "priors": [...]}.
    model: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GoldTask(Base):
    """A task with a known answer, served to any number of workers and scored against it.

    It points at a customer's completed task, or at a task imported as gold (status ``gold``),
    which never appears in the customer's listings, exports or batch counts.
    """

    __tablename__ = "gold_task"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), unique=True)
    answer: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkerTrust(Base):
    """A worker's record on one project: gold results, the EM estimate, and a pause if any.

    ``confusion`` is the worker's Dawid-Skene confusion matrix over the project model's classes
    (rows: true class, columns: the worker's answer).
    """

    __tablename__ = "worker_trust"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    worker_id: Mapped[str] = mapped_column(
        ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    gold_scored: Mapped[int] = mapped_column(default=0)
    gold_score_sum: Mapped[float] = mapped_column(Float, default=0.0)
    em_accuracy: Mapped[float | None] = mapped_column(Float)
    em_labels: Mapped[int] = mapped_column(default=0)
    confusion: Mapped[list[Any] | None]
    trust: Mapped[float] = mapped_column(Float)
    scored_at_reinstatement: Mapped[int] = mapped_column(default=0)
    paused_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GoldResult(Base):
    """One worker's score on one gold task (their answer is on the assignment)."""

    __tablename__ = "gold_result"
    __table_args__ = (
        UniqueConstraint("assignment_id"),
        Index("ix_gold_result_project_id_worker_id", "project_id", "worker_id"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    gold_task_id: Mapped[str] = mapped_column(
        ForeignKey("gold_task.id", ondelete="CASCADE"), index=True
    )
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"))
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskConfidence(Base):
    """The posterior confidence of a task's consolidated answer, for metrics and review sampling."""

    __tablename__ = "task_confidence"

    task_id: Mapped[str] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    confidence: Mapped[float] = mapped_column(Float)
    responses: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
