"""Every domain's tables, imported in one place for Alembic and for ``Base.metadata``."""

from quorum.accounts.models import ApiKey, Organization, StaffAccount, StaffToken, User
from quorum.api.models import RateLimitWindow
from quorum.assist.models import ActiveLearningModel, ModelAnswer, ModelBackendConfig
from quorum.audit.models import AuditEntry
from quorum.callbacks.models import CallbackAttempt, CallbackEvent
from quorum.dispatch.models import Assignment
from quorum.evaluation.models import (
    Campaign,
    ComparisonPair,
    EvaluationPrompt,
    ModelOwner,
    ModelVersion,
    PromptIssue,
    Recheck,
    Submission,
    SubmissionOutput,
)
from quorum.exports.models import ExportJob
from quorum.payouts.models import (
    LedgerEntry,
    PayoutItem,
    PayoutRun,
    ProjectPayRate,
    TaskTypePayRate,
)
from quorum.quality.models import GoldResult, GoldTask, ProjectQuality, TaskConfidence, WorkerTrust
from quorum.review.models import Review, TaskAudit
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
    "ActiveLearningModel",
    "ApiKey",
    "Assignment",
    "AuditEntry",
    "Batch",
    "CallbackAttempt",
    "CallbackEvent",
    "Campaign",
    "ComparisonPair",
    "EvaluationPrompt",
    "ExportJob",
    "GoldResult",
    "GoldTask",
    "LedgerEntry",
    "ModelAnswer",
    "ModelBackendConfig",
    "ModelOwner",
    "ModelVersion",
    "Organization",
    "PayoutItem",
    "PayoutRun",
    "Project",
    "ProjectMember",
    "ProjectPayRate",
    "ProjectQualification",
    "ProjectQuality",
    "ProjectWorkforce",
    "PromptIssue",
    "Qualification",
    "QualificationTestItem",
    "RateLimitWindow",
    "Recheck",
    "Review",
    "StaffAccount",
    "StaffToken",
    "Submission",
    "SubmissionOutput",
    "Task",
    "TaskAudit",
    "TaskConfidence",
    "TaskTypePayRate",
    "User",
    "Worker",
    "WorkerQualification",
    "WorkerToken",
    "WorkerTrust",
]
