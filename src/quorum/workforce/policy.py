"""Who may manage the organization's workforce: admins change it (invitations, qualifications,
staffing, worker status); members may look at it."""

from quorum.accounts.policy import require_role, require_write
from quorum.accounts.schemas import Caller


def read_workforce(caller: Caller) -> None:
    require_role(caller, "member")


def manage_workforce(caller: Caller) -> None:
    require_role(caller, "admin")
    require_write(caller)
