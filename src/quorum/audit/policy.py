"""Who may read the audit log: the organization's admins and owners (read-only keys too)."""

from quorum.accounts.policy import require_role
from quorum.accounts.schemas import Caller


def read_audit(caller: Caller) -> None:
    require_role(caller, "admin")
