"""All configuration in one place, read from ROUTING_* environment variables (or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings shared by the CLI and the service; each field maps to ROUTING_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="ROUTING_", env_file=".env", extra="ignore")

    signing_key: SecretStr | None = Field(
        default=None,
        description="HMAC key: bundles are signed when written and must carry a valid "
        "signature to be loaded.",
    )

    # --- training (`routing train`, `retrain`, `retarget`) ---------------------------------
    bound_confidence: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="Confidence with which a threshold's target precision must hold on new "
        "complaints (one-sided Clopper-Pearson lower bound on out-of-fold precision).",
    )

    # --- service (`routing serve`, serve.py) ---------------------------------------------
    model: Path | None = Field(
        default=None, description="Bundle directory the service loads at start-up."
    )
    db_url: str = Field(
        default="sqlite:///var/routing.db",
        description="SQLAlchemy URL of the database that stores predictions and feedback "
        "(default: var/routing.db relative to the working directory).",
    )
    host: str = Field(default="127.0.0.1", description="Address the service binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port the service listens on.")
    api_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated role:key pairs (roles: integration, admin). Without "
        "keys the service only runs bound to a loopback address.",
    )
    rate_limit: int = Field(
        default=0, ge=0, description="Requests per minute per API key; 0 turns the limit off."
    )
    reload_interval: float = Field(
        default=2.0,
        ge=0,
        description="Seconds between checks of a served registry's CURRENT pointer for a new "
        "version; 0 turns the watcher off (POST /v1/admin/reload still reloads).",
    )
    batch_workers: int | None = Field(
        default=None,
        ge=0,
        description="Worker processes that share large /v1/predict/batch requests with the "
        "server process, each holding a copy of the model; default: one per CPU core beyond "
        "the first; 0 turns them off.",
    )
    retention_days: int = Field(
        default=365,
        ge=1,
        description="Complaint texts older than this many days are purged by `routing db purge`.",
    )

    def signing_key_value(self) -> str | None:
        return self.signing_key.get_secret_value() if self.signing_key else None

    def api_keys_value(self) -> str:
        return self.api_keys.get_secret_value() if self.api_keys else ""


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
