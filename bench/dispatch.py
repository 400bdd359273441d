"""Dispatch benchmark: K simulated workers doing next → submit over HTTP against ``quorum serve``.

Creates its own PostgreSQL database, loads N tasks and K workers, starts ``quorum serve`` (or
uses ``--url``), and drives it from client processes, each running one asyncio coroutine per
worker on uvloop over a keep-alive connection of its own: a few seconds of warm-up, then the
measured run on the same connections. Prints cycles per second, latency percentiles of next and
submit, and how many tasks were over-assigned; the last line is JSON, with ``cpu_probe_s``, the
machine's speed when it ran (see ``_server.cpu_probe``).
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvloop
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from _server import cpu_probe
from quorum.accounts import service as accounts
from quorum.db import create_db_engine, new_id, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.db.session import normalize_url
from quorum.payouts import service as payouts
from quorum.tasks import service as tasks_service
from quorum.tasks.models import Task
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import ProjectWorkforceUpdate, WorkerInvite

OVER_ASSIGNED = """
    SELECT count(*) FROM (
        SELECT a.task_id FROM assignment a JOIN task t ON t.id = a.task_id
        WHERE a.state = 'submitted'
        GROUP BY a.task_id, t.required_responses
        HAVING count(*) > t.required_responses OR count(DISTINCT a.worker_id) < count(*)
    ) AS over
"""


def create_database(admin_url: str) -> str:
    admin = make_url(normalize_url(admin_url))
    name = f"quorum_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    engine = create_engine(make_url(normalize_url(admin_url)), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def seed(url: str, *, tasks: int, workers: int, redundancy: int) -> list[str]:
    """An organization, a paying project with N tasks and K member workers; returns their
    tokens."""
    engine = create_db_engine(url)
    upgrade(engine)
    with transaction(session_factory(engine)) as db:
        org = accounts.create_organization(db, name=f"bench-{uuid.uuid4().hex[:8]}")
        project = tasks_service.create_project(
            db, org_id=org.id, data=ProjectCreate(name="bench", type="categorization")
        )
        workforce.configure_project(
            db, org_id=org.id, project="bench", data=ProjectWorkforceUpdate(access="members")
        )
        # Paid work, as for real: each submit writes pending pay, each completion earns it.
        payouts.set_project_rate(db, org_id=org.id, project="bench", cents=5)
        now = datetime.now(UTC)
        rows = [
            {
                "id": new_id(),
                "org_id": org.id,
                "project_id": project.id,
                "type": "categorization",
                "status": "pending",
                "instruction": "",
                "params": {"attachment": f"review {i}", "categories": ["good", "bad"]},
                "metadata_": {},
                "tags": [],
                "priority": i % 3,
                "required_responses": redundancy,
                "is_test": False,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(tasks)
        ]
        for start in range(0, tasks, 5000):
            db.execute(insert(Task), rows[start : start + 5000])
        tokens = []
        for _ in range(workers):
            worker, _ = workforce.invite_worker(
                db, org_id=org.id, data=WorkerInvite(email=f"{uuid.uuid4().hex}@bench.example")
            )
            workforce.add_member(db, org_id=org.id, project="bench", worker_id=worker.id)
            tokens.append(workforce.open_session(db, worker_id=worker.id))
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()
    return tokens


REPLY_TIMEOUT_S = 60
CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")
ASSIGNMENT_ID = re.compile(rb'"assignment_id":"([^"]+)"')
ANSWER = json.dumps({"response": {"category": "good"}}).encode()


class Connection:
    """One worker's keep-alive HTTP/1.1 connection: a request out, its reply read back.

    Hand-written on asyncio streams (under uvloop), not a client library: the load generator
    shares the two cores with the server it measures, and a library's per-request machinery
    cost more CPU than this whole exchange (aiohttp spent about 0.45 ms a request).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: str):
        self.reader, self.writer = reader, writer
        self.head = f"Host: bench\r\nAuthorization: Bearer {token}\r\n"

    @classmethod
    async def open(cls, host: str, port: int, token: str) -> "Connection":
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, token)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(
            f"POST {path} HTTP/1.1\r\n{self.head}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        async with asyncio.timeout(REPLY_TIMEOUT_S):
            header = await self.reader.readuntil(b"\r\n\r\n")
            status = int(header[9:12])
            length = CONTENT_LENGTH.search(header)
            reply = await self.reader.readexactly(int(length.group(1))) if length else b""
        return status, reply

    def close(self) -> None:
        self.writer.close()


async def cycle(connection: Connection, deadline: float, latencies: dict[str, list[float]]) -> bool:
    """One worker's next → submit loop until ``deadline``; False once nothing is left to do."""
    while time.monotonic() < deadline:
        started = time.perf_counter()
        status, reply = await connection.post("/v1/worker/tasks/next", b"{}")
        latencies["next"].append(time.perf_counter() - started)
        if status == 204:
            return False
        found = ASSIGNMENT_ID.search(reply)
        if status != 200 or found is None:
            raise RuntimeError(f"next: {status} {reply[:200]!r}")
        path = f"/v1/worker/assignments/{found.group(1).decode()}/submit"
        started = time.perf_counter()
        status, reply = await connection.post(path, ANSWER)
        latencies["submit"].append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"submit: {status} {reply[:200]!r}")
    return True


