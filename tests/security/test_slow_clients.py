"""Slow or stalled clients do not hold the server (security issue 17).

A real ``quorum serve`` process; each row of the attack table opens 100 raw connections that
stall in one way (in the request line, the headers, the body, or after a response). While they
are held, ``/healthz`` and a real worker's next and submit still answer quickly; then the server
closes every stalled connection by itself, within its deadline for that phase and some slack.
Deadlines are set short here through settings so that a row takes seconds.
"""

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from quorum.accounts import service as accounts
from quorum.api.middleware import ReadBodyFirst
from quorum.db import transaction
from quorum.tasks import service as tasks
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import ProjectWorkforceUpdate, WorkerInvite
from tests.conftest import ServeProcess
from tests.factories import TASK_PARAMS

pytestmark = pytest.mark.slow

STALLED = 100
HEADER_TIMEOUT_S = 3.0
BODY_GRACE_S = 3.0
BODY_TIMEOUT_S = 5.0
BODY_MIN_RATE = 50  # bytes per second
KEEP_ALIVE_S = 2.0  # under uvicorn's default of 5 s
# The sweep that keeps deadlines runs every 0.25 s; the rest is for a shared, loaded machine.
SLACK_S = 1.5
ANSWER_WITHIN_S = 2.0
DRIP_EVERY_S = 0.5
MAX_HEADER_BYTES = 16 * 1024
SERVER_ENV = {
    "QUORUM_SECRET_KEY": "slow-clients-test-secret-key-0123456789",
    "QUORUM_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT_S),
    "QUORUM_BODY_GRACE_SECONDS": str(BODY_GRACE_S),
    "QUORUM_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_S),
    "QUORUM_BODY_MIN_BYTES_PER_SECOND": str(BODY_MIN_RATE),
    "QUORUM_KEEP_ALIVE_SECONDS": str(KEEP_ALIVE_S),
    "QUORUM_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
    "QUORUM_LEASE_SWEEP_SECONDS": "0",
    "QUORUM_QUALITY_REFIT_SECONDS": "0",
    "QUORUM_ACTIVE_LEARNING_SECONDS": "0",
    "QUORUM_LOG_LEVEL": "warning",
}
NEXT = "POST /v1/worker/tasks/next HTTP/1.1\r\nHost: quorum\r\nContent-Type: application/json\r\n"
CHUNK = b"1\r\nx\r\n"


@dataclass(frozen=True)
class Attack:
    """Each of the stalled connections sends ``opening``, then ``drip`` every DRIP_EVERY_S
    (burst times); the server must close it within ``closed_within_s`` and answer ``reply``
    (the start of what it sends; empty: nothing)."""

    opening: bytes
    closed_within_s: float
    reply: bytes
    drip: bytes = b""
    burst: int = 1


ATTACKS = {
    "announces a 1000-byte body, sends 1 byte": Attack(
        (NEXT + "Content-Length: 1000\r\n\r\n{").encode(), BODY_GRACE_S, b"HTTP/1.1 408"
    ),
    "sends its body a byte every half second": Attack(
        (NEXT + "Content-Length: 1000\r\n\r\n").encode(), BODY_GRACE_S, b"HTTP/1.1 408", b"x"
    ),
    "announces a body, never sends it (Expect: 100-continue)": Attack(
        (NEXT + "Expect: 100-continue\r\nContent-Length: 40\r\n\r\n").encode(),
        BODY_GRACE_S,
        b"HTTP/1.1 100",
    ),
    "headers without the final blank line": Attack(
        (NEXT + "Content-Length: 2\r\n").encode(), HEADER_TIMEOUT_S, b"HTTP/1.1 408"
    ),
    "half a request line": Attack(b"POST /v1/worker/tas", HEADER_TIMEOUT_S, b"HTTP/1.1 408"),
    "one header every half second (slowloris)": Attack(
        NEXT.encode(), HEADER_TIMEOUT_S, b"HTTP/1.1 408", b"X-Slow: loris\r\n"
    ),
    "a chunked body that never ends": Attack(
        (NEXT + "Transfer-Encoding: chunked\r\n\r\n").encode() + CHUNK,
        BODY_GRACE_S,
        b"HTTP/1.1 408",
    ),
    # Fast enough for the minimum rate: only the body's total deadline ends it.
    "a never-ending stream of tiny chunks": Attack(
        (NEXT + "Transfer-Encoding: chunked\r\n\r\n").encode(),
        BODY_TIMEOUT_S,
        b"HTTP/1.1 408",
        CHUNK,
        burst=2 * BODY_MIN_RATE,
    ),
    "connects and sends nothing": Attack(b"", HEADER_TIMEOUT_S, b""),
    "blank lines between requests, every half second": Attack(
        b"\r\n", HEADER_TIMEOUT_S, b"", b"\r\n"
    ),
    "keeps the connection after a response, silent": Attack(
        b"GET /healthz HTTP/1.1\r\nHost: quorum\r\n\r\n", KEEP_ALIVE_S, b"HTTP/1.1 200"
    ),
    "a complete request, then the next one's headers, one every half second": Attack(
        b"GET /healthz HTTP/1.1\r\nHost: quorum\r\n\r\nGET /healthz HTTP/1.1\r\n",
        HEADER_TIMEOUT_S,
        b"HTTP/1.1 200",
        b"X-Slow: loris\r\n",
    ),
    "a complete request, then half of the next one": Attack(
        b"GET /healthz HTTP/1.1\r\nHost: quorum\r\n\r\nGET /hea",
        HEADER_TIMEOUT_S,
        b"HTTP/1.1 200",
    ),
}


