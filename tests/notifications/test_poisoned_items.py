"""A background item that cannot be processed is set aside with its error; the rest go on."""

from __future__ import annotations

import httpx
import pytest

from models.accounts import StaffRole, User
from models.kernel.history import history_of
from models.notifications.tables import (
    Broadcast,
    BroadcastStatus,
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
)
from server.clock import now
from tests.factories.common import assert_error, bearer, eventually, login_staff, login_worker
from tests.factories.enrolment import applicant
from tests.factories.notifications import sandbox_messages
from tests.factories.unions import demo_org, make_staff

pytestmark = pytest.mark.usefixtures("dispatcher")

MISSING_ORG_ID = 2**62


async def test_broadcast_to_an_org_that_does_not_exist_is_refused(api: httpx.AsyncClient) -> None:
    superadmin = await make_staff(await demo_org("广东省总工会"), StaffRole.SUPERADMIN)
    token = await login_staff(api, superadmin.username)
    answer = await api.post(
        "/api/v1/admin/broadcasts",
        headers=bearer(token),
        json={"org_id": MISSING_ORG_ID, "title": "通知", "body": "内容"},
    )
    assert_error(answer, 404, "org.not_found")
    assert not await Broadcast.exists(org_id=MISSING_ORG_ID)


async def test_planted_broken_items_do_not_stop_other_messages(api: httpx.AsyncClient, sandbox) -> None:
    # Planted past the API's checks, as a row written by an older version or by hand would be.
    broken_broadcast = await Broadcast.create(org_id=MISSING_ORG_ID, title="坏通知", body="无处可发", created_by_id=0)
    _, victim = await login_worker(api)
    broken_notification = await Notification.create(
        user_id=victim["user"]["id"],
        event="enrolment.approved",
        object_type="enrolment",
        object_id="0",
        title="坏消息",
        body="其取值不是对象",
        values=["not", "a", "mapping"],
    )
    broken_delivery = await NotificationDelivery.create(
        notification_id=broken_notification.id, channel=Channel.SUBSCRIBE, due_at=now()
    )

    token, openid, enrolment_id = await applicant(api)
    staff_token = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
    approved = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
    assert approved.status_code == 200, approved.text

    messages = await eventually(lambda: sandbox_messages(sandbox, openid), within=10)
    assert messages[0]["template_id"] == "sbx-review-result"

    async def set_aside() -> tuple[Broadcast, NotificationDelivery] | None:
        broadcast = await Broadcast.get(id=broken_broadcast.id)
        delivery = await NotificationDelivery.get(id=broken_delivery.id)
        done = broadcast.status == BroadcastStatus.FAILED and delivery.status == DeliveryStatus.FAILED
        return (broadcast, delivery) if done else None

    broadcast, delivery = await eventually(set_aside, within=10)
    assert "DoesNotExist" in (broadcast.error or "")
    # The move to failed is a step of the broadcast's history, taken by the broadcasts job.
    fail = (await history_of("broadcast", broadcast.id))[-1]
    assert (fail.action, fail.from_status, fail.to_status, fail.actor_kind) == ("fail", "queued", "failed", "system")
    assert "DoesNotExist" in fail.note
    assert delivery.last_error.startswith("internal:") and delivery.finished_at is not None
    victim_user = await User.get(id=victim["user"]["id"])
    assert await sandbox_messages(sandbox, victim_user.openid) == []

    # Staff see the failed item with its error in the delivery log and can resend it.
    superadmin = await login_staff(
        api, (await make_staff(await demo_org("广东省总工会"), StaffRole.SUPERADMIN)).username
    )
    log = (
        await api.get(
            "/api/v1/admin/notifications",
            params={"status": "failed", "user_id": victim_user.id},
            headers=bearer(superadmin),
        )
    ).json()
    assert [item["id"] for item in log["items"]] == [delivery.id]
    assert log["items"][0]["last_error"].startswith("internal:")
    assert (await api.get("/api/v1/me", headers=bearer(token))).status_code == 200
