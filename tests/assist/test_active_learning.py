"""Active learning: the built-in text classifier trains on completed tasks off the labeling path,
serves pre-labels, and orders an opted-in project's queue by its uncertainty, which reaches a
target accuracy with fewer human labels than random order."""

import random
import uuid

import httpx
import numpy as np

from quorum.accounts import service as accounts
from quorum.assist import service
from quorum.assist.active_learning import TextClassifier
from quorum.assist.backends import ModelSources, OperatorBackends
from quorum.assist.jobs import ActiveLearningTrainer
from quorum.assist.models import ActiveLearningModel
from quorum.assist.schemas import ActiveLearningUpdate, BackendCreate
from quorum.db import transaction
from quorum.dispatch import service as dispatch
from quorum.outside import NetworkPolicy, OutsideClient
from quorum.tasks import service as tasks
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import WorkerInvite
from tests.dispatch.conftest import add_task, categorization_project
from tests.factories import create_project

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
            sources=ModelSources(OperatorBackends.offered({}), OutsideClient(NetworkPolicy())),
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
            dispatch.submit(
                db,
                worker_id=identity.id,
                assignment_id=assignment.assignment_id,
                response={"category": truth[assignment.params["attachment"]]},
            )
        if labeled % RETRAIN_EVERY:
            continue
        with transaction(sessions) as db:
            assert project.id in service.due_active_learning_projects(db)
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


def opt_in(tenant, *, tickets: list[tuple[str, str]], **settings) -> None:
    """A categorization project of these tickets, a builtin backend, and the project opted in."""
    categorization_project(tenant, "tickets")
    for text, _ in tickets:
        add_task(tenant, "tickets", attachment=text, categories=CLASSES)
    backend = {"name": "learner", "kind": "builtin", "target": "active-learning"}
    assert tenant.client.post("/v1/assist/backends", json=backend).status_code == 200
    body = {"backend": "learner", "retrain_every": 5, "min_labels": 6, **settings}
    opted = tenant.client.put("/v1/projects/tickets/active-learning", json=body)
    assert opted.status_code == 200, opted.text


def label(worker, truth: dict[str, str], count: int) -> None:
    for _ in range(count):
        assignment = worker.next().json()
        answer = {"category": truth[assignment["params"]["attachment"]]}
        assert worker.submit(assignment["assignment_id"], answer).status_code == 200


def test_an_opted_in_project_is_prelabeled_and_served_most_uncertain_first(tenant, make_worker):
    tickets = support_tickets(SEED, 30)
    opt_in(tenant, tickets=tickets, order_queue=True)
    worker = make_worker(tenant, projects=("tickets",))
    label(worker, dict(tickets), 8)
    before = tenant.client.get("/v1/projects/tickets/active-learning").json()
    assert before == {
        "project": "tickets",
        "backend": "learner",
        "order_queue": True,
        "retrain_every": 5,
        "min_labels": 6,
        "completed_tasks": 8,
        "trained_on": 0,
        "trained_at": None,
        "classes": [],
    }

    trained = tenant.client.post("/v1/projects/tickets/active-learning/train")
    assert trained.status_code == 200, trained.text
    assert trained.json()["trained_on"] == 8
    assert trained.json()["trained_at"] is not None
    assert set(trained.json()["classes"]) <= set(CLASSES)

    pending = tenant.client.get(
        "/v1/tasks", params={"project": "tickets", "status": "pending"}
    ).json()["docs"]
    assert len(pending) == 22
    assert all(0 <= t["priority"] <= 1000 for t in pending)
    most_uncertain = max(t["priority"] for t in pending)
    assignment = worker.next().json()
    served = next(t for t in pending if t["task_id"] == assignment["task_id"])
    assert served["priority"] == most_uncertain
    prelabel = worker.client.get(f"/v1/worker/assignments/{assignment['assignment_id']}/prelabel")
    assert prelabel.status_code == 200, prelabel.text
    assert prelabel.json()["backend"] == "learner"
    assert prelabel.json()["response"]["category"] in CLASSES
    report = tenant.client.get(
        "/v1/assist/backends/learner/report", params={"project": "tickets"}
    ).json()
    assert report["prelabeled_tasks"] == 22


