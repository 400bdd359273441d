"""Platform staff: operators log in like workers, manage the public pool (workers, their role,
qualifications and gold of shared projects, pay) and never see an organization's private pool or
private projects; every staff change is audited."""

import csv
import io
import subprocess
import sys

import httpx

from tests.accounts.conftest import STAFF_PASSWORD
from tests.dispatch.conftest import categorization_project

GOOD = {"category": "good"}
GOLD = {"params": {"attachment": "terrible", "categories": ["good", "bad"]}, "answer": GOOD}


def _shared_project(tenant, name="sentiment", tasks=1):
    project_id, task_ids = categorization_project(tenant, name, tasks=tasks)
    opened = tenant.client.patch(f"/v1/projects/{name}/workforce", json={"access": "open"})
    assert opened.status_code == 200, opened.text
    return project_id, task_ids


def test_login_me_logout_and_wrong_password(operator, server):
    me = operator.get("/v1/staff/me").json()
    assert me["role"] == "operator"
    wrong = httpx.post(
        f"{server.url}/v1/staff/login", json={"email": me["email"], "password": "nope"}
    )
    assert wrong.json() == {"status_code": 401, "error": "wrong email or password"}
    assert operator.post("/v1/staff/logout").status_code == 204
    assert operator.get("/v1/staff/me").status_code == 401


def test_a_disabled_operator_is_locked_out_at_once(operator, sessions):
    from quorum.accounts import service as accounts
    from quorum.db import transaction

    email = operator.get("/v1/staff/me").json()["email"]
    with transaction(sessions) as db:
        accounts.disable_staff(db, email=email)
    refused = operator.get("/v1/staff/workers")
    assert refused.status_code == 401


def test_operator_sees_and_manages_only_the_public_pool(operator, tenant, make_worker):
    _shared_project(tenant, tasks=2)
    public, private = make_worker(None), make_worker(tenant)
    listed = {w["id"] for w in operator.get("/v1/staff/workers").json()}
    assert public.id in listed and private.id not in listed
    for path, body in [
        (f"/v1/staff/workers/{private.id}/status", {"status": "banned"}),
        (f"/v1/staff/workers/{private.id}/role", {"role": "reviewer"}),
    ]:
        assert operator.request("POST" if "status" in path else "PUT", path, json=body).json() == {
            "status_code": 404,
            "error": f"no worker {private.id!r}",
        }

    assert public.next().status_code == 200
    paused = operator.post(f"/v1/staff/workers/{public.id}/status", json={"status": "paused"})
    assert paused.json()["status"] == "paused"
    assert public.next().status_code == 403
    assert private.next().status_code == 200, "the paused worker's lease came back"
    reinstated = operator.post(f"/v1/staff/workers/{public.id}/status", json={"status": "active"})
    assert reinstated.json()["status"] == "active"
    assert operator.post(f"/v1/staff/workers/{public.id}/status", json={"status": "banned"})
    assert public.client.get("/v1/worker/me").status_code == 403


def test_invited_public_worker_joins_the_public_pool(operator, server):
    invited = operator.post("/v1/staff/workers", json={"email": "invitee@public.example"})
    assert invited.status_code == 200, invited.text
    assert (invited.json()["pool"], invited.json()["role"]) == ("public", "worker")
    signup = httpx.post(
        f"{server.url}/v1/worker/signup",
        json={"invitation_token": invited.json()["invitation_token"], "password": "x" * 12},
    )
    assert signup.json()["pool"] == "public"


def test_operator_touches_shared_projects_only(operator, make_tenant, make_worker):
    customer = make_tenant()
    shared_id, _ = _shared_project(customer, "shared")
    private_id, _ = categorization_project(customer, "private", tasks=1)
    listed = {p["id"] for p in operator.get("/v1/staff/projects").json()}
    assert shared_id in listed and private_id not in listed

    gold = operator.post(f"/v1/staff/projects/{shared_id}/gold", json=GOLD)
    assert gold.status_code == 200, gold.text
    assert [g["id"] for g in customer.client.get("/v1/projects/shared/gold").json()] == [
        gold.json()["id"]
    ]
    refused = operator.post(f"/v1/staff/projects/{private_id}/gold", json=GOLD)
    assert refused.json() == {
        "status_code": 404,
        "error": f"no project {private_id!r} shared with the public pool",
    }
    assert operator.get(f"/v1/staff/projects/{private_id}/gold").status_code == 404

    shared_q = customer.client.post("/v1/qualifications", json={"name": "shared-q"}).json()
    private_q = customer.client.post("/v1/qualifications", json={"name": "private-q"}).json()
    customer.client.patch(
        "/v1/projects/shared/workforce", json={"required_qualifications": ["shared-q"]}
    )
    customer.client.patch(
        "/v1/projects/private/workforce", json={"required_qualifications": ["private-q"]}
    )
    public = make_worker(None)
    assert public.next(shared_id).status_code == 403
    grant = f"/v1/staff/workers/{public.id}/qualifications/{shared_q['id']}"
    assert operator.put(grant).status_code == 204
    assert public.next(shared_id).status_code == 200
    assert operator.delete(grant).status_code == 204
    assert (
        operator.put(f"/v1/staff/workers/{public.id}/qualifications/{private_q['id']}").json()[
            "status_code"
        ]
        == 404
    )

    staff_entries = [
        e for e in customer.client.get("/v1/audit").json()["docs"] if e["actor_type"] == "staff"
    ]
    assert [e["action"] for e in staff_entries] == [
        "create_shared_gold",
        "grant_shared_qualification",
        "revoke_shared_qualification",
    ]
    assert staff_entries[0]["target"] == {
        "project_id": shared_id,
        "gold_id": gold.json()["id"],
        "task_id": gold.json()["task_id"],
    }
    seen_by_staff = operator.get("/v1/staff/audit", params={"action": "create_shared_gold"})
    assert gold.json()["id"] in {e["target"].get("gold_id") for e in seen_by_staff.json()["docs"]}


