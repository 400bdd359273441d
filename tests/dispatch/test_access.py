"""Who gets which task: status, qualifications, pools, test keys, batches, tenant walls."""

import httpx

from tests.dispatch.conftest import add_task, categorization_project

GOOD = {"category": "good"}


def test_paused_worker_gets_no_task_and_its_lease_returns(tenant, make_worker):
    categorization_project(tenant, tasks=1)
    paused = make_worker(tenant, projects=("sentiment",))
    other = make_worker(tenant, projects=("sentiment",))
    assert paused.next().status_code == 200

    response = tenant.client.post(f"/v1/workers/{paused.id}/status", json={"status": "paused"})
    assert response.status_code == 200
    assert response.json()["status"] == "paused"

    refused = paused.next()
    assert refused.status_code == 403
    assert refused.json() == {
        "status_code": 403,
        "error": "your account is paused; no tasks are handed out",
    }
    assert other.next().status_code == 200, "the paused worker's lease came back to the queue"


def test_worker_without_the_qualification_gets_none_of_the_projects_tasks(tenant, make_worker):
    project_id, _ = categorization_project(tenant, tasks=2)
    qualification = tenant.client.post("/v1/qualifications", json={"name": "sentiment-expert"})
    tenant.client.patch(
        "/v1/projects/sentiment/workforce", json={"required_qualifications": ["sentiment-expert"]}
    )
    worker = make_worker(tenant, projects=("sentiment",))

    assert worker.next().status_code == 204
    refused = worker.next(project_id)
    assert refused.status_code == 403
    assert refused.json()["error"] == "this project requires the qualification 'sentiment-expert'"
    (listed,) = worker.client.get("/v1/worker/projects").json()
    assert listed["qualified"] is False
    assert listed["missing_qualifications"] == ["sentiment-expert"]

    grant = f"/v1/workers/{worker.id}/qualifications/{qualification.json()['id']}"
    assert tenant.client.put(grant).status_code == 204
    assert worker.next().status_code == 200

    assert tenant.client.delete(grant).status_code == 204
    assert worker.next().status_code == 204


def test_worker_of_another_organizations_pool_sees_nothing(make_tenant, make_worker):
    customer, stranger_org = make_tenant(), make_tenant()
    project_id, _ = categorization_project(customer, tasks=3)
    customer.client.patch("/v1/projects/sentiment/workforce", json={"access": "open"})
    stranger = make_worker(stranger_org)

    assert stranger.client.get("/v1/worker/projects").json() == []
    assert stranger.next().status_code == 204
    hidden = stranger.next(project_id)
    assert hidden.status_code == 404
    assert hidden.json() == {"status_code": 404, "error": f"no project {project_id!r}"}


def test_open_project_reaches_the_public_pool_and_the_own_pool(tenant, make_worker):
    # The public pool is shared by every test of the run: ask for this project only.
    project_id, _ = categorization_project(tenant, tasks=2)
    public, own = make_worker(None), make_worker(tenant)
    assert public.next(project_id).status_code == 404
    assert own.next(project_id).status_code == 404

    tenant.client.patch("/v1/projects/sentiment/workforce", json={"access": "open"})
    assert public.next(project_id).json()["project_id"] == project_id
    assert own.next(project_id).json()["project_id"] == project_id


def test_operator_endpoints_hold_the_tenant_wall(make_tenant, make_worker):
    owner, intruder = make_tenant(), make_tenant()
    categorization_project(owner)
    worker = make_worker(owner)
    qualification = owner.client.post("/v1/qualifications", json={"name": "q"}).json()
    intruder_qualification = intruder.client.post("/v1/qualifications", json={"name": "q"}).json()
    categorization_project(intruder, "mine")

    not_found = [
        intruder.client.get(f"/v1/workers/{worker.id}"),
        intruder.client.post(f"/v1/workers/{worker.id}/status", json={"status": "banned"}),
        intruder.client.put(
            f"/v1/workers/{worker.id}/qualifications/{intruder_qualification['id']}"
        ),
        owner.client.put(f"/v1/workers/{worker.id}/qualifications/{intruder_qualification['id']}"),
        intruder.client.post("/v1/projects/mine/members", json={"worker_id": worker.id}),
        intruder.client.get("/v1/projects/sentiment/workforce"),
        intruder.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 1}),
        intruder.client.get(f"/v1/workers/{worker.id}/ledger"),
        intruder.client.post(
            f"/v1/workers/{worker.id}/adjustments",
            json={"kind": "bonus", "cents": 100, "note": "free money"},
        ),
    ]
    assert [r.status_code for r in not_found] == [404] * len(not_found)
    assert intruder.client.get("/v1/workers").json() == []
    assert [q["id"] for q in owner.client.get("/v1/qualifications").json()] == [qualification["id"]]
    assert owner.client.get(f"/v1/workers/{worker.id}").json()["status"] == "active"


