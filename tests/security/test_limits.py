"""Attack table, limits class: every way into next, submit and skip enforces the same rules.

Three doors lead to a worker's actions: the worker API served by the fast path in front of
FastAPI (``dispatch.hotpath``, a valid JSON body), the same API routes answering a body the fast
path passes on (here: the same JSON behind a UTF-8 byte order mark, which the route's decoder
accepts and the fast path's does not), and the workbench's page routes. Each row is one attack,
tried on every door for every action it applies to, with the refusal every door must give.

Workers are real: signed up through the API, with an API token (Bearer) from the API login and a
browser session (cookie and CSRF token) from the page login. The server caps live leases at
``LEASE_CAP`` and limits each worker to ``RATE_BURST`` requests a window of ``RATE_WINDOW``
seconds (under the hour after which PostgreSQL's counters are cleaned up; refilled at a rate
too slow to matter within a test).
"""

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from quorum.accounts import service as accounts
from quorum.db import transaction
from tests.conftest import ThreadedServer, server_settings
from tests.factories import TASK_PARAMS, create_project

PASSWORD = "correct horse battery"
LEASE_CAP = 2
RATE_BURST = 30
RATE_WINDOW = 3000
TASKS = LEASE_CAP + 2
BOM = b"\xef\xbb\xbf"
CSRF_REFUSED = "the form expired or came from another site; reload the page and retry"
NOT_JSON = "send the body as JSON with the header Content-Type: application/json"
RATE_REFUSED = "rate limit exceeded; slow down"
BANNED = "this worker account is banned"


@pytest.fixture(scope="module")
def guarded(database_url: str) -> Iterator[ThreadedServer]:
    """A server with a low lease cap and a per-worker rate limit."""
    settings = server_settings(
        database_url,
        max_live_leases_per_worker=LEASE_CAP,
        rate_limit_per_second=RATE_BURST / RATE_WINDOW,
        rate_limit_burst=RATE_BURST,
    )
    with ThreadedServer(settings) as running:
        yield running


@dataclass
class Worker:
    """One worker's two ways of signing in: an API token and a browser session."""

    id: str
    api: httpx.Client  # Authorization: Bearer <API session token>
    browser: httpx.Client  # the page session's cookies (session and CSRF nonce)
    csrf: str  # the CSRF token the browser's pages carry


@dataclass
class Scene:
    """What a row's request needs: the server, the tenant, the worker acting, and more."""

    url: str
    tenant: httpx.Client
    project_id: str
    worker: Worker
    make_worker: Callable[[], Worker]
    clients: list[httpx.Client] = field(default_factory=list)

    def browser(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=30)
        self.clients.append(client)
        return client


def _page_csrf(browser: httpx.Client, path: str) -> str:
    page = browser.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)


