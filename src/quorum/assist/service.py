"""Model-assisted labeling: run a backend over a project's pending tasks as a pre-labeler (its
suggestions are shown to workers, editable) or as an automatic rater (its answers are kept apart
from human responses), and report how its answers compare with what humans submitted."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quorum.assist.backends import open_backend
from quorum.assist.models import ModelAnswer, ModelBackendConfig
from quorum.assist.schemas import (
    BackendCreate,
    BackendReport,
    BackendRun,
    BackendRunResult,
    PreLabelRead,
)
from quorum.dispatch.models import Assignment
from quorum.errors import Conflict, Invalid, NotFound
from quorum.tasks import service as tasks
from quorum.tasks.models import Task
from quorum.tasktypes import get_task_type


def create_backend(db: Session, *, org_id: str, data: BackendCreate) -> ModelBackendConfig:
    """Register a backend; an entry point must load now, a URL is tried when first used."""
    open_backend(data.kind, data.target)
    backend = ModelBackendConfig(org_id=org_id, name=data.name, kind=data.kind, target=data.target)
    db.add(backend)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Conflict(f"a model backend named {data.name!r} already exists") from None
    return backend


def get_backend(db: Session, *, org_id: str, name: str) -> ModelBackendConfig:
    backend = db.scalar(
        select(ModelBackendConfig).where(
            ModelBackendConfig.org_id == org_id, ModelBackendConfig.name == name
        )
    )
    if backend is None:
        raise NotFound(f"no model backend named {name!r}")
    return backend


def list_backends(db: Session, *, org_id: str) -> list[ModelBackendConfig]:
    return list(
        db.scalars(
            select(ModelBackendConfig)
            .where(ModelBackendConfig.org_id == org_id)
            .order_by(ModelBackendConfig.id)
        )
    )


def run_backend(db: Session, *, org_id: str, name: str, data: BackendRun) -> BackendRunResult:
    """Ask the backend about pending tasks it has not answered in this role yet.

    Each answer is validated as a response of the task's type before it is stored.
    """
    backend = get_backend(db, org_id=org_id, name=name)
    project = tasks.get_project(db, org_id=org_id, name=data.project)
    model = open_backend(backend.kind, backend.target)
    kind = get_task_type(project.type)
    answered = (
        select(ModelAnswer.id)
        .where(
            ModelAnswer.task_id == Task.id,
            ModelAnswer.backend_id == backend.id,
            ModelAnswer.role == data.role,
        )
        .exists()
    )
    pending = db.scalars(
        select(Task)
        .where(Task.project_id == project.id, Task.status == "pending", ~answered)
        .order_by(Task.id)
        .limit(data.limit)
    ).all()
    for task in pending:
        suggestion = model.suggest(task.type, task.params)
        try:
            response = kind.parse_response(
                kind.Params.model_validate(task.params), suggestion.response
            )
        except (ValueError, Invalid) as exc:
            raise Invalid(f"backend {name!r} answered task {task.id} wrongly: {exc}") from None
        db.add(
            ModelAnswer(
                task_id=task.id,
                backend_id=backend.id,
                role=data.role,
                response=response.model_dump(mode="json", exclude_none=True),
                confidence=suggestion.confidence,
            )
        )
    db.flush()
    return BackendRunResult(answered=len(pending))


def prelabel_for_assignment(db: Session, *, worker_id: str, assignment_id: str) -> PreLabelRead:
    """The pre-label of the task a worker holds, to start from and edit."""
    task_id = db.scalar(
        select(Assignment.task_id).where(
            Assignment.id == assignment_id, Assignment.worker_id == worker_id
        )
    )
    if task_id is None:
        raise NotFound(f"no assignment {assignment_id!r}")
    row = db.execute(
        select(ModelAnswer, ModelBackendConfig.name)
        .join(ModelBackendConfig, ModelBackendConfig.id == ModelAnswer.backend_id)
        .where(ModelAnswer.task_id == task_id, ModelAnswer.role == "prelabel")
        .order_by(ModelAnswer.confidence.desc(), ModelAnswer.id)
        .limit(1)
    ).first()
    if row is None:
        raise NotFound("this task has no pre-label")
    answer, backend_name = row
    return PreLabelRead(
        backend=backend_name, response=answer.response, confidence=answer.confidence
    )


def report(db: Session, *, org_id: str, name: str, project: str) -> BackendReport:
    """How often workers kept the backend's pre-labels, and how its ratings agree with humans."""
    backend = get_backend(db, org_id=org_id, name=name)
    found = tasks.get_project(db, org_id=org_id, name=project)
    kind = get_task_type(found.type)
    rows = db.execute(
        select(ModelAnswer.role, ModelAnswer.task_id, ModelAnswer.response, Assignment.response)
        .join(Task, Task.id == ModelAnswer.task_id)
        .outerjoin(
            Assignment,
            (Assignment.task_id == ModelAnswer.task_id) & (Assignment.state == "submitted"),
        )
        .where(ModelAnswer.backend_id == backend.id, Task.project_id == found.id)
    ).all()
    tasks_by_role: dict[str, set[str]] = {"prelabel": set(), "rater": set()}
    kept: list[bool] = []
    agreement: list[float] = []
    for role, task_id, model_response, human_response in rows:
        tasks_by_role[role].add(task_id)
        if human_response is None:
            continue
        model = kind.Response.model_validate(model_response)
        human = kind.Response.model_validate(human_response)
        if role == "prelabel":
            kept.append(kind.score(human, model) == 1.0)
        else:
            agreement.append((kind.score(model, human) + kind.score(human, model)) / 2)
    return BackendReport(
        backend=backend.name,
        project=found.name,
        prelabeled_tasks=len(tasks_by_role["prelabel"]),
        human_responses_on_prelabels=len(kept),
        accepted_unchanged=sum(kept),
        acceptance_rate=sum(kept) / len(kept) if kept else None,
        rated_tasks=len(tasks_by_role["rater"]),
        rater_agreement_with_humans=sum(agreement) / len(agreement) if agreement else None,
    )
