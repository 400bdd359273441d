"""Roles and key scopes: every customer and operator endpoint, called with a key of every role
(and a read-only admin key), is allowed or refused with 403 exactly as the policies say; every
route authenticated by an API key goes through a policy; keys expire and rotate."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.routing import APIRoute

from quorum import Client
from quorum.accounts import service as accounts
from quorum.api.deps import get_caller, get_staff
from quorum.app import create_app
from quorum.db import transaction
from quorum.settings import Settings
from tests.factories import create_project, create_task

ROLES = ("viewer", "member", "admin", "owner")
# (method, path, body, weakest role allowed, is a write)
MATRIX = [
    ("GET", "/v1/projects", None, "viewer", False),
    ("GET", "/v1/projects/{project}", None, "viewer", False),
    ("POST", "/v1/projects", {"name": "p-{unique}", "type": "chat"}, "member", True),
    ("POST", "/v1/projects/{project}/setParams", {"instruction": "x"}, "member", True),
    ("DELETE", "/v1/projects/{doomed}", None, "admin", True),
    ("GET", "/v1/batches", None, "viewer", False),
    ("GET", "/v1/batches/{batch}", None, "viewer", False),
    ("GET", "/v1/batches/{batch}/status", None, "viewer", False),
    ("POST", "/v1/batches", {"project": "{project}", "name": "b-{unique}"}, "member", True),
    ("POST", "/v1/batches/{batch}/setMetadata", {"k": 1}, "member", True),
    ("POST", "/v1/batches/{batch}/finalize", None, "member", True),
    ("GET", "/v1/task/{task_id}", None, "viewer", False),
    ("GET", "/v1/tasks", None, "viewer", False),
    ("POST", "/v1/task/chat", {"project": "{project}", "min_turns": 1}, "member", True),
    ("POST", "/v1/task/{task_id}/setMetadata", {"k": 1}, "member", True),
    ("POST", "/v1/task/{task_id}/unique_id", {"unique_id": "u-{unique}"}, "member", True),
    ("DELETE", "/v1/task/{task_id}/unique_id", None, "member", True),
    ("POST", "/v1/task/{task_id}/tags", ["a"], "member", True),
    ("PUT", "/v1/task/{task_id}/tags", ["b"], "member", True),
    ("DELETE", "/v1/task/{task_id}/tags", ["a"], "member", True),
    ("POST", "/v1/task/{task_id}/cancel", None, "member", True),
    ("GET", "/v1/callbacks", None, "viewer", False),
    # Queuing an export only reads the work: viewers and read-only keys may.
    ("POST", "/v1/exports", {"project": "{project}", "format": "jsonl"}, "viewer", False),
    ("GET", "/v1/exports", None, "viewer", False),
    ("GET", "/v1/exports/{export_id}", None, "viewer", False),
    ("GET", "/v1/exports/{export_id}/download", None, "viewer", False),
    ("GET", "/v1/keys", None, "admin", False),
    ("POST", "/v1/keys", {"role": "viewer"}, "admin", True),
    ("POST", "/v1/keys/{spare_key}/revoke", None, "admin", True),
    ("GET", "/v1/audit", None, "admin", False),
    ("GET", "/v1/audit/export", None, "admin", False),
    ("GET", "/v1/export", None, "admin", False),
    ("GET", "/v1/workers", None, "member", False),
    ("POST", "/v1/workers", {"email": "w-{unique}@example.org"}, "admin", True),
    ("GET", "/v1/qualifications", None, "member", False),
    ("POST", "/v1/qualifications", {"name": "q-{unique}"}, "admin", True),
    ("GET", "/v1/projects/{project}/workforce", None, "member", False),
    ("PATCH", "/v1/projects/{project}/workforce", {"access": "open"}, "admin", True),
    ("GET", "/v1/pay-rates", None, "admin", False),
    ("PUT", "/v1/pay-rates/chat", {"cents": 5}, "admin", True),
    ("GET", "/v1/payouts", None, "admin", False),
    ("GET", "/v1/evaluation/campaigns", None, "viewer", False),
    ("GET", "/v1/evaluation/campaigns/{campaign}/gold", None, "viewer", False),
    (
        "POST",
        "/v1/evaluation/campaigns/{campaign}/gold",
        {"gold": [{"prompt": "p", "preferred": "right", "rejected": "wrong"}]},
        "member",
        True,
    ),
    ("POST", "/v1/evaluation/campaigns/{campaign}/owners/{owner_id}/rotate", {}, "member", True),
    ("POST", "/v1/evaluation/campaigns/{campaign}/owners/{owner_id}/revoke", None, "member", True),
    ("GET", "/v1/assist/backends/available", None, "viewer", False),
]
# Callers: every role with a full key, and an admin whose key is read-only.
CALLERS = [(role, "full") for role in ROLES] + [("admin", "read")]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids, unique=uuid.uuid4().hex[:8])
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.fixture
def organization(make_tenant, server):
    """An organization with keys of every role and scope, and work for them to touch."""
    owner = make_tenant()
    create_project(owner.client, "chat", "work")
    create_project(owner.client, "chat", "doomed")
    owner.client.post("/v1/batches", json={"project": "work", "name": "batch"})
    task = create_task(owner.client, "chat", "work")
    export = owner.client.post("/v1/exports", json={"project": "work", "format": "jsonl"}).json()
    with Client(owner.key, server.url) as sdk:
        assert sdk.wait_for_export(export["id"], timeout=30, poll_seconds=0.05).state == "succeeded"
    owner.client.post("/v1/evaluation/campaigns", json={"name": "arena", "categories": ["general"]})
    model_owner = owner.client.post(
        "/v1/evaluation/campaigns/arena/owners", json={"name": "lab"}
    ).json()
    clients = {}
    for role, scope in CALLERS:
        made = owner.client.post("/v1/keys", json={"role": role, "scope": scope})
        assert made.status_code == 200, made.text
        clients[role, scope] = httpx.Client(base_url=server.url, auth=(made.json()["secret"], ""))
    spare = owner.client.post("/v1/keys", json={"role": "viewer", "name": "spare"}).json()
    ids = {
        "project": "work",
        "doomed": "doomed",
        "batch": "batch",
        "task_id": task["task_id"],
        "campaign": "arena",
        "owner_id": model_owner["id"],
        "export_id": export["id"],
    }
    yield clients, {**ids, "spare_key": spare["id"]}
    for client in clients.values():
        client.close()


def _allowed(role: str, scope: str, weakest: str, writes: bool) -> bool:
    return ROLES.index(role) >= ROLES.index(weakest) and not (writes and scope == "read")


@pytest.mark.parametrize(("method", "path", "body", "weakest", "writes"), MATRIX)
def test_role_matrix(organization, method, path, body, weakest, writes):
    clients, ids = organization
    # Refused callers first, so that an allowed write cannot hide a refusal behind a 404.
    # The first allowed caller must succeed; later ones may meet its effects (a deleted project).
    order = sorted(CALLERS, key=lambda c: _allowed(*c, weakest, writes))
    succeeded = False
    for role, scope in order:
        response = clients[role, scope].request(
            method, _fill(path, ids), json=_fill(body, ids) if body is not None else None
        )
        if _allowed(role, scope, weakest, writes):
            assert response.status_code < 300 or succeeded, (role, scope, response.text)
            assert response.status_code not in (401, 403), (role, scope, response.text)
            succeeded = True
        else:
            assert response.status_code == 403, (role, scope, response.text)
            error = response.json()
            assert error["status_code"] == 403
            assert ("read-only" if role != "viewer" and scope == "read" else "role") in error[
                "error"
            ]


def _routes(candidates):
    for route in candidates:
        if hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def _calls(dependant):
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def test_every_route_behind_an_api_key_goes_through_a_policy():
    app = create_app(Settings(database_url="sqlite://"))

    checked = 0
    for route in _routes(app.routes):
        called = list(_calls(route.dependant))
        if get_caller in called:
            checked += 1
            names = {getattr(call, "__name__", "") for call in called}
            assert "authorized" in names, f"{route.methods} {route.path} has no policy"
    assert checked >= len(MATRIX)


def test_a_key_cannot_mint_or_revoke_a_stronger_key(organization):
    clients, _ = organization
    admin = clients["admin", "full"]
    refused = admin.post("/v1/keys", json={"role": "owner"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "a admin key cannot create a owner key"
    owner_key = clients["owner", "full"].post("/v1/keys", json={"role": "owner"}).json()
    assert admin.post(f"/v1/keys/{owner_key['id']}/revoke").status_code == 403
    twin = admin.post("/v1/keys", json={"name": "rotation"}).json()
    assert (twin["role"], twin["scope"], twin["expires_at"]) == ("admin", "full", None)


def test_keys_rotate_without_downtime_and_expire(tenant, server):
    old_id = tenant.client.get("/v1/keys").json()[0]["id"]
    soon = datetime.now(UTC) + timedelta(seconds=2)
    new = tenant.client.post("/v1/keys", json={"expires_at": soon.isoformat()}).json()
    assert new["expires_at"] is not None
    with httpx.Client(base_url=server.url, auth=(new["secret"], "")) as rotated:
        assert rotated.get("/v1/projects").status_code == 200
        assert rotated.post(f"/v1/keys/{old_id}/revoke").status_code == 200
        assert tenant.client.get("/v1/projects").status_code == 401
        time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
        expired = rotated.get("/v1/projects")
    assert expired.status_code == 401
    assert "expired" in expired.json()["error"]


def test_a_key_cannot_be_created_already_expired(api):
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    response = api.post("/v1/keys", json={"expires_at": past})
    assert response.status_code == 400
    assert response.json()["field"] == "expires_at"


def test_cli_keys_carry_role_and_scope(sessions, tenant, server):
    with transaction(sessions) as db:
        key = accounts.create_api_key(db, org_id=tenant.org_id, role="viewer", scope="read")
    with httpx.Client(base_url=server.url, auth=(key.secret, "")) as viewer:
        assert viewer.get("/v1/projects").status_code == 200
        assert viewer.post("/v1/projects", json={"name": "x", "type": "chat"}).status_code == 403


# Workforce-side callers: a worker and a reviewer (worker sessions), an operator (a staff session),
# and an organization's owner key. (method, path, body, who may call it)
STAFF = "operator"
WORKFORCE_MATRIX = [
    ("GET", "/v1/staff/me", None, {STAFF}),
    ("GET", "/v1/staff/workers", None, {STAFF}),
    ("POST", "/v1/staff/workers", {"email": "p-{unique}@example.org"}, {STAFF}),
    ("PUT", "/v1/staff/workers/{public_worker}/role", {"role": "worker"}, {STAFF}),
    ("POST", "/v1/staff/workers/{public_worker}/status", {"status": "active"}, {STAFF}),
    ("PUT", "/v1/staff/workers/{public_worker}/qualifications/{shared_q}", None, {STAFF}),
    ("DELETE", "/v1/staff/workers/{public_worker}/qualifications/{shared_q}", None, {STAFF}),
    ("GET", "/v1/staff/projects", None, {STAFF}),
    ("GET", "/v1/staff/projects/{shared_project}/gold", None, {STAFF}),
    (
        "POST",
        "/v1/staff/projects/{shared_project}/gold",
        {"params": {"attachment": "x", "categories": ["a", "b"]}, "answer": {"category": "a"}},
        {STAFF},
    ),
    (
        "POST",
        "/v1/staff/workers/{public_worker}/adjustments",
        {"kind": "bonus", "cents": 1, "note": "n", "project_id": "{shared_project}"},
        {STAFF},
    ),
    ("POST", "/v1/staff/payouts", None, {STAFF}),
    ("GET", "/v1/staff/payouts", None, {STAFF}),
    ("GET", "/v1/staff/audit", None, {STAFF}),
    ("POST", "/v1/worker/reviews/next", {}, {"reviewer"}),
    ("GET", "/v1/worker/me", None, {"worker", "reviewer"}),
    ("PUT", "/v1/workers/{private_worker}/role", {"role": "worker"}, {"owner"}),
]
WORKFORCE_CALLERS = ("worker", "reviewer", STAFF, "owner")


@pytest.fixture
def workforce_callers(make_tenant, make_worker, make_operator, server):
    owner = make_tenant()
    project = create_project(owner.client, "categorization", "shared")
    owner.client.post("/v1/qualifications", json={"name": "shared-q"})
    owner.client.patch(
        "/v1/projects/shared/workforce",
        json={"access": "open", "required_qualifications": ["shared-q"]},
    )
    operator = make_operator()
    worker, reviewer = make_worker(None), make_worker(None)
    operator.put(f"/v1/staff/workers/{reviewer.id}/role", json={"role": "reviewer"})
    qualification = owner.client.get("/v1/qualifications").json()[0]
    clients = {"worker": worker.client, "reviewer": reviewer.client, STAFF: operator}
    clients["owner"] = owner.client
    ids = {
        "public_worker": worker.id,
        "private_worker": make_worker(owner).id,
        "shared_project": project["id"],
        "shared_q": qualification["id"],
    }
    return clients, ids


@pytest.mark.parametrize(("method", "path", "body", "allowed"), WORKFORCE_MATRIX)
def test_workforce_role_matrix(workforce_callers, method, path, body, allowed):
    """Staff endpoints take only an operator's session (anyone else: 401, as the wrong kind of
    credential); review work needs the reviewer role (403); org endpoints take only keys."""
    clients, ids = workforce_callers
    for who in WORKFORCE_CALLERS:
        response = clients[who].request(
            method, _fill(path, ids), json=_fill(body, ids) if body is not None else None
        )
        if who in allowed:
            assert response.status_code < 300, (who, response.text)
        else:
            # A worker session is the right credential for review work, but the wrong role.
            expected = 403 if who == "worker" and path.startswith("/v1/worker/reviews") else 401
            assert response.status_code == expected, (who, response.text)
            assert response.json()["status_code"] == expected


def test_every_staff_route_is_in_the_workforce_matrix_and_goes_through_a_policy():
    app = create_app(Settings(database_url="sqlite://"))
    covered = {(m, p) for m, p, _, _ in WORKFORCE_MATRIX if p.startswith("/v1/staff/")}
    # Logging in and out needs no policy; the CSV is fetched in tests/accounts/test_staff.py.
    elsewhere = {
        ("POST", "/v1/staff/login"),
        ("POST", "/v1/staff/logout"),
        ("GET", "/v1/staff/payouts/{run_id}/csv"),
    }
    names = {"{worker_id}": "{public_worker}", "{qualification_id}": "{shared_q}"}
    names["{project_id}"] = "{shared_project}"
    seen = set()
    for route in _routes(app.routes):
        if "platform staff" not in (route.tags or []):
            continue
        path = route.path
        for raw, filled in names.items():
            path = path.replace(raw, filled)
        seen |= {(method, path) for method in route.methods}
        called = list(_calls(route.dependant))
        if route.path not in ("/v1/staff/login", "/v1/staff/logout", "/v1/staff/me"):
            assert get_staff in called, route.path
            assert "authorized" in {getattr(c, "__name__", "") for c in called}, route.path
    assert seen == covered | elsewhere
