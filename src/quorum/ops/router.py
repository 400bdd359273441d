"""The Prometheus scrape endpoint."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from quorum.ops.metrics import render_metrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Request metrics of the server processes and work gauges from the database."""
    return Response(render_metrics(request.app.state.work_metrics), media_type=CONTENT_TYPE_LATEST)
