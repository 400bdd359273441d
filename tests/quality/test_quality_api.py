"""Operators' quality API: settings, gold tasks (hidden from the customer, served to workers and
scored), worker trust, reinstatement and metrics, each behind the organization's wall."""

import pytest

from tests.dispatch.conftest import add_task, categorization_project, make_worker  # noqa: F401
from tests.factories import create_project, create_task

GOOD, BAD = {"category": "good"}, {"category": "bad"}
GOLD_PARAMS = {"attachment": "A known review: terrible", "categories": ["good", "bad"]}


def test_settings_are_read_and_changed_by_field(api):
    api.post("/v1/projects", json={"name": "p", "type": "categorization"})
    assert api.get("/v1/projects/p/quality").json() == {
        "project": "p",
        "gold_rate": 0.0,
        "consolidation": "dawid_skene",
        "confidence_target": 0.0,
        "max_responses": 1,
        "trust_threshold": 0.0,
        "trust_min_scored": 10,
        "review_levels": 0,
        "reviewer_qualification": None,
    }
    changed = api.post("/v1/projects/p/quality", json={"gold_rate": 0.2, "max_responses": 5})
    assert (changed.json()["gold_rate"], changed.json()["max_responses"]) == (0.2, 5)
    assert api.post("/v1/projects/p/quality", json={"gold_rate": 0.9}).status_code == 400


def test_imported_gold_is_served_scored_and_never_shown_to_the_customer(
    tenant,
    make_worker,  # noqa: F811
):
    categorization_project(tenant)
    tenant.client.post("/v1/projects/sentiment/quality", json={"gold_rate": 0.5})
    gold = tenant.client.post(
        "/v1/projects/sentiment/gold", json={"params": GOLD_PARAMS, "answer": BAD}
    )
    assert gold.status_code == 200, gold.text
    gold = gold.json()
    assert (gold["imported"], gold["answer"], gold["served"]) == (True, BAD, 0)
    listed = tenant.client.get("/v1/tasks", params={"project": "sentiment"}).json()
    assert listed["total"] == 0, "gold tasks are not the customer's tasks"

    # Without real work, a worker's draws eventually hand out the gold; it looks like any task.
    workers = [make_worker(tenant, projects=("sentiment",)) for _ in range(2)]
    for worker, answer in zip(workers, (BAD, GOOD), strict=True):
        lease = None
        for _ in range(40):
            response = worker.next()
            if response.status_code == 200:
                lease = response.json()
                break
        assert lease is not None and lease["task_id"] == gold["task_id"]
        assert (
            "answer" not in str(lease)
            and lease["params"]["attachment"] == GOLD_PARAMS["attachment"]
        )
        result = worker.submit(lease["assignment_id"], answer).json()
        assert result["task_completed"] is True, "the reply of a one-response task, as for real"

    golds = tenant.client.get("/v1/projects/sentiment/gold").json()
    assert [(g["served"], g["mean_score"]) for g in golds] == [(2, 0.5)]
    trust = {
        w["worker_id"]: w for w in tenant.client.get("/v1/projects/sentiment/worker_quality").json()
    }
    right, wrong = trust[workers[0].id], trust[workers[1].id]
    assert (right["gold_scored"], right["gold_accuracy"], right["trust"]) == (1, 1.0, 0.8)
    assert (wrong["gold_scored"], wrong["gold_accuracy"], wrong["trust"]) == (1, 0.0, 0.6)


def test_a_completed_task_becomes_gold_with_its_delivered_answer(
    tenant,
    make_worker,  # noqa: F811
):
    _, (task_id,) = categorization_project(tenant, tasks=1)
    not_yet = tenant.client.post("/v1/projects/sentiment/gold", json={"task_id": task_id})
    assert not_yet.status_code == 400 and "completed" in not_yet.json()["error"]
    worker = make_worker(tenant, projects=("sentiment",))
    worker.submit(worker.next().json()["assignment_id"], GOOD)

    gold = tenant.client.post("/v1/projects/sentiment/gold", json={"task_id": task_id}).json()

    assert (gold["task_id"], gold["imported"], gold["answer"]) == (task_id, False, GOOD)
    again = tenant.client.post("/v1/projects/sentiment/gold", json={"task_id": task_id})
    assert again.status_code == 409
    task = tenant.client.get(f"/v1/task/{task_id}").json()
    assert task["status"] == "completed", "the customer's task is untouched"


