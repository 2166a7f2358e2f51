"""The WeChat gateway against the sandbox: login, and the access token kept in shared state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from models.errors import Unauthorized
from server.shared_state import SharedState, connect_shared_state
from server.wechat.gateway import WeChatCallFailed, WeChatGateway
from tests.factories.common import unique


@pytest.fixture
async def shared_state(stack) -> AsyncIterator[SharedState]:
    state = connect_shared_state(stack.settings.redis_url, stack.settings.redis_prefix + unique("gw") + ":")
    yield state
    await state.close()


def make_gateway(state: SharedState, sandbox_url: str, appid: str) -> WeChatGateway:
    return WeChatGateway(appid=appid, secret="s", api_base_url=sandbox_url, state=state, timeout=5, connections=4)


async def stable_token_calls(sandbox: httpx.AsyncClient) -> int:
    return (await sandbox.get("/_sandbox/calls")).json().get("stable_token", 0)


def subscribe_send(openid: str):
    body = {"touser": openid, "template_id": "tpl", "data": {"thing1": {"value": "您的入会申请已通过"}}}
    return lambda client: client.post("message/subscribe/send", data=body)


async def test_code_to_session_through_wechatpy(shared_state, sandbox_url: str) -> None:
    gateway = make_gateway(shared_state, sandbox_url, unique("wx-"))
    try:
        name = unique("frank-")
        identity = await gateway.code_to_session(f"dev:{name}")
        assert identity.openid == f"sandbox-{name}"
        with pytest.raises(Unauthorized):
            await gateway.code_to_session(f"dev:{name}")
    finally:
        await gateway.close()


async def test_token_is_fetched_once_and_shared(shared_state, sandbox_url: str, sandbox: httpx.AsyncClient) -> None:
    appid = unique("wx-")
    first, second = make_gateway(shared_state, sandbox_url, appid), make_gateway(shared_state, sandbox_url, appid)
    try:
        before = await stable_token_calls(sandbox)
        openid = f"sandbox-{unique('gina-')}"
        results = await asyncio.gather(*(gw.call_with_token(subscribe_send(openid)) for gw in [first, second] * 5))
        assert all(result["errcode"] == 0 for result in results)
        assert await stable_token_calls(sandbox) - before == 1
        received = (await sandbox.get("/_sandbox/messages", params={"touser": openid})).json()
        assert received["total"] == 10
    finally:
        await first.close()
        await second.close()


async def test_expired_token_is_renewed_and_the_call_retried(
    shared_state, sandbox_url: str, sandbox: httpx.AsyncClient
) -> None:
    gateway = make_gateway(shared_state, sandbox_url, unique("wx-"))
    try:
        openid = f"sandbox-{unique('hana-')}"
        await gateway.call_with_token(subscribe_send(openid))
        old_token = await gateway.access_token()
        await sandbox.post("/_sandbox/expire-tokens")
        before = await stable_token_calls(sandbox)
        result = await gateway.call_with_token(subscribe_send(openid))
        assert result["errcode"] == 0
        assert await gateway.access_token() != old_token
        # The expired token comes back from a plain stable_token call once, then a forced one renews it.
        assert 1 <= await stable_token_calls(sandbox) - before <= 2
    finally:
        await gateway.close()


async def test_refusals_surface_with_their_code(shared_state, sandbox_url: str, sandbox: httpx.AsyncClient) -> None:
    gateway = make_gateway(shared_state, sandbox_url, unique("wx-"))
    refused = f"sandbox-{unique('ivan-')}"
    await sandbox.put("/_sandbox/faults", json={"refuse_openids": [refused]})
    try:
        with pytest.raises(WeChatCallFailed) as caught:
            await gateway.call_with_token(subscribe_send(refused))
        assert caught.value.errcode == 43101
    finally:
        await gateway.close()


async def test_unreachable_wechat_is_a_failed_call(shared_state) -> None:
    from tests.harness import free_port

    gateway = make_gateway(shared_state, f"http://127.0.0.1:{free_port()}", unique("wx-"))
    try:
        with pytest.raises(WeChatCallFailed) as caught:
            await gateway.call_with_token(subscribe_send("sandbox-nobody"))
        assert caught.value.errcode is None
        # requests would put the URL, secret and token included, into its message.
        assert "secret" not in caught.value.errmsg and "access_token" not in caught.value.errmsg
        assert "/cgi-bin/stable_token" in caught.value.errmsg
    finally:
        await gateway.close()
