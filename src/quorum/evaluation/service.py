"""Evaluation campaigns: the rules.

Two kinds of callers. The campaign's organization (``org_id``) owns the campaign, its private
prompts, its comparison project and its leaderboard; another organization finds none of them.
A model owner (``owner_id``, authenticated by a campaign-scoped secret) registers model versions,
receives prompts only through ``issue_prompts`` (each issue is recorded), submits outputs and
reads the leaderboard; it sees its own models and submissions and no prompt it was not given.

Gold judgments (a prompt, a preferred and a rejected answer) are the quality module's gold tasks
on the campaign's project: served to raters at the campaign's gold rate, in the same shape as real
comparisons, scored by the comparison type's ``score`` into the raters' trust, which weighs their
judgments and pauses those who fail. They have no comparison pair, so no leaderboard, owner
endpoint or delivery ever sees them.
"""

import hashlib
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quorum.credentials import digest, new_secret
from quorum.db.base import utcnow
from quorum.dispatch.models import Assignment
from quorum.errors import Conflict, Invalid, NotFound, Unauthorized
from quorum.evaluation import leaderboard as math
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
from quorum.evaluation.schemas import (
    CampaignCreate,
    CampaignRead,
    ComparisonRound,
    ComparisonRoundResult,
    GoldJudgmentCreate,
    GoldJudgmentImport,
    GoldJudgmentImportResult,
    IssuedPrompt,
    IssuedPrompts,
    Leaderboard,
    LeaderboardEntry,
    ModelVersionCreate,
    ModelVersionRead,
    OwnerCreate,
    OwnerTokenRotate,
    PromptImport,
    PromptImportResult,
    PromptIssueRead,
    RaterHygiene,
    RecheckCreate,
    RecheckRead,
    RecheckSample,
    SubmissionCreate,
    SubmissionRead,
)
from quorum.quality import service as quality
from quorum.quality.models import GoldResult, GoldTask
from quorum.quality.schemas import GoldCreate, GoldRead, QualitySettingsUpdate
from quorum.tasks import service as tasks
from quorum.tasks.models import Project
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import ProjectWorkforceUpdate

OWNER_TOKEN_PREFIX = "mo_"
OWNER_TOKEN_LIFETIME = timedelta(days=90)
MAX_OWNER_TOKEN_LIFETIME = timedelta(days=365)
BOOTSTRAP_ROUNDS = 200
# Which side a gold judgment's preferred answer is shown on; unseeded, so raters cannot learn it.
_gold_sides = random.Random()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# Campaigns (the campaign's organization)


def _prompt_count(db: Session, campaign_id: str) -> int:
    return db.scalar(select(func.count()).where(EvaluationPrompt.campaign_id == campaign_id)) or 0


def _gold_count(db: Session, campaign: Campaign) -> int:
    return db.scalar(select(func.count()).where(GoldTask.project_id == campaign.project_id)) or 0


def _project_name(db: Session, campaign: Campaign) -> str:
    return db.scalar(select(Project.name).where(Project.id == campaign.project_id)) or ""


def campaign_read(db: Session, campaign: Campaign) -> CampaignRead:
    project_name = _project_name(db, campaign)
    staffing = workforce.project_workforce(db, org_id=campaign.org_id, project=project_name)
    checks = quality.settings_for(db, project_id=campaign.project_id)
    return CampaignRead(
        id=campaign.id,
        name=campaign.name,
        project=project_name,
        project_id=campaign.project_id,
        description=campaign.description,
        rubric=campaign.rubric,
        criteria=campaign.criteria,
        categories=campaign.categories,
        required_responses=campaign.required_responses,
        min_judgments=campaign.min_judgments,
        rater_cap=campaign.rater_cap,
        required_qualifications=staffing.required_qualifications,
        gold_rate=checks.gold_rate,
        trust_threshold=checks.trust_threshold,
        trust_min_scored=checks.trust_min_scored,
        prompt_count=_prompt_count(db, campaign.id),
        gold_count=_gold_count(db, campaign),
        created_at=campaign.created_at,
    )


