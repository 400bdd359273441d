"""Who may take out all of the organization's data (workforce and pay included): admins."""

from quorum.accounts.policy import require_role
from quorum.accounts.schemas import Caller


def export_organization(caller: Caller) -> None:
    require_role(caller, "admin")
