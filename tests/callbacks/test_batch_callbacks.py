"""Batch callbacks (Scale's ``create_batch(..., callback=url)``): when a finalized batch has no
pending task left, the batch object is posted once to its callback, signed, through the outbox."""

import threading

from sqlalchemy import select

from quorum.callbacks.jobs import CallbackSender
from quorum.callbacks.models import CallbackEvent
from quorum.callbacks.signing import verify_signature
from quorum.db import transaction
from quorum.tasks import service as tasks
from quorum.tasks.schemas import BatchCreate
from tests.callbacks.receiver import wait_for


def make_batch(shop, name, callback, task_count):
    with transaction(shop.sessions) as db:
        tasks.create_batch(
            db,
            org_id=shop.org_id,
            data=BatchCreate(project=shop.project, name=name, callback=callback),
        )
    return [shop.create_task(batch=name) for _ in range(task_count)]


def finalize(shop, name):
    with transaction(shop.sessions) as db:
        tasks.finalize_batch(db, org_id=shop.org_id, name=name)


def batch_events(shop, name):
    with transaction(shop.sessions) as db:
        batch = tasks.get_batch(db, org_id=shop.org_id, name=name)
        return list(
            db.scalars(
                select(CallbackEvent).where(
                    CallbackEvent.batch_id == batch.id, CallbackEvent.kind == "batch.completed"
                )
            )
        )


def deliver(shop, settings, receiver, count):
    sender = CallbackSender(settings, shop.sessions)
    try:
        wait_for(lambda: sender.deliver_due() >= 0 and len(receiver.accepted()) >= count)
    finally:
        sender.stop()


def test_batch_object_is_posted_when_its_last_task_finishes(shop, receiver, sender_settings):
    first, second = make_batch(shop, "b-last", receiver.url, 2)
    finalize(shop, "b-last")
    shop.complete(first)
    assert batch_events(shop, "b-last") == []
    with transaction(shop.sessions) as db:
        tasks.cancel_task(db, org_id=shop.org_id, task_id=second)
    deliver(shop, sender_settings, receiver, 1)

    [delivery] = [d for d in receiver.accepted() if d.headers["quorum-event"] == "batch.completed"]
    signature = delivery.headers["quorum-signature"]
    assert verify_signature(shop.signing_secret, delivery.body, signature)
    with transaction(shop.sessions) as db:
        batch = tasks.describe_batch(db, org_id=shop.org_id, name="b-last")
    assert delivery.json() == batch.model_dump(mode="json")
    assert (batch.status, batch.callback) == ("completed", receiver.url)
    assert len(batch_events(shop, "b-last")) == 1


def test_finalizing_a_batch_whose_tasks_are_done_posts_it(shop, receiver, sender_settings):
    [task_id] = make_batch(shop, "b-done", receiver.url, 1)
    shop.complete(task_id)
    assert batch_events(shop, "b-done") == [], "a batch in staging is not complete"
    finalize(shop, "b-done")
    finalize(shop, "b-done")
    deliver(shop, sender_settings, receiver, 1)
    assert [d.json()["name"] for d in receiver.accepted()] == ["b-done"]
    assert len(batch_events(shop, "b-done")) == 1


def test_a_batch_without_callback_queues_nothing(shop):
    [task_id] = make_batch(shop, "b-quiet", "", 1)
    finalize(shop, "b-quiet")
    shop.complete(task_id)
    assert batch_events(shop, "b-quiet") == []


def test_two_last_tasks_finishing_at_once_post_the_batch_once(shop):
    """The first completion holds its transaction open while the second one runs: without the
    batch lock each would see the other still pending and neither would post the batch."""
    first, second = make_batch(shop, "b-race", "http://127.0.0.1:9/hook", 2)
    finalize(shop, "b-race")
    holding = threading.Event()
    release = threading.Event()

    def complete_and_hold() -> None:
        with transaction(shop.sessions) as db:
            task = tasks.get_task(db, org_id=shop.org_id, task_id=first)
            tasks.mark_tasks_completed(db, completions=[(task, {"category": "good"})])
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=complete_and_hold)
    holder.start()
    assert holding.wait(10)
    racer = threading.Thread(target=shop.complete, args=(second,))
    racer.start()
    racer.join(0.5)
    assert racer.is_alive(), "the second completion waits for the first one's batch lock"
    release.set()
    holder.join(10)
    racer.join(10)
    assert len(batch_events(shop, "b-race")) == 1
