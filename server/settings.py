"""Typed settings, read from the environment and an optional `.env` file.

Every setting is documented in the README. Secrets have development defaults only: in
production mode (`ENVIRONMENT=production`) the server refuses to start until each one is set
to a real value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from server.crypto import decode_signing_seed, parse_key_ring

# Development-only values. Production refuses every one of them.
DEV_SECRET_KEY = "dev-only-secret-key-change-me-0000000000000000"
DEV_ID_ENCRYPTION_KEYS = "dev1:ZGV2LW9ubHktaWQtZW5jcnlwdGlvbi1rZXktMzJieXQ="
DEV_ID_BLIND_INDEX_KEY = "dev-only-blind-index-key"
DEV_MEMBER_CARD_SIGNING_KEY = "ZGV2LW9ubHktbWVtYmVyLWNhcmQtc2lnbmluZy1rZXk="
DEV_WECHAT_SECRET = "dev-only-wechat-secret"
DEV_DEMO_ADMIN_PASSWORD = "gonghui-demo-2025"
DEV_CALLBACK_TOKEN = "dev-callback-token"
_PLACEHOLDERS = {
    DEV_CALLBACK_TOKEN,
    DEV_SECRET_KEY,
    DEV_ID_ENCRYPTION_KEYS,
    DEV_ID_BLIND_INDEX_KEY,
    DEV_MEMBER_CARD_SIGNING_KEY,
    DEV_WECHAT_SECRET,
    "",
    "changeme",
}


@dataclass(frozen=True)
class RateLimit:
    """At most `max_hits` in a fixed window of `window_seconds`; 0 hits: no limit."""

    max_hits: int
    window_seconds: int

    def __str__(self) -> str:
        return f"{self.max_hits}/{self.window_seconds}"


def _rate_limit(value: object) -> RateLimit:
    """`N/SECONDS`, as written in the environment: `20/600` is 20 per ten minutes."""
    if isinstance(value, RateLimit):
        return value
    hits, slash, seconds = str(value).partition("/")
    if not slash or not hits.strip().isascii() or not seconds.strip().isascii():
        raise ValueError("a rate limit reads N/SECONDS, e.g. 20/600")
    limit = RateLimit(int(hits), int(seconds))
    if limit.max_hits < 0 or limit.window_seconds < 1:
        raise ValueError("a rate limit needs N >= 0 and SECONDS >= 1")
    return limit


def _networks(value: object) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated addresses or CIDR blocks."""
    if isinstance(value, tuple):
        return value
    return tuple(ip_network(part.strip(), strict=False) for part in str(value).split(",") if part.strip())


