"""A deterministic model server on a local port, speaking the backend protocol, and the same
model offered by the platform's operator as a python backend named ``sentiment-v2``."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import ThreadedServer, server_settings
from tests.dispatch.conftest import make_worker  # noqa: F401  (a fixture used here)

OFFERED_BACKENDS = {"sentiment-v2": "tests.assist.conftest:keyword_model"}


def keyword_model(task_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """Says "good" when the text has "great" in it, else "bad"; surer about the first."""
    great = "great" in params["attachment"].lower()
    return {
        "response": {"category": "good" if great else "bad"},
        "confidence": 0.9 if great else 0.6,
    }


class _ModelHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps(keyword_model(request["type"], request["params"])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def model_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ModelHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/suggest"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[ThreadedServer]:
    """The suite's test server, as its operator offers the python model ``sentiment-v2`` and
    opens loopback, where the tests' model server listens."""
    settings = server_settings(
        database_url,
        max_body_bytes=1024 * 1024,
        assist_python_backends=OFFERED_BACKENDS,
        outbound_allowed_networks=["127.0.0.0/8"],
    )
    with ThreadedServer(settings) as running:
        yield running
