"""Who may do what with projects, batches and tasks: viewers read, members create and change,
admins delete."""

from quorum.accounts.policy import require_role, require_write
from quorum.accounts.schemas import Caller


def read_work(caller: Caller) -> None:
    require_role(caller, "viewer")


def change_work(caller: Caller) -> None:
    require_role(caller, "member")
    require_write(caller)


def delete_project(caller: Caller) -> None:
    require_role(caller, "admin")
    require_write(caller)
