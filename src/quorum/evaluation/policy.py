"""Who may run model-evaluation campaigns: members create and change them, viewers read."""

from quorum.accounts.policy import require_role, require_write
from quorum.accounts.schemas import Caller


def read_campaigns(caller: Caller) -> None:
    require_role(caller, "viewer")


def run_campaigns(caller: Caller) -> None:
    require_role(caller, "member")
    require_write(caller)
