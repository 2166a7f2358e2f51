"""The WeChat gateway: every call to WeChat goes through here.

wechatpy builds every call (endpoint, parameters, body) and reads every answer; the HTTP exchange
in between goes over aiohttp on the event loop, with a timeout on each (wechatpy's own requests,
run in threads, cost about six times the CPU per call, which bounded the dispatcher). Two things
wechatpy 1.8.18 does not do are done here:
- the API host is a setting (`WECHAT_API_BASE_URL`), so that the sandbox can stand in for WeChat;
- the access token comes from `stable_token`, is kept in shared state with its expiry and is
  refreshed once for all processes under a lock (wechatpy's own fetch uses the classic endpoint,
  whose every call invalidates the token the other processes hold).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from models.errors import Invalid, TooManyAttempts, Unauthorized, UpstreamUnavailable
from server.pg_backend import lend_connection_back
from server.shared_state import SharedState, hold_lock

log = logging.getLogger("gonghui.wechat")

T = TypeVar("T")

OFFICIAL_API_BASE = "https://api.weixin.qq.com"
# Renew this long before WeChat's expiry; stable_token keeps both tokens valid in that window.
TOKEN_RENEW_MARGIN_SECONDS = 300
TOKEN_REJECTED_CODES = {40001, 40014, 42001}

_bound_access_token: contextvars.ContextVar[str | None] = contextvars.ContextVar("wechat_access_token", default=None)


class WeChatCallFailed(Exception):
    """WeChat answered with an error code, or did not answer (`errcode` None)."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass(frozen=True)
class _Answer:
    """What wechatpy reads of an HTTP answer (`requests.Response`'s names): it decodes `content`
    itself and names `request` in its errors."""

    content: bytes
    status_code: int
    request: None = None


def _environment_proxy(url: str) -> str | None:
    """The proxy the environment sets for WeChat's host, read once (HTTP(S)_PROXY, NO_PROXY)."""
    parts = urlsplit(url)
    if parts.hostname is None or proxy_bypass(parts.hostname):
        return None
    return getproxies().get(parts.scheme)


