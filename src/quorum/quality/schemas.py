"""I/O models for quality settings, gold tasks, worker trust and project metrics."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quorum.jsonbounds import BoundedObject, BoundedText

Consolidation = Literal["dawid_skene", "weighted_majority"]


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QualitySettingsUpdate(Write):
    """Only the fields given change."""

    gold_rate: float | None = Field(None, ge=0, le=0.5)
    consolidation: Consolidation | None = None
    confidence_target: float | None = Field(None, ge=0, le=1)
    max_responses: int | None = Field(None, ge=1, le=100)
    trust_threshold: float | None = Field(None, ge=0, le=1)
    trust_min_scored: int | None = Field(None, ge=1, le=100_000)
    review_levels: int | None = Field(None, ge=0, le=5)
    reviewer_qualification: str | None = Field(None, description="qualification name")


class QualitySettingsRead(BaseModel):
    project: str
    gold_rate: float
    consolidation: Consolidation
    confidence_target: float
    max_responses: int
    trust_threshold: float
    trust_min_scored: int
    review_levels: int
    reviewer_qualification: str | None


class GoldCreate(Write):
    """Either an existing completed task (its response is the answer unless one is given), or
    new task params with their answer (an imported gold task)."""

    task_id: str | None = None
    params: BoundedObject | None = None
    instruction: BoundedText = ""
    answer: BoundedObject | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "GoldCreate":
        if (self.task_id is None) == (self.params is None):
            raise ValueError("give exactly one of task_id or params")
        if self.params is not None and self.answer is None:
            raise ValueError("an imported gold task needs its answer")
        return self


class GoldRead(BaseModel):
    id: str
    task_id: str
    project: str
    imported: bool
    answer: dict[str, Any]
    served: int
    mean_score: float | None
    created_at: datetime


class ConfusionRead(BaseModel):
    """Rows: the true class; columns: the worker's answer; each row sums to 1."""

    classes: list[str]
    matrix: list[list[float]]


class WorkerQualityRead(BaseModel):
    worker_id: str
    trust: float
    gold_scored: int
    gold_accuracy: float | None
    em_accuracy: float | None
    em_labels: int
    confusion: ConfusionRead | None
    paused: bool
    paused_at: datetime | None


class AgreementBin(BaseModel):
    low: float
    high: float
    tasks: int


class ProjectMetricsRead(BaseModel):
    """Krippendorff's alpha is a sign of hard data or unclear guidelines, not an acceptance gate."""

    project: str
    batch: str | None
    labeled_tasks: int
    krippendorff_alpha: float | None
    mean_confidence: float | None
    confidence_distribution: list[AgreementBin]
    gold_pass_rate: float | None
    gold_scored: int
    workers: list[WorkerQualityRead]
