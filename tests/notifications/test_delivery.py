"""Delivery through the dispatcher to the sandbox, for every outcome WeChat can give."""

from __future__ import annotations

import httpx
import pytest

from models.notifications.tables import DeliveryStatus, Notification, NotificationDelivery
from tests.factories.common import assert_error, bearer, eventually, login_staff
from tests.factories.enrolment import applicant
from tests.factories.notifications import sandbox_messages
from tests.factories.unions import demo_org, make_staff

pytestmark = pytest.mark.usefixtures("dispatcher")


@pytest.fixture
async def caseworker(api: httpx.AsyncClient) -> str:
    return await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)


async def approve(api: httpx.AsyncClient, staff_token: str, enrolment_id: int) -> None:
    answer = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
    assert answer.status_code == 200, answer.text


async def delivery_of(enrolment_id: int, event: str = "enrolment.approved") -> NotificationDelivery:
    notification = await Notification.get(object_type="enrolment", object_id=str(enrolment_id), event=event)
    return await NotificationDelivery.get(notification_id=notification.id)


async def finished(enrolment_id: int) -> NotificationDelivery | None:
    delivery = await delivery_of(enrolment_id)
    return (
        delivery
        if delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.SKIPPED, DeliveryStatus.FAILED)
        else None
    )


async def test_approval_reaches_the_worker_in_wechat_and_inbox(api, sandbox, caseworker) -> None:
    token, openid, enrolment_id = await applicant(api)
    await approve(api, caseworker, enrolment_id)
    inbox = (await api.get("/api/v1/me/inbox", headers=bearer(token))).json()
    assert inbox["items"][0]["title"] == "入会申请已通过" and inbox["unread_count"] == 2
    messages = await eventually(lambda: sandbox_messages(sandbox, openid), within=2.0)
    assert len(messages) == 1
    message = messages[0]
    assert message["template_id"] == "sbx-review-result" and message["miniprogram_state"] == "formal"
    assert message["data"]["phrase1"]["value"] == "已通过"
    assert message["page"] == f"pages/enrolment/detail?id={enrolment_id}"
    delivery = await eventually(lambda: finished(enrolment_id))
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    subscriptions = (await api.get("/api/v1/me/subscriptions", headers=bearer(token))).json()["items"]
    assert {item["template_id"]: item["balance"] for item in subscriptions}["sbx-review-result"] == 0


async def test_without_consent_nothing_is_sent_but_the_inbox_has_it(api, sandbox, caseworker) -> None:
    token, openid, enrolment_id = await applicant(api, consents=0)
    await approve(api, caseworker, enrolment_id)
    delivery = await eventually(lambda: finished(enrolment_id))
    assert delivery.status == DeliveryStatus.SKIPPED and delivery.last_error.startswith("no_consent")
    assert await sandbox_messages(sandbox, openid) == []
    assert (await api.get("/api/v1/me/inbox", headers=bearer(token))).json()["items"][0][
        "event"
    ] == "enrolment.approved"


async def test_user_refusal_is_skipped_without_retry(api, sandbox, caseworker) -> None:
    _, openid, enrolment_id = await applicant(api)
    await sandbox.put("/_sandbox/faults", json={"refuse_openids": [openid]})
    await approve(api, caseworker, enrolment_id)
    delivery = await eventually(lambda: finished(enrolment_id))
    assert (delivery.status, delivery.last_errcode, delivery.attempts) == (DeliveryStatus.SKIPPED, 43101, 1)


async def test_bad_parameters_fail_at_once_with_the_error(api, sandbox, caseworker) -> None:
    _, _, enrolment_id = await applicant(api)
    await sandbox.put("/_sandbox/faults", json={"reject_templates": ["sbx-review-result"]})
    await approve(api, caseworker, enrolment_id)
    delivery = await eventually(lambda: finished(enrolment_id))
    await sandbox.put("/_sandbox/faults", json={"reject_templates": []})
    assert (delivery.status, delivery.last_errcode, delivery.attempts) == (DeliveryStatus.FAILED, 40037, 1)
    assert "invalid template_id" in delivery.last_error


@pytest.mark.parametrize("kind", ["45009", "-1", "503", "timeout"])
async def test_transient_errors_are_retried_until_delivered(api, sandbox, caseworker, kind) -> None:
    _, openid, enrolment_id = await applicant(api)
    await sandbox.put(
        "/_sandbox/faults",
        json={"error_rate": 1.0, "error_kinds": [kind], "only_openids": [openid], "timeout_seconds": 1.5},
    )
    await approve(api, caseworker, enrolment_id)
    await eventually(lambda: _attempted(enrolment_id, 2))
    await sandbox.put("/_sandbox/faults", json={"error_rate": 0, "only_openids": []})
    delivery = await eventually(lambda: finished(enrolment_id), within=15)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts >= 2
    assert len(await sandbox_messages(sandbox, openid)) == 1


async def _attempted(enrolment_id: int, attempts: int) -> bool:
    return (await delivery_of(enrolment_id)).attempts >= attempts


async def test_persistent_errors_end_failed_then_a_caseworker_resends(api, sandbox, caseworker) -> None:
    _, openid, enrolment_id = await applicant(api)
    await sandbox.put("/_sandbox/faults", json={"error_rate": 1.0, "error_kinds": ["45009"], "only_openids": [openid]})
    await approve(api, caseworker, enrolment_id)
    delivery = await eventually(lambda: finished(enrolment_id), within=15)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 4
    assert "gave up after 4 attempts" in delivery.last_error
    log = (await api.get("/api/v1/admin/notifications", params={"status": "failed"}, headers=bearer(caseworker))).json()
    assert delivery.id in [item["id"] for item in log["items"]]
    await sandbox.put("/_sandbox/faults", json={"error_rate": 0, "only_openids": []})
    resent = await api.post(f"/api/v1/admin/notifications/{delivery.id}/resend", headers=bearer(caseworker))
    assert resent.json()["status"] == "pending"
    again = await eventually(lambda: finished(enrolment_id))
    assert again.status == DeliveryStatus.DELIVERED
    assert len(await sandbox_messages(sandbox, openid)) == 1
    assert_error(
        await api.post(f"/api/v1/admin/notifications/{delivery.id}/resend", headers=bearer(caseworker)),
        409,
        "notification.not_resendable",
    )


async def test_expired_token_is_renewed_and_the_message_still_goes(api, sandbox, caseworker) -> None:
    _, openid, enrolment_id = await applicant(api)
    await sandbox.post("/_sandbox/expire-tokens")
    await approve(api, caseworker, enrolment_id)
    delivery = await eventually(lambda: finished(enrolment_id))
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    assert len(await sandbox_messages(sandbox, openid)) == 1


async def test_delivery_log_is_confined_to_the_subtree(api, caseworker) -> None:
    _, _, enrolment_id = await applicant(api)
    await approve(api, caseworker, enrolment_id)
    delivery = await delivery_of(enrolment_id)
    shenzhen = await login_staff(api, (await make_staff(await demo_org("深圳市总工会"))).username)
    log = (await api.get("/api/v1/admin/notifications", params={"page_size": 100}, headers=bearer(shenzhen))).json()
    assert delivery.id not in [item["id"] for item in log["items"]]
    assert_error(
        await api.post(f"/api/v1/admin/notifications/{delivery.id}/resend", headers=bearer(shenzhen)),
        404,
        "record.not_found",
    )
