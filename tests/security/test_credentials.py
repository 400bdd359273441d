"""Credentials (security issue 17): an attack table per class, through the public surfaces.

- every login surface is throttled per account and per client address (429 + Retry-After);
- unknown accounts get the same answer as wrong passwords, in about the same time;
- a key mints only keys of its role or lower that expire no later than itself;
- a customer's web session dies with its key (revoked or expired);
- model-owner tokens expire and can be revoked (and rotated);
- servers refuse the public default secret key outside the demo and the tests.

The servers here trust ``X-Forwarded-For`` from loopback (uvicorn's default), so one test plays
many client addresses; each test uses fresh accounts and addresses, so counters never collide.
"""

import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from quorum.accounts import service as accounts
from quorum.db import transaction
from quorum.settings import Settings
from quorum.workforce import service as workforce
from quorum.workforce.schemas import WorkerSignup
from tests.conftest import Tenant, ThreadedServer, free_port, server_settings

PASSWORD = "correct horse battery staple"
PER_ACCOUNT = 3
PER_ADDRESS = 6
# PostgreSQL and Redis count in fixed windows aligned on the clock: a row that straddles a window's
# end would start again from zero. An hour's window makes that (a few seconds in 3600) negligible.
WINDOW_SECONDS = 3600


@pytest.fixture(scope="module")
def strict(database_url: str) -> Iterator[ThreadedServer]:
    """A server with small login limits (3 per account, 6 per address, per window)."""
    settings = server_settings(
        database_url,
        login_attempts_per_minute=PER_ACCOUNT,
        login_attempts_per_address_per_minute=PER_ADDRESS,
        login_window_seconds=WINDOW_SECONDS,
    )
    with ThreadedServer(settings) as running:
        yield running


def unique_address() -> str:
    return f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def unique_email(kind: str = "w") -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}@example.org"


@pytest.fixture
def make_worker(sessions: sessionmaker[Session]) -> Callable[[], str]:
    """A public-pool worker with ``PASSWORD``; returns the email."""

    def make() -> str:
        email = unique_email("worker")
        with transaction(sessions) as db:
            workforce.sign_up(db, data=WorkerSignup(email=email, password=PASSWORD))
        return email

    return make


@pytest.fixture
def make_staff(sessions: sessionmaker[Session]) -> Callable[[], str]:
    def make() -> str:
        email = unique_email("staff")
        with transaction(sessions) as db:
            accounts.create_staff(db, email=email, password=PASSWORD)
        return email

    return make


def page_form(client: httpx.Client, path: str) -> str:
    """Open a sign-in page (sets the CSRF cookie) and return the form's CSRF token."""
    page = client.get(path)
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


class Surface:
    """One way to sign in: ``attempt(client, account, secret)`` returns the response."""

    def __init__(self, name: str, attempt: Callable[[httpx.Client, str, str], httpx.Response]):
        self.name = name
        self.attempt = attempt

    def __repr__(self) -> str:
        return self.name


def _worker_api(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/v1/worker/login", json={"email": email, "password": password})


def _staff_api(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/v1/staff/login", json={"email": email, "password": password})


def _worker_page(client: httpx.Client, email: str, password: str) -> httpx.Response:
    token = page_form(client, "/login")
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/work"}
    )


def _customer_page(client: httpx.Client, key: str, _unused: str) -> httpx.Response:
    token = page_form(client, "/customer/login")
    return client.post("/customer/login", data={"api_key": key, "csrf_token": token})


WORKER_API = Surface("worker API", _worker_api)
WORKER_PAGE = Surface("worker page", _worker_page)
STAFF_API = Surface("staff API", _staff_api)
CUSTOMER_PAGE = Surface("customer page", _customer_page)
PASSWORD_SURFACES = [WORKER_API, WORKER_PAGE, STAFF_API]


def client_from(server: ThreadedServer, address: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"X-Forwarded-For": address}, timeout=30)


def account_for(surface: Surface, make_worker, make_staff) -> str:
    return make_staff() if surface is STAFF_API else make_worker()


