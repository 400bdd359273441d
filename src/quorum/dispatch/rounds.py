"""Dispatch rounds: the worker API's next and submit requests, served many at a time.

Every worker of a large workforce calls next and submit in a loop. Served one by one, each
request is a transaction of its own with a handful of statements, and the fixed cost of a
statement (a round trip, the ORM's and the driver's work, PostgreSQL's per statement and per
commit) is most of what a request costs. A round takes the requests that arrived while the
previous round ran and serves them all in one transaction, whose statements each cover every
request of the round (``service.submit_all``, ``service.next_tasks``). At low load a round holds
one request and starts within half a millisecond: nobody waits long for company.

A request refused (a bad token, nothing to do, a conflict) gets its own answer without
disturbing the others. If the round's transaction fails as a whole (a deadlock, a lost
connection, a bug), nothing of it was written, and each of its requests is served again alone,
so that one request cannot fail its neighbours. Replies go out only after the round commits:
a submit's reply still means the answer is stored.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from quorum.dispatch import service
from quorum.dispatch.schemas import AssignmentRead, NextAsk, SubmitAsk, SubmitResult
from quorum.errors import DomainError
from quorum.workforce import service as workforce

log = logging.getLogger(__name__)

# Past about 20 requests a round saves little more CPU a request, and a bigger one keeps its
# locks and its requests' replies longer: on the dispatch bench, 24 gave the same throughput as
# 64 with a next p99 of 53-58 ms instead of 54-93.
MOST_ASKS_PER_ROUND = 24
# While a round waits for the database, the event loop reads requests and sends replies; with
# the database on the same machine one round at a time made the biggest rounds. A database far
# away (long round trips) may want two.
ROUNDS_AT_ONCE = 1
# A round waits up to this many pauses of this many seconds while requests keep arriving (see
# _gather): on the dispatch bench, bigger rounds saved more CPU than the wait cost latency.
GATHERING_TURNS = 4
GATHER_PAUSE = 0.0005

Outcome = AssignmentRead | SubmitResult | None | BaseException


@dataclass
class _Request:
    secret: str
    ask: dict[str, Any]
    submit: bool
    reply: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class DispatchRounds:
    """One process's rounds, each on a pool thread, ``rounds_at_once`` at most at a time; the
    requests that arrive meanwhile make up the next one.

    ``admit`` is called with each authenticated worker's id and raises (``TooManyRequests``) to
    refuse the request: the per-worker rate limit.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        admit: Callable[[str], None],
        most_asks: int = MOST_ASKS_PER_ROUND,
        rounds_at_once: int = ROUNDS_AT_ONCE,
    ) -> None:
        self._sessions = sessions
        self._admit = admit
        self._most_asks = most_asks
        self._rounds_at_once = rounds_at_once
        self._waiting: list[_Request] = []
        self._runners: set[asyncio.Task[None]] = set()

    async def next_task(
        self, secret: str, *, project_id: str | None, max_live_leases: int
    ) -> AssignmentRead | None:
        """``service.next_task`` for the worker whose session ``secret`` is."""
        ask = {"project_id": project_id, "max_live_leases": max_live_leases}
        return await self._serve(_Request(secret, ask, submit=False))

    async def submit(
        self, secret: str, *, assignment_id: str, response: dict[str, Any]
    ) -> SubmitResult:
        """``service.submit`` for the worker whose session ``secret`` is."""
        ask = {"assignment_id": assignment_id, "response": response}
        return await self._serve(_Request(secret, ask, submit=True))

    async def _serve(self, request: _Request) -> Any:
        self._waiting.append(request)
        if len(self._runners) < self._rounds_at_once:
            self._runners.add(asyncio.create_task(self._run()))
        return await request.reply

    async def _run(self) -> None:
        """Serve rounds while requests are waiting; leaves the set of runners the moment it
        finds none (with no await in between, so a request arriving later starts a runner)."""
        try:
            while self._waiting:
                await self._gather()
                batch = self._waiting[: self._most_asks]
                del self._waiting[: self._most_asks]
                outcomes = await run_in_threadpool(self._round_or_one_by_one, batch)
                for request, outcome in zip(batch, outcomes, strict=True):
                    if request.reply.done():  # the client went away
                        continue
                    if isinstance(outcome, BaseException):
                        request.reply.set_exception(outcome)
                    else:
                        request.reply.set_result(outcome)
        finally:
            self._runners.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _gather(self) -> None:
        """Let the event loop read the requests that came in while the last round ran (the
        round's thread held the interpreter), and those of workers whose replies just went out:
        short pauses, while each adds to the round."""
        for _ in range(GATHERING_TURNS):
            waiting = len(self._waiting)
            await asyncio.sleep(GATHER_PAUSE)
            if len(self._waiting) == waiting or len(self._waiting) >= self._most_asks:
                return

    def _round_or_one_by_one(self, batch: list[_Request]) -> list[Outcome]:
        try:
            return self._round(batch)
        except Exception as error:
            if len(batch) == 1:
                return [error]
            log.exception("a round of %d requests failed; serving them one by one", len(batch))
        return [outcome for request in batch for outcome in self._round_or_one_by_one([request])]

    def _round(self, batch: list[_Request]) -> list[Outcome]:
        """Serve the requests in one transaction; a refused one's outcome is its error."""
        outcomes: list[Outcome] = [None] * len(batch)
        submits: list[tuple[int, SubmitAsk]] = []
        nexts: list[tuple[int, NextAsk]] = []
        with self._sessions() as db, db.begin():
            workers = workforce.authenticate_workers(
                db, secrets=list({request.secret for request in batch})
            )
            for index, request in enumerate(batch):
                worker = workers[request.secret]
                if isinstance(worker, DomainError):
                    outcomes[index] = worker
                    continue
                try:
                    self._admit(worker.id)
                except DomainError as error:
                    outcomes[index] = error
                    continue
                if request.submit:
                    submits.append((index, SubmitAsk(worker_id=worker.id, **request.ask)))
                else:
                    nexts.append((index, NextAsk(worker=worker, **request.ask)))
            # Submits first: they lock in task order and wait for locks; the picks that follow
            # skip rows others hold, so a round never waits holding a lock it took out of order.
            if submits:
                done = service.submit_all(db, [ask for _, ask in submits])
                for (index, _), outcome in zip(submits, done, strict=True):
                    outcomes[index] = outcome
            if nexts:
                leased = service.next_tasks(db, [ask for _, ask in nexts])
                for (index, _), outcome in zip(nexts, leased, strict=True):
                    outcomes[index] = outcome
        return outcomes
