"""Tortoise ORM configuration and migrations.

`TORTOISE_ORM` is what the `tortoise` command line reads (`tortoise -c server.db.TORTOISE_ORM
makemigrations`); the server and `python -m server migrate` build the same config from settings.
"""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api.migrate import migrate

from models import MODEL_MODULES
from server.settings import Settings, load_settings

SQLITE_BUSY_TIMEOUT_MS = 10_000


def connection_config(settings: Settings, application_name: str = "") -> str | dict[str, Any]:
    """`application_name`: what PostgreSQL shows for this process's sessions (a dispatcher's
    name, by which the others tell that it died: server/dispatcher.py)."""
    url = settings.resolved_database_url
    if not settings.uses_sqlite:
        config = expand_db_url(url)
        config["engine"] = "server.postgres_backend"
        config["credentials"]["acquire_timeout"] = settings.database_acquire_timeout_seconds
        if application_name:
            config["credentials"]["application_name"] = application_name
        if settings.pgbouncer:
            # PgBouncer in transaction mode hands each transaction to any server connection, where
            # a statement prepared on another is unknown: asyncpg must not keep prepared statements
            # (its unnamed ones are planned afresh each time, so no plan_cache_mode either, a
            # startup parameter PgBouncer would refuse).
            config["credentials"]["statement_cache_size"] = 0
            return config
        # asyncpg prepares every statement; after five runs PostgreSQL switches to a generic plan,
        # which guesses a subtree at the average size (a handful of orgs) and, for a city, reads
        # and sorts every row instead of walking an index (docs/PERFORMANCE.md). Plan each time.
        config["credentials"].setdefault("server_settings", {})["plan_cache_mode"] = "force_custom_plan"
        # One pool connection per request, and no reset round trip when it goes back (server/pg_backend.py).
        config["engine"] = "server.pg_backend"
        return config
    return {
        "engine": "server.sqlite_backend",
        "credentials": {"file_path": url.removeprefix("sqlite://"), "busy_timeout": SQLITE_BUSY_TIMEOUT_MS},
    }


def tortoise_config(settings: Settings, application_name: str = "") -> dict[str, Any]:
    return {
        "connections": {"default": connection_config(settings, application_name)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "Asia/Shanghai",
    }


def __getattr__(name: str) -> Any:
    # Built on first use so that importing this module never reads the environment.
    if name == "TORTOISE_ORM":
        return tortoise_config(load_settings())
    raise AttributeError(name)


async def apply_migrations(settings: Settings) -> None:
    await migrate(config=tortoise_config(settings))
    await Tortoise.close_connections()
