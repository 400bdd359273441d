"""Model backends: pre-labels shown to workers and their acceptance, and a model as one more
rater whose answers stay apart from human ones."""

import httpx
import pytest

from quorum.assist import service
from quorum.assist.backends import ModelSources, OperatorBackends
from quorum.assist.schemas import BackendCreate, BackendRun
from quorum.db import transaction
from quorum.errors import Invalid
from quorum.outside import NetworkPolicy, OutsideClient
from tests.assist.conftest import OFFERED_BACKENDS
from tests.dispatch.conftest import add_task, categorization_project

TEXTS = ["A great meal", "Great service", "Cold soup", "Rude waiter"]


def test_prelabels_from_an_http_model_are_shown_and_their_acceptance_is_reported(
    tenant, make_worker, model_server
):
    categorization_project(tenant, "sentiment")
    for text in TEXTS:
        add_task(tenant, "sentiment", attachment=text)
    created = tenant.client.post(
        "/v1/assist/backends", json={"name": "keywords", "kind": "http", "target": model_server}
    )
    assert created.status_code == 200, created.text
    run = tenant.client.post(
        "/v1/assist/backends/keywords/runs", json={"project": "sentiment", "role": "prelabel"}
    )
    assert run.json() == {"answered": 4}
    again = tenant.client.post(
        "/v1/assist/backends/keywords/runs", json={"project": "sentiment", "role": "prelabel"}
    )
    assert again.json() == {"answered": 0}

    worker = make_worker(tenant, projects=("sentiment",))
    truth = {
        "A great meal": "good",
        "Great service": "good",
        "Cold soup": "bad",
        "Rude waiter": "good",
    }
    for _ in TEXTS:
        assignment = worker.next().json()
        prelabel = worker.client.get(
            f"/v1/worker/assignments/{assignment['assignment_id']}/prelabel"
        )
        assert prelabel.status_code == 200, prelabel.text
        assert prelabel.json()["backend"] == "keywords"
        answer = {"category": truth[assignment["params"]["attachment"]]}
        assert worker.submit(assignment["assignment_id"], answer).status_code == 200

    report = tenant.client.get(
        "/v1/assist/backends/keywords/report", params={"project": "sentiment"}
    ).json()
    assert report == {
        "backend": "keywords",
        "project": "sentiment",
        "prelabeled_tasks": 4,
        "human_responses_on_prelabels": 4,
        "accepted_unchanged": 3,
        "acceptance_rate": 0.75,
        "rated_tasks": 0,
        "rater_agreement_with_humans": None,
    }


def test_an_offered_python_model_rates_as_a_model_rater_kept_apart_from_humans(tenant, make_worker):
    categorization_project(tenant, "sentiment")
    for text in TEXTS:
        add_task(tenant, "sentiment", attachment=text)
    created = tenant.client.post(
        "/v1/assist/backends", json={"name": "judge", "kind": "python", "target": "sentiment-v2"}
    )
    assert created.status_code == 200, created.text
    rated = tenant.client.post(
        "/v1/assist/backends/judge/runs", json={"project": "sentiment", "role": "rater"}
    )
    assert rated.json() == {"answered": 4}

    worker = make_worker(tenant, projects=("sentiment",))
    for _ in TEXTS:
        assignment = worker.next().json()
        assert (
            worker.client.get(
                f"/v1/worker/assignments/{assignment['assignment_id']}/prelabel"
            ).status_code
            == 404
        )
        worker.submit(assignment["assignment_id"], {"category": "good"})
    tasks = tenant.client.get("/v1/tasks", params={"project": "sentiment"}).json()["docs"]
    assert {t["response"]["category"] for t in tasks} == {"good"}  # the model's "bad" is not in

    report = tenant.client.get(
        "/v1/assist/backends/judge/report", params={"project": "sentiment"}
    ).json()
    assert (report["rated_tasks"], report["rater_agreement_with_humans"]) == (4, 0.5)


