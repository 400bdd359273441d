"""Trust weights that other domains (evaluation leaderboards) read: gold-earned trust counts,
newcomers get the prior, a paused worker's judgments count for nothing."""

import uuid

import pytest

from quorum.accounts import service as accounts
from quorum.db.base import utcnow
from quorum.quality import service as quality
from quorum.quality.models import WorkerTrust
from quorum.tasks import service as tasks
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import WorkerInvite


def test_trust_weights_follow_gold_trust_and_pauses(db):
    org = accounts.create_organization(db, name=f"trust-{uuid.uuid4().hex[:8]}")
    project = tasks.create_project(
        db, org_id=org.id, data=ProjectCreate(name="judgments", type="comparison")
    )
    expert, spammer, newcomer = (
        workforce.invite_worker(
            db, org_id=org.id, data=WorkerInvite(email=f"{uuid.uuid4().hex}@raters.example")
        )[0].id
        for _ in range(3)
    )
    for worker_id, right, paused in ((expert, 20.0, False), (spammer, 2.0, True)):
        db.add(
            WorkerTrust(
                project_id=project.id,
                worker_id=worker_id,
                org_id=org.id,
                gold_scored=20,
                gold_score_sum=right,
                em_labels=0,
                trust=quality.beta_trust(gold_scored=20, gold_score_sum=right),
                scored_at_reinstatement=0,
                paused_at=utcnow() if paused else None,
                updated_at=utcnow(),
            )
        )
    db.flush()
    weights = quality.trust_weights(
        db, project_id=project.id, worker_ids=[expert, spammer, newcomer, expert]
    )
    assert set(weights) == {expert, spammer, newcomer}
    assert weights[spammer] == 0.0
    assert weights[newcomer] == pytest.approx(quality.beta_trust())
    assert weights[expert] > weights[newcomer] > 0.5
