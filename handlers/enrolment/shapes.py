"""What an application looks like over the API, to its worker and to caseworkers alike."""

from __future__ import annotations

from models.enrolment import queries
from models.enrolment.machine import MACHINE
from models.enrolment.tables import STATUS_LABELS, Enrolment, EnrolmentStatus
from models.kernel.history import history_of
from models.orgs import org_names
from models.profiles.identity import mask_phone
from server.http import LocalTime, Shape


class HistoryItem(Shape):
    action: str
    from_status: str
    to_status: str
    actor_kind: str
    reason: str
    created_at: LocalTime


class EnrolmentOut(Shape):
    id: int
    status: EnrolmentStatus
    status_label: str
    org_id: int
    org_name: str
    real_name: str
    id_number: str
    phone: str
    occupation: str
    occupation_label: str
    platform: str
    platform_label: str
    is_gig_worker: bool
    note: str
    reason: str
    submitted_at: LocalTime
    decided_at: LocalTime | None


class EnrolmentDetail(EnrolmentOut):
    history: list[HistoryItem]


class EnrolmentPage(Shape):
    items: list[EnrolmentOut]
    total: int


def enrolment_out(enrolment: Enrolment, org_name: str) -> EnrolmentOut:
    return EnrolmentOut(
        id=enrolment.id,
        status=enrolment.status,
        status_label=STATUS_LABELS[enrolment.status],
        org_id=enrolment.org_id,
        org_name=org_name,
        real_name=enrolment.real_name,
        id_number=enrolment.id_masked,
        phone=mask_phone(enrolment.phone),
        occupation=enrolment.occupation,
        occupation_label=queries.occupation_label(enrolment),
        platform=enrolment.platform,
        platform_label=queries.platform_label(enrolment),
        is_gig_worker=enrolment.is_gig_worker,
        note=enrolment.note,
        reason=enrolment.reason,
        submitted_at=enrolment.submitted_at,
        decided_at=enrolment.decided_at,
    )


async def enrolment_detail(enrolment: Enrolment) -> EnrolmentDetail:
    names = await org_names({enrolment.org_id})
    history = await history_of(MACHINE.case_type, enrolment.id)
    return EnrolmentDetail(
        **enrolment_out(enrolment, names[enrolment.org_id]).model_dump(),
        history=[
            HistoryItem(
                action=event.action,
                from_status=event.from_status,
                to_status=event.to_status,
                actor_kind=event.actor_kind,
                reason=event.note,
                created_at=event.created_at,
            )
            for event in history
        ],
    )
