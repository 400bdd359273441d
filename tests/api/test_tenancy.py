"""Tenants are walls: every /v1 endpoint answers 404 (never data) for another organization's
project, batch, task, key or evaluation campaign, and lists never include another organization's
rows."""

import pytest
from fastapi.routing import APIRoute

from quorum.app import create_app
from quorum.settings import Settings
from tests.factories import create_project, create_task

PROMPT = {"category": "general", "text": "x"}
GOLD = {"prompt": "p", "preferred": "right", "rejected": "wrong"}
# Every customer endpoint that addresses one object, with a body that would be valid for the owner.
ADDRESSED = [
    ("GET", "/v1/projects/{project}", None),
    ("POST", "/v1/projects/{project}/setParams", {"instruction": "x"}),
    ("GET", "/v1/batches/{batch}", None),
    ("POST", "/v1/batches/{batch}/finalize", None),
    ("GET", "/v1/batches/{batch}/status", None),
    ("POST", "/v1/batches/{batch}/setMetadata", {"k": 1}),
    ("GET", "/v1/task/{task_id}", None),
    ("POST", "/v1/task/{task_id}/cancel", None),
    ("POST", "/v1/task/{task_id}/setMetadata", {"k": 1}),
    ("POST", "/v1/task/{task_id}/unique_id", {"unique_id": "stolen"}),
    ("DELETE", "/v1/task/{task_id}/unique_id", None),
    ("POST", "/v1/task/{task_id}/tags", ["t"]),
    ("PUT", "/v1/task/{task_id}/tags", ["t"]),
    ("DELETE", "/v1/task/{task_id}/tags", ["t"]),
    ("POST", "/v1/keys/{key_id}/revoke", None),
    ("GET", "/v1/projects/{project}/export?format=jsonl", None),
    ("GET", "/v1/exports/{export_id}", None),
    ("GET", "/v1/exports/{export_id}/download", None),
    ("GET", "/v1/evaluation/campaigns/{campaign}", None),
    ("POST", "/v1/evaluation/campaigns/{campaign}/prompts", {"prompts": [PROMPT]}),
    ("POST", "/v1/evaluation/campaigns/{campaign}/gold", {"gold": [GOLD]}),
    ("GET", "/v1/evaluation/campaigns/{campaign}/gold", None),
    ("POST", "/v1/evaluation/campaigns/{campaign}/owners", {"name": "spy"}),
    ("POST", "/v1/evaluation/campaigns/{campaign}/owners/{owner_id}/revoke", None),
    ("POST", "/v1/evaluation/campaigns/{campaign}/owners/{owner_id}/rotate", {}),
    ("GET", "/v1/evaluation/campaigns/{campaign}/prompt-issues", None),
    ("POST", "/v1/evaluation/campaigns/{campaign}/comparisons", {"comparisons": 1}),
    ("GET", "/v1/evaluation/campaigns/{campaign}/leaderboard", None),
    ("GET", "/v1/evaluation/campaigns/{campaign}/leaderboard.svg", None),
    ("GET", "/v1/evaluation/campaigns/{campaign}/rechecks/sample?submission_id=s", None),
    (
        "POST",
        "/v1/evaluation/campaigns/{campaign}/rechecks",
        {"submission_id": "s", "outputs": [{"prompt_id": "p", "output": "o"}]},
    ),
]
# Endpoints that create into a named project or batch, and lists.
CREATING = [
    ("POST", "/v1/task/chat", {"project": "{project}"}),
    ("POST", "/v1/task/chat", {"batch": "{batch}"}),
    ("POST", "/v1/batches", {"project": "{project}", "name": "intruder-batch"}),
    ("POST", "/v1/exports", {"project": "{project}", "format": "jsonl"}),
]
LISTS = [
    "/v1/projects",
    "/v1/batches",
    "/v1/tasks",
    "/v1/keys",
    "/v1/evaluation/campaigns",
    "/v1/exports",
]