def test_tasks_of_test_keys_are_never_dispatched(server, tenant, make_worker):
    categorization_project(tenant)
    test_key = tenant.client.post("/v1/keys", json={"kind": "test"}).json()["secret"]
    with httpx.Client(base_url=server.url, auth=(test_key, "")) as sandbox:
        body = {"project": "sentiment", "attachment": "x", "categories": ["good", "bad"]}
        assert sandbox.post("/v1/task/categorization", json=body).status_code == 200
    worker = make_worker(tenant, projects=("sentiment",))
    assert worker.next().status_code == 204


def test_batch_tasks_wait_until_the_batch_is_finalized(tenant, make_worker):
    categorization_project(tenant)
    tenant.client.post("/v1/batches", json={"project": "sentiment", "name": "b1"})
    task_id = add_task(tenant, batch="b1")
    worker = make_worker(tenant, projects=("sentiment",))
    assert worker.next().status_code == 204
    tenant.client.post("/v1/batches/b1/finalize")
    assert worker.next().json()["task_id"] == task_id


def test_redundancy_takes_distinct_workers_and_consolidates(tenant, make_worker):
    _, (task_id,) = categorization_project(tenant, tasks=1, required_responses=3)
    workers = [make_worker(tenant, projects=("sentiment",)) for _ in range(4)]
    leases = [w.next() for w in workers]
    assert [r.status_code for r in leases] == [200, 200, 200, 204]
    assert workers[0].next().status_code == 204, "never the same task twice to one worker"

    answers = [GOOD, GOOD, {"category": "bad"}]
    results = [
        w.submit(lease.json()["assignment_id"], answer).json()
        for w, lease, answer in zip(workers, leases, answers, strict=False)
    ]
    assert [r["task_completed"] for r in results] == [False, False, True]
    task = tenant.client.get(f"/v1/task/{task_id}").json()
    assert task["status"] == "completed"
    assert task["response"]["category"] == GOOD["category"]


def test_skip_and_release_give_the_task_to_someone_else(tenant, make_worker):
    _, (task_id,) = categorization_project(tenant, tasks=1)
    first, second, third = (make_worker(tenant, projects=("sentiment",)) for _ in range(3))

    lease = first.next().json()
    skipped = first.client.post(
        f"/v1/worker/assignments/{lease['assignment_id']}/skip", json={"reason": "image broken"}
    )
    assert skipped.json()["state"] == "skipped"
    assert first.next().status_code == 204

    lease = second.next().json()
    assert lease["task_id"] == task_id
    released = second.client.post(f"/v1/worker/assignments/{lease['assignment_id']}/release")
    assert released.json()["state"] == "released"
    again = second.client.post(f"/v1/worker/assignments/{lease['assignment_id']}/release")
    assert again.status_code == 409

    assert third.next().json()["task_id"] == task_id


def test_a_response_the_task_type_refuses_is_400_naming_the_problem(tenant, make_worker):
    categorization_project(tenant, tasks=1)
    worker = make_worker(tenant, projects=("sentiment",))
    lease = worker.next().json()
    refused = worker.submit(lease["assignment_id"], {"category": "meh"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "category: 'meh' is not one of ['good', 'bad']"
    unknown = worker.submit(lease["assignment_id"], {"category": "good", "mood": 3})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "response.mood: unknown field"
    assert worker.submit(lease["assignment_id"], GOOD).status_code == 200


def test_history_lists_my_assignments_newest_first(tenant, make_worker):
    categorization_project(tenant, tasks=3)
    worker = make_worker(tenant, projects=("sentiment",))
    leases = [worker.next().json() for _ in range(3)]
    worker.submit(leases[0]["assignment_id"], GOOD)
    page = worker.client.get("/v1/worker/assignments", params={"limit": 2}).json()
    assert [a["assignment_id"] for a in page["docs"]] == [
        leases[2]["assignment_id"],
        leases[1]["assignment_id"],
    ]
    rest = worker.client.get(
        "/v1/worker/assignments", params={"limit": 2, "next_token": page["next_token"]}
    ).json()
    assert [(a["state"], a["response"]) for a in rest["docs"]] == [("submitted", GOOD)]
    assert rest["next_token"] is None
