"""The review queue (reviewers accept, fix or reject consolidated answers, level by level) and
customers' audits of delivered tasks (Scale's audit call)."""

from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from quorum.db.base import utcnow
from quorum.dispatch.models import Assignment
from quorum.errors import Conflict, Forbidden, Invalid, NotFound, invalid_from_validation
from quorum.quality import service as quality
from quorum.quality.models import ProjectQuality, TaskConfidence
from quorum.review import workflow
from quorum.review.models import Review, TaskAudit
from quorum.review.schemas import AuditCreate, ReviewDecision, ReviewRead
from quorum.tasks import service as tasks
from quorum.tasks.models import Task
from quorum.tasktypes import get_task_type
from quorum.workforce import service as workforce
from quorum.workforce.models import WorkerQualification
from quorum.workforce.schemas import WorkerIdentity


def _review_read(db: Session, review: Review, task: Task) -> ReviewRead:
    responses = db.scalars(
        select(Assignment.response)
        .where(Assignment.task_id == task.id, Assignment.state == "submitted")
        .order_by(Assignment.finished_at, Assignment.id)
    )
    return ReviewRead(
        review_id=review.id,
        task_id=task.id,
        project_id=task.project_id,
        type=task.type,
        instruction=task.instruction,
        params=task.params,
        level=review.level,
        state=review.state,  # type: ignore[arg-type]
        response=review.response,
        responses=[r or {} for r in responses],
        fixed_response=review.fixed_response,
        reason=review.reason,
        leased_until=review.leased_until,
        decided_at=review.decided_at,
    )


def _review_projects(
    db: Session, *, worker: WorkerIdentity, project_id: str | None
) -> dict[str, int]:
    """Projects the worker may review (reachable, holding the reviewer qualification): lease
    seconds by project id."""
    reachable = {
        r.project_id: r.lease_seconds
        for r in workforce.reachable_projects(db, worker=worker, project_id=project_id)
    }
    held = select(WorkerQualification.qualification_id).where(
        WorkerQualification.worker_id == worker.id,
        WorkerQualification.granted_at.is_not(None),
        WorkerQualification.revoked_at.is_(None),
    )
    reviewable = db.scalars(
        select(ProjectQuality.project_id).where(
            ProjectQuality.project_id.in_(reachable),
            ProjectQuality.review_levels > 0,
            ProjectQuality.reviewer_qualification_id.in_(held),
        )
    )
    return {p: reachable[p] for p in reviewable}


def next_review(
    db: Session,
    *,
    worker: WorkerIdentity,
    project_id: str | None = None,
    now: datetime | None = None,
) -> ReviewRead | None:
    """Lease the open review the worker may do whose answer is least sure (by its least sure
    field), the oldest among equals: never of a task they labeled or already reviewed; their own
    unexpired lease comes back first. None when there is nothing."""
    if worker.status != "active":
        raise Forbidden(f"your account is {worker.status}; no reviews are handed out")
    now = now or utcnow()
    projects = _review_projects(db, worker=worker, project_id=project_id)
    if project_id is not None and not projects:
        raise Forbidden("you are not a reviewer of this project")
    if not projects:
        return None
    labeled = (
        select(Assignment.id)
        .where(Assignment.task_id == Review.task_id, Assignment.worker_id == worker.id)
        .exists()
    )
    earlier = Review.__table__.alias("earlier")
    reviewed = (
        select(earlier.c.id)
        .where(
            earlier.c.task_id == Review.task_id,
            earlier.c.reviewer_id == worker.id,
            earlier.c.state != "open",
        )
        .exists()
    )
    row = db.execute(
        select(Review, Task)
        .join(Task, Task.id == Review.task_id)
        .outerjoin(TaskConfidence, TaskConfidence.task_id == Review.task_id)
        .where(
            Review.project_id.in_(projects),
            Review.state == "open",
            or_(
                Review.reviewer_id == worker.id,
                Review.leased_until.is_(None),
                Review.leased_until <= now,
            ),
            ~labeled,
            ~reviewed,
        )
        .order_by(
            (Review.reviewer_id == worker.id).desc(),
            TaskConfidence.confidence.asc().nulls_last(),
            Review.id,
        )
        .limit(1)
        .with_for_update(of=Review, skip_locked=True)
    ).first()
    if row is None:
        return None
    review, task = row
    review.reviewer_id = worker.id
    review.leased_until = now + timedelta(seconds=projects[review.project_id])
    db.flush()
    return _review_read(db, review, task)


def decide(db: Session, *, worker_id: str, review_id: str, data: ReviewDecision) -> ReviewRead:
    """Accept, fix or reject: the last level's accept or fix delivers the task; a reject sends it
    back to the queue and takes back the labelers' pay."""
    found = db.scalar(select(Review).where(Review.id == review_id, Review.reviewer_id == worker_id))
    if found is None:
        raise NotFound(f"no review {review_id!r} of yours")
    task = db.scalar(
        select(Task)
        .where(Task.id == found.task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    review = db.scalar(
        select(Review)
        .where(Review.id == review_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is None or review is None:
        raise NotFound(f"no review {review_id!r} of yours")
    if review.state != "open":
        raise Conflict(f"review {review_id} is already {review.state}")
    if review.reviewer_id != worker_id:
        raise Conflict("your lease on this review expired and another reviewer took it")
    now = utcnow()
    review.decided_at = now
    review.reason = data.reason
    if data.action == "reject":
        review.state = "rejected"
        workflow.reopen(db, task=task, reason=f"rejected in review: {data.reason}")
        db.flush()
        return _review_read(db, review, task)
    answer = review.response
    review.state = "accepted"
    if data.action == "fix":
        kind = get_task_type(task.type)
        try:
            parsed = kind.parse_response(
                kind.Params.model_validate(task.params), data.response or {}
            )
        except ValidationError as exc:
            raise invalid_from_validation(exc, prefix="response.") from None
        answer = parsed.model_dump(mode="json", exclude_none=True)
        review.state, review.fixed_response = "fixed", answer
    levels = quality.settings_for(db, project_id=task.project_id).review_levels
    if review.level < levels:
        db.add(
            Review(
                org_id=review.org_id,
                project_id=review.project_id,
                task_id=task.id,
                level=review.level + 1,
                response=answer,
            )
        )
    else:
        workflow.accept(db, task=task, response=answer)
    db.flush()
    return _review_read(db, review, task)


def list_reviews(
    db: Session, *, org_id: str, project: str, state: str | None = None
) -> list[ReviewRead]:
    """A project's reviews, oldest first, for operators watching the queue."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    query = (
        select(Review, Task)
        .join(Task, Task.id == Review.task_id)
        .where(Review.project_id == found.id)
        .order_by(Review.id)
    )
    if state is not None:
        query = query.where(Review.state == state)
    return [_review_read(db, review, task) for review, task in db.execute(query).all()]


def audit_task(db: Session, *, org_id: str, task_id: str, data: AuditCreate) -> Task:
    """A customer's verdict on a delivered task; a rejection reopens it for new work."""
    task = tasks.get_task(db, org_id=org_id, task_id=task_id)
    if task.status != "completed":
        raise Invalid(f"task {task_id} is {task.status}; only a completed task can be audited")
    db.add(
        TaskAudit(org_id=org_id, task_id=task.id, accepted=data.accepted, comments=data.comments)
    )
    if data.accepted:
        task.customer_review_status = "accepted"
    else:
        workflow.reopen(
            db, task=task, reason=f"rejected by customer audit: {data.comments or 'no comment'}"
        )
        task.customer_review_status = "rejected"
    task.updated_at = utcnow()
    db.flush()
    return task
