"""Evaluation I/O: campaigns and prompts (for the campaign's organization), model versions,
issued prompts and submissions (for model owners), and the leaderboard (for both)."""

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from quorum.jsonbounds import BoundedText


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignCreate(Write):
    # Its comparison project is named "evaluation: <name>", within the 200 a project name allows.
    name: BoundedText = Field(min_length=1, max_length=188)
    description: BoundedText = ""
    rubric: BoundedText = Field("", description="shown to raters as the task instruction")
    criteria: list[BoundedText] = []
    categories: list[BoundedText] = Field(min_length=1)
    required_qualifications: list[BoundedText] = []
    required_responses: int = Field(1, ge=1, le=20, description="raters per comparison")
    min_judgments: int = Field(
        100, ge=1, le=1_000_000, description="judgments before a score is final"
    )
    rater_cap: int = Field(
        500, ge=1, le=1_000_000, description="most judgments counted from one rater"
    )
    gold_rate: float = Field(
        0.1, ge=0, le=0.5, description="share of a rater's tasks drawn from the gold judgments"
    )
    trust_threshold: float = Field(
        0.6,
        ge=0,
        le=1,
        description="raters whose gold record makes it 90 % likely they are under it are paused",
    )
    trust_min_scored: int = Field(
        10, ge=1, le=100_000, description="gold judgments scored before a pause"
    )


class CampaignRead(BaseModel):
    id: str
    name: str
    project: str
    project_id: str
    description: str
    rubric: str
    criteria: list[str]
    categories: list[str]
    required_responses: int
    min_judgments: int
    rater_cap: int
    required_qualifications: list[str]
    gold_rate: float
    trust_threshold: float
    trust_min_scored: int
    prompt_count: int
    gold_count: int
    created_at: datetime


class PromptCreate(Write):
    category: BoundedText
    text: BoundedText = Field(min_length=1)


class GoldJudgmentCreate(Write):
    """A comparison whose answer is known: a prompt, the answer raters must prefer (a correct or
    reference answer) and one they must not (a wrong or degraded one). Prompts drawn from the
    campaign's own set keep gold among the prompts raters meet in real comparisons."""

    prompt: BoundedText = Field(min_length=1)
    preferred: BoundedText = Field(min_length=1)
    rejected: BoundedText = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> "GoldJudgmentCreate":
        if self.preferred == self.rejected:
            raise ValueError("preferred and rejected must be different answers")
        return self


class GoldJudgmentImport(Write):
    gold: list[GoldJudgmentCreate] = Field(min_length=1, max_length=1000)


class PromptImport(Write):
    prompts: list[PromptCreate] = Field(min_length=1, max_length=10_000)
    gold: list[GoldJudgmentCreate] = Field([], max_length=1000)


class PromptImportResult(BaseModel):
    imported: int
    prompt_count: int
    gold_imported: int
    gold_count: int


class GoldJudgmentImportResult(BaseModel):
    imported: int
    gold_count: int


class OwnerCreate(Write):
    name: str = Field(min_length=1, max_length=200)
    expires_at: AwareDatetime | None = Field(
        None, description="when the token stops working; by default 90 days, at most 365"
    )


class OwnerTokenRotate(Write):
    """A new token for an owner; the old one stops working at once."""

    expires_at: AwareDatetime | None = Field(
        None, description="when the new token stops working; by default 90 days, at most 365"
    )


class OwnerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class OwnerCreated(OwnerRead):
    token: str = Field(description="the owner's secret, shown once")


class ModelVersionCreate(Write):
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=100)


class ModelVersionRead(BaseModel):
    id: str
    owner: str
    name: str
    version: str
    released_fingerprint: str | None
    created_at: datetime


class IssuedPrompt(BaseModel):
    prompt_id: str
    category: str
    text: str


class IssuedPrompts(BaseModel):
    model_version_id: str
    prompts: list[IssuedPrompt]


class OutputCreate(Write):
    prompt_id: str
    output: BoundedText = Field(min_length=1)


class SubmissionCreate(Write):
    label: str = Field("", max_length=200, description="the owner's name for this variant")
    outputs: list[OutputCreate] = Field(min_length=1)


class SubmissionRead(BaseModel):
    id: str
    model_version_id: str
    model: str
    version: str
    label: str
    fingerprint: str
    output_count: int
    created_at: datetime


class ReleaseRequest(Write):
    submission_id: str


class RecheckCreate(Write):
    submission_id: str
    outputs: list[OutputCreate] = Field(min_length=1)


class RecheckRead(BaseModel):
    id: str
    submission_id: str
    fingerprint: str
    checked: int
    matched: int
    match_rate: float
    created_at: datetime


class RecheckSample(BaseModel):
    submission_id: str
    prompt_ids: list[str]


class ComparisonRound(Write):
    comparisons: int = Field(ge=1, le=5000)
    seed: int | None = None


class ComparisonRoundResult(BaseModel):
    created: int
    task_ids: list[str]


class PromptIssueRead(BaseModel):
    owner: str
    model_version_id: str
    prompt_id: str
    issued_at: datetime


class LeaderboardEntry(BaseModel):
    submission_id: str
    owner: str
    model: str
    version: str
    label: str
    fingerprint: str
    released: bool
    rank: int | None
    score: float | None
    lower: float | None
    upper: float | None
    judgments: int
    provisional: bool
    last_recheck_match_rate: float | None


class RaterHygiene(BaseModel):
    judgments_counted: int
    void_identity_revealed: int
    over_rater_cap: int
    dropped_raters: list[str]
    dropped_judgments: int


class Leaderboard(BaseModel):
    campaign: str
    category: str | None
    style_controlled: bool
    entries: list[LeaderboardEntry]
    win_rates: list[list[float | None]] = Field(
        description="row entry's share of wins over column entry (ties half), in entry order"
    )
    style_coefficients: dict[str, float]
    hygiene: RaterHygiene