def create_campaign(db: Session, *, org_id: str, data: CampaignCreate) -> Campaign:
    """Create a campaign and its comparison project, staffed by raters with the qualifications
    and checked by gold at the campaign's rate and trust threshold."""
    if db.scalar(select(Campaign.id).where(Campaign.org_id == org_id, Campaign.name == data.name)):
        raise Conflict(f"a campaign named {data.name!r} already exists")
    params: dict[str, object] = {"criteria": data.criteria, "rationale": "optional"}
    if data.rubric:
        params["instruction"] = data.rubric
    project = tasks.create_project(
        db,
        org_id=org_id,
        data=ProjectCreate(
            name=f"evaluation: {data.name}",
            type="comparison",
            params=params,
            required_responses=data.required_responses,
        ),
    )
    workforce.configure_project(
        db,
        org_id=org_id,
        project=project.name,
        data=ProjectWorkforceUpdate(required_qualifications=data.required_qualifications),
    )
    quality.configure(
        db,
        org_id=org_id,
        project=project.name,
        data=QualitySettingsUpdate(
            gold_rate=data.gold_rate,
            trust_threshold=data.trust_threshold,
            trust_min_scored=data.trust_min_scored,
        ),
    )
    campaign = Campaign(
        org_id=org_id,
        project_id=project.id,
        name=data.name,
        description=data.description,
        rubric=data.rubric,
        criteria=data.criteria,
        categories=list(dict.fromkeys(data.categories)),
        required_responses=data.required_responses,
        min_judgments=data.min_judgments,
        rater_cap=data.rater_cap,
    )
    db.add(campaign)
    db.flush()
    return campaign


def get_campaign(db: Session, *, org_id: str, name: str) -> Campaign:
    campaign = db.scalar(select(Campaign).where(Campaign.org_id == org_id, Campaign.name == name))
    if campaign is None:
        raise NotFound(f"no campaign named {name!r}")
    return campaign


def list_campaigns(db: Session, *, org_id: str) -> list[Campaign]:
    return list(db.scalars(select(Campaign).where(Campaign.org_id == org_id).order_by(Campaign.id)))


def import_prompts(
    db: Session, *, org_id: str, campaign: str, data: PromptImport
) -> PromptImportResult:
    """Add private prompts, each in one of the campaign's categories, and any gold judgments."""
    found = get_campaign(db, org_id=org_id, name=campaign)
    for index, prompt in enumerate(data.prompts):
        if prompt.category not in found.categories:
            raise Invalid(
                f"prompts.{index}.category must be one of {', '.join(found.categories)}, "
                f"got {prompt.category!r}",
                field=f"prompts.{index}.category",
            )
    start = db.scalar(
        select(func.coalesce(func.max(EvaluationPrompt.position), -1)).where(
            EvaluationPrompt.campaign_id == found.id
        )
    )
    db.add_all(
        EvaluationPrompt(
            campaign_id=found.id, position=start + 1 + index, category=p.category, text=p.text
        )
        for index, p in enumerate(data.prompts)
    )
    db.flush()
    _create_gold(db, found, data.gold)
    return PromptImportResult(
        imported=len(data.prompts),
        prompt_count=_prompt_count(db, found.id),
        gold_imported=len(data.gold),
        gold_count=_gold_count(db, found),
    )


def _create_gold(db: Session, campaign: Campaign, judgments: list[GoldJudgmentCreate]) -> None:
    """One gold comparison task per judgment, built as ``generate_comparisons`` builds real ones
    (prompt and two answers, sides drawn at random); the answer is the preferred one's side."""
    project = _project_name(db, campaign)
    for judgment in judgments:
        side = _gold_sides.randrange(2)
        answers = [judgment.rejected] * 2
        answers[side] = judgment.preferred
        quality.create_gold(
            db,
            org_id=campaign.org_id,
            project=project,
            data=GoldCreate(
                params={"prompt": judgment.prompt, "answers": [{"content": a} for a in answers]},
                answer={"preferred": side},
            ),
        )


def add_gold(
    db: Session, *, org_id: str, campaign: str, data: GoldJudgmentImport
) -> GoldJudgmentImportResult:
    """Add gold judgments to a running campaign; raters meet them from their next task on."""
    found = get_campaign(db, org_id=org_id, name=campaign)
    _create_gold(db, found, data.gold)
    return GoldJudgmentImportResult(imported=len(data.gold), gold_count=_gold_count(db, found))


def list_gold(db: Session, *, org_id: str, campaign: str) -> list[GoldRead]:
    """The campaign's gold tasks with the preferred side, times served and mean score."""
    found = get_campaign(db, org_id=org_id, name=campaign)
    return quality.list_gold(db, org_id=org_id, project=_project_name(db, found))


