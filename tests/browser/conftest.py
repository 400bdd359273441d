"""Browser fixtures: one headless Debian Chromium per test session, a fresh context per test,
and workers and projects made through the real API of the ``server`` fixture.

Browser tests run on SQLite only: the pages call the same service functions as the API, whose
PostgreSQL behaviour (locking, SKIP LOCKED, JSONB) the API and dispatch suites already cover on
both backends; a second browser run would double the slowest tests and check nothing new.
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.conftest import Tenant, ThreadedServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session", params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Pages add nothing backend-specific (see the module docstring): SQLite only."""
    return request.param


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, server: ThreadedServer) -> Iterator[Page]:
    """A fresh browser context (no cookies, no storage); page errors fail the test."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1400, "height": 950})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console: {message.text}")

    page.on("console", on_console)
    yield page
    context.close()
    assert not problems, problems


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Worker:
    id: str
    email: str
    password: str


@pytest.fixture
def make_worker(server: ThreadedServer) -> Callable[..., Worker]:
    """A worker invited into the tenant's pool, with a password, on the given projects."""

    def make(tenant: Tenant, *projects: str) -> Worker:
        email = f"w-{uuid.uuid4().hex[:10]}@example.com"
        invited = tenant.client.post("/v1/workers", json={"email": email})
        assert invited.status_code == 200, invited.text
        signup = {"invitation_token": invited.json()["invitation_token"], "password": PASSWORD}
        signed_up = httpx.post(f"{server.url}/v1/worker/signup", json=signup)
        assert signed_up.status_code == 200, signed_up.text
        worker_id = signed_up.json()["id"]
        for project in projects:
            added = tenant.client.post(
                f"/v1/projects/{project}/members", json={"worker_id": worker_id}
            )
            assert added.status_code == 200, added.text
        return Worker(id=worker_id, email=email, password=PASSWORD)

    return make


def make_project(
    tenant: Tenant, task_type: str, params: dict[str, Any], tasks: list[dict[str, Any]]
) -> tuple[str, list[str]]:
    """A project of one type with tasks; returns its name and the task ids."""
    name = f"{task_type}-{uuid.uuid4().hex[:6]}"
    created = tenant.client.post(
        "/v1/projects", json={"name": name, "type": task_type, "params": params}
    )
    assert created.status_code == 200, created.text
    ids = []
    for body in tasks:
        task = tenant.client.post(f"/v1/task/{task_type}", json={"project": name, **body})
        assert task.status_code == 200, task.text
        ids.append(task.json()["task_id"])
    return name, ids


def sign_in(page: Page, worker: Worker) -> None:
    page.goto("/login")
    page.fill("input[name=email]", worker.email)
    page.fill("input[name=password]", worker.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/work")


def wait_ready(page: Page) -> None:
    """The task's tool is mounted and listening (keys pressed before that would be lost)."""
    page.wait_for_selector("#task[data-ready=true]")


def start_working(page: Page, project: str) -> None:
    page.goto("/work")
    page.click(f"article[data-project='{project}'] >> text=Start working")
    wait_ready(page)
