"""Who may manage a workforce: an organization's admins change its private pool (invitations,
qualifications, staffing, worker status and role) and members may look at it; platform operators
manage the public pool and the qualifications of projects shared with it."""

from quorum.accounts.policy import require_role, require_staff, require_write
from quorum.accounts.schemas import Caller, StaffCaller


def read_workforce(caller: Caller) -> None:
    require_role(caller, "member")


def manage_workforce(caller: Caller) -> None:
    require_role(caller, "admin")
    require_write(caller)


def manage_public_pool(staff: StaffCaller) -> None:
    require_staff(staff, "operator")
