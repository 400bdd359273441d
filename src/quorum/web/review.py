"""Reviewer pages: the next submission to review drawn in its task's tool; accept, fix in the
same tool, or reject with a reason (the review service sends a rejected task back to the queue)."""

from fastapi import APIRouter, Depends, Request, Response

from quorum.api.deps import SessionDep
from quorum.review import policy
from quorum.review import service as reviews
from quorum.review.schemas import ReviewDecision, ReviewRead
from quorum.web.pages import PageRoute, render
from quorum.web.security import check_csrf
from quorum.web.worker import PageWorker

router = APIRouter(
    prefix="/review",
    route_class=PageRoute,
    dependencies=[Depends(check_csrf)],
    include_in_schema=False,
)


@router.get("")
def review_queue(request: Request, worker: PageWorker, db: SessionDep) -> Response:
    """My open review, or the oldest one waiting in the projects I review."""
    policy.take_reviews(worker)
    review = reviews.next_review(db, worker=worker)
    if review is None:
        return render(request, "review/empty.html")
    view = {
        "assignment_id": None,
        "review_id": review.review_id,
        "task_id": review.task_id,
        "project_id": review.project_id,
        "project": f"Review level {review.level}",
        "type": review.type,
        "instruction": review.instruction,
        "params": review.params,
        "answer": review.response,
    }
    return render(request, "review/review.html", task=view, review=review, mode="review")


@router.post("/{review_id}/decision")
def decide(review_id: str, data: ReviewDecision, worker: PageWorker, db: SessionDep) -> ReviewRead:
    return reviews.decide(db, worker_id=worker.id, review_id=review_id, data=data)
