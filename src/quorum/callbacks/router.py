"""Callback events of the calling organization: list (e.g. the dead ones), inspect, redeliver."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from quorum.accounts.schemas import Caller
from quorum.api.deps import SessionDep, allow_query, authorize
from quorum.callbacks import policy, service
from quorum.callbacks.schemas import (
    CallbackEventDetail,
    CallbackEventPage,
    CallbackEventRead,
    EventState,
)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])
EventReader = Annotated[Caller, authorize(policy.read_events)]
EventRedeliverer = Annotated[Caller, authorize(policy.redeliver_events)]


@router.get(
    "",
    response_model=CallbackEventPage,
    dependencies=[Depends(allow_query("state", "task_id", "limit", "next_token"))],
)
def list_events(
    caller: EventReader,
    db: SessionDep,
    state: EventState | None = None,
    task_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.MAX_PAGE,
    next_token: str | None = None,
) -> CallbackEventPage:
    """Callback events oldest first; ``state=dead`` lists those that gave up."""
    return service.list_events(
        db,
        org_id=caller.org_id,
        state=state,
        task_id=task_id,
        limit=limit,
        next_token=next_token,
    )


@router.get("/{event_id}", response_model=CallbackEventDetail)
def get_event(event_id: str, caller: EventReader, db: SessionDep) -> CallbackEventDetail:
    """One event with the history of its delivery attempts."""
    return service.describe_event(db, org_id=caller.org_id, event_id=event_id)


@router.post("/{event_id}/redeliver", response_model=CallbackEventRead)
def redeliver_event(event_id: str, caller: EventRedeliverer, db: SessionDep) -> CallbackEventRead:
    """Queue the event again with a fresh count of attempts."""
    event = service.redeliver_event(db, org_id=caller.org_id, event_id=event_id)
    return CallbackEventRead.model_validate(event, from_attributes=True)
