"""A seeded synthetic crowd with known truth works a project through the real dispatch and submit
path on PostgreSQL: experts, average workers, uniform spammers and biased workers, with gold
tasks mixed in, adaptive redundancy and automatic pauses.

The crowd is small enough for a test and large enough for Dawid-Skene: each worker answers some
80 tasks, so each of their nine confusion entries rests on several answers. The project pauses
workers likely under 0.6, between spammers (1/3) and the weakest fair workers (biased, ~0.64)."""

import uuid
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest
from sqlalchemy import select

from quorum.accounts import service as accounts
from quorum.db import transaction
from quorum.dispatch import service as dispatch
from quorum.dispatch.models import Assignment
from quorum.quality import aggregation
from quorum.quality import service as quality
from quorum.quality.jobs import QualityRefitter
from quorum.quality.schemas import GoldCreate, QualitySettingsUpdate
from quorum.quality.synthetic import Crowd, make_crowd
from quorum.tasks import service as tasks
from quorum.tasks.models import Task
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import ProjectWorkforceUpdate, WorkerInvite

CLASSES = ["cat", "dog", "bird"]
# 16 workers make 2 experts, 8 average workers, 4 spammers and 2 biased workers.
TASKS, GOLD_TASKS, WORKERS = 200, 12, 16
TARGET_ACCURACY = 0.9
# The server's refitter wakes up on a timer; the test plays one pass after this many submits (a
# fit itself waits for 20 more completed tasks).
SUBMITS_PER_REFIT_PASS = 8


@dataclass(frozen=True)
class CrowdRun:
    org_id: str
    task_ids: list[str]
    gold_ids: list[str]
    worker_ids: list[str]
    crowd: Crowd
    truth: dict[str, int]


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
            trust_threshold=0.6,
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


@pytest.fixture(params=[11, 13, 7], ids=lambda seed: f"seed{seed}")
def crowd_run(request, backend, sessions) -> CrowdRun:
    """Every worker takes and answers tasks in turn until nobody gets any more."""
    if backend != "postgresql":
        pytest.skip("the crowd runs on PostgreSQL, the production backend")
    seed = request.param
    rng = np.random.default_rng(seed)
    quality._gold_draw.seed(seed)  # the gold draws too, so that the run repeats exactly
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
    submits = 0
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
            submits += 1
            if submits % SUBMITS_PER_REFIT_PASS == 0:
                refitter.run_once()
    return CrowdRun(org_id, task_ids, gold_ids, worker_ids, crowd, truth)


def kept_answers(sessions, run: CrowdRun) -> list[tuple[str, str, str]]:
    """(task, worker, category) of every answer the project kept, gold included, oldest first."""
    with transaction(sessions) as db:
        rows = db.execute(
            select(Assignment.task_id, Assignment.worker_id, Assignment.response)
            .where(
                Assignment.task_id.in_(run.task_ids + run.gold_ids),
                Assignment.state == "submitted",
            )
            .order_by(Assignment.finished_at, Assignment.id)
        ).all()
    return [(task_id, worker_id, response["category"]) for task_id, worker_id, response in rows]


def as_labels(
    answers: list[tuple[str, str, str]],
) -> tuple[aggregation.Labels, dict[str, int], dict[str, int]]:
    """The answers as aggregation input, with the index of each task and worker."""
    task_index = {t: i for i, t in enumerate(sorted({t for t, _, _ in answers}))}
    worker_index = {w: i for i, w in enumerate(sorted({w for _, w, _ in answers}))}
    labels = aggregation.Labels(
        tasks=np.array([task_index[t] for t, _, _ in answers]),
        workers=np.array([worker_index[w] for _, w, _ in answers]),
        labels=np.array([CLASSES.index(a) for _, _, a in answers]),
        n_tasks=len(task_index),
        n_workers=len(worker_index),
        n_classes=len(CLASSES),
    )
    return labels, task_index, worker_index


def majority_accuracy(answers: list[tuple[str, str, str]], run: CrowdRun) -> float:
    """Plain majority vote's accuracy on the real tasks; a tie counts as that share of a right
    answer (what a coin toss between the tied classes gets on average)."""
    labels, task_index, _ = as_labels(answers)
    shares = aggregation.weighted_majority(labels)[[task_index[t] for t in run.task_ids]]
    top = shares == shares.max(axis=1, keepdims=True)
    truth = [run.truth[t] for t in run.task_ids]
    return float(np.mean(top[np.arange(len(truth)), truth] / top.sum(axis=1)))


