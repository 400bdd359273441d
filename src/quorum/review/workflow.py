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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quorum.db.among import among
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
    .where(
        among(_assignment.c.task_id, "of_tasks"),
        _assignment.c.state == "active",
    )
    .values(state="expired")
)


def end_open_leases(db: Session, *, task_ids: list[str]) -> None:
    """Mark the leases still open on tasks that need no more answers as expired."""
    if task_ids:
        db.execute(_EXPIRE_LEASES_OF, {"of_tasks": task_ids})


def responses_in(db: Session, *, finished: list[tuple[Task, list[Assignment]]]) -> set[str]:
    """All required responses of these tasks are in: each grows its redundancy, opens review,
    or is accepted; returns the ids of the tasks done. A statement serves all the tasks at
    each step: a dispatch round finishes many at once."""
    outcomes = quality.consolidate(db, finished=finished)
    answered = [
        (task, submitted, outcome.response)
        for (task, submitted), outcome in zip(finished, outcomes, strict=True)
        if not outcome.needs_more
    ]
    end_open_leases(db, task_ids=[task.id for task, _, _ in answered])
    accepted = []
    for task, submitted, response in answered:
        if quality.settings_for(db, project_id=task.project_id).review_levels > 0:
            db.add(
                Review(
                    org_id=task.org_id,
                    project_id=task.project_id,
                    task_id=task.id,
                    level=1,
                    response=response,
                )
            )
        else:
            accepted.append((task, response, [a.id for a in submitted]))
    if len(accepted) < len(answered):
        db.flush()
    accept_all(db, accepted)
    return {task.id for task, _, _ in accepted}


def _submitted_ids(db: Session, task_id: str) -> list[str]:
    return list(
        db.scalars(
            select(Assignment.id).where(
                Assignment.task_id == task_id, Assignment.state == "submitted"
            )
        )
    )


def accept(db: Session, *, task: Task, response: dict[str, Any]) -> None:
    """Deliver the answer to the customer and turn the workers' pending pay into earnings."""
    accept_all(db, [(task, response, _submitted_ids(db, task.id))])


def accept_all(db: Session, accepted: list[tuple[Task, dict[str, Any], list[str]]]) -> None:
    """``accept`` for many tasks, each with its answer and the ids of its submitted answers."""
    if not accepted:
        return
    tasks.mark_tasks_completed(db, completions=[(task, response) for task, response, _ in accepted])
    payouts.earn(db, assignment_ids=[i for _, _, submitted in accepted for i in submitted])


def fail(db: Session, *, task: Task, error: str, reasons: list[str]) -> None:
    """End a task nobody can do: the customer is told why; answers already given were given in
    good faith and are paid; open leases end."""
    tasks.mark_task_failed(db, task=task, error=error, reasons=reasons)
    payouts.earn(db, assignment_ids=_submitted_ids(db, task.id))
    end_open_leases(db, task_ids=[task.id])


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
