"""Two real ``quorum serve`` processes on one PostgreSQL behave as one service: rate limits and
login throttling hold across both (counted in PostgreSQL, or in Redis when configured), and a
SIGTERM to one of them mid-load loses no acknowledged work."""

import signal
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import Engine

from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from tests.conftest import ServeProcess

pytestmark = pytest.mark.slow
QUIET = {"QUORUM_CALLBACK_SENDER": "false", "QUORUM_LEASE_SWEEP_SECONDS": "0"}
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def postgres_url(fresh_database_url) -> str:
    return fresh_database_url("postgresql")


def _key(engine: Engine) -> str:
    with transaction(session_factory(engine)) as db:
        org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:8]}")
        return accounts.create_api_key(db, org_id=org.id).secret


def _wait_for_window_start(window: float, within: float) -> None:
    """Sleep until a fresh fixed window has just begun, so a short burst stays inside it."""
    while time.time() % window > within:
        time.sleep(0.01)


@pytest.mark.parametrize("shared_by", ["postgresql", "redis"])
def test_a_key_rate_limit_holds_across_two_servers(postgres_url, shared_by):
    # 2 requests/s with bursts of 10: one 5-second window admits 10 requests, whichever server.
    env = {**QUIET, "QUORUM_RATE_LIMIT_PER_SECOND": "2", "QUORUM_RATE_LIMIT_BURST": "10"}
    if shared_by == "redis":
        env["QUORUM_REDIS_URL"] = REDIS_URL
    with ServeProcess(postgres_url, **env) as first, ServeProcess(postgres_url, **env) as second:
        engine = create_db_engine(postgres_url)
        key = _key(engine)
        engine.dispose()
        servers = [first.url, second.url]
        _wait_for_window_start(5.0, within=0.3)
        replies = [httpx.get(f"{servers[i % 2]}/v1/projects", auth=(key, "")) for i in range(14)]
    statuses = [reply.status_code for reply in replies]
    assert statuses == [200] * 10 + [429] * 4
    refused = replies[-1]
    assert refused.json()["error"] == "rate limit exceeded; slow down"
    assert 1 <= int(refused.headers["Retry-After"]) <= 5


def test_a_login_flood_is_throttled_across_two_servers(postgres_url):
    env = {**QUIET, "QUORUM_LOGIN_ATTEMPTS_PER_MINUTE": "5"}
    with ServeProcess(postgres_url, **env) as first, ServeProcess(postgres_url, **env) as second:
        servers = [first.url, second.url]
        body = {"email": f"{uuid.uuid4().hex[:8]}@example.org", "password": "guess-guess"}
        _wait_for_window_start(60.0, within=50.0)
        statuses = [
            httpx.post(f"{servers[i % 2]}/v1/worker/login", json=body).status_code for i in range(7)
        ]
        other = {"email": f"{uuid.uuid4().hex[:8]}@example.org", "password": "guess-guess"}
        other_status = httpx.post(f"{first.url}/v1/worker/login", json=other).status_code
    assert statuses == [401] * 5 + [429] * 2
    assert other_status == 401  # the limit is per account: another account may still try


def test_sigterm_mid_load_loses_no_acknowledged_work(postgres_url):
    with ServeProcess(postgres_url, **QUIET) as doomed, ServeProcess(postgres_url, **QUIET) as peer:
        engine = create_db_engine(postgres_url)
        key = _key(engine)
        engine.dispose()
        httpx.post(
            f"{peer.url}/v1/projects", json={"name": "load", "type": "chat"}, auth=(key, "")
        ).raise_for_status()
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def create_tasks() -> None:
            with httpx.Client(base_url=doomed.url, auth=(key, ""), timeout=30) as client:
                while not stop.is_set():
                    try:
                        reply = client.post("/v1/task/chat", json={"project": "load"})
                    except httpx.TransportError:
                        return
                    if reply.status_code == 200:
                        with lock:
                            acknowledged.append(reply.json()["task_id"])

        threads = [threading.Thread(target=create_tasks) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        doomed.process.send_signal(signal.SIGTERM)
        # uvicorn drains in-flight requests, then re-raises the signal it caught.
        assert doomed.process.wait(timeout=30) in (0, -signal.SIGTERM)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert len(acknowledged) > 10
        with httpx.Client(base_url=peer.url, auth=(key, "")) as client:
            missing = [t for t in acknowledged if client.get(f"/v1/task/{t}").status_code != 200]
            total = client.get("/v1/tasks", params={"project": "load"}).json()["total"]
    assert missing == []
    assert total >= len(acknowledged)
