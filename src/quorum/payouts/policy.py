"""Who may see and set what workers are paid: an organization's admins for its private pool;
platform operators for the public pool (its payout runs, bonuses on shared projects)."""

from quorum.accounts.policy import require_role, require_staff, require_write
from quorum.accounts.schemas import Caller, StaffCaller


def read_pay(caller: Caller) -> None:
    require_role(caller, "admin")


def manage_pay(caller: Caller) -> None:
    require_role(caller, "admin")
    require_write(caller)


def manage_platform_pay(staff: StaffCaller) -> None:
    require_staff(staff, "operator")