@pytest.fixture(scope="module")
def serve(database_url: str) -> Iterator[ServeProcess]:
    with ServeProcess(database_url, **SERVER_ENV) as running:
        yield running


@pytest.fixture(scope="module")
def worker_token(sessions) -> str:
    """A worker of a members-only project with a task for every row of the table."""
    with transaction(sessions) as db:
        org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:10]}")
        tasks.create_project(db, org_id=org.id, data=ProjectCreate(name="p", type="categorization"))
        workforce.configure_project(
            db, org_id=org.id, project="p", data=ProjectWorkforceUpdate(access="members")
        )
        for _ in range(len(ATTACKS) + 2):
            tasks.create_task(
                db,
                org_id=org.id,
                task_type="categorization",
                body={"project": "p", **TASK_PARAMS["categorization"]},
            )
        worker, _ = workforce.invite_worker(
            db, org_id=org.id, data=WorkerInvite(email=f"w-{uuid.uuid4().hex[:10]}@example.com")
        )
        workforce.add_member(db, org_id=org.id, project="p", worker_id=worker.id)
        return workforce.open_session(db, worker_id=worker.id)


class StalledConnections:
    """Raw sockets that each send an opening, then drip bytes until the server closes them."""

    def __init__(self, port: int, attack: Attack, count: int = STALLED) -> None:
        self.attack = attack
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        for connection in self.sockets:
            if attack.opening:
                connection.sendall(attack.opening)
        self.opened_at = time.monotonic()
        self.stop = threading.Event()
        self.dripper = threading.Thread(target=self._drip, daemon=True)
        self.dripper.start()

    def _drip(self) -> None:
        open_ones = list(self.sockets) if self.attack.drip else []
        while open_ones and not self.stop.wait(DRIP_EVERY_S):
            for connection in list(open_ones):
                try:
                    connection.sendall(self.attack.drip * self.attack.burst)
                except OSError:  # closed by the server: the point
                    open_ones.remove(connection)

    def still_open(self, connections: list[socket.socket] | None = None) -> int:
        """How many the server has not closed yet, or not closed with its reply unread
        (peeking, without waiting)."""
        held = 0
        for connection in self.sockets if connections is None else connections:
            connection.setblocking(False)
            try:
                held += connection.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                held += 1
            except OSError:
                pass
            finally:
                connection.setblocking(True)
        return held

    def replies_once_closed(self, deadline: float, first: int | None = None) -> list[bytes | None]:
        """What the server sent on each connection (or the ``first`` ones) until it closed it
        (None: reset, or still open at ``deadline``, which ``still_open`` tells apart)."""
        replies: list[bytes | None] = []
        for connection in self.sockets[:first]:
            received = b""
            try:
                while True:
                    # Past the deadline, only what is already there (0: do not wait).
                    connection.settimeout(max(0.0, deadline - time.monotonic()))
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            except OSError:  # reset or timed out
                replies.append(None)
                continue
            replies.append(received)
        return replies

    def close(self) -> None:
        self.stop.set()
        self.dripper.join(timeout=5)
        for connection in self.sockets:
            connection.close()


def _timed(call) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_stalled_connections_hold_nothing_and_are_closed_in_time(
    serve: ServeProcess, worker_token: str, attack: Attack
) -> None:
    stalled = StalledConnections(serve.port, attack)
    try:
        headers = {"Authorization": f"Bearer {worker_token}"}
        with httpx.Client(base_url=serve.url, headers=headers, timeout=ANSWER_WITHIN_S) as api:
            health, health_s = _timed(lambda: api.get("/healthz"))
            leased, next_s = _timed(lambda: api.post("/v1/worker/tasks/next", json={}))
            assert leased.status_code == 200, leased.text
            submit = f"/v1/worker/assignments/{leased.json()['assignment_id']}/submit"
            submitted, submit_s = _timed(
                lambda: api.post(submit, json={"response": {"category": "good"}})
            )
        assert health.json() == {"status": "ok"}
        assert submitted.status_code == 200, submitted.text
        assert max(health_s, next_s, submit_s) < ANSWER_WITHIN_S
        # The answers came while the stalled connections were held, not after they were closed.
        assert time.monotonic() - stalled.opened_at < attack.closed_within_s
        assert stalled.still_open() == STALLED

        replies = stalled.replies_once_closed(stalled.opened_at + attack.closed_within_s + SLACK_S)
        assert stalled.still_open() == 0
        for reply in replies:
            if reply is not None:  # a reset may swallow the reply to a client still sending
                assert reply.startswith(attack.reply), reply[:200]
        answered = [reply for reply in replies if reply and reply.startswith(b"HTTP/1.1 408")]
        for reply in answered:
            assert reply.endswith(b"}") and b'"status_code": 408' in reply, reply
    finally:
        stalled.close()


