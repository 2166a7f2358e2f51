"""Production mode refuses to start without real secrets, and says which."""

from __future__ import annotations

from server.settings import Settings
from tests.harness import base_env, run_command

REAL_SECRETS = {
    "SECRET_KEY": "a-real-production-secret-key-with-enough-length",
    "ID_ENCRYPTION_KEYS": "prod1:cHJvZHVjdGlvbi1pZC1rZXktb2YtMzItYnl0ZXMteHg=",
    "ID_BLIND_INDEX_KEY": "production-blind-index-key",
    "MEMBER_CARD_SIGNING_KEY": "cHJvZHVjdGlvbi1jYXJkLXNpZ25pbmctc2VlZC0zMmI=",
    "WECHAT_MINIPROGRAM_SECRET": "real-wechat-secret",
    "WECHAT_OFFICIAL_SECRET": "real-official-secret",
    "WECHAT_CALLBACK_TOKEN": "real-callback-token",
    "DEMO_ADMIN_PASSWORD": "a-real-admin-password-9",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
}


def test_production_refuses_placeholder_secrets(tmp_path) -> None:
    done = run_command(base_env(ENVIRONMENT="production", DATA_DIR=str(tmp_path)), "run")
    assert done.returncode == 2
    for name in (
        "SECRET_KEY",
        "ID_ENCRYPTION_KEYS",
        "WECHAT_MINIPROGRAM_SECRET",
        "DEMO_ADMIN_PASSWORD",
        "DATABASE_URL",
    ):
        assert name in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_production_names_only_what_is_missing(tmp_path) -> None:
    env = base_env(ENVIRONMENT="production", DATA_DIR=str(tmp_path), **REAL_SECRETS)
    env["SECRET_KEY"] = "short"
    done = run_command(env, "migrate")
    assert done.returncode == 2
    assert "SECRET_KEY (at least 32 characters)" in done.stderr
    assert "WECHAT_MINIPROGRAM_SECRET" not in done.stderr


def test_production_accepts_real_settings() -> None:
    values = {key.lower(): value for key, value in REAL_SECRETS.items()}
    settings = Settings(_env_file=None, environment="production", **values)  # type: ignore[call-arg]
    assert settings.environment == "production"
    assert settings.resolved_database_url == REAL_SECRETS["DATABASE_URL"]


def test_malformed_encryption_keys_are_refused_in_any_mode(tmp_path) -> None:
    done = run_command(base_env(DATA_DIR=str(tmp_path), ID_ENCRYPTION_KEYS="k1:not-base64!"), "migrate")
    assert done.returncode == 2 and "k1" in done.stderr
