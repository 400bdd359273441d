"""A real HTTP callback receiver on a local port, scripted to fail before it accepts."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    """One POST as the receiver saw it, and what it answered."""

    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event_id(self) -> str:
        return self.headers["quorum-event-id"]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers ``fail_status`` to the first ``failures`` posts of each event, then 200."""

    failures: int = 0
    fail_status: int = 500
    delay_seconds: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def accepted(self) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.status == 200]

    def accepted_event_ids(self) -> set[str]:
        return {d.event_id for d in self.accepted()}

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        time.sleep(self.delay_seconds)
        with self.lock:
            seen = sum(1 for d in self.deliveries if d.event_id == headers["quorum-event-id"])
            status = self.fail_status if seen < self.failures else 200
            self.deliveries.append(Delivery(headers=headers, body=body, status=status))
        return status

    def __enter__(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver.answer(headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()


def wait_for(condition: Any, timeout: float = 20.0, interval: float = 0.05) -> None:
    """Poll until ``condition()`` is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        time.sleep(interval)