async def simulate(
    base_url: str, tokens: list[str], warmup_s: float, seconds: float, reports: Any, go: Any
) -> dict[str, list[float]]:
    """One coroutine per worker, each on its own connection: the warm-up, a pause while the
    parent takes its readings, then the measured run on the same connections, as workers keep
    theirs (a run that opened 64 connections at once spent its first 100 ms on that). The
    client puts None on ``reports`` when warm and waits for ``go``."""
    address = urlsplit(base_url)
    connections = await asyncio.gather(
        *(Connection.open(address.hostname or "", address.port or 80, t) for t in tokens)
    )
    try:
        deadline = time.monotonic() + warmup_s
        unmeasured: dict[str, list[float]] = {"next": [], "submit": []}
        busy = await asyncio.gather(*(cycle(c, deadline, unmeasured) for c in connections))
        reports.put(None)
        await asyncio.to_thread(go.wait)
        started = time.process_time()
        deadline = time.monotonic() + seconds
        latencies: dict[str, list[float]] = {"next": [], "submit": []}
        working = [c for c, more in zip(connections, busy, strict=True) if more]
        await asyncio.gather(*(cycle(c, deadline, latencies) for c in working))
        return {**latencies, "cpu": [time.process_time() - started]}
    finally:
        for connection in connections:
            connection.close()


