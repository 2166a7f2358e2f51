"""Health, readiness, the contract's error shape, request ids and the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import httpx
from openapi_spec_validator import validate

from tests.factories.common import assert_error
from tests.harness import Process, free_port, wait_until_answering


async def test_health_and_readiness(api: httpx.AsyncClient, stack) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    expected = {"serving": True, "database": True} | ({"redis": True} if stack.backend == "production" else {})
    assert ready.json()["checks"] == expected


def _unreachable_env(stack, **broken: str) -> dict[str, str]:
    env = dict(stack.env)
    env.update(PORT=str(free_port()), **broken)
    return env


def test_readiness_fails_when_the_database_is_down(stack, tmp_path) -> None:
    if stack.backend == "production":
        closed_port = free_port()
        broken = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port}/test"}
    else:
        broken = {"DATA_DIR": str(tmp_path / "missing"), "DATABASE_URL": f"sqlite://{tmp_path}/no/such/dir/db.sqlite3"}
    env = _unreachable_env(stack, **broken)
    server = Process("server-db-down", env, tmp_path / "server.log").start("run")
    try:
        url = f"http://127.0.0.1:{env['PORT']}"
        wait_until_answering(f"{url}/healthz", server.process)
        answer = httpx.get(f"{url}/readyz", timeout=10)
        assert answer.status_code == 503
        assert answer.json()["checks"]["database"] is False
        assert answer.json()["error"]["code"] == "service.unavailable"
    finally:
        server.stop()


def test_readiness_fails_when_redis_is_down(stack, tmp_path) -> None:
    env = _unreachable_env(stack, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    server = Process("server-redis-down", env, tmp_path / "server.log").start("run")
    try:
        url = f"http://127.0.0.1:{env['PORT']}"
        wait_until_answering(f"{url}/healthz", server.process)
        answer = httpx.get(f"{url}/readyz", timeout=10)
        assert answer.status_code == 503
        checks = answer.json()["checks"]
        assert (checks["database"], checks["redis"]) == (True, False)
    finally:
        server.stop()


async def test_unknown_route_and_wrong_method(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/api/v1/no-such-thing"), 404, "route.not_found")
    assert_error(await api.delete("/healthz"), 405, "route.method_not_allowed")


async def test_malformed_json_is_a_400(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/api/v1/auth/wechat-login", content=b'{"code": ', headers={"content-type": "application/json"}
    )
    assert_error(answer, 400, "request.malformed")


async def test_body_that_is_not_an_object_is_a_422(api: httpx.AsyncClient) -> None:
    assert_error(await api.post("/api/v1/auth/wechat-login", json=["dev:x"]), 422, "request.body_not_object")


async def test_validation_errors_name_each_field(api: httpx.AsyncClient) -> None:
    answer = await api.post("/api/v1/auth/wechat-login", json={"code": 5, "extra": True})
    error = assert_error(answer, 422, "request.invalid")
    assert {item["field"] for item in error["details"]["fields"]} == {"code", "extra"}


async def test_oversized_body_is_a_413(stack) -> None:
    # Only the head is sent: the server refuses on the declared length and closes (read to the
    # end), so a client still writing the body could meet a reset before reading the answer.
    host, port = urlsplit(stack.base_url).hostname, urlsplit(stack.base_url).port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"POST /api/v1/auth/wechat-login HTTP/1.1\r\nHost: gonghui\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % (stack.settings.max_body_bytes + 1)
    )
    await writer.drain()
    head, _, body = (await asyncio.wait_for(reader.read(), timeout=10)).partition(b"\r\n\r\n")
    writer.close()
    assert head.split(b" ")[1] == b"413"
    assert json.loads(body)["error"]["code"] == "request.too_large"


async def test_page_size_is_capped(api: httpx.AsyncClient) -> None:
    error = assert_error(await api.get("/api/v1/orgs", params={"page_size": 1000}), 422, "request.invalid")
    assert error["details"]["fields"][0]["field"] == "page_size"


async def test_request_id_is_echoed_or_made(api: httpx.AsyncClient) -> None:
    made = await api.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    echoed = await api.get("/healthz", headers={"X-Request-ID": "mini-program-abc123"})
    assert echoed.headers["x-request-id"] == "mini-program-abc123"


async def test_openapi_document_is_valid_and_complete(api: httpx.AsyncClient) -> None:
    document = (await api.get("/api/v1/openapi.json")).json()
    validate(document)
    for path in (
        "/api/v1/auth/wechat-login",
        "/api/v1/me",
        "/api/v1/orgs",
        "/api/v1/orgs/{org_id}",
        "/api/v1/admin/auth/login",
        "/healthz",
        "/readyz",
    ):
        assert path in document["paths"], path
    docs_page = await api.get("/api/v1/docs")
    assert docs_page.status_code == 200 and "接口文档" in docs_page.text
    assert "cdn" not in docs_page.text.lower()


async def test_openapi_document_is_exact(api: httpx.AsyncClient) -> None:
    document = (await api.get("/api/v1/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert {name: (scheme["type"], scheme["scheme"].lower()) for name, scheme in schemes.items()} == {
        "worker": ("http", "bearer"),
        "staff": ("http", "bearer"),
    }
    operations = [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]
    assert not [path for path, _, _ in operations if path.startswith("/admin")], "the admin pages are not API"
    for path, method, operation in operations:
        for requirement in operation.get("security", []):
            assert set(requirement) <= set(schemes), (path, method)
        if "requestBody" in operation:
            assert operation["requestBody"]["required"] is True, (path, method)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                assert parameter["schema"] == {
                    "type": "integer",
                    "format": "int64",
                    "minimum": 1,
                    "maximum": 2**63 - 1,
                }, (path, parameter)
        assert "default" in operation["responses"], (path, method)

    def query(path: str, name: str) -> dict:
        parameters = document["paths"][path]["get"]["parameters"]
        return next(p["schema"] for p in parameters if p["in"] == "query" and p["name"] == name)

    assert query("/api/v1/orgs", "parent_id")["type"] == "integer"
    assert query("/api/v1/orgs", "q")["maxLength"] == 100
    assert query("/api/v1/admin/enrolments", "page_size")["maximum"] == 100
    assert query("/api/v1/admin/enrolments", "sort")["enum"] == ["submitted_at", "-submitted_at", "name", "-name"]
    assert query("/api/v1/admin/enrolments", "status") == {"$ref": "#/components/schemas/EnrolmentStatus"}
    assert query("/api/v1/admin/audit", "since")["format"] == "date-time"
    assert query("/api/v1/admin/members", "occupation")["maxLength"] == 32
    assert query("/api/v1/me/inbox", "unread")["type"] == "boolean"
    reject = document["paths"]["/api/v1/admin/membership-changes/{change_id}/reject"]["post"]
    assert reject["requestBody"]["content"]["application/json"]["schema"]["required"] == ["reason"]
