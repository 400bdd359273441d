"""Review endpoints: reviewers take and decide reviews; operators watch the queue; customers
audit delivered tasks with Scale's ``POST /v1/task/{task_id}/audit``."""

from typing import Annotated, Literal

from fastapi import APIRouter, Response

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, WorkerDep, authorize
from quorum.quality import policy as quality_policy
from quorum.review import policy, service
from quorum.review.schemas import AuditCreate, NextReviewRequest, ReviewDecision, ReviewRead
from quorum.tasks import policy as tasks_policy
from quorum.tasks import service as tasks
from quorum.tasks.schemas import TaskRead

reviewer_router = APIRouter(prefix="/v1/worker/reviews", tags=["worker API"])
operator_router = APIRouter(prefix="/v1", tags=["review"])
QualityReader = Annotated[Caller, authorize(quality_policy.read_quality)]
# Auditing is the customer judging their own delivered work.
TaskWriter = Annotated[Caller, authorize(tasks_policy.change_work)]


@reviewer_router.post(
    "/next",
    response_model=ReviewRead,
    responses={204: {"description": "No review is waiting for you right now"}},
)
def next_review(
    data: NextReviewRequest, worker: WorkerDep, db: SessionDep
) -> ReviewRead | Response:
    """Lease the next answer to review (reviewers only); 204 when there is none."""
    policy.take_reviews(worker)
    review = service.next_review(db, worker=worker, project_id=data.project_id)
    return review if review is not None else Response(status_code=204)


@reviewer_router.post("/{review_id}/decision", response_model=ReviewRead)
def decide(review_id: str, data: ReviewDecision, worker: WorkerDep, db: SessionDep) -> ReviewRead:
    """Accept, fix (with the corrected response) or reject (with a reason)."""
    return service.decide(db, worker_id=worker.id, review_id=review_id, data=data)


@operator_router.get("/projects/{project}/reviews", response_model=list[ReviewRead])
def list_reviews(
    project: PathName,
    caller: QualityReader,
    db: SessionDep,
    state: Literal["open", "accepted", "fixed", "rejected", "superseded"] | None = None,
) -> list[ReviewRead]:
    """The project's reviews, oldest first."""
    return service.list_reviews(db, org_id=caller.org_id, project=project, state=state)


@operator_router.post("/task/{task_id}/audit", response_model=TaskRead)
def audit_task(task_id: str, data: AuditCreate, caller: TaskWriter, db: SessionDep) -> TaskRead:
    """Accept or reject a delivered task (sets ``customer_review_status``); a rejection
    reopens it."""
    task = service.audit_task(db, org_id=caller.org_id, task_id=task_id, data=data)
    return tasks.task_read(db, task)
