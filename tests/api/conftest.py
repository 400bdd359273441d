"""Staff and worker fixtures for the tenant-wall tests of staff endpoints."""

from tests.accounts.conftest import make_operator, make_worker, operator

__all__ = ["make_operator", "make_worker", "operator"]
