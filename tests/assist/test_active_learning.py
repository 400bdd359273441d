"""Active learning: the built-in text classifier trains on completed tasks off the labeling path,
serves pre-labels, and orders an opted-in project's queue by its uncertainty, which reaches a
target accuracy with fewer human labels than random order."""

import random
import uuid

import numpy as np

from quorum.accounts import service as accounts
from quorum.assist import service
from quorum.assist.active_learning import TextClassifier
from quorum.assist.jobs import ActiveLearningTrainer
from quorum.assist.models import ActiveLearningModel
from quorum.assist.schemas import ActiveLearningUpdate, BackendCreate
from quorum.db import transaction
from quorum.dispatch import service as dispatch
from quorum.tasks import service as tasks
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import WorkerInvite

CLASSES = ["billing", "shipping", "account", "product"]
PRIORS = [0.55, 0.25, 0.12, 0.08]
SEED = 5
POOL, HELD_OUT = 400, 300
RETRAIN_EVERY = 10
TARGET = 0.85


def support_tickets(seed: int, n: int) -> list[tuple[str, str]]:
    """Short texts of four unevenly common classes: each word is from its class's own vocabulary
    with a per-text probability between 0.15 and 0.6, else from a vocabulary all classes share."""
    rng = random.Random(seed)
    own = {c: [f"{c[:3]}{i}" for i in range(30)] for c in CLASSES}
    shared = [f"w{i}" for i in range(300)]
    tickets = []
    for _ in range(n):
        label = rng.choices(CLASSES, PRIORS)[0]
        signal = rng.uniform(0.15, 0.6)
        words = [
            rng.choice(own[label]) if rng.random() < signal else rng.choice(shared)
            for _ in range(12)
        ]
        tickets.append((" ".join(words), label))
    return tickets


def labels_to_reach_target(sessions, *, order_queue: bool) -> tuple[int | None, list[float]]:
    """Label the pool through dispatch (a worker answering the truth) in the order ``next_task``
    hands tasks out, the trainer retraining every ``RETRAIN_EVERY`` completions; how many labels
    it took for the model to reach ``TARGET`` held-out accuracy, and the accuracy curve."""
    tickets = support_tickets(SEED, POOL + HELD_OUT)
    pool, held_out = tickets[:POOL], tickets[POOL:]
    truth = dict(pool)
    # Random order: a seeded shuffle, written as priorities (both runs start the same way).
    ranks = list(range(POOL))
    random.Random(SEED).shuffle(ranks)
    with transaction(sessions) as db:
        org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:10]}")
        project = tasks.create_project(
            db, org_id=org.id, data=ProjectCreate(name="tickets", type="categorization")
        )
        for (text, _), rank in zip(pool, ranks, strict=True):
            tasks.create_task(
                db,
                org_id=org.id,
                task_type="categorization",
                body={
                    "project": "tickets",
                    "attachment": text,
                    "categories": CLASSES,
                    "priority": POOL - rank,
                },
            )
        service.create_backend(
            db,
            org_id=org.id,
            data=BackendCreate(name="learner", kind="builtin", target="active-learning"),
        )
        service.configure_active_learning(
            db,
            org_id=org.id,
            project="tickets",
            data=ActiveLearningUpdate(
                backend="learner",
                order_queue=order_queue,
                retrain_every=RETRAIN_EVERY,
                min_labels=RETRAIN_EVERY,
            ),
        )
        worker, _ = workforce.invite_worker(
            db, org_id=org.id, data=WorkerInvite(email=f"w-{uuid.uuid4().hex[:10]}@example.com")
        )
        workforce.add_member(db, org_id=org.id, project="tickets", worker_id=worker.id)
        identity = workforce.authenticate_worker(
            db, secret=workforce.open_session(db, worker_id=worker.id)
        )
    trainer = ActiveLearningTrainer(sessions, interval_seconds=0)
    curve: list[float] = []
    for labeled in range(1, POOL + 1):
        with transaction(sessions) as db:
            assignment = dispatch.next_task(db, worker=identity, project_id=project.id)
        with transaction(sessions) as db:
            text = assignment.params["attachment"]
            dispatch.submit(
                db,
                worker_id=identity.id,
                assignment_id=assignment.assignment_id,
                response={"category": truth[text]},
            )
        with transaction(sessions) as db:
            due = project.id in service.due_active_learning_projects(db)
        if not due:
            continue
        assert trainer.train(project.id)
        with transaction(sessions) as db:
            stored = db.get_one(ActiveLearningModel, project.id).model
        model = TextClassifier.from_bytes(stored)
        predicted = model.predict([text for text, _ in held_out])
        curve.append(float(np.mean(np.array(predicted) == [label for _, label in held_out])))
        if curve[-1] >= TARGET:
            return labeled, curve
    return None, curve


def test_uncertainty_order_reaches_target_accuracy_with_fewer_labels_than_random(sessions):
    uncertain_first, uncertain_curve = labels_to_reach_target(sessions, order_queue=True)
    random_order, random_curve = labels_to_reach_target(sessions, order_queue=False)
    print(f"labels to {TARGET:.0%}: uncertainty {uncertain_first}, random {random_order}")
    print("uncertainty curve", [round(a, 3) for a in uncertain_curve])
    print("random curve", [round(a, 3) for a in random_curve])
    assert uncertain_first is not None and random_order is not None
    assert uncertain_first <= 0.6 * random_order, (uncertain_first, random_order)
