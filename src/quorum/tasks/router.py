"""Scale-compatible ``/v1`` endpoints for projects, batches and tasks.

Every success is a 200 with a JSON body and every failure a JSON object with ``error`` (what the
official ``scaleapi`` client expects). Names in paths are ``PathName``s (may contain "/").
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import create_model

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, UTCDatetime, allow_query, authorize
from quorum.jsonbounds import METADATA, PAYLOAD, BoundedText, bounded
from quorum.tasks import policy, service
from quorum.tasks.schemas import (
    BatchCreate,
    BatchPage,
    BatchRead,
    BatchStatus,
    BatchStatusRead,
    ProjectCreate,
    ProjectRead,
    TaskCommon,
    TaskFilters,
    TaskPage,
    TaskRead,
    TaskStatus,
)
from quorum.tasktypes import get_task_type, task_type_names

router = APIRouter(prefix="/v1", tags=["customer API"])
TaskReader = Annotated[Caller, authorize(policy.read_work)]
TaskWriter = Annotated[Caller, authorize(policy.change_work)]
JsonObject = Annotated[dict[str, Any], Body()]
MetadataBody = Annotated[dict[str, Any], Body(), bounded(METADATA, named="metadata")]
ParamsBody = Annotated[dict[str, Any], Body(), bounded(PAYLOAD, named="params")]
TagList = Annotated[list[BoundedText], Body()]
# Schemas of the per-type create bodies, added to the OpenAPI components by the app.
DOCUMENTED_SCHEMAS: dict[str, Any] = {}


# Projects


@router.post("/projects", response_model=ProjectRead)
def create_project(data: ProjectCreate, caller: TaskWriter, db: SessionDep) -> ProjectRead:
    """Create a project of one task type; its params are defaults for its tasks."""
    project = service.create_project(db, org_id=caller.org_id, data=data)
    caller.created(project_id=project.id)
    return service.project_read(project)


@router.get("/projects", response_model=list[ProjectRead])
def list_projects(caller: TaskReader, db: SessionDep) -> list[ProjectRead]:
    """All projects of the organization, as a bare array (Scale's shape)."""
    return [service.project_read(p) for p in service.list_projects(db, org_id=caller.org_id)]


@router.get("/projects/{name}", response_model=ProjectRead)
def get_project(name: PathName, caller: TaskReader, db: SessionDep) -> ProjectRead:
    return service.project_read(service.get_project(db, org_id=caller.org_id, name=name))


@router.post("/projects/{name}/setParams", response_model=ProjectRead)
def set_project_params(
    name: PathName, changes: ParamsBody, caller: TaskWriter, db: SessionDep
) -> ProjectRead:
    """Merge new default params and append a version to ``param_history``."""
    project = service.update_project_params(db, org_id=caller.org_id, name=name, changes=changes)
    return service.project_read(project)


# Batches


@router.post("/batches", response_model=BatchRead)
def create_batch(data: BatchCreate, caller: TaskWriter, db: SessionDep) -> BatchRead:
    batch, project = service.create_batch(db, org_id=caller.org_id, data=data)
    caller.created(batch_id=batch.id)
    return service.batch_read(db, batch, project.name, {})


@router.get(
    "/batches",
    response_model=BatchPage,
    dependencies=[
        Depends(
            allow_query(
                "project", "status", "start_time", "end_time", "exclude_archived", "offset", "limit"
            )
        )
    ],
)
def list_batches(
    caller: TaskReader,
    db: SessionDep,
    project: str | None = None,
    status: BatchStatus | None = None,
    start_time: UTCDatetime | None = None,
    end_time: UTCDatetime | None = None,
    exclude_archived: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.MAX_PAGE,
) -> BatchPage:
    """Batches, offset-paginated; ``exclude_archived`` is accepted (batches are never archived)."""
    return service.list_batches(
        db,
        org_id=caller.org_id,
        project=project,
        status=status,
        start_time=start_time,
        end_time=end_time,
        offset=offset,
        limit=limit,
    )


@router.get("/batches/{name}", response_model=BatchRead)
def get_batch(name: PathName, caller: TaskReader, db: SessionDep) -> BatchRead:
    return service.describe_batch(db, org_id=caller.org_id, name=name)


@router.post("/batches/{name}/finalize", response_model=BatchRead)
def finalize_batch(name: PathName, caller: TaskWriter, db: SessionDep) -> BatchRead:
    """Close the batch to new tasks and release its tasks to the workforce."""
    service.finalize_batch(db, org_id=caller.org_id, name=name)
    return service.describe_batch(db, org_id=caller.org_id, name=name)


@router.get("/batches/{name}/status", response_model=BatchStatusRead)
def batch_status(name: PathName, caller: TaskReader, db: SessionDep) -> BatchStatusRead:
    return service.batch_status(db, org_id=caller.org_id, name=name)


@router.post("/batches/{name}/setMetadata", response_model=BatchRead)
def set_batch_metadata(
    name: PathName, metadata: MetadataBody, caller: TaskWriter, db: SessionDep
) -> BatchRead:
    service.set_batch_metadata(db, org_id=caller.org_id, name=name, metadata=metadata)
    return service.describe_batch(db, org_id=caller.org_id, name=name)


# Tasks


def _register_create_route(task_type: str) -> None:
    """One documented create route per task type: common fields plus the type's params.

    The body is parsed by the service rather than by FastAPI because project defaults may supply
    required params; the OpenAPI schema still shows the full shape.
    """
    params_model = get_task_type(task_type).Params
    documented = create_model(  # type: ignore[call-overload]
        f"{params_model.__name__.removesuffix('Params')}TaskCreate",
        __base__=(TaskCommon, params_model),
    )

    def create(body: JsonObject, caller: TaskWriter, db: SessionDep) -> TaskRead:
        task = service.create_task(
            db,
            org_id=caller.org_id,
            task_type=task_type,
            body=body,
            is_test=caller.key_kind == "test",
        )
        caller.created(task_id=task.id)
        return service.task_read(db, task)

    schema = documented.model_json_schema(ref_template="#/components/schemas/{model}")
    DOCUMENTED_SCHEMAS.update(schema.pop("$defs", {}))
    DOCUMENTED_SCHEMAS[documented.__name__] = schema
    router.add_api_route(
        f"/task/{task_type}",
        create,
        methods=["POST"],
        response_model=TaskRead,
        name=f"create_{task_type}_task",
        summary=f"Create a {task_type} task",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{documented.__name__}"}
                    }
                },
            }
        },
    )