def client_process(
    base_url: str, tokens: list[str], warmup_s: float, seconds: float, reports: Any, go: Any
) -> None:
    results = uvloop.run(simulate(base_url, tokens, warmup_s, seconds, reports, go))
    reports.put(results)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time these processes have used (Linux ``/proc``; gone ones count 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def process_tree(root: int) -> list[int]:
    """A process and all its descendants (the server's worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rpartition(")")[2].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(parent, []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def database_backends(url: str) -> list[int]:
    engine = create_engine(make_url(url))
    with engine.connect() as connection:
        pids = connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        found = list(pids)
    engine.dispose()
    return found


def analyze(url: str) -> None:
    engine = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def wait_ready(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("quorum serve exited")
        try:
            if httpx.get(f"{base_url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("quorum serve did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--url", help="use this running server (its database must be --db-url)")
    parser.add_argument("--db-url", help="the database of --url")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--redundancy", type=int, default=1)
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load not measured")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--quick", action="store_true", help="30,000 tasks, 2 s of warm-up, at most 20 s of load"
    )
    args = parser.parse_args()
    if args.quick:
        args.tasks, args.warmup, args.seconds = 30_000, 2, 20

    probe = cpu_probe()
    url = args.db_url or create_database(args.admin_url)
    server = None
    try:
        print(f"seeding {args.tasks} tasks and {args.workers} workers …", file=sys.stderr)
        tokens = seed(url, tasks=args.tasks, workers=args.workers, redundancy=args.redundancy)
        base_url = args.url or f"http://127.0.0.1:{args.port}"
        if args.url is None:
            env = {
                **os.environ,
                "QUORUM_DATABASE_URL": url,
                "QUORUM_SECRET_KEY": secrets.token_urlsafe(32),
                # FastAPI runs sync endpoints on 40 threads per process; PostgreSQL allows 100
                # connections in all, shared with anything else running.
                "QUORUM_DB_POOL_SIZE": "16",
                "QUORUM_DB_MAX_OVERFLOW": "8",
                "QUORUM_CALLBACK_SENDER": "false",
                "QUORUM_LEASE_SWEEP_SECONDS": "0",
                "QUORUM_RATE_LIMIT_PER_SECOND": "0",
            }
            command = [sys.executable, "-m", "quorum", "serve", "--port", str(args.port)]
            command += ["--workers", str(args.server_workers)]
            server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
            wait_ready(base_url, server)

        shares = [tokens[i :: args.client_processes] for i in range(args.client_processes)]
        server_pids = process_tree(server.pid) if server is not None else []
        spawn = multiprocessing.get_context("spawn")
        reports, go = spawn.Queue(), spawn.Event()
        clients = [
            spawn.Process(
                target=client_process,
                args=(base_url, share, args.warmup, args.seconds, reports, go),
            )
            for share in shares
        ]
        for client in clients:
            client.start()
        for _ in clients:
            reports.get(timeout=args.warmup + REPLY_TIMEOUT_S + 60)
        # After the warm-up, ANALYZE, as autovacuum does on a live database within a minute:
        # otherwise the statements prepared in the first seconds keep plans made for the empty
        # assignment table (sequential scans) for the whole of a short run.
        analyze(url)
        backends = database_backends(url)
        server_cpu_before = cpu_seconds(server_pids)
        database_cpu_before = cpu_seconds(backends)
        started = time.monotonic()
        go.set()
        results = [reports.get(timeout=args.seconds + REPLY_TIMEOUT_S + 60) for _ in clients]
        elapsed = time.monotonic() - started
        for client in clients:
            client.join()
            if client.exitcode != 0:
                raise SystemExit(f"a client process failed (exit code {client.exitcode})")
        # Where the CPU went: the server's processes, the database's backends serving them and
        # the load generator.
        server_cpu = cpu_seconds(server_pids) - server_cpu_before
        database_cpu = cpu_seconds(backends) - database_cpu_before
        client_cpu = sum(r["cpu"][0] for r in results)
        next_latencies = [v for r in results for v in r["next"]]
        submit_latencies = [v for r in results for v in r["submit"]]
        cycles = len(submit_latencies)

        engine = create_db_engine(url)
        with engine.connect() as connection:
            over_assigned = connection.execute(text(OVER_ASSIGNED)).scalar() or 0
            completed = connection.execute(
                text("SELECT count(*) FROM task WHERE status = 'completed'")
            ).scalar()
        engine.dispose()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if args.db_url is None:
            drop_database(args.admin_url, url)

    summary = {
        "workers": args.workers,
        "cycles_per_s": round(cycles / elapsed, 1),
        "next_p50_ms": round(percentile(next_latencies, 0.50), 2),
        "next_p95_ms": round(percentile(next_latencies, 0.95), 2),
        "next_p99_ms": round(percentile(next_latencies, 0.99), 2),
        "submit_p50_ms": round(statistics.median(submit_latencies) * 1000, 2) if cycles else 0,
        "submit_p95_ms": round(percentile(submit_latencies, 0.95), 2),
        "submit_p99_ms": round(percentile(submit_latencies, 0.99), 2),
        "over_assigned": over_assigned,
        "cpu_probe_s": probe,
    }
    print(
        f"{cycles} next+submit cycles in {elapsed:.1f} s by {args.workers} workers "
        f"({args.client_processes} client processes, {args.server_workers} server processes); "
        f"{completed} tasks completed",
        file=sys.stderr,
    )
    if cycles:
        print(
            f"CPU per cycle: server {server_cpu / cycles * 1000:.2f} ms, database "
            f"{database_cpu / cycles * 1000:.2f} ms, load generator "
            f"{client_cpu / cycles * 1000:.2f} ms (machine: {os.cpu_count()} cores)",
            file=sys.stderr,
        )
    for name in ("next", "submit"):
        print(
            f"{name:>6}: p50 {summary[f'{name}_p50_ms']} ms  p95 {summary[f'{name}_p95_ms']} ms  "
            f"p99 {summary[f'{name}_p99_ms']} ms",
            file=sys.stderr,
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
