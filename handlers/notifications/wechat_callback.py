"""Callbacks from WeChat: the official account (XML) and the mini-program (XML or JSON).

Every request must carry a valid signature (compared in constant time), and with an EncodingAESKey
configured must come encrypted; a stale timestamp is refused; a request seen before (WeChat
retries after 5 s) is acknowledged without being handled again, and a used signature with another
body is refused. Answers come fast: the work is a few row updates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any, Literal, get_args
from xml.parsers.expat import ExpatError

import xmltodict
from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from models.errors import Forbidden, Invalid, NotFound
from models.notifications.callbacks import record_consent_withdrawn, record_follow, record_template_result
from models.profiles.identity import is_ascii_digits
from server.http import documented
from server.wechat.gateway import WeChatCallFailed

bp = Blueprint("wechat_callback", url_prefix="/api/v1/wechat/callback")
log = logging.getLogger("gonghui.wechat.callback")

Account = Literal["official", "miniprogram"]
ACCOUNTS = get_args(Account)
MAX_CLOCK_SKEW_SECONDS = 300
REPLAY_WINDOW_SECONDS = 3600


def _verify(request: Request) -> None:
    settings = request.app.ctx.settings
    args = request.args
    timestamp, nonce, signature = args.get("timestamp", ""), args.get("nonce", ""), args.get("signature", "")
    expected = hashlib.sha1("".join(sorted([settings.wechat_callback_token, timestamp, nonce])).encode()).hexdigest()
    if not signature.isascii() or not hmac.compare_digest(expected, signature):
        raise Forbidden("wechat.bad_signature", "签名校验失败")
    if not is_ascii_digits(timestamp) or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise Forbidden("wechat.stale_callback", "回调时间戳已过期")


def _account(account: str) -> str:
    if account not in ACCOUNTS:
        raise NotFound("route.not_found", "请求的地址不存在")
    return account


class CallbackQuery(BaseModel):
    """What WeChat adds to every callback URL (documented; `_verify` reads them)."""

    signature: str = Field(max_length=64)
    timestamp: str = Field(pattern=r"^[0-9]{1,12}$")
    nonce: str = Field(max_length=64)
    encrypt_type: Literal["aes"] | None = Field(None, description="安全模式时为 aes")
    msg_signature: str | None = Field(None, max_length=64, description="安全模式时的消息签名")


class VerifyQuery(CallbackQuery):
    echostr: str = Field(max_length=256)


@bp.get("/<account:str>")
@documented("微信服务器配置校验：签名正确时原样返回 echostr", tag="wechat", query=VerifyQuery, plain_text=True)
async def verify_endpoint(request: Request, account: Account) -> HTTPResponse:
    _account(account)
    _verify(request)
    return text(request.args.get("echostr", ""))


def _decode(request: Request, account: str) -> dict[str, Any]:
    settings = request.app.ctx.settings
    raw = request.body.decode("utf-8", errors="replace")
    if settings.wechat_callback_aes_key and request.args.get("encrypt_type") != "aes":
        raise Forbidden("wechat.plain_refused", "已启用安全模式，拒绝明文回调")
    if request.args.get("encrypt_type") == "aes":
        appid = settings.wechat_official_appid if account == "official" else settings.wechat_miniprogram_appid
        crypto = WeChatCrypto(settings.wechat_callback_token, settings.wechat_callback_aes_key, appid)
        try:
            raw = crypto.decrypt_message(
                raw,
                request.args.get("msg_signature", ""),
                request.args.get("timestamp", ""),
                request.args.get("nonce", ""),
            )
        except InvalidSignatureException:
            raise Forbidden("wechat.bad_signature", "签名校验失败") from None
    try:
        payload = json.loads(raw) if raw.lstrip().startswith("{") else dict(xmltodict.parse(raw)["xml"])
    except (ValueError, KeyError, TypeError, ExpatError):
        raise Invalid("wechat.bad_body", "回调内容无法解析") from None
    if not isinstance(payload, dict):
        raise Invalid("wechat.bad_body", "回调内容无法解析")
    return payload


def _items(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's `List`: top-level in JSON, inside `SubscribeMsg...Event` in XML; an object when
    it holds one item, an array otherwise."""
    wrapper = next(
        (value for key, value in payload.items() if key.startswith("SubscribeMsg") and isinstance(value, dict)), payload
    )
    found = wrapper.get("List") or []
    return found if isinstance(found, list) else [found]


