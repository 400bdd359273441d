"""Evaluation fixtures: a campaign built through the real API, with owners and their tokens."""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, ThreadedServer
from tests.dispatch.conftest import make_worker  # noqa: F401  (a fixture used here)

PROMPTS = [
    {"category": "coding", "text": "SECRET-PROMPT-1: reverse a linked list in C"},
    {"category": "coding", "text": "SECRET-PROMPT-2: explain a race condition"},
    {"category": "writing", "text": "SECRET-PROMPT-3: a haiku about tides"},
    {"category": "writing", "text": "SECRET-PROMPT-4: a cover letter for a baker"},
]


@dataclass
class Owner:
    """A model owner: its campaign-scoped token and a client sending it."""

    name: str
    token: str
    client: httpx.Client
    models: dict[str, str] = field(default_factory=dict)

    def register(self, name: str, version: str = "1") -> str:
        response = self.client.post(
            "/v1/evaluation/owner/models", json={"name": name, "version": version}
        )
        assert response.status_code == 200, response.text
        self.models[f"{name}-{version}"] = response.json()["id"]
        return response.json()["id"]

    def issue(self, model_id: str) -> list[dict[str, Any]]:
        response = self.client.post(f"/v1/evaluation/owner/models/{model_id}/prompts")
        assert response.status_code == 200, response.text
        return response.json()["prompts"]

    def submit(
        self, model_id: str, answer: Callable[[dict[str, Any]], str], label: str = ""
    ) -> dict[str, Any]:
        outputs = [{"prompt_id": p["prompt_id"], "output": answer(p)} for p in self.issue(model_id)]
        response = self.client.post(
            f"/v1/evaluation/owner/models/{model_id}/submissions",
            json={"label": label, "outputs": outputs},
        )
        assert response.status_code == 200, response.text
        return response.json()


def expected_fingerprint(outputs: list[tuple[str, str]]) -> str:
    """The documented fingerprint: SHA-256 of lines ``prompt_id:sha256(output)``, prompt order."""
    lines = [f"{pid}:{hashlib.sha256(text.encode()).hexdigest()}" for pid, text in outputs]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def create_campaign(api: httpx.Client, name: str = "chat-arena", **fields: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "rubric": "Which answer is more helpful and correct?",
        "categories": ["coding", "writing"],
        "min_judgments": 10,
        **fields,
    }
    response = api.post("/v1/evaluation/campaigns", json=body)
    assert response.status_code == 200, response.text
    imported = api.post(f"/v1/evaluation/campaigns/{name}/prompts", json={"prompts": PROMPTS})
    assert imported.status_code == 200, imported.text
    return api.get(f"/v1/evaluation/campaigns/{name}").json()


@pytest.fixture
def make_owner(server: ThreadedServer) -> Iterator[Callable[[Tenant, str, str], Owner]]:
    clients: list[httpx.Client] = []

    def make(operator: Tenant, campaign: str, name: str) -> Owner:
        response = operator.client.post(
            f"/v1/evaluation/campaigns/{campaign}/owners", json={"name": name}
        )
        assert response.status_code == 200, response.text
        token = response.json()["token"]
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        clients.append(client)
        return Owner(name=name, token=token, client=client)

    yield make
    for client in clients:
        client.close()
