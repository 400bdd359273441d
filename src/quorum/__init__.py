"""Quorum: an open-source data-labeling platform with a Scale-compatible API."""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``quorum.Client`` and ``quorum.AsyncClient``, imported on first use."""
    if name in ("Client", "AsyncClient"):
        from quorum import client

        return getattr(client, name)
    raise AttributeError(f"module 'quorum' has no attribute {name!r}")
