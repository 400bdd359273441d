"""Authentication as Scale does it (Basic, key as user name) and Bearer; one JSON error shape."""

import base64
import threading
import time

import httpx
import pytest
from sqlalchemy import text


def test_basic_and_bearer_both_authenticate(server, tenant):
    basic = httpx.get(f"{server.url}/v1/projects", auth=(tenant.key, ""))
    bearer = httpx.get(
        f"{server.url}/v1/projects", headers={"Authorization": f"Bearer {tenant.key}"}
    )
    assert basic.status_code == bearer.status_code == 200


def test_missing_wrong_and_malformed_credentials_are_401(server):
    url = f"{server.url}/v1/projects"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.json()["status_code"] == 401
    assert httpx.get(url, auth=("live_nope", "")).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Basic !!!"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Digest x"}).status_code == 401


def test_revoked_key_stops_working_and_another_key_keeps_working(server, tenant, api):
    spare = api.post("/v1/keys", json={"name": "rotation"}).json()
    assert spare["secret"].startswith("live_")
    listed = api.get("/v1/keys").json()
    assert all("secret" not in k and "digest" not in k for k in listed)
    assert {k["id"] for k in listed} >= {spare["id"]}
    revoked = api.post(f"/v1/keys/{spare['id']}/revoke").json()
    assert revoked["revoked_at"] is not None
    assert httpx.get(f"{server.url}/v1/projects", auth=(spare["secret"], "")).status_code == 401
    assert api.get("/v1/projects").status_code == 200


def test_keys_are_stored_only_as_digests(tenant, db):
    from sqlalchemy import select

    from quorum.accounts.models import ApiKey

    digests = db.scalars(select(ApiKey.digest).where(ApiKey.org_id == tenant.org_id)).all()
    assert digests and tenant.key not in digests
    assert all(len(d) == 64 for d in digests)


def test_malformed_json_is_400(api):
    response = api.post(
        "/v1/projects", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["status_code"] == 400


def test_wrong_json_shape_is_400(api):
    response = api.post("/v1/projects", json=["a", "list"])
    assert response.status_code == 400
    metadata = api.post("/v1/task/000000000000000000000000/setMetadata", json=[1])
    assert metadata.status_code == 400


def test_unknown_fields_are_refused_not_dropped(api):
    response = api.post("/v1/projects", json={"name": "x", "type": "chat", "colour": "red"})
    assert response.status_code == 400
    assert response.json()["error"] == "colour: unknown field"


def test_oversized_body_is_413(api):
    big = {"name": "x", "type": "chat", "params": {"instruction": "a" * (2 * 1024 * 1024)}}
    response = api.post("/v1/projects", json=big)
    assert response.status_code == 413
    assert "exceeds" in response.json()["error"]


def test_chunked_oversized_body_is_413(api):
    def chunks():
        for _ in range(40):
            yield b"a" * 65536

    response = api.post(
        "/v1/projects", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_unknown_endpoint_and_method_are_json(api):
    missing = api.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"status_code": 404, "error": "no such endpoint"}
    wrong_method = api.delete("/v1/projects")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status_code"] == 405


def test_every_success_is_200_including_creates(api):
    assert api.post("/v1/projects", json={"name": "c", "type": "chat"}).status_code == 200
    assert api.post("/v1/task/chat", json={"project": "c"}).status_code == 200


def test_basic_header_with_key_and_empty_password(server, tenant):
    token = base64.b64encode(f"{tenant.key}:".encode()).decode()
    response = httpx.get(f"{server.url}/v1/projects", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200


def test_health_and_readiness(server):
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}


def test_nul_bytes_are_a_client_error_on_every_backend(api):
    response = api.get("/v1/projects/a%00b")
    assert response.status_code in (400, 404)
    assert response.json()["status_code"] == response.status_code


@pytest.mark.parametrize(
    "configured_before",
    [False, True],
    ids=["the insert breaks a foreign key", "the update finds no row"],
)
def test_a_change_racing_a_deletion_is_a_409_not_a_500(backend, api, sessions, configured_before):
    """The project is deleted while a request configuring it waits on the row: the database's
    foreign key refuses the new settings row, or the update of the existing one finds it gone,
    and the caller hears of a conflict it may retry."""
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers: the request cannot interleave with the delete")
    project = api.post("/v1/projects", json={"name": "doomed", "type": "chat"}).json()
    if configured_before:
        configured = api.patch("/v1/projects/doomed/workforce", json={"access": "members"})
        assert configured.status_code == 200, configured.text
    deleting = sessions()
    deleting.begin()
    deleting.execute(text("DELETE FROM project WHERE id = :id"), {"id": project["id"]})
    replies: list[httpx.Response] = []
    configuring = threading.Thread(
        target=lambda: replies.append(
            api.patch("/v1/projects/doomed/workforce", json={"access": "open"})
        )
    )
    configuring.start()
    time.sleep(1.0)  # the request has read the project and waits on its row lock
    assert not replies, "the write must be waiting for the delete to end"
    deleting.commit()
    deleting.close()
    configuring.join(timeout=30)

    assert replies[0].status_code == 409, replies[0].text
    assert "deleted or taken meanwhile" in replies[0].json()["error"]
    assert api.get("/v1/projects/doomed").status_code == 404
