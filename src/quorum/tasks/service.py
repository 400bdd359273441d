"""Projects, batches and tasks: the rules of the customer API.

Every function takes ``org_id`` and never reads or writes a row of another organization: a name or
id that belongs to someone else is simply not found.
"""

from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Select, exists, func, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quorum.callbacks import service as callbacks
from quorum.db import utcnow, write_through
from quorum.db.pagination import decode_cursor, encode_cursor
from quorum.errors import Conflict, Invalid, NotFound, invalid_from_validation
from quorum.outside import Refused, checked_url
from quorum.tasks.models import Batch, Project, Task
from quorum.tasks.schemas import (
    TASK_COMMON_FIELDS,
    BatchCreate,
    BatchPage,
    BatchRead,
    BatchStatusRead,
    ProjectCreate,
    ProjectRead,
    TaskCommon,
    TaskFilters,
    TaskPage,
    TaskRead,
    scale_timestamp,
)
from quorum.tasktypes import get_task_type

MAX_PAGE = 100
PROJECT_PARAM_EXTRAS = {"instruction"}
M = TypeVar("M", bound=BaseModel)


# Projects


def _check_project_params(task_type: str, params: dict[str, Any]) -> None:
    allowed = set(get_task_type(task_type).Params.model_fields) | PROJECT_PARAM_EXTRAS
    for key in params:
        if key not in allowed:
            raise Invalid(
                f"params.{key}: not a parameter of {task_type} tasks", field=f"params.{key}"
            )


def create_project(db: Session, *, org_id: str, data: ProjectCreate) -> Project:
    """Create a project; its params become defaults of every task created in it."""
    get_task_type(data.type)
    if data.rapid or data.studio:
        raise Invalid("rapid and studio projects are not supported; create a standard project")
    if data.datasetId is not None:
        raise Invalid("datasetId is not supported")
    params = data.params or {}
    _check_project_params(data.type, params)
    if data.callback_url is not None:
        check_callback_url(data.callback_url)
    now = utcnow()
    project = Project(
        org_id=org_id,
        name=data.name,
        type=data.type,
        params=params,
        param_history=[_param_version(params, 0, now)],
        required_responses=data.required_responses,
        callback_url=data.callback_url,
        created_at=now,
        updated_at=now,
    )
    db.add(project)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"a project named {data.name!r} already exists") from None
    return project


def _param_version(params: dict[str, Any], version: int, at: datetime) -> dict[str, Any]:
    return {**params, "version": version, "created_at": scale_timestamp(at)}


def get_project(db: Session, *, org_id: str, name: str) -> Project:
    project = db.scalar(select(Project).where(Project.org_id == org_id, Project.name == name))
    if project is None:
        raise NotFound(f"no project named {name!r}")
    return project


def list_projects(db: Session, *, org_id: str) -> list[Project]:
    return list(db.scalars(select(Project).where(Project.org_id == org_id).order_by(Project.id)))


def update_project_params(
    db: Session, *, org_id: str, name: str, changes: dict[str, Any]
) -> Project:
    """Merge new default params into the project and record the new version in its history."""
    project = get_project(db, org_id=org_id, name=name)
    _check_project_params(project.type, changes)
    params = {**project.params, **changes}
    version = len(project.param_history)
    project.params = params
    project.param_history = [*project.param_history, _param_version(params, version, utcnow())]
    return project


def project_read(project: Project) -> ProjectRead:
    return ProjectRead.model_validate(project, from_attributes=True)


# Batches


def create_batch(db: Session, *, org_id: str, data: BatchCreate) -> tuple[Batch, Project]:
    """Create a batch in staging: tasks can be added until it is finalized."""
    project = get_project(db, org_id=org_id, name=data.project)
    if data.callback:
        check_callback_url(data.callback, field="callback")
    batch = Batch(
        org_id=org_id,
        project_id=project.id,
        name=data.name,
        callback=data.callback,
        metadata_=data.metadata or {},
        calibration_batch=data.calibration_batch,
        self_label_batch=data.self_label_batch,
    )
    db.add(batch)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"a batch named {data.name!r} already exists") from None
    return batch, project


