"""Model-assisted labeling endpoints: organizations register and run backends; a worker fetches
the pre-label of the task it holds."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, WorkerDep, authorize
from quorum.assist import policy, service
from quorum.assist.backends import ModelSources, OperatorBackends
from quorum.assist.schemas import (
    ActiveLearningRead,
    ActiveLearningUpdate,
    AvailableBackend,
    BackendCreate,
    BackendRead,
    BackendReport,
    BackendRun,
    BackendRunResult,
    PreLabelRead,
)

router = APIRouter(prefix="/v1/assist/backends", tags=["model-assisted labeling"])
worker_router = APIRouter(prefix="/v1/worker", tags=["worker API"])
learning_router = APIRouter(
    prefix="/v1/projects/{project}/active-learning", tags=["model-assisted labeling"]
)
BackendReader = Annotated[Caller, authorize(policy.read_backends)]
BackendRunner = Annotated[Caller, authorize(policy.run_backends)]
BackendRegistrar = Annotated[Caller, authorize(policy.register_backends)]


def offered_backends(request: Request) -> OperatorBackends:
    """The python models this platform's operator offers (its setting, installed packages)."""
    return OperatorBackends.offered(request.app.state.settings.assist_python_backends)


def model_sources(request: Request) -> ModelSources:
    """The operator's models, and the app's guarded client for models served over HTTP."""
    return ModelSources(offered=offered_backends(request), outside=request.app.state.model_client)


Offered = Annotated[OperatorBackends, Depends(offered_backends)]
Sources = Annotated[ModelSources, Depends(model_sources)]


@router.post("", response_model=BackendRead)
def create_backend(
    data: BackendCreate, caller: BackendRegistrar, db: SessionDep, sources: Sources
) -> BackendRead:
    """Register an HTTP model endpoint, or a python or built-in model by the name it is offered
    under."""
    backend = service.create_backend(db, org_id=caller.org_id, data=data, sources=sources)
    caller.created(backend_id=backend.id)
    return BackendRead.model_validate(backend, from_attributes=True)


@router.get("", response_model=list[BackendRead])
def list_backends(caller: BackendReader, db: SessionDep) -> list[BackendRead]:
    return [
        BackendRead.model_validate(b, from_attributes=True)
        for b in service.list_backends(db, org_id=caller.org_id)
    ]


@router.get("/available", response_model=list[AvailableBackend])
def available_backends(caller: BackendReader, offered: Offered) -> list[AvailableBackend]:
    """The models this platform offers, to register by name (besides your own URLs)."""
    return service.available_backends(offered=offered)


@router.post("/{name}/runs", response_model=BackendRunResult)
def run_backend(
    name: PathName, data: BackendRun, caller: BackendRunner, db: SessionDep, sources: Sources
) -> BackendRunResult:
    """Pre-label a project's pending tasks, or rate them as an automatic rater."""
    return service.run_backend(db, org_id=caller.org_id, name=name, data=data, sources=sources)


@router.get("/{name}/report", response_model=BackendReport)
def report(name: PathName, project: str, caller: BackendReader, db: SessionDep) -> BackendReport:
    """Acceptance of its pre-labels and agreement of its ratings with human responses."""
    return service.report(db, org_id=caller.org_id, name=name, project=project)


@worker_router.get("/assignments/{assignment_id}/prelabel", response_model=PreLabelRead)
def prelabel(assignment_id: str, worker: WorkerDep, db: SessionDep) -> PreLabelRead:
    """The model's suggestion for the task you hold: a starting point, yours to change."""
    return service.prelabel_for_assignment(db, worker_id=worker.id, assignment_id=assignment_id)


@learning_router.get("", response_model=ActiveLearningRead)
def active_learning(project: PathName, caller: BackendReader, db: SessionDep) -> ActiveLearningRead:
    """The project's active-learning model: settings and last training."""
    return service.active_learning_status(db, org_id=caller.org_id, project=project)


@learning_router.put("", response_model=ActiveLearningRead)
def configure_active_learning(
    project: PathName, data: ActiveLearningUpdate, caller: BackendRunner, db: SessionDep
) -> ActiveLearningRead:
    """Opt in: a classifier trained on completed tasks pre-labels the pending ones and, with
    ``order_queue``, sets their priority so the most uncertain are labeled first."""
    return service.configure_active_learning(db, org_id=caller.org_id, project=project, data=data)


@learning_router.post("/train", response_model=ActiveLearningRead)
def train_active_learning(
    project: PathName, caller: BackendRunner, db: SessionDep
) -> ActiveLearningRead:
    """Train now instead of waiting for the background trainer."""
    return service.train_active_learning(db, org_id=caller.org_id, project=project)
