"""Quality endpoints for operators: settings, gold tasks, worker trust and project metrics."""

from typing import Annotated

from fastapi import APIRouter

from quorum.accounts.schemas import Caller, StaffCaller
from quorum.api.deps import PathName, SessionDep, authorize, authorize_staff
from quorum.quality import policy, service
from quorum.quality.schemas import (
    GoldCreate,
    GoldRead,
    ProjectMetricsRead,
    QualitySettingsRead,
    QualitySettingsUpdate,
    WorkerQualityRead,
)
from quorum.workforce import service as workforce

router = APIRouter(prefix="/v1/projects/{project}", tags=["quality (operators)"])
staff_router = APIRouter(prefix="/v1/staff/projects/{project_id}", tags=["platform staff"])
QualityReader = Annotated[Caller, authorize(policy.read_quality)]
QualityManager = Annotated[Caller, authorize(policy.manage_quality)]
GoldKeeper = Annotated[StaffCaller, authorize_staff(policy.manage_shared_gold)]


@router.get("/quality", response_model=QualitySettingsRead)
def get_settings(project: PathName, caller: QualityReader, db: SessionDep) -> QualitySettingsRead:
    return service.project_settings(db, org_id=caller.org_id, project=project)


@router.post("/quality", response_model=QualitySettingsRead)
def configure(
    project: PathName, data: QualitySettingsUpdate, caller: QualityManager, db: SessionDep
) -> QualitySettingsRead:
    """Set the gold rate, adaptive redundancy, trust threshold and review levels."""
    return service.configure(db, org_id=caller.org_id, project=project, data=data)


@router.post("/gold", response_model=GoldRead)
def create_gold(
    project: PathName, data: GoldCreate, caller: QualityManager, db: SessionDep
) -> GoldRead:
    """Mark a completed task as gold, or import a task with its known answer."""
    gold = service.create_gold(db, org_id=caller.org_id, project=project, data=data)
    caller.created(gold_id=gold.id, task_id=gold.task_id)
    return gold


@router.get("/gold", response_model=list[GoldRead])
def list_gold(project: PathName, caller: QualityReader, db: SessionDep) -> list[GoldRead]:
    return service.list_gold(db, org_id=caller.org_id, project=project)


@router.get("/worker_quality", response_model=list[WorkerQualityRead])
def worker_quality(
    project: PathName, caller: QualityReader, db: SessionDep
) -> list[WorkerQualityRead]:
    """Each worker's trust, gold record and confusion matrix, least trusted first."""
    return service.worker_quality(db, org_id=caller.org_id, project=project)


@router.post("/workers/{worker_id}/reinstate", response_model=WorkerQualityRead)
def reinstate(
    project: PathName, worker_id: str, caller: QualityManager, db: SessionDep
) -> WorkerQualityRead:
    """Lift a worker's automatic pause on this project."""
    return service.reinstate(db, org_id=caller.org_id, project=project, worker_id=worker_id)


@router.get("/metrics", response_model=ProjectMetricsRead)
def metrics(
    project: PathName, caller: QualityReader, db: SessionDep, batch: str | None = None
) -> ProjectMetricsRead:
    """Krippendorff's alpha, confidence spread, gold pass rate and per-worker records."""
    return service.metrics(db, org_id=caller.org_id, project=project, batch=batch)


@staff_router.post("/gold", response_model=GoldRead)
def create_shared_gold(
    project_id: str, data: GoldCreate, staff: GoldKeeper, db: SessionDep
) -> GoldRead:
    """Add gold to a project shared with the public pool (private projects are not found)."""
    project = workforce.shared_project(db, project_id=project_id)
    staff.acting_on(project.org_id)
    gold = service.create_gold(db, org_id=project.org_id, project=project.name, data=data)
    staff.created(gold_id=gold.id, task_id=gold.task_id)
    return gold


@staff_router.get("/gold", response_model=list[GoldRead])
def list_shared_gold(project_id: str, staff: GoldKeeper, db: SessionDep) -> list[GoldRead]:
    project = workforce.shared_project(db, project_id=project_id)
    return service.list_gold(db, org_id=project.org_id, project=project.name)
