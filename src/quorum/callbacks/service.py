"""The callback outbox: enqueue task events, claim due ones for a sender, record each outcome.

An event is written in the transaction that changes the task, so a committed completion always has
its callback and a rolled-back one never does. Senders claim events with ``FOR UPDATE SKIP
LOCKED`` (PostgreSQL; SQLite serializes writers) and a lease, so two senders never post the same
attempt, and a sender that dies mid-delivery only delays the event until its lease runs out.
"""

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from quorum.accounts.models import Organization
from quorum.callbacks.models import CallbackAttempt, CallbackEvent
from quorum.callbacks.schemas import (
    CallbackAttemptRead,
    CallbackEventDetail,
    CallbackEventPage,
    CallbackEventRead,
)
from quorum.db.base import utcnow
from quorum.db.pagination import decode_cursor, encode_cursor
from quorum.errors import Invalid, NotFound
from quorum.tasks.models import Project, Task

MAX_PAGE = 100


def task_callback_url(db: Session, *, task: Task) -> str | None:
    """Where a task's events go: its own ``callback_url``, else its project's; None for nowhere."""
    return task.callback_url or db.get_one(Project, task.project_id).callback_url


def enqueue_task_event(
    db: Session, *, url: str, task: Task, kind: str, task_object: dict[str, Any]
) -> CallbackEvent:
    """Queue Scale's callback for a task that just changed state."""
    body = {
        "task": task_object,
        "response": task.response,
        "task_id": task.id,
        "status": task.status,
    }
    return enqueue_event(db, org_id=task.org_id, kind=kind, url=url, body=body, task_id=task.id)


def enqueue_event(
    db: Session,
    *,
    org_id: str,
    kind: str,
    url: str,
    body: dict[str, Any],
    task_id: str | None = None,
    batch_id: str | None = None,
    export_job_id: str | None = None,
) -> CallbackEvent:
    """Queue one event (about a task, a batch or an export job) for the sender to post."""
    event = CallbackEvent(
        org_id=org_id,
        task_id=task_id,
        batch_id=batch_id,
        export_job_id=export_job_id,
        kind=kind,
        url=url,
        body=json.dumps(body, separators=(",", ":")),
    )
    db.add(event)
    return event


@dataclass(frozen=True)
class ClaimedEvent:
    """An event a sender holds for one attempt, with what it needs to post it."""

    id: str
    claim_token: str
    kind: str
    url: str
    body: bytes
    attempt: int
    auth_key: str
    signing_secret: str