def _owner_token_expiry(expires_at: datetime | None) -> datetime:
    """When a new owner token expires: as asked, in the future and within the longest lifetime,
    else after the default lifetime."""
    now = utcnow()
    if expires_at is None:
        return now + OWNER_TOKEN_LIFETIME
    if expires_at <= now:
        raise Invalid("expires_at must be in the future", field="expires_at")
    if expires_at > now + MAX_OWNER_TOKEN_LIFETIME:
        raise Invalid(
            f"expires_at must be within {MAX_OWNER_TOKEN_LIFETIME.days} days", field="expires_at"
        )
    return expires_at


def add_owner(
    db: Session, *, org_id: str, campaign: str, data: OwnerCreate
) -> tuple[ModelOwner, str]:
    """Admit a model owner to the campaign; returns the owner's secret (shown once)."""
    found = get_campaign(db, org_id=org_id, name=campaign)
    secret = new_secret(OWNER_TOKEN_PREFIX)
    owner = ModelOwner(
        campaign_id=found.id,
        name=data.name,
        digest=digest(secret),
        expires_at=_owner_token_expiry(data.expires_at),
    )
    db.add(owner)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Conflict(f"an owner named {data.name!r} already takes part") from None
    return owner, secret


def get_owner(db: Session, *, org_id: str, campaign: str, owner_id: str) -> ModelOwner:
    """An owner of one of the organization's campaigns; any other is not found."""
    found = get_campaign(db, org_id=org_id, name=campaign)
    owner = db.scalar(
        select(ModelOwner).where(ModelOwner.id == owner_id, ModelOwner.campaign_id == found.id)
    )
    if owner is None:
        raise NotFound(f"no model owner {owner_id!r} in campaign {campaign!r}")
    return owner


def revoke_owner(db: Session, *, org_id: str, campaign: str, owner_id: str) -> ModelOwner:
    """Revoke an owner's token at once, for good; what the owner submitted stays listed."""
    owner = get_owner(db, org_id=org_id, campaign=campaign, owner_id=owner_id)
    owner.revoked_at = owner.revoked_at or utcnow()
    return owner


def rotate_owner_token(
    db: Session, *, org_id: str, campaign: str, owner_id: str, data: OwnerTokenRotate
) -> tuple[ModelOwner, str]:
    """Give an owner a new token (the old one stops working at once); a revoked owner stays
    revoked."""
    owner = get_owner(db, org_id=org_id, campaign=campaign, owner_id=owner_id)
    if owner.revoked_at is not None:
        raise Conflict(f"model owner {owner_id!r} was revoked; admit a new owner instead")
    secret = new_secret(OWNER_TOKEN_PREFIX)
    owner.digest = digest(secret)
    owner.expires_at = _owner_token_expiry(data.expires_at)
    return owner, secret


def prompt_issues(db: Session, *, org_id: str, campaign: str) -> list[PromptIssueRead]:
    """What was given to whom: every prompt issued to every owner, oldest first."""
    found = get_campaign(db, org_id=org_id, name=campaign)
    rows = db.execute(
        select(ModelOwner.name, PromptIssue)
        .join(PromptIssue, PromptIssue.owner_id == ModelOwner.id)
        .where(ModelOwner.campaign_id == found.id)
        .order_by(PromptIssue.issued_at, PromptIssue.id)
    ).all()
    return [
        PromptIssueRead(
            owner=name,
            model_version_id=issue.model_version_id,
            prompt_id=issue.prompt_id,
            issued_at=issue.issued_at,
        )
        for name, issue in rows
    ]


# Model owners


def authenticate_owner(db: Session, *, secret: str) -> ModelOwner:
    """The owner of a live token; unknown, revoked and expired tokens are refused."""
    owner = db.scalar(select(ModelOwner).where(ModelOwner.digest == digest(secret)))
    if owner is None or owner.revoked_at is not None:
        raise Unauthorized("the model owner token is invalid or has been revoked")
    if owner.expires_at <= utcnow():
        raise Unauthorized("the model owner token has expired; ask the campaign for a new one")
    return owner


def _model_read(model: ModelVersion, owner_name: str, fingerprint: str | None) -> ModelVersionRead:
    return ModelVersionRead(
        id=model.id,
        owner=owner_name,
        name=model.name,
        version=model.version,
        released_fingerprint=fingerprint,
        created_at=model.created_at,
    )


def _released_fingerprint(db: Session, model: ModelVersion) -> str | None:
    if model.released_submission_id is None:
        return None
    return db.scalar(
        select(Submission.fingerprint).where(Submission.id == model.released_submission_id)
    )


