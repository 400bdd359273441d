"""An acknowledged submit is committed: it survives a SIGKILL of the server process."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.workforce import service as workforce
from tests.conftest import free_port
from tests.dispatch.conftest import staffed_project

pytestmark = pytest.mark.slow


@contextmanager
def quorum_serve(database_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``quorum serve`` process; the caller may kill it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "quorum", "serve", "--port", str(port)],
        env={**os.environ, "QUORUM_DATABASE_URL": database_url, "QUORUM_LEASE_SWEEP_SECONDS": "0"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "quorum serve exited"
            assert time.monotonic() < deadline, "quorum serve did not start"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def test_acknowledged_submit_survives_sigkill(backend, fresh_database_url):
    url = fresh_database_url(backend)
    engine = create_db_engine(url)
    upgrade(engine)
    with transaction(session_factory(engine)) as db:
        org_id, (task_id,), (worker,) = staffed_project(db, tasks=1)
        key = accounts.create_api_key(db, org_id=org_id).secret
        token = workforce.open_session(db, worker_id=worker.id)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    as_worker = {"Authorization": f"Bearer {token}"}

    with quorum_serve(url, port) as server:
        lease = httpx.post(f"{base}/v1/worker/tasks/next", json={}, headers=as_worker).json()
        submitted = httpx.post(
            f"{base}/v1/worker/assignments/{lease['assignment_id']}/submit",
            json={"response": {"category": "bad"}},
            headers=as_worker,
        )
        assert submitted.status_code == 200
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)

    with quorum_serve(url, port):
        task = httpx.get(f"{base}/v1/task/{task_id}", auth=(key, "")).json()
        history = httpx.get(f"{base}/v1/worker/assignments", headers=as_worker).json()
    assert (task["status"], task["response"]["category"]) == ("completed", "bad")
    assert [(a["state"], a["response"]) for a in history["docs"]] == [
        ("submitted", {"category": "bad"})
    ]
