"""Worker pages: sign in, my projects, the workbench (task after task), history and earnings.

The workbench page renders one assignment; its script submits with ``fetch`` to the JSON
endpoints below and swaps in the next assignment's ``#task`` section without a page reload.
"""

import random
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from quorum.api.deps import WORKER_SESSION_COOKIE, SessionDep
from quorum.api.ratelimit import throttle_login
from quorum.dispatch import policy
from quorum.dispatch import service as dispatch
from quorum.dispatch.schemas import AssignmentRead, SubmitResult
from quorum.errors import DomainError, Unauthorized
from quorum.payouts import service as payouts
from quorum.web.pages import PageRoute, SignInRequired, render, safe_next
from quorum.web.security import check_csrf, cookie_options, renew_csrf
from quorum.workforce import service as workforce
from quorum.workforce.schemas import WorkerIdentity

router = APIRouter(
    route_class=PageRoute, dependencies=[Depends(check_csrf)], include_in_schema=False
)

HISTORY_PAGE = 20


def page_worker(request: Request, db: SessionDep) -> WorkerIdentity:
    """The signed-in worker of a page request (session cookie), else off to the sign-in page."""
    secret = request.cookies.get(WORKER_SESSION_COOKIE)
    if not secret:
        raise SignInRequired("/login")
    try:
        return workforce.authenticate_worker(db, secret=secret)
    except Unauthorized:
        raise SignInRequired("/login") from None


PageWorker = Annotated[WorkerIdentity, Depends(page_worker)]


def acting_worker(request: Request, worker: PageWorker) -> WorkerIdentity:
    """The signed-in worker of a workbench action (lease, submit, skip), counted against the
    per-worker rate limit as on the API (``dispatch.policy``)."""
    policy.admit(request.app.state.rate_limiter, worker.id)
    return worker


# The workbench's actions: the router's CSRF check, then a JSON body, then the worker and the rate
# (the API's order); the lease cap is applied where a task is leased (``lease_next``).
ActingWorker = Annotated[WorkerIdentity, Depends(acting_worker)]
JSON_BODY = [Depends(policy.require_json)]


def lease_next(
    request: Request, db: SessionDep, *, worker: WorkerIdentity, project_id: str
) -> AssignmentRead | None:
    """``dispatch.next_task`` under the live-lease cap every door applies."""
    return dispatch.next_task(
        db,
        worker=worker,
        project_id=project_id,
        max_live_leases=policy.lease_cap(request.app.state.settings),
    )


def presented_order(assignment_id: str, count: int) -> list[int]:
    """The order a worker sees comparison answers in: shuffled, stable for the lease, so a
    reload shows the same order and position bias spreads evenly over workers."""
    order = list(range(count))
    random.Random(assignment_id).shuffle(order)
    return order


def task_view(assignment: AssignmentRead) -> dict[str, Any]:
    """What the task templates and the tool scripts need about one assignment."""
    view: dict[str, Any] = {
        "assignment_id": assignment.assignment_id,
        "task_id": assignment.task_id,
        "project_id": assignment.project_id,
        "project": assignment.project,
        "type": assignment.type,
        "instruction": assignment.instruction,
        "params": assignment.params,
        "leased_until": assignment.leased_until.isoformat(),
        "answer": None,
    }
    if assignment.type == "comparison":
        view["presented_order"] = presented_order(
            assignment.assignment_id, len(assignment.params.get("answers", []))
        )
    return view


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/work", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "worker/login.html", next=safe_next(next, "/work"), error=None)


@router.post("/login")
def log_in(
    request: Request,
    db: SessionDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/work",
) -> Response:
    """Check the password with the workforce service (throttled as the worker API's login is)
    and set its session as a cookie."""
    try:
        throttle_login(request, surface="worker", account=email)
        secret, token, _ = workforce.log_in(db, email=email, password=password)
    except DomainError as exc:
        refused = render(
            request,
            "worker/login.html",
            status_code=exc.status_code,
            next=safe_next(next, "/work"),
            error=exc.message,
            email=email,
        )
        refused.headers.update(exc.headers or {})
        return refused
    renew_csrf(request)
    response = RedirectResponse(safe_next(next, "/work"), status_code=303)
    response.set_cookie(
        WORKER_SESSION_COOKIE, secret, expires=token.expires_at, **cookie_options(request)
    )
    return response


