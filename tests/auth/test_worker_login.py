"""Worker login through WeChat (the sandbox) and the life of a worker token."""

from __future__ import annotations

import uuid

import httpx

from models.accounts import SubjectKind, User
from server.auth.tokens import TokenService
from tests.conftest import SECRET_KEY
from tests.factories.common import assert_error, bearer, login_worker, unique
from tests.harness import Process, free_port, wait_until_answering


async def test_new_worker_logs_in_and_sees_themselves(api: httpx.AsyncClient) -> None:
    name = unique("alice-")
    token, answer = await login_worker(api, name)
    assert answer["expires_in"] > 0
    assert answer["user"]["roles"] == ["worker"]
    me = await api.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["user"]["id"] == answer["user"]["id"]
    user = await User.get(id=answer["user"]["id"])
    assert user.openid == f"sandbox-{name}"
    assert user.unionid == f"sandbox-union-{name}"


async def test_returning_worker_is_the_same_user(api: httpx.AsyncClient) -> None:
    name = unique("bob-")
    _, first = await login_worker(api, name)
    _, second = await login_worker(api, name)
    assert first["user"]["id"] == second["user"]["id"]
    assert await User.filter(openid=f"sandbox-{name}").count() == 1


async def test_reused_code_is_refused(api: httpx.AsyncClient) -> None:
    code = f"dev:{unique('carol-')}"
    assert (await api.post("/api/v1/auth/wechat-login", json={"code": code})).status_code == 200
    again = await api.post("/api/v1/auth/wechat-login", json={"code": code})
    assert_error(again, 401, "auth.wechat_code_invalid")


async def test_bad_code_is_refused_and_creates_nobody(api: httpx.AsyncClient) -> None:
    before = await User.all().count()
    assert_error(
        await api.post("/api/v1/auth/wechat-login", json={"code": "not-a-code"}), 401, "auth.wechat_code_invalid"
    )
    assert_error(await api.post("/api/v1/auth/wechat-login", json={"code": ""}), 422, "request.invalid")
    assert await User.all().count() == before


async def test_missing_and_garbage_tokens(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/api/v1/me"), 401, "auth.required")
    assert_error(await api.get("/api/v1/me", headers=bearer("garbage")), 401, "auth.invalid_token")
    _, answer = await login_worker(api)
    issued = await TokenService("another-key-" + "y" * 32).issue(SubjectKind.USER, answer["user"]["id"], 3600)
    assert_error(await api.get("/api/v1/me", headers=bearer(issued.token)), 401, "auth.invalid_token")


async def test_expired_token_is_refused(api: httpx.AsyncClient) -> None:
    _, answer = await login_worker(api)
    expired = await TokenService(SECRET_KEY).issue(SubjectKind.USER, answer["user"]["id"], -10)
    assert_error(await api.get("/api/v1/me", headers=bearer(expired.token)), 401, "auth.token_expired")


async def test_logout_revokes_the_token(api: httpx.AsyncClient) -> None:
    token, _ = await login_worker(api)
    assert (await api.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 200
    assert_error(await api.get("/api/v1/me", headers=bearer(token)), 401, "auth.token_revoked")


async def test_staff_token_is_not_a_worker_token(api: httpx.AsyncClient) -> None:
    issued = await TokenService(SECRET_KEY).issue(SubjectKind.STAFF, 1, 3600)
    assert_error(await api.get("/api/v1/me", headers=bearer(issued.token)), 403, "auth.wrong_account_kind")


async def test_token_naming_an_unknown_session_is_refused(api: httpx.AsyncClient) -> None:
    import jwt

    claims = {"sid": str(uuid.uuid4()), "sub": "1", "knd": "user", "exp": 4102444800}
    token = jwt.encode(claims, SECRET_KEY, algorithm="HS256")
    assert_error(await api.get("/api/v1/me", headers=bearer(token)), 401, "auth.token_revoked")


def test_wechat_outage_is_a_503_not_a_500(stack) -> None:
    env = dict(stack.env, PORT=str(free_port()), WECHAT_API_BASE_URL=f"http://127.0.0.1:{free_port()}")
    server = Process("server-no-wechat", env, stack.settings.data_dir / "no-wechat.log").start("run")
    try:
        url = f"http://127.0.0.1:{env['PORT']}"
        wait_until_answering(f"{url}/healthz", server.process)
        answer = httpx.post(f"{url}/api/v1/auth/wechat-login", json={"code": "dev:nobody"}, timeout=20)
        assert_error(answer, 503, "wechat.unavailable")
    finally:
        server.stop()
