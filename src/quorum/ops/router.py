"""The Prometheus scrape endpoint."""

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from quorum.errors import Unauthorized
from quorum.ops.metrics import render_metrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Request metrics of the server processes and work gauges from the database.

    With ``QUORUM_METRICS_TOKEN`` set, only a scraper sending it as a Bearer token gets them:
    the gauges tell outsiders how busy each customer's work is.
    """
    expected = request.app.state.settings.metrics_token
    if expected:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
            raise Unauthorized("/metrics needs the metrics token as a Bearer token")
    return Response(render_metrics(request.app.state.work_metrics), media_type=CONTENT_TYPE_LATEST)