for _task_type in task_type_names():
    _register_create_route(_task_type)


@router.get("/task/{task_id}", response_model=TaskRead)
def get_task(task_id: str, caller: TaskReader, db: SessionDep) -> TaskRead:
    return service.task_read(db, service.get_task(db, org_id=caller.org_id, task_id=task_id))


@router.post(
    "/task/{task_id}/cancel",
    response_model=TaskRead,
    dependencies=[Depends(allow_query("clear_unique_id"))],
)
def cancel_task(
    task_id: str, caller: TaskWriter, db: SessionDep, clear_unique_id: bool = False
) -> TaskRead:
    """Cancel a pending task (400 if it already finished or was canceled)."""
    task = service.cancel_task(
        db, org_id=caller.org_id, task_id=task_id, clear_unique_id=clear_unique_id
    )
    return service.task_read(db, task)


@router.post("/task/{task_id}/setMetadata", response_model=TaskRead)
def set_task_metadata(
    task_id: str, metadata: MetadataBody, caller: TaskWriter, db: SessionDep
) -> TaskRead:
    """Replace the task's metadata with the body."""
    task = service.set_task_metadata(db, org_id=caller.org_id, task_id=task_id, metadata=metadata)
    return service.task_read(db, task)


@router.post("/task/{task_id}/unique_id", response_model=TaskRead)
def set_task_unique_id(
    task_id: str,
    unique_id: Annotated[str, Body(embed=True, min_length=1, max_length=255)],
    caller: TaskWriter,
    db: SessionDep,
) -> TaskRead:
    task = service.set_task_unique_id(
        db, org_id=caller.org_id, task_id=task_id, unique_id=unique_id
    )
    return service.task_read(db, task)


@router.delete("/task/{task_id}/unique_id", response_model=TaskRead)
def clear_task_unique_id(task_id: str, caller: TaskWriter, db: SessionDep) -> TaskRead:
    task = service.set_task_unique_id(db, org_id=caller.org_id, task_id=task_id, unique_id=None)
    return service.task_read(db, task)


def _tags_route(mode: str) -> Any:
    def change(task_id: str, tags: TagList, caller: TaskWriter, db: SessionDep) -> TaskRead:
        task = service.change_task_tags(
            db, org_id=caller.org_id, task_id=task_id, tags=tags, mode=mode
        )
        return service.task_read(db, task)

    return change


router.add_api_route(
    "/task/{task_id}/tags",
    _tags_route("set"),
    methods=["POST"],
    response_model=TaskRead,
    name="set_task_tags",
)
router.add_api_route(
    "/task/{task_id}/tags",
    _tags_route("add"),
    methods=["PUT"],
    response_model=TaskRead,
    name="add_task_tags",
)
router.add_api_route(
    "/task/{task_id}/tags",
    _tags_route("remove"),
    methods=["DELETE"],
    response_model=TaskRead,
    name="delete_task_tags",
)

TASK_QUERY = (
    "project",
    "batch",
    "status",
    "type",
    "start_time",
    "end_time",
    "completed_after",
    "completed_before",
    "updated_after",
    "updated_before",
    "unique_id",
    "tags",
    "customer_review_status",
    "limit",
    "next_token",
    "include_attachment_url",
    "limited_response",
)


@router.get("/tasks", response_model=TaskPage, dependencies=[Depends(allow_query(*TASK_QUERY))])
def list_tasks(
    caller: TaskReader,
    db: SessionDep,
    project: str | None = None,
    batch: str | None = None,
    status: TaskStatus | None = None,
    type: str | None = None,
    start_time: UTCDatetime | None = None,
    end_time: UTCDatetime | None = None,
    completed_after: UTCDatetime | None = None,
    completed_before: UTCDatetime | None = None,
    updated_after: UTCDatetime | None = None,
    updated_before: UTCDatetime | None = None,
    unique_id: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI reads, never mutates)
    tags: Annotated[list[str], Query()] = [],  # noqa: B006
    customer_review_status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.MAX_PAGE,
    next_token: str | None = None,
    include_attachment_url: bool = True,
    limited_response: bool = False,
) -> TaskPage:
    """Tasks matching every filter given, in creation order; follow ``next_token`` for more."""
    filters = TaskFilters(
        project=project,
        batch=batch,
        status=status,
        type=type,
        start_time=start_time,
        end_time=end_time,
        completed_after=completed_after,
        completed_before=completed_before,
        updated_after=updated_after,
        updated_before=updated_before,
        unique_id=unique_id,
        tags=tags,
        customer_review_status=[s for s in (customer_review_status or "").split(",") if s.strip()],
    )
    return service.list_tasks(
        db,
        org_id=caller.org_id,
        filters=filters,
        limit=limit,
        next_token=next_token,
        limited_response=limited_response,
    )
