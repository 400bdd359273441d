"""Writing and reading the audit log. Entries are only ever inserted, in the transaction of the
change they describe, so an action and its record commit or vanish together."""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from quorum.accounts.schemas import Caller
from quorum.audit.models import AuditEntry
from quorum.audit.schemas import AuditEntryRead, AuditFilters, AuditPage
from quorum.db.pagination import decode_cursor, encode_cursor

MAX_PAGE = 100
EXPORT_CHUNK = 500


def record(
    db: Session, *, caller: Caller, action: str, method: str, path: str, target: dict[str, Any]
) -> AuditEntry:
    """Append what an API key just did; flushed with the change itself."""
    entry = AuditEntry(
        org_id=caller.org_id,
        actor_type="api_key",
        actor_id=caller.key_id,
        action=action,
        method=method,
        path=path,
        target=target,
        request_id=caller.request_id,
        address=caller.address,
    )
    db.add(entry)
    return entry


def _query(org_id: str, filters: AuditFilters) -> Select[tuple[AuditEntry]]:
    query = select(AuditEntry).where(AuditEntry.org_id == org_id)
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
    db: Session, *, org_id: str, filters: AuditFilters, limit: int, next_token: str | None
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


def iter_entries(db: Session, *, org_id: str, filters: AuditFilters) -> Iterator[AuditEntryRead]:
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
