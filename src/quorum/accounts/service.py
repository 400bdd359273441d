"""Organizations and API keys: creation, lookup, authentication, revocation; platform staff
accounts and their sessions."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quorum.accounts.models import ApiKey, Organization, StaffAccount, StaffToken
from quorum.accounts.schemas import (
    ApiKeyCreated,
    ApiKeyRead,
    Caller,
    KeyKind,
    KeyScope,
    Role,
    StaffCaller,
    StaffRole,
)
from quorum.credentials import digest, hash_password, new_secret, verify_login
from quorum.db.base import utcnow
from quorum.errors import Conflict, Invalid, NotFound, Unauthorized

STAFF_SESSION_LIFETIME = timedelta(hours=12)
MIN_STAFF_PASSWORD = 12


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
    secret = new_secret(f"{kind}_", 16)
    key = ApiKey(
        org_id=org_id,
        kind=kind,
        name=name,
        prefix=secret[:12],
        digest=digest(secret),
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


def _live_caller(key: ApiKey | None) -> Caller:
    """The caller a key acts as, unless it is unknown, revoked or expired."""
    if key is None or key.revoked_at is not None:
        raise Unauthorized("The API key is invalid or has been revoked")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise Unauthorized("The API key has expired; create a new one with an unexpired key")
    return Caller.model_validate(
        {"org_id": key.org_id, "key_id": key.id, "key_kind": key.kind}
        | {"role": key.role, "scope": key.scope, "key_expires_at": key.expires_at}
    )


def authenticate(db: Session, *, secret: str) -> Caller:
    """Resolve an API key secret to its caller, refusing unknown, revoked or expired keys."""
    if not secret:
        raise Unauthorized("Please provide a valid API key")
    return _live_caller(db.scalar(select(ApiKey).where(ApiKey.digest == digest(secret))))


def authenticate_key_session(db: Session, *, org_id: str, key_id: str) -> Caller:
    """The caller of a web session opened with key ``key_id``: the session ends the moment that
    key is revoked or expires, as the key itself would stop working on the API."""
    return _live_caller(
        db.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == org_id))
    )


def create_staff(
    db: Session, *, email: str, password: str, name: str = "", role: StaffRole = "operator"
) -> StaffAccount:
    """A platform staff account (``quorum staff create``); there is no API to make one."""
    if len(password) < MIN_STAFF_PASSWORD:
        raise Invalid(f"a staff password needs at least {MIN_STAFF_PASSWORD} characters")
    staff = StaffAccount(
        email=email.strip().lower(), name=name, password_hash=hash_password(password), role=role
    )
    db.add(staff)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Conflict(f"a staff account with email {staff.email!r} already exists") from None
    return staff


def disable_staff(db: Session, *, email: str) -> StaffAccount:
    """Lock a staff member out: no login, and their open sessions stop authenticating."""
    staff = db.scalar(select(StaffAccount).where(StaffAccount.email == email.strip().lower()))
    if staff is None:
        raise NotFound(f"no staff account {email!r}")
    staff.disabled_at = staff.disabled_at or utcnow()
    return staff


def staff_log_in(db: Session, *, email: str, password: str) -> tuple[str, StaffToken, StaffAccount]:
    """Check the password and open a session; one message for every failure."""
    staff = db.scalar(select(StaffAccount).where(StaffAccount.email == email.strip().lower()))
    kept = verify_login(staff.password_hash if staff else None, password)
    if staff is None or staff.disabled_at is not None or kept is None:
        raise Unauthorized("wrong email or password")
    staff.password_hash = kept
    secret = new_secret("st_")
    token = StaffToken(
        staff_id=staff.id, digest=digest(secret), expires_at=utcnow() + STAFF_SESSION_LIFETIME
    )
    db.add(token)
    db.flush()
    return secret, token, staff


def staff_log_out(db: Session, *, token_id: str) -> None:
    db.get_one(StaffToken, token_id).revoked_at = utcnow()


def get_staff(db: Session, *, staff_id: str) -> StaffAccount:
    return db.get_one(StaffAccount, staff_id)


def authenticate_staff(db: Session, *, secret: str) -> StaffCaller:
    """Resolve a staff session token; disabled accounts and other tokens are refused."""
    if not secret:
        raise Unauthorized("log in as platform staff: send your staff session token as Bearer")
    row = db.execute(
        select(StaffToken.id, StaffAccount.id, StaffAccount.role)
        .join(StaffAccount, StaffAccount.id == StaffToken.staff_id)
        .where(
            StaffToken.digest == digest(secret),
            StaffToken.revoked_at.is_(None),
            StaffToken.expires_at > utcnow(),
            StaffAccount.disabled_at.is_(None),
        )
    ).first()
    if row is None:
        raise Unauthorized("log in as platform staff: send your staff session token as Bearer")
    token_id, staff_id, role = row
    return StaffCaller.model_validate({"id": staff_id, "role": role, "token_id": token_id})