def assert_throttled(response: httpx.Response, surface: Surface) -> None:
    assert response.status_code == 429, (surface, response.status_code, response.text[:300])
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW_SECONDS
    if surface in (WORKER_PAGE, CUSTOMER_PAGE):
        assert response.headers["content-type"].startswith("text/html")
        assert "too many login attempts" in response.text
    else:
        assert response.json() == {
            "status_code": 429,
            "error": "too many login attempts; try again later",
        }


# 1. Throttling: (surface, how the guesses are spread). Every row must end in a 429.
THROTTLE_ROWS = [
    # many wrong passwords in a row on one account, from one address
    (WORKER_API, "one account, one address"),
    (WORKER_PAGE, "one account, one address"),
    (STAFF_API, "one account, one address"),
    # one account guessed from many addresses (a botnet): the account limit holds
    (WORKER_API, "one account, many addresses"),
    (WORKER_PAGE, "one account, many addresses"),
    (STAFF_API, "one account, many addresses"),
    # the account's email spelled differently each time (case, spaces) is still one account
    (WORKER_PAGE, "one account, many spellings"),
    (WORKER_API, "one account, many spellings"),
    # many accounts (password spraying) from one address: the address limit holds
    (WORKER_API, "many accounts, one address"),
    (WORKER_PAGE, "many accounts, one address"),
    (STAFF_API, "many accounts, one address"),
    # unknown accounts are counted too
    (WORKER_PAGE, "unknown accounts, one address"),
]


@pytest.mark.parametrize(("surface", "spread"), THROTTLE_ROWS, ids=lambda v: str(v))
def test_login_guesses_are_throttled(strict, make_worker, make_staff, surface, spread):
    account = account_for(surface, make_worker, make_staff)
    address = unique_address()
    if spread.startswith("one account"):
        limit = PER_ACCOUNT
        spellings = [account, account.upper(), f"  {account} ", account.title()]
        for attempt in range(limit + 1):
            source = unique_address() if spread.endswith("many addresses") else address
            email = spellings[attempt % len(spellings)] if "spellings" in spread else account
            with client_from(strict, source) as client:
                response = surface.attempt(client, email, f"wrong-{attempt}")
            if attempt < limit:
                assert response.status_code == 401, response.text[:300]
        assert_throttled(response, surface)
        # Throttled: even the right password is refused until the window passes.
        with client_from(strict, unique_address()) as client:
            assert_throttled(surface.attempt(client, account, PASSWORD), surface)
    else:
        with client_from(strict, address) as client:
            for attempt in range(PER_ADDRESS + 1):
                email = (
                    unique_email()
                    if spread.startswith("unknown")
                    else (account_for(surface, make_worker, make_staff))
                )
                response = surface.attempt(client, email, "Winter2026!")
                if attempt < PER_ADDRESS:
                    assert response.status_code == 401, response.text[:300]
            assert_throttled(response, surface)
        # Another address is not held back by this one's guesses.
        with client_from(strict, unique_address()) as client:
            assert surface.attempt(client, account, PASSWORD).status_code in (200, 303)


def test_the_worker_api_and_page_share_one_budget_per_account(strict, make_worker):
    """Alternating the API and the page does not double an attacker's guesses."""
    account = make_worker()
    surfaces = [WORKER_API, WORKER_PAGE]
    for attempt in range(PER_ACCOUNT):
        with client_from(strict, unique_address()) as client:
            assert surfaces[attempt % 2].attempt(client, account, "nope").status_code == 401
    for surface in surfaces:
        with client_from(strict, unique_address()) as client:
            assert_throttled(surface.attempt(client, account, "nope"), surface)


def test_retry_after_is_honest_the_account_opens_again_after_it(database_url, make_worker):
    """With a 4-second window: guesses end in a 429, and after its Retry-After the right
    password works again (the lock is a delay, not a denial of the real worker)."""
    settings = server_settings(database_url, login_attempts_per_minute=1, login_window_seconds=4)
    account = make_worker()
    with ThreadedServer(settings) as short, client_from(short, unique_address()) as client:
        for _ in range(3):  # a fixed window may restart once mid-way: at most twice the limit
            response = WORKER_API.attempt(client, account, "wrong")
            if response.status_code == 429:
                break
        assert_throttled(response, WORKER_API)
        time.sleep(int(response.headers["Retry-After"]) + 0.1)
        assert WORKER_API.attempt(client, account, PASSWORD).status_code == 200


