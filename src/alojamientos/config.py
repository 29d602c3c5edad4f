"""The one settings object. Read from the environment (and `.env`), validated once at startup."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    testing = "testing"
    production = "production"


class ConfigError(Exception):
    """Settings that cannot run: the message names the variable."""


def sqlalchemy_url(url: str, *, driver: str = "psycopg") -> str:
    """`postgresql://…` (what operators write) → the SQLAlchemy URL for our driver."""
    for prefix in (
        "postgresql+psycopg://",
        "postgresql+asyncpg://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return f"postgresql+{driver}://" + url[len(prefix) :]
    raise ConfigError(f"DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}://…")


# What each outside service needs before it can send or charge, by environment variable. Mercado
# Pago's webhook secret is optional (without it notifications are unsigned hints); WhatsApp's app secret
# and verify token guard the inbound webhook, which answers 404 without them.
INTEGRATIONS: dict[str, tuple[str, ...]] = {
    "whatsapp": ("WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_ACCESS_TOKEN"),
    "mercadopago": ("MERCADOPAGO_ACCESS_TOKEN",),
    "email": ("SMTP_HOST", "SMTP_FROM"),
}


class Settings(BaseSettings):
    # The `.env` file is named by get_settings(), so a Settings(...) built in code reads only the
    # environment. Empty values (KEY= in .env.example copies) count as unset.
    model_config = SettingsConfigDict(
        env_file=None, env_file_encoding="utf-8", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    env: Environment = Field(default=Environment.production, alias="ALOJAMIENTOS_ENV")
    database_url: str = "postgresql://aloj@127.0.0.1:5432/alojamientos"
    # Connections each process keeps open, and no more: a request waits for one rather than open a
    # connection past the pool (closed again when returned, so a busy process would pay PostgreSQL a
    # new backend per request), and more backends than PostgreSQL's cores only contend for them.
    database_pool_size: int = 10
    database_max_overflow: int = 0
    redis_url: str | None = None  # unset: no rate limits, health says Redis is not configured
    secret_key: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    access_token_minutes: int = 12 * 60
    log_level: str = "INFO"
    backup_dir: Path = Path("./backups")
    # The worker takes a backup when the newest is older than this (0: only by hand), keeping the N newest.
    backup_every_hours: int = Field(default=24, ge=0)
    backup_keep: int = Field(default=14, ge=1)
    # An off-machine copy after each backup (ops/backup/offsite.py): an S3-compatible bucket, or a command.
    backup_s3_bucket: str | None = None
    backup_s3_endpoint: str | None = (
        None  # unset: AWS itself; e.g. https://<account>.r2.cloudflarestorage.com
    )
    backup_s3_region: str = "us-east-1"
    backup_s3_prefix: str = "alojamientos/"
    backup_s3_access_key_id: str | None = None  # unset: boto3's own chain (AWS_* variables, instance role)
    backup_s3_secret_access_key: SecretStr | None = None
    backup_copy_command: str | None = None  # receives the backup file's path as its last argument

    whatsapp_api_base: str = "https://graph.facebook.com/v21.0"
    whatsapp_phone_number_id: str | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    # An approved UTILITY template with one body parameter, for messages outside the 24-hour window.
    whatsapp_template_name: str = "aviso_reserva"
    whatsapp_template_language: str = "es_AR"
    mercadopago_api_base: str = "https://api.mercadopago.com"
    mercadopago_access_token: SecretStr | None = None
    mercadopago_webhook_secret: SecretStr | None = None
    # Unsigned notifications (IPN, or no secret set) are only hints to fetch a resource: one fetch per
    # resource per window, and at most this many new fetches a minute overall (0: no overall limit).
    mercadopago_hint_window_seconds: int = Field(default=60, ge=1, le=3600)
    mercadopago_hints_per_minute: int = Field(default=60, ge=0)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True
    operator_email: str | None = None

    # Rollback: where the running checkout lives, how it is switched and restarted.
    deploy_dir: Path | None = None  # default: the git checkout this code runs from
    deploy_mode: str = "git"  # git (checkout of the tag) or compose (ALOJAMIENTOS_IMAGE_TAG in the env file)
    restart_command: str | None = None  # e.g. "systemctl restart alojamientos" or "docker compose up -d"
    max_backup_age_minutes: int = 60
    # Deploys without downtime (`alojamientos deploy`, ops/deploy.py): two slots behind nginx.
    deploy_slots_dir: Path | None = None  # default: <deploy dir>/.slots
    deploy_blue_port: int = Field(default=8101, ge=1, le=65535)
    deploy_green_port: int = Field(default=8102, ge=1, le=65535)
    deploy_nginx_upstream: Path | None = None  # the upstream include file deploy rewrites
    deploy_nginx_reload: str | None = None  # e.g. "nginx -s reload" or "systemctl reload nginx"
    deploy_keep_previous_minutes: int = Field(default=60, ge=0)
    deploy_canary_window_seconds: int = Field(default=60, ge=1)
    # A canary whose 5xx rate exceeds the stable slot's by more than this (0.02 = 2 points) rolls back.
    deploy_canary_max_error_rate: float = Field(default=0.02, ge=0, le=1)
    deploy_uv: str = "uv"  # the uv command that installs a slot's .venv (`uv sync --frozen`)

    # Per client IP and minute, in Redis (nginx limits first in production). 0 turns a limit off.
    rate_limit_login_per_minute: int = 10
    rate_limit_webhooks_per_minute: int = 300

    ical_sync_minutes: int = 10
    ical_horizon_days: int = 540  # how far ahead imported recurring events are expanded
    ical_max_bytes: int = 5 * 1024 * 1024
    # Feeds on loopback or private networks are refused (SSRF) unless this is set (tests, LAN setups).
    ical_allow_private_urls: bool = False

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        sqlalchemy_url(value)
        return value

    @field_validator("redis_url")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _enforce_secrets(self) -> Self:
        if self.env is Environment.development:
            return self
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(key) < 32 or key.lower() in {"changeme", "change-me", "secret"}:
            raise ValueError(
                "SECRET_KEY must be set to a random value of at least 32 characters "
                f"when ALOJAMIENTOS_ENV={self.env.value}"
            )
        return self

    def missing(self, integration: str) -> tuple[str, ...]:
        """The environment variables `integration` still needs (empty: it is configured).

        The one answer to "is this integration configured", used by the API, the panel, the chat
        engine, the Sistema page and `doctor`; whether it is switched on is its feature flag's business.
        """
        return tuple(name for name in INTEGRATIONS[integration] if not getattr(self, name.lower()))

    def configured(self, integration: str) -> bool:
        return not self.missing(integration)

    @property
    def whatsapp_configured(self) -> bool:
        """Outbound WhatsApp needs both; without them messages are kept as held, not failed."""
        return self.configured("whatsapp")

    @property
    def email_configured(self) -> bool:
        """Outgoing mail needs a server and a sender; without them e-mails are kept as held."""
        return self.configured("email")

    @property
    def signing_key(self) -> str:
        if self.secret_key is None:
            raise ConfigError("SECRET_KEY is not set")
        return self.secret_key.get_secret_value()


# `make run` writes this file while the project-local PostgreSQL and Redis it started are running
# (scripts/services.sh start; `make stop` removes it), so every command in the checkout finds them.
SERVICES_FILE = ".run/dev/services.env"


def _files() -> tuple[str | None, str | None]:
    """(.env, services file) as named by ALOJAMIENTOS_ENV_FILE / ALOJAMIENTOS_SERVICES_FILE (empty: none)."""
    env_file = os.environ.get("ALOJAMIENTOS_ENV_FILE", ".env") or None
    services = os.environ.get("ALOJAMIENTOS_SERVICES_FILE", SERVICES_FILE) or None
    return env_file, services


@lru_cache
def get_settings() -> Settings:
    """The one place settings come from, first non-empty value wins: the environment, then `.env`
    (ALOJAMIENTOS_ENV_FILE), then the running project-local services (ALOJAMIENTOS_SERVICES_FILE),
    then the defaults above. An empty value (`DATABASE_URL=`) never overrides anything."""
    env_file, services = _files()
    # pydantic-settings reads the files in order, later ones winning; the environment beats both.
    return Settings(_env_file=tuple(f for f in (services, env_file) if f))


def origin(variable: str) -> str:
    """Where `variable` comes from, in get_settings()' order: "the environment", a file's name, or
    "the default". For telling the operator which database a command is about to use."""
    from dotenv import dotenv_values

    if os.environ.get(variable):
        return "the environment"
    for path in _files():
        if path and Path(path).is_file() and dotenv_values(path).get(variable):
            return path
    return "the default"


def database_location(url: str) -> str:
    """`host:port/database` of a DATABASE_URL, without user or password (safe to print)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
