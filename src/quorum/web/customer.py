"""Customer pages: sign in with an API key, projects with progress and throughput, the task
browser, and a task's consolidated result drawn over its data.

A customer session is a signed cookie naming the organization and the API key that opened it
(never the key's secret); each request checks that the key is still live.
"""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from quorum.accounts import service as accounts
from quorum.api.deps import SessionDep
from quorum.api.ratelimit import throttle_login
from quorum.errors import DomainError
from quorum.quality import service as quality
from quorum.tasks import service as tasks
from quorum.tasks import stats
from quorum.tasks.models import TASK_STATUSES
from quorum.tasks.schemas import TaskFilters
from quorum.web.pages import PageRoute, SignInRequired, render, safe_next
from quorum.web.security import (
    CUSTOMER_SESSION_COOKIE,
    CUSTOMER_SESSION_SECONDS,
    check_csrf,
    cookie_options,
    customer_session_value,
    read_customer_session,
    renew_csrf,
)

router = APIRouter(
    prefix="/customer",
    route_class=PageRoute,
    dependencies=[Depends(check_csrf)],
    include_in_schema=False,
)

TASK_PAGE = 50
LOGIN = "/customer/login"


def page_customer(request: Request, db: SessionDep) -> str:
    """The organization id of a signed customer session whose API key is still live (neither
    revoked nor expired), checked on every request."""
    session = read_customer_session(request)
    if session is None:
        raise SignInRequired(LOGIN)
    try:
        caller = accounts.authenticate_key_session(
            db, org_id=str(session.get("org_id")), key_id=str(session.get("key_id"))
        )
    except DomainError:
        raise SignInRequired(LOGIN) from None
    return caller.org_id


CustomerOrg = Annotated[str, Depends(page_customer)]


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "customer/login.html", next=safe_next(next, "/customer"), error=None)


@router.post("/login")
def log_in(
    request: Request,
    db: SessionDep,
    api_key: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/customer",
) -> Response:
    """Sign in with an API key (throttled like every login); the cookie names the key, and
    each later request checks that the key is still live."""
    secret = api_key.strip()
    try:
        throttle_login(request, surface="customer", account=secret[:12])
        caller = accounts.authenticate(db, secret=secret)
    except DomainError as exc:
        refused = render(
            request,
            "customer/login.html",
            status_code=exc.status_code,
            next=safe_next(next, "/customer"),
            error=exc.message,
        )
        refused.headers.update(exc.headers or {})
        return refused
    renew_csrf(request)
    response = RedirectResponse(safe_next(next, "/customer"), status_code=303)
    response.set_cookie(
        CUSTOMER_SESSION_COOKIE,
        customer_session_value(
            request,
            org_id=caller.org_id,
            key_id=caller.key_id,
            key_expires_at=caller.key_expires_at,
        ),
        max_age=CUSTOMER_SESSION_SECONDS,
        **cookie_options(request),
    )
    return response


@router.post("/logout")
def log_out() -> RedirectResponse:
    response = RedirectResponse(LOGIN, status_code=303)
    response.delete_cookie(CUSTOMER_SESSION_COOKIE, path="/")
    return response


def _projects_with_progress(db: SessionDep, org_id: str) -> list[dict[str, Any]]:
    progress = stats.project_progress(db, org_id=org_id)
    empty = stats.Progress(dict.fromkeys(TASK_STATUSES, 0))
    return [
        {"project": p, "progress": progress.get(p.id, empty)}
        for p in tasks.list_projects(db, org_id=org_id)
    ]


@router.get("")
def projects(request: Request, org_id: CustomerOrg, db: SessionDep) -> Response:
    """Every project with its task counts per state; the table refreshes itself (htmx)."""
    rows = _projects_with_progress(db, org_id)
    template = (
        "customer/progress_rows.html"
        if request.headers.get("HX-Request")
        else "customer/projects.html"
    )
    return render(request, template, rows=rows, statuses=TASK_STATUSES)


@router.get("/projects/{name}")
def project(name: str, request: Request, org_id: CustomerOrg, db: SessionDep) -> Response:
    """One project: progress, tasks completed per hour over the last day, and the quality
    service's figures (agreement, confidence, gold pass rate)."""
    found = tasks.get_project(db, org_id=org_id, name=name)
    progress = stats.project_progress(db, org_id=org_id).get(
        found.id, stats.Progress(dict.fromkeys(TASK_STATUSES, 0))
    )
    buckets = stats.throughput(
        db, org_id=org_id, project_id=found.id, buckets=24, bucket=timedelta(hours=1)
    )
    return render(
        request,
        "customer/project.html",
        project=found,
        progress=progress,
        statuses=TASK_STATUSES,
        chart=throughput_chart(buckets),
        quality=quality.metrics(db, org_id=org_id, project=name),
    )


def throughput_chart(buckets: list[stats.Bucket]) -> dict[str, Any]:
    """Bar geometry for the inline SVG chart (a 600x160 canvas, 20 px of labels below)."""
    width, height, label = 600, 160, 20
    peak = max((b.completed for b in buckets), default=0) or 1
    step = width / max(len(buckets), 1)
    bars = []
    for index, b in enumerate(buckets):
        bar_height = (height - label - 14) * b.completed / peak
        bars.append(
            {
                "x": round(index * step + 2, 1),
                "y": round(height - label - bar_height, 1),
                "width": round(step - 4, 1),
                "height": round(bar_height, 1),
                "count": b.completed,
                "hour": b.start.strftime("%H:00"),
                "show_hour": index % 3 == 0,
            }
        )
    return {
        "width": width,
        "height": height,
        "baseline": height - label,
        "bars": bars,
        "peak": peak,
        "total": sum(b.completed for b in buckets),
    }


@router.get("/tasks")
def task_browser(
    request: Request,
    org_id: CustomerOrg,
    db: SessionDep,
    project: str | None = None,
    status: str | None = None,
    batch: str | None = None,
    next_token: str | None = None,
) -> Response:
    """Tasks filtered by project, state and batch, a page at a time (the filters swap the
    results in place with htmx)."""
    filters = TaskFilters(
        project=project or None,
        status=status if status in TASK_STATUSES else None,
        batch=batch or None,
    )
    page = tasks.list_tasks(
        db, org_id=org_id, filters=filters, limit=TASK_PAGE, next_token=next_token
    )
    template = (
        "customer/task_rows.html" if request.headers.get("HX-Request") else "customer/tasks.html"
    )
    return render(
        request,
        template,
        page=page,
        filters=filters,
        statuses=TASK_STATUSES,
        projects=tasks.list_projects(db, org_id=org_id),
    )


@router.get("/tasks/{task_id}")
def task_page(task_id: str, request: Request, org_id: CustomerOrg, db: SessionDep) -> Response:
    """A task with its delivered response drawn in the task's own tool, read only."""
    task = tasks.task_read(db, tasks.get_task(db, org_id=org_id, task_id=task_id))
    view = {
        "assignment_id": None,
        "task_id": task.task_id,
        "project_id": task.project,
        "project": task.project,
        "type": task.type,
        "instruction": task.instruction,
        "params": task.params,
        "answer": task.response,
    }
    return render(request, "customer/task.html", task=view, record=task, mode="view")
