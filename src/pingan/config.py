"""Settings from the environment (`PINGAN_*`) or `.env`; see docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PINGAN_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/pingan.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    secret_key: str = Field(
        default="dev-only-change-me-0123456789abcdef",
        description="HMAC key for API tokens; set a long random value in production",
    )
    token_ttl_minutes: int = 12 * 60
    media_dir: Path = Path("var/media")
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 10_000_000
    max_image_pixels: int = Field(
        default=40_000_000,
        description="Photos with more pixels are refused from their header, before decoding",
    )
    calendar_file: Path | None = Field(
        default=None,
        description="JSON with extra holidays/workdays for years the bundled calendar lacks",
    )
    bus_url: str = Field(
        default="memory://",
        description="memory:// (in-process, the default) or nats://host:4222 (NATS JetStream)",
    )
    bus_stream: str = "PINGAN_EVENTS"
    mqtt_url: str | None = Field(
        default=None,
        description="mqtt://host:1883 or mqtts://host:8883; when set, `serve` ingests IoT messages",
    )
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_client_id: str = "pingan-ingest"
    relay_interval_s: float = 0.2
    sla_interval_s: float = 30.0
    run_workers: bool = Field(
        default=True, description="Run the outbox relay and SLA clock inside the API process"
    )
    login_max_failures: int = 5
    login_window_s: int = 900
    cors_origins: list[str] = []