def register_model(db: Session, *, owner: ModelOwner, data: ModelVersionCreate) -> ModelVersionRead:
    """Register a model version under the owner (a name and version may be registered once)."""
    model = ModelVersion(owner_id=owner.id, name=data.name, version=data.version)
    db.add(model)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Conflict(f"{data.name} {data.version} is already registered") from None
    return _model_read(model, owner.name, None)


def _own_model(db: Session, *, owner: ModelOwner, model_version_id: str) -> ModelVersion:
    model = db.scalar(
        select(ModelVersion).where(
            ModelVersion.id == model_version_id, ModelVersion.owner_id == owner.id
        )
    )
    if model is None:
        raise NotFound(f"no model version {model_version_id!r}")
    return model


def list_models(db: Session, *, owner: ModelOwner) -> list[ModelVersionRead]:
    models = db.scalars(
        select(ModelVersion).where(ModelVersion.owner_id == owner.id).order_by(ModelVersion.id)
    )
    return [_model_read(m, owner.name, _released_fingerprint(db, m)) for m in models]


def issue_prompts(db: Session, *, owner: ModelOwner, model_version_id: str) -> IssuedPrompts:
    """Hand the campaign's prompts to a model version, recording each issue."""
    model = _own_model(db, owner=owner, model_version_id=model_version_id)
    prompts = list(
        db.scalars(
            select(EvaluationPrompt)
            .where(EvaluationPrompt.campaign_id == owner.campaign_id)
            .order_by(EvaluationPrompt.position)
        )
    )
    issued = set(
        db.scalars(select(PromptIssue.prompt_id).where(PromptIssue.model_version_id == model.id))
    )
    db.add_all(
        PromptIssue(owner_id=owner.id, model_version_id=model.id, prompt_id=p.id)
        for p in prompts
        if p.id not in issued
    )
    db.flush()
    return IssuedPrompts(
        model_version_id=model.id,
        prompts=[IssuedPrompt(prompt_id=p.id, category=p.category, text=p.text) for p in prompts],
    )


def fingerprint(pairs: list[tuple[str, str]]) -> str:
    """SHA-256 over the outputs in prompt order: one line ``prompt_id:sha256(output)`` each."""
    return _sha256("\n".join(f"{prompt_id}:{output_sha}" for prompt_id, output_sha in pairs))


def _reveals_identity(text: str, names: list[str]) -> bool:
    """The answer names its model or owner (a whole word, 3 characters or more)."""
    return any(
        re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE)
        for name in names
        if len(name) >= 3
    )


def submit_outputs(
    db: Session, *, owner: ModelOwner, model_version_id: str, data: SubmissionCreate
) -> SubmissionRead:
    """Record a variant: one output for every prompt issued to this model version, fingerprinted.

    Every submission is kept and listed on the leaderboard, however many an owner makes.
    """
    model = _own_model(db, owner=owner, model_version_id=model_version_id)
    issued = dict(
        db.execute(
            select(PromptIssue.prompt_id, EvaluationPrompt.position)
            .join(EvaluationPrompt, EvaluationPrompt.id == PromptIssue.prompt_id)
            .where(PromptIssue.model_version_id == model.id)
        ).all()
    )
    if not issued:
        raise Invalid("no prompts were issued to this model version; ask for them first")
    seen: set[str] = set()
    for index, output in enumerate(data.outputs):
        if output.prompt_id not in issued:
            raise Invalid(
                f"outputs.{index}.prompt_id: prompt {output.prompt_id!r} was not issued to this "
                "model version",
                field=f"outputs.{index}.prompt_id",
            )
        if output.prompt_id in seen:
            raise Invalid(
                f"outputs.{index}.prompt_id: a second output for prompt {output.prompt_id!r}",
                field=f"outputs.{index}.prompt_id",
            )
        seen.add(output.prompt_id)
    if len(seen) != len(issued):
        raise Invalid(
            f"outputs must answer every issued prompt: {len(issued) - len(seen)} of "
            f"{len(issued)} are missing"
        )
    ordered = sorted(data.outputs, key=lambda o: issued[o.prompt_id])
    digests = [(o.prompt_id, _sha256(o.output)) for o in ordered]
    submission = Submission(
        campaign_id=owner.campaign_id,
        model_version_id=model.id,
        label=data.label,
        fingerprint=fingerprint(digests),
        output_count=len(ordered),
    )
    db.add(submission)
    db.flush()
    names = [model.name, owner.name]
    db.add_all(
        SubmissionOutput(
            submission_id=submission.id,
            prompt_id=o.prompt_id,
            content=o.output,
            content_sha256=output_sha,
            reveals_identity=_reveals_identity(o.output, names),
        )
        for o, (_, output_sha) in zip(ordered, digests, strict=True)
    )
    db.flush()
    return _submission_read(submission, model)