@router.post("/logout")
def log_out(worker: PageWorker, db: SessionDep) -> RedirectResponse:
    workforce.log_out(db, token_id=worker.token_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(WORKER_SESSION_COOKIE, path="/")
    return response


@router.get("/work")
def my_projects(request: Request, worker: PageWorker, db: SessionDep) -> Response:
    """The projects I may work on, their instructions and what each response pays."""
    projects = workforce.worker_projects(db, worker=worker)
    rates = payouts.project_rates(db, project_ids=[p.id for p in projects])
    return render(
        request, "worker/projects.html", projects=projects, rates=rates, status=worker.status
    )


@router.get("/work/projects/{project_id}")
def start_working(
    project_id: str, request: Request, worker: PageWorker, db: SessionDep
) -> Response:
    """Resume my live lease on the project, or lease its next task; then open the workbench."""
    assignment = dispatch.current_assignment(db, worker_id=worker.id, project_id=project_id)
    if assignment is None:
        policy.admit(request.app.state.rate_limiter, worker.id)
        assignment = lease_next(request, db, worker=worker, project_id=project_id)
    if assignment is None:
        return render(request, "worker/no_task.html", project_id=project_id)
    return RedirectResponse(f"/work/assignments/{assignment.assignment_id}", status_code=303)


@router.post("/work/projects/{project_id}/next", dependencies=JSON_BODY)
def next_assignment(
    project_id: str, request: Request, worker: ActingWorker, db: SessionDep
) -> dict[str, Any]:
    """The workbench asks for the next task after a submit or skip (JSON)."""
    assignment = lease_next(request, db, worker=worker, project_id=project_id)
    if assignment is None:
        return {"assignment_id": None}
    return {"assignment_id": assignment.assignment_id}


@router.get("/work/assignments/{assignment_id}")
def workbench(assignment_id: str, request: Request, worker: PageWorker, db: SessionDep) -> Response:
    """The labeling page for one of my assignments; anyone else's is a 404 page."""
    assignment = dispatch.get_assignment(db, worker_id=worker.id, assignment_id=assignment_id)
    return render(
        request,
        "worker/workbench.html",
        task=task_view(assignment),
        state=assignment.state,
        mode="work",
    )


class SubmitForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    response: dict[str, Any]


class SkipForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)
    broken: bool = False


@router.post("/work/assignments/{assignment_id}/submit", dependencies=JSON_BODY)
def submit(
    assignment_id: str, data: SubmitForm, worker: ActingWorker, db: SessionDep
) -> SubmitResult:
    return dispatch.submit(
        db, worker_id=worker.id, assignment_id=assignment_id, response=data.response
    )


@router.post("/work/assignments/{assignment_id}/skip", dependencies=JSON_BODY)
def skip(
    assignment_id: str, data: SkipForm, worker: ActingWorker, db: SessionDep
) -> dict[str, str]:
    skipped = dispatch.skip(
        db,
        worker_id=worker.id,
        assignment_id=assignment_id,
        reason=data.reason,
        broken=data.broken,
    )
    return {"assignment_id": skipped.assignment_id, "state": skipped.state}


@router.get("/work/history")
def history(
    request: Request, worker: PageWorker, db: SessionDep, next_token: str | None = None
) -> Response:
    """My assignments, newest first; "more" loads the next page in place (htmx)."""
    page = dispatch.history(db, worker_id=worker.id, limit=HISTORY_PAGE, next_token=next_token)
    template = (
        "worker/history_rows.html" if request.headers.get("HX-Request") else "worker/history.html"
    )
    return render(request, template, page=page)


@router.get("/work/earnings")
def earnings(request: Request, worker: PageWorker, db: SessionDep) -> Response:
    return render(
        request, "worker/earnings.html", earnings=payouts.earnings(db, worker_id=worker.id)
    )