def test_a_backend_must_name_an_offered_model_and_answer_in_the_task_shape(tenant):
    missing = tenant.client.post(
        "/v1/assist/backends", json={"name": "x", "kind": "python", "target": "sentiment-v3"}
    )
    assert missing.json() == {
        "status_code": 400,
        "error": "target of a python backend must be the name of a model this platform offers, "
        "got 'sentiment-v3'; offered: sentiment-v2",
        "field": "target",
    }
    categorization_project(tenant, "sentiment")
    add_task(tenant, "sentiment", attachment="Fine", categories=["ok", "not ok"])
    tenant.client.post(
        "/v1/assist/backends", json={"name": "judge", "kind": "python", "target": "sentiment-v2"}
    )
    wrong = tenant.client.post(
        "/v1/assist/backends/judge/runs", json={"project": "sentiment", "role": "prelabel"}
    )
    assert wrong.status_code == 400
    assert "answered task" in wrong.json()["error"]


def test_only_admins_register_backends_while_viewers_may_read(tenant, server):
    made = {
        role: tenant.client.post("/v1/keys", json={"role": role}).json()["secret"]
        for role in ("member", "viewer")
    }
    body = {"name": "judge", "kind": "python", "target": "sentiment-v2"}
    for role, key in made.items():
        with httpx.Client(base_url=server.url, auth=(key, "")) as client:
            refused = client.post("/v1/assist/backends", json=body)
            assert refused.status_code == 403, (role, refused.text)
            assert client.get("/v1/assist/backends").status_code == 200
            assert client.get("/v1/assist/backends/available").status_code == 200


def test_tenants_see_the_models_they_may_register_by_name(tenant):
    assert tenant.client.get("/v1/assist/backends/available").json() == [
        {"kind": "builtin", "target": "active-learning"},
        {"kind": "python", "target": "sentiment-v2"},
    ]


def test_installed_entry_points_of_the_group_are_offered_under_their_names(
    tenant, tmp_path, monkeypatch
):
    """A package the operator installed offers its models in ``quorum.assist_backends``; an
    entry point whose name could be mistaken for an import path is not offered."""
    dist_info = tmp_path / "operator_models-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: operator-models\n")
    (dist_info / "entry_points.txt").write_text(
        "[quorum.assist_backends]\n"
        f"keywords-installed = {OFFERED_BACKENDS['sentiment-v2']}\n"
        "os:system = tests.assist.conftest:keyword_model\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    offered = tenant.client.get("/v1/assist/backends/available").json()
    assert [b["target"] for b in offered if b["kind"] == "python"] == [
        "keywords-installed",
        "sentiment-v2",
    ]
    categorization_project(tenant, "sentiment")
    for text in TEXTS:
        add_task(tenant, "sentiment", attachment=text)
    body = {"name": "installed", "kind": "python", "target": "keywords-installed"}
    assert tenant.client.post("/v1/assist/backends", json=body).status_code == 200
    run = tenant.client.post(
        "/v1/assist/backends/installed/runs", json={"project": "sentiment", "role": "rater"}
    )
    assert run.json() == {"answered": 4}
    body = {"name": "lookalike", "kind": "python", "target": "os:system"}
    assert tenant.client.post("/v1/assist/backends", json=body).status_code == 400


def test_an_offered_model_that_cannot_be_loaded_is_a_400_for_the_operator_to_fix(tenant, sessions):
    categorization_project(tenant, "sentiment")
    add_task(tenant, "sentiment", attachment="A great meal")
    offered = OperatorBackends.offered({"broken": "tests.assist.nowhere:model"})
    sources = ModelSources(offered, OutsideClient(NetworkPolicy()))
    with transaction(sessions) as db:
        body = BackendCreate(name="broken", kind="python", target="broken")
        service.create_backend(db, org_id=tenant.org_id, data=body, sources=sources)
        run = BackendRun(project="sentiment", role="prelabel")
        with pytest.raises(Invalid) as refused:
            service.run_backend(db, org_id=tenant.org_id, name="broken", data=run, sources=sources)
    assert refused.value.message == (
        "python backend 'broken' is offered but cannot be loaded; "
        "ask the platform operator to fix its configuration"
    )