RateLimitSetting = Annotated[RateLimit, NoDecode, BeforeValidator(_rate_limit)]
Networks = Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode, BeforeValidator(_networks)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(1, ge=1)
    data_dir: Path = Path("data")
    database_url: str = ""
    database_acquire_timeout_seconds: float = Field(
        5.0, gt=0, description="longest a request waits for a pooled PostgreSQL connection before a 503"
    )
    pgbouncer: bool = Field(
        False, description="DATABASE_URL names PgBouncer in transaction mode: no prepared statements"
    )
    graceful_shutdown_seconds: float = Field(
        15.0, gt=0, description="how long SIGTERM lets requests in flight finish before the server exits"
    )
    redis_url: str = ""
    redis_prefix: str = "gonghui:"
    log_level: str = "INFO"
    max_body_bytes: int = 1_048_576

    secret_key: str = DEV_SECRET_KEY
    id_encryption_keys: str = Field(
        default=DEV_ID_ENCRYPTION_KEYS,
        description="Comma-separated key_id:base64(32 bytes); the first encrypts, all decrypt.",
    )
    id_blind_index_key: str = Field(
        default=DEV_ID_BLIND_INDEX_KEY,
        description="Keys the lookup hash of ID numbers; never rotated (it would split people in two).",
    )
    member_card_signing_key: str = Field(
        default=DEV_MEMBER_CARD_SIGNING_KEY,
        description="Base64 of a 32-byte Ed25519 seed signing member cards and station QR codes; its public key is published.",
    )
    member_card_ttl_seconds: int = 24 * 3600
    worker_token_ttl_seconds: int = 7 * 24 * 3600
    admin_token_ttl_seconds: int = 12 * 3600

    metrics_token: str = Field(
        default="", description="bearer token GET /metrics asks for; empty: it answers loopback clients only"
    )

    trusted_proxies: Networks = Field(
        default=(), description="addresses or CIDRs of reverse proxies whose X-Forwarded-* headers are believed"
    )

    # Abuse limits, all counted per client address in shared state (see docs/RELIABILITY.md).
    login_free_failures: int = Field(5, ge=1, description="failed staff logins per address and account before delays")
    login_delay_base_seconds: int = Field(2, ge=1, description="first delay; doubles with each further failure")
    login_delay_cap_seconds: int = Field(900, ge=1, description="longest delay between two attempts")
    login_failure_memory_seconds: int = Field(3600, ge=1, description="how long failures of one pair are remembered")
    rate_limit_staff_login_failures: RateLimitSetting = RateLimit(30, 900)
    rate_limit_worker_login: RateLimitSetting = RateLimit(60, 60)
    rate_limit_worker_login_failures: RateLimitSetting = RateLimit(20, 600)
    rate_limit_card_verify: RateLimitSetting = RateLimit(60, 60)
    rate_limit_org_search: RateLimitSetting = RateLimit(60, 60)

    wechat_api_base_url: str = "https://api.weixin.qq.com"
    wechat_timeout_seconds: float = 5.0
    wechat_connections: int = 16
    wechat_miniprogram_appid: str = "wx-sandbox-miniprogram"
    wechat_miniprogram_secret: str = DEV_WECHAT_SECRET

    wechat_official_appid: str = "wx-sandbox-official"
    wechat_official_secret: str = DEV_WECHAT_SECRET
    wechat_callback_token: str = DEV_CALLBACK_TOKEN
    wechat_callback_aes_key: str = Field("", description="EncodingAESKey (43 characters) for safe mode; empty: plain")
    miniprogram_state: Literal["developer", "trial", "formal"] = "formal"
    notification_templates: str = Field("", description="JSON: event -> {subscribe, official} templates")
    wechat_sends_per_second: int = Field(200, description="cap on outgoing sends per second, all dispatchers")

    dispatcher_batch_size: int = 200
    # Deliveries a dispatcher holds at once. A send that hangs holds its slot until the WeChat
    # timeout: with 32, the fault benchmark's 3 % of 1 s hangs halved a dispatcher's rate.
    dispatcher_concurrency: int = 128
    dispatcher_lease_seconds: int = 15
    dispatcher_poll_seconds: float = 0.2
    dispatcher_max_attempts: int = 8
    dispatcher_backoff_base_seconds: float = 2.0
    dispatcher_backoff_cap_seconds: float = 600.0

    job_round_timeout_seconds: float = Field(300.0, gt=0, description="longest one round of a background job may take")
    job_shutdown_seconds: float = Field(20.0, ge=0, description="how long SIGTERM lets rounds in flight finish")
    job_sweep_seconds: float = Field(30.0, gt=0, description="pause between sweeps of SLA timers and offer deadlines")
    service_order_offer_hours: int = Field(
        48, ge=1, le=720, description="how long an expert has to accept or decline a service order offered to them"
    )

    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8100

    demo_admin_password: str = DEV_DEMO_ADMIN_PASSWORD

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        parse_key_ring(self.id_encryption_keys)
        decode_signing_seed(self.member_card_signing_key)
        if self.workers > 1 and not self.redis_url:
            # In-process state is per process: each worker would keep its own sessions, lockouts
            # and limits, and a revoked session would live on in the others.
            raise ValueError(
                "WORKERS>1 needs REDIS_URL: several workers share sessions, lockouts and limits through it"
            )
        if self.environment != "production":
            return self
        missing = [
            name.upper()
            for name in (
                "secret_key",
                "id_encryption_keys",
                "id_blind_index_key",
                "member_card_signing_key",
                "wechat_miniprogram_secret",
                "wechat_official_secret",
                "wechat_callback_token",
            )
            if getattr(self, name) in _PLACEHOLDERS
        ]
        if len(self.secret_key) < 32 and "SECRET_KEY" not in missing:
            missing.append("SECRET_KEY (at least 32 characters)")
        if self.demo_admin_password == DEV_DEMO_ADMIN_PASSWORD:
            missing.append("DEMO_ADMIN_PASSWORD")
        if not self.database_url:
            missing.append("DATABASE_URL")
        if missing:
            raise ValueError("production mode refuses to start without real values for: " + ", ".join(missing))
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{self.data_dir.resolve() / 'gonghui.sqlite3'}"

    @property
    def uses_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    settings = Settings(**overrides)  # type: ignore[arg-type]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings
