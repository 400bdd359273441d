"""Batches through the /v1 API: staging → finalize → status counts, Scale's list shape."""

from tests.factories import create_project, create_task


def test_batch_lifecycle_staging_finalize_status(api):
    create_project(api, "categorization", "proj")
    created = api.post(
        "/v1/batches",
        json={
            "project": "proj",
            "name": "b1",
            "callback": "",
            "calibration_batch": False,
            "self_label_batch": False,
            "metadata": {},
        },
    )
    assert created.status_code == 200
    assert created.json()["status"] == "staging"
    first = create_task(api, "categorization", "proj", batch="b1")
    create_task(api, "categorization", "proj", batch="b1")
    api.post(f"/v1/task/{first['task_id']}/cancel")

    assert api.get("/v1/batches/b1/status").json() == {
        "status": "staging",
        "pending": 1,
        "completed": 0,
        "canceled": 1,
        "error": 0,
    }
    finalized = api.post("/v1/batches/b1/finalize")
    assert finalized.status_code == 200
    assert finalized.json()["status"] == "in_progress"
    assert finalized.json()["finalized_at"] is not None


def test_finalized_batch_refuses_new_tasks(api):
    create_project(api, "chat", "proj")
    api.post("/v1/batches", json={"project": "proj", "name": "closed"})
    api.post("/v1/batches/closed/finalize")
    response = api.post("/v1/task/chat", json={"batch": "closed", "min_turns": 2})
    assert response.status_code == 400
    assert response.json()["error"] == "batch 'closed' is finalized; no tasks can be added"


def test_batch_implies_project_and_must_match_it(api):
    create_project(api, "chat", "one")
    create_project(api, "chat", "two")
    api.post("/v1/batches", json={"project": "one", "name": "b"})
    ok = api.post("/v1/task/chat", json={"batch": "b"})
    assert ok.status_code == 200 and ok.json()["project"] == "one"
    wrong = api.post("/v1/task/chat", json={"batch": "b", "project": "two"})
    assert wrong.status_code == 400
    assert wrong.json()["field"] == "batch"


def test_empty_finalized_batch_is_completed(api):
    create_project(api, "chat", "proj")
    api.post("/v1/batches", json={"project": "proj", "name": "empty"})
    api.post("/v1/batches/empty/finalize")
    assert api.get("/v1/batches/empty").json()["status"] == "completed"


def test_list_batches_uses_total_docs_and_offset_pages(api):
    create_project(api, "chat", "proj")
    for i in range(5):
        api.post("/v1/batches", json={"project": "proj", "name": f"b{i}"})
    api.post("/v1/batches/b0/finalize")
    page = api.get("/v1/batches", params={"project": "proj", "limit": 2, "offset": 2}).json()
    assert [b["name"] for b in page["docs"]] == ["b2", "b3"]
    assert (page["totalDocs"], page["limit"], page["offset"], page["has_more"]) == (5, 2, 2, True)
    staging = api.get("/v1/batches", params={"status": "staging"}).json()
    assert staging["totalDocs"] == 4
    done = api.get("/v1/batches", params={"status": "completed"}).json()
    assert [b["name"] for b in done["docs"]] == ["b0"]


def test_batch_metadata_is_replaced(api):
    create_project(api, "chat", "proj")
    api.post("/v1/batches", json={"project": "proj", "name": "m", "metadata": {"a": 1}})
    response = api.post("/v1/batches/m/setMetadata", json={"b": 2})
    assert response.json()["metadata"] == {"b": 2}


def test_duplicate_batch_name_conflicts(api):
    create_project(api, "chat", "proj")
    api.post("/v1/batches", json={"project": "proj", "name": "same"})
    response = api.post("/v1/batches", json={"project": "proj", "name": "same"})
    assert response.status_code == 409