def _submission_read(submission: Submission, model: ModelVersion) -> SubmissionRead:
    return SubmissionRead(
        id=submission.id,
        model_version_id=model.id,
        model=model.name,
        version=model.version,
        label=submission.label,
        fingerprint=submission.fingerprint,
        output_count=submission.output_count,
        created_at=submission.created_at,
    )


def list_submissions(db: Session, *, owner: ModelOwner) -> list[SubmissionRead]:
    """The owner's own submissions, oldest first (no prompt text)."""
    rows = db.execute(
        select(Submission, ModelVersion)
        .join(ModelVersion, ModelVersion.id == Submission.model_version_id)
        .where(ModelVersion.owner_id == owner.id)
        .order_by(Submission.id)
    ).all()
    return [_submission_read(s, m) for s, m in rows]


def release(
    db: Session, *, owner: ModelOwner, model_version_id: str, submission_id: str
) -> ModelVersionRead:
    """Declare which submission's fingerprint is the released model shown as public."""
    model = _own_model(db, owner=owner, model_version_id=model_version_id)
    submission = db.scalar(
        select(Submission).where(
            Submission.id == submission_id, Submission.model_version_id == model.id
        )
    )
    if submission is None:
        raise NotFound(f"no submission {submission_id!r} of this model version")
    model.released_submission_id = submission.id
    return _model_read(model, owner.name, submission.fingerprint)


# Re-checks of released models (the campaign's organization)


def _campaign_submission(db: Session, *, campaign: Campaign, submission_id: str) -> Submission:
    submission = db.scalar(
        select(Submission).where(
            Submission.id == submission_id, Submission.campaign_id == campaign.id
        )
    )
    if submission is None:
        raise NotFound(f"no submission {submission_id!r} in this campaign")
    return submission


def recheck_sample(
    db: Session, *, org_id: str, campaign: str, submission_id: str, size: int
) -> RecheckSample:
    """A random sample of a submission's prompts to query the released model on again."""
    found = get_campaign(db, org_id=org_id, name=campaign)
    submission = _campaign_submission(db, campaign=found, submission_id=submission_id)
    prompt_ids = list(
        db.scalars(
            select(SubmissionOutput.prompt_id).where(
                SubmissionOutput.submission_id == submission.id
            )
        )
    )
    chosen = random.SystemRandom().sample(prompt_ids, min(size, len(prompt_ids)))
    return RecheckSample(submission_id=submission.id, prompt_ids=sorted(chosen))


def recheck(db: Session, *, org_id: str, campaign: str, data: RecheckCreate) -> RecheckRead:
    """Compare outputs fetched again from a released model with the registered ones."""
    found = get_campaign(db, org_id=org_id, name=campaign)
    submission = _campaign_submission(db, campaign=found, submission_id=data.submission_id)
    registered = dict(
        db.execute(
            select(SubmissionOutput.prompt_id, SubmissionOutput.content_sha256).where(
                SubmissionOutput.submission_id == submission.id
            )
        ).all()
    )
    matched = 0
    for index, output in enumerate(data.outputs):
        if output.prompt_id not in registered:
            raise Invalid(
                f"outputs.{index}.prompt_id: the submission has no output for this prompt",
                field=f"outputs.{index}.prompt_id",
            )
        matched += registered[output.prompt_id] == _sha256(output.output)
    checked = len({o.prompt_id for o in data.outputs})
    row = Recheck(
        campaign_id=found.id,
        submission_id=submission.id,
        checked=checked,
        matched=matched,
        match_rate=matched / len(data.outputs),
    )
    db.add(row)
    db.flush()
    return RecheckRead(
        id=row.id,
        submission_id=submission.id,
        fingerprint=submission.fingerprint,
        checked=row.checked,
        matched=row.matched,
        match_rate=row.match_rate,
        created_at=row.created_at,
    )


# Judgments


@dataclass(frozen=True)
class _Vote:
    worker_id: str
    left: str  # submission ids
    right: str
    outcome: float
    category: str
    style: list[float]
    void: bool


