"""Request ids in and out (and in the JSON logs), and Prometheus metrics: request counts and
latency per route template, and work gauges read from the database."""

import json
import re

import httpx

from quorum.db import transaction
from quorum.quality import service as quality
from quorum.settings import Settings
from quorum.tasks import service as tasks
from tests.conftest import ServeProcess, ThreadedServer
from tests.factories import create_project, create_task


def test_request_id_is_echoed_or_made(api):
    assert (
        api.get("/v1/projects", headers={"X-Request-Id": "trace-7"}).headers["X-Request-Id"]
        == "trace-7"
    )
    made = api.get("/v1/projects").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    forged = api.get("/v1/projects", headers={"X-Request-Id": 'x" injected'})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-Id"])
    assert api.get("/nowhere").headers["X-Request-Id"]


def _sample(metrics: str, name: str, default: float | None = None, **labels: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    if default is None:
        raise AssertionError(f"no sample {name} {labels}")
    return default


def test_metrics_count_requests_per_route_template_and_read_queue_depth(api, server):
    project = create_project(api, "chat", "measured")
    create_task(api, "chat", "measured")
    create_task(api, "chat", "measured")
    before = api.get(f"{server.url}/metrics").text
    api.get("/v1/projects/measured")
    after = api.get(f"{server.url}/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    route = {"method": "GET", "route": "/v1/projects/{name}", "status": "200"}
    counted = _sample(before, "quorum_http_requests_total", default=0, **route)
    assert _sample(after.text, "quorum_http_requests_total", **route) == counted + 1
    assert (
        _sample(
            after.text,
            "quorum_http_request_duration_seconds_count",
            method="GET",
            route="/v1/projects/{name}",
        )
        >= 1
    )
    assert _sample(after.text, "quorum_queue_depth", project_id=project["id"]) == 2
    assert _sample(after.text, "quorum_live_leases") >= 0
    assert _sample(after.text, "quorum_callback_backlog") >= 0


def test_serve_writes_json_logs_with_the_request_id(database_url, tmp_path):
    log = tmp_path / "serve.log"
    with ServeProcess(database_url, log_path=log) as serve:
        import httpx

        httpx.get(f"{serve.url}/healthz", headers={"X-Request-Id": "log-me-1"})
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    access = [line for line in lines if line.get("request_id") == "log-me-1"]
    assert access and access[0]["logger"] == "quorum.access"
    assert (access[0]["route"], access[0]["status"], access[0]["method"]) == (
        "/healthz",
        200,
        "GET",
    )


def test_consolidation_lag_counts_completions_the_last_fit_has_not_seen(
    server, tenant, api, sessions
):
    project = create_project(api, "categorization", "lagging")
    task_ids = [create_task(api, "categorization", "lagging")["task_id"] for _ in range(3)]
    with transaction(sessions) as db:
        quality._stored_settings(db, project_id=project["id"])
        for task_id in task_ids:
            task = tasks.get_task(db, org_id=tenant.org_id, task_id=task_id)
            tasks.mark_tasks_completed(db, completions=[(task, {"category": "good"})])

    def lag() -> float:
        metrics = api.get(f"{server.url}/metrics").text
        return _sample(metrics, "quorum_consolidation_lag_tasks", project_id=project["id"])

    assert lag() == 3
    with transaction(sessions) as db:
        quality.refit(db, project_id=project["id"])
    assert lag() == 0
    with transaction(sessions) as db:
        assert project["id"] not in quality.projects_due_for_refit(db), "fitted: not due again"


def test_metrics_need_the_token_when_one_is_set(database_url):
    settings = Settings(database_url=database_url, metrics_token="scrape-secret")
    with ThreadedServer(settings) as guarded:
        anonymous = httpx.get(f"{guarded.url}/metrics")
        assert anonymous.status_code == 401
        assert anonymous.json() == {
            "status_code": 401,
            "error": "/metrics needs the metrics token as a Bearer token",
        }
        wrong = httpx.get(f"{guarded.url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        scraped = httpx.get(
            f"{guarded.url}/metrics", headers={"Authorization": "Bearer scrape-secret"}
        )
        assert scraped.status_code == 200
        assert "# HELP" in scraped.text


def test_metrics_are_open_without_a_token(server):
    assert httpx.get(f"{server.url}/metrics").status_code == 200
