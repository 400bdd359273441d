"""Prometheus metrics: request rate and latency per route template, kept in each process, and
work gauges (queue depth, live leases, callback backlog) read from the database at scrape time,
so every server process reports the same truth.

With several worker processes (``quorum serve --workers N``) the request metrics use
prometheus-client's multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` is set before they start.
"""

import logging
import os
from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from quorum.db.base import utcnow
from quorum.quality import service as quality

log = logging.getLogger("quorum.metrics")

REQUESTS = Counter("quorum_http_requests", "HTTP requests served", ["method", "route", "status"])
LATENCY = Histogram(
    "quorum_http_request_duration_seconds",
    "Time to serve an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


# name, help, SQL returning (label value, number) rows or one number, label name
WORK_GAUGES = (
    (
        "quorum_queue_depth",
        "Pending tasks per project",
        "SELECT project_id, count(*) FROM task WHERE status = 'pending' GROUP BY project_id",
        "project_id",
    ),
    (
        "quorum_live_leases",
        "Assignments currently leased to a worker",
        "SELECT count(*) FROM assignment WHERE state = 'active' AND leased_until > :now",
        None,
    ),
    (
        "quorum_callback_backlog",
        "Callback events waiting to be delivered",
        "SELECT count(*) FROM callback_event WHERE state = 'pending'",
        None,
    ),
    (
        "quorum_callback_dead",
        "Callback events that gave up after every attempt",
        "SELECT count(*) FROM callback_event WHERE state = 'dead'",
        None,
    ),
)


class DatabaseGauges(Collector):
    """Reads the work gauges with cheap aggregates; a table that does not exist yet is skipped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        for name, description, sql, label in WORK_GAUGES:
            try:
                with self.engine.connect() as connection:
                    rows = connection.execute(text(sql), {"now": utcnow()}).all()
            except SQLAlchemyError as exc:
                log.warning("metric %s unavailable: %s", name, exc.__class__.__name__)
                continue
            gauge = GaugeMetricFamily(name, description, labels=[label] if label else None)
            if label:
                for value, count in rows:
                    gauge.add_metric([str(value)], count)
            else:
                gauge.add_metric([], rows[0][0])
            yield gauge
        yield self._consolidation_lag()

    def _consolidation_lag(self) -> Metric:
        gauge = GaugeMetricFamily(
            "quorum_consolidation_lag_tasks",
            "Completed tasks not yet in their project's last Dawid-Skene fit",
            labels=["project_id"],
        )
        try:
            with Session(self.engine) as db:
                lag = quality.consolidation_lag(db)
        except SQLAlchemyError as exc:
            log.warning("consolidation lag unavailable: %s", exc.__class__.__name__)
            return gauge
        for project_id, tasks in lag.items():
            gauge.add_metric([project_id], tasks)
        return gauge


def render_metrics(work: CollectorRegistry) -> bytes:
    """This process's (or, in multiprocess mode, every process's) request metrics, then the
    database gauges of ``work``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests)
    else:
        requests = REGISTRY
    return generate_latest(requests) + generate_latest(work)
