"""Who may read the audit log: the organization's admins and owners (read-only keys too); platform
operators read what staff did."""

from quorum.accounts.policy import require_role, require_staff
from quorum.accounts.schemas import Caller, StaffCaller


def read_audit(caller: Caller) -> None:
    require_role(caller, "admin")


def read_staff_audit(staff: StaffCaller) -> None:
    require_staff(staff, "operator")
