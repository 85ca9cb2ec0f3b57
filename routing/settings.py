"""All configuration in one place, read from ROUTING_* environment variables (or a .env file)."""

from __future__ import annotations

from functools import lru_cache

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

    def signing_key_value(self) -> str | None:
        return self.signing_key.get_secret_value() if self.signing_key else None


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