def rater_weights(db: Session, *, campaign: Campaign, worker_ids: list[str]) -> dict[str, float]:
    """How much each rater's judgment counts: how far their trust on the campaign's project
    (earned on its gold judgments; 0 when paused) stands above a coin toss, ``2 * trust - 1``.

    On a choice between two answers, a rater right half the time, as one voting at random is,
    carries no information about which is better, so their judgments weigh nothing.
    """
    trust = quality.trust_weights(db, project_id=campaign.project_id, worker_ids=worker_ids)
    return {worker: max(0.0, 2 * value - 1) for worker, value in trust.items()}


def _votes(db: Session, campaign: Campaign) -> list[_Vote]:
    """Every submitted judgment of the campaign's comparisons, oldest first.

    A comparison an operator later marks as gold keeps the judgments that completed it; the answers
    raters give it as gold (scored, with a gold result) are checks on them, not judgments.
    """
    scored_as_gold = select(GoldResult.id).where(GoldResult.assignment_id == Assignment.id).exists()
    rows = db.execute(
        select(
            Assignment.worker_id,
            Assignment.response,
            ComparisonPair.left_output_id,
            ComparisonPair.right_output_id,
            EvaluationPrompt.category,
        )
        .join(ComparisonPair, ComparisonPair.task_id == Assignment.task_id)
        .join(EvaluationPrompt, EvaluationPrompt.id == ComparisonPair.prompt_id)
        .where(
            ComparisonPair.campaign_id == campaign.id,
            Assignment.state == "submitted",
            ~scored_as_gold,
        )
        .order_by(Assignment.finished_at, Assignment.id)
    ).all()
    output_ids = {r.left_output_id for r in rows} | {r.right_output_id for r in rows}
    outputs = {
        o.id: o
        for o in db.scalars(select(SubmissionOutput).where(SubmissionOutput.id.in_(output_ids)))
    }
    styles = {oid: math.style_of(o.content) for oid, o in outputs.items()}
    votes = []
    for row in rows:
        left, right = outputs[row.left_output_id], outputs[row.right_output_id]
        preferred = (row.response or {}).get("preferred")
        votes.append(
            _Vote(
                worker_id=row.worker_id,
                left=left.submission_id,
                right=right.submission_id,
                outcome=0.5 if preferred is None else (1.0 if preferred == 0 else 0.0),
                category=row.category,
                style=math.style_difference(styles[left.id], styles[right.id]),
                void=left.reveals_identity or right.reveals_identity,
            )
        )
    return votes


def _judgments(
    votes: list[_Vote], index: dict[str, int], weights: list[float], style: bool
) -> math.Judgments:
    return math.Judgments(
        np.array([index[v.left] for v in votes], dtype=int),
        np.array([index[v.right] for v in votes], dtype=int),
        np.array([v.outcome for v in votes]),
        np.array(weights, dtype=float),
        np.array([v.style for v in votes]).reshape(len(votes), len(math.STYLE_FEATURES))
        if style
        else None,
    )


def _clean_votes(
    campaign: Campaign, votes: list[_Vote], index: dict[str, int]
) -> tuple[list[_Vote], RaterHygiene]:
    """Void identity-revealing judgments, cap each rater, drop raters against the consensus."""
    valid = [v for v in votes if not v.void]
    per_rater: Counter[str] = Counter()
    capped = []
    for vote in valid:
        per_rater[vote.worker_id] += 1
        if per_rater[vote.worker_id] <= campaign.rater_cap:
            capped.append(vote)
    dropped: set[str] = set()
    if capped:
        everyone = _judgments(capped, index, [1.0] * len(capped), style=False)
        scores, _ = math.fit_scores(everyone, len(index))
        raters = sorted({v.worker_id for v in capped})
        rater_index = {r: i for i, r in enumerate(raters)}
        codes = np.array([rater_index[v.worker_id] for v in capped])
        dropped = {
            raters[i]
            for i in math.against_consensus(
                codes, everyone, math.consensus_probability(everyone, scores)
            )
        }
    kept = [v for v in capped if v.worker_id not in dropped]
    hygiene = RaterHygiene(
        judgments_counted=len(kept),
        void_identity_revealed=len(votes) - len(valid),
        over_rater_cap=len(valid) - len(capped),
        dropped_raters=sorted(dropped),
        dropped_judgments=len(capped) - len(kept),
    )
    return kept, hygiene


