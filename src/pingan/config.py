"""Settings from the environment (`PINGAN_*`) or `.env`; see docs/configuration.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

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
    bus_subjects: str = Field(
        default="pingan.events",
        description="subject prefix of the JetStream stream; two streams must not share one",
    )
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
    data_keys: str = Field(
        default=(
            "active=dev1;dev1=REVWLU9OTFkgcGluZ2FuIGRhdGEga2V5IDEgLi4uLiE=;"
            "index=REVWLU9OTFkgcGluZ2FuIGJsaW5kIGluZGV4IGtleSE="
        ),
        description=(
            "Personal-data keys: `active=<id>;<id>=<base64 32 bytes>;...;index=<base64 32 bytes>`;"
            " the default is a public DEV-ONLY keyring, set your own in production"
        ),
    )
    totp_issuer: str = "Pingan"
    cors_origins: list[str] = []
    ice_servers: list[dict[str, Any]] = Field(
        default=[],
        description=(
            "STUN/TURN servers for video calls, as a JSON list of RTCIceServer objects, e.g. "
            '[{"urls":"turn:turn.example.org:3478","username":"u","credential":"p"}]; '
            "empty on one local network"
        ),
    )
    call_ring_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds a video call rings before it counts as missed"
    )
    max_recording_bytes: int = Field(
        default=200_000_000, description="Largest call recording kept as case evidence"
    )
    tile_url: str | None = Field(
        default=None,
        description=(
            "Map tiles under the boundaries, e.g. https://tiles.example.org/{z}/{x}/{y}.png; "
            "none by default (the boundaries are the base map)"
        ),
    )
    tile_crs: Literal["wgs84", "gcj02"] = Field(
        default="wgs84", description="Coordinate system of the tiles at tile_url"
    )
    tile_attribution: str = ""
    webhook_replay_window_s: int = Field(
        default=300,
        description="Incoming webhooks: how far X-Pingan-Timestamp may be from now, in seconds",
    )
    webhook_max_attempts: int = Field(
        default=8, description="Outgoing webhooks: tries before a delivery becomes a dead letter"
    )
    webhook_backoff_base_s: float = Field(
        default=30.0, description="Outgoing webhooks: wait before the first retry (then doubles)"
    )
    webhook_backoff_max_s: float = Field(
        default=3600.0, description="Outgoing webhooks: longest wait between two tries"
    )
    webhook_timeout_s: float = Field(
        default=10.0, description="Outgoing webhooks: seconds to wait for a receiver's answer"
    )
    webhook_interval_s: float = 1.0
    model_dir: Path = Field(
        default=Path("var/models"),
        description="Where `pingan train` writes the intake classifier and the server reads it",
    )
