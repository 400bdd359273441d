"""Every domain's tables, imported in one place for Alembic and for ``Base.metadata``."""

from quorum.accounts.models import ApiKey, Organization, User
from quorum.tasks.models import Batch, Project, Task

__all__ = ["ApiKey", "Batch", "Organization", "Project", "Task", "User"]