CUSTOMER_KEY_GUESSES = [
    "live_" + "0" * 32,
    "test_" + "f" * 32,
    "",
    "x" * 5000,
    "live_' OR '1'='1",
    "live_\u0000",
]


def test_customer_page_key_guesses_are_throttled_per_address(strict, tenant: Tenant):
    with client_from(strict, unique_address()) as client:
        for attempt in range(PER_ADDRESS):
            guess = CUSTOMER_KEY_GUESSES[attempt % len(CUSTOMER_KEY_GUESSES)] + str(attempt)
            response = CUSTOMER_PAGE.attempt(client, guess, "")
            assert response.status_code == 401, response.text[:300]
        # Past the limit even the right key waits.
        assert_throttled(CUSTOMER_PAGE.attempt(client, tenant.key, ""), CUSTOMER_PAGE)
    with client_from(strict, unique_address()) as client:
        assert CUSTOMER_PAGE.attempt(client, tenant.key, "").status_code == 303


# 2. Same answer, similar time, for unknown accounts.
def _comparable(response: httpx.Response) -> tuple[int, str, dict[str, str]]:
    volatile = {"date", "x-request-id"}
    headers = {k: v for k, v in response.headers.items() if k.lower() not in volatile}
    return response.status_code, response.text, headers


UNKNOWN_ACCOUNT_ROWS = [
    (surface, unknown)
    for surface in PASSWORD_SURFACES
    for unknown in ("never-signed-up@example.org", "{known}.typo", "UPPER-{known}", "x" * 300)
]


@pytest.mark.parametrize(("surface", "unknown"), UNKNOWN_ACCOUNT_ROWS, ids=str)
def test_unknown_account_and_wrong_password_get_the_same_answer(
    server, make_worker, make_staff, surface, unknown
):
    known = account_for(surface, make_worker, make_staff)
    stranger = unknown.format(known=known).replace("UPPER-", "upper-")
    with client_from(server, unique_address()) as client:
        wrong_password = surface.attempt(client, known, "not-the-password")
        no_account = surface.attempt(client, stranger, "not-the-password")
    assert wrong_password.status_code == 401
    if surface is WORKER_PAGE:
        # The page echoes the typed email back into the form: compare it with the email taken out.
        assert wrong_password.text.replace(known, "") == no_account.text.replace(stranger, "")
        assert _comparable(wrong_password)[2].keys() == _comparable(no_account)[2].keys()
    else:
        assert _comparable(wrong_password) == _comparable(no_account)


def _seconds(attempt: Callable[[], httpx.Response]) -> float:
    started = time.perf_counter()
    assert attempt().status_code == 401
    return time.perf_counter() - started


@pytest.mark.parametrize("surface", PASSWORD_SURFACES, ids=str)
def test_unknown_accounts_take_as_long_as_wrong_passwords(server, make_worker, make_staff, surface):
    """The unknown account path verifies a dummy argon2 hash (before the fix it answered in a
    few milliseconds, against tens for a wrong password). The two kinds alternate, so that a
    busy machine slows both alike."""
    known = account_for(surface, make_worker, make_staff)
    unknown, wrong = [], []
    with client_from(server, unique_address()) as client:
        surface.attempt(client, unique_email(), "warm-up")
        for _ in range(9):
            unknown.append(_seconds(lambda: surface.attempt(client, unique_email(), "guess")))
            wrong.append(_seconds(lambda: surface.attempt(client, known, "guess")))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 <= ratio <= 2, (unknown, wrong)


