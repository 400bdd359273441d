"""The callback outbox: one row per task event to deliver, and one per delivery attempt."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow


class CallbackEvent(Base):
    """An event written in the same transaction as the state change it reports.

    It is about a task (``task.completed``), a batch (``batch.completed``) or an export job
    (``export.ready``): the matching id is set, the others are null.

    ``body`` is the exact JSON posted on every attempt, so duplicates are byte-identical and share
    the event id. A sender claims an event by setting ``claim_token`` and ``claimed_until``; a
    sender that dies leaves the claim to expire and another sender retries.
    """

    __tablename__ = "callback_event"
    __table_args__ = (Index("ix_callback_event_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), index=True
    )
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("batch.id", ondelete="CASCADE"), index=True
    )
    export_job_id: Mapped[str | None] = mapped_column(
        ForeignKey("export_job.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class CallbackAttempt(Base):
    """One POST of an event: what the receiver answered, or why it could not be reached."""

    __tablename__ = "callback_attempt"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(
        ForeignKey("callback_event.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime]
    duration_ms: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
