"""Process-wide settings, read from the environment (prefix ``QUORUM_``)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, IPvAnyNetwork, StringConstraints, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path.home() / ".quorum"
# The secret key of a fresh checkout: public, so whoever knows it forges sessions and CSRF tokens.
DEFAULT_SECRET_KEY = "development-only-secret"
# Where the public secret is tolerated: ``quorum demo`` on one's own machine, and the test suite.
ENVS_ALLOWING_DEFAULT_SECRET = frozenset({"demo", "test"})
MIN_SECRET_KEY_LENGTH = 32
# The public name of an in-process model the operator offers: no ':' and no spaces, so a tenant's
# string that looks like an entry point can never be a name (see quorum.assist.backends).
OPERATOR_BACKEND_NAME = r"^[a-z0-9][a-z0-9._-]{0,99}$"
OperatorBackendName = Annotated[str, StringConstraints(pattern=OPERATOR_BACKEND_NAME)]
OperatorEntryPoint = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
]


class InsecureSecretKey(ValueError):
    """The server would sign sessions with a secret everybody knows."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUORUM_", extra="ignore")

    env: Literal["development", "production", "demo", "test"] = Field(
        "development",
        description="production, development, demo (set by quorum demo) or test (the test suite)",
    )
    home: Path = DEFAULT_HOME
    database_url: str = ""
    db_pool_size: int = 10
    db_max_overflow: int = 20
    request_threads: int = Field(8, description="threads serving requests per process")
    requests_in_flight: int = Field(
        0, description="requests served at once per process; 0: the pool's size and overflow less 4"
    )
    sqlite_busy_timeout_ms: int = 30_000
    max_body_bytes: int = 10 * 1024 * 1024
    rate_limit_per_second: float = Field(0, description="per API key and worker; 0: unlimited")
    rate_limit_burst: float = 50
    redis_url: str = Field("", description="share rate limits through Redis, not the database")
    login_attempts_per_minute: int = Field(
        10, description="per account (worker, staff, customer key), per login window"
    )
    login_attempts_per_address_per_minute: int = Field(
        100, description="per client address, all login surfaces together, per login window"
    )
    log_level: str = Field("info", description="level of the JSON logs on standard output")
    metrics_token: str = Field(
        "", description="when set, /metrics needs 'Authorization: Bearer <token>'"
    )
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(
        DEFAULT_SECRET_KEY, description="signs sessions and CSRF tokens; set it to serve"
    )
    outbound_allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="networks that are not public which the server may still reach for "
        'callbacks, model endpoints and image imports (on-premise); a JSON list: ["10.0.0.0/8"]',
    )
    outbound_timeout_seconds: float = Field(
        30.0, description="the longest a fetch of an image or a model's answer may take, whole"
    )
    callback_sender: bool = Field(True, description="run the callback sender inside the server")
    callback_poll_seconds: float = 1.0
    callback_max_attempts: int = 20
    callback_backoff_seconds: float = 10.0
    callback_backoff_max_seconds: float = 3600.0
    callback_timeout_seconds: float = 10.0
    callback_claim_seconds: float = 60.0
    callback_concurrency: int = 8
    lease_sweep_seconds: float = Field(60, description="0 disables the lease sweeper")
    export_poll_seconds: float = Field(
        2.0, description="how often the export runner looks for queued jobs; 0: no runner"
    )
    export_claim_seconds: float = Field(
        60.0, description="an export job's lease, renewed while it runs; a dead runner's expires"
    )
    export_max_attempts: int = Field(3, description="runs of an export job before it fails")
    max_live_leases_per_worker: int = Field(
        10, description="live leases one worker may hold at once, on the API and pages; 0: no limit"
    )
    quality_refit_seconds: float = Field(
        5.0, description="how often to re-fit Dawid-Skene where tasks completed; 0 turns it off"
    )
    active_learning_seconds: float = Field(
        10, description="how often the active-learning trainer looks for due projects; 0: never"
    )
    # Slow clients (security issue 17): every request must arrive in time, before it holds a slot.
    header_timeout_seconds: float = Field(
        10, gt=0, description="time a connection has to send a request's line and headers"
    )
    max_header_bytes: int = Field(
        64 * 1024, gt=0, description="a request's line and headers, at most (431 past it)"
    )
    body_timeout_seconds: float = Field(
        60, gt=0, description="time a request has to send its whole body, from its headers on"
    )
    body_grace_seconds: float = Field(
        5, ge=0, description="time before a body's minimum rate is enforced (slow starts)"
    )
    body_min_bytes_per_second: float = Field(
        1024, ge=0, description="a body slower than this on average (after the grace) is a 408"
    )
    body_buffer_bytes: int = Field(
        256 * 1024 * 1024,
        gt=0,
        description="bodies held by requests in progress, per process (>= max_body_bytes); "
        "past it new ones are 503",
    )
    pending_connections: int = Field(
        1000,
        ge=1,
        description="connections still sending a request, per process; past it the oldest closes",
    )
    keep_alive_seconds: float = Field(
        5, gt=0, description="idle time between requests before a connection is closed"
    )
    # Credentials (security issue 17)
    login_window_seconds: float = Field(
        60, gt=0, description="the window the login_attempts_* limits count in"
    )
    # Security issue 17, no tenant-named code: the in-process models tenants may choose by name.
    assist_python_backends: dict[OperatorBackendName, OperatorEntryPoint] = Field(
        default_factory=dict,
        description="JSON object: public name -> 'package.module:function' (added to the "
        "entry points of the group quorum.assist_backends)",
    )

    @model_validator(mode="after")
    def _defaults(self) -> "Settings":
        if self.requests_in_flight <= 0:
            # Background loops (callback sender, sweeper, trainers) keep a few connections.
            self.requests_in_flight = max(1, self.db_pool_size + self.db_max_overflow - 4)
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'quorum.db'}"
        return self

    def refuse_default_secret(self) -> None:
        """Refuse to serve with the public default secret, except for the demo and tests.

        Called by every server start (``create_app``), whatever ``env`` says; commands that sign
        nothing (``quorum org create``, ``quorum migrate``) do not need a secret."""
        how = (
            "set QUORUM_SECRET_KEY to a long random string (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
        if self.secret_key == DEFAULT_SECRET_KEY:
            if self.env not in ENVS_ALLOWING_DEFAULT_SECRET:
                raise InsecureSecretKey(
                    f"QUORUM_SECRET_KEY is not set: {how}; only `quorum demo` and the tests run "
                    "with the public default"
                )
        elif len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise InsecureSecretKey(
                f"QUORUM_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters: {how}"
            )


@lru_cache
def get_settings() -> Settings:
    """The settings of this process (environment read once)."""
    return Settings()
