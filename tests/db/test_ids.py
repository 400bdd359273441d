"""Ids sort in the order they were made: keyset pagination and dispatch (oldest first among
equal priorities) rely on it."""

import threading

from quorum.db import new_id


def test_ids_made_within_one_millisecond_sort_in_the_order_they_were_made():
    ids = [new_id() for _ in range(20_000)]  # many per millisecond
    assert len({i[:12] for i in ids}) < len(ids)  # some share their millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)


def test_threads_making_ids_at_once_get_distinct_ones():
    made: list[list[str]] = [[] for _ in range(8)]

    def make(into: list[str]) -> None:
        into.extend(new_id() for _ in range(5_000))

    threads = [threading.Thread(target=make, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in made for i in ids]
    assert len(set(every)) == len(every)
    assert all(ids == sorted(ids) for ids in made)
