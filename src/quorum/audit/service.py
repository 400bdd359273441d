"""Writing and reading the audit log. Entries are only ever inserted, in the transaction of the
change they describe, so an action and its record commit or vanish together."""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from quorum.accounts.schemas import Caller, StaffCaller
from quorum.audit.models import AuditEntry
from quorum.audit.schemas import AuditEntryRead, AuditFilters, AuditPage
from quorum.db.pagination import decode_cursor, encode_cursor

MAX_PAGE = 100
EXPORT_CHUNK = 500


def record(
    db: Session,
    *,
    actor: Caller | StaffCaller,
    action: str,
    method: str,
    path: str,
    target: dict[str, Any],
) -> AuditEntry:
    """Append what an API key or a staff member just did; flushed with the change itself.

    The target is the addressed object (path parameters) plus the ids of what the request
    created. A staff action lands in the log of the organization whose shared project it
    touched, or in the platform's log (no organization).
    """
    if isinstance(actor, Caller):
        org_id, actor_type, actor_id = actor.org_id, "api_key", actor.key_id
    else:
        org_id, actor_type, actor_id = actor.audit_org_id, "staff", actor.id
    entry = AuditEntry(
        org_id=org_id,
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        method=method,
        path=path,
        target=target | actor.created_ids,
        request_id=actor.request_id,
        address=actor.address,
    )
    db.add(entry)
    return entry


def _query(org_id: str | None, filters: AuditFilters) -> Select[tuple[AuditEntry]]:
    """An organization's log; with no organization, what platform staff did anywhere."""
    scope = AuditEntry.org_id == org_id if org_id is not None else AuditEntry.actor_type == "staff"
    query = select(AuditEntry).where(scope)
    if filters.action is not None:
        query = query.where(AuditEntry.action == filters.action)
    if filters.actor_id is not None:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.start_time is not None:
        query = query.where(AuditEntry.created_at >= filters.start_time)
    if filters.end_time is not None:
        query = query.where(AuditEntry.created_at < filters.end_time)
    return query.order_by(AuditEntry.id)


def list_entries(
    db: Session, *, org_id: str | None, filters: AuditFilters, limit: int, next_token: str | None
) -> AuditPage:
    """Entries oldest first; follow ``next_token`` for more."""
    query = _query(org_id, filters)
    if next_token is not None:
        query = query.where(AuditEntry.id > decode_cursor(next_token))
    rows = list(db.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(
        docs=[AuditEntryRead.model_validate(row) for row in rows],
        next_token=encode_cursor(rows[-1].id) if more else None,
    )


def iter_entries(
    db: Session, *, org_id: str | None, filters: AuditFilters
) -> Iterator[AuditEntryRead]:
    """Every matching entry, read in chunks so that memory stays constant."""
    after = ""
    while True:
        chunk = list(
            db.scalars(_query(org_id, filters).where(AuditEntry.id > after).limit(EXPORT_CHUNK))
        )
        yield from (AuditEntryRead.model_validate(row) for row in chunk)
        if len(chunk) < EXPORT_CHUNK:
            return
        after = chunk[-1].id
