"""Task creation through the HTTP API: throughput and latency, sequential and concurrent.

Starts ``quorum serve`` on a fresh PostgreSQL database (or uses --url/--key), creates tasks with
one client, then with 16 concurrent clients (asyncio + httpx in this process), and prints
tasks/s and latency percentiles. Last line: one JSON object.
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import organization_key, percentile, running_server, scratch_database

PROJECT = "bench-create"


def task_body(i: int) -> dict:
    return {
        "project": PROJECT,
        "attachment": f"Review number {i}: the product arrived on time and works well.",
        "categories": ["positive", "neutral", "negative"],
        "metadata": {"row": i},
        "unique_id": f"row-{i}",
    }


def sequential(url: str, key: str, start: int, count: int) -> tuple[float, list[float]]:
    latencies = []
    with httpx.Client(base_url=url, auth=(key, "")) as client:
        began = time.perf_counter()
        for i in range(start, start + count):
            t0 = time.perf_counter()
            response = client.post("/v1/task/categorization", json=task_body(i))
            latencies.append((time.perf_counter() - t0) * 1000)
            response.raise_for_status()
        elapsed = time.perf_counter() - began
    return count / elapsed, latencies


async def concurrent(
    url: str, key: str, start: int, count: int, clients: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    next_index = start
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def run_client(client: httpx.AsyncClient) -> None:
        nonlocal next_index
        while next_index < start + count:
            i = next_index
            next_index += 1
            t0 = time.perf_counter()
            response = await client.post("/v1/task/categorization", json=task_body(i))
            latencies.append((time.perf_counter() - t0) * 1000)
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=url, auth=(key, ""), limits=limits, timeout=60) as client:
        began = time.perf_counter()
        await asyncio.gather(*(run_client(client) for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return count / elapsed, latencies


def run(url: str, key: str, total: int, clients: int) -> dict:
    with httpx.Client(base_url=url, auth=(key, "")) as client:
        client.post(
            "/v1/projects", json={"name": PROJECT, "type": "categorization"}
        ).raise_for_status()
    seq_count = total // 5
    seq_rate, seq_latencies = sequential(url, key, 0, seq_count)
    print(
        f"sequential: {seq_count} tasks, {seq_rate:.0f} tasks/s, "
        f"p50 {percentile(seq_latencies, 0.5):.1f} ms, p99 {percentile(seq_latencies, 0.99):.1f} ms"
    )
    conc_count = total - seq_count
    conc_rate, conc_latencies = asyncio.run(concurrent(url, key, seq_count, conc_count, clients))
    p50, p99 = percentile(conc_latencies, 0.5), percentile(conc_latencies, 0.99)
    print(
        f"{clients} concurrent clients: {conc_count} tasks, {conc_rate:.0f} tasks/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    with httpx.Client(base_url=url, auth=(key, "")) as client:
        stored = client.get("/v1/tasks", params={"project": PROJECT, "limit": 1}).json()["total"]
    assert stored == total, f"expected {total} tasks stored, found {stored}"
    return {
        "tasks": total,
        "clients": clients,
        "tasks_per_s_seq": round(seq_rate, 1),
        "tasks_per_s_concurrent": round(conc_rate, 1),
        "create_p50_ms": round(percentile(conc_latencies, 0.5), 2),
        "create_p99_ms": round(percentile(conc_latencies, 0.99), 2),
        "seq_p50_ms": round(percentile(seq_latencies, 0.5), 2),
        "seq_p99_ms": round(percentile(seq_latencies, 0.99), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 tasks instead of 10,000")
    parser.add_argument("--tasks", type=int, default=None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--server-workers", type=int, default=2, help="quorum serve processes")
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--key", help="API key for --url")
    args = parser.parse_args()
    total = args.tasks or (2_000 if args.quick else 10_000)
    if args.url:
        figures = run(args.url, args.key, total, args.clients)
    else:
        with scratch_database(args.backend) as database_url:
            key = organization_key(database_url)
            with running_server(database_url, args.server_workers) as url:
                figures = run(url, key, total, args.clients)
        figures |= {"backend": args.backend, "server_workers": args.server_workers}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
