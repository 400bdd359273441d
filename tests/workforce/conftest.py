"""Worker fixtures shared with the dispatch tests."""

from tests.dispatch.conftest import make_worker

__all__ = ["make_worker"]
