"""Qualifications: earned by a test scored with the task type's ``score``, granted, revoked."""

from tests.dispatch.conftest import categorization_project

CATEGORIES = {"categories": ["good", "bad"]}
TEST = {
    "name": "sentiment-test",
    "task_type": "categorization",
    "pass_mark": 0.75,
    "max_attempts": 2,
    "test_items": [
        {"params": {"attachment": text, **CATEGORIES}, "gold": {"category": answer}}
        for text, answer in (
            ("Loved it", "good"),
            ("Awful", "bad"),
            ("Great value", "good"),
            ("Never again", "bad"),
        )
    ],
}


def _questions(worker, qualification_id):
    test = worker.client.get(f"/v1/worker/qualifications/{qualification_id}/test")
    assert test.status_code == 200, test.text
    return test.json()


def _answer(worker, qualification_id, answers):
    return worker.client.post(
        f"/v1/worker/qualifications/{qualification_id}/test", json={"answers": answers}
    )


def test_passing_the_test_opens_the_project(tenant, make_worker):
    categorization_project(tenant, tasks=1)
    qualification = tenant.client.post("/v1/qualifications", json=TEST).json()
    assert qualification["test_size"] == 4
    tenant.client.patch(
        "/v1/projects/sentiment/workforce", json={"required_qualifications": ["sentiment-test"]}
    )
    worker = make_worker(tenant, projects=("sentiment",))
    assert worker.next().status_code == 204

    test = _questions(worker, qualification["id"])
    assert "gold" not in str(test)
    assert [q["params"]["attachment"] for q in test["questions"]] == [
        "Loved it",
        "Awful",
        "Great value",
        "Never again",
    ]
    # Three of four right: 0.75 reaches the pass mark.
    answers = dict(
        zip(
            [q["item_id"] for q in test["questions"]],
            [{"category": c} for c in ("good", "bad", "good", "good")],
            strict=True,
        )
    )
    result = _answer(worker, qualification["id"], answers)
    assert result.json() == {"score": 0.75, "pass_mark": 0.75, "passed": True, "attempts_left": 1}
    assert worker.next().status_code == 200


def test_failing_uses_an_attempt_and_attempts_run_out(tenant, make_worker):
    qualification = tenant.client.post("/v1/qualifications", json=TEST).json()
    worker = make_worker(tenant)
    items = [q["item_id"] for q in _questions(worker, qualification["id"])["questions"]]
    wrong = {item: {"category": "good"} for item in items}

    first = _answer(worker, qualification["id"], wrong).json()
    assert first == {"score": 0.5, "pass_mark": 0.75, "passed": False, "attempts_left": 1}
    _answer(worker, qualification["id"], wrong)
    third = _answer(worker, qualification["id"], wrong)
    assert third.status_code == 403
    assert third.json()["error"] == "no attempts left at the 'sentiment-test' test"
    (standing,) = worker.client.get("/v1/worker/qualifications").json()
    assert (standing["held"], standing["attempts"], standing["last_score"]) == (False, 2, 0.5)


def test_every_question_needs_a_valid_answer(tenant, make_worker):
    qualification = tenant.client.post("/v1/qualifications", json=TEST).json()
    worker = make_worker(tenant)
    items = [q["item_id"] for q in _questions(worker, qualification["id"])["questions"]]
    partial = _answer(worker, qualification["id"], {items[0]: {"category": "good"}})
    assert partial.status_code == 400
    assert partial.json()["error"] == f"answers.{items[1]}: every question needs an answer"
    invalid = _answer(worker, qualification["id"], {item: {"category": "meh"} for item in items})
    assert invalid.status_code == 400
    assert "'meh' is not one of" in invalid.json()["error"]


def test_a_test_with_a_wrong_gold_answer_is_refused(tenant):
    broken = {**TEST, "test_items": [{"params": {"attachment": "x", **CATEGORIES}, "gold": {}}]}
    response = tenant.client.post("/v1/qualifications", json=broken)
    assert response.status_code == 400
    assert response.json()["error"].startswith("test_items.0.gold")


def test_revoking_a_passed_qualification_closes_the_project(tenant, make_worker):
    categorization_project(tenant, tasks=2)
    qualification = tenant.client.post("/v1/qualifications", json=TEST).json()
    tenant.client.patch(
        "/v1/projects/sentiment/workforce", json={"required_qualifications": ["sentiment-test"]}
    )
    worker = make_worker(tenant, projects=("sentiment",))
    test = _questions(worker, qualification["id"])
    answers = {q["item_id"]: TEST["test_items"][i]["gold"] for i, q in enumerate(test["questions"])}
    assert _answer(worker, qualification["id"], answers).json()["passed"] is True
    assert worker.next().status_code == 200

    revoke = tenant.client.delete(f"/v1/workers/{worker.id}/qualifications/{qualification['id']}")
    assert revoke.status_code == 204
    assert worker.next().status_code == 204
