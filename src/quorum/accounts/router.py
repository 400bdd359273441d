"""API keys of the calling organization: list, create (secret shown once), revoke."""

from typing import Annotated

from fastapi import APIRouter

from quorum.accounts import policy, service
from quorum.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, Caller
from quorum.api.deps import SessionDep, authorize

router = APIRouter(prefix="/v1/keys", tags=["API keys"])
KeyReader = Annotated[Caller, authorize(policy.read_keys)]
KeyManager = Annotated[Caller, authorize(policy.manage_keys)]


@router.get("", response_model=list[ApiKeyRead])
def list_keys(caller: KeyReader, db: SessionDep) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(k) for k in service.list_api_keys(db, org_id=caller.org_id)]


@router.post("", response_model=ApiKeyCreated)
def create_key(data: ApiKeyCreate, caller: KeyManager, db: SessionDep) -> ApiKeyCreated:
    """Mint a key (by default with this key's role); its secret is in this reply only, ever."""
    role = data.role or caller.role
    policy.create_key(caller, role)
    return service.create_api_key(
        db,
        org_id=caller.org_id,
        kind=data.kind,
        name=data.name,
        role=role,
        scope=data.scope,
        expires_at=data.expires_at,
    )


@router.post("/{key_id}/revoke", response_model=ApiKeyRead)
def revoke_key(key_id: str, caller: KeyManager, db: SessionDep) -> ApiKeyRead:
    """Revoke a key at once; two live keys let a client rotate without downtime."""
    policy.revoke_key(caller, service.get_api_key(db, org_id=caller.org_id, key_id=key_id))
    key = service.revoke_api_key(db, org_id=caller.org_id, key_id=key_id)
    return ApiKeyRead.model_validate(key)
