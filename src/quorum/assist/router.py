"""Model-assisted labeling endpoints: organizations register and run backends; a worker fetches
the pre-label of the task it holds."""

from typing import Annotated

from fastapi import APIRouter

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, WorkerDep, authorize
from quorum.assist import policy, service
from quorum.assist.schemas import (
    BackendCreate,
    BackendRead,
    BackendReport,
    BackendRun,
    BackendRunResult,
    PreLabelRead,
)

router = APIRouter(prefix="/v1/assist/backends", tags=["model-assisted labeling"])
worker_router = APIRouter(prefix="/v1/worker", tags=["worker API"])
BackendReader = Annotated[Caller, authorize(policy.read_backends)]
BackendRunner = Annotated[Caller, authorize(policy.run_backends)]
BackendRegistrar = Annotated[Caller, authorize(policy.register_backends)]


@router.post("", response_model=BackendRead)
def create_backend(data: BackendCreate, caller: BackendRegistrar, db: SessionDep) -> BackendRead:
    """Register an HTTP model endpoint or a Python entry point."""
    backend = service.create_backend(db, org_id=caller.org_id, data=data)
    return BackendRead.model_validate(backend, from_attributes=True)


@router.get("", response_model=list[BackendRead])
def list_backends(caller: BackendReader, db: SessionDep) -> list[BackendRead]:
    return [
        BackendRead.model_validate(b, from_attributes=True)
        for b in service.list_backends(db, org_id=caller.org_id)
    ]


@router.post("/{name}/runs", response_model=BackendRunResult)
def run_backend(
    name: PathName, data: BackendRun, caller: BackendRunner, db: SessionDep
) -> BackendRunResult:
    """Pre-label a project's pending tasks, or rate them as an automatic rater."""
    return service.run_backend(db, org_id=caller.org_id, name=name, data=data)


@router.get("/{name}/report", response_model=BackendReport)
def report(name: PathName, project: str, caller: BackendReader, db: SessionDep) -> BackendReport:
    """Acceptance of its pre-labels and agreement of its ratings with human responses."""
    return service.report(db, org_id=caller.org_id, name=name, project=project)


@worker_router.get("/assignments/{assignment_id}/prelabel", response_model=PreLabelRead)
def prelabel(assignment_id: str, worker: WorkerDep, db: SessionDep) -> PreLabelRead:
    """The model's suggestion for the task you hold: a starting point, yours to change."""
    return service.prelabel_for_assignment(db, worker_id=worker.id, assignment_id=assignment_id)