@pytest.fixture
def victim(make_tenant):
    """An organization with a project, a batch, a task and a second key."""
    owner = make_tenant()
    create_project(owner.client, "chat", "secret-project")
    owner.client.post("/v1/batches", json={"project": "secret-project", "name": "secret-batch"})
    task = create_task(
        owner.client,
        "chat",
        "secret-project",
        batch="secret-batch",
        unique_id="secret-uid",
        metadata={"secret": True},
    )
    key = owner.client.post("/v1/keys", json={"name": "spare"}).json()
    export = owner.client.post("/v1/exports", json={"project": "secret-project", "format": "jsonl"})
    campaign = {"name": "secret-campaign", "categories": ["general"]}
    owner.campaign = owner.client.post("/v1/evaluation/campaigns", json=campaign).json()
    model_owner = owner.client.post(
        "/v1/evaluation/campaigns/secret-campaign/owners", json={"name": "lab"}
    ).json()
    owner.ids = {
        "export_id": export.json()["id"],
        "project": "secret-project",
        "batch": "secret-batch",
        "task_id": task["task_id"],
        "key_id": key["id"],
        "campaign": "secret-campaign",
        "owner_id": model_owner["id"],
    }
    owner.task = task
    return owner


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body"), ADDRESSED + CREATING)
def test_other_organization_gets_404_and_changes_nothing(victim, make_tenant, method, path, body):
    intruder = make_tenant()
    response = intruder.client.request(
        method, _fill(path, victim.ids), json=_fill(body, victim.ids) if body is not None else None
    )
    assert response.status_code == 404, response.text
    text = response.text
    assert victim.task["task_id"] not in text or "no task" in text
    for named in ("'secret-project'", "'secret-batch'", "'secret-campaign'"):
        text = text.replace(named, "")
    assert "secret" not in text
    after = victim.client.get(f"/v1/task/{victim.ids['task_id']}").json()
    assert after == victim.task
    assert victim.client.get("/v1/batches/secret-batch").json()["status"] == "staging"
    assert (
        victim.client.get("/v1/projects/secret-project").json()["param_history"][-1]["version"] == 0
    )
    campaign = victim.client.get("/v1/evaluation/campaigns/secret-campaign").json()
    assert campaign == victim.campaign


@pytest.mark.parametrize("path", LISTS)
def test_lists_show_only_own_rows(victim, make_tenant, path):
    intruder = make_tenant()
    listed = intruder.client.get(path).json()
    rows = listed if isinstance(listed, list) else listed["docs"]
    assert all(victim.ids["task_id"] != r.get("task_id") for r in rows)
    assert "secret" not in str(rows)
    assert intruder.client.get("/v1/tasks", params={"unique_id": "secret-uid"}).json()["total"] == 0
    assert (
        intruder.client.get("/v1/tasks", params={"project": "secret-project"}).json()["total"] == 0
    )


def test_same_names_in_two_organizations_do_not_collide(make_tenant):
    first, second = make_tenant(), make_tenant()
    for tenant in (first, second):
        create_project(tenant.client, "chat", "shared-name")
        create_task(tenant.client, "chat", "shared-name", unique_id="shared-uid")
    for tenant in (first, second):
        assert (
            tenant.client.get("/v1/tasks", params={"unique_id": "shared-uid"}).json()["total"] == 1
        )


