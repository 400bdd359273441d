"""Who may do what inside an organization, and who may manage its API keys.

Roles, weakest first: viewer (reads), member (creates and changes work), admin (manages keys,
workforce, pay, reads the audit log), owner (everything, including owner keys). A key with the
``read`` scope is refused every write whatever its role. Other domains' policies build on
``require_role`` and ``require_write``.

Platform staff are not members of any organization: their one role, operator, manages the public
pool of workers, the qualifications, gold and pay of projects shared with it, and reads what staff
did (``require_staff``). No API key, whatever its role, passes a staff check, and no staff
session passes an organization's.
"""

from datetime import datetime
from typing import get_args

from quorum.accounts.models import ApiKey
from quorum.accounts.schemas import Caller, Role, StaffCaller, StaffRole
from quorum.errors import Forbidden

ROLES: tuple[Role, ...] = get_args(Role)


def rank(role: str) -> int:
    return ROLES.index(role)  # type: ignore[arg-type]


def require_role(caller: Caller, minimum: Role) -> None:
    """Refuse a caller whose key's role is weaker than ``minimum``."""
    if rank(caller.role) < rank(minimum):
        raise Forbidden(f"this action needs the {minimum} role; this API key is a {caller.role}")


def require_write(caller: Caller) -> None:
    """Refuse a read-only key."""
    if caller.scope == "read":
        raise Forbidden("this API key is read-only")


def read_keys(caller: Caller) -> None:
    require_role(caller, "admin")


def manage_keys(caller: Caller) -> None:
    require_role(caller, "admin")
    require_write(caller)


def create_key(caller: Caller, *, role: Role, expires_at: datetime | None) -> None:
    """A key can only mint keys up to its own role that expire no later than itself, so no key
    outlives or outranks the one that made it. A read-only key mints nothing (it cannot write)."""
    manage_keys(caller)
    if rank(role) > rank(caller.role):
        raise Forbidden(f"a {caller.role} key cannot create a {role} key", field="role")
    limit = caller.key_expires_at
    if limit is not None and (expires_at is None or expires_at > limit):
        asked = "never expires" if expires_at is None else f"expires at {expires_at.isoformat()}"
        raise Forbidden(
            f"this API key expires at {limit.isoformat()}; it cannot create a key that {asked} "
            "(a key it creates must expire no later than itself)",
            field="expires_at",
        )


def revoke_key(caller: Caller, key: ApiKey) -> None:
    """A key can only revoke keys up to its own role (an admin cannot lock the owner out)."""
    manage_keys(caller)
    if rank(key.role) > rank(caller.role):
        raise Forbidden(f"a {caller.role} key cannot revoke a {key.role} key")


def require_staff(staff: StaffCaller, role: StaffRole = "operator") -> None:
    """Refuse a staff member without ``role``."""
    if staff.role != role:
        raise Forbidden(f"this action needs the platform {role} role; you are a {staff.role}")
