"""I/O models for organizations, API keys and platform staff, and who is calling."""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr

KeyKind = Literal["live", "test"]
# Organization roles, weakest first: each can do everything the one before it can.
Role = Literal["viewer", "member", "admin", "owner"]
KeyScope = Literal["full", "read"]
# Platform staff roles: an operator manages the public pool, its qualifications, gold and pay.
StaffRole = Literal["operator"]


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
    """A new key; without a role it gets the creating key's role, and without ``expires_at`` the
    creating key's expiry (a rotation makes a twin). ``"expires_at": null`` asks for a key that
    never expires, which only a key that never expires may create."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    kind: KeyKind = "live"
    role: Role | None = None
    scope: KeyScope = "full"
    expires_at: AwareDatetime | None = None


class ApiKeyCreated(ApiKeyRead):
    """The only time the secret is shown: on creation."""

    secret: str


class Actor(BaseModel):
    """Whoever changes something through the API, with what its audit entry needs: where the
    request came from, and the ids of what it created (routers name them with ``created``)."""

    request_id: str = ""
    address: str = ""
    _created: dict[str, str] = PrivateAttr(default_factory=dict)

    def created(self, **ids: str) -> None:
        """Name the object(s) this request created, e.g. ``created(project_id=project.id)``."""
        self._created.update(ids)

    @property
    def created_ids(self) -> dict[str, str]:
        return dict(self._created)


class Caller(Actor):
    """Who is calling the customer API: the organization, the key used and what it may do."""

    org_id: str
    key_id: str
    key_kind: KeyKind
    role: Role
    scope: KeyScope
    key_expires_at: datetime | None = None


class StaffCaller(Actor):
    """A logged-in member of the platform staff. ``acting_on`` names the organization whose
    shared project a request touched, so that the organization's audit log shows it too."""

    id: str
    role: StaffRole
    token_id: str
    _org_id: str | None = PrivateAttr(None)

    def acting_on(self, org_id: str) -> None:
        self._org_id = org_id

    @property
    def audit_org_id(self) -> str | None:
        return self._org_id


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    role: StaffRole
    created_at: datetime


class StaffLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str
    password: str = Field(max_length=200)


class StaffSession(BaseModel):
    """A staff login: send the token as a Bearer token."""

    token: str
    expires_at: datetime
    staff: StaffRead