def _api_routes(routes):
    """Every APIRoute, looking inside included routers (FastAPI wraps them)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def test_every_customer_endpoint_is_in_the_isolation_table():
    app = create_app(Settings(database_url="sqlite://"))
    covered = {(m, p.partition("?")[0]) for m, p, _ in ADDRESSED + CREATING}
    covered |= {("GET", p) for p in LISTS}
    # These create in the caller's own organization.
    covered |= {
        ("POST", "/v1/projects"),
        ("POST", "/v1/keys"),
        ("POST", "/v1/evaluation/campaigns"),
    }
    covered |= {
        ("POST", f"/v1/task/{t}")
        for t in ("imageannotation", "categorization", "textcollection", "comparison")
    }
    checked = 0
    for route in _api_routes(app.routes):
        if not set(route.tags or []) & {"customer API", "API keys", "evaluation", "exports"}:
            continue
        path = route.path.replace("{name}", "{project}" if "projects" in route.path else "{batch}")
        for method in route.methods:
            assert (method, path) in covered, (method, route.path)
            checked += 1
    assert checked >= len(covered)


# Platform staff endpoints that address a worker, a qualification or a project: an operator
# reaching for an organization's private pool or a private project gets 404.
STAFF_ADDRESSED = [
    ("PUT", "/v1/staff/workers/{worker_id}/role", {"role": "reviewer"}),
    ("POST", "/v1/staff/workers/{worker_id}/status", {"status": "banned"}),
    ("PUT", "/v1/staff/workers/{worker_id}/qualifications/{qualification_id}", None),
    ("DELETE", "/v1/staff/workers/{worker_id}/qualifications/{qualification_id}", None),
    ("GET", "/v1/staff/projects/{project_id}/gold", None),
    ("POST", "/v1/staff/projects/{project_id}/gold", {"params": {"min_turns": 1}, "answer": {}}),
    (
        "POST",
        "/v1/staff/workers/{worker_id}/adjustments",
        {"kind": "bonus", "cents": 1, "note": "n", "project_id": "{project_id}"},
    ),
    ("GET", "/v1/staff/payouts/{run_id}/csv", None),
]
STAFF_LISTS = ["/v1/staff/workers", "/v1/staff/projects", "/v1/staff/payouts"]


@pytest.fixture
def private_pool(victim, make_worker):
    """The victim's private worker, qualification and payout run, beside its private project."""
    worker = make_worker(victim)
    qualification = victim.client.post("/v1/qualifications", json={"name": "secret-q"}).json()
    run = victim.client.post("/v1/payouts").json()
    project = victim.client.get("/v1/projects/secret-project").json()
    victim.ids |= {
        "worker_id": worker.id,
        "qualification_id": qualification["id"],
        "project_id": project["id"],
        "run_id": run["id"],
    }
    return victim


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ADDRESSED)
def test_operator_gets_404_on_private_pools_and_projects(
    private_pool, operator, method, path, body
):
    response = operator.request(
        method,
        _fill(path, private_pool.ids),
        json=_fill(body, private_pool.ids) if body is not None else None,
    )
    assert response.status_code == 404, response.text
    assert "secret" not in response.text
    entries = private_pool.client.get("/v1/audit").json()["docs"]
    assert all(e["actor_type"] == "api_key" for e in entries)
    worker = private_pool.client.get(f"/v1/workers/{private_pool.ids['worker_id']}").json()
    assert (worker["status"], worker["role"]) == ("active", "worker")
    assert private_pool.client.get("/v1/projects/secret-project/gold").json() == []


@pytest.mark.parametrize("path", STAFF_LISTS)
def test_staff_lists_show_no_private_rows(private_pool, operator, path):
    listed = operator.get(path).json()
    assert private_pool.ids["worker_id"] not in str(listed)
    assert private_pool.ids["project_id"] not in str(listed)
    assert private_pool.ids["run_id"] not in str(listed)


def test_every_staff_endpoint_is_in_the_isolation_table():
    app = create_app(Settings(database_url="sqlite://"))
    covered = {(m, p) for m, p, _ in STAFF_ADDRESSED} | {("GET", p) for p in STAFF_LISTS}
    # Own session, the staff log, creating into the public pool, paying it: nothing private.
    covered |= {
        ("POST", "/v1/staff/login"),
        ("POST", "/v1/staff/logout"),
        ("GET", "/v1/staff/me"),
        ("GET", "/v1/staff/audit"),
        ("POST", "/v1/staff/workers"),
        ("POST", "/v1/staff/payouts"),
    }
    seen = {
        (method, route.path)
        for route in _api_routes(app.routes)
        if "platform staff" in (route.tags or [])
        for method in route.methods
    }
    assert seen == covered
