"""Tables of the front door itself: shared rate-limit counters."""

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base


class RateLimitWindow(Base):
    """Requests counted in one fixed time window for one key, shared by every server process."""

    __tablename__ = "rate_limit_window"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)
