"""Projects through the /v1 API: Scale's shapes, param history, errors."""

from tests.factories import TASK_PARAMS, create_project


def test_create_project_returns_scale_shape(api):
    response = api.post(
        "/v1/projects",
        json={
            "type": "categorization",
            "name": "sentiment",
            "params": {"instruction": "Be kind"},
            "rapid": False,
            "studio": False,
            "datasetId": None,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "sentiment"
    assert body["type"] == "categorization"
    assert body["params"] == {"instruction": "Be kind"}
    assert [v["version"] for v in body["param_history"]] == [0]
    assert body["param_history"][0]["instruction"] == "Be kind"
    assert body["created_at"].endswith("Z")


def test_list_projects_is_a_bare_array(api):
    create_project(api, "chat", "one")
    create_project(api, "comparison", "two")
    response = api.get("/v1/projects")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["one", "two"]


def test_duplicate_project_name_conflicts(api):
    create_project(api, "chat", "dup")
    response = api.post("/v1/projects", json={"type": "chat", "name": "dup"})
    assert response.status_code == 409
    assert response.json() == {"status_code": 409, "error": "a project named 'dup' already exists"}


def test_set_params_appends_a_version(api):
    create_project(api, "categorization", "versions", params={"instruction": "v0"})
    response = api.post("/v1/projects/versions/setParams", json={"instruction": "v1"})
    assert response.status_code == 200
    history = response.json()["param_history"]
    assert [(v["version"], v["instruction"]) for v in history] == [(0, "v0"), (1, "v1")]
    assert api.get("/v1/projects/versions").json()["params"]["instruction"] == "v1"


def test_project_params_must_belong_to_its_type(api):
    response = api.post(
        "/v1/projects", json={"type": "chat", "name": "bad", "params": {"geometries": {}}}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "params.geometries: not a parameter of chat tasks"


def test_unknown_task_type_is_refused(api):
    response = api.post("/v1/projects", json={"type": "lidarannotation", "name": "x"})
    assert response.status_code == 400
    assert "unknown task type 'lidarannotation'" in response.json()["error"]


def test_project_names_may_contain_slashes_and_percent(api):
    for name in ("team/a b", "50%/done"):
        create_project(api, "chat", name)
        encoded = name.replace("%", "%25").replace("/", "%2F").replace(" ", "%20")
        response = api.get(f"/v1/projects/{encoded}")
        assert response.status_code == 200, response.text
        assert response.json()["name"] == name


def test_project_defaults_fill_task_params(api):
    params = dict(TASK_PARAMS["categorization"])
    params.pop("attachment")
    create_project(api, "categorization", "defaults", params={**params, "instruction": "Project"})
    response = api.post(
        "/v1/task/categorization",
        json={"project": "defaults", "attachment": "text", "instruction": "Task"},
    )
    assert response.status_code == 200, response.text
    task = response.json()
    assert task["params"]["categories"] == ["good", "bad"]
    assert task["instruction"] == "Task\n\nProject"
