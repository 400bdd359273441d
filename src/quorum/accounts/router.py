"""API keys of the calling organization: list, create (secret shown once), revoke."""

from fastapi import APIRouter

from quorum.accounts import service
from quorum.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from quorum.api.deps import CallerDep, SessionDep

router = APIRouter(prefix="/v1/keys", tags=["API keys"])


@router.get("", response_model=list[ApiKeyRead])
def list_keys(caller: CallerDep, db: SessionDep) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(k) for k in service.list_api_keys(db, org_id=caller.org_id)]


@router.post("", response_model=ApiKeyCreated)
def create_key(data: ApiKeyCreate, caller: CallerDep, db: SessionDep) -> ApiKeyCreated:
    """Mint a key; its secret is in this reply and nowhere else, ever."""
    return service.create_api_key(db, org_id=caller.org_id, kind=data.kind, name=data.name)


@router.post("/{key_id}/revoke", response_model=ApiKeyRead)
def revoke_key(key_id: str, caller: CallerDep, db: SessionDep) -> ApiKeyRead:
    """Revoke a key at once; two live keys let a client rotate without downtime."""
    key = service.revoke_api_key(db, org_id=caller.org_id, key_id=key_id)
    return ApiKeyRead.model_validate(key)
