"""Evaluation endpoints: campaigns for the organization that runs them, and a separate door for
model owners, who authenticate with their campaign-scoped token."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, authorize
from quorum.errors import Unauthorized
from quorum.evaluation import policy, service
from quorum.evaluation.chart import leaderboard_svg
from quorum.evaluation.models import ModelOwner
from quorum.evaluation.schemas import (
    CampaignCreate,
    CampaignRead,
    ComparisonRound,
    ComparisonRoundResult,
    GoldJudgmentImport,
    GoldJudgmentImportResult,
    IssuedPrompts,
    Leaderboard,
    ModelVersionCreate,
    ModelVersionRead,
    OwnerCreate,
    OwnerCreated,
    OwnerRead,
    OwnerTokenRotate,
    PromptImport,
    PromptImportResult,
    PromptIssueRead,
    RecheckCreate,
    RecheckRead,
    RecheckSample,
    ReleaseRequest,
    SubmissionCreate,
    SubmissionRead,
)
from quorum.quality.schemas import GoldRead

router = APIRouter(prefix="/v1/evaluation/campaigns", tags=["evaluation"])
CampaignReader = Annotated[Caller, authorize(policy.read_campaigns)]
CampaignRunner = Annotated[Caller, authorize(policy.run_campaigns)]
owner_router = APIRouter(prefix="/v1/evaluation/owner", tags=["evaluation (model owners)"])


def get_owner(request: Request, db: SessionDep) -> ModelOwner:
    """Authenticate a model owner by the Bearer token the campaign gave it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip().startswith(service.OWNER_TOKEN_PREFIX):
        raise Unauthorized("send the model owner token as a Bearer token")
    return service.authenticate_owner(db, secret=token.strip())


OwnerDep = Annotated[ModelOwner, Depends(get_owner)]
Category = Annotated[str | None, Query(description="one of the campaign's categories")]
StyleControlled = Annotated[
    bool, Query(description="length and Markdown differences as covariates")
]


# The campaign's organization


@router.post("", response_model=CampaignRead)
def create_campaign(data: CampaignCreate, caller: CampaignRunner, db: SessionDep) -> CampaignRead:
    """Create a campaign with its comparison project (named ``evaluation: <name>``)."""
    campaign = service.create_campaign(db, org_id=caller.org_id, data=data)
    caller.created(campaign_id=campaign.id)
    return service.campaign_read(db, campaign)


@router.get("", response_model=list[CampaignRead])
def list_campaigns(caller: CampaignReader, db: SessionDep) -> list[CampaignRead]:
    return [service.campaign_read(db, c) for c in service.list_campaigns(db, org_id=caller.org_id)]


@router.get("/{campaign}", response_model=CampaignRead)
def get_campaign(campaign: PathName, caller: CampaignReader, db: SessionDep) -> CampaignRead:
    return service.campaign_read(db, service.get_campaign(db, org_id=caller.org_id, name=campaign))


@router.post("/{campaign}/prompts", response_model=PromptImportResult)
def import_prompts(
    campaign: PathName, data: PromptImport, caller: CampaignRunner, db: SessionDep
) -> PromptImportResult:
    """Add private prompts (and gold judgments); prompts are never listed back, only issued
    and shown to raters."""
    return service.import_prompts(db, org_id=caller.org_id, campaign=campaign, data=data)


@router.post("/{campaign}/gold", response_model=GoldJudgmentImportResult)
def add_gold(
    campaign: PathName, data: GoldJudgmentImport, caller: CampaignRunner, db: SessionDep
) -> GoldJudgmentImportResult:
    """Add gold judgments: comparisons with a known better answer, mixed into raters' work."""
    return service.add_gold(db, org_id=caller.org_id, campaign=campaign, data=data)


@router.get("/{campaign}/gold", response_model=list[GoldRead])
def list_gold(campaign: PathName, caller: CampaignReader, db: SessionDep) -> list[GoldRead]:
    """Each gold judgment's task, preferred side, times served and raters' mean score."""
    return service.list_gold(db, org_id=caller.org_id, campaign=campaign)


@router.post("/{campaign}/owners", response_model=OwnerCreated)
def add_owner(
    campaign: PathName, data: OwnerCreate, caller: CampaignRunner, db: SessionDep
) -> OwnerCreated:
    """Admit a model owner; its token (90 days by default) is in this reply only."""
    owner, token = service.add_owner(db, org_id=caller.org_id, campaign=campaign, data=data)
    caller.created(owner_id=owner.id)
    return OwnerCreated(**OwnerRead.model_validate(owner).model_dump(), token=token)


@router.post("/{campaign}/owners/{owner_id}/revoke", response_model=OwnerRead)
def revoke_owner(
    campaign: PathName, owner_id: str, caller: CampaignRunner, db: SessionDep
) -> OwnerRead:
    """Revoke a model owner's token at once; its submissions stay on the leaderboard."""
    owner = service.revoke_owner(db, org_id=caller.org_id, campaign=campaign, owner_id=owner_id)
    return OwnerRead.model_validate(owner)


