"""The WeChat sandbox keeps WeChat's contract: shapes, error codes, single-use codes, faults."""

from __future__ import annotations

import secrets

import httpx

from tests.factories.common import unique


async def test_login_codes_work_once(sandbox: httpx.AsyncClient) -> None:
    name = unique("dora-")
    params = {"appid": "wx1", "secret": "s", "grant_type": "authorization_code"}
    first = (await sandbox.get("/sns/jscode2session", params={**params, "js_code": f"dev:{name}"})).json()
    assert first["openid"] == f"sandbox-{name}" and first["session_key"]
    again = (await sandbox.get("/sns/jscode2session", params={**params, "js_code": f"dev:{name}"})).json()
    assert again["errcode"] == 40163
    suffixed = (await sandbox.get("/sns/jscode2session", params={**params, "js_code": f"dev:{name}:2"})).json()
    assert suffixed["openid"] == f"sandbox-{name}"
    bad = (await sandbox.get("/sns/jscode2session", params={**params, "js_code": "dev:Upper Case"})).json()
    assert bad["errcode"] == 40029


async def _stable(sandbox: httpx.AsyncClient, appid: str, force: bool = False) -> dict:
    body = {"grant_type": "client_credential", "appid": appid, "secret": "s", "force_refresh": force}
    return (await sandbox.post("/cgi-bin/stable_token", json=body)).json()


async def test_stable_token_is_stable_until_forced(sandbox: httpx.AsyncClient) -> None:
    appid = unique("wx-")
    first, second = await _stable(sandbox, appid), await _stable(sandbox, appid)
    assert first["access_token"] == second["access_token"] and first["expires_in"] > 300
    assert len(first["access_token"]) >= 100
    forced = await _stable(sandbox, appid, force=True)
    assert forced["access_token"] != first["access_token"]


async def test_phone_codes_need_a_token_and_work_once(sandbox: httpx.AsyncClient) -> None:
    token = (await _stable(sandbox, unique("wx-")))["access_token"]
    no_token = (await sandbox.post("/wxa/business/getuserphonenumber", json={"code": "phone:13800138000"})).json()
    assert no_token["errcode"] == 40001
    code = f"phone:139{secrets.randbelow(10**8):08d}"
    answer = (
        await sandbox.post("/wxa/business/getuserphonenumber", params={"access_token": token}, json={"code": code})
    ).json()
    assert answer["errcode"] == 0 and answer["phone_info"]["purePhoneNumber"] == code.removeprefix("phone:")
    assert answer["phone_info"]["countryCode"] == "86"
    again = (
        await sandbox.post("/wxa/business/getuserphonenumber", params={"access_token": token}, json={"code": code})
    ).json()
    assert again["errcode"] == 40163


async def test_sends_are_recorded_per_user_in_order(sandbox: httpx.AsyncClient) -> None:
    token = (await _stable(sandbox, unique("wx-")))["access_token"]
    openid = f"sandbox-{unique('eve-')}"
    for n in range(2):
        body = {
            "touser": openid,
            "template_id": "tpl-1",
            "page": "pages/index/index?id=1",
            "data": {"thing1": {"value": f"第{n}条"}},
            "miniprogram_state": "developer",
            "lang": "zh_CN",
        }
        sent = (await sandbox.post("/cgi-bin/message/subscribe/send", params={"access_token": token}, json=body)).json()
        assert sent == {"errcode": 0, "errmsg": "ok"}
    template = {
        "touser": openid,
        "template_id": "tpl-2",
        "data": {"first": {"value": "x"}},
        "miniprogram": {"appid": "wx1", "pagepath": "pages/me/index"},
    }
    answer = (
        await sandbox.post("/cgi-bin/message/template/send", params={"access_token": token}, json=template)
    ).json()
    assert answer["errcode"] == 0 and answer["msgid"] > 0
    received = (await sandbox.get("/_sandbox/messages", params={"touser": openid})).json()
    assert [m["data"] for m in received["items"]][:2] == [
        {"thing1": {"value": "第0条"}},
        {"thing1": {"value": "第1条"}},
    ]
    assert [m["kind"] for m in received["items"]] == ["subscribe", "subscribe", "template"]


async def test_send_errors_follow_wechat(sandbox: httpx.AsyncClient) -> None:
    token = (await _stable(sandbox, unique("wx-")))["access_token"]

    async def send(body: dict, access_token: str = token) -> int:
        answer = await sandbox.post("/cgi-bin/message/subscribe/send", params={"access_token": access_token}, json=body)
        return answer.json()["errcode"]

    good = {"touser": "sandbox-x", "template_id": "t", "data": {"thing1": {"value": "v"}}}
    assert await send(good, "not-a-token") == 40001
    assert await send({**good, "touser": "bad openid!"}) == 40003
    assert await send({**good, "template_id": ""}) == 40037
    assert await send({**good, "data": {"thing1": {"value": 5}}}) == 47003
    assert await send({**good, "page": "/bad path"}) == 41030
    refused = f"sandbox-{unique('refuser-')}"
    await sandbox.put("/_sandbox/faults", json={"refuse_openids": [refused]})
    assert await send({**good, "touser": refused}) == 43101
    await sandbox.post("/_sandbox/expire-tokens")
    assert await send(good) == 42001


async def test_fault_rates_and_cap(sandbox: httpx.AsyncClient) -> None:
    token = (await _stable(sandbox, unique("wx-")))["access_token"]
    good = {"touser": "sandbox-y", "template_id": "t", "data": {"thing1": {"value": "v"}}}
    await sandbox.put("/_sandbox/faults", json={"error_rate": 1.0, "error_kinds": ["45009"]})
    answer = await sandbox.post("/cgi-bin/message/subscribe/send", params={"access_token": token}, json=good)
    assert answer.json()["errcode"] == 45009
    await sandbox.put("/_sandbox/faults", json={"error_rate": 1.0, "error_kinds": ["503"]})
    answer = await sandbox.post("/cgi-bin/message/subscribe/send", params={"access_token": token}, json=good)
    assert answer.status_code == 503
    await sandbox.put("/_sandbox/faults", json={"error_rate": 0, "sends_per_second_cap": 2})
    codes = [
        (await sandbox.post("/cgi-bin/message/subscribe/send", params={"access_token": token}, json=good)).json()[
            "errcode"
        ]
        for _ in range(6)
    ]
    assert 45009 in codes and codes.count(0) >= 2
    refused = await sandbox.put("/_sandbox/faults", json={"error_kinds": ["teapot"]})
    assert refused.status_code == 400