@dataclass(frozen=True)
class Outcome:
    """What one POST came to: a status code, or an error; ``permanent`` skips the retries."""

    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim_due_events(db: Session, *, limit: int, claim_seconds: float) -> list[ClaimedEvent]:
    """Lease up to ``limit`` due events of any organization to this sender, counting the attempt."""
    now = utcnow()
    ids = list(
        db.scalars(
            select(CallbackEvent.id)
            .where(
                CallbackEvent.state == "pending",
                CallbackEvent.next_attempt_at <= now,
                or_(CallbackEvent.claimed_until.is_(None), CallbackEvent.claimed_until < now),
            )
            .order_by(CallbackEvent.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    token = uuid.uuid4().hex
    db.execute(
        update(CallbackEvent)
        .where(CallbackEvent.id.in_(ids))
        .values(
            claim_token=token,
            claimed_until=now + timedelta(seconds=claim_seconds),
            attempts=CallbackEvent.attempts + 1,
        )
    )
    rows = db.execute(
        select(
            CallbackEvent.id,
            CallbackEvent.kind,
            CallbackEvent.url,
            CallbackEvent.body,
            CallbackEvent.attempts,
            Organization.callback_auth_key,
            Organization.callback_signing_secret,
        )
        .join(Organization, Organization.id == CallbackEvent.org_id)
        .where(CallbackEvent.id.in_(ids))
        .order_by(CallbackEvent.next_attempt_at)
    )
    return [
        ClaimedEvent(
            id=event_id,
            claim_token=token,
            kind=kind,
            url=url,
            body=body.encode(),
            attempt=attempts,
            auth_key=auth_key,
            signing_secret=secret,
        )
        for event_id, kind, url, body, attempts, auth_key, secret in rows
    ]


def retry_delay(attempt: int, *, base_seconds: float, max_seconds: float) -> float:
    """Exponential backoff with jitter: half the delay fixed, half random (no thundering herd)."""
    delay = min(max_seconds, base_seconds * 2 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def record_outcome(
    db: Session,
    *,
    claim: ClaimedEvent,
    outcome: Outcome,
    max_attempts: int,
    backoff_seconds: float,
    backoff_max_seconds: float,
) -> str:
    """Store the attempt and move the event on (delivered, retry later, or dead); its new state."""
    db.add(
        CallbackAttempt(
            event_id=claim.id,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
        )
    )
    now = utcnow()
    changes: dict[str, Any] = {
        "claim_token": None,
        "claimed_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.delivered:
        state = "delivered"
        changes["delivered_at"] = now
    elif outcome.permanent or claim.attempt >= max_attempts:
        state = "dead"
    else:
        state = "pending"
        delay = retry_delay(
            claim.attempt, base_seconds=backoff_seconds, max_seconds=backoff_max_seconds
        )
        changes["next_attempt_at"] = now + timedelta(seconds=delay)
    updated = db.execute(
        update(CallbackEvent)
        .where(CallbackEvent.id == claim.id, CallbackEvent.claim_token == claim.claim_token)
        .values(state=state, **changes)
    )
    if updated.rowcount and state != "pending":  # a task's own callback outcome (none for others)
        task_id = select(CallbackEvent.task_id).where(CallbackEvent.id == claim.id)
        db.execute(
            update(Task)
            .where(Task.id == task_id.scalar_subquery())
            .values(callback_succeeded=state == "delivered", updated_at=Task.updated_at)
        )
    return state


def _event_read(event: CallbackEvent) -> CallbackEventRead:
    return CallbackEventRead.model_validate(event, from_attributes=True)


def list_events(
    db: Session,
    *,
    org_id: str,
    state: str | None = None,
    task_id: str | None = None,
    limit: int = MAX_PAGE,
    next_token: str | None = None,
) -> CallbackEventPage:
    """The organization's callback events, oldest first (``state=dead`` lists the failures)."""
    query = select(CallbackEvent).where(CallbackEvent.org_id == org_id)
    if state is not None:
        query = query.where(CallbackEvent.state == state)
    if task_id is not None:
        query = query.where(CallbackEvent.task_id == task_id)
    if next_token:
        query = query.where(CallbackEvent.id > decode_cursor(next_token))
    events = list(db.scalars(query.order_by(CallbackEvent.id).limit(limit + 1)))
    has_more = len(events) > limit
    events = events[:limit]
    return CallbackEventPage(
        docs=[_event_read(e) for e in events],
        limit=limit,
        has_more=has_more,
        next_token=encode_cursor(events[-1].id) if has_more else None,
    )


def get_event(db: Session, *, org_id: str, event_id: str) -> CallbackEvent:
    event = db.scalar(
        select(CallbackEvent).where(CallbackEvent.org_id == org_id, CallbackEvent.id == event_id)
    )
    if event is None:
        raise NotFound(f"no callback event {event_id!r}")
    return event


def describe_event(db: Session, *, org_id: str, event_id: str) -> CallbackEventDetail:
    """An event with every attempt made to deliver it."""
    event = get_event(db, org_id=org_id, event_id=event_id)
    attempts = db.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.event_id == event.id)
        .order_by(CallbackAttempt.started_at)
    )
    return CallbackEventDetail(
        **_event_read(event).model_dump(),
        history=[CallbackAttemptRead.model_validate(a, from_attributes=True) for a in attempts],
    )


def redeliver_event(db: Session, *, org_id: str, event_id: str) -> CallbackEvent:
    """Send an event again from a fresh count of attempts (a dead one, or a delivered one)."""
    event = get_event(db, org_id=org_id, event_id=event_id)
    if event.state == "pending":
        raise Invalid(f"callback event {event_id} is already waiting to be delivered")
    event.state = "pending"
    event.attempts = 0
    event.next_attempt_at = utcnow()
    event.claim_token = None
    event.claimed_until = None
    return event
