"""I/O models of the callback API: events in the outbox and their delivery attempts."""

from datetime import datetime
from typing import Literal

from quorum.tasks.schemas import Read

EventState = Literal["pending", "delivered", "dead"]


class CallbackAttemptRead(Read):
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None


class CallbackEventRead(Read):
    id: str
    task_id: str | None
    batch_id: str | None
    export_job_id: str | None
    kind: str
    url: str
    state: EventState
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class CallbackEventDetail(CallbackEventRead):
    history: list[CallbackAttemptRead]


class CallbackEventPage(Read):
    docs: list[CallbackEventRead]
    limit: int
    has_more: bool
    next_token: str | None
