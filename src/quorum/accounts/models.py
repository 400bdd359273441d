"""Tenants (organizations), their members and their API keys; platform staff and their logins."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    callback_auth_key: Mapped[str] = mapped_column(String(64))
    callback_signing_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A member of a customer organization (owner, admin, member, viewer)."""

    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="member")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A secret that authenticates as an organization; only its SHA-256 digest is stored.

    The key acts with its ``role`` (owner, admin, member, viewer); a ``read`` scope also refuses
    every write, and a key past ``expires_at`` no longer authenticates.
    """

    __tablename__ = "api_key"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(4))
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10), default="owner", server_default="owner")
    scope: Mapped[str] = mapped_column(String(10), default="full", server_default="full")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class StaffAccount(Base):
    """A member of the platform's staff (an operator), who manages the shared workforce.

    Staff belong to no organization: they see public-pool workers, pay, and only the customer
    projects an organization opened to the public pool.
    """

    __tablename__ = "staff_account"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="operator")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class StaffToken(Base):
    """A staff login session; only the SHA-256 digest of its secret is stored."""

    __tablename__ = "staff_token"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
