"""Every action a staff member may take is one named permission; roles map to permissions in one
table; guards ask for a permission, never for a list of roles.

Names read `<scope>:<resource>:<action>` and the enum stays alphabetised, so a reviewer sees at a
glance what exists. Where an action is confined further (to a subtree, to one's own cases) the
scope choke point (`models.scope`) does that; a permission says only whether the action is open
to the role at all.
"""

from __future__ import annotations

from enum import StrEnum

from models.accounts import StaffAccount, StaffRole


class Permission(StrEnum):
    APPEALS_READ = "admin:appeals:read"
    APPEALS_REPLY = "admin:appeals:reply"
    APPEALS_TAKE_UP = "admin:appeals:take_up"
    AUDIT_READ = "admin:audit:read"
    BROADCASTS_SEND = "admin:broadcasts:send"
    CALENDAR_MANAGE = "admin:calendar:manage"
    DESK_USE = "admin:desk:use"
    ENGAGEMENTS_MANAGE = "admin:engagements:manage"
    ENGAGEMENTS_READ = "admin:engagements:read"
    ENROLMENTS_READ = "admin:enrolments:read"
    ENROLMENTS_REVEAL_ID = "admin:enrolments:reveal_id"
    ENROLMENTS_REVIEW = "admin:enrolments:review"
    ENTERPRISES_READ = "admin:enterprises:read"
    ENTERPRISES_VERIFY = "admin:enterprises:verify"
    EXPERTS_MANAGE = "admin:experts:manage"
    EXPERTS_READ = "admin:experts:read"
    JOBS_MANAGE = "admin:jobs:manage"
    MEMBERS_READ = "admin:members:read"
    MEMBERSHIP_CHANGES_REVIEW = "admin:membership_changes:review"
    NOTIFICATIONS_READ = "admin:notifications:read"
    NOTIFICATIONS_RESEND = "admin:notifications:resend"
    PRESET_REASONS_MANAGE = "admin:preset_reasons:manage"
    SERVICE_ORDERS_HANDLE = "admin:service_orders:handle"
    SERVICE_ORDERS_READ = "admin:service_orders:read"
    SLA_POLICIES_MANAGE = "admin:sla_policies:manage"
    STAFF_MANAGE = "admin:staff:manage"
    STATIONS_MANAGE = "admin:stations:manage"
    STATIONS_READ = "admin:stations:read"
    TREE_MANAGE = "admin:tree:manage"
    TREE_READ = "admin:tree:read"
    WARM_REQUESTS_HANDLE = "admin:warm_requests:handle"
    WARM_REQUESTS_READ = "admin:warm_requests:read"


CASEWORK = frozenset(
    {
        Permission.APPEALS_READ,
        Permission.APPEALS_REPLY,
        Permission.APPEALS_TAKE_UP,
        Permission.BROADCASTS_SEND,
        Permission.DESK_USE,
        Permission.ENGAGEMENTS_READ,
        Permission.ENROLMENTS_READ,
        Permission.ENROLMENTS_REVEAL_ID,
        Permission.ENROLMENTS_REVIEW,
        Permission.ENTERPRISES_READ,
        Permission.ENTERPRISES_VERIFY,
        Permission.EXPERTS_READ,
        Permission.MEMBERS_READ,
        Permission.MEMBERSHIP_CHANGES_REVIEW,
        Permission.NOTIFICATIONS_READ,
        Permission.NOTIFICATIONS_RESEND,
        Permission.SERVICE_ORDERS_HANDLE,
        Permission.SERVICE_ORDERS_READ,
        Permission.STATIONS_READ,
        Permission.TREE_READ,
        Permission.WARM_REQUESTS_HANDLE,
        Permission.WARM_REQUESTS_READ,
    }
)
ADMINISTRATION = frozenset(
    {
        Permission.AUDIT_READ,
        Permission.CALENDAR_MANAGE,
        Permission.ENGAGEMENTS_MANAGE,
        Permission.EXPERTS_MANAGE,
        Permission.JOBS_MANAGE,
        Permission.PRESET_REASONS_MANAGE,
        Permission.SLA_POLICIES_MANAGE,
        Permission.STAFF_MANAGE,
        Permission.STATIONS_MANAGE,
        Permission.TREE_MANAGE,
    }
)

ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.CASEWORKER: CASEWORK,
    StaffRole.UNION_ADMIN: CASEWORK | ADMINISTRATION,
    StaffRole.SUPERADMIN: frozenset(Permission),
}


def may(staff: StaffAccount, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[staff.role]
