"""Shared fixtures: one real database per backend per test run, a real server on a local port,
and tenants (a fresh organization with its own key) as the unit of isolation between tests.

The suite runs against SQLite always and against PostgreSQL when ``QUORUM_TEST_DATABASE_URL``
points at a server: every fixture built on ``database_url`` runs once per backend.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from quorum.accounts import service as accounts
from quorum.app import create_app
from quorum.cli import app as cli_app
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.db.session import normalize_url
from quorum.settings import Settings, get_settings

POSTGRES_URL = os.environ.get("QUORUM_TEST_DATABASE_URL")
# Servers refuse the public default secret key outside the demo and tests; this is the tests.
# Settings built here and `quorum serve` subprocesses (which inherit the environment) see it.
os.environ["QUORUM_ENV"] = "test"


def create_postgres_database() -> str:
    """A new, empty PostgreSQL database with a unique name; returns its URL."""
    admin_url = make_url(normalize_url(POSTGRES_URL or ""))
    name = f"quorum_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(make_url(normalize_url(POSTGRES_URL or "")), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    """Make an empty database of a backend; PostgreSQL ones are dropped at the end of the run."""
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'quorum.db'}"
        if not POSTGRES_URL:
            pytest.skip("QUORUM_TEST_DATABASE_URL is not set")
        url = create_postgres_database()
        created.append(url)
        return url

    yield make  # type: ignore[misc]
    for url in created:
        drop_postgres_database(url)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, fresh_database_url: Callable[[str], str]) -> str:
    """The run's migrated database of this backend (shared: tests isolate by tenant)."""
    url = fresh_database_url(backend)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session in a transaction that commits when the test body succeeds."""
    with transaction(sessions) as session:
        yield session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadedServer:
    """A real uvicorn server on a local port, in a background thread of the test process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ThreadedServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def server_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings of a test server. Tests drive the active-learning trainer and the quality refit
    themselves, so that their timing is the tests'; and every test signs its workers in from
    this one address, so the per-address login limit is lifted (the tests of throttling set
    their own)."""
    defaults: dict[str, Any] = {
        "active_learning_seconds": 0,
        "quality_refit_seconds": 0,
        "login_attempts_per_address_per_minute": 1_000_000,
    }
    return Settings(database_url=database_url, **{**defaults, **overrides})


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[ThreadedServer]:
    settings = server_settings(database_url, max_body_bytes=1024 * 1024)
    with ThreadedServer(settings) as running:
        yield running


@dataclass
class Tenant:
    """An organization with a live key and an HTTP client authenticated as it."""

    org_id: str
    name: str
    key: str
    client: httpx.Client


@pytest.fixture
def make_tenant(
    server: ThreadedServer, sessions: sessionmaker[Session]
) -> Iterator[Callable[[], Tenant]]:
    clients: list[httpx.Client] = []

    def make() -> Tenant:
        with transaction(sessions) as session:
            org = accounts.create_organization(session, name=f"org-{uuid.uuid4().hex[:10]}")
            key = accounts.create_api_key(session, org_id=org.id)
        client = httpx.Client(base_url=server.url, auth=(key.secret, ""), timeout=30)
        clients.append(client)
        return Tenant(org_id=org.id, name=org.name, key=key.secret, client=client)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def tenant(make_tenant: Callable[[], Tenant]) -> Tenant:
    return make_tenant()


@pytest.fixture
def api(tenant: Tenant) -> httpx.Client:
    """An HTTP client authenticated as a fresh organization."""
    return tenant.client


class ServeProcess:
    """A real ``quorum serve`` subprocess on a free port, for tests of the whole program
    (the official client, crash safety). Extra environment variables become settings; the
    server's JSON logs go to ``log_path`` when given."""

    def __init__(
        self, database_url: str, log_path: Path | None = None, workers: int = 1, **env: str
    ) -> None:
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "QUORUM_DATABASE_URL": database_url, **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "ServeProcess":
        options = ["--port", str(self.port), "--workers", str(self.workers)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "quorum", "serve", *options],
            env=self.env,
            stdout=self.log_path.open("ab") if self.log_path else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"quorum serve exited: {self.process.stderr.read().decode()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("quorum serve did not become healthy in 30 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> "ServeProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def cli(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Any]]:
    """Run ``quorum …`` in-process with this run's database; returns the click result."""
    monkeypatch.setenv("QUORUM_DATABASE_URL", database_url)
    monkeypatch.setenv("QUORUM_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli_app, [str(a) for a in args], catch_exceptions=False)

    yield run
    get_settings.cache_clear()
