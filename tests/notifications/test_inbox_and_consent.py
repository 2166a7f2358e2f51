"""The inbox, subscribe-message consent, and WeChat's field rules for every template."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from server.clock import SHANGHAI
from server.wechat.fields import fit_subscribe_value, fit_template_value, subscribe_value_ok
from server.wechat.templates import DEFAULT_TEMPLATES, TemplateBook
from tests.factories.common import assert_error, bearer, login_worker
from tests.factories.enrolment import apply
from tests.factories.notifications import consent
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org


async def test_inbox_counts_pages_and_marks_read(api: httpx.AsyncClient) -> None:
    token, _ = await worker_with_profile(api)
    for _ in range(3):
        enrolment_id = (await apply(api, token, (await demo_org("雷州市总工会")).id)).json()["id"]
        await api.post(f"/api/v1/enrolments/{enrolment_id}/withdraw", headers=bearer(token))
    inbox = (await api.get("/api/v1/me/inbox", params={"page_size": 4}, headers=bearer(token))).json()
    assert inbox["total"] == 6 and inbox["unread_count"] == 6 and len(inbox["items"]) == 4
    assert [item["title"] for item in inbox["items"][:2]] == ["入会申请已撤回", "入会申请已提交"]
    first = inbox["items"][0]["id"]
    read = (await api.post(f"/api/v1/me/inbox/{first}/read", headers=bearer(token))).json()
    assert read["read_at"] is not None
    unread = (await api.get("/api/v1/me/inbox", params={"unread": "true"}, headers=bearer(token))).json()
    assert unread["unread_count"] == unread["total"] == 5 and first not in [i["id"] for i in unread["items"]]
    stranger, _ = await login_worker(api)
    assert_error(await api.post(f"/api/v1/me/inbox/{first}/read", headers=bearer(stranger)), 404, "inbox.not_found")
    assert (await api.post("/api/v1/me/inbox/read-all", headers=bearer(token))).json() == {"marked": 5}


async def test_each_accept_is_one_send(api: httpx.AsyncClient) -> None:
    token, _ = await login_worker(api)
    listed = (await api.get("/api/v1/me/subscriptions", headers=bearer(token))).json()["items"]
    assert {item["template_id"]: item["balance"] for item in listed} == {"sbx-review-result": 0, "sbx-union-notice": 0}
    assert "enrolment.*" in next(i for i in listed if i["template_id"] == "sbx-review-result")["events"]
    await consent(api, token, times=2)
    mixed = await api.post(
        "/api/v1/me/subscriptions",
        headers=bearer(token),
        json={"results": {"sbx-review-result": "reject", "sbx-union-notice": "accept"}},
    )
    balances = {item["template_id"]: item["balance"] for item in mixed.json()["items"]}
    assert balances == {"sbx-review-result": 2, "sbx-union-notice": 1}
    bad = await api.post("/api/v1/me/subscriptions", json={"results": {"x": "maybe"}}, headers=bearer(token))
    assert_error(bad, 422, "request.invalid")


LONG = "广东省中山市新就业形态劳动者工会联合会东区街道美团外卖配送站点工会"


@pytest.mark.parametrize("event", sorted(DEFAULT_TEMPLATES))
def test_every_template_field_obeys_wechat_rules(event: str) -> None:
    book = TemplateBook(DEFAULT_TEMPLATES)
    templates = book.for_event(event.replace("*", "approved"))
    assert templates is not None and templates.subscribe is not None and templates.official is not None
    values = {
        "status": "已通过审核并生成会员卡",
        "org": LONG,
        "note": LONG + "\n第二行😀",
        "title": LONG,
        "applicant": "欧阳娜娜娜娜娜娜娜娜娜娜",
        "time": datetime(2025, 3, 10, 9, 30, tzinfo=SHANGHAI).isoformat(),
    }
    for key, item in book.subscribe_data(templates.subscribe, values).items():
        assert subscribe_value_ok(key, item["value"]), (key, item["value"])
    for item in book.official_data(templates.official, values).values():
        assert 0 < len(item["value"]) <= 20 and "\n" not in item["value"]


def test_field_fitting_never_cuts_a_character() -> None:
    emoji_text = "😀" * 30
    fitted = fit_subscribe_value("thing4", emoji_text)
    assert len(fitted) == 20 and fitted.endswith("…") and fitted[:-1] == "😀" * 19
    assert fit_subscribe_value("phrase1", "已通过 OK") == "已通过"
    assert fit_subscribe_value("time3", "2024-04-12T08:05:00+00:00") == "2024-04-12 16:05"
    assert fit_subscribe_value("character_string2", "GH-2025 会员 001") == "GH-2025001"
    assert fit_subscribe_value("name1", "张国明Zhang") == "张国明"
    assert (
        fit_template_value("一二三四五六七八九十一二三四五六七八九十一二") == "一二三四五六七八九十一二三四五六七八九…"
    )
    with pytest.raises(ValueError):
        fit_subscribe_value("time3", "not a time")
