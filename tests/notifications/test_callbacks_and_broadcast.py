"""WeChat callbacks (signatures, replays, safe mode, events) and broadcasts to a subtree."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from models.accounts import User
from models.kernel.history import history_of
from models.notifications.tables import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    OfficialAccountFollower,
    SubscriptionBalance,
)
from tests.factories.common import assert_error, bearer, eventually, login_staff
from tests.factories.enrolment import applicant, apply
from tests.factories.notifications import consent, sandbox_messages, signed_callback_params
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, make_org, make_staff
from tests.harness import Process, free_port, wait_until_answering

pytestmark = pytest.mark.usefixtures("dispatcher")


def event_xml(sender: str, event: str, extra: str = "", to: str = "gh_union") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{extra}</xml>"
    )


async def test_verification_echo_and_bad_or_stale_signatures(api: httpx.AsyncClient, stack) -> None:
    token = stack.settings.wechat_callback_token
    echoed = await api.get(
        "/api/v1/wechat/callback/official", params={**signed_callback_params(token), "echostr": "hello123"}
    )
    assert echoed.status_code == 200 and echoed.text == "hello123"
    forged = signed_callback_params("not-our-token")
    assert_error(
        await api.get("/api/v1/wechat/callback/official", params={**forged, "echostr": "x"}),
        403,
        "wechat.bad_signature",
    )
    assert_error(
        await api.post("/api/v1/wechat/callback/miniprogram", content=event_xml("sandbox-x", "x")),
        403,
        "wechat.bad_signature",
    )
    stale = signed_callback_params(token, timestamp=int(time.time()) - 3600)
    assert_error(
        await api.post("/api/v1/wechat/callback/official", params=stale, content=event_xml("o", "x")),
        403,
        "wechat.stale_callback",
    )
    assert_error(
        await api.get("/api/v1/wechat/callback/other", params=signed_callback_params(token)), 404, "route.not_found"
    )


async def test_retries_are_handled_once_and_reused_signatures_refused(api: httpx.AsyncClient, stack) -> None:
    worker_token, _ = await worker_with_profile(api)
    await consent(api, worker_token, times=2)
    me = (await api.get("/api/v1/me", headers=bearer(worker_token))).json()
    openid = (await User.get(id=me["user"]["id"])).openid
    popup = event_xml(
        openid,
        "subscribe_msg_popup_event",
        "<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[sbx-review-result]]></TemplateId>"
        "<SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>"
        "<PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent>",
        to="gh_mini",
    )
    params = signed_callback_params(stack.settings.wechat_callback_token)
    for _ in range(3):  # WeChat's retries of one push
        answer = await api.post("/api/v1/wechat/callback/miniprogram", params=params, content=popup)
        assert answer.status_code == 200 and answer.text == "success"
    # The mini-program already reported these accepts; the event does not count them again.
    assert (await SubscriptionBalance.get(user_id=me["user"]["id"], template_id="sbx-review-result")).balance == 2
    forged = await api.post(
        "/api/v1/wechat/callback/miniprogram", params=params, content=popup.replace("accept", "reject")
    )
    assert_error(forged, 403, "wechat.replayed")
    # The same signature spent on the other endpoint (both share the token) is a replay too.
    other_endpoint = await api.post(
        "/api/v1/wechat/callback/official", params=params, content=popup.replace("accept", "reject")
    )
    assert_error(other_endpoint, 403, "wechat.replayed")
    change = {
        "ToUserName": "gh_mini",
        "FromUserName": openid,
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "subscribe_msg_change_event",
        "List": {"TemplateId": "sbx-review-result", "SubscribeStatusString": "reject"},
    }
    answer = await api.post(
        "/api/v1/wechat/callback/miniprogram",
        params=signed_callback_params(stack.settings.wechat_callback_token),
        content=json.dumps(change),
    )
    assert answer.text == "success"
    assert (await SubscriptionBalance.get(user_id=me["user"]["id"], template_id="sbx-review-result")).balance == 0
    garbled = await api.post(
        "/api/v1/wechat/callback/miniprogram",
        params=signed_callback_params(stack.settings.wechat_callback_token),
        content="<xml><oops",
    )
    assert_error(garbled, 422, "wechat.bad_body")


async def test_followers_get_template_messages_and_their_results(api: httpx.AsyncClient, sandbox, stack) -> None:
    name = f"follower-{uuid.uuid4().hex[:8]}"
    worker_token, _ = await worker_with_profile(api)
    user = await User.get(id=(await api.get("/api/v1/me", headers=bearer(worker_token))).json()["user"]["id"])
    await User.filter(id=user.id).update(unionid=f"sandbox-union-{name}")
    oa_openid = f"sandbox-oa-{name}"
    params = signed_callback_params(stack.settings.wechat_callback_token)
    answer = await api.post(
        "/api/v1/wechat/callback/official", params=params, content=event_xml(oa_openid, "subscribe")
    )
    assert answer.text == "success"
    assert (await OfficialAccountFollower.get(oa_openid=oa_openid)).unionid == f"sandbox-union-{name}"

    enrolment_id = (await apply(api, worker_token, (await demo_org("徐闻县总工会")).id)).json()["id"]
    staff_token = await login_staff(api, (await make_staff(await demo_org("湛江市总工会"))).username)
    await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
    messages = await eventually(lambda: sandbox_messages(sandbox, oa_openid))
    template = messages[0]
    assert template["kind"] == "template" and template["template_id"] == "sbx-oa-review-result"
    assert template["miniprogram"]["pagepath"] == f"pages/enrolment/detail?id={enrolment_id}"
    assert all(len(item["value"]) <= 20 for item in template["data"].values())
    notification = await Notification.get(object_id=str(enrolment_id), event="enrolment.approved")
    channels = {d.channel: d for d in await NotificationDelivery.filter(notification_id=notification.id)}
    assert set(channels) == {Channel.SUBSCRIBE, Channel.TEMPLATE}
    delivered = await eventually(
        lambda: NotificationDelivery.get_or_none(id=channels[Channel.TEMPLATE].id, status=DeliveryStatus.DELIVERED)
    )
    finish = event_xml(
        oa_openid,
        "TEMPLATESENDJOBFINISH",
        f"<MsgID>{delivered.msgid}</MsgID><Status><![CDATA[failed:user block]]></Status>",
    )
    await api.post(
        "/api/v1/wechat/callback/official",
        params=signed_callback_params(stack.settings.wechat_callback_token),
        content=finish,
    )
    blocked = await NotificationDelivery.get(id=delivered.id)
    assert blocked.status == DeliveryStatus.FAILED and "user block" in blocked.last_error


async def test_safe_mode_messages_are_decrypted(stack, tmp_path) -> None:
    aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    env = dict(stack.env, PORT=str(free_port()), WECHAT_CALLBACK_AES_KEY=aes_key)
    server = Process("server-safe-mode", env, tmp_path / "server.log").start("run")
    try:
        url = f"http://127.0.0.1:{env['PORT']}"
        wait_until_answering(f"{url}/healthz", server.process)
        name = f"safe-{uuid.uuid4().hex[:8]}"
        crypto = WeChatCrypto(stack.settings.wechat_callback_token, aes_key, stack.settings.wechat_official_appid)
        params = signed_callback_params(stack.settings.wechat_callback_token)
        encrypted = crypto.encrypt_message(
            event_xml(f"sandbox-oa-{name}", "subscribe"), params["nonce"], params["timestamp"]
        )
        msg_signature = xmltodict.parse(encrypted)["xml"]["MsgSignature"]
        callback = f"{url}/api/v1/wechat/callback/official"
        async with httpx.AsyncClient(timeout=10) as client:
            aes = {"encrypt_type": "aes", "msg_signature": msg_signature}
            answer = await client.post(callback, content=encrypted, params={**params, **aes})
            assert answer.status_code == 200 and answer.text == "success"
            assert await OfficialAccountFollower.exists(oa_openid=f"sandbox-oa-{name}")
            forged = {**signed_callback_params(stack.settings.wechat_callback_token), **aes, "msg_signature": "0" * 40}
            assert_error(await client.post(callback, content=encrypted, params=forged), 403, "wechat.bad_signature")
            plain = signed_callback_params(stack.settings.wechat_callback_token)
            sent_plain = await client.post(
                callback, content=event_xml(f"sandbox-oa-{name}-2", "subscribe"), params=plain
            )
            assert_error(sent_plain, 403, "wechat.plain_refused")
    finally:
        server.stop()


async def test_broadcast_to_gig_members_of_a_subtree(api: httpx.AsyncClient, sandbox) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    staff_token = await login_staff(api, (await make_staff(org)).username)
    tokens = {}
    for occupation in ("delivery_rider", "courier", "factory_worker"):
        token, _ = await worker_with_profile(api, occupation=occupation, platform="none")
        await consent(api, token, "sbx-union-notice")
        enrolment_id = (await apply(api, token, org.id)).json()["id"]
        await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
        tokens[occupation] = token
    created = await api.post(
        "/api/v1/admin/broadcasts",
        headers=bearer(staff_token),
        json={
            "org_id": org.id,
            "title": "高温天气关爱提醒",
            "body": "户外劳动者服务站提供免费饮水与休息，请注意防暑。",
            "gig_only": True,
        },
    )
    assert created.status_code == 201, created.text
    broadcast_id = created.json()["id"]

    async def sent() -> dict | None:
        detail = (await api.get(f"/api/v1/admin/broadcasts/{broadcast_id}", headers=bearer(staff_token))).json()
        done = detail["status"] == "sent" and detail["progress"]["delivered"] == detail["recipients"] == 2
        return detail if done else None

    detail = await eventually(sent, within=15)
    assert detail["progress"]["failed"] == 0
    steps = [(e.action, e.to_status, e.actor_kind) for e in await history_of("broadcast", broadcast_id)]
    assert steps == [("create", "queued", "staff"), ("finish", "sent", "system")]
    for occupation, token in tokens.items():
        inbox = (await api.get("/api/v1/me/inbox", headers=bearer(token))).json()["items"]
        assert (inbox[0]["title"] == "高温天气关爱提醒") == (occupation != "factory_worker")
    outside = await api.post(
        "/api/v1/admin/broadcasts",
        headers=bearer(staff_token),
        json={"org_id": (await demo_org("深圳市总工会")).id, "title": "x", "body": "y"},
    )
    assert_error(outside, 404, "org.not_found")


async def test_applicant_fixture_spends_consent_only_on_decisions(api: httpx.AsyncClient) -> None:
    token, _, _ = await applicant(api)
    balances = (await api.get("/api/v1/me/subscriptions", headers=bearer(token))).json()["items"]
    assert {i["template_id"]: i["balance"] for i in balances}["sbx-review-result"] == 1
