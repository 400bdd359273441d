"""Every domain's tables, imported in one place for Alembic and for ``Base.metadata``."""

from quorum.accounts.models import ApiKey, Organization, User
from quorum.callbacks.models import CallbackAttempt, CallbackEvent
from quorum.dispatch.models import Assignment
from quorum.payouts.models import (
    LedgerEntry,
    PayoutItem,
    PayoutRun,
    ProjectPayRate,
    TaskTypePayRate,
)
from quorum.tasks.models import Batch, Project, Task
from quorum.workforce.models import (
    ProjectMember,
    ProjectQualification,
    ProjectWorkforce,
    Qualification,
    QualificationTestItem,
    Worker,
    WorkerQualification,
    WorkerToken,
)

__all__ = [
    "ApiKey",
    "Assignment",
    "Batch",
    "CallbackAttempt",
    "CallbackEvent",
    "LedgerEntry",
    "Organization",
    "PayoutItem",
    "PayoutRun",
    "Project",
    "ProjectMember",
    "ProjectPayRate",
    "ProjectQualification",
    "ProjectWorkforce",
    "Qualification",
    "QualificationTestItem",
    "Task",
    "TaskTypePayRate",
    "User",
    "Worker",
    "WorkerQualification",
    "WorkerToken",
]
