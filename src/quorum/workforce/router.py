"""Workforce endpoints: operators manage their pool and project staffing; workers sign up,
log in, keep their profile and take qualification tests."""

from typing import Annotated

from fastapi import APIRouter, Request, Response

from quorum.accounts.schemas import Caller, StaffCaller
from quorum.api.deps import (
    WORKER_SESSION_COOKIE,
    PathName,
    SessionDep,
    WorkerDep,
    authorize,
    authorize_staff,
)
from quorum.api.ratelimit import throttle_login
from quorum.workforce import policy, service
from quorum.workforce.schemas import (
    ProjectMemberAdd,
    ProjectWorkforceRead,
    ProjectWorkforceUpdate,
    QualificationCreate,
    QualificationRead,
    QualificationTest,
    QualificationTestAnswers,
    QualificationTestResult,
    SharedProjectRead,
    WorkerInvite,
    WorkerInvited,
    WorkerLogin,
    WorkerProfileUpdate,
    WorkerProjectRead,
    WorkerQualificationRead,
    WorkerRead,
    WorkerRoleUpdate,
    WorkerSession,
    WorkerSignup,
)

operator_router = APIRouter(prefix="/v1", tags=["workforce (operators)"])
worker_router = APIRouter(prefix="/v1/worker", tags=["worker API"])
staff_router = APIRouter(prefix="/v1/staff", tags=["platform staff"])
WorkforceReader = Annotated[Caller, authorize(policy.read_workforce)]
WorkforceManager = Annotated[Caller, authorize(policy.manage_workforce)]
PoolManager = Annotated[StaffCaller, authorize_staff(policy.manage_public_pool)]


# Operators (authenticated by the organization's API key)


@operator_router.post("/workers", response_model=WorkerInvited)
def invite_worker(data: WorkerInvite, caller: WorkforceManager, db: SessionDep) -> WorkerInvited:
    """Add a worker to the organization's private pool; the invitation secret is shown once."""
    worker, secret = service.invite_worker(db, org_id=caller.org_id, data=data)
    caller.created(worker_id=worker.id)
    return WorkerInvited(**service.worker_read(worker).model_dump(), invitation_token=secret)


@operator_router.get("/workers", response_model=list[WorkerRead])
def list_workers(caller: WorkforceReader, db: SessionDep) -> list[WorkerRead]:
    return [service.worker_read(w) for w in service.list_workers(db, org_id=caller.org_id)]


@operator_router.get("/workers/{worker_id}", response_model=WorkerRead)
def get_worker(worker_id: str, caller: WorkforceReader, db: SessionDep) -> WorkerRead:
    return service.worker_read(service.get_worker(db, org_id=caller.org_id, worker_id=worker_id))


@operator_router.put("/workers/{worker_id}/role", response_model=WorkerRead)
def set_worker_role(
    worker_id: str, data: WorkerRoleUpdate, caller: WorkforceManager, db: SessionDep
) -> WorkerRead:
    """Make a worker of the pool a reviewer (review work needs it), or a worker again."""
    worker = service.set_worker_role(db, org_id=caller.org_id, worker_id=worker_id, role=data.role)
    return service.worker_read(worker)


@operator_router.post("/qualifications", response_model=QualificationRead)
def create_qualification(
    data: QualificationCreate, caller: WorkforceManager, db: SessionDep
) -> QualificationRead:
    """Create a qualification, optionally with a test of tasks with known answers."""
    qualification = service.create_qualification(db, org_id=caller.org_id, data=data)
    caller.created(qualification_id=qualification.id)
    return qualification


@operator_router.get("/qualifications", response_model=list[QualificationRead])
def list_qualifications(caller: WorkforceReader, db: SessionDep) -> list[QualificationRead]:
    return service.list_qualifications(db, org_id=caller.org_id)


@operator_router.put("/workers/{worker_id}/qualifications/{qualification_id}", status_code=204)
def grant_qualification(
    worker_id: str, qualification_id: str, caller: WorkforceManager, db: SessionDep
) -> None:
    """Grant a qualification without a test."""
    service.grant_qualification(
        db, org_id=caller.org_id, worker_id=worker_id, qualification_id=qualification_id
    )


@operator_router.delete("/workers/{worker_id}/qualifications/{qualification_id}", status_code=204)
def revoke_qualification(
    worker_id: str, qualification_id: str, caller: WorkforceManager, db: SessionDep
) -> None:
    service.revoke_qualification(
        db, org_id=caller.org_id, worker_id=worker_id, qualification_id=qualification_id
    )


@operator_router.get("/projects/{name}/workforce", response_model=ProjectWorkforceRead)
def get_project_workforce(
    name: PathName, caller: WorkforceReader, db: SessionDep
) -> ProjectWorkforceRead:
    return service.project_workforce(db, org_id=caller.org_id, project=name)


@operator_router.patch("/projects/{name}/workforce", response_model=ProjectWorkforceRead)
def configure_project_workforce(
    name: PathName, data: ProjectWorkforceUpdate, caller: WorkforceManager, db: SessionDep
) -> ProjectWorkforceRead:
    """Set access (members only or open pool), lease duration and required qualifications."""
    return service.configure_project(db, org_id=caller.org_id, project=name, data=data)


@operator_router.post("/projects/{name}/members", response_model=ProjectWorkforceRead)
def add_project_member(
    name: PathName, data: ProjectMemberAdd, caller: WorkforceManager, db: SessionDep
) -> ProjectWorkforceRead:
    return service.add_member(db, org_id=caller.org_id, project=name, worker_id=data.worker_id)


