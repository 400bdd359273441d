"""Who may see and steer quality: members look at trust and metrics; admins change settings,
gold tasks and pauses (they decide who works and what they are judged against). Platform
operators keep the gold of projects shared with the public pool."""

from quorum.accounts.policy import require_role, require_staff, require_write
from quorum.accounts.schemas import Caller, StaffCaller


def read_quality(caller: Caller) -> None:
    require_role(caller, "member")


def manage_quality(caller: Caller) -> None:
    require_role(caller, "admin")
    require_write(caller)


def manage_shared_gold(staff: StaffCaller) -> None:
    require_staff(staff, "operator")
