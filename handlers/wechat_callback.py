"""Callbacks from WeChat: the official account (XML) and the mini-program (XML or JSON).

Every request must carry a valid signature (and in safe mode is decrypted); a stale timestamp is
refused; a message seen before (WeChat retries after 5 s) is acknowledged without being handled
again. Answers come fast: the work is a few row updates.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import xmltodict
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text
from sanic_ext.extensions.openapi import openapi
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from models.errors import Forbidden, NotFound
from models.notifications import (
    record_consent_withdrawn,
    record_follow,
    record_popup_results,
    record_template_result,
)
from server.wechat.gateway import WeChatCallFailed

bp = Blueprint("wechat_callback", url_prefix="/api/v1/wechat/callback")
log = logging.getLogger("gonghui.wechat.callback")

ACCOUNTS = ("official", "miniprogram")
MAX_CLOCK_SKEW_SECONDS = 300
REPLAY_WINDOW_SECONDS = 3600


def _verify(request: Request) -> None:
    settings = request.app.ctx.settings
    args = request.args
    timestamp = args.get("timestamp", "")
    try:
        check_signature(settings.wechat_callback_token, args.get("signature", ""), timestamp, args.get("nonce", ""))
    except InvalidSignatureException:
        raise Forbidden("wechat.bad_signature", "签名校验失败") from None
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise Forbidden("wechat.stale_callback", "回调时间戳已过期")


def _account(account: str) -> str:
    if account not in ACCOUNTS:
        raise NotFound("route.not_found", "请求的地址不存在")
    return account


@bp.get("/<account:str>")
@openapi.definition(summary="微信服务器配置校验：签名正确时原样返回 echostr", tag="wechat")
async def verify_endpoint(request: Request, account: str) -> HTTPResponse:
    _account(account)
    _verify(request)
    return text(request.args.get("echostr", ""))


def _decode(request: Request, account: str) -> dict[str, Any]:
    settings = request.app.ctx.settings
    raw = request.body.decode("utf-8")
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
    if raw.lstrip().startswith("{"):
        return json.loads(raw)
    return dict(xmltodict.parse(raw)["xml"])


def _items(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's `List`: top-level in JSON, inside `SubscribeMsg...Event` in XML; an object when
    it holds one item, an array otherwise."""
    wrapper = next(
        (value for key, value in payload.items() if key.startswith("SubscribeMsg") and isinstance(value, dict)), payload
    )
    found = wrapper.get("List") or []
    return found if isinstance(found, list) else [found]


@bp.post("/<account:str>")
@openapi.definition(summary="接收微信推送：模板消息发送结果、订阅消息授权变化、关注事件", tag="wechat")
async def receive(request: Request, account: str) -> HTTPResponse:
    _account(account)
    _verify(request)
    payload = _decode(request, account)
    event = str(payload.get("Event", "")).lower()
    sender = str(payload.get("FromUserName", ""))
    replay_key = f"wechat-callback:{account}:{sender}:{payload.get('CreateTime')}:{event}:{payload.get('MsgID', '')}"
    if not await request.app.ctx.shared_state.set_if_absent(replay_key, "1", REPLAY_WINDOW_SECONDS):
        log.info("callback seen before", extra={"account": account, "event": event})
        return text("success")
    if account == "official":
        await _official_event(request, payload, event, sender)
    else:
        await _miniprogram_event(payload, event, sender)
    return text("success")


async def _official_event(request: Request, payload: dict[str, Any], event: str, sender: str) -> None:
    if event == "templatesendjobfinish":
        message = parse_message(xmltodict.unparse({"xml": payload}))
        await record_template_result(str(message.id), str(message.status))
    elif event == "subscribe":
        try:
            unionid = await request.app.ctx.official.follower_unionid(sender)
        except WeChatCallFailed as exc:
            log.warning("follower unionid lookup failed", extra={"errcode": exc.errcode})
            unionid = None
        await record_follow(sender, unionid, True)
    elif event == "unsubscribe":
        await record_follow(sender, None, False)


async def _miniprogram_event(payload: dict[str, Any], event: str, sender: str) -> None:
    items = _items(payload)
    if event == "subscribe_msg_popup_event":
        await record_popup_results(sender, {str(i["TemplateId"]): str(i["SubscribeStatusString"]) for i in items})
    elif event == "subscribe_msg_change_event":
        rejected = [str(i["TemplateId"]) for i in items if str(i.get("SubscribeStatusString")) == "reject"]
        await record_consent_withdrawn(sender, rejected)