HEADER_FLOODS = {
    "a request line of 20 kB": b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n",
    "one header of 20 kB": b"GET /healthz HTTP/1.1\r\nX-Big: " + b"b" * 20_000 + b"\r\n",
    "two thousand small headers": b"GET /healthz HTTP/1.1\r\n" + b"X-Small: 123456\r\n" * 2000,
    "a 20 kB cookie, headers complete": (
        b"GET /healthz HTTP/1.1\r\nHost: quorum\r\nCookie: c=" + b"c" * 20_000 + b"\r\n\r\n"
    ),
}


@pytest.mark.parametrize("flood", HEADER_FLOODS.values(), ids=HEADER_FLOODS.keys())
def test_headers_past_the_size_limit_are_refused_with_431(
    serve: ServeProcess, flood: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", serve.port), timeout=5) as connection:
        connection.sendall(flood)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    status, _, body = reply.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 431"), reply[:200]
    assert body == b'{"status_code": 431, "error": "request line and headers exceed 16384 bytes"}'


def test_past_the_pending_cap_the_longest_waiting_connections_are_closed(
    fresh_database_url,
) -> None:
    """With more connections still sending a request than the cap, the server closes the
    oldest ones at once (long before their header deadline), and still serves."""
    cap, opened = 50, 100
    env = {**SERVER_ENV, "QUORUM_PENDING_CONNECTIONS": str(cap)}
    env["QUORUM_HEADER_TIMEOUT_SECONDS"] = "60"
    with ServeProcess(fresh_database_url("sqlite"), **env) as serve:
        stalled = StalledConnections(serve.port, Attack(b"GET /heal", 60, b""), count=opened)
        try:
            health = httpx.get(f"{serve.url}/healthz", timeout=ANSWER_WITHIN_S)
            assert health.json() == {"status": "ok"}
            replies = stalled.replies_once_closed(time.monotonic() + ANSWER_WITHIN_S, cap)
            # Told why if the server had read their opening bytes by then, else only closed.
            evicted = b"too many connections are sending requests; retry shortly"
            for reply in filter(None, replies):  # None: reset, sending to a closed socket
                assert reply.startswith(b"HTTP/1.1 503"), reply
                assert reply.endswith(b'{"status_code": 503, "error": "%s"}' % evicted), reply
            assert stalled.still_open(stalled.sockets[:cap]) == 0
            # The newest stay (but one or two: the health check's connection made room too).
            assert stalled.still_open(stalled.sockets[cap:]) >= opened - cap - 2
        finally:
            stalled.close()


def test_bodies_past_the_process_buffer_are_refused_until_others_are_done() -> None:
    """Unit test of the body reader's memory cap: while one request's half-sent body is held,
    another that would pass the cap is refused with 503, and the first is served whole."""
    served: list[bytes] = []

    async def app(scope, receive, send) -> None:
        served.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    reader = ReadBodyFirst(
        app, max_bytes=100, timeout_s=5, grace_s=5, min_bytes_per_s=1, buffer_bytes=10
    )
    scope = {"type": "http", "headers": [(b"content-length", b"10")]}

    async def request(parts: list[bytes], rest_sent: asyncio.Event | None) -> list[dict]:
        replies: list[dict] = []

        async def receive() -> dict:
            part = parts.pop(0)
            if not parts and rest_sent is not None:
                await rest_sent.wait()
            return {"type": "http.request", "body": part, "more_body": bool(parts)}

        async def send(message: dict) -> None:
            replies.append(message)

        await reader(scope, receive, send)
        return replies

    async def scenario() -> tuple[list[dict], list[dict]]:
        rest_sent = asyncio.Event()
        first = asyncio.create_task(request([b"123456", b"7890"], rest_sent))
        await asyncio.sleep(0.01)  # the first holds 6 bytes, waiting for the rest
        second = await request([b"abcdef", b"ghij"], None)
        rest_sent.set()
        return await first, second

    # On a thread of its own: the browser tests leave an event loop running in the main one.
    with ThreadPoolExecutor(1) as thread:
        first, second = thread.submit(asyncio.run, scenario()).result()
    assert [first[0]["status"], second[0]["status"]] == [200, 503]
    assert (b"connection", b"close") in second[0]["headers"]
    assert json.loads(second[1]["body"]) == {
        "status_code": 503,
        "error": "the server is receiving too many request bodies; retry shortly",
    }
    assert served == [b"1234567890"]
    assert reader.buffered == 0
