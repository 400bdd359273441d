"""Model-assisted labeling endpoints: organizations register and run backends; a worker fetches
the pre-label of the task it holds."""

from fastapi import APIRouter

from quorum.api.deps import CallerDep, PathName, SessionDep, WorkerDep
from quorum.assist import service
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


@router.post("", response_model=BackendRead)
def create_backend(data: BackendCreate, caller: CallerDep, db: SessionDep) -> BackendRead:
    """Register an HTTP model endpoint or a Python entry point."""
    backend = service.create_backend(db, org_id=caller.org_id, data=data)
    return BackendRead.model_validate(backend, from_attributes=True)


@router.get("", response_model=list[BackendRead])
def list_backends(caller: CallerDep, db: SessionDep) -> list[BackendRead]:
    return [
        BackendRead.model_validate(b, from_attributes=True)
        for b in service.list_backends(db, org_id=caller.org_id)
    ]


@router.post("/{name}/runs", response_model=BackendRunResult)
def run_backend(
    name: PathName, data: BackendRun, caller: CallerDep, db: SessionDep
) -> BackendRunResult:
    """Pre-label a project's pending tasks, or rate them as an automatic rater."""
    return service.run_backend(db, org_id=caller.org_id, name=name, data=data)


@router.get("/{name}/report", response_model=BackendReport)
def report(name: PathName, project: str, caller: CallerDep, db: SessionDep) -> BackendReport:
    """Acceptance of its pre-labels and agreement of its ratings with human responses."""
    return service.report(db, org_id=caller.org_id, name=name, project=project)


@worker_router.get("/assignments/{assignment_id}/prelabel", response_model=PreLabelRead)
def prelabel(assignment_id: str, worker: WorkerDep, db: SessionDep) -> PreLabelRead:
    """The model's suggestion for the task you hold: a starting point, yours to change."""
    return service.prelabel_for_assignment(db, worker_id=worker.id, assignment_id=assignment_id)
