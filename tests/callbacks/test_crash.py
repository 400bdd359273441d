"""At-least-once: a ``quorum serve`` killed with SIGKILL mid-delivery loses no callback."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from quorum.callbacks.models import CallbackEvent
from quorum.db import transaction
from tests.callbacks.receiver import wait_for
from tests.conftest import free_port

QUORUM = str(Path(sys.executable).parent / "quorum")


def start_server(database_url: str, home: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "QUORUM_DATABASE_URL": database_url,
        "QUORUM_HOME": str(home),
        "QUORUM_OUTBOUND_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        "QUORUM_CALLBACK_POLL_SECONDS": "0.1",
        "QUORUM_CALLBACK_BACKOFF_SECONDS": "0.1",
        "QUORUM_CALLBACK_BACKOFF_MAX_SECONDS": "0.5",
        "QUORUM_CALLBACK_CLAIM_SECONDS": "2",
        "QUORUM_CALLBACK_CONCURRENCY": "2",
    }
    return subprocess.Popen(
        [QUORUM, "serve", "--port", str(free_port())], env=env, stderr=subprocess.DEVNULL
    )


def count_events(shop, *conditions) -> int:
    with transaction(shop.sessions) as db:
        return db.scalar(
            select(func.count())
            .select_from(CallbackEvent)
            .where(CallbackEvent.org_id == shop.org_id, *conditions)
        )


@pytest.mark.slow
def test_no_callback_is_lost_when_the_server_is_killed_mid_delivery(
    shop, receiver, callback_database_url, tmp_path
):
    receiver.failures = 1
    receiver.delay_seconds = 0.2
    task_ids = [shop.create_task(callback_url=receiver.url) for _ in range(20)]
    for task_id in task_ids:
        shop.complete(task_id)

    first = start_server(callback_database_url, tmp_path)
    try:
        wait_for(
            lambda: (
                len(receiver.deliveries) >= 5
                and count_events(shop, CallbackEvent.claim_token.is_not(None)) > 0
            ),
            timeout=60,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    in_flight = count_events(shop, CallbackEvent.claim_token.is_not(None))
    assert in_flight > 0, "the kill should interrupt deliveries that were claimed, not recorded"
    assert count_events(shop, CallbackEvent.state == "delivered") < len(task_ids)

    second = start_server(callback_database_url, tmp_path)
    try:
        wait_for(
            lambda: count_events(shop, CallbackEvent.state == "delivered") == len(task_ids),
            timeout=60,
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) in (0, -signal.SIGTERM), "stops cleanly on SIGTERM"
    finally:
        second.kill()

    accepted = receiver.accepted()
    assert {d.json()["task_id"] for d in accepted} == set(task_ids)
    by_event: dict[str, set[bytes]] = {}
    for delivery in receiver.deliveries:
        by_event.setdefault(delivery.event_id, set()).add(delivery.body)
    assert len(by_event) == len(task_ids)
    assert all(len(bodies) == 1 for bodies in by_event.values()), "a duplicate differs"
