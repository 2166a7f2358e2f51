"""What a demand looks like over the API: to its worker, and to caseworkers (who never see who
filed an anonymous one)."""

from __future__ import annotations

from models.appeals.queries import Filer
from models.appeals.tables import STATUS_LABELS, Appeal, AppealReply, AppealStatus
from models.catalogue import APPEAL_TOPICS, PLATFORMS
from server.http import LocalTime, Shape


class ReplyOut(Shape):
    id: int
    content: str
    staff_name: str
    created_at: LocalTime


class AppealBase(Shape):
    id: int
    status: AppealStatus
    status_label: str
    topic: str
    topic_label: str
    content: str
    platform: str
    platform_label: str
    employer: str
    org_id: int
    org_name: str
    anonymous: bool
    submitted_at: LocalTime
    replied_at: LocalTime | None
    taken_up_at: LocalTime | None
    replies: list[ReplyOut]


class AppealOut(AppealBase):
    """The worker's own demand."""


class FilerOut(Shape):
    name: str
    phone: str


class AdminAppealOut(AppealBase):
    """A demand as caseworkers see it: `filer` is null for an anonymous one, and nothing else
    about the worker (no user id, openid or name) is in this shape at all."""

    filer: FilerOut | None


class AdminAppealPage(Shape):
    items: list[AdminAppealOut]
    total: int


class AppealPage(Shape):
    items: list[AppealOut]
    total: int


def _base(appeal: Appeal, org_names: dict[int, str], replies: list[AppealReply]) -> dict[str, object]:
    return {
        "id": appeal.id,
        "status": appeal.status,
        "status_label": STATUS_LABELS[appeal.status],
        "topic": appeal.topic,
        "topic_label": APPEAL_TOPICS.get(appeal.topic, appeal.topic),
        "content": appeal.content,
        "platform": appeal.platform,
        "platform_label": PLATFORMS.get(appeal.platform, appeal.platform),
        "employer": appeal.employer,
        "org_id": appeal.org_id,
        "org_name": org_names[appeal.org_id],
        "anonymous": appeal.anonymous,
        "submitted_at": appeal.submitted_at,
        "replied_at": appeal.replied_at,
        "taken_up_at": appeal.taken_up_at,
        "replies": [ReplyOut.model_validate(reply) for reply in replies],
    }


def appeal_out(appeal: Appeal, org_names: dict[int, str], replies: list[AppealReply]) -> AppealOut:
    return AppealOut(**_base(appeal, org_names, replies))  # type: ignore[arg-type]


def admin_appeal_out(
    appeal: Appeal, org_names: dict[int, str], replies: list[AppealReply], filer: Filer | None
) -> AdminAppealOut:
    return AdminAppealOut(
        **_base(appeal, org_names, replies),  # type: ignore[arg-type]
        filer=FilerOut(name=filer.name, phone=filer.phone) if filer else None,
    )
