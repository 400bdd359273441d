"""Review levels over the worker API: only a reviewer's accept (or fix) delivers a task and earns
the pay; a rejection sends the task back to the queue and takes the pay back."""

import pytest

from tests.dispatch.conftest import categorization_project, make_worker  # noqa: F401

GOOD = {"category": "good"}


@pytest.fixture
def reviewed_project(tenant, make_worker):  # noqa: F811
    """A one-task project with review levels, a 25-cent rate, one labeler and two reviewers."""

    def build(levels: int = 1):
        _, (task_id,) = categorization_project(tenant, tasks=1)
        qualification = tenant.client.post("/v1/qualifications", json={"name": "reviewer"}).json()
        configured = tenant.client.post(
            "/v1/projects/sentiment/quality",
            json={"review_levels": levels, "reviewer_qualification": "reviewer"},
        )
        assert configured.status_code == 200, configured.text
        tenant.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 25})
        labeler = make_worker(tenant, projects=("sentiment",))
        reviewers = [make_worker(tenant, projects=("sentiment",)) for _ in range(2)]
        for reviewer in reviewers:
            made = tenant.client.put(f"/v1/workers/{reviewer.id}/role", json={"role": "reviewer"})
            assert made.json()["role"] == "reviewer", made.text
            granted = tenant.client.put(
                f"/v1/workers/{reviewer.id}/qualifications/{qualification['id']}"
            )
            assert granted.status_code == 204, granted.text
        lease = labeler.next().json()
        submitted = labeler.submit(lease["assignment_id"], GOOD).json()
        assert submitted["task_completed"] is False, "a labeler never completes a reviewed task"
        return task_id, labeler, reviewers

    return build


def next_review(worker):
    return worker.client.post("/v1/worker/reviews/next", json={})


def decide(worker, review_id, **decision):
    return worker.client.post(f"/v1/worker/reviews/{review_id}/decision", json=decision)


def earnings(worker):
    return worker.client.get("/v1/worker/earnings").json()


def test_submitted_work_waits_for_review_and_is_not_yet_earned(tenant, reviewed_project):
    task_id, labeler, (reviewer, _) = reviewed_project()
    assert tenant.client.get(f"/v1/task/{task_id}").json()["status"] == "pending"
    assert (earnings(labeler)["pending_cents"], earnings(labeler)["balance_cents"]) == (25, 0)
    refused = next_review(labeler)
    assert refused.status_code == 403, "a labeler is not a reviewer"
    assert refused.json()["error"] == "review work needs the reviewer role; ask your operator"

    review = next_review(reviewer)
    assert review.status_code == 200, review.text
    body = review.json()
    assert (body["task_id"], body["level"], body["state"]) == (task_id, 1, "open")
    assert body["response"]["category"] == "good"
    assert body["responses"] == [GOOD]


def test_accepting_delivers_the_task_and_earns_the_pay(tenant, reviewed_project):
    task_id, labeler, (reviewer, _) = reviewed_project()
    review = next_review(reviewer).json()

    decided = decide(reviewer, review["review_id"], action="accept")

    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "accepted"
    task = tenant.client.get(f"/v1/task/{task_id}").json()
    assert (task["status"], task["response"]["category"]) == ("completed", "good")
    assert (earnings(labeler)["pending_cents"], earnings(labeler)["balance_cents"]) == (0, 25)


def test_rejecting_requeues_the_task_and_claws_back_the_pay(
    tenant,
    reviewed_project,
    make_worker,  # noqa: F811
):
    task_id, labeler, (reviewer, _) = reviewed_project()
    review = next_review(reviewer).json()

    assert decide(reviewer, review["review_id"], action="reject").status_code == 400
    decided = decide(reviewer, review["review_id"], action="reject", reason="it is bad")

    assert decided.status_code == 200, decided.text
    assert (decided.json()["state"], decided.json()["reason"]) == ("rejected", "it is bad")
    task = tenant.client.get(f"/v1/task/{task_id}").json()
    assert (task["status"], task["response"]) == ("pending", None)
    assert (earnings(labeler)["pending_cents"], earnings(labeler)["balance_cents"]) == (0, 0)
    history = labeler.client.get("/v1/worker/assignments").json()["docs"]
    assert [a["state"] for a in history] == ["rejected"]
    newcomer = make_worker(tenant, projects=("sentiment",))
    assert newcomer.next().json()["task_id"] == task_id, "the task is back in the queue"
    assert decide(reviewer, review["review_id"], action="accept").status_code == 409


def test_a_fix_passes_through_every_level_and_is_what_the_customer_gets(tenant, reviewed_project):
    task_id, _, (first, second) = reviewed_project(levels=2)
    level_one = next_review(first).json()
    bad = decide(first, level_one["review_id"], action="fix", response={"category": "meh"})
    assert bad.status_code == 400 and "meh" in bad.json()["error"]
    fixed = decide(first, level_one["review_id"], action="fix", response={"category": "bad"})
    assert fixed.json()["state"] == "fixed"
    assert tenant.client.get(f"/v1/task/{task_id}").json()["status"] == "pending"
    assert next_review(first).status_code == 204, "nobody reviews the same task twice"

    level_two = next_review(second).json()
    assert (level_two["level"], level_two["response"]) == (2, {"category": "bad"})
    decide(second, level_two["review_id"], action="accept")

    task = tenant.client.get(f"/v1/task/{task_id}").json()
    assert (task["status"], task["response"]) == ("completed", {"category": "bad"})
    listed = tenant.client.get("/v1/projects/sentiment/reviews").json()
    assert [(r["level"], r["state"]) for r in listed] == [(1, "fixed"), (2, "accepted")]


def test_review_levels_need_a_reviewer_qualification(api):
    api.post("/v1/projects", json={"name": "p", "type": "categorization"})
    refused = api.post("/v1/projects/p/quality", json={"review_levels": 1})
    assert refused.status_code == 400
    assert refused.json()["field"] == "reviewer_qualification"
