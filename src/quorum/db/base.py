"""Declarative base with a naming convention, id generation and portable column types."""

import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def id_number() -> int:
    """A new id's number at this moment: 48 bits of milliseconds, then a random start under
    2**47, so that counting up from it (``new_id``, a bulk import's chunk) never runs into the
    next millisecond."""
    return int(time.time() * 1000) << 48 | int.from_bytes(os.urandom(6)) >> 1


_last_id = 0
_last_id_lock = threading.Lock()


def new_id() -> str:
    """A 24-hex id (like Scale's): 48 bits of milliseconds, then 48 bits that start at random in
    each millisecond and count up within it.

    Ids sort by creation time, so keyset pagination over the primary key lists in creation order
    and dispatch hands out tasks of equal priority oldest first. Counting up keeps that order
    exact for the ids one process makes within a millisecond (random bits alone shuffled them);
    the random start keeps processes apart.
    """
    global _last_id
    fresh = id_number()
    with _last_id_lock:
        _last_id = max(fresh, _last_id + 1)
        return f"{_last_id:024x}"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
IdType = String(24)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}