def test_a_disabled_staff_account_gets_the_same_answer_and_loses_its_session(
    server, make_staff, sessions
):
    email = make_staff()
    with client_from(server, unique_address()) as client:
        token = STAFF_API.attempt(client, email, PASSWORD).json()["token"]
        me = client.get("/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        with transaction(sessions) as db:
            accounts.disable_staff(db, email=email)
        gone = client.get("/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
        assert gone.status_code == 401
        disabled = STAFF_API.attempt(client, email, PASSWORD)
        unknown = STAFF_API.attempt(client, unique_email(), PASSWORD)
    assert _comparable(disabled) == _comparable(unknown)


# 3. Key minting: (minting key's role, its expiry, requested body, expected status).
IN_AN_HOUR = "+1h"
IN_A_DAY = "+1d"
MINT_ROWS = [
    # role ceiling
    ("admin", None, {"role": "owner"}, 403),
    ("admin", None, {"role": "admin"}, 200),
    ("admin", None, {"role": "viewer"}, 200),
    ("owner", None, {"role": "owner"}, 200),
    ("member", None, {"role": "viewer"}, 403),  # members manage no keys
    ("viewer", None, {}, 403),
    # expiry ceiling
    ("owner", IN_AN_HOUR, {"expires_at": None}, 403),  # explicit "never"
    ("owner", IN_AN_HOUR, {"expires_at": IN_A_DAY}, 403),
    ("admin", IN_AN_HOUR, {"role": "viewer", "expires_at": IN_A_DAY}, 403),
    ("owner", IN_AN_HOUR, {"expires_at": "+59m"}, 200),
    ("owner", IN_AN_HOUR, {}, 200),  # inherits the minting key's expiry
    ("owner", IN_AN_HOUR, {"role": "admin", "scope": "read"}, 200),
    ("owner", None, {"expires_at": IN_A_DAY}, 200),
    ("owner", None, {"expires_at": None}, 200),
    # both ceilings at once
    ("admin", IN_AN_HOUR, {"role": "owner", "expires_at": None}, 403),
    # a read-only key mints nothing, not even a read-only viewer key
    ("owner", None, {"role": "viewer", "scope": "read", "_minting_scope": "read"}, 403),
]


def _when(value: str | None, now: datetime) -> str | None:
    if value is None:
        return None
    amount, unit = int(value[1:-1]), value[-1]
    return (
        now
        + {
            "h": timedelta(hours=amount),
            "d": timedelta(days=amount),
            "m": timedelta(minutes=amount),
        }[unit]
    ).isoformat()


@pytest.mark.parametrize(("role", "expiry", "body", "status"), MINT_ROWS, ids=str)
def test_a_key_mints_only_weaker_keys_that_expire_no_later(
    tenant: Tenant, server, role, expiry, body, status
):
    now = datetime.now(UTC)
    body = dict(body)
    scope = body.pop("_minting_scope", "full")
    minting = tenant.client.post(
        "/v1/keys", json={"role": role, "scope": scope, "expires_at": _when(expiry, now)}
    ).json()
    request = {k: _when(v, now) if k == "expires_at" else v for k, v in body.items()}
    with httpx.Client(base_url=server.url, auth=(minting["secret"], "")) as client:
        response = client.post("/v1/keys", json=request)
    assert response.status_code == status, response.text
    if status == 200:
        minted = response.json()
        limit = minting["expires_at"]
        if limit is not None:
            assert minted["expires_at"] is not None
            assert datetime.fromisoformat(minted["expires_at"]) <= datetime.fromisoformat(limit)
    else:
        error = response.json()["error"]
        assert any(reason in error for reason in ("cannot", "read-only", "role")), error


# 4. Web sessions end with their key.
def sign_in_customer(client: httpx.Client, key: str) -> None:
    assert CUSTOMER_PAGE.attempt(client, key, "").status_code == 303
    assert client.get("/customer").status_code == 200


def _assert_session_dead(client: httpx.Client) -> None:
    page = client.get("/customer/tasks")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/customer/login")
    api_like = client.get("/customer", headers={"Accept": "application/json"})
    assert api_like.status_code == 401
    assert api_like.json()["status_code"] == 401


@pytest.mark.parametrize("ending", ["revoked by another key", "revoked by itself", "expired"])
def test_a_customer_session_dies_with_its_key(tenant: Tenant, server, ending):
    soon = datetime.now(UTC) + timedelta(seconds=2)
    body = {"expires_at": soon.isoformat()} if ending == "expired" else {}
    key = tenant.client.post("/v1/keys", json=body).json()
    with client_from(server, unique_address()) as browser:
        sign_in_customer(browser, key["secret"])
        if ending == "revoked by another key":
            assert tenant.client.post(f"/v1/keys/{key['id']}/revoke").status_code == 200
        elif ending == "revoked by itself":
            with httpx.Client(base_url=server.url, auth=(key["secret"], "")) as own:
                assert own.post(f"/v1/keys/{key['id']}/revoke").status_code == 200
        else:
            time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.3)
        _assert_session_dead(browser)


def test_a_banned_worker_loses_the_web_session_at_once(server, make_worker, sessions):
    email = make_worker()
    with client_from(server, unique_address()) as browser:
        assert WORKER_PAGE.attempt(browser, email, PASSWORD).status_code == 303
        assert browser.get("/work").status_code == 200
        with transaction(sessions) as db:
            worker = workforce.log_in(db, email=email, password=PASSWORD)[2]
            workforce.set_worker_status(db, org_id=None, worker_id=worker.id, status="banned")
        assert browser.get("/work").status_code == 403
        assert browser.get("/v1/worker/me").status_code == 403


# 5. Model-owner tokens.
@pytest.fixture
def campaign(tenant: Tenant) -> str:
    name = f"arena-{uuid.uuid4().hex[:6]}"
    made = tenant.client.post(
        "/v1/evaluation/campaigns", json={"name": name, "categories": ["general"]}
    )
    assert made.status_code == 200, made.text
    return name


def owner_client(server: ThreadedServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


def test_owner_tokens_expire_by_default_within_bounds(tenant: Tenant, campaign):
    now = datetime.now(UTC)
    made = tenant.client.post(f"/v1/evaluation/campaigns/{campaign}/owners", json={"name": "a"})
    expires = datetime.fromisoformat(made.json()["expires_at"])
    assert timedelta(days=89) < expires - now <= timedelta(days=90, minutes=1)


OWNER_EXPIRY_ROWS = [
    (timedelta(days=-1), "must be in the future"),
    (timedelta(seconds=-1), "must be in the future"),
    (timedelta(days=366), "must be within 365 days"),
    (timedelta(days=10_000), "must be within 365 days"),
    (timedelta(days=365) - timedelta(minutes=1), None),
    (timedelta(minutes=5), None),
]


@pytest.mark.parametrize(("lifetime", "refusal"), OWNER_EXPIRY_ROWS, ids=str)
def test_owner_token_lifetime_is_bounded(tenant: Tenant, campaign, lifetime, refusal):
    expires_at = (datetime.now(UTC) + lifetime).isoformat()
    made = tenant.client.post(
        f"/v1/evaluation/campaigns/{campaign}/owners",
        json={"name": f"o-{uuid.uuid4().hex[:6]}", "expires_at": expires_at},
    )
    if refusal is None:
        assert made.status_code == 200, made.text
    else:
        assert made.status_code == 400, made.text
        assert made.json()["field"] == "expires_at"
        assert refusal in made.json()["error"]


@pytest.mark.parametrize("ending", ["revoked", "expired", "rotated", "revoked then rotated"])
def test_an_owner_token_stops_working(tenant: Tenant, server, campaign, ending):
    soon = datetime.now(UTC) + timedelta(seconds=2)
    body = {"name": "lab"} | ({"expires_at": soon.isoformat()} if ending == "expired" else {})
    owner = tenant.client.post(f"/v1/evaluation/campaigns/{campaign}/owners", json=body).json()
    owner_path = f"/v1/evaluation/campaigns/{campaign}/owners/{owner['id']}"
    with owner_client(server, owner["token"]) as model_owner:
        assert model_owner.get("/v1/evaluation/owner/models").status_code == 200
        if ending == "revoked":
            revoked = tenant.client.post(f"{owner_path}/revoke")
            assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        elif ending == "expired":
            time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.3)
        elif ending == "rotated":
            rotated = tenant.client.post(f"{owner_path}/rotate", json={}).json()
            with owner_client(server, rotated["token"]) as renewed:
                assert renewed.get("/v1/evaluation/owner/models").status_code == 200
        else:
            tenant.client.post(f"{owner_path}/revoke")
            refused = tenant.client.post(f"{owner_path}/rotate", json={})
            assert refused.status_code == 409, refused.text
        dead = model_owner.post("/v1/evaluation/owner/models", json={"name": "m", "version": "1"})
    assert dead.status_code == 401
    assert dead.json()["status_code"] == 401


@pytest.mark.parametrize("action", ["revoke", "rotate"])
def test_another_tenant_cannot_revoke_or_rotate_an_owner(
    tenant: Tenant, make_tenant, server, campaign, action
):
    owner = tenant.client.post(
        f"/v1/evaluation/campaigns/{campaign}/owners", json={"name": "lab"}
    ).json()
    intruder = make_tenant()
    for path in (
        f"/v1/evaluation/campaigns/{campaign}/owners/{owner['id']}/{action}",
        f"/v1/evaluation/campaigns/{campaign}/owners/..%2F{owner['id']}/{action}",
    ):
        refused = intruder.client.post(path, json={})
        assert refused.status_code == 404
        assert refused.json()["error"] == f"no campaign named {campaign!r}"
    with owner_client(server, owner["token"]) as model_owner:
        assert model_owner.get("/v1/evaluation/owner/models").status_code == 200


# 6. The default secret key.
def _serve(
    env: dict[str, str], tmp_path, command: tuple[str, ...] = ("serve",)
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("QUORUM_ENV", "QUORUM_SECRET_KEY")}
    base["QUORUM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'refused.db'}"
    try:
        return subprocess.run(
            [sys.executable, "-m", "quorum", *command, "--port", str(free_port())],
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"quorum serve started with {env}")


SECRET_ROWS = [
    {},
    {"QUORUM_ENV": "development"},
    {"QUORUM_ENV": "production"},
    {"QUORUM_SECRET_KEY": "development-only-secret"},
    {"QUORUM_ENV": "production", "QUORUM_SECRET_KEY": "development-only-secret"},
    {"QUORUM_SECRET_KEY": ""},
    {"QUORUM_SECRET_KEY": "short"},
    {"QUORUM_ENV": "production", "QUORUM_SECRET_KEY": "x" * 31},
]


@pytest.mark.parametrize("env", SECRET_ROWS, ids=str)
def test_serve_refuses_the_default_or_a_weak_secret(env, tmp_path):
    refused = _serve(env, tmp_path)
    assert refused.returncode == 2, refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "QUORUM_SECRET_KEY" in lines[0], refused.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.org"])
def test_a_demo_open_to_the_network_needs_a_secret(host, tmp_path):
    """The demo's public secret is for one's own machine: on any other interface, anyone who can
    reach it could forge its sessions."""
    refused = _serve({}, tmp_path, command=("demo", "--host", host))
    assert refused.returncode == 2, refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "QUORUM_SECRET_KEY" in lines[0], refused.stderr


def test_the_app_factory_refuses_the_default_secret_too(tmp_path):
    """Behind gunicorn or ``uvicorn --factory`` there is no ``quorum serve`` to check."""
    from quorum.app import create_app
    from quorum.settings import InsecureSecretKey

    with pytest.raises(InsecureSecretKey, match="QUORUM_SECRET_KEY"):
        create_app(Settings(database_url="sqlite://", env="development"))
    create_app(Settings(database_url="sqlite://", env="production", secret_key="s" * 32))


def test_the_demo_still_serves_on_a_fresh_machine(tmp_path):
    """README command 1: no settings at all (only a fresh home directory)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUORUM_")}
    env["HOME"] = str(tmp_path)
    demo = subprocess.Popen(
        [sys.executable, "-m", "quorum", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert demo.poll() is None, demo.stderr.read() if demo.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("quorum demo did not serve in 60 s")
    finally:
        demo.terminate()
        demo.wait(timeout=15)
