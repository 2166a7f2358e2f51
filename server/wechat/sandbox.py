"""The WeChat sandbox: a real HTTP server on loopback that answers the WeChat endpoints Gonghui
calls, with WeChat's request and response shapes and error codes, and records what it received.

Login codes `dev:<name>` or `dev:<name>:<anything>` log in as openid `sandbox-<name>`; phone codes
`phone:<11 digits>` answer that number; every code works once, like WeChat's. The official
account's follower `sandbox-oa-<name>` has the unionid `sandbox-union-<name>`, as the mini-program
user `sandbox-<name>` does. Faults on demand through `/_sandbox/faults`: openids that refuse
messages (43101), template ids answered 40037, a rate of 45009 / -1 / 5xx / timeouts, a cap on
sends per second, and expired access tokens (42001).
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

LOGIN_CODE = re.compile(r"^dev:([a-z0-9_-]{1,40})(?::.{1,64})?$")
PHONE_CODE = re.compile(r"^phone:(1\d{10})$")
OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PAGE_PATH = re.compile(r"^[A-Za-z0-9_/.-]+(\?.*)?$")
FAULT_KINDS = {"45009", "-1", "500", "502", "503", "timeout"}


def wechat_error(errcode: int, errmsg: str) -> HTTPResponse:
    return json({"errcode": errcode, "errmsg": errmsg}, ensure_ascii=False)


@dataclass
class Faults:
    refuse_openids: set[str] = field(default_factory=set)
    error_rate: float = 0.0
    error_kinds: list[str] = field(default_factory=lambda: ["45009", "-1", "500", "timeout"])
    timeout_seconds: float = 8.0
    sends_per_second_cap: int = 0
    reject_templates: set[str] = field(default_factory=set)
    only_openids: set[str] = field(default_factory=set)  # when set, injected faults hit only these
    delay_seconds: float = 0.0  # every send answers this much later: a slow but working WeChat
    login_delay_seconds: float = 0.0  # jscode2session answers this much later: a request held in flight

    def as_dict(self) -> dict[str, Any]:
        return {
            "refuse_openids": sorted(self.refuse_openids),
            "error_rate": self.error_rate,
            "error_kinds": self.error_kinds,
            "timeout_seconds": self.timeout_seconds,
            "sends_per_second_cap": self.sends_per_second_cap,
            "reject_templates": sorted(self.reject_templates),
            "only_openids": sorted(self.only_openids),
            "delay_seconds": self.delay_seconds,
            "login_delay_seconds": self.login_delay_seconds,
        }


@dataclass
class IssuedAccessToken:
    appid: str
    expires_at: float
    renewed_by: str | None = None


class SandboxState:
    def __init__(self, token_ttl_seconds: int = 7200) -> None:
        self.token_ttl_seconds = token_ttl_seconds
        self.used_codes: set[str] = set()
        self.tokens: dict[str, IssuedAccessToken] = {}
        self.current_stable: dict[str, str] = {}
        self.messages: list[dict[str, Any]] = []
        self.calls: dict[str, int] = {}
        self.faults = Faults()
        self._send_window: tuple[int, int] = (0, 0)
        self._msgid = 1_000_000

    def reset(self) -> None:
        self.__init__(self.token_ttl_seconds)  # type: ignore[misc]

    def count(self, endpoint: str) -> None:
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1

    def use_code(self, code: str) -> bool:
        if code in self.used_codes:
            return False
        self.used_codes.add(code)
        return True

    def issue_token(self, appid: str) -> tuple[str, int]:
        token = "sbx_" + secrets.token_urlsafe(96)
        self.tokens[token] = IssuedAccessToken(appid, time.time() + self.token_ttl_seconds)
        return token, self.token_ttl_seconds

    def token_error(self, token: str | None) -> HTTPResponse | None:
        issued = self.tokens.get(token or "")
        if issued is None:
            return wechat_error(40001, "invalid credential, access_token is invalid or not latest")
        if issued.expires_at <= time.time():
            return wechat_error(42001, "access_token expired")
        return None

    def expire_all_tokens(self) -> None:
        for issued in self.tokens.values():
            issued.expires_at = 0.0

    def over_cap(self) -> bool:
        cap = self.faults.sends_per_second_cap
        if cap <= 0:
            return False
        second = int(time.time())
        window_second, sent = self._send_window
        sent = sent + 1 if window_second == second else 1
        self._send_window = (second, sent)
        return sent > cap

    def next_msgid(self) -> int:
        self._msgid += 1
        return self._msgid


async def injected_fault(state: SandboxState, touser: object) -> HTTPResponse | None:
    faults = state.faults
    if faults.error_rate <= 0 or random.random() >= faults.error_rate:
        return None
    if faults.only_openids and touser not in faults.only_openids:
        return None
    kind = random.choice(faults.error_kinds)
    if kind == "timeout":
        await asyncio.sleep(faults.timeout_seconds)
        return wechat_error(-1, "system error")
    if kind in {"500", "502", "503"}:
        return json({"message": "sandbox injected server error"}, status=int(kind))
    if kind == "45009":
        return wechat_error(45009, "reach max api daily quota limit")
    return wechat_error(-1, "system error")


def _body(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json
    except Exception:
        return None
    return body if isinstance(body, dict) else None


def create_sandbox_app(token_ttl_seconds: int = 7200, name: str = "gonghui-wechat-sandbox") -> Sanic:
    app = Sanic(name, configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    state = SandboxState(token_ttl_seconds)
    app.ctx.state = state

    @app.get("/sns/jscode2session")
    async def jscode2session(request: Request) -> HTTPResponse:
        state.count("jscode2session")
        if state.faults.login_delay_seconds > 0:
            await asyncio.sleep(state.faults.login_delay_seconds)
        if not request.args.get("appid") or not request.args.get("secret"):
            return wechat_error(41002, "appid missing")
        code = request.args.get("js_code", "")
        match = LOGIN_CODE.match(code)
        if match is None:
            return wechat_error(40029, "invalid code")
        if not state.use_code(code):
            return wechat_error(40163, "code been used")
        name = match.group(1)
        return json(
            {
                "openid": f"sandbox-{name}",
                "session_key": secrets.token_urlsafe(16),
                "unionid": f"sandbox-union-{name}",
            }
        )

    @app.get("/cgi-bin/token")
    async def classic_token(request: Request) -> HTTPResponse:
        state.count("token")
        appid, secret = request.args.get("appid"), request.args.get("secret")
        if not appid or not secret:
            return wechat_error(41002, "appid missing")
        # The classic endpoint invalidates the token handed out before.
        for token, issued in list(state.tokens.items()):
            if issued.appid == appid:
                del state.tokens[token]
        token, expires_in = state.issue_token(appid)
        return json({"access_token": token, "expires_in": expires_in})

    @app.post("/cgi-bin/stable_token")
    async def stable_token(request: Request) -> HTTPResponse:
        state.count("stable_token")
        body = _body(request)
        if body is None or body.get("grant_type") != "client_credential":
            return wechat_error(40002, "invalid grant_type")
        appid, secret = body.get("appid"), body.get("secret")
        if not appid or not secret:
            return wechat_error(41002, "appid missing")
        current = state.current_stable.get(appid)
        issued = state.tokens.get(current or "")
        remaining = issued.expires_at - time.time() if issued else 0
        if body.get("force_refresh"):
            if current:
                state.tokens.pop(current, None)
        elif issued is not None and remaining > 300:
            return json({"access_token": current, "expires_in": int(remaining)})
        token, expires_in = state.issue_token(appid)
        state.current_stable[appid] = token
        return json({"access_token": token, "expires_in": expires_in})

    @app.post("/wxa/business/getuserphonenumber")
    async def phone_number(request: Request) -> HTTPResponse:
        state.count("getuserphonenumber")
        if error := state.token_error(request.args.get("access_token")):
            return error
        body = _body(request) or {}
        code = str(body.get("code", ""))
        match = PHONE_CODE.match(code)
        if match is None:
            return wechat_error(40029, "invalid code")
        if not state.use_code(code):
            return wechat_error(40163, "code been used")
        appid = state.tokens[request.args.get("access_token", "")].appid
        number = match.group(1)
        return json(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": number,
                    "purePhoneNumber": number,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(time.time()), "appid": appid},
                },
            }
        )

    async def record_send(request: Request, kind: str) -> HTTPResponse:
        state.count(kind)
        if error := state.token_error(request.args.get("access_token")):
            return error
        body = _body(request)
        if body is None:
            return wechat_error(47001, "data format error")
        if state.faults.delay_seconds > 0:
            await asyncio.sleep(state.faults.delay_seconds)
        if fault := await injected_fault(state, body.get("touser")):
            return fault
        if state.over_cap():
            return wechat_error(45009, "reach max api minute quota limit")
        touser = body.get("touser")
        if not isinstance(touser, str) or not OPENID.match(touser):
            return wechat_error(40003, "invalid openid")
        if not body.get("template_id") or body["template_id"] in state.faults.reject_templates:
            return wechat_error(40037, "invalid template_id")
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return wechat_error(47003, "argument invalid! data is empty")
        for key, item in data.items():
            if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                return wechat_error(47003, f"argument invalid! data.{key}.value invalid")
        page = body.get("page") if kind == "subscribe" else (body.get("miniprogram") or {}).get("pagepath")
        if page is not None and (not isinstance(page, str) or not PAGE_PATH.match(page)):
            return wechat_error(41030, "invalid page")
        if touser in state.faults.refuse_openids:
            return wechat_error(43101, "user refuse to accept the msg")
        msgid = state.next_msgid()
        state.messages.append({"kind": kind, "msgid": msgid, "received_at": time.time(), **body})
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        if kind == "template":
            answer["msgid"] = msgid
        return json(answer, ensure_ascii=False)

    @app.post("/cgi-bin/message/subscribe/send")
    async def subscribe_send(request: Request) -> HTTPResponse:
        return await record_send(request, "subscribe")

    @app.post("/cgi-bin/message/template/send")
    async def template_send(request: Request) -> HTTPResponse:
        return await record_send(request, "template")

    @app.get("/cgi-bin/user/info")
    async def user_info(request: Request) -> HTTPResponse:
        state.count("user_info")
        if error := state.token_error(request.args.get("access_token")):
            return error
        openid = request.args.get("openid", "")
        if not openid.startswith("sandbox-oa-"):
            return wechat_error(40003, "invalid openid")
        name = openid.removeprefix("sandbox-oa-")
        return json({"subscribe": 1, "openid": openid, "unionid": f"sandbox-union-{name}", "language": "zh_CN"})

    @app.get("/_sandbox/messages")
    async def messages(request: Request) -> HTTPResponse:
        touser = request.args.get("touser")
        found = [m for m in state.messages if touser is None or m["touser"] == touser]
        return json({"items": found, "total": len(found)}, ensure_ascii=False)

    @app.get("/_sandbox/calls")
    async def calls(request: Request) -> HTTPResponse:
        return json(state.calls)

    @app.get("/_sandbox/faults")
    async def show_faults(request: Request) -> HTTPResponse:
        return json(state.faults.as_dict())

    @app.put("/_sandbox/faults")
    async def set_faults(request: Request) -> HTTPResponse:
        body = _body(request)
        if body is None:
            return json({"error": "JSON object expected"}, status=400)
        kinds = [str(kind) for kind in body.get("error_kinds", state.faults.error_kinds)]
        if not set(kinds) <= FAULT_KINDS or not kinds:
            return json({"error": f"error_kinds must be from {sorted(FAULT_KINDS)}"}, status=400)
        rate = float(body.get("error_rate", state.faults.error_rate))
        if not 0 <= rate <= 1:
            return json({"error": "error_rate must be within 0..1"}, status=400)
        state.faults = Faults(
            refuse_openids=set(body.get("refuse_openids", state.faults.refuse_openids)),
            error_rate=rate,
            error_kinds=kinds,
            timeout_seconds=float(body.get("timeout_seconds", state.faults.timeout_seconds)),
            sends_per_second_cap=int(body.get("sends_per_second_cap", state.faults.sends_per_second_cap)),
            reject_templates=set(body.get("reject_templates", state.faults.reject_templates)),
            only_openids=set(body.get("only_openids", state.faults.only_openids)),
            delay_seconds=float(body.get("delay_seconds", state.faults.delay_seconds)),
            login_delay_seconds=float(body.get("login_delay_seconds", state.faults.login_delay_seconds)),
        )
        return json(state.faults.as_dict())

    @app.post("/_sandbox/expire-tokens")
    async def expire_tokens(request: Request) -> HTTPResponse:
        state.expire_all_tokens()
        return json({"expired": len(state.tokens)})

    @app.post("/_sandbox/reset")
    async def reset(request: Request) -> HTTPResponse:
        state.reset()
        return json({"reset": True})

    @app.get("/_sandbox/healthz")
    async def healthz(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    return app
