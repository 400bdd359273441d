"""Organizations and API keys: creation, lookup, authentication, revocation."""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quorum.accounts.models import ApiKey, Organization
from quorum.accounts.schemas import ApiKeyCreated, ApiKeyRead, Caller, KeyKind, KeyScope, Role
from quorum.db.base import utcnow
from quorum.errors import Conflict, Invalid, NotFound, Unauthorized


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_organization(db: Session, *, name: str) -> Organization:
    """Create a tenant with fresh callback secrets."""
    name = name.strip()
    if not name:
        raise Invalid("name must not be empty")
    org = Organization(
        name=name,
        callback_auth_key=secrets.token_hex(24),
        callback_signing_secret=secrets.token_hex(32),
    )
    db.add(org)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"an organization named {name!r} already exists") from None
    return org


def get_organization_by_name(db: Session, *, name: str) -> Organization:
    org = db.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        raise NotFound(f"no organization named {name!r}")
    return org


def create_api_key(
    db: Session,
    *,
    org_id: str,
    kind: KeyKind = "live",
    name: str = "",
    role: Role = "owner",
    scope: KeyScope = "full",
    expires_at: datetime | None = None,
) -> ApiKeyCreated:
    """Mint a key; the returned secret is never retrievable again."""
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("expires_at must be in the future", field="expires_at")
    secret = f"{kind}_{secrets.token_hex(16)}"
    key = ApiKey(
        org_id=org_id,
        kind=kind,
        name=name,
        prefix=secret[:12],
        digest=_digest(secret),
        role=role,
        scope=scope,
        expires_at=expires_at,
    )
    db.add(key)
    db.flush()
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), secret=secret)


def list_api_keys(db: Session, *, org_id: str) -> list[ApiKey]:
    return list(db.scalars(select(ApiKey).where(ApiKey.org_id == org_id).order_by(ApiKey.id)))


def get_api_key(db: Session, *, org_id: str, key_id: str) -> ApiKey:
    key = db.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == org_id))
    if key is None:
        raise NotFound(f"no API key {key_id!r}")
    return key


def revoke_api_key(db: Session, *, org_id: str, key_id: str) -> ApiKey:
    """Revoke a key of this organization; requests with it fail from now on."""
    key = get_api_key(db, org_id=org_id, key_id=key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def authenticate(db: Session, *, secret: str) -> Caller:
    """Resolve an API key secret to its caller, refusing unknown or revoked keys."""
    if not secret:
        raise Unauthorized("Please provide a valid API key")
    key = db.scalar(select(ApiKey).where(ApiKey.digest == _digest(secret)))
    if key is None or key.revoked_at is not None:
        raise Unauthorized("The API key is invalid or has been revoked")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise Unauthorized("The API key has expired; create a new one with an unexpired key")
    return Caller.model_validate(
        {"org_id": key.org_id, "key_id": key.id, "key_kind": key.kind}
        | {"role": key.role, "scope": key.scope}
    )
