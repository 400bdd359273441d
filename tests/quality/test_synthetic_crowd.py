"""A seeded synthetic crowd with known truth works a project through the real dispatch and submit
path on PostgreSQL: experts, average workers, uniform spammers and biased workers, with gold
tasks mixed in, adaptive redundancy and automatic pauses."""

import uuid
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import select

from quorum.accounts import service as accounts
from quorum.db import transaction
from quorum.dispatch import service as dispatch
from quorum.dispatch.models import Assignment
from quorum.quality import service as quality
from quorum.quality.jobs import QualityRefitter
from quorum.quality.schemas import GoldCreate, QualitySettingsUpdate
from quorum.quality.synthetic import make_crowd
from quorum.tasks import service as tasks
from quorum.tasks.models import Task
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import ProjectWorkforceUpdate, WorkerInvite

CLASSES = ["cat", "dog", "bird"]
TASKS, GOLD_TASKS, WORKERS = 120, 12, 20
TARGET_ACCURACY = 0.9


def build_project(db, crowd_size: int) -> tuple[str, list[str], list[str], list[str]]:
    """An organization, a project with quality settings, gold and real tasks, and its workers.

    Returns the organization id, the real task ids, the gold task ids and the worker ids.
    """
    org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:10]}")
    tasks.create_project(
        db,
        org_id=org.id,
        data=ProjectCreate(
            name="animals",
            type="categorization",
            params={"categories": CLASSES},
            required_responses=3,
        ),
    )
    workforce.configure_project(db, org_id=org.id, project="animals", data=ProjectWorkforceUpdate())
    quality.configure(
        db,
        org_id=org.id,
        project="animals",
        data=QualitySettingsUpdate(
            gold_rate=0.15,
            confidence_target=0.97,
            max_responses=9,
            trust_threshold=0.55,
            trust_min_scored=15,
        ),
    )
    body = {"project": "animals", "attachment": "an animal"}
    task_ids = [
        tasks.create_task(db, org_id=org.id, task_type="categorization", body=body).id
        for _ in range(TASKS)
    ]
    gold_ids = [
        quality.create_gold(
            db,
            org_id=org.id,
            project="animals",
            data=GoldCreate(
                params={"attachment": f"gold {i}"}, answer={"category": CLASSES[i % 3]}
            ),
        ).task_id
        for i in range(GOLD_TASKS)
    ]
    worker_ids = []
    for _ in range(crowd_size):
        worker, _ = workforce.invite_worker(
            db, org_id=org.id, data=WorkerInvite(email=f"w-{uuid.uuid4().hex[:10]}@example.com")
        )
        workforce.add_member(db, org_id=org.id, project="animals", worker_id=worker.id)
        worker_ids.append(worker.id)
    return org.id, task_ids, gold_ids, worker_ids


@pytest.fixture
def crowd_run(backend, sessions):
    """Every worker takes and answers tasks in turn until nobody gets any more."""
    if backend != "postgresql":
        pytest.skip("the crowd runs on PostgreSQL, the production backend")
    rng = np.random.default_rng(11)
    quality._gold_draw.seed(11)  # the gold draws too, so that the run repeats exactly
    crowd = make_crowd(WORKERS, len(CLASSES), rng)
    with transaction(sessions) as db:
        org_id, task_ids, gold_ids, worker_ids = build_project(db, WORKERS)
        identities = [
            workforce.authenticate_worker(db, secret=workforce.open_session(db, worker_id=w))
            for w in worker_ids
        ]
    truth = {t: int(rng.integers(len(CLASSES))) for t in task_ids}
    truth |= {g: i % 3 for i, g in enumerate(gold_ids)}
    working = set(range(WORKERS))
    refitter = QualityRefitter(sessions, interval_seconds=0)
    while working:
        for w in sorted(working):
            with transaction(sessions) as db:
                lease = dispatch.next_task(db, worker=identities[w])
                if lease is None:
                    working.discard(w)
                    continue
                answer = crowd.answer(rng, np.array([w]), np.array([truth[lease.task_id]]))[0]
                dispatch.submit(
                    db,
                    worker_id=identities[w].id,
                    assignment_id=lease.assignment_id,
                    response={"category": CLASSES[answer]},
                )
            # The server re-fits in the background; the test plays that loop after every submit
            # (it re-fits once 20 more tasks have completed).
            refitter.run_once()
    return org_id, task_ids, gold_ids, worker_ids, crowd, truth


def test_the_crowd_reaches_the_target_by_trusting_the_right_workers(crowd_run, sessions):
    org_id, task_ids, gold_ids, worker_ids, crowd, truth = crowd_run
    with transaction(sessions) as db:
        delivered = dict(
            db.execute(select(Task.id, Task.response).where(Task.id.in_(task_ids))).all()
        )
        answers = db.execute(
            select(
                Assignment.task_id,
                Assignment.worker_id,
                Assignment.response,
                Assignment.finished_at,
            ).where(
                Assignment.task_id.in_(task_ids),
                Assignment.state.in_(("submitted", "rejected")),
            )
        ).all()
        trust = {
            row.worker_id: row
            for row in quality.worker_quality(db, org_id=org_id, project="animals")
        }
        golds = quality.list_gold(db, org_id=org_id, project="animals")

    # Gold was mixed in and is never used up: each gold task was scored for several workers.
    assert {g.task_id for g in golds} == set(gold_ids)
    assert sum(g.served for g in golds) > 2 * len(golds)

    # Every task is delivered, accurately enough, with more answers where the crowd disagreed.
    assert all(response is not None for response in delivered.values())
    right = [CLASSES.index(delivered[t]["category"]) == truth[t] for t in task_ids]
    assert np.mean(right) >= TARGET_ACCURACY
    assert all(0 < delivered[t]["confidence"]["category"] <= 1 for t in task_ids)
    kept = Counter(t for t, _, _, _ in answers)
    assert max(kept.values()) > 3, "low confidence asked for more responses"

    # Spammers are paused (and only the weakest are); experts never are.
    kinds = dict(zip(worker_ids, crowd.kinds, strict=True))
    paused = {w for w, row in trust.items() if row.paused}
    assert {w for w in worker_ids if kinds[w] == "spammer"} <= paused
    assert not any(kinds[w] == "expert" for w in paused)
    assert all(trust[w].confusion is not None for w in worker_ids if w in trust)

    # Plain majority vote over the first three answers of each task (fixed redundancy, no trust)
    # does worse than the delivered Dawid-Skene consolidation.
    first_three: dict[str, list[str]] = {}
    for task_id, _, response, _ in sorted(answers, key=lambda a: a[3]):
        first_three.setdefault(task_id, []).append(response["category"])
    majority = [
        Counter(first_three[t][:3]).most_common(1)[0][0] == CLASSES[truth[t]] for t in task_ids
    ]
    assert np.mean(right) > np.mean(majority)
