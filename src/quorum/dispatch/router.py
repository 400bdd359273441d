"""Dispatch endpoints: workers take, submit, skip and release tasks; an organization's admins
pause their pool's workers, platform operators the public pool's.

Next and submit are served by ``dispatch.hotpath`` in front of the routes whenever their body is
valid; these routes document them and answer the requests it passes on. Every action of a worker
makes the checks of ``dispatch.policy`` (a session cookie needs its CSRF token, a body must be
JSON), as the fast path and the workbench's pages do."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from quorum.accounts.schemas import Caller, StaffCaller
from quorum.api.deps import SessionDep, WorkerDep, api_worker_secret, authorize, authorize_staff
from quorum.dispatch import hotpath, policy, service
from quorum.dispatch.schemas import (
    AssignmentPage,
    AssignmentRead,
    NextTaskRequest,
    SkipRequest,
    SubmitRequest,
    SubmitResult,
)
from quorum.workforce import policy as workforce_policy
from quorum.workforce.schemas import WorkerRead, WorkerStatusUpdate
from quorum.workforce.service import worker_read

worker_router = APIRouter(prefix="/v1/worker", tags=["worker API"])
operator_router = APIRouter(prefix="/v1", tags=["workforce (operators)"])
staff_router = APIRouter(prefix="/v1/staff", tags=["platform staff"])
# Pausing or banning a worker is workforce management.
WorkforceManager = Annotated[Caller, authorize(workforce_policy.manage_workforce)]
PoolManager = Annotated[StaffCaller, authorize_staff(workforce_policy.manage_public_pool)]
# The worker's session token, once the request passed the checks of an action with a body.
WorkerSecretWithJson = Annotated[str, Depends(policy.api_worker_secret_with_json)]


@worker_router.post(
    "/tasks/next",
    response_model=AssignmentRead,
    responses={204: {"description": "No task is available for you right now"}},
)
async def next_task(
    secret: WorkerSecretWithJson, data: NextTaskRequest, request: Request
) -> Response:
    """Lease the next task (optionally of one project); 204 when there is nothing to do, 429
    when the worker already holds the most live leases allowed."""
    return await hotpath.serve_next(request, secret, data)


@worker_router.post("/assignments/{assignment_id}/submit", response_model=SubmitResult)
async def submit(
    secret: WorkerSecretWithJson, assignment_id: str, data: SubmitRequest, request: Request
) -> Response:
    """Submit a response, validated by the task type; the reply means it is stored."""
    return await hotpath.serve_submit(request, secret, assignment_id, data)


@worker_router.post(
    "/assignments/{assignment_id}/skip",
    response_model=AssignmentRead,
    dependencies=[Depends(policy.api_worker_secret_with_json)],
)
def skip(
    assignment_id: str, data: SkipRequest, worker: WorkerDep, db: SessionDep
) -> AssignmentRead:
    """Decline a task, saying why (and whether the task itself is broken); it will not be
    offered to you again."""
    return service.skip(
        db,
        worker_id=worker.id,
        assignment_id=assignment_id,
        reason=data.reason,
        broken=data.broken,
    )


@worker_router.post(
    "/assignments/{assignment_id}/release",
    response_model=AssignmentRead,
    dependencies=[Depends(api_worker_secret)],
)
def release(assignment_id: str, worker: WorkerDep, db: SessionDep) -> AssignmentRead:
    """Give a task back unfinished so that another worker can take it."""
    return service.release(db, worker_id=worker.id, assignment_id=assignment_id)


@worker_router.get("/assignments", response_model=AssignmentPage)
def my_history(
    worker: WorkerDep,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.MAX_PAGE,
    next_token: str | None = None,
) -> AssignmentPage:
    """My assignments, newest first."""
    return service.history(db, worker_id=worker.id, limit=limit, next_token=next_token)


@operator_router.post("/workers/{worker_id}/status", response_model=WorkerRead)
def set_worker_status(
    worker_id: str, data: WorkerStatusUpdate, caller: WorkforceManager, db: SessionDep
) -> WorkerRead:
    """Activate, pause or ban a worker; pausing or banning returns their leases at once."""
    worker = service.set_worker_status(
        db, org_id=caller.org_id, worker_id=worker_id, status=data.status
    )
    return worker_read(worker)


@staff_router.post("/workers/{worker_id}/status", response_model=WorkerRead)
def set_public_worker_status(
    worker_id: str, data: WorkerStatusUpdate, staff: PoolManager, db: SessionDep
) -> WorkerRead:
    """Pause, ban or reinstate (``active``) a public-pool worker; their leases return at once."""
    worker = service.set_worker_status(db, org_id=None, worker_id=worker_id, status=data.status)
    return worker_read(worker)
