"""Database plumbing shared by every domain: declarative base, engines, sessions, column types."""

from quorum.db.base import Base, new_id, utcnow
from quorum.db.session import (
    create_db_engine,
    session_factory,
    transaction,
    transaction_memo,
    write_through,
)

__all__ = [
    "Base",
    "create_db_engine",
    "new_id",
    "session_factory",
    "transaction",
    "transaction_memo",
    "utcnow",
    "write_through",
]