@operator_router.delete("/projects/{name}/members/{worker_id}", response_model=ProjectWorkforceRead)
def remove_project_member(
    name: PathName, worker_id: str, caller: WorkforceManager, db: SessionDep
) -> ProjectWorkforceRead:
    return service.remove_member(db, org_id=caller.org_id, project=name, worker_id=worker_id)


# Platform operators (authenticated by their staff session): the public pool


@staff_router.get("/workers", response_model=list[WorkerRead])
def list_public_workers(staff: PoolManager, db: SessionDep) -> list[WorkerRead]:
    """The public pool; organizations' private workers are theirs alone."""
    return [service.worker_read(w) for w in service.list_workers(db, org_id=None)]


@staff_router.post("/workers", response_model=WorkerInvited)
def invite_public_worker(data: WorkerInvite, staff: PoolManager, db: SessionDep) -> WorkerInvited:
    """Invite a worker into the public pool; the invitation secret is shown once."""
    worker, secret = service.invite_worker(db, org_id=None, data=data)
    staff.created(worker_id=worker.id)
    return WorkerInvited(**service.worker_read(worker).model_dump(), invitation_token=secret)


@staff_router.put("/workers/{worker_id}/role", response_model=WorkerRead)
def set_public_worker_role(
    worker_id: str, data: WorkerRoleUpdate, staff: PoolManager, db: SessionDep
) -> WorkerRead:
    """Make a public-pool worker a reviewer, or a worker again."""
    worker = service.set_worker_role(db, org_id=None, worker_id=worker_id, role=data.role)
    return service.worker_read(worker)


@staff_router.get("/projects", response_model=list[SharedProjectRead])
def list_shared_projects(staff: PoolManager, db: SessionDep) -> list[SharedProjectRead]:
    """Customer projects open to the public pool: the only customer work staff touch."""
    return service.shared_projects(db)


@staff_router.put("/workers/{worker_id}/qualifications/{qualification_id}", status_code=204)
def grant_shared_qualification(
    worker_id: str, qualification_id: str, staff: PoolManager, db: SessionDep
) -> None:
    """Grant a public-pool worker a qualification that a shared project requires."""
    qualification = service.set_shared_qualification(
        db, worker_id=worker_id, qualification_id=qualification_id, held=True
    )
    staff.acting_on(qualification.org_id)


@staff_router.delete("/workers/{worker_id}/qualifications/{qualification_id}", status_code=204)
def revoke_shared_qualification(
    worker_id: str, qualification_id: str, staff: PoolManager, db: SessionDep
) -> None:
    qualification = service.set_shared_qualification(
        db, worker_id=worker_id, qualification_id=qualification_id, held=False
    )
    staff.acting_on(qualification.org_id)


# Workers (authenticated by their session)


@worker_router.post("/signup", response_model=WorkerRead)
def sign_up(data: WorkerSignup, db: SessionDep) -> WorkerRead:
    """Accept an invitation, or join the public pool; then log in."""
    return service.worker_read(service.sign_up(db, data=data))


@worker_router.post("/login", response_model=WorkerSession)
def log_in(
    data: WorkerLogin, request: Request, response: Response, db: SessionDep
) -> WorkerSession:
    """Open a session: the token is returned for the API and set as a cookie for the web app."""
    throttle_login(request, surface="worker", account=data.email)
    secret, token, worker = service.log_in(db, email=data.email, password=data.password)
    response.set_cookie(
        WORKER_SESSION_COOKIE,
        secret,
        expires=token.expires_at,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.public_url.startswith("https://"),
    )
    return WorkerSession(
        token=secret, expires_at=token.expires_at, worker=service.worker_read(worker)
    )


@worker_router.post("/logout", status_code=204)
def log_out(worker: WorkerDep, response: Response, db: SessionDep) -> None:
    service.log_out(db, token_id=worker.token_id)
    response.delete_cookie(WORKER_SESSION_COOKIE)


@worker_router.get("/me", response_model=WorkerRead)
def me(worker: WorkerDep, db: SessionDep) -> WorkerRead:
    return service.worker_read(service.get_worker_self(db, worker_id=worker.id))


@worker_router.patch("/me", response_model=WorkerRead)
def update_me(data: WorkerProfileUpdate, worker: WorkerDep, db: SessionDep) -> WorkerRead:
    return service.worker_read(service.update_profile(db, worker_id=worker.id, data=data))


@worker_router.get("/projects", response_model=list[WorkerProjectRead])
def my_projects(worker: WorkerDep, db: SessionDep) -> list[WorkerProjectRead]:
    """Projects I may work on, and the qualifications I still miss for each."""
    return service.worker_projects(db, worker=worker)


@worker_router.get("/qualifications", response_model=list[WorkerQualificationRead])
def my_qualifications(worker: WorkerDep, db: SessionDep) -> list[WorkerQualificationRead]:
    return service.worker_qualifications(db, worker=worker)


@worker_router.get("/qualifications/{qualification_id}/test", response_model=QualificationTest)
def get_test(qualification_id: str, worker: WorkerDep, db: SessionDep) -> QualificationTest:
    return service.qualification_test(db, worker=worker, qualification_id=qualification_id)


@worker_router.post(
    "/qualifications/{qualification_id}/test", response_model=QualificationTestResult
)
def take_test(
    qualification_id: str, data: QualificationTestAnswers, worker: WorkerDep, db: SessionDep
) -> QualificationTestResult:
    """Answer every question; passing grants the qualification at once."""
    return service.take_qualification_test(
        db, worker=worker, qualification_id=qualification_id, answers=data.answers
    )