def _entries(db: Session, campaign: Campaign) -> list[tuple[Submission, ModelVersion, str]]:
    return [
        (s, m, owner)
        for s, m, owner in db.execute(
            select(Submission, ModelVersion, ModelOwner.name)
            .join(ModelVersion, ModelVersion.id == Submission.model_version_id)
            .join(ModelOwner, ModelOwner.id == ModelVersion.owner_id)
            .where(Submission.campaign_id == campaign.id)
            .order_by(Submission.id)
        ).all()
    ]


def _leaderboard(
    db: Session,
    campaign: Campaign,
    *,
    category: str | None,
    style_controlled: bool,
    rounds: int = BOOTSTRAP_ROUNDS,
) -> Leaderboard:
    if category is not None and category not in campaign.categories:
        raise Invalid(
            f"category must be one of {', '.join(campaign.categories)}, got {category!r}",
            field="category",
        )
    entries = _entries(db, campaign)
    index = {s.id: i for i, (s, _, _) in enumerate(entries)}
    votes, hygiene = _clean_votes(campaign, _votes(db, campaign), index)
    if category is not None:
        votes = [v for v in votes if v.category == category]
    trust = rater_weights(db, campaign=campaign, worker_ids=[v.worker_id for v in votes])
    counts: Counter[str] = Counter()
    for vote in votes:
        counts[vote.left] += 1
        counts[vote.right] += 1
    # Only entries with judgments are fit; the others are listed without a score.
    fitted = [s.id for s, _, _ in entries if counts[s.id]]
    fitted_index = {sid: i for i, sid in enumerate(fitted)}
    scores: dict[str, tuple[float, float, float, int]] = {}
    coefficients: dict[str, float] = {}
    rates_fitted: list[list[float | None]] = []
    if len(fitted) >= 2:
        judgments = _judgments(
            votes, fitted_index, [trust[v.worker_id] for v in votes], style_controlled
        )
        fit = math.fit_with_intervals(judgments, len(fitted), rounds=rounds)
        coefficients = fit.style_coefficients
        rates_fitted = math.win_rates(judgments, len(fitted))
        for sid, i in fitted_index.items():
            scores[sid] = (
                float(fit.scores[i]),
                float(fit.lower[i]),
                float(fit.upper[i]),
                int(fit.ranks[i]),
            )
    rechecks = _last_rechecks(db, campaign)
    rows = []
    for submission, model, owner in entries:
        score, lower, upper, rank = scores.get(submission.id, (None, None, None, None))
        rows.append(
            LeaderboardEntry(
                submission_id=submission.id,
                owner=owner,
                model=model.name,
                version=model.version,
                label=submission.label,
                fingerprint=submission.fingerprint,
                released=model.released_submission_id == submission.id,
                rank=rank,
                score=score,
                lower=lower,
                upper=upper,
                judgments=counts[submission.id],
                provisional=counts[submission.id] < campaign.min_judgments,
                last_recheck_match_rate=rechecks.get(submission.id),
            )
        )
    rows.sort(key=lambda e: (e.score is None, -(e.score or 0.0), e.submission_id))
    order = [fitted_index.get(e.submission_id) for e in rows]
    matrix = [
        [
            rates_fitted[i][j] if i is not None and j is not None and rates_fitted else None
            for j in order
        ]
        for i in order
    ]
    return Leaderboard(
        campaign=campaign.name,
        category=category,
        style_controlled=style_controlled,
        entries=rows,
        win_rates=matrix,
        style_coefficients=coefficients,
        hygiene=hygiene,
    )


def _last_rechecks(db: Session, campaign: Campaign) -> dict[str, float]:
    latest: dict[str, float] = {}
    for submission_id, rate in db.execute(
        select(Recheck.submission_id, Recheck.match_rate)
        .where(Recheck.campaign_id == campaign.id)
        .order_by(Recheck.id)
    ):
        latest[submission_id] = rate
    return latest


def leaderboard(
    db: Session,
    *,
    org_id: str,
    campaign: str,
    category: str | None = None,
    style_controlled: bool = False,
) -> Leaderboard:
    """The campaign's leaderboard: every submitted variant, with its fingerprint and interval."""
    found = get_campaign(db, org_id=org_id, name=campaign)
    return _leaderboard(db, found, category=category, style_controlled=style_controlled)


def owner_leaderboard(
    db: Session, *, owner: ModelOwner, category: str | None = None, style_controlled: bool = False
) -> Leaderboard:
    """The leaderboard of the owner's campaign, as its organization sees it (no prompts in it)."""
    found = db.get_one(Campaign, owner.campaign_id)
    return _leaderboard(db, found, category=category, style_controlled=style_controlled)


# Generating comparisons