def test_the_trainer_retrains_every_n_completions_and_leaves_priorities_unless_asked(
    tenant, make_worker, sessions
):
    tickets = support_tickets(SEED + 1, 20)
    opt_in(tenant, tickets=tickets, order_queue=False)
    worker = make_worker(tenant, projects=("tickets",))
    trainer = ActiveLearningTrainer(sessions, interval_seconds=0)
    status = "/v1/projects/tickets/active-learning"

    label(worker, dict(tickets), 5)
    trainer.run_once()
    assert tenant.client.get(status).json()["trained_on"] == 0  # min_labels is 6
    label(worker, dict(tickets), 1)
    trainer.run_once()
    assert tenant.client.get(status).json()["trained_on"] == 6
    label(worker, dict(tickets), 4)
    trainer.run_once()
    assert tenant.client.get(status).json()["trained_on"] == 6  # retrain_every is 5
    label(worker, dict(tickets), 1)
    trainer.run_once()
    assert tenant.client.get(status).json()["trained_on"] == 11

    pending = tenant.client.get(
        "/v1/tasks", params={"project": "tickets", "status": "pending"}
    ).json()["docs"]
    assert len(pending) == 9
    assert {t["priority"] for t in pending} == {0}  # pre-labels only: the queue keeps its order
    assignment = worker.next().json()
    prelabel = worker.client.get(f"/v1/worker/assignments/{assignment['assignment_id']}/prelabel")
    assert prelabel.json()["backend"] == "learner"


def test_active_learning_is_for_categorization_with_the_builtin_backend(tenant):
    unknown = tenant.client.post(
        "/v1/assist/backends", json={"name": "x", "kind": "builtin", "target": "oracle"}
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == (
        "target of a builtin backend must be one of ('active-learning',), got 'oracle'"
    )
    opt_in(tenant, tickets=support_tickets(SEED, 3))
    create_project(tenant.client, "chat", "chats")
    wrong_type = tenant.client.put(
        "/v1/projects/chats/active-learning", json={"backend": "learner"}
    )
    assert wrong_type.json() == {
        "status_code": 400,
        "error": "active learning needs a categorization project; 'chats' is chat",
    }
    tenant.client.post(
        "/v1/assist/backends",
        json={"name": "judge", "kind": "python", "target": "sentiment-v2"},
    )
    not_builtin = tenant.client.put(
        "/v1/projects/tickets/active-learning", json={"backend": "judge"}
    )
    assert not_builtin.json()["error"] == (
        "backend 'judge' is python, not the builtin active-learning"
    )
    too_few = tenant.client.post("/v1/projects/tickets/active-learning/train")
    assert too_few.json()["error"] == (
        "active learning needs completed tasks of at least two categories"
    )
    not_opted = tenant.client.post("/v1/projects/chats/active-learning/train")
    assert not_opted.status_code == 404
    run = tenant.client.post(
        "/v1/assist/backends/learner/runs", json={"project": "tickets", "role": "prelabel"}
    )
    assert run.json()["error"] == "project 'tickets' has no trained active-learning model yet"


def test_other_organizations_cannot_see_or_steer_a_projects_model(make_tenant):
    owner, stranger = make_tenant(), make_tenant()
    opt_in(owner, tickets=support_tickets(SEED, 3))
    stranger.client.post(
        "/v1/assist/backends",
        json={"name": "learner", "kind": "builtin", "target": "active-learning"},
    )
    path = "/v1/projects/tickets/active-learning"
    assert stranger.client.get(path).status_code == 404
    assert stranger.client.put(path, json={"backend": "learner"}).status_code == 404
    assert stranger.client.post(f"{path}/train").status_code == 404
    assert owner.client.get(path).json()["order_queue"] is False


def test_viewers_read_members_steer_active_learning(tenant, server):
    opt_in(tenant, tickets=support_tickets(SEED, 3))
    path = "/v1/projects/tickets/active-learning"
    keys = {
        (role, scope): tenant.client.post("/v1/keys", json={"role": role, "scope": scope}).json()
        for role, scope in (("viewer", "full"), ("member", "full"), ("admin", "read"))
    }
    for (role, scope), key in keys.items():
        with httpx.Client(base_url=server.url, auth=(key["secret"], "")) as client:
            assert client.get(path).status_code == 200
            steer = client.put(path, json={"backend": "learner", "order_queue": True})
            assert steer.status_code == (200 if role == "member" else 403), (role, scope)
            train = client.post(f"{path}/train")
            # A member may train; this project has no labels yet, so it is refused as invalid.
            assert train.status_code == (400 if role == "member" else 403), (role, scope)
