"""Who may see and set what workers are paid: admins only."""

from quorum.accounts.policy import require_role, require_write
from quorum.accounts.schemas import Caller


def read_pay(caller: Caller) -> None:
    require_role(caller, "admin")


def manage_pay(caller: Caller) -> None:
    require_role(caller, "admin")
    require_write(caller)
