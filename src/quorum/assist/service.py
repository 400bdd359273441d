"""Model-assisted labeling: run a backend over a project's pending tasks as a pre-labeler (its
suggestions are shown to workers, editable) or as an automatic rater (its answers are kept apart
from human responses), report how its answers compare with what humans submitted, and keep the
active-learning model of the projects that opted in trained, its pre-labels fresh and (if asked)
the queue ordered by its uncertainty."""

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quorum.assist.active_learning import (
    Learned,
    TextClassifier,
    TrainingSet,
    label_of,
    learn,
    text_of,
)
from quorum.assist.backends import (
    BUILTIN_BACKENDS,
    ModelBackend,
    ModelSources,
    OperatorBackends,
    check_backend,
    open_backend,
)
from quorum.assist.models import ActiveLearningModel, ModelAnswer, ModelBackendConfig
from quorum.assist.schemas import (
    ActiveLearningRead,
    ActiveLearningUpdate,
    AvailableBackend,
    BackendCreate,
    BackendReport,
    BackendRun,
    BackendRunResult,
    PreLabelRead,
)
from quorum.db.base import utcnow
from quorum.dispatch.models import Assignment
from quorum.errors import Conflict, Invalid, NotFound
from quorum.tasks import service as tasks
from quorum.tasks.models import Project, Task
from quorum.tasktypes import get_task_type


def create_backend(
    db: Session, *, org_id: str, data: BackendCreate, sources: ModelSources
) -> ModelBackendConfig:
    """Register a backend; a python one must name a model the operator offers, a URL is tried
    when first used."""
    check_backend(data.kind, data.target, sources=sources)
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


def available_backends(*, offered: OperatorBackends) -> list[AvailableBackend]:
    """What a tenant may register besides its own URLs: the built-ins and the python models
    this platform's operator offers, each as the ``kind`` and ``target`` to send."""
    return [AvailableBackend(kind="builtin", target=name) for name in BUILTIN_BACKENDS] + [
        AvailableBackend(kind="python", target=name) for name in offered.names
    ]


def run_backend(
    db: Session, *, org_id: str, name: str, data: BackendRun, sources: ModelSources
) -> BackendRunResult:
    """Ask the backend about pending tasks it has not answered in this role yet.

    Each answer is validated as a response of the task's type before it is stored. A python
    backend registered before tenants chose by name (its target an entry point) is refused here
    as a name the operator does not offer.
    """
    backend = get_backend(db, org_id=org_id, name=name)
    project = tasks.get_project(db, org_id=org_id, name=data.project)
    model = _open(db, backend=backend, project=project, sources=sources)
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


def _open(
    db: Session, *, backend: ModelBackendConfig, project: Project, sources: ModelSources
) -> ModelBackend:
    """The backend's model; a built-in one is the project's own trained model."""
    if backend.kind != "builtin":
        return open_backend(backend.kind, backend.target, sources=sources)
    config = db.get(ActiveLearningModel, project.id)
    if config is None or config.model is None:
        raise Invalid(f"project {project.name!r} has no trained active-learning model yet")
    return TextClassifier.from_bytes(config.model)


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


def configure_active_learning(
    db: Session, *, org_id: str, project: str, data: ActiveLearningUpdate
) -> ActiveLearningRead:
    """Opt a categorization project in to active learning, or change how it learns."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    if found.type != "categorization":
        raise Invalid(
            f"active learning needs a categorization project; {project!r} is {found.type}"
        )
    backend = get_backend(db, org_id=org_id, name=data.backend)
    if backend.kind != "builtin":
        raise Invalid(
            f"backend {data.backend!r} is {backend.kind}, not the builtin active-learning"
        )
    config = db.get(ActiveLearningModel, found.id)
    if config is None:
        config = ActiveLearningModel(project_id=found.id, org_id=org_id, trained_on=0, classes=[])
        db.add(config)
    config.backend_id = backend.id
    config.order_queue = data.order_queue
    config.retrain_every = data.retrain_every
    config.min_labels = data.min_labels
    db.flush()
    return _active_learning_read(db, project=found, config=config)


def active_learning_status(db: Session, *, org_id: str, project: str) -> ActiveLearningRead:
    """How the project's model is set up and what it was last trained on."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    return _active_learning_read(db, project=found, config=_opted_in(db, project=found))


