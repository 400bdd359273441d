"""I/O models of the audit log."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    actor_type: str
    actor_id: str
    action: str
    method: str
    path: str
    target: dict[str, Any]
    request_id: str
    address: str
    created_at: datetime


class AuditFilters(BaseModel):
    """Every filter given must match; times bound ``created_at`` (inclusive, exclusive)."""

    action: str | None = None
    actor_id: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


class AuditPage(BaseModel):
    docs: list[AuditEntryRead]
    next_token: str | None
