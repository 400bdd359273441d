"""Deadlines kept by one periodic sweep per event loop instead of one timer each.

Every request is watched while it arrives (its headers, then its body), and nearly every request
arrives in time: arming and cancelling a timer for each would cost about 5 us on uvloop (a libuv
timer per handle) for nothing. Here a watch is an entry in a dict (well under 1 us in and out),
and one timer, armed only while something is watched, checks every entry each ``SWEEP_EVERY_S``.
A deadline is kept to within that period.
"""

import asyncio
from typing import Protocol

SWEEP_EVERY_S = 0.25


class Watched(Protocol):
    """Something with a deadline: asked each sweep whether it is overdue, then expired once."""

    def overdue(self, now: float) -> bool: ...

    def expire(self) -> None: ...


class DeadlineSweep:
    """The watched entries of one event loop, oldest first, and the timer that checks them."""

    def __init__(self, loop: asyncio.AbstractEventLoop, every_s: float = SWEEP_EVERY_S) -> None:
        self.loop = loop
        self.every_s = every_s
        self._entries: dict[Watched, None] = {}
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def watch(self, entry: Watched) -> None:
        self._entries[entry] = None
        if self._timer is None:
            self._timer = self.loop.call_later(self.every_s, self._sweep)

    def unwatch(self, entry: Watched) -> None:
        self._entries.pop(entry, None)

    def pop_oldest(self) -> Watched:
        """Stop watching the entry watched the longest, and return it."""
        oldest = next(iter(self._entries))
        del self._entries[oldest]
        return oldest

    def _sweep(self) -> None:
        now = self.loop.time()
        overdue = [entry for entry in self._entries if entry.overdue(now)]
        for entry in overdue:
            del self._entries[entry]
            entry.expire()
        self._timer = self.loop.call_later(self.every_s, self._sweep) if self._entries else None
