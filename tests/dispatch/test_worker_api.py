"""The worker API end to end: log in, take tasks, submit, skip, release, history, earnings."""

import re

import httpx

from tests.dispatch.conftest import PASSWORD, add_task, categorization_project

GOOD = {"category": "good"}


def test_worker_takes_a_task_and_the_customer_gets_the_response(tenant, make_worker):
    project_id, (task_id,) = categorization_project(tenant, tasks=1)
    worker = make_worker(tenant, projects=("sentiment",))

    leased = worker.next()
    assert leased.status_code == 200, leased.text
    body = leased.json()
    assert body["task_id"] == task_id
    assert body["project"] == "sentiment"
    assert body["project_id"] == project_id
    assert body["state"] == "active"
    assert body["params"]["categories"] == ["good", "bad"]
    assert "metadata" not in body and "callback_url" not in body

    submitted = worker.submit(body["assignment_id"], GOOD)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json() == {
        "assignment_id": body["assignment_id"],
        "task_id": task_id,
        "state": "submitted",
        "task_completed": True,
        "pending_cents": 0,
    }
    task = tenant.client.get(f"/v1/task/{task_id}").json()
    assert task["status"] == "completed"
    assert task["response"]["category"] == GOOD["category"]


def test_nothing_to_do_is_204(tenant, make_worker):
    categorization_project(tenant)
    worker = make_worker(tenant, projects=("sentiment",))
    assert worker.next().status_code == 204


def test_worker_api_needs_a_session(server):
    with httpx.Client(base_url=server.url) as anonymous:
        response = anonymous.post("/v1/worker/tasks/next", json={})
    assert response.status_code == 401
    assert response.json()["status_code"] == 401


def test_session_cookie_authenticates_the_web_app(server, tenant, make_worker):
    categorization_project(tenant, tasks=1)
    worker = make_worker(tenant, projects=("sentiment",))
    with httpx.Client(base_url=server.url) as browser:
        login = browser.post("/v1/worker/login", json={"email": worker.email, "password": PASSWORD})
        assert login.status_code == 200
        assert "quorum_worker_session" in browser.cookies
        assert browser.get("/v1/worker/me").json()["id"] == worker.id
        # A change made with the cookie alone could come from any site: it needs the pages' token.
        assert browser.post("/v1/worker/logout").status_code == 403
        token = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/work").text)
        logout = browser.post("/v1/worker/logout", headers={"X-CSRF-Token": token.group(1)})
        assert logout.status_code == 204
    assert worker.client.get("/v1/worker/me").status_code == 200


def test_wrong_password_is_refused(server, tenant, make_worker):
    worker = make_worker(tenant)
    with httpx.Client(base_url=server.url) as anonymous:
        response = anonymous.post(
            "/v1/worker/login", json={"email": worker.email, "password": "not the password"}
        )
    assert response.status_code == 401
    assert response.json() == {"status_code": 401, "error": "wrong email or password"}


def test_invitation_is_used_once(server, tenant):
    invited = tenant.client.post("/v1/workers", json={"email": "once@example.com"}).json()
    body = {"invitation_token": invited["invitation_token"], "password": PASSWORD}
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.post("/v1/worker/signup", json=body).status_code == 200
        again = anonymous.post("/v1/worker/signup", json=body)
    assert again.status_code == 401
    assert again.json()["error"] == "the invitation is invalid, already used, or expired"


def test_priority_then_age(tenant, make_worker):
    categorization_project(tenant)
    ids = {}
    for name, priority in (("low", -5), ("high", 10), ("older", 0), ("newer", 0)):
        ids[name] = add_task(tenant, priority=priority)
    worker = make_worker(tenant, projects=("sentiment",))
    order = []
    while (leased := worker.next()).status_code == 200:
        order.append(leased.json()["task_id"])
    assert order == [ids["high"], ids["older"], ids["newer"], ids["low"]]


def test_a_worker_cannot_hoard_more_live_leases_than_allowed(tenant, make_worker, server):
    limit = server.server.config.app.state.settings.max_live_leases_per_worker
    categorization_project(tenant, tasks=limit + 2)
    worker = make_worker(tenant, projects=("sentiment",))
    held = [worker.next().json()["assignment_id"] for _ in range(limit)]
    refused = worker.next()
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "5"
    assert f"you hold {limit} live leases" in refused.json()["error"]
    assert worker.submit(held[0], GOOD).status_code == 200
    assert worker.next().status_code == 200