def test_a_worker_is_paused_only_when_wrong_gold_makes_it_likely_and_then_gets_no_work(
    tenant,
    make_worker,  # noqa: F811
):
    categorization_project(tenant, tasks=3)
    tenant.client.post(
        "/v1/projects/sentiment/quality",
        json={"gold_rate": 0.5, "trust_threshold": 0.7, "trust_min_scored": 1},
    )
    gold_attachments = {f"A known review, take {i}: terrible" for i in range(3)}
    for attachment in sorted(gold_attachments):
        tenant.client.post(
            "/v1/projects/sentiment/gold",
            json={"params": {**GOLD_PARAMS, "attachment": attachment}, "answer": BAD},
        )
    worker = make_worker(tenant, projects=("sentiment",))
    wrong_gold = 0
    for _ in range(80):
        leased = worker.next()
        if leased.status_code == 204:  # real work done; the gold comes at its rate, try again
            continue
        lease = leased.json()
        worker.submit(lease["assignment_id"], GOOD)
        if lease["params"]["attachment"] not in gold_attachments:
            continue
        wrong_gold += 1
        paused = tenant.client.get("/v1/projects/sentiment/worker_quality").json()[0]["paused"]
        # Under the Beta(3, 1) prior, one or two misses leave a fair chance that the worker is
        # above 0.7 (35 % and 16 %); after three it is under 7 %.
        assert paused is (wrong_gold == 3)
        if paused:
            break
    else:
        pytest.fail("the gold tasks were never all served")

    refused = worker.next()
    assert refused.status_code == 204, "paused on the project: no task at all"
    history = worker.client.get("/v1/worker/assignments").json()["docs"]
    assert {a["state"] for a in history} <= {"submitted"}, "completed work is kept"
    trust = tenant.client.get("/v1/projects/sentiment/worker_quality").json()
    assert [(w["worker_id"], w["paused"]) for w in trust] == [(worker.id, True)]

    reinstated = tenant.client.post(f"/v1/projects/sentiment/workers/{worker.id}/reinstate")
    assert reinstated.status_code == 200 and reinstated.json()["paused"] is False
    add_task(tenant)
    assert worker.next().status_code == 200, "back at work"


def test_metrics_report_alpha_confidence_and_gold(
    tenant,
    make_worker,  # noqa: F811
):
    categorization_project(tenant, tasks=3, required_responses=2)
    workers = [make_worker(tenant, projects=("sentiment",)) for _ in range(2)]
    for answers in ((GOOD, GOOD), (BAD, BAD), (GOOD, BAD)):
        for worker, answer in zip(workers, answers, strict=True):
            worker.submit(worker.next().json()["assignment_id"], answer)

    metrics = tenant.client.get("/v1/projects/sentiment/metrics").json()

    assert metrics["labeled_tasks"] == 3
    # Nominal alpha for units (g,g), (b,b), (g,b): 1 - D_o / D_e, D_o = 2/6, D_e = 18/30.
    assert metrics["krippendorff_alpha"] == pytest.approx(1 - (2 / 6) / (2 * 3 * 3 / (6 * 5)))
    assert sum(b["tasks"] for b in metrics["confidence_distribution"]) == 3
    assert (metrics["gold_scored"], metrics["gold_pass_rate"]) == (0, None)
    assert metrics["workers"] == [], "no gold and no model fit yet: nobody is scored"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/v1/projects/sentiment/quality", None),
        ("post", "/v1/projects/sentiment/quality", {"gold_rate": 0.1}),
        ("get", "/v1/projects/sentiment/gold", None),
        ("post", "/v1/projects/sentiment/gold", {"params": GOLD_PARAMS, "answer": BAD}),
        ("get", "/v1/projects/sentiment/worker_quality", None),
        ("post", "/v1/projects/sentiment/workers/{worker}/reinstate", None),
        ("get", "/v1/projects/sentiment/metrics", None),
        ("get", "/v1/projects/sentiment/reviews", None),
        ("post", "/v1/task/{task}/audit", {"accepted": True}),
    ],
)
def test_another_organization_sees_nothing(
    make_tenant,
    make_worker,  # noqa: F811
    method,
    path,
    body,
):
    owner, stranger = make_tenant(), make_tenant()
    _, (task_id,) = categorization_project(owner, tasks=1)
    worker = make_worker(owner, projects=("sentiment",))
    worker.submit(worker.next().json()["assignment_id"], GOOD)
    owner.client.post("/v1/projects/sentiment/quality", json={"gold_rate": 0.0})
    url = path.format(task=task_id, worker=worker.id)
    response = getattr(stranger.client, method)(url, **({"json": body} if body else {}))
    assert response.status_code == 404, response.text


def test_a_task_carries_each_fields_confidence_and_its_least_sure_field_asks_for_more(
    tenant,
    make_worker,  # noqa: F811
):
    create_project(tenant.client, "comparison", "prefs", required_responses=2)
    tenant.client.post(
        "/v1/projects/prefs/quality", json={"confidence_target": 0.6, "max_responses": 3}
    )
    task_id = create_task(tenant.client, "comparison", "prefs", rating_scale={"min": 1, "max": 7})[
        "task_id"
    ]
    workers = [make_worker(tenant, projects=("prefs",)) for _ in range(3)]

    # Both prefer the first answer, but one rates it 7 and the other 1: the rating is unsure.
    for worker, rating in zip(workers[:2], (7, 1), strict=True):
        result = worker.submit(
            worker.next().json()["assignment_id"], {"preferred": 0, "rating": rating}
        )
        assert result.json()["task_completed"] is False
    pending = tenant.client.get(f"/v1/task/{task_id}").json()
    assert (pending["status"], pending["required_responses"]) == ("pending", 3)

    workers[2].submit(workers[2].next().json()["assignment_id"], {"preferred": 0, "rating": 4})
    task = tenant.client.get(f"/v1/task/{task_id}").json()

    # Newcomers are trusted at the prior, 0.75; two answers and a tie are three options.
    preferred = 0.75**3 / (0.75**3 + 2 * 0.125**3)
    assert task["status"] == "completed"
    assert task["response"] == {
        "preferred": 0,
        "rating": 4,
        "confidence": {"preferred": round(preferred, 6), "rating": round(2 / 3, 6)},
    }
    schema = tenant.client.get("/openapi.json").json()["components"]["schemas"]["TaskRead"]
    confidence = schema["properties"]["response"]["properties"]["confidence"]
    assert confidence["additionalProperties"] == {"type": "number", "minimum": 0, "maximum": 1}
