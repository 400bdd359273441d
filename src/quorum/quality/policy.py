"""Who may see and steer quality: members look at trust and metrics; admins change settings,
gold tasks and pauses (they decide who works and what they are judged against)."""

from quorum.accounts.policy import require_role, require_write
from quorum.accounts.schemas import Caller


def read_quality(caller: Caller) -> None:
    require_role(caller, "member")


def manage_quality(caller: Caller) -> None:
    require_role(caller, "admin")
    require_write(caller)
