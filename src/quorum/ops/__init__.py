"""Running Quorum: request ids, structured logs and Prometheus metrics."""