def train_active_learning(db: Session, *, org_id: str, project: str) -> ActiveLearningRead:
    """Train now on every completed task, then refresh pre-labels and the queue order.

    The background trainer does the same without holding a transaction while it fits.
    """
    found = tasks.get_project(db, org_id=org_id, name=project)
    config = _opted_in(db, project=found)
    learned = learn(active_learning_training_set(db, project_id=found.id))
    if learned.classifier is None:
        raise Invalid("active learning needs completed tasks of at least two categories")
    install_active_learning_model(db, learned=learned)
    return _active_learning_read(db, project=found, config=config)


def due_active_learning_projects(db: Session) -> list[str]:
    """Projects with enough new completed tasks since their last training (one query)."""
    completed = (
        select(Task.project_id, func.count().label("n"))
        .where(
            Task.status == "completed",
            Task.project_id.in_(select(ActiveLearningModel.project_id)),
        )
        .group_by(Task.project_id)
        .subquery()
    )
    return list(
        db.scalars(
            select(ActiveLearningModel.project_id)
            .join(completed, completed.c.project_id == ActiveLearningModel.project_id)
            .where(
                completed.c.n >= ActiveLearningModel.min_labels,
                or_(
                    ActiveLearningModel.trained_on == 0,
                    completed.c.n
                    >= ActiveLearningModel.trained_on + ActiveLearningModel.retrain_every,
                ),
            )
            .order_by(ActiveLearningModel.project_id)
        )
    )


def active_learning_training_set(db: Session, *, project_id: str) -> TrainingSet:
    """The project's consolidated labels on text tasks, and its pending text tasks."""
    texts: list[str] = []
    labels: list[str] = []
    completed = 0
    for task_type, params, response in db.execute(
        select(Task.type, Task.params, Task.response).where(
            Task.project_id == project_id, Task.status == "completed"
        )
    ):
        completed += 1
        text, label = text_of(task_type, params), label_of(response)
        if text is not None and label is not None:
            texts.append(text)
            labels.append(label)
    pending = []
    for task_id, task_type, params in db.execute(
        select(Task.id, Task.type, Task.params).where(
            Task.project_id == project_id, Task.status == "pending", Task.is_test.is_(False)
        )
    ):
        text = text_of(task_type, params)
        if text is not None:
            pending.append((task_id, text, list(params["categories"])))
    return TrainingSet(project_id, completed, texts, labels, pending)


def install_active_learning_model(db: Session, *, learned: Learned) -> bool:
    """Store a training's model, replace its pre-labels on pending tasks and, when the project
    orders its queue, set their priority to the model's uncertainty; False if a newer training
    was stored meanwhile (by another server)."""
    config = db.scalar(
        select(ActiveLearningModel)
        .where(ActiveLearningModel.project_id == learned.project_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if config is None or config.trained_on > learned.completed:
        return False
    config.trained_on = learned.completed
    if learned.classifier is None:
        return True
    config.model = learned.classifier.to_bytes()
    config.classes = learned.classifier.classes
    config.trained_at = utcnow()
    pending = select(Task.id).where(Task.project_id == config.project_id, Task.status == "pending")
    still_pending = set(db.scalars(pending))
    db.execute(
        delete(ModelAnswer).where(
            ModelAnswer.backend_id == config.backend_id,
            ModelAnswer.role == "prelabel",
            ModelAnswer.task_id.in_(pending),
        )
    )
    scores = sorted((t, s) for t, s in learned.scores.items() if t in still_pending)
    if scores:
        db.execute(
            insert(ModelAnswer),
            [
                {
                    "task_id": task_id,
                    "backend_id": config.backend_id,
                    "role": "prelabel",
                    "response": {"category": s.category},
                    "confidence": s.confidence,
                }
                for task_id, s in scores
            ],
        )
    if scores and config.order_queue:
        db.execute(update(Task), [{"id": t, "priority": s.priority} for t, s in scores])
    db.flush()
    return True


def _opted_in(db: Session, *, project: Project) -> ActiveLearningModel:
    config = db.get(ActiveLearningModel, project.id)
    if config is None:
        raise NotFound(f"project {project.name!r} has not opted in to active learning")
    return config


def _active_learning_read(
    db: Session, *, project: Project, config: ActiveLearningModel
) -> ActiveLearningRead:
    completed = db.scalar(
        select(func.count()).where(Task.project_id == project.id, Task.status == "completed")
    )
    return ActiveLearningRead(
        project=project.name,
        backend=db.get_one(ModelBackendConfig, config.backend_id).name,
        order_queue=config.order_queue,
        retrain_every=config.retrain_every,
        min_labels=config.min_labels,
        completed_tasks=completed or 0,
        trained_on=config.trained_on,
        trained_at=config.trained_at,
        classes=config.classes,
    )
