"""I/O models for organizations and API keys."""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

KeyKind = Literal["live", "test"]
# Organization roles, weakest first: each can do everything the one before it can.
Role = Literal["viewer", "member", "admin", "owner"]
KeyScope = Literal["full", "read"]


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: KeyKind
    prefix: str
    role: Role
    scope: KeyScope
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreate(BaseModel):
    """A new key; without a role it gets the creating key's role (a rotation makes a twin)."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    kind: KeyKind = "live"
    role: Role | None = None
    scope: KeyScope = "full"
    expires_at: AwareDatetime | None = None


class ApiKeyCreated(ApiKeyRead):
    """The only time the secret is shown: on creation."""

    secret: str


class Caller(BaseModel):
    """Who is calling the customer API: the organization, the key used and what it may do,
    and where the request came from (for the audit log)."""

    org_id: str
    key_id: str
    key_kind: KeyKind
    role: Role
    scope: KeyScope
    request_id: str = ""
    address: str = ""
