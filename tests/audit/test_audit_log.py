"""The audit log records who changed what, from where, in which request; admins read it paged or
as JSONL; nothing refused or failed is recorded; and no endpoint (nor SQL) can change it."""

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.factories import create_project, create_task


@pytest.fixture
def history(tenant):
    """A tenant that created a project and a task, canceled the task and minted a key."""
    api = tenant.client
    create_project(api, "chat", "audited")
    task = create_task(api, "chat", "audited")
    api.post(f"/v1/task/{task['task_id']}/cancel", headers={"X-Request-Id": "cancel-42"})
    key = api.post("/v1/keys", json={"name": "ci", "role": "viewer"}).json()
    tenant.task_id, tenant.new_key = task["task_id"], key
    tenant.key_id = next(k["id"] for k in api.get("/v1/keys").json() if k["name"] == "")
    return tenant


def test_each_change_is_recorded_with_actor_object_address_and_request_id(history):
    docs = history.client.get("/v1/audit").json()["docs"]
    assert [d["action"] for d in docs] == [
        "create_project",
        "create_chat_task",
        "cancel_task",
        "create_key",
    ]
    cancel = {k: v for k, v in docs[2].items() if k not in ("id", "created_at")}
    assert cancel == {
        "actor_type": "api_key",
        "actor_id": history.key_id,
        "action": "cancel_task",
        "method": "POST",
        "path": f"/v1/task/{history.task_id}/cancel",
        "target": {"task_id": history.task_id},
        "request_id": "cancel-42",
        "address": "127.0.0.1",
    }
    assert all(len(d["request_id"]) == 32 for d in docs if d is not docs[2])


def test_refused_and_failed_requests_leave_no_entry(history, server):
    import httpx

    with httpx.Client(base_url=server.url, auth=(history.new_key["secret"], "")) as viewer:
        assert viewer.post("/v1/projects", json={"name": "x", "type": "chat"}).status_code == 403
    assert history.client.post("/v1/task/000000000000000000000000/cancel").status_code == 404
    assert (
        history.client.post("/v1/projects", json={"name": "audited", "type": "chat"}).status_code
        == 409
    )
    assert len(history.client.get("/v1/audit").json()["docs"]) == 4


def test_filters_pages_and_jsonl_export(history):
    api = history.client
    only = api.get("/v1/audit", params={"action": "cancel_task"}).json()["docs"]
    assert [d["target"] for d in only] == [{"task_id": history.task_id}]
    assert api.get("/v1/audit", params={"actor_id": "nobody"}).json()["docs"] == []
    first = api.get("/v1/audit", params={"limit": 3}).json()
    rest = api.get("/v1/audit", params={"limit": 3, "next_token": first["next_token"]}).json()
    assert rest["next_token"] is None
    paged = first["docs"] + rest["docs"]
    exported = api.get("/v1/audit/export")
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in exported.text.splitlines()] == paged
    late = api.get("/v1/audit", params={"start_time": paged[-1]["created_at"]}).json()["docs"]
    assert late == paged[-1:]


def test_other_organizations_see_none_of_it(history, make_tenant):
    other = make_tenant()
    assert other.client.get("/v1/audit").json()["docs"] == []
    assert other.client.get("/v1/audit/export").text == ""


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_no_endpoint_changes_the_log(history, method):
    before = history.client.get("/v1/audit").json()["docs"]
    entry = before[0]["id"]
    for path in ("/v1/audit", f"/v1/audit/{entry}", "/v1/audit/export"):
        response = history.client.request(method, path, json={"action": "forged"})
        assert response.status_code in (404, 405), (path, response.text)
    assert history.client.get("/v1/audit").json()["docs"] == before


def test_the_database_refuses_updates_and_deletes(history, sessions):
    for statement in ("UPDATE audit_entry SET action = 'forged'", "DELETE FROM audit_entry"):
        with sessions() as db, pytest.raises(DatabaseError, match="append-only"):
            db.execute(text(statement))
    assert len(history.client.get("/v1/audit").json()["docs"]) == 4


def test_creations_record_the_new_objects_id(history):
    api = history.client
    batch = api.post("/v1/batches", json={"project": "audited", "name": "b1"}).json()
    job = api.post("/v1/exports", json={"project": "audited", "format": "jsonl"}).json()
    docs = {d["action"]: d["target"] for d in api.get("/v1/audit").json()["docs"]}
    project = api.get("/v1/projects/audited").json()
    assert docs["create_project"] == {"project_id": project["id"]}
    assert docs["create_chat_task"] == {"task_id": history.task_id}
    assert docs["create_key"] == {"key_id": history.new_key["id"]}
    assert docs["create_batch"] == {"batch_id": batch["id"]}
    assert docs["create_export_job"] == {"export_job_id": job["id"]}
    assert docs["cancel_task"] == {"task_id": history.task_id}, (
        "addressed objects stay as they were"
    )
