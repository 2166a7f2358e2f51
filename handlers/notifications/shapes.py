"""What a staff alert looks like to staff, over the API and on the desk, with the page of the case
it is about (each case type has its own admin page)."""

from __future__ import annotations

from pydantic import Field

from models.notifications.tables import StaffAlert
from server.http import LocalTime, Shape

# The admin page of each kind of case or object, for the desk's alerts and the audit log's links.
CASE_PAGES = {
    "warm_request": "/admin/warm-requests/{id}",
    "service_order": "/admin/service-orders/{id}",
    "enrolment": "/admin/enrolments/{id}",
    "enterprise": "/admin/enterprises/{id}",
    "expert": "/admin/experts/{id}",
    "station": "/admin/stations/{id}",
    "engagement": "/admin/engagements/{id}",
    "broadcast": "/admin/broadcasts/{id}",
    "service_order_report": "/admin/service-orders/{id}/report",
    "org": "/admin/orgs/{id}/service",
}


def case_page(case_type: str, case_id: int | str) -> str | None:
    page = CASE_PAGES.get(case_type)
    return page.format(id=case_id) if page else None


class AlertOut(Shape):
    id: int
    org_id: int
    staff_id: int | None = Field(description="办理该事项的工作人员；null 为交给整个工会")
    kind: str
    case_type: str
    case_id: int
    title: str
    body: str
    link: str | None = Field(description="该事项在管理后台的页面")
    created_at: LocalTime


def alert_out(alert: StaffAlert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        org_id=alert.org_id,
        staff_id=alert.staff_id,
        kind=alert.kind,
        case_type=alert.case_type,
        case_id=alert.case_id,
        title=alert.title,
        body=alert.body,
        link=case_page(alert.case_type, alert.case_id),
        created_at=alert.created_at,
    )
