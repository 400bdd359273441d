"""Callbacks reach the customer: signed, retried with backoff, dead after N tries, redeliverable."""

import json
import threading

import httpx
import pytest
from sqlalchemy import select

from quorum.accounts import service as accounts
from quorum.callbacks.jobs import CallbackSender
from quorum.callbacks.models import CallbackEvent
from quorum.callbacks.signing import verify_signature
from quorum.db import transaction
from quorum.tasks import service as tasks
from tests.callbacks.receiver import wait_for
from tests.conftest import ThreadedServer


def deliver_until(sender, condition, timeout=20.0):
    """Run sender rounds in this thread until ``condition()`` holds."""

    def round_then_check():
        sender.deliver_due()
        return condition()

    wait_for(round_then_check, timeout=timeout)


def events_of(shop, task_id):
    with transaction(shop.sessions) as db:
        return list(db.scalars(select(CallbackEvent).where(CallbackEvent.task_id == task_id)))


def test_completion_is_posted_signed_after_receiver_failures(shop, receiver, sender_settings):
    receiver.failures = 2
    task_id = shop.create_task(callback_url=receiver.url)
    shop.complete(task_id)
    sender = CallbackSender(sender_settings, shop.sessions)
    try:
        deliver_until(sender, lambda: receiver.accepted())
    finally:
        sender.stop()

    assert [d.status for d in receiver.deliveries] == [500, 500, 200]
    assert len({d.event_id for d in receiver.deliveries}) == 1
    assert len({d.body for d in receiver.deliveries}) == 1
    delivery = receiver.accepted()[0]
    assert delivery.headers["scale-callback-auth"] == shop.auth_key
    assert verify_signature(
        shop.signing_secret, delivery.body, delivery.headers["quorum-signature"]
    )
    assert not verify_signature(
        "another-secret", delivery.body, delivery.headers["quorum-signature"]
    )
    with transaction(shop.sessions) as db:
        task = tasks.get_task(db, org_id=shop.org_id, task_id=task_id)
        assert task.callback_succeeded is True
        expected_task = tasks.task_read(db, task).model_dump(mode="json")
    body = delivery.json()
    assert body == {
        "task": {**expected_task, "callback_succeeded": None},
        "response": {"category": "good"},
        "task_id": task_id,
        "status": "completed",
    }
    assert body["task"]["status"] == "completed"
    (event,) = events_of(shop, task_id)
    assert (event.state, event.attempts, event.last_status_code) == ("delivered", 3, 200)


def test_project_default_url_is_used_when_the_task_has_none(shop, receiver, sender_settings):
    with transaction(shop.sessions) as db:
        project = tasks.get_project(db, org_id=shop.org_id, name=shop.project)
        project.callback_url = receiver.url
    task_id = shop.create_task()
    shop.complete(task_id)
    sender = CallbackSender(sender_settings, shop.sessions)
    try:
        deliver_until(sender, lambda: receiver.accepted())
    finally:
        sender.stop()
    assert receiver.accepted()[0].json()["task_id"] == task_id


def test_canceled_task_sends_a_canceled_callback(shop, receiver, sender_settings):
    task_id = shop.create_task(callback_url=receiver.url)
    with transaction(shop.sessions) as db:
        tasks.cancel_task(db, org_id=shop.org_id, task_id=task_id)
    sender = CallbackSender(sender_settings, shop.sessions)
    try:
        deliver_until(sender, lambda: receiver.accepted())
    finally:
        sender.stop()
    body = receiver.accepted()[0].json()
    assert (body["status"], body["response"], body["task"]["status"]) == (
        "canceled",
        None,
        "canceled",
    )


def test_event_is_written_with_the_completion_or_not_at_all(shop, receiver):
    task_id = shop.create_task(callback_url=receiver.url)
    with pytest.raises(RuntimeError), transaction(shop.sessions) as db:
        task = tasks.get_task(db, org_id=shop.org_id, task_id=task_id)
        tasks.mark_tasks_completed(db, completions=[(task, {"category": "good"})])
        raise RuntimeError("the transaction fails after the completion")
    assert events_of(shop, task_id) == []
    shop.complete(task_id)
    assert [e.kind for e in events_of(shop, task_id)] == ["task.completed"]


def test_task_without_any_callback_url_queues_nothing(shop):
    task_id = shop.create_task()
    shop.complete(task_id)
    assert events_of(shop, task_id) == []


def test_dead_event_is_listed_by_the_api_and_redelivered(shop, receiver, sender_settings):
    receiver.failures = 3
    receiver.fail_status = 503
    task_id = shop.create_task(callback_url=receiver.url)
    shop.complete(task_id)
    sender_settings.callback_sender = True
    with ThreadedServer(sender_settings) as server:
        wait_for(lambda: events_of(shop, task_id)[0].state == "dead")
        assert len(receiver.deliveries) == 3
        with transaction(shop.sessions) as db:
            key = accounts.create_api_key(db, org_id=shop.org_id).secret
        with httpx.Client(base_url=server.url, auth=(key, "")) as api:
            dead = api.get("/v1/callbacks", params={"state": "dead"}).json()
            assert [e["task_id"] for e in dead["docs"]] == [task_id]
            event = dead["docs"][0]
            assert (event["attempts"], event["last_status_code"]) == (3, 503)
            assert event["last_error"] == "receiver answered 503"
            detail = api.get(f"/v1/callbacks/{event['id']}").json()
            assert [a["status_code"] for a in detail["history"]] == [503, 503, 503]
            assert api.get(f"/v1/task/{task_id}").json()["callback_succeeded"] is False

            redelivered = api.post(f"/v1/callbacks/{event['id']}/redeliver")
            assert redelivered.status_code == 200, redelivered.text
            wait_for(lambda: receiver.accepted())
            wait_for(lambda: api.get(f"/v1/task/{task_id}").json()["callback_succeeded"])
            assert api.get("/v1/callbacks", params={"state": "dead"}).json()["docs"] == []
            again = api.post(f"/v1/callbacks/{event['id']}/redeliver")
            assert again.status_code == 200
            other = api.get("/v1/callbacks/000000000000000000000000")
            assert other.status_code == 404


def test_private_destination_is_refused_unless_allowed(shop, receiver, sender_settings):
    sender_settings.outbound_allowed_networks = []
    task_id = shop.create_task(callback_url=receiver.url)
    shop.complete(task_id)
    sender = CallbackSender(sender_settings, shop.sessions)
    try:
        deliver_until(sender, lambda: events_of(shop, task_id)[0].state == "dead")
    finally:
        sender.stop()
    (event,) = events_of(shop, task_id)
    assert event.attempts == 1
    assert "resolves to 127.0.0.1, which is not a public address" in event.last_error
    assert receiver.deliveries == []


def test_concurrent_senders_never_post_the_same_attempt(shop, receiver, sender_settings):
    task_ids = [shop.create_task(callback_url=receiver.url) for _ in range(60)]
    for task_id in task_ids:
        shop.complete(task_id)
    senders = [CallbackSender(sender_settings, shop.sessions) for _ in range(4)]
    stop = threading.Event()

    def loop(sender):
        while not stop.is_set() and len(receiver.deliveries) < len(task_ids):
            sender.deliver_due()

    threads = [threading.Thread(target=loop, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(receiver.accepted_event_ids()) == len(task_ids), timeout=60)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        for sender in senders:
            sender.stop()
    posted = [d.event_id for d in receiver.deliveries]
    assert len(posted) == len(set(posted)) == len(task_ids)
    assert {json.loads(d.body)["task_id"] for d in receiver.deliveries} == set(task_ids)