def generate_comparisons(
    db: Session, *, org_id: str, campaign: str, data: ComparisonRound
) -> ComparisonRoundResult:
    """Create pairwise comparison tasks, balanced, with more where the ranking is least certain.

    Each pair of submissions is weighted by p(1 - p) / (1 + n): p is the current fit's chance that
    one beats the other (0.5 without judgments), n the comparisons the pair already has. Prompts
    are those both answered, the pair's least-used first; left and right are drawn at random.
    """
    found = get_campaign(db, org_id=org_id, name=campaign)
    rng = random.Random(data.seed)
    outputs: dict[str, dict[str, SubmissionOutput]] = defaultdict(dict)
    for output in db.scalars(
        select(SubmissionOutput)
        .join(Submission, Submission.id == SubmissionOutput.submission_id)
        .where(Submission.campaign_id == found.id)
    ):
        outputs[output.submission_id][output.prompt_id] = output
    submissions = sorted(outputs)
    if len(submissions) < 2:
        raise Invalid("at least two submissions are needed to compare")
    prompts = {
        p.id: p
        for p in db.scalars(
            select(EvaluationPrompt).where(EvaluationPrompt.campaign_id == found.id)
        )
    }
    pair_counts, prompt_counts = _existing_pairs(db, found, outputs)
    strength = _current_strength(db, found, submissions)
    task_ids = []
    for _ in range(data.comparisons):
        candidates = []
        for a, b in combinations(submissions, 2):
            common = outputs[a].keys() & outputs[b].keys()
            if not common:
                continue
            p = 1 / (1 + np.exp(-(strength.get(a, 0.0) - strength.get(b, 0.0))))
            weight = p * (1 - p) / (1 + pair_counts[(a, b)])
            candidates.append((weight, rng.random(), a, b, common))
        if not candidates:
            raise Invalid("no two submissions answered a common prompt")
        _, _, a, b, common = max(candidates, key=lambda c: (c[0], c[1]))
        prompt_id = min(common, key=lambda p: (prompt_counts[(a, b, p)], rng.random()))
        left, right = (a, b) if rng.random() < 0.5 else (b, a)
        task = tasks.create_task(
            db,
            org_id=org_id,
            task_type="comparison",
            body={
                "project": f"evaluation: {found.name}",
                "prompt": prompts[prompt_id].text,
                "answers": [
                    {"content": outputs[left][prompt_id].content},
                    {"content": outputs[right][prompt_id].content},
                ],
                "metadata": {"campaign": found.name, "category": prompts[prompt_id].category},
            },
        )
        db.add(
            ComparisonPair(
                task_id=task.id,
                campaign_id=found.id,
                prompt_id=prompt_id,
                left_output_id=outputs[left][prompt_id].id,
                right_output_id=outputs[right][prompt_id].id,
            )
        )
        pair_counts[(a, b)] += 1
        prompt_counts[(a, b, prompt_id)] += 1
        task_ids.append(task.id)
    db.flush()
    return ComparisonRoundResult(created=len(task_ids), task_ids=task_ids)


def _existing_pairs(
    db: Session, campaign: Campaign, outputs: dict[str, dict[str, SubmissionOutput]]
) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str, str]]]:
    owner_of = {o.id: sid for sid, by_prompt in outputs.items() for o in by_prompt.values()}
    pair_counts: Counter[tuple[str, str]] = Counter()
    prompt_counts: Counter[tuple[str, str, str]] = Counter()
    for left, right, prompt_id in db.execute(
        select(
            ComparisonPair.left_output_id, ComparisonPair.right_output_id, ComparisonPair.prompt_id
        ).where(ComparisonPair.campaign_id == campaign.id)
    ):
        a, b = sorted((owner_of[left], owner_of[right]))
        pair_counts[(a, b)] += 1
        prompt_counts[(a, b, prompt_id)] += 1
    return pair_counts, prompt_counts


def _current_strength(db: Session, campaign: Campaign, submissions: list[str]) -> dict[str, float]:
    """Logit strengths from the judgments so far (no bootstrap); empty without judgments."""
    index = {sid: i for i, sid in enumerate(submissions)}
    votes, _ = _clean_votes(campaign, _votes(db, campaign), index)
    if not votes:
        return {}
    scores, _ = math.fit_scores(_judgments(votes, index, [1.0] * len(votes), False), len(index))
    return {sid: (scores[i] - math.ELO_CENTRE) / math.ELO_PER_LOGIT for sid, i in index.items()}
