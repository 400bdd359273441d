"""Who may see and redeliver callback events: viewers read them, members redeliver."""

from quorum.accounts.policy import require_role, require_write
from quorum.accounts.schemas import Caller


def read_events(caller: Caller) -> None:
    require_role(caller, "viewer")


def redeliver_events(caller: Caller) -> None:
    require_role(caller, "member")
    require_write(caller)
