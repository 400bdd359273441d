"""Process-wide settings, read from the environment (prefix ``QUORUM_``)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path.home() / ".quorum"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUORUM_", extra="ignore")

    env: str = Field("development", description="development or production")
    home: Path = DEFAULT_HOME
    database_url: str = ""
    db_pool_size: int = 10
    db_max_overflow: int = 20
    sqlite_busy_timeout_ms: int = 30_000
    max_body_bytes: int = 10 * 1024 * 1024
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = "development-only-secret"

    @model_validator(mode="after")
    def _defaults_and_production_guard(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'quorum.db'}"
        if self.env == "production" and self.secret_key == "development-only-secret":
            raise ValueError("QUORUM_SECRET_KEY must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings of this process (environment read once)."""
    return Settings()