def get_batch(db: Session, *, org_id: str, name: str) -> Batch:
    batch = db.scalar(select(Batch).where(Batch.org_id == org_id, Batch.name == name))
    if batch is None:
        raise NotFound(f"no batch named {name!r}")
    return batch


def finalize_batch(db: Session, *, org_id: str, name: str) -> Batch:
    """Close a batch to new tasks and release its tasks to the workforce (idempotent)."""
    batch = get_batch(db, org_id=org_id, name=name)
    if batch.finalized_at is None:
        batch.finalized_at = utcnow()
        db.flush()
        _enqueue_batch_completed(db, batch.id)
    return batch


def set_batch_metadata(db: Session, *, org_id: str, name: str, metadata: dict[str, Any]) -> Batch:
    batch = get_batch(db, org_id=org_id, name=name)
    batch.metadata_ = metadata
    return batch


def _status_counts(db: Session, batch_ids: list[str]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {batch_id: {} for batch_id in batch_ids}
    if not batch_ids:
        return counts
    rows = db.execute(
        select(Task.batch_id, Task.status, func.count())
        .where(Task.batch_id.in_(batch_ids))
        .group_by(Task.batch_id, Task.status)
    )
    for batch_id, status, count in rows:
        counts[batch_id][status] = count
    return counts


def _last_completion(db: Session, batch_id: str) -> datetime | None:
    return db.scalar(select(func.max(Task.completed_at)).where(Task.batch_id == batch_id))


def _batch_status(batch: Batch, counts: dict[str, int]) -> str:
    """Derived, never stored: staging until finalized, completed once nothing is pending."""
    if batch.finalized_at is None:
        return "staging"
    return "in_progress" if counts.get("pending", 0) else "completed"


def batch_read(db: Session, batch: Batch, project_name: str, counts: dict[str, int]) -> BatchRead:
    status = _batch_status(batch, counts)
    return BatchRead(
        id=batch.id,
        name=batch.name,
        project=project_name,
        status=status,  # type: ignore[arg-type]
        callback=batch.callback,
        metadata=batch.metadata_,
        calibration_batch=batch.calibration_batch,
        self_label_batch=batch.self_label_batch,
        created_at=batch.created_at,
        finalized_at=batch.finalized_at,
        completed_at=_last_completion(db, batch.id) if status == "completed" else None,
    )


def describe_batch(db: Session, *, org_id: str, name: str) -> BatchRead:
    batch = get_batch(db, org_id=org_id, name=name)
    project_name = db.scalar(select(Project.name).where(Project.id == batch.project_id))
    return batch_read(db, batch, project_name or "", _status_counts(db, [batch.id])[batch.id])


def batch_status(db: Session, *, org_id: str, name: str) -> BatchStatusRead:
    """The batch's status with its task counts per state."""
    batch = get_batch(db, org_id=org_id, name=name)
    counts = _status_counts(db, [batch.id])[batch.id]
    return BatchStatusRead(status=_batch_status(batch, counts), **counts)  # type: ignore[arg-type]


def list_batches(
    db: Session,
    *,
    org_id: str,
    project: str | None = None,
    status: str | None = None,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    offset: int = 0,
    limit: int = MAX_PAGE,
) -> BatchPage:
    """Batches by creation, offset-paginated as Scale's client expects (``totalDocs``)."""
    query = (
        select(Batch, Project.name)
        .join(Project, Project.id == Batch.project_id)
        .where(Batch.org_id == org_id)
    )
    if project is not None:
        query = query.where(Project.name == project)
    if start_time is not None:
        query = query.where(Batch.created_at >= start_time)
    if end_time is not None:
        query = query.where(Batch.created_at <= end_time)
    if status == "staging":
        query = query.where(Batch.finalized_at.is_(None))
    elif status is not None:
        pending = (
            select(Task.id).where(Task.batch_id == Batch.id, Task.status == "pending").exists()
        )
        query = query.where(Batch.finalized_at.is_not(None))
        query = query.where(pending if status == "in_progress" else ~pending)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(query.order_by(Batch.id).offset(offset).limit(limit)).all()
    counts = _status_counts(db, [batch.id for batch, _ in rows])
    docs = [batch_read(db, batch, name, counts[batch.id]) for batch, name in rows]
    return BatchPage(
        docs=docs, totalDocs=total, limit=limit, offset=offset, has_more=offset + len(docs) < total
    )


# Tasks


def check_callback_url(url: str, *, field: str = "callback_url") -> None:
    """A callback goes to an http(s) URL with a host; anything else is refused up front (its
    addresses are checked when it is delivered: a name may resolve elsewhere by then)."""
    try:
        checked_url(url)
    except Refused:
        raise Invalid(
            f"{field} must be an http or https URL, got {url[:200]!r}", field=field
        ) from None


def create_task(
    db: Session, *, org_id: str, task_type: str, body: dict[str, Any], is_test: bool = False
) -> Task:
    """Validate a Scale-style task body (common fields plus the type's params) and store it."""
    get_task_type(task_type)
    common = parse_task_common(body)
    project, batch = task_home(db, org_id=org_id, common=common)
    if project.type != task_type:
        raise Invalid(
            f"project {project.name!r} holds {project.type} tasks, not {task_type}", field="project"
        )
    values = new_task_values(project=project, batch=batch, common=common, body=body)
    if common.unique_id is not None:
        _ensure_unique_id_free(db, org_id=org_id, unique_id=common.unique_id)
    task = Task(**values, is_test=is_test)
    db.add(task)
    try:
        db.flush()
    except IntegrityError:
        raise _unique_id_conflict(common.unique_id) from None
    return task


def parse_task_common(body: dict[str, Any]) -> TaskCommon:
    """The fields every task type shares, validated out of a task body."""
    try:
        return TaskCommon.model_validate(_common_part(body))
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


def parse_task_commons(bodies: list[dict[str, Any]]) -> list[TaskCommon | Invalid]:
    """``parse_task_common`` of many bodies in one pydantic call: each one's fields, or why not."""
    return _validate_each(TaskCommon, [_common_part(body) for body in bodies], whole="body")


def new_task_values(
    *, project: Project, batch: Batch | None, common: TaskCommon, body: dict[str, Any]
) -> dict[str, Any]:
    """Validate the type's params over the project's defaults; the columns of the new task."""
    (values,) = new_tasks_values(project=project, batch=batch, tasks=[(common, body)])
    if isinstance(values, Invalid):
        raise values
    return values


def new_tasks_values(
    *, project: Project, batch: Batch | None, tasks: list[tuple[TaskCommon, dict[str, Any]]]
) -> list[dict[str, Any] | Invalid]:
    """The columns of many new tasks of a project, or why each one is refused.

    The one validation of a task body, shared by the API (one task) and bulk imports (a chunk,
    whose params are validated and dumped in one pydantic call).
    """
    params_model = get_task_type(project.type).Params
    project_params = project.params
    defaults = {k: v for k, v in project_params.items() if k not in PROJECT_PARAM_EXTRAS}
    results: list[Any] = [None] * len(tasks)
    checked = []
    for index, (common, _) in enumerate(tasks):
        if common.callback_url is not None:
            try:
                check_callback_url(common.callback_url)
            except Invalid as exc:
                results[index] = exc
                continue
        checked.append(index)
    params = _validate_each(
        params_model,
        [{**defaults, **_own_part(tasks[index][1])} for index in checked],
        whole="params",
    )
    valid, valid_params = [], []
    for index, outcome in zip(checked, params, strict=True):
        if isinstance(outcome, Invalid):
            results[index] = outcome
        else:
            valid.append(index)
            valid_params.append(outcome)
    dumped = _list_adapter(params_model).dump_python(valid_params, mode="json", exclude_unset=True)
    shared = {
        "org_id": project.org_id,
        "project_id": project.id,
        "batch_id": batch.id if batch else None,
        "type": project.type,
        "response": None,
    }
    extra_instruction = project_params.get("instruction", "")
    default_responses = project.required_responses
    for index, params_json in zip(valid, dumped, strict=True):
        common = tasks[index][0]
        instruction = common.instruction
        if extra_instruction:
            instruction = (
                f"{instruction}\n\n{extra_instruction}" if instruction else extra_instruction
            )
        results[index] = {
            **shared,
            "instruction": instruction,
            "params": params_json,
            "callback_url": common.callback_url,
            "metadata_": common.metadata,
            "tags": common.tags,
            "unique_id": common.unique_id,
            "priority": common.priority,
            "required_responses": common.required_responses or default_responses,
        }
    return results


def _common_part(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k in TASK_COMMON_FIELDS}


def _own_part(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in TASK_COMMON_FIELDS}


@cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _validate_each(model: type[M], items: list[dict[str, Any]], *, whole: str) -> list[M | Invalid]:
    """Validate items in one pydantic call; one that fails gets the error it gets on its own."""
    try:
        return _list_adapter(model).validate_python(items)
    except ValidationError as exc:
        failed = {error["loc"][0] for error in exc.errors()}
    passed = iter(
        _list_adapter(model).validate_python([x for i, x in enumerate(items) if i not in failed])
    )
    results: list[M | Invalid] = []
    for index, item in enumerate(items):
        if index not in failed:
            results.append(next(passed))
            continue
        try:
            results.append(model.model_validate(item))
        except ValidationError as exc:
            results.append(invalid_from_validation(exc, whole=whole))
    return results


def task_home(db: Session, *, org_id: str, common: TaskCommon) -> tuple[Project, Batch | None]:
    """The project (and batch) a new task goes into; a finalized batch takes no more tasks."""
    if common.batch is None:
        if common.project is None:
            raise Invalid(
                "project is required (or a batch, which implies its project)", field="project"
            )
        return get_project(db, org_id=org_id, name=common.project), None
    batch = get_batch(db, org_id=org_id, name=common.batch)
    project = db.get_one(Project, batch.project_id)
    if common.project is not None and common.project != project.name:
        raise Invalid(
            f"batch {batch.name!r} belongs to project {project.name!r}, not {common.project!r}",
            field="batch",
        )
    if batch.finalized_at is not None:
        raise Invalid(f"batch {batch.name!r} is finalized; no tasks can be added", field="batch")
    return project, batch


def _unique_id_conflict(unique_id: str | None) -> Conflict:
    return Conflict(f"a task with unique_id {unique_id!r} already exists", unique_id=unique_id)


def _ensure_unique_id_free(db: Session, *, org_id: str, unique_id: str) -> None:
    taken = db.scalar(select(Task.id).where(Task.org_id == org_id, Task.unique_id == unique_id))
    if taken is not None:
        raise _unique_id_conflict(unique_id)


def get_task(db: Session, *, org_id: str, task_id: str) -> Task:
    task = db.scalar(select(Task).where(Task.org_id == org_id, Task.id == task_id))
    if task is None:
        raise NotFound(f"no task {task_id!r}")
    return task


def cancel_task(db: Session, *, org_id: str, task_id: str, clear_unique_id: bool = False) -> Task:
    """Cancel a pending task; a finished one cannot be canceled (400, as Scale's client expects)."""
    task = get_task(db, org_id=org_id, task_id=task_id)
    if task.status != "pending":
        raise Invalid(f"task {task_id} is already {task.status} and cannot be canceled")
    task.status = "canceled"
    if clear_unique_id:
        task.unique_id = None
    _enqueue_callback(db, task, "task.canceled")
    _enqueue_batch_completed(db, task.batch_id)
    return task


def _enqueue_callback(db: Session, task: Task, kind: str) -> None:
    """Queue the task's event when it has somewhere to go (the task object is built only then:
    most completions have no callback, and building it costs queries)."""
    url = callbacks.task_callback_url(db, task=task)
    if not url:
        return
    db.flush()
    task_object = task_read(db, task).model_dump(mode="json")
    callbacks.enqueue_task_event(db, url=url, task=task, kind=kind, task_object=task_object)


def mark_tasks_completed(db: Session, *, completions: list[tuple[Task, dict[str, Any]]]) -> None:
    """Deliver tasks' final responses: the one place a task becomes ``completed``. A customer's
    earlier audit of it (a rejection reopened it) does not apply to the new answer. One UPDATE
    for them all: a dispatch round completes many tasks at once."""
    for task, _ in completions:
        if task.status != "pending":
            raise Invalid(f"task {task.id} is {task.status}; only a pending task can complete")
    now = utcnow()
    finished = [task for task, _ in completions]
    write_through(
        db,
        finished,
        each={"response": [response for _, response in completions]},
        status="completed",
        completed_at=now,
        updated_at=now,
        customer_review_status=None,
    )
    for task in finished:
        _enqueue_callback(db, task, "task.completed")
    for batch_id in sorted({task.batch_id for task in finished if task.batch_id is not None}):
        _enqueue_batch_completed(db, batch_id)


def mark_task_failed(db: Session, *, task: Task, error: str, reasons: list[str]) -> Task:
    """A task that cannot be done ends as ``error``; its ``response`` says why, for the customer
    (and the callback) to read, since there is no answer to deliver."""
    if task.status != "pending":
        raise Invalid(f"task {task.id} is {task.status}; only a pending task can fail")
    task.status = "error"
    task.response = {"error": error, "reports": reasons}
    task.updated_at = utcnow()
    _enqueue_callback(db, task, "task.error")
    _enqueue_batch_completed(db, task.batch_id)
    return task


def _enqueue_batch_completed(db: Session, batch_id: str | None) -> None:
    """Queue the batch object to the batch's callback if this change just completed the batch.

    Called after a task of the batch finished (or the batch was finalized), with that change
    flushed. The batch row is locked first, so of two tasks finishing at once the second one
    waits and then sees the first: exactly one of them finds nothing pending.
    """
    if batch_id is None:
        return
    batch = db.scalar(
        select(Batch)
        .where(Batch.id == batch_id, Batch.callback != "")
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if batch is None or batch.finalized_at is None:
        return
    counts = _status_counts(db, [batch.id])[batch.id]
    if counts.get("pending", 0):
        return
    project_name = db.scalar(select(Project.name).where(Project.id == batch.project_id))
    read = batch_read(db, batch, project_name or "", counts)
    callbacks.enqueue_event(
        db,
        org_id=batch.org_id,
        kind="batch.completed",
        url=batch.callback,
        body=read.model_dump(mode="json"),
        batch_id=batch.id,
    )


def set_task_metadata(db: Session, *, org_id: str, task_id: str, metadata: dict[str, Any]) -> Task:
    task = get_task(db, org_id=org_id, task_id=task_id)
    task.metadata_ = metadata
    return task


def set_task_unique_id(db: Session, *, org_id: str, task_id: str, unique_id: str | None) -> Task:
    """Set (or, with None, clear) a task's unique_id; an id already in use is a conflict."""
    task = get_task(db, org_id=org_id, task_id=task_id)
    if unique_id is not None and unique_id != task.unique_id:
        _ensure_unique_id_free(db, org_id=org_id, unique_id=unique_id)
    task.unique_id = unique_id
    try:
        db.flush()
    except IntegrityError:
        raise _unique_id_conflict(unique_id) from None
    return task


def change_task_tags(db: Session, *, org_id: str, task_id: str, tags: list[str], mode: str) -> Task:
    """Replace, add to, or remove from a task's tags (``mode`` = set, add or remove)."""
    task = get_task(db, org_id=org_id, task_id=task_id)
    current = list(task.tags)
    if mode == "set":
        current = list(dict.fromkeys(tags))
    elif mode == "add":
        current = list(dict.fromkeys([*current, *tags]))
    else:
        current = [t for t in current if t not in set(tags)]
    task.tags = current
    return task


def _task_query(org_id: str, filters: TaskFilters, dialect: str) -> Select[Any]:
    # Imported gold tasks (status "gold") are the operator's, never the customer's to list.
    query = select(Task).where(Task.org_id == org_id, Task.status != "gold")
    if filters.project is not None:
        query = query.join(Project, Project.id == Task.project_id).where(
            Project.name == filters.project
        )
    if filters.batch is not None:
        query = query.join(Batch, Batch.id == Task.batch_id).where(Batch.name == filters.batch)
    for column, value in (
        (Task.status, filters.status),
        (Task.type, filters.type),
    ):
        if value is not None:
            query = query.where(column == value)
    for column, after, before in (
        (Task.created_at, filters.start_time, filters.end_time),
        (Task.completed_at, filters.completed_after, filters.completed_before),
        (Task.updated_at, filters.updated_after, filters.updated_before),
    ):
        if after is not None:
            query = query.where(column >= after)
        if before is not None:
            query = query.where(column <= before)
    if filters.unique_id:
        query = query.where(Task.unique_id.in_(filters.unique_id))
    if filters.customer_review_status:
        query = query.where(Task.customer_review_status.in_(filters.customer_review_status))
    for tag in filters.tags:
        query = query.where(_has_tag(dialect, tag))
    return query


def _has_tag(dialect: str, tag: str) -> ColumnElement[bool]:
    """Containment in the JSON tag list: JSONB ``@>`` on PostgreSQL, ``json_each`` on SQLite."""
    if dialect == "postgresql":
        return type_coerce(Task.tags, JSONB).contains([tag])
    elements = func.json_each(Task.tags).table_valued("value")
    return exists(select(1).select_from(elements).where(elements.c.value == tag))


def list_tasks(
    db: Session,
    *,
    org_id: str,
    filters: TaskFilters,
    limit: int = MAX_PAGE,
    next_token: str | None = None,
    limited_response: bool = False,
) -> TaskPage:
    """Tasks in creation order, cursor-paginated; ``total`` counts every match."""
    query = _task_query(org_id, filters, db.get_bind().dialect.name)
    total = db.scalar(select(func.count()).select_from(query.with_only_columns(Task.id).subquery()))
    if next_token:
        query = query.where(Task.id > decode_cursor(next_token))
    tasks = list(db.scalars(query.order_by(Task.id).limit(limit + 1)))
    has_more = len(tasks) > limit
    tasks = tasks[:limit]
    reads = task_reads(db, tasks)
    docs = [_limited(read) if limited_response else read.model_dump(mode="json") for read in reads]
    return TaskPage(
        docs=docs,
        total=total or 0,
        limit=limit,
        offset=0,
        has_more=has_more,
        next_token=encode_cursor(tasks[-1].id) if has_more else None,
    )


def _limited(read: TaskRead) -> dict[str, Any]:
    return read.model_dump(
        mode="json",
        include={
            "task_id",
            "type",
            "status",
            "project",
            "batch",
            "unique_id",
            "created_at",
            "updated_at",
            "completed_at",
            "metadata",
        },
    )


def task_reads(db: Session, tasks: list[Task]) -> list[TaskRead]:
    """Scale task objects, with project and batch names looked up once per page."""
    project_ids = {t.project_id for t in tasks}
    batch_ids = {t.batch_id for t in tasks if t.batch_id}
    projects = dict(
        db.execute(select(Project.id, Project.name).where(Project.id.in_(project_ids))).all()
    )
    batches = (
        dict(db.execute(select(Batch.id, Batch.name).where(Batch.id.in_(batch_ids))).all())
        if batch_ids
        else {}
    )
    return [
        TaskRead(
            task_id=t.id,
            type=t.type,
            status=t.status,  # type: ignore[arg-type]
            project=projects[t.project_id],
            batch=batches.get(t.batch_id) if t.batch_id else None,
            instruction=t.instruction,
            params=t.params,
            response=t.response,
            callback_url=t.callback_url,
            metadata=t.metadata_,
            tags=t.tags,
            unique_id=t.unique_id,
            priority=t.priority,
            required_responses=t.required_responses,
            is_test=t.is_test,
            customer_review_status=t.customer_review_status,
            callback_succeeded=t.callback_succeeded,
            created_at=t.created_at,
            updated_at=t.updated_at,
            completed_at=t.completed_at,
        )
        for t in tasks
    ]


def task_read(db: Session, task: Task) -> TaskRead:
    return task_reads(db, [task])[0]