def test_public_pool_is_paid_by_the_platform_and_private_pool_by_its_organization(
    operator, tenant, make_worker
):
    shared_id, _ = _shared_project(tenant, tasks=2)
    tenant.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 40})
    public, private = make_worker(None), make_worker(tenant, projects=("sentiment",))
    for worker in (public, private):
        lease = worker.next(shared_id).json()
        assert worker.submit(lease["assignment_id"], GOOD).status_code == 200
    bonus = operator.post(
        f"/v1/staff/workers/{public.id}/adjustments",
        json={"kind": "bonus", "cents": 10, "note": "careful", "project_id": shared_id},
    )
    assert bonus.status_code == 200, bonus.text
    assert (
        operator.post(
            f"/v1/staff/workers/{private.id}/adjustments",
            json={"kind": "bonus", "cents": 10, "note": "x", "project_id": shared_id},
        ).status_code
        == 404
    )

    own = tenant.client.post("/v1/payouts").json()
    assert (own["paid_by"], own["worker_count"], own["total_cents"]) == ("organization", 1, 40)
    runs = operator.post("/v1/staff/payouts").json()
    mine = [r for r in runs if r["total_cents"] == 50]
    assert len(mine) == 1 and mine[0]["paid_by"] == "platform"
    rows = list(
        csv.DictReader(io.StringIO(operator.get(f"/v1/staff/payouts/{mine[0]['id']}/csv").text))
    )
    assert [(r["worker_id"], r["amount_cents"]) for r in rows] == [(public.id, "50")]
    assert public.client.get("/v1/worker/earnings").json()["paid_cents"] == 50
    assert [r["id"] for r in tenant.client.get("/v1/payouts").json()] == [own["id"]]
    assert tenant.client.get(f"/v1/payouts/{mine[0]['id']}/csv").status_code == 404
    assert operator.get(f"/v1/staff/payouts/{own['id']}/csv").status_code == 404
    again = [r for r in operator.post("/v1/staff/payouts").json() if r["id"] != mine[0]["id"]]
    assert all(r["total_cents"] >= 0 for r in again)
    assert public.client.get("/v1/worker/earnings").json()["paid_cents"] == 50


def test_reviewer_role_gates_review_work_for_public_workers(operator, make_worker):
    public = make_worker(None)
    refused = public.client.post("/v1/worker/reviews/next", json={})
    assert refused.status_code == 403
    made = operator.put(f"/v1/staff/workers/{public.id}/role", json={"role": "reviewer"})
    assert made.json()["role"] == "reviewer"
    assert public.client.post("/v1/worker/reviews/next", json={}).status_code == 204


def test_cli_staff_create_prints_an_id_that_logs_in(database_url, server):
    email = "cli-operator@quorum.example"
    created = subprocess.run(
        [sys.executable, "-m", "quorum", "staff", "create", email],
        env={
            "QUORUM_DATABASE_URL": database_url,
            "QUORUM_STAFF_PASSWORD": STAFF_PASSWORD,
            "PATH": "",
        },
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    login = httpx.post(
        f"{server.url}/v1/staff/login", json={"email": email, "password": STAFF_PASSWORD}
    )
    assert login.json()["staff"]["id"] == created.stdout.strip()
    short = subprocess.run(
        [sys.executable, "-m", "quorum", "staff", "create", "x@quorum.example"],
        env={"QUORUM_DATABASE_URL": database_url, "QUORUM_STAFF_PASSWORD": "short", "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert short.returncode != 0 and "12 characters" in short.stderr
