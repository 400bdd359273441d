"""A task nobody can do: workers skip it as broken, and enough reports fail it for the customer
(status ``error``, the reasons in ``response``, a ``task.error`` callback) instead of it waiting
in the queue forever."""

from tests.dispatch.conftest import add_task, categorization_project

GOOD = {"category": "good"}


def _skip(worker, assignment_id: str, reason: str, *, broken: bool):
    skipped = worker.client.post(
        f"/v1/worker/assignments/{assignment_id}/skip", json={"reason": reason, "broken": broken}
    )
    assert skipped.status_code == 200, skipped.text
    return skipped.json()


def test_enough_broken_reports_fail_the_task_and_tell_the_customer(tenant, make_worker):
    categorization_project(tenant)
    configured = tenant.client.patch(
        "/v1/projects/sentiment/workforce", json={"broken_reports_to_fail": 2}
    )
    assert configured.json()["broken_reports_to_fail"] == 2
    tenant.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 5})
    task_id = add_task(tenant, required_responses=3, callback_url="https://example.com/cb")
    labeler, declining, reporter, second_reporter, late = (
        make_worker(tenant, projects=("sentiment",)) for _ in range(5)
    )

    labeler.submit(labeler.next().json()["assignment_id"], GOOD)
    _skip(declining, declining.next().json()["assignment_id"], "not my language", broken=False)
    _skip(reporter, reporter.next().json()["assignment_id"], "the text is empty", broken=True)
    assert tenant.client.get(f"/v1/task/{task_id}").json()["status"] == "pending", (
        "one report, and a plain skip, are not enough"
    )
    _skip(
        second_reporter,
        second_reporter.next().json()["assignment_id"],
        "empty attachment",
        broken=True,
    )

    task = tenant.client.get(f"/v1/task/{task_id}").json()
    assert task["status"] == "error"
    assert task["response"] == {
        "error": "2 workers reported this task broken",
        "reports": ["the text is empty", "empty attachment"],
    }
    assert late.next().status_code == 204, "a failed task is not handed out again"
    events = tenant.client.get("/v1/callbacks", params={"task_id": task_id}).json()["docs"]
    assert [e["kind"] for e in events] == ["task.error"]
    earnings = labeler.client.get("/v1/worker/earnings").json()
    assert (earnings["balance_cents"], earnings["pending_cents"]) == (5, 0), (
        "the answer given in good faith is paid"
    )
    listed = tenant.client.get("/v1/tasks", params={"project": "sentiment", "status": "error"})
    assert [t["task_id"] for t in listed.json()["docs"]] == [task_id]


def test_reports_count_once_per_worker_and_the_default_needs_three(tenant, make_worker):
    categorization_project(tenant)
    assert (
        tenant.client.get("/v1/projects/sentiment/workforce").json()["broken_reports_to_fail"] == 3
    )
    task_id = add_task(tenant)
    for number in range(2):
        worker = make_worker(tenant, projects=("sentiment",))
        _skip(worker, worker.next().json()["assignment_id"], f"broken {number}", broken=True)
    assert tenant.client.get(f"/v1/task/{task_id}").json()["status"] == "pending"

    third = make_worker(tenant, projects=("sentiment",))
    skipped = _skip(third, third.next().json()["assignment_id"], "broken 2", broken=True)

    assert skipped["state"] == "skipped"
    assert tenant.client.get(f"/v1/task/{task_id}").json()["status"] == "error"
    refused = tenant.client.patch(
        "/v1/projects/sentiment/workforce", json={"broken_reports_to_fail": 0}
    )
    assert refused.status_code == 400 and "broken_reports_to_fail" in refused.text