@pytest.fixture
def scene(guarded: ThreadedServer, sessions: sessionmaker[Session]) -> Iterator[Scene]:
    """A fresh organization with a project of ``TASKS`` tasks and one member worker."""
    with transaction(sessions) as db:
        org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:10]}")
        key = accounts.create_api_key(db, org_id=org.id)
    tenant = httpx.Client(base_url=guarded.url, auth=(key.secret, ""), timeout=30)
    project = create_project(tenant, "categorization", "limits")
    for _ in range(TASKS):
        body = {"project": "limits", **TASK_PARAMS["categorization"]}
        assert tenant.post("/v1/task/categorization", json=body).status_code == 200
    clients = [tenant]

    def make_worker() -> Worker:
        email = f"w-{uuid.uuid4().hex[:10]}@example.com"
        invited = tenant.post("/v1/workers", json={"email": email}).json()
        browser = httpx.Client(base_url=guarded.url, timeout=30)
        clients.append(browser)
        signup = {"invitation_token": invited["invitation_token"], "password": PASSWORD}
        assert browser.post("/v1/worker/signup", json=signup).status_code == 200
        login = browser.post("/v1/worker/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        browser.cookies.clear()  # the API login sets a cookie too; the browser signs in below
        api = httpx.Client(
            base_url=guarded.url,
            headers={"Authorization": f"Bearer {login.json()['token']}"},
            timeout=30,
        )
        clients.append(api)
        form = {"email": email, "password": PASSWORD, "csrf_token": _page_csrf(browser, "/login")}
        signed_in = browser.post("/login", data=form)
        assert signed_in.status_code == 303, signed_in.text
        worker_id = login.json()["worker"]["id"]
        added = tenant.post("/v1/projects/limits/members", json={"worker_id": worker_id})
        assert added.status_code == 200, added.text
        return Worker(worker_id, api, browser, _page_csrf(browser, "/work"))

    built = Scene(guarded.url, tenant, project["id"], make_worker(), make_worker)
    yield built
    for client in clients + built.clients:
        client.close()


# --- the doors ------------------------------------------------------------------------------

DOORS = ("fast path", "API route", "page")


def _path(door: str, action: str, scene: Scene, assignment_id: str) -> str:
    if door == "page":
        if action == "next":
            return f"/work/projects/{scene.project_id}/next"
        return f"/work/assignments/{assignment_id}/{action}"
    if action == "next":
        return "/v1/worker/tasks/next"
    return f"/v1/worker/assignments/{assignment_id}/{action}"


def _body(door: str, action: str, scene: Scene) -> bytes:
    data: dict[str, Any] = {
        "next": {} if door == "page" else {"project_id": scene.project_id},
        "submit": {"response": {"category": "good"}},
        "skip": {"reason": "cannot read it"},
    }[action]
    encoded = json.dumps(data).encode()
    return BOM + encoded if door == "API route" else encoded


# --- the ways a row signs its request -------------------------------------------------------


def _own(scene: Scene, door: str) -> tuple[httpx.Client, dict[str, Any]]:
    """The worker's ordinary credentials at this door: the token on the API, the browser's
    session and CSRF token on the pages."""
    if door == "page":
        return scene.worker.browser, {"X-CSRF-Token": scene.worker.csrf}
    return scene.worker.api, {}


def _session_and_csrf(scene: Scene, _door: str) -> tuple[httpx.Client, dict[str, Any]]:
    return scene.worker.browser, {"X-CSRF-Token": scene.worker.csrf}


def _anonymous(scene: Scene, _door: str) -> tuple[httpx.Client, dict[str, Any]]:
    """A browser that opened the sign-in page (it holds a CSRF token) but never signed in."""
    browser = scene.browser()
    return browser, {"X-CSRF-Token": _page_csrf(browser, "/login")}


def _forged_session(scene: Scene, _door: str) -> tuple[httpx.Client, dict[str, Any]]:
    browser = scene.browser()
    token = _page_csrf(browser, "/login")
    browser.cookies.set("quorum_worker_session", "a-session-nobody-opened")
    return browser, {"X-CSRF-Token": token}


def _cookie_only(scene: Scene, _door: str) -> tuple[httpx.Client, dict[str, Any]]:
    return scene.worker.browser, {}


def _cookie_with(header: str | bytes) -> Callable[[Scene, str], tuple[httpx.Client, dict]]:
    def sign(scene: Scene, _door: str) -> tuple[httpx.Client, dict[str, Any]]:
        return scene.worker.browser, {"X-CSRF-Token": header}

    return sign


def _cookie_with_another_sessions_token(
    scene: Scene, _door: str
) -> tuple[httpx.Client, dict[str, Any]]:
    """The CSRF token of another worker's signed-in browser (an attacker's own session)."""
    return scene.worker.browser, {"X-CSRF-Token": scene.make_worker().csrf}


def _cookie_with_token_as_form_field(
    scene: Scene, _door: str
) -> tuple[httpx.Client, dict[str, Any]]:
    """No header: the token travels as the form field a page's form would post."""
    return scene.worker.browser, {}


# --- what a row does before its request -----------------------------------------------------


def _lease(worker: Worker, scene: Scene) -> str:
    leased = worker.api.post("/v1/worker/tasks/next", json={"project_id": scene.project_id})
    assert leased.status_code == 200, leased.text
    return leased.json()["assignment_id"]


def _own_lease(scene: Scene) -> str:
    return _lease(scene.worker, scene)


def _other_workers_lease(scene: Scene) -> str:
    return _lease(scene.make_worker(), scene)


def _hold_the_cap(scene: Scene) -> str:
    for _ in range(LEASE_CAP):
        assignment_id = _own_lease(scene)
    return assignment_id


def _spend_the_rate(scene: Scene) -> str:
    """Lease one task, then use up the worker's requests on reads of their history (twice the
    burst at most: a fixed window may end meanwhile)."""
    assignment_id = _own_lease(scene)
    statuses = [scene.worker.api.get("/v1/worker/assignments").status_code]
    while statuses[-1] != 429:
        assert len(statuses) <= 2 * RATE_BURST, f"the rate limit never answered 429: {statuses}"
        statuses.append(scene.worker.api.get("/v1/worker/assignments").status_code)
    return assignment_id


def _set_status(status: str) -> Callable[[Scene], str]:
    def set_status(scene: Scene) -> str:
        assignment_id = _own_lease(scene)
        path = f"/v1/workers/{scene.worker.id}/status"
        assert scene.tenant.post(path, json={"status": status}).status_code == 200
        return assignment_id

    return set_status


# --- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    status: int
    error: str  # the start of the JSON error every door answers with
    sign: Callable[[Scene, str], tuple[httpx.Client, dict[str, Any]]] = _own
    setup: Callable[[Scene], str] = _own_lease
    content_type: str | None = "application/json"
    actions: tuple[str, ...] = ("next", "submit", "skip")
    page_error: str | None = None  # the pages' wording, where it differs from the API's
    page_status: int | None = None  # the pages' refusal, where it differs from the API's
    form_field: bool = False
    readable: bool = True  # whether the worker can still list their assignments afterwards


ROWS = [
    # Controls: the credentials the other rows spoil are accepted at every door.
    Row("own credentials", 200, ""),
    Row("session cookie with its CSRF header", 200, "", sign=_session_and_csrf),
    Row("JSON with a charset and a +json type", 200, "", content_type="application/x+json; q=1"),
    # Authentication.
    Row(
        "no session at all",
        401,
        "log in as a worker",
        sign=_anonymous,
        page_error="your session ended; sign in again",
    ),
    Row(
        "a made-up session cookie",
        401,
        "the worker session is invalid or expired",
        sign=_forged_session,
        page_error="your session ended; sign in again",
    ),
    Row(
        "another worker's assignment",
        404,
        "no assignment",
        setup=_other_workers_lease,
        actions=("submit", "skip"),
    ),
    # CSRF: the session cookie alone is what a cross-site page can make a browser send.
    Row("session cookie without a CSRF token", 403, CSRF_REFUSED, sign=_cookie_only),
    Row("session cookie, wrong CSRF token", 403, CSRF_REFUSED, sign=_cookie_with("not-it")),
    Row("session cookie, empty CSRF token", 403, CSRF_REFUSED, sign=_cookie_with("")),
    Row("session cookie, non-ASCII CSRF", 403, CSRF_REFUSED, sign=_cookie_with(b"\xff\xfe")),
    Row(
        "session cookie, another session's CSRF token",
        403,
        CSRF_REFUSED,
        sign=_cookie_with_another_sessions_token,
    ),
    # The API takes the token in the header only; the pages read it from a form too, and then
    # refuse the form body.
    Row(
        "session cookie, CSRF token as a form field",
        403,
        CSRF_REFUSED,
        sign=_cookie_with_token_as_form_field,
        content_type="application/x-www-form-urlencoded",
        form_field=True,
        page_status=415,
        page_error=NOT_JSON,
    ),
    # Content types a cross-site form or a preflight-free fetch can send.
    Row("text/plain body", 415, NOT_JSON, content_type="text/plain"),
    Row(
        "text/plain body on the cookie",
        415,
        NOT_JSON,
        sign=_session_and_csrf,
        content_type="text/plain",
    ),
    Row("form-encoded body", 415, NOT_JSON, content_type="application/x-www-form-urlencoded"),
    Row("multipart body", 415, NOT_JSON, content_type="multipart/form-data; boundary=x"),
    Row("no content type", 415, NOT_JSON, content_type=None),
    Row("a type that only ends in json", 415, NOT_JSON, content_type="text/json"),
    # Limits.
    Row(
        "over the live-lease cap",
        429,
        f"you hold {LEASE_CAP} live leases",
        setup=_hold_the_cap,
        actions=("next",),
    ),
    Row("over the rate limit", 429, RATE_REFUSED, setup=_spend_the_rate),
    # The worker's account.
    Row(
        "paused worker",
        403,
        "your account is paused",
        setup=_set_status("paused"),
        actions=("next",),
    ),
    Row("banned worker", 403, BANNED, setup=_set_status("banned"), readable=False),
]
CASES = [
    pytest.param(row, door, action, id=f"{row.name}-{door}-{action}")
    for row in ROWS
    for door in DOORS
    for action in row.actions
]


def _assignments(worker: Worker) -> list[tuple[str, str]]:
    """The worker's assignments and their states (read with the API token)."""
    listed = worker.api.get("/v1/worker/assignments")
    assert listed.status_code == 200, listed.text
    return [(a["assignment_id"], a["state"]) for a in listed.json()["docs"]]


@pytest.mark.parametrize(("row", "door", "action"), CASES)
def test_every_door_refuses_alike(scene: Scene, row: Row, door: str, action: str) -> None:
    assignment_id = row.setup(scene)
    observed = row.readable and row.setup is not _spend_the_rate
    before = _assignments(scene.worker) if observed else None
    client, headers = row.sign(scene, door)
    headers = {"Accept": "application/json", **headers}
    if row.content_type is not None:
        headers["Content-Type"] = row.content_type
    body = _body(door, action, scene)
    if row.form_field:
        body = f"csrf_token={scene.worker.csrf}".encode()
    response = client.post(_path(door, action, scene, assignment_id), content=body, headers=headers)

    status = row.page_status if door == "page" and row.page_status else row.status
    assert response.status_code == status, response.text
    if status == 200:
        return
    error = row.page_error if door == "page" and row.page_error else row.error
    assert response.json()["status_code"] == status
    assert response.json()["error"].startswith(error), response.text
    if observed:
        assert _assignments(scene.worker) == before, "a refused request changed something"


def test_the_fast_path_and_the_route_refuse_with_the_same_body(scene: Scene) -> None:
    """Beyond the table's prefixes: whole bodies and headers of one refusal, both doors."""
    answers = []
    for body in (b'{"project_id": null}', BOM + b'{"project_id": null}'):
        response = scene.worker.browser.post(
            "/v1/worker/tasks/next",
            content=body,
            headers={"Content-Type": "application/json", "X-CSRF-Token": "not-it"},
        )
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1] == (403, {"status_code": 403, "error": CSRF_REFUSED})


