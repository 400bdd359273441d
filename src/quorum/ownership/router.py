"""Data ownership endpoints: export the organization, delete a project."""

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, authorize
from quorum.ownership import policy, service
from quorum.ownership.schemas import ProjectDeleted
from quorum.tasks import policy as tasks_policy

router = APIRouter(prefix="/v1", tags=["data ownership"])
Exporter = Annotated[Caller, authorize(policy.export_organization)]
ProjectDeleter = Annotated[Caller, authorize(tasks_policy.delete_project)]


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_organization(caller: Exporter, request: Request) -> StreamingResponse:
    """Everything the organization owns, one ``{"table", "row"}`` JSON object per line."""
    sessions = request.app.state.session_factory

    def lines() -> Iterator[str]:
        with sessions() as db:
            for record in service.export_organization(db, org_id=caller.org_id):
                yield json.dumps(record, default=str) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.delete("/projects/{name}", response_model=ProjectDeleted)
def delete_project(name: PathName, caller: ProjectDeleter, db: SessionDep) -> ProjectDeleted:
    """Delete the project with all its batches, tasks and responses (audited; irreversible)."""
    return service.delete_project(db, org_id=caller.org_id, name=name)
