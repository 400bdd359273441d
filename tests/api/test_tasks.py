"""Tasks through the /v1 API: every type's create, Scale's fields, filters, pagination, edits."""

import pytest

from tests.factories import TASK_PARAMS, create_project, create_task

SCALE_TASK_FIELDS = {
    "task_id",
    "type",
    "status",
    "project",
    "batch",
    "instruction",
    "params",
    "response",
    "callback_url",
    "metadata",
    "tags",
    "unique_id",
    "priority",
    "required_responses",
    "is_test",
    "customer_review_status",
    "callback_succeeded",
    "created_at",
    "updated_at",
    "completed_at",
}


@pytest.mark.parametrize("task_type", sorted(TASK_PARAMS))
def test_create_and_get_every_task_type(api, task_type):
    create_project(api, task_type, "p")
    task = create_task(
        api,
        task_type,
        "p",
        metadata={"k": "v"},
        callback_url="https://example.com/cb",
        unique_id=f"u-{task_type}",
    )
    assert set(task) == SCALE_TASK_FIELDS
    assert task["type"] == task_type
    assert task["status"] == "pending"
    assert task["response"] is None
    assert task["metadata"] == {"k": "v"}
    assert task["project"] == "p"
    fetched = api.get(f"/v1/task/{task['task_id']}")
    assert fetched.status_code == 200
    assert fetched.json() == task


@pytest.mark.parametrize(
    ("task_type", "change", "error"),
    [
        (
            "imageannotation",
            {"geometries": {"box": {"objects_to_annotate": ["car"], "min_width": -3}}},
            "geometries.box.min_width: Input should be greater than or equal to 0",
        ),
        (
            "imageannotation",
            {"geometries": {}},
            "geometries: geometries needs at least one of box, polygon, line, point",
        ),
        (
            "categorization",
            {"categories": ["only-one"]},
            "categories: List should have at least 2 items after validation, not 1",
        ),
        ("categorization", {"colour": "red"}, "colour: unknown field"),
        (
            "textcollection",
            {
                "fields": [
                    {"type": "text", "field_id": "a", "title": "A"},
                    {"type": "text", "field_id": "a", "title": "B"},
                ]
            },
            "fields: field_id must be unique, repeated: ['a']",
        ),
        (
            "comparison",
            {"answers": [{"content": "only"}]},
            "answers: List should have at least 2 items after validation, not 1",
        ),
        ("chat", {"min_turns": 4, "max_turns": 2}, "max_turns must be >= min_turns"),
    ],
)
def test_invalid_params_name_the_field_and_reason(api, task_type, change, error):
    create_project(api, task_type, "p")
    body = {"project": "p", **TASK_PARAMS[task_type], **change}
    response = api.post(f"/v1/task/{task_type}", json=body)
    assert response.status_code == 400
    assert response.json()["status_code"] == 400
    assert error in response.json()["error"]


def test_missing_required_param(api):
    create_project(api, "categorization", "p")
    response = api.post("/v1/task/categorization", json={"project": "p", "categories": ["a", "b"]})
    assert response.status_code == 400
    assert response.json() == {
        "status_code": 400,
        "error": "attachment: field required",
        "field": "attachment",
    }


