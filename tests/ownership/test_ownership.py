"""Data ownership: an organization exports everything it owns (and nothing of anyone else's,
no secrets), and deletes a project with its batches, tasks and responses, audited, without
touching another organization's project of the same name."""

import json

from tests.factories import create_project, create_task


def _project_with_work(tenant, name):
    create_project(tenant.client, "chat", name)
    tenant.client.post("/v1/batches", json={"project": name, "name": f"{name}-batch"})
    return create_task(tenant.client, "chat", name, batch=f"{name}-batch", unique_id="u1")


def test_deleting_a_project_removes_its_work_and_nothing_of_another_organization(make_tenant):
    mine, theirs = make_tenant(), make_tenant()
    my_task = _project_with_work(mine, "shared")
    their_task = _project_with_work(theirs, "shared")
    deleted = mine.client.delete("/v1/projects/shared")
    assert deleted.json() == {"name": "shared", "deleted": True, "batches": 1, "tasks": 1}
    assert mine.client.get(f"/v1/task/{my_task['task_id']}").status_code == 404
    assert mine.client.get("/v1/batches/shared-batch").status_code == 404
    assert mine.client.get("/v1/tasks", params={"unique_id": "u1"}).json()["total"] == 0
    assert mine.client.delete("/v1/projects/shared").status_code == 404
    assert theirs.client.get(f"/v1/task/{their_task['task_id']}").json() == their_task
    assert theirs.client.get("/v1/batches/shared-batch").status_code == 200
    audit = mine.client.get("/v1/audit", params={"action": "delete_project"}).json()["docs"]
    assert [(e["method"], e["target"]) for e in audit] == [("DELETE", {"name": "shared"})]


def test_a_foreign_organization_cannot_delete_a_project(make_tenant):
    owner, intruder = make_tenant(), make_tenant()
    task = _project_with_work(owner, "private")
    response = intruder.client.delete("/v1/projects/private")
    assert response.status_code == 404
    assert response.json() == {"status_code": 404, "error": "no project named 'private'"}
    assert owner.client.get(f"/v1/task/{task['task_id']}").json() == task
    assert intruder.client.get("/v1/audit").json()["docs"] == []


def test_export_holds_everything_owned_and_nothing_else(make_tenant):
    mine, theirs = make_tenant(), make_tenant()
    task = _project_with_work(mine, "mine-project")
    _project_with_work(theirs, "their-project")
    response = mine.client.get("/v1/export")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in response.text.splitlines()]
    by_table = {}
    for record in records:
        by_table.setdefault(record["table"], []).append(record["row"])
    assert [org["id"] for org in by_table["organization"]] == [mine.org_id]
    assert [p["name"] for p in by_table["project"]] == ["mine-project"]
    assert [b["name"] for b in by_table["batch"]] == ["mine-project-batch"]
    assert [t["id"] for t in by_table["task"]] == [task["task_id"]]
    assert by_table["task"][0]["params"] == task["params"]
    assert {e["action"] for e in by_table["audit_entry"]} >= {"create_project", "create_batch"}
    assert all(
        row.get("org_id", mine.org_id) == mine.org_id for rows in by_table.values() for row in rows
    )
    assert "their-project" not in response.text
    assert "digest" not in by_table["api_key"][0]
    assert "callback_signing_secret" not in by_table["organization"][0]
    assert mine.key not in response.text