def test_the_crowd_reaches_the_target_by_trusting_the_right_workers(crowd_run, sessions):
    run = crowd_run
    with transaction(sessions) as db:
        delivered = dict(
            db.execute(select(Task.id, Task.response).where(Task.id.in_(run.task_ids))).all()
        )
        trust = {
            row.worker_id: row
            for row in quality.worker_quality(db, org_id=run.org_id, project="animals")
        }
        golds = quality.list_gold(db, org_id=run.org_id, project="animals")
    answers = kept_answers(sessions, run)

    # Gold was mixed in and is never used up: each gold task was scored for several workers.
    assert {g.task_id for g in golds} == set(run.gold_ids)
    assert sum(g.served for g in golds) > 2 * len(golds)

    # Every task is delivered, accurately enough, with more answers where the crowd disagreed.
    assert all(response is not None for response in delivered.values())
    right = [CLASSES.index(delivered[t]["category"]) == run.truth[t] for t in run.task_ids]
    assert np.mean(right) >= TARGET_ACCURACY
    assert all(0 < delivered[t]["confidence"]["category"] <= 1 for t in run.task_ids)
    per_task = Counter(t for t, _, _ in answers if t in delivered)
    grown = sum(n > 3 for n in per_task.values())
    assert grown > TASKS // 10, "low confidence asked for more responses"

    # Spammers are paused; experts and average workers never are.
    kinds = dict(zip(run.worker_ids, run.crowd.kinds, strict=True))
    paused = {w for w, row in trust.items() if row.paused}
    assert {w for w in run.worker_ids if kinds[w] == "spammer"} <= paused
    assert not any(kinds[w] in ("expert", "average") for w in paused)

    # Each biased worker's favourite class is learned: whatever the truth, their fitted matrix
    # gives it far more than any other mistake.
    for w, worker_id in enumerate(run.worker_ids):
        if kinds[worker_id] != "biased":
            continue
        favourite = CLASSES[int(run.crowd.confusions[w].sum(axis=0).argmax())]
        confusion = trust[worker_id].confusion
        matrix = {
            true: dict(zip(confusion.classes, row, strict=True))
            for true, row in zip(confusion.classes, confusion.matrix, strict=True)
        }
        for true in CLASSES:
            if true == favourite:
                continue
            others = [matrix[true][c] for c in CLASSES if c not in (true, favourite)]
            assert matrix[true][favourite] > max(0.3, *others), (true, favourite, matrix)

    # Dawid-Skene, fitted as the server fits (gold clamped) on all the answers kept, against plain
    # majority vote. With each task's first three answers alone (fixed redundancy), judged with
    # the workers' confusion matrices learned from the whole run, it is clearly better. On all the
    # answers kept it is not clearly better, and need not be: redundancy grew until each task's
    # answer was sure, so the full sets are lopsided enough for a plain vote too (seed 13 leaves
    # it 0.7 points behind, 11 level, 7 three points ahead; on the first three it wins by 5 to 7).
    labels, task_index, worker_index = as_labels(answers)
    gold = {task_index[g]: run.truth[g] for g in run.gold_ids if g in task_index}
    fit = aggregation.dawid_skene(labels, gold=gold)
    truth = np.array([run.truth[t] for t in run.task_ids])
    fitted = fit.posteriors[[task_index[t] for t in run.task_ids]].argmax(axis=1)
    assert np.mean(fitted == truth) >= majority_accuracy(answers, run) - 0.01
    first_three: dict[str, list[tuple[str, str, str]]] = {}
    for answer in answers:
        first_three.setdefault(answer[0], [])
        if len(first_three[answer[0]]) < 3:
            first_three[answer[0]].append(answer)
    three_fitted = [
        aggregation.item_posterior(
            fit.priors,
            np.array(
                [fit.confusions[worker_index[w], :, CLASSES.index(a)] for _, w, a in first_three[t]]
            ),
        ).argmax()
        for t in run.task_ids
    ]
    three_majority = majority_accuracy([a for t in run.task_ids for a in first_three[t]], run)
    assert np.mean(three_fitted == truth) > three_majority + 0.03