def test_task_type_must_match_project(api):
    create_project(api, "chat", "p")
    response = api.post(
        "/v1/task/categorization", json={"project": "p", **TASK_PARAMS["categorization"]}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "project 'p' holds chat tasks, not categorization"


def test_callback_url_must_be_http(api):
    create_project(api, "chat", "p")
    response = api.post("/v1/task/chat", json={"project": "p", "callback_url": "ftp://x/y"})
    assert response.status_code == 400
    assert response.json()["field"] == "callback_url"


def test_unique_id_is_idempotency_key(api):
    create_project(api, "chat", "p")
    first = create_task(api, "chat", "p", unique_id="abc")
    again = api.post("/v1/task/chat", json={"project": "p", "unique_id": "abc"})
    assert again.status_code == 409
    assert again.json()["unique_id"] == "abc"
    found = api.get("/v1/tasks", params={"unique_id": "abc"}).json()
    assert [t["task_id"] for t in found["docs"]] == [first["task_id"]]


def test_unique_id_set_conflict_and_clear(api):
    create_project(api, "chat", "p")
    one = create_task(api, "chat", "p", unique_id="one")
    two = create_task(api, "chat", "p")
    taken = api.post(f"/v1/task/{two['task_id']}/unique_id", json={"unique_id": "one"})
    assert taken.status_code == 409
    cleared = api.delete(f"/v1/task/{one['task_id']}/unique_id")
    assert cleared.status_code == 200 and cleared.json()["unique_id"] is None
    moved = api.post(f"/v1/task/{two['task_id']}/unique_id", json={"unique_id": "one"})
    assert moved.status_code == 200 and moved.json()["unique_id"] == "one"


def test_cancel_pending_task_then_cancel_again_is_400(api):
    create_project(api, "chat", "p")
    task = create_task(api, "chat", "p", unique_id="to-free")
    canceled = api.post(f"/v1/task/{task['task_id']}/cancel", params={"clear_unique_id": "true"})
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["unique_id"] is None
    again = api.post(f"/v1/task/{task['task_id']}/cancel")
    assert again.status_code == 400
    assert (
        again.json()["error"]
        == f"task {task['task_id']} is already canceled and cannot be canceled"
    )
    reused = api.post("/v1/task/chat", json={"project": "p", "unique_id": "to-free"})
    assert reused.status_code == 200


def test_set_metadata_replaces_it(api):
    create_project(api, "chat", "p")
    task = create_task(api, "chat", "p", metadata={"a": 1})
    response = api.post(f"/v1/task/{task['task_id']}/setMetadata", json={"b": [1, 2]})
    assert response.json()["metadata"] == {"b": [1, 2]}


def test_tags_set_add_delete_and_filter(api):
    create_project(api, "chat", "p")
    task = create_task(api, "chat", "p")
    other = create_task(api, "chat", "p", tags=["x"])
    url = f"/v1/task/{task['task_id']}/tags"
    assert api.post(url, json=["a", "b"]).json()["tags"] == ["a", "b"]
    assert api.put(url, json=["b", "c"]).json()["tags"] == ["a", "b", "c"]
    assert api.request("DELETE", url, json=["a"]).json()["tags"] == ["b", "c"]
    tagged = api.get("/v1/tasks", params={"project": "p", "tags": ["b", "c"]}).json()
    assert [t["task_id"] for t in tagged["docs"]] == [task["task_id"]]
    assert (
        api.get("/v1/tasks", params={"tags": "x"}).json()["docs"][0]["task_id"] == other["task_id"]
    )


def test_cursor_pagination_walks_every_task_once(api):
    create_project(api, "chat", "p")
    created = [create_task(api, "chat", "p")["task_id"] for _ in range(7)]
    seen, token, pages = [], None, 0
    while True:
        params = {"project": "p", "limit": 3} | ({"next_token": token} if token else {})
        page = api.get("/v1/tasks", params=params).json()
        assert page["total"] == 7 and page["limit"] == 3
        seen += [t["task_id"] for t in page["docs"]]
        pages += 1
        if not page["has_more"]:
            assert page["next_token"] is None
            break
        token = page["next_token"]
    assert seen == created
    assert pages == 3


def test_list_filters_by_status_type_batch_and_dates(api):
    create_project(api, "chat", "p")
    api.post("/v1/batches", json={"project": "p", "name": "b"})
    in_batch = create_task(api, "chat", "p", batch="b")
    loose = create_task(api, "chat", "p")
    api.post(f"/v1/task/{loose['task_id']}/cancel")

    def ids(**params):
        return [t["task_id"] for t in api.get("/v1/tasks", params=params).json()["docs"]]

    assert ids(batch="b") == [in_batch["task_id"]]
    assert ids(project="p", status="canceled") == [loose["task_id"]]
    assert ids(project="p", type="chat") == [in_batch["task_id"], loose["task_id"]]
    assert ids(project="p", type="comparison") == []
    assert ids(project="p", start_time="2000-01-01 00:00:00.000000") == [
        in_batch["task_id"],
        loose["task_id"],
    ]
    assert ids(project="p", end_time="2000-01-01T00:00:00Z") == []


def test_limited_response_omits_payloads(api):
    create_project(api, "chat", "p")
    create_task(api, "chat", "p")
    doc = api.get("/v1/tasks", params={"project": "p", "limited_response": "True"}).json()["docs"][
        0
    ]
    assert "params" not in doc and "task_id" in doc


def test_unknown_query_parameter_is_refused(api):
    response = api.get("/v1/tasks", params={"projcet": "p"})
    assert response.status_code == 400
    assert response.json()["field"] == "projcet"


def test_bad_next_token_and_limit_are_400(api):
    assert api.get("/v1/tasks", params={"next_token": "garbage!"}).status_code == 400
    assert api.get("/v1/tasks", params={"limit": 101}).status_code == 400
    assert api.get("/v1/tasks", params={"limit": 0}).status_code == 400


def test_test_key_creates_test_tasks(api, tenant, server):
    import httpx

    key = api.post("/v1/keys", json={"kind": "test"}).json()["secret"]
    assert key.startswith("test_")
    create_project(api, "chat", "p")
    with httpx.Client(base_url=server.url, auth=(key, "")) as test_client:
        task = test_client.post("/v1/task/chat", json={"project": "p"}).json()
    assert task["is_test"] is True
