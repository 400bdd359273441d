"""Process-wide settings, read from the environment (prefix ``QUORUM_``)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from quorum.assist.backends import OperatorBackendName, OperatorEntryPoint

DEFAULT_HOME = Path.home() / ".quorum"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUORUM_", extra="ignore")

    env: str = Field("development", description="development or production")
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
    login_attempts_per_minute: int = Field(10, description="per worker account")
    login_attempts_per_address_per_minute: int = Field(100, description="per client address")
    log_level: str = Field("info", description="level of the JSON logs on standard output")
    metrics_token: str = Field(
        "", description="when set, /metrics needs 'Authorization: Bearer <token>'"
    )
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = "development-only-secret"
    callback_allow_private: bool = Field(
        False, description="let callbacks reach private, loopback and link-local addresses"
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
        10, description="live leases one worker may hold at once (worker API); 0: no limit"
    )
    quality_refit_seconds: float = Field(
        5.0, description="how often to re-fit Dawid-Skene where tasks completed; 0 turns it off"
    )
    active_learning_seconds: float = Field(
        10, description="how often the active-learning trainer looks for due projects; 0: never"
    )
    # Security issue 17, no tenant-named code: the in-process models tenants may choose by name.
    assist_python_backends: dict[OperatorBackendName, OperatorEntryPoint] = Field(
        default_factory=dict,
        description="JSON object: public name -> 'package.module:function' (added to the "
        "entry points of the group quorum.assist_backends)",
    )

    @model_validator(mode="after")
    def _defaults_and_production_guard(self) -> "Settings":
        if self.requests_in_flight <= 0:
            # Background loops (callback sender, sweeper, trainers) keep a few connections.
            self.requests_in_flight = max(1, self.db_pool_size + self.db_max_overflow - 4)
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'quorum.db'}"
        if self.env == "production" and self.secret_key == "development-only-secret":
            raise ValueError("QUORUM_SECRET_KEY must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings of this process (environment read once)."""
    return Settings()
