"""API keys of the calling organization: list, create (secret shown once), revoke; platform
staff log in and out."""

from typing import Annotated

from fastapi import APIRouter, Request

from quorum.accounts import policy, service
from quorum.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    Caller,
    StaffLogin,
    StaffRead,
    StaffSession,
)
from quorum.api.deps import SessionDep, StaffDep, authorize
from quorum.api.ratelimit import throttle_login

router = APIRouter(prefix="/v1/keys", tags=["API keys"])
staff_router = APIRouter(prefix="/v1/staff", tags=["platform staff"])
KeyReader = Annotated[Caller, authorize(policy.read_keys)]
KeyManager = Annotated[Caller, authorize(policy.manage_keys)]


@router.get("", response_model=list[ApiKeyRead])
def list_keys(caller: KeyReader, db: SessionDep) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(k) for k in service.list_api_keys(db, org_id=caller.org_id)]


@router.post("", response_model=ApiKeyCreated)
def create_key(data: ApiKeyCreate, caller: KeyManager, db: SessionDep) -> ApiKeyCreated:
    """Mint a key (by default with this key's role and expiry); its secret is in this reply
    only, ever."""
    role = data.role or caller.role
    expires_at = data.expires_at if "expires_at" in data.model_fields_set else caller.key_expires_at
    policy.create_key(caller, role=role, expires_at=expires_at)
    key = service.create_api_key(
        db,
        org_id=caller.org_id,
        kind=data.kind,
        name=data.name,
        role=role,
        scope=data.scope,
        expires_at=expires_at,
    )
    caller.created(key_id=key.id)
    return key


@router.post("/{key_id}/revoke", response_model=ApiKeyRead)
def revoke_key(key_id: str, caller: KeyManager, db: SessionDep) -> ApiKeyRead:
    """Revoke a key at once; two live keys let a client rotate without downtime."""
    policy.revoke_key(caller, service.get_api_key(db, org_id=caller.org_id, key_id=key_id))
    key = service.revoke_api_key(db, org_id=caller.org_id, key_id=key_id)
    return ApiKeyRead.model_validate(key)


@staff_router.post("/login", response_model=StaffSession)
def staff_log_in(data: StaffLogin, request: Request, db: SessionDep) -> StaffSession:
    """Open a staff session (accounts come from ``quorum staff create``); Bearer the token."""
    throttle_login(request, surface="staff", account=data.email)
    secret, token, staff = service.staff_log_in(db, email=data.email, password=data.password)
    return StaffSession(
        token=secret, expires_at=token.expires_at, staff=StaffRead.model_validate(staff)
    )


@staff_router.post("/logout", status_code=204)
def staff_log_out(staff: StaffDep, db: SessionDep) -> None:
    service.staff_log_out(db, token_id=staff.token_id)


@staff_router.get("/me", response_model=StaffRead)
def staff_me(staff: StaffDep, db: SessionDep) -> StaffRead:
    return StaffRead.model_validate(service.get_staff(db, staff_id=staff.id))
