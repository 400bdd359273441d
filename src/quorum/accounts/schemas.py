"""I/O models for organizations and API keys."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

KeyKind = Literal["live", "test"]


class OrganizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: KeyKind
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    kind: KeyKind = "live"


class ApiKeyCreated(ApiKeyRead):
    """The only time the secret is shown: on creation."""

    secret: str


class Caller(BaseModel):
    """Who is calling the customer API: the organization and the key used."""

    org_id: str
    key_id: str
    key_kind: KeyKind