def test_the_lease_cap_counts_leases_from_every_door(scene: Scene) -> None:
    """A lease taken on the page and one on the API count towards one cap, which then holds
    on the page that opens a project's workbench (it leases when it has no lease to resume)."""
    other = create_project(scene.tenant, "categorization", "other")
    body = {"project": "other", **TASK_PARAMS["categorization"]}
    assert scene.tenant.post("/v1/task/categorization", json=body).status_code == 200
    member = {"worker_id": scene.worker.id}
    assert scene.tenant.post("/v1/projects/other/members", json=member).status_code == 200
    page = scene.worker.browser.post(
        f"/work/projects/{scene.project_id}/next",
        json={},
        headers={"X-CSRF-Token": scene.worker.csrf, "Accept": "application/json"},
    )
    assert page.status_code == 200, page.text
    assert page.json()["assignment_id"]
    _own_lease(scene)
    resumed = scene.worker.browser.get(f"/work/projects/{scene.project_id}")
    assert resumed.status_code == 303, "resuming a live lease is not a new lease"
    opened = scene.worker.browser.get(f"/work/projects/{other['id']}")
    assert opened.status_code == 429, opened.text
    assert f"you hold {LEASE_CAP} live leases" in opened.text
    assert len([state for _, state in _assignments(scene.worker) if state == "active"]) == LEASE_CAP


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/v1/worker/me", {"name": '=HYPERLINK("https://evil.test")'}),
        ("POST", "/v1/worker/logout", {}),
    ],
)
def test_other_worker_api_changes_need_the_csrf_token_with_the_cookie(scene, method, path, body):
    """Beyond next, submit and skip: a change made with the session cookie alone is one a
    cross-site page could make, so it carries the pages' CSRF token or is refused."""
    browser = scene.worker.browser
    refused = browser.request(method, path, json=body)
    assert refused.status_code == 403, refused.text
    me = scene.worker.api.get("/v1/worker/me")
    assert me.status_code == 200 and me.json()["name"] != body.get("name")  # in, unchanged
    allowed = browser.request(method, path, json=body, headers={"X-CSRF-Token": scene.worker.csrf})
    assert allowed.status_code in (200, 204), allowed.text