class RebasedWeChatClient(WeChatClient):
    """wechatpy's client, sending to a configurable host and taking its token from the gateway.
    Its API methods return an awaitable of their usual result: wechatpy makes the call and reads
    the answer (`_handle_result`), aiohttp carries it."""

    def __init__(self, appid: str, secret: str, api_base_url: str, timeout: float, connections: int) -> None:
        super().__init__(appid, secret, timeout=timeout, auto_retry=False)
        self._api_base_url = api_base_url.rstrip("/")
        self._proxy = _environment_proxy(api_base_url)
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Awaitable[Any]:
        if not url_or_endpoint.startswith(("http://", "https://")):
            url_or_endpoint = kwargs.pop("api_base_url", self.API_BASE_URL) + url_or_endpoint
        kwargs.pop("api_base_url", None)
        if url_or_endpoint.startswith(OFFICIAL_API_BASE):
            url_or_endpoint = self._api_base_url + url_or_endpoint[len(OFFICIAL_API_BASE) :]
        params = dict(kwargs.pop("params", None) or {})
        # Read now: the token is bound only while the call is being made.
        params.setdefault("access_token", self.access_token)
        data = kwargs.pop("data", None)
        body = json.dumps(data, ensure_ascii=False).encode("utf-8") if isinstance(data, dict) else data
        return self._exchange(
            method,
            url_or_endpoint,
            {name: value for name, value in params.items() if value is not None},
            body,
            kwargs.pop("result_processor", None),
        )

    async def _exchange(self, method: str, url: str, query: dict[str, Any], body: Any, result_processor: Any) -> Any:
        path = urlsplit(url).path
        try:
            async with self._transport().request(
                method.upper(), url, params=query, data=body, proxy=self._proxy
            ) as answer:
                content = await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Never str(exc): it can hold the whole URL, secret and access token included.
            raise WeChatCallFailed(None, f"{type(exc).__name__} calling {path}") from None
        if answer.status >= 400:
            raise WeChatCallFailed(None, f"HTTP {answer.status} calling {path}")
        try:
            result = self._handle_result(_Answer(content, answer.status), method, url, result_processor)
        except WeChatClientException as exc:
            raise WeChatCallFailed(exc.errcode, str(exc.errmsg)) from None
        if isinstance(result, _Answer):
            raise WeChatCallFailed(None, f"answer is not JSON (HTTP {answer.status})")
        return result

    def _transport(self) -> aiohttp.ClientSession:
        """Made at the first call, on the event loop that makes it."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def access_token(self) -> str | None:  # type: ignore[override]
        # None leaves the parameter out, as for jscode2session, which takes none.
        return _bound_access_token.get()

    def fetch_access_token(self) -> dict[str, Any]:
        raise RuntimeError("access tokens are fetched by WeChatGateway through stable_token")


@dataclass(frozen=True)
class WeChatIdentity:
    openid: str
    unionid: str | None


class WeChatGateway:
    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        api_base_url: str,
        state: SharedState,
        timeout: float,
        connections: int,
    ) -> None:
        self.appid = appid
        self._secret = secret
        self._state = state
        self._client = RebasedWeChatClient(appid, secret, api_base_url, timeout, connections)
        # The token last read from or written to shared state, with its expiry: a token stays
        # valid until then (stable_token does not revoke it), so sends need not ask each time.
        self._known_token: tuple[str, float] | None = None
        # Sends that find no token in memory at once (a dispatcher starting with 128) read it once.
        self._reading_token = asyncio.Lock()

    async def close(self) -> None:
        await self._client.close()

    async def _run(self, call: Callable[[], Awaitable[T]], access_token: str | None = None) -> T:
        await lend_connection_back()  # an HTTP call to WeChat can take seconds
        bound = _bound_access_token.set(access_token)
        try:
            exchange = call()
        finally:
            _bound_access_token.reset(bound)
        return await exchange

    # --- login -------------------------------------------------------------------------------

    async def code_to_session(self, code: str) -> WeChatIdentity:
        try:
            result = await self._run(lambda: self._client.wxa.code_to_session(code))
        except WeChatCallFailed as exc:
            if exc.errcode in (40029, 40163, 40226):
                raise Unauthorized("auth.wechat_code_invalid", "微信登录凭证无效或已使用，请重新登录") from None
            if exc.errcode == 45011:
                raise TooManyAttempts(
                    "auth.wechat_too_frequent", "登录过于频繁，请稍后再试", {"retry_after": 60}
                ) from None
            log.warning("jscode2session failed", extra={"errcode": exc.errcode, "errmsg": exc.errmsg})
            raise UpstreamUnavailable("wechat.unavailable", "微信服务暂时不可用，请稍后再试") from None
        return WeChatIdentity(openid=result["openid"], unionid=result.get("unionid") or None)

    async def phone_number(self, code: str) -> str:
        """The number behind a phone-button code (`getuserphonenumber`; wechatpy 1.8.18 has no
        method for it, so it goes through the client's generic `post`)."""
        try:
            result = await self.call_with_token(
                lambda client: client.post(
                    "https://api.weixin.qq.com/wxa/business/getuserphonenumber", data={"code": code}
                )
            )
        except WeChatCallFailed as exc:
            if exc.errcode in (40029, 40163, 40013):
                raise Invalid(
                    "profile.wechat_phone_code_invalid", "手机号授权已失效，请重新授权", {"field": "phone_code"}
                ) from None
            log.warning("getuserphonenumber failed", extra={"errcode": exc.errcode, "errmsg": exc.errmsg})
            raise UpstreamUnavailable("wechat.unavailable", "微信服务暂时不可用，请稍后再试") from None
        info = result["phone_info"]
        if info.get("countryCode") not in (None, "86"):
            raise Invalid("profile.phone_not_mainland", "目前仅支持中国大陆手机号码", {"field": "phone"})
        return info["purePhoneNumber"]

    # --- messages ------------------------------------------------------------------------------

    async def send_subscribe_message(
        self, openid: str, template_id: str, data: dict[str, Any], page: str, state: str
    ) -> dict[str, Any]:
        """`subscribeMessage.send`; through the generic `post` because wechatpy's method sends
        neither `miniprogram_state` nor `lang`."""
        body = {"touser": openid, "template_id": template_id, "data": data, "miniprogram_state": state, "lang": "zh_CN"}
        if page:
            body["page"] = page
        return await self.call_with_token(lambda client: client.post("message/subscribe/send", data=body))

    async def send_template_message(
        self, openid: str, template_id: str, data: dict[str, Any], miniprogram_appid: str, page: str
    ) -> dict[str, Any]:
        """The official account's template message, opening the mini-program at `page`."""
        mini_program = {"appid": miniprogram_appid, "pagepath": page}
        return await self.call_with_token(
            lambda client: client.message.send_template(openid, template_id, data, mini_program=mini_program)
        )

    async def follower_unionid(self, openid: str) -> str | None:
        result = await self.call_with_token(lambda client: client.user.get(openid))
        return result.get("unionid") or None

    # --- calls that need the access token ----------------------------------------------------

    async def call_with_token(self, make_call: Callable[[RebasedWeChatClient], Awaitable[T]]) -> T:
        """Run a call that needs the access token; a rejected token is renewed and the call
        retried once."""
        token = await self.access_token()
        try:
            return await self._run(lambda: make_call(self._client), token)
        except WeChatCallFailed as exc:
            if exc.errcode not in TOKEN_REJECTED_CODES:
                raise
            token = await self.renew_rejected_token(token)
            return await self._run(lambda: make_call(self._client), token)

    def _token_key(self) -> str:
        return f"wechat:access-token:{self.appid}"

    async def _cached_token(self) -> tuple[str, float] | None:
        raw = await self._state.get(self._token_key())
        if raw is None:
            return None
        entry = json.loads(raw)
        self._known_token = entry["token"], float(entry["expires_at"])
        return self._known_token

    async def _fetch_stable_token(self, force_refresh: bool) -> str:
        payload = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self._secret,
            "force_refresh": force_refresh,
        }
        result = await self._run(lambda: self._client.post("stable_token", data=payload))
        expires_in = int(result.get("expires_in", 7200))
        expires_at = time.time() + expires_in
        self._known_token = result["access_token"], expires_at
        await self._state.set(
            self._token_key(),
            json.dumps({"token": result["access_token"], "expires_at": expires_at}),
            ttl_seconds=expires_in,
        )
        log.info("access token renewed", extra={"appid": self.appid, "force_refresh": force_refresh})
        return result["access_token"]

    def _fresh(self, entry: tuple[str, float] | None) -> str | None:
        return entry[0] if entry and entry[1] - time.time() > TOKEN_RENEW_MARGIN_SECONDS else None

    async def access_token(self) -> str:
        if token := self._fresh(self._known_token):
            return token
        async with self._reading_token:
            if token := self._fresh(self._known_token) or self._fresh(await self._cached_token()):
                return token
            async with hold_lock(self._state, self._token_key(), ttl_seconds=30, wait_seconds=30):
                if token := self._fresh(await self._cached_token()):
                    return token
                return await self._fetch_stable_token(force_refresh=False)

    async def renew_rejected_token(self, rejected: str) -> str:
        """WeChat refused `rejected`: take a newer one if another process already has it,
        else ask again, forcing a refresh only when WeChat hands back the refused token."""
        async with hold_lock(self._state, self._token_key(), ttl_seconds=30, wait_seconds=30):
            cached = await self._cached_token()
            if cached and cached[0] != rejected:
                return cached[0]
            token = await self._fetch_stable_token(force_refresh=False)
            if token == rejected:
                token = await self._fetch_stable_token(force_refresh=True)
            return token
