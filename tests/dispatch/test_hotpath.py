"""Next and submit served in front of FastAPI (``dispatch.hotpath``): the same answers as the
documented routes, bad input answered by those routes, and the requests still counted and
logged under their route templates."""

import httpx
import pytest

from tests.dispatch.conftest import categorization_project
from tests.ops.test_observability import _sample

NEXT = "/v1/worker/tasks/next"


def _count(server, method: str, route: str, status: str) -> float:
    metrics = httpx.get(f"{server.url}/metrics").text
    labels = {"method": method, "route": route, "status": status}
    return _sample(metrics, "quorum_http_requests_total", default=0, **labels)


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b'{"project_id": 5}', "application/json", "project_id"),
        (b'{"project_id": null, "extra": 1}', "application/json", "extra"),
        (b'{"project_id": ', "application/json", "JSON"),
        (b'{"project_id": ', "application/vnd.quorum+json; charset=utf-8", "JSON"),
    ],
)
def test_a_bad_next_body_gets_the_api_s_400(make_worker, tenant, body, content_type, error):
    categorization_project(tenant, tasks=1)
    worker = make_worker(tenant, projects=("sentiment",))
    response = worker.client.post(NEXT, content=body, headers={"content-type": content_type})
    assert response.status_code == 400, response.text
    assert response.json()["status_code"] == 400
    assert error in response.text
    assert worker.next().status_code == 200  # nothing was leased by the refused request


def test_a_bad_submit_body_gets_the_api_s_400_and_stores_nothing(make_worker, tenant):
    categorization_project(tenant, tasks=1)
    worker = make_worker(tenant, projects=("sentiment",))
    assignment = worker.next().json()["assignment_id"]
    path = f"/v1/worker/assignments/{assignment}/submit"
    for body in ({"responses": {}}, {"response": "good"}, {}):
        refused = worker.client.post(path, json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["status_code"] == 400
    assert worker.submit(assignment, {"category": "good"}).status_code == 200


def test_a_refusal_from_dispatch_keeps_the_api_s_shape(make_worker, tenant):
    categorization_project(tenant, tasks=1)
    worker = make_worker(tenant, projects=("sentiment",))
    unknown = worker.submit("no-such-assignment", {"category": "good"})
    assert unknown.status_code == 404
    assert unknown.json() == {"status_code": 404, "error": "no assignment 'no-such-assignment'"}
    other_project = worker.next(project_id="nowhere")
    assert other_project.status_code == 404
    assert other_project.json()["error"] == "no project 'nowhere'"


def test_next_and_submit_are_counted_under_their_route_templates(server, make_worker, tenant):
    categorization_project(tenant, tasks=1)
    worker = make_worker(tenant, projects=("sentiment",))
    submit_route = "/v1/worker/assignments/{assignment_id}/submit"
    before = (_count(server, "POST", NEXT, "200"), _count(server, "POST", submit_route, "200"))
    assignment = worker.next().json()["assignment_id"]
    assert worker.submit(assignment, {"category": "good"}).status_code == 200
    after = (_count(server, "POST", NEXT, "200"), _count(server, "POST", submit_route, "200"))
    assert after == (before[0] + 1, before[1] + 1)
    assert _count(server, "POST", f"/v1/worker/assignments/{assignment}/submit", "200") == 0


def test_a_streamed_body_over_the_limit_is_413_and_the_server_carries_on(make_worker, tenant):
    categorization_project(tenant, tasks=1)
    worker = make_worker(tenant, projects=("sentiment",))

    def chunks():
        for _ in range(40):
            yield b" " * 65536

    refused = worker.client.post(
        NEXT, content=chunks(), headers={"content-type": "application/json"}
    )
    assert refused.status_code == 413
    assert worker.next().status_code == 200
