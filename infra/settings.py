"""Every setting Hearth reads, from the environment (prefix HEARTH_, except DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.shared.errors import ValidationFailed
from domain.shared.iso import check_currency


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEARTH_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "HEARTH_DATABASE_URL"),
        description="libpq URL; unset means an embedded PostgreSQL in data_dir/pgdata",
    )
    data_dir: Path = Path(".hearth")
    pgdata: Path | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10

    public_url: str = "http://127.0.0.1:8000"
    spa_dir: Path = Path("frontend/dist")
    cors_origins: list[str] = []
    max_body_bytes: int = 1_048_576
    # How long an Idempotency-Key's first answer is kept and replayed; then the key is a new request and the row
    # (private data, sealed) is deleted.
    idempotency_retention_hours: int = Field(default=24, ge=1, le=720)

    jwt_issuer: str = "hearth"
    jwt_audience: str = "hearth-api"
    jwt_private_key_file: Path | None = None
    jwt_key_id: str | None = None
    jwt_extra_public_key_files: list[Path] = []
    access_token_minutes: float = Field(default=10, gt=0, le=10)

    # Idle: time without user activity (see RefreshActivity.idle_seconds), not without requests.
    staff_idle_minutes: float = Field(default=30, gt=0)
    staff_absolute_hours: int = 12
    client_idle_minutes: float = Field(default=60 * 24 * 7, gt=0)
    client_absolute_hours: int = 24 * 30
    refresh_cookie_secure: bool | None = None

    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 30
    login_window_minutes: int = 15
    login_block_minutes: int = 15
    # How long an invitation into a group practice (its emailed link) can be accepted.
    invitation_valid_days: int = Field(default=7, ge=1, le=90)

    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 1

    log_level: str = "INFO"
    log_json: bool = True

    # Payload encryption
    payload_keks: dict[str, SecretStr] = {}
    payload_keks_file: Path | None = None
    payload_kek_current: str | None = None
    payload_key_cache_size: int = Field(default=1024, ge=0)

    # Notifications and jobs
    email_backend: Literal["console", "smtp"] = "console"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_from: str = "Hearth <no-reply@localhost>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    sms_backend: Literal["console", "twilio"] = "console"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    twilio_timeout_seconds: float = Field(default=10.0, gt=0)
    # Telephony (phone sessions): the platform calls the therapist, then the client, from `telephony_caller_id`
    telephony_backend: Literal["console", "twilio"] = "console"
    telephony_caller_id: str | None = None  # E.164 number of the Twilio account; defaults to twilio_from_number
    telephony_webhook_base_url: str | None = None  # where Twilio reaches us; defaults to public_url
    telephony_ring_timeout_seconds: int = Field(default=30, ge=5, le=600)
    telephony_console_step_seconds: float = Field(default=2.0, ge=0)
    # Production refuses a `console` email, SMS or telephony backend unless it is listed here (JSON, e.g.
    # '["sms"]'): console email and SMS only log, dropping every message (safety alerts included), and console
    # telephony rings nobody yet reports the call connected (the client counts as attended, phone minutes billed).
    allow_console_backends: list[Literal["email", "sms", "telephony"]] = []
    jobs_in_process: bool = True
    jobs_concurrency: int = Field(default=10, ge=2)
    # 12 runs, 30 s doubling to the hour cap: retries span about five hours, a realistic SMTP or Twilio outage.
    jobs_max_attempts: int = Field(default=12, ge=1)
    jobs_retry_initial_seconds: float = Field(default=30.0, ge=0)
    jobs_retry_max_seconds: float = Field(default=3600.0, ge=0)
    jobs_poll_seconds: float = Field(default=30.0, gt=0)

    # Message bus
    bus: Literal["postgres", "redis", "memory"] = "postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    bus_channel: str = Field(default="hearth_bus", pattern=r"^[a-z][a-z0-9_]{0,62}$")

    # Messaging notifications
    message_notify_after_minutes: int = Field(default=10, ge=1, le=1440)
    message_notify_throttle_minutes: int = Field(default=60, ge=1, le=10080)

    # Matching: points per part of the score, overriding `domain.matching.scoring.Weights` by field name
    # (HEARTH_MATCHING_WEIGHTS='{"specialty": 40, "availability": 20}'); checked at start-up.
    matching_weights: dict[str, float] = {}
    # Billing. Card payments go through Stripe when configured; the base URL points tests at a local fake.
    payments_backend: Literal["none", "stripe"] = "none"
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    # The publishable key (pk_...) the SPA loads Stripe.js with; public by design (served to every browser).
    stripe_publishable_key: str | None = None
    stripe_base_url: str = "https://api.stripe.com"
    stripe_api_version: str | None = None
    stripe_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    billing_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    # The platform fee a practice pays unless the operator set one for it (`hearth billing set-fee`).
    platform_fee_mode: Literal["percent_per_invoice", "monthly_subscription"] = "percent_per_invoice"
    platform_fee_percent_bp: int = Field(default=300, ge=0, le=10_000)
    platform_fee_monthly_minor: int | None = Field(default=None, ge=0)
    # Media relay (live sessions). Unset relay_url: the relay runs inside `hearth serve`; set: a `hearth relay`
    # process at that URL, reached with relay_secret (which `hearth relay` requires too).
    relay_url: str | None = None
    relay_secret: SecretStr | None = None
    # Host candidates the relay offers; empty means every non-loopback interface address. Loopback (127.0.0.1) is
    # skipped by ICE unless listed here, as tests do.
    relay_host_addresses: list[str] = []
    # STUN/TURN servers for the relay's own ICE gathering. Always explicit: aiortc would otherwise use a public STUN
    # server. TURN entries take relay_turn_username / relay_turn_credential.
    relay_ice_servers: list[str] = []
    relay_turn_username: str | None = None
    relay_turn_credential: SecretStr | None = None
    # Live sessions
    session_join_early_minutes: int = Field(default=10, ge=0, le=120)
    session_join_late_minutes: int = Field(default=15, ge=0, le=240)
    session_no_show_minutes: int = Field(default=15, ge=1, le=120)
    # ICE: STUN URLs as given; TURN with coturn REST credentials (`use-auth-secret` + `static-auth-secret`).
    stun_urls: list[str] = []
    turn_urls: list[str] = []
    turn_secret: SecretStr | None = None
    turn_ttl_seconds: int = Field(default=3600, ge=60, le=86400)

    @field_validator("billing_currency")
    @classmethod
    def _billable_currency(cls, value: str) -> str:
        try:
            return check_currency(value, field="billing_currency")
        except ValidationFailed as exc:
            raise ValueError(exc.detail) from None

    @model_validator(mode="after")
    def _production_needs_real_keys(self) -> Settings:
        if self.env == "production":
            if self.jwt_private_key_file is None:
                raise ValueError("HEARTH_JWT_PRIVATE_KEY_FILE must be set in production")
            if self.database_url is None:
                raise ValueError("DATABASE_URL must be set in production")
            self._refuse_console_backends()
        return self

    def _refuse_console_backends(self) -> None:
        harms = {
            "email": "HEARTH_EMAIL_BACKEND=console drops every email (safety alerts included)",
            "sms": "HEARTH_SMS_BACKEND=console drops every text message",
            "telephony": "HEARTH_TELEPHONY_BACKEND=console rings nobody yet reports calls answered (and billed)",
        }
        backends = {"email": self.email_backend, "sms": self.sms_backend, "telephony": self.telephony_backend}
        refused = [
            n for n, backend in backends.items() if backend == "console" and n not in self.allow_console_backends
        ]
        if refused:
            allowed = ", ".join(f'"{n}"' for n in backends if n in refused or n in self.allow_console_backends)
            raise ValueError(
                f"In production {'; '.join(harms[n] for n in refused)}: configure a real backend, or set "
                f"HEARTH_ALLOW_CONSOLE_BACKENDS='[{allowed}]' to accept that"
            )

    @property
    def pgdata_dir(self) -> Path:
        return self.pgdata or self.data_dir / "pgdata"

    @property
    def secure_cookies(self) -> bool:
        if self.refresh_cookie_secure is not None:
            return self.refresh_cookie_secure
        return self.public_url.startswith("https://")
