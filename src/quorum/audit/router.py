"""The audit log of the calling organization: paged as JSON, or whole as JSONL.

There is deliberately no endpoint that changes or deletes an entry.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from quorum.accounts.schemas import Caller, StaffCaller
from quorum.api.deps import SessionDep, UTCDatetime, allow_query, authorize, authorize_staff
from quorum.audit import policy, service
from quorum.audit.schemas import AuditFilters, AuditPage

router = APIRouter(prefix="/v1/audit", tags=["audit log"])
staff_router = APIRouter(prefix="/v1/staff/audit", tags=["platform staff"])
AuditReader = Annotated[Caller, authorize(policy.read_audit)]
StaffAuditReader = Annotated[StaffCaller, authorize_staff(policy.read_staff_audit)]
FILTERS = ("action", "actor_id", "start_time", "end_time")


def _filters(
    action: str | None = None,
    actor_id: str | None = None,
    start_time: UTCDatetime | None = None,
    end_time: UTCDatetime | None = None,
) -> AuditFilters:
    return AuditFilters(action=action, actor_id=actor_id, start_time=start_time, end_time=end_time)


FiltersDep = Annotated[AuditFilters, Depends(_filters)]


@router.get(
    "",
    response_model=AuditPage,
    dependencies=[Depends(allow_query(*FILTERS, "limit", "next_token"))],
)
def list_audit_entries(
    caller: AuditReader,
    db: SessionDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.MAX_PAGE,
    next_token: str | None = None,
) -> AuditPage:
    """Who did what, oldest first; follow ``next_token`` for more."""
    return service.list_entries(
        db, org_id=caller.org_id, filters=filters, limit=limit, next_token=next_token
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    dependencies=[Depends(allow_query(*FILTERS))],
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_audit_entries(
    caller: AuditReader, filters: FiltersDep, request: Request
) -> StreamingResponse:
    """Every matching entry as JSON Lines, streamed in constant memory."""
    sessions = request.app.state.session_factory

    def lines() -> Iterator[str]:
        with sessions() as db:
            for entry in service.iter_entries(db, org_id=caller.org_id, filters=filters):
                yield entry.model_dump_json() + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@staff_router.get(
    "",
    response_model=AuditPage,
    dependencies=[Depends(allow_query(*FILTERS, "limit", "next_token"))],
)
def list_staff_audit_entries(
    staff: StaffAuditReader,
    db: SessionDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.MAX_PAGE,
    next_token: str | None = None,
) -> AuditPage:
    """What platform staff did, in any organization's log or the platform's, oldest first."""
    return service.list_entries(
        db, org_id=None, filters=filters, limit=limit, next_token=next_token
    )
