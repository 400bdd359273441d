"""Evaluation campaigns: private prompts, model owners and their model versions, fingerprinted
submissions of outputs, the record of which prompt was given to whom, and the comparison pairs
sent to raters."""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow


class Campaign(Base):
    """A human evaluation of models on private prompts, judged in its own comparison project."""

    __tablename__ = "evaluation_campaign"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    rubric: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[list[Any]] = mapped_column(default=list)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    required_responses: Mapped[int] = mapped_column(default=1)
    min_judgments: Mapped[int] = mapped_column(default=100)
    rater_cap: Mapped[int] = mapped_column(default=500)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvaluationPrompt(Base):
    """One private prompt; its text leaves the server only to raters and through prompt issues."""

    __tablename__ = "evaluation_prompt"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_campaign.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    category: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelOwner(Base):
    """A participant who registers models in one campaign, with a campaign-scoped secret that
    stops working at ``expires_at`` or once the campaign's organization revokes it."""

    __tablename__ = "model_owner"
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_campaign.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ModelVersion(Base):
    """A model an owner enters; ``released_submission_id`` names the fingerprint shown as public."""

    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("owner_id", "name", "version"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("model_owner.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100))
    released_submission_id: Mapped[str | None] = mapped_column(IdType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PromptIssue(Base):
    """That a prompt was handed to an owner for a model version, and when."""

    __tablename__ = "prompt_issue"
    __table_args__ = (UniqueConstraint("model_version_id", "prompt_id"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("model_owner.id", ondelete="CASCADE"), index=True
    )
    model_version_id: Mapped[str] = mapped_column(
        ForeignKey("model_version.id", ondelete="CASCADE")
    )
    prompt_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_prompt.id", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """One variant: a model version's outputs on its issued prompts, fingerprinted."""

    __tablename__ = "evaluation_submission"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_campaign.id", ondelete="CASCADE"), index=True
    )
    model_version_id: Mapped[str] = mapped_column(
        ForeignKey("model_version.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200), default="")
    fingerprint: Mapped[str] = mapped_column(String(64))
    output_count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubmissionOutput(Base):
    """A model's answer to one prompt, with its own hash for re-checks on a sample."""

    __tablename__ = "submission_output"
    __table_args__ = (UniqueConstraint("submission_id", "prompt_id"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_submission.id", ondelete="CASCADE")
    )
    prompt_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_prompt.id", ondelete="CASCADE"), index=True
    )
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    reveals_identity: Mapped[bool] = mapped_column(default=False)


class ComparisonPair(Base):
    """The comparison task of two submissions on one prompt; ``left`` is the task's answer 0."""

    __tablename__ = "comparison_pair"

    task_id: Mapped[str] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_campaign.id", ondelete="CASCADE"), index=True
    )
    prompt_id: Mapped[str] = mapped_column(ForeignKey("evaluation_prompt.id", ondelete="CASCADE"))
    left_output_id: Mapped[str] = mapped_column(
        ForeignKey("submission_output.id", ondelete="CASCADE")
    )
    right_output_id: Mapped[str] = mapped_column(
        ForeignKey("submission_output.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Recheck(Base):
    """A comparison of a released model's outputs, fetched again, with its registered ones."""

    __tablename__ = "evaluation_recheck"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_campaign.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_submission.id", ondelete="CASCADE"), index=True
    )
    checked: Mapped[int]
    matched: Mapped[int]
    match_rate: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
