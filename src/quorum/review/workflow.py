"""The task's life after labeling: the one place where work becomes accepted.

    labeling --(responses in, confident)--> review level 1..N --(accept/fix)--> completed
        ^  (not confident: one more response)      |                             |
        +----------- reject (room returns, pay taken back) <--- customer audit rejects

A worker finishing a task never makes it accepted: only the consolidation of enough confident
responses in a project without review, a reviewer's accept or fix at the last level, or a
customer's audit decide. Pay becomes ``earned`` exactly at that moment. A pending task that
enough workers report broken ends as ``error`` instead.
"""

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from quorum.dispatch.models import Assignment
from quorum.payouts import service as payouts
from quorum.quality import service as quality
from quorum.review.models import Review
from quorum.tasks import service as tasks
from quorum.tasks.models import Task

# Leases still open on a task that has all its answers are past their time (live leases and
# answers never exceed what the task needs). A Core statement: no assignment the session holds
# can be one of them, so the ORM has nothing to synchronize.
_assignment = Assignment.__table__
_EXPIRE_LEASES_OF = (
    update(_assignment)
    .where(_assignment.c.task_id == bindparam("of_task"), _assignment.c.state == "active")
    .values(state="expired")
)


def end_open_leases(db: Session, *, task_id: str) -> None:
    """Mark the leases still open on a task that needs no more answers as expired."""
    db.execute(_EXPIRE_LEASES_OF, {"of_task": task_id})


def responses_in(db: Session, *, task: Task, submitted: list[Assignment]) -> bool:
    """All required responses are in: grow redundancy, open review, or accept; True if done."""
    outcome = quality.consolidate(db, task=task, submitted=submitted)
    if outcome.needs_more:
        return False
    end_open_leases(db, task_id=task.id)
    if quality.settings_for(db, project_id=task.project_id).review_levels > 0:
        db.add(
            Review(
                org_id=task.org_id,
                project_id=task.project_id,
                task_id=task.id,
                level=1,
                response=outcome.response,
            )
        )
        db.flush()
        return False
    accept(db, task=task, response=outcome.response, submitted_ids=[a.id for a in submitted])
    return True


def _submitted_ids(db: Session, task_id: str) -> list[str]:
    return list(
        db.scalars(
            select(Assignment.id).where(
                Assignment.task_id == task_id, Assignment.state == "submitted"
            )
        )
    )


def accept(
    db: Session, *, task: Task, response: dict[str, Any], submitted_ids: list[str] | None = None
) -> None:
    """Deliver the answer to the customer and turn the workers' pending pay into earnings
    (of ``submitted_ids`` when the caller has them at hand, else of every submitted answer)."""
    tasks.mark_task_completed(db, task=task, response=response)
    if submitted_ids is None:
        submitted_ids = _submitted_ids(db, task.id)
    payouts.earn(db, assignment_ids=submitted_ids)


def fail(db: Session, *, task: Task, error: str, reasons: list[str]) -> None:
    """End a task nobody can do: the customer is told why; answers already given were given in
    good faith and are paid; open leases end."""
    tasks.mark_task_failed(db, task=task, error=error, reasons=reasons)
    payouts.earn(db, assignment_ids=_submitted_ids(db, task.id))
    end_open_leases(db, task_id=task.id)


def reopen(db: Session, *, task: Task, reason: str) -> None:
    """Send the task back to the queue: its answers are rejected and their pay taken back."""
    db.execute(
        update(Review)
        .where(Review.task_id == task.id, Review.state == "open")
        .values(state="superseded")
    )
    quality.discard_responses(db, assignment_ids=_submitted_ids(db, task.id), note=reason)
    task.status = "pending"
    task.response = None
    task.completed_at = None