@bp.post("/<account:str>")
@documented(
    "接收微信推送（XML 或 JSON 正文）：模板消息发送结果、订阅消息授权变化、关注事件；处理后返回 success",
    tag="wechat",
    query=CallbackQuery,
    plain_text=True,
)
async def receive(request: Request, account: Account) -> HTTPResponse:
    _account(account)
    _verify(request)
    state = request.app.ctx.shared_state
    # The signature covers token, timestamp and nonce but not the body: a (signature, nonce) seen
    # before is WeChat's retry when the body is the same, and a forgery when it is not. Both
    # endpoints share one token, so the key leaves the account out: a signature spent on one
    # endpoint cannot be replayed on the other.
    seen_key = f"wechat-callback:{request.args.get('signature')}:{request.args.get('nonce')}"
    body_hash = hashlib.sha256(request.body or b"").hexdigest()
    if not await state.set_if_absent(seen_key, body_hash, REPLAY_WINDOW_SECONDS):
        if await state.get(seen_key) != body_hash:
            raise Forbidden("wechat.replayed", "回调签名已被使用")
        log.info("callback seen before", extra={"account": account})
        return text("success")
    try:
        payload = _decode(request, account)
        event = payload.get("Event")
        event = event.lower() if isinstance(event, str) else ""
        if account == "official":
            await _official_event(request, payload, event)
        else:
            await _miniprogram_event(payload, event)
    except Exception:
        # Not handled: let WeChat's retry be handled rather than acknowledged.
        await state.delete(seen_key)
        raise
    return text("success")


class _Event(BaseModel):
    """The fields of a pushed event that we act on; the rest is WeChat's and is ignored. A body
    whose fields have the wrong form is refused (422) before anything is recorded."""

    model_config = ConfigDict(extra="ignore")

    sender: str = Field(alias="FromUserName", min_length=1, max_length=64)


class _TemplateSendResult(_Event):
    msgid: str = Field(alias="MsgID", pattern=r"^[0-9]{1,32}$")
    status: str = Field(alias="Status", max_length=200)


class _ConsentItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    template_id: str = Field(alias="TemplateId", max_length=128)
    status: str = Field("", alias="SubscribeStatusString", max_length=32)


class _ConsentChange(_Event):
    items: list[_ConsentItem]


async def _official_event(request: Request, payload: dict[str, Any], event: str) -> None:
    if event == "templatesendjobfinish":
        result = _TemplateSendResult.model_validate(payload)
        await record_template_result(result.msgid, result.status)
    elif event == "subscribe":
        sender = _Event.model_validate(payload).sender
        try:
            unionid = await request.app.ctx.official.follower_unionid(sender)
        except WeChatCallFailed as exc:
            log.warning("follower unionid lookup failed", extra={"errcode": exc.errcode})
            unionid = None
        await record_follow(sender, unionid, True)
    elif event == "unsubscribe":
        await record_follow(_Event.model_validate(payload).sender, None, False)


async def _miniprogram_event(payload: dict[str, Any], event: str) -> None:
    # subscribe_msg_popup_event repeats what the mini-program reports through
    # POST /me/subscriptions; counting both would promise sends the worker never allowed, so the
    # mini-program's report is the one source of consent and the event is only acknowledged.
    if event == "subscribe_msg_change_event":
        change = _ConsentChange.model_validate({**payload, "items": _items(payload)})
        rejected = [item.template_id for item in change.items if item.status == "reject"]
        await record_consent_withdrawn(change.sender, rejected)
