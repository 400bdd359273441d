"""Platform staff fixtures: an operator account made like ``quorum staff create``, logged in
through the API; worker fixtures shared with the dispatch tests."""

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from quorum.accounts import service as accounts
from quorum.db import transaction
from tests.dispatch.conftest import make_worker

__all__ = ["make_operator", "make_worker", "operator"]
STAFF_PASSWORD = "operator password 1"


@pytest.fixture
def make_operator(server, sessions) -> Iterator[Callable[[], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make() -> httpx.Client:
        email = f"op-{uuid.uuid4().hex[:10]}@quorum.example"
        with transaction(sessions) as db:
            accounts.create_staff(db, email=email, password=STAFF_PASSWORD)
        login = httpx.post(
            f"{server.url}/v1/staff/login", json={"email": email, "password": STAFF_PASSWORD}
        )
        assert login.status_code == 200, login.text
        client = httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {login.json()['token']}"},
            timeout=30,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def operator(make_operator) -> httpx.Client:
    """A logged-in platform operator."""
    return make_operator()
