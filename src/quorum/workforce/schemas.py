"""I/O models for workers, their sessions, qualifications and project staffing."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quorum.jsonbounds import BoundedObject

WorkerStatus = Literal["active", "paused", "banned"]
# A reviewer labels like a worker and may also take review work.
WorkerRole = Literal["worker", "reviewer"]
ProjectAccess = Literal["members", "open"]


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WorkerInvite(Write):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field("", max_length=200)
    locale: str = Field("en", max_length=20)
    languages: list[str] = []
    skills: list[str] = []


class WorkerSignup(Write):
    """Self sign-up into the public pool, or accepting an invitation (then email may be omitted)."""

    email: str | None = Field(None, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=10, max_length=200)
    name: str = Field("", max_length=200)
    invitation_token: str | None = None


class WorkerLogin(Write):
    email: str
    password: str


class WorkerProfileUpdate(Write):
    name: str | None = Field(None, max_length=200)
    locale: str | None = Field(None, max_length=20)
    languages: list[str] | None = None
    skills: list[str] | None = None


class WorkerStatusUpdate(Write):
    status: WorkerStatus


class WorkerRoleUpdate(Write):
    role: WorkerRole


class WorkerRead(Read):
    id: str
    email: str
    name: str
    locale: str
    languages: list[str]
    skills: list[str]
    status: WorkerStatus
    role: WorkerRole
    pool: Literal["private", "public"]
    created_at: datetime


class WorkerInvited(WorkerRead):
    """The invitation secret is in this reply only; the worker signs up with it."""

    invitation_token: str


class WorkerSession(BaseModel):
    """A login: the token works as a Bearer token and is also set as the session cookie."""

    token: str
    expires_at: datetime
    worker: WorkerRead


class WorkerIdentity(BaseModel):
    """The authenticated worker of a worker-API request."""

    id: str
    status: WorkerStatus
    role: WorkerRole
    pool_org_id: str | None
    token_id: str


class TestItemCreate(Write):
    params: BoundedObject
    gold: BoundedObject


class QualificationCreate(Write):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    task_type: str | None = None
    pass_mark: float = Field(0.8, ge=0, le=1)
    max_attempts: int = Field(3, ge=1, le=100)
    test_items: list[TestItemCreate] = []


class QualificationRead(Read):
    id: str
    name: str
    description: str
    task_type: str | None
    pass_mark: float
    max_attempts: int
    test_size: int
    created_at: datetime


class WorkerQualificationRead(BaseModel):
    qualification_id: str
    name: str
    held: bool
    source: str | None
    attempts: int
    attempts_left: int
    last_score: float | None
    has_test: bool


class TestQuestion(BaseModel):
    item_id: str
    params: dict[str, Any]


class QualificationTest(BaseModel):
    qualification_id: str
    name: str
    description: str
    task_type: str
    pass_mark: float
    attempts_left: int
    questions: list[TestQuestion]


class QualificationTestAnswers(Write):
    answers: dict[str, BoundedObject]


class QualificationTestResult(BaseModel):
    score: float
    pass_mark: float
    passed: bool
    attempts_left: int


class ProjectWorkforceUpdate(Write):
    access: ProjectAccess | None = None
    lease_seconds: int | None = Field(None, ge=1, le=7 * 24 * 3600)
    broken_reports_to_fail: int | None = Field(
        None, ge=1, le=100, description="workers who must report a task broken to fail it"
    )
    required_qualifications: list[str] | None = None


class ProjectWorkforceRead(BaseModel):
    project: str
    access: ProjectAccess
    lease_seconds: int
    broken_reports_to_fail: int
    required_qualifications: list[str]
    members: list[str]


class ProjectMemberAdd(Write):
    worker_id: str


class WorkerProjectRead(BaseModel):
    """A project as a worker sees it: nothing of the customer beyond what the work needs."""

    id: str
    name: str
    type: str
    instruction: str
    qualified: bool
    missing_qualifications: list[str]


class SharedProjectRead(Read):
    """A customer project open to the public pool, as platform staff see it."""

    id: str
    name: str
    type: str
    created_at: datetime
