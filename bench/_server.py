"""Shared bench plumbing: a throwaway database, a real ``quorum serve``, an org with a key."""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.db.session import normalize_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A new empty database (dropped afterwards) of the given backend."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    admin_url = make_url(normalize_url(os.environ.get("QUORUM_BENCH_POSTGRES", DEFAULT_POSTGRES)))
    name = f"quorum_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def organization_key(database_url: str, name: str = "bench") -> str:
    engine = create_db_engine(database_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as db:
        org = accounts.create_organization(db, name=f"{name}-{uuid.uuid4().hex[:6]}")
        secret = accounts.create_api_key(db, org_id=org.id).secret
    engine.dispose()
    return secret


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(database_url: str, workers: int = 1) -> Iterator[str]:
    """``quorum serve`` with N processes on a free port; yields its base URL."""
    port = _free_port()
    # A server refuses the public default secret; a throwaway one serves a throwaway database.
    env = {
        **os.environ,
        "QUORUM_DATABASE_URL": database_url,
        "QUORUM_SECRET_KEY": secrets.token_urlsafe(32),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "quorum", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("quorum serve did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_probe() -> float:
    """CPU seconds of a fixed pure-Python loop (best of three); lower is a faster machine.

    This virtual machine's speed follows its host's load: the same work took from 0.75 to 1.2 s
    within one hour. Printed with every run, so that figures from different runs can be read
    against the speed they ran at.
    """
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.process_time() - started)
    return round(best, 3)