@router.post("/{campaign}/owners/{owner_id}/rotate", response_model=OwnerCreated)
def rotate_owner_token(
    campaign: PathName,
    owner_id: str,
    data: OwnerTokenRotate,
    caller: CampaignRunner,
    db: SessionDep,
) -> OwnerCreated:
    """A new token for the owner (in this reply only); the old one stops working at once."""
    owner, token = service.rotate_owner_token(
        db, org_id=caller.org_id, campaign=campaign, owner_id=owner_id, data=data
    )
    return OwnerCreated(**OwnerRead.model_validate(owner).model_dump(), token=token)


@router.get("/{campaign}/prompt-issues", response_model=list[PromptIssueRead])
def prompt_issues(
    campaign: PathName, caller: CampaignReader, db: SessionDep
) -> list[PromptIssueRead]:
    """Which prompt was given to which owner and model version, and when."""
    return service.prompt_issues(db, org_id=caller.org_id, campaign=campaign)


@router.post("/{campaign}/comparisons", response_model=ComparisonRoundResult)
def generate_comparisons(
    campaign: PathName, data: ComparisonRound, caller: CampaignRunner, db: SessionDep
) -> ComparisonRoundResult:
    """Queue pairwise comparison tasks for the raters (balanced, uncertainty first)."""
    return service.generate_comparisons(db, org_id=caller.org_id, campaign=campaign, data=data)


@router.get("/{campaign}/leaderboard", response_model=Leaderboard)
def leaderboard(
    campaign: PathName,
    caller: CampaignReader,
    db: SessionDep,
    category: Category = None,
    style_controlled: StyleControlled = False,
) -> Leaderboard:
    return service.leaderboard(
        db,
        org_id=caller.org_id,
        campaign=campaign,
        category=category,
        style_controlled=style_controlled,
    )


@router.get(
    "/{campaign}/leaderboard.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def leaderboard_chart(
    campaign: PathName,
    caller: CampaignReader,
    db: SessionDep,
    category: Category = None,
    style_controlled: StyleControlled = False,
) -> Response:
    """The leaderboard as a chart of scores and their intervals."""
    board = service.leaderboard(
        db,
        org_id=caller.org_id,
        campaign=campaign,
        category=category,
        style_controlled=style_controlled,
    )
    return Response(leaderboard_svg(board), media_type="image/svg+xml")


@router.get("/{campaign}/rechecks/sample", response_model=RecheckSample)
def recheck_sample(
    campaign: PathName,
    caller: CampaignReader,
    db: SessionDep,
    submission_id: str,
    size: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> RecheckSample:
    """Prompts, drawn at random, to ask a released model again."""
    return service.recheck_sample(
        db, org_id=caller.org_id, campaign=campaign, submission_id=submission_id, size=size
    )


@router.post("/{campaign}/rechecks", response_model=RecheckRead)
def recheck(
    campaign: PathName, data: RecheckCreate, caller: CampaignRunner, db: SessionDep
) -> RecheckRead:
    """Compare a released model's fresh outputs with those behind its fingerprint."""
    return service.recheck(db, org_id=caller.org_id, campaign=campaign, data=data)


# Model owners


@owner_router.post("/models", response_model=ModelVersionRead)
def register_model(data: ModelVersionCreate, owner: OwnerDep, db: SessionDep) -> ModelVersionRead:
    return service.register_model(db, owner=owner, data=data)


@owner_router.get("/models", response_model=list[ModelVersionRead])
def list_models(owner: OwnerDep, db: SessionDep) -> list[ModelVersionRead]:
    return service.list_models(db, owner=owner)


@owner_router.post("/models/{model_version_id}/prompts", response_model=IssuedPrompts)
def issue_prompts(model_version_id: str, owner: OwnerDep, db: SessionDep) -> IssuedPrompts:
    """Receive the prompts to answer with this model version (the issue is recorded)."""
    return service.issue_prompts(db, owner=owner, model_version_id=model_version_id)


@owner_router.post("/models/{model_version_id}/submissions", response_model=SubmissionRead)
def submit_outputs(
    model_version_id: str, data: SubmissionCreate, owner: OwnerDep, db: SessionDep
) -> SubmissionRead:
    """Submit a variant's outputs; it is fingerprinted and listed on the leaderboard for good."""
    return service.submit_outputs(db, owner=owner, model_version_id=model_version_id, data=data)


@owner_router.post("/models/{model_version_id}/release", response_model=ModelVersionRead)
def release(
    model_version_id: str, data: ReleaseRequest, owner: OwnerDep, db: SessionDep
) -> ModelVersionRead:
    """Name the submission whose fingerprint the released model must match."""
    return service.release(
        db, owner=owner, model_version_id=model_version_id, submission_id=data.submission_id
    )


@owner_router.get("/submissions", response_model=list[SubmissionRead])
def list_submissions(owner: OwnerDep, db: SessionDep) -> list[SubmissionRead]:
    return service.list_submissions(db, owner=owner)


@owner_router.get("/leaderboard", response_model=Leaderboard)
def owner_leaderboard(
    owner: OwnerDep,
    db: SessionDep,
    category: Category = None,
    style_controlled: StyleControlled = False,
) -> Leaderboard:
    return service.owner_leaderboard(
        db, owner=owner, category=category, style_controlled=style_controlled
    )
