"""Model-assisted labeling I/O: backends, runs over a project's tasks, and their reports."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackendCreate(Write):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["http", "python", "builtin"]
    target: str = Field(
        min_length=1,
        max_length=2000,
        description="the URL, or the name of a python model or built-in one from "
        "GET /v1/assist/backends/available",
    )


class AvailableBackend(BaseModel):
    """A model a tenant may register by name (send these ``kind`` and ``target``)."""

    kind: Literal["python", "builtin"]
    target: str


class BackendRead(BaseModel):
    id: str
    name: str
    kind: str
    target: str
    created_at: datetime


class BackendRun(Write):
    project: str
    role: Literal["prelabel", "rater"]
    limit: int = Field(100, ge=1, le=10_000)


class BackendRunResult(BaseModel):
    answered: int


class PreLabelRead(BaseModel):
    backend: str
    response: dict[str, Any]
    confidence: float


class BackendReport(BaseModel):
    backend: str
    project: str
    prelabeled_tasks: int
    human_responses_on_prelabels: int
    accepted_unchanged: int
    acceptance_rate: float | None = Field(description="share of responses equal to the pre-label")
    rated_tasks: int
    rater_agreement_with_humans: float | None = Field(
        description="mean task-type score between the model's rating and each human response"
    )


class ActiveLearningUpdate(Write):
    backend: str = Field(description="a backend of kind 'builtin' with target 'active-learning'")
    order_queue: bool = Field(
        False, description="set pending tasks' priority to the model's uncertainty (0-1000)"
    )
    retrain_every: int = Field(20, ge=1, le=100_000, description="new completed tasks")
    min_labels: int = Field(10, ge=2, le=100_000, description="completed tasks before a first fit")


class ActiveLearningRead(BaseModel):
    project: str
    backend: str
    order_queue: bool
    retrain_every: int
    min_labels: int
    completed_tasks: int
    trained_on: int = Field(description="completed tasks counted at the last training")
    trained_at: datetime | None
    classes: list[str]
