"""One permission table: guards ask for a named permission, never for a list of roles."""

from __future__ import annotations

import httpx

from models.accounts import StaffRole
from models.kernel.permissions import ROLE_PERMISSIONS, Permission
from tests.factories.common import assert_error, bearer, login_staff
from tests.factories.unions import demo_org, make_staff


def test_the_table_is_ordered_and_nested() -> None:
    assert [p.value for p in Permission] == sorted(p.value for p in Permission)
    assert all(p.value.count(":") == 2 for p in Permission)
    caseworker, union_admin = ROLE_PERMISSIONS[StaffRole.CASEWORKER], ROLE_PERMISSIONS[StaffRole.UNION_ADMIN]
    # A superadmin differs from a union admin by scope (the whole tree), not by permission.
    assert caseworker < union_admin <= ROLE_PERMISSIONS[StaffRole.SUPERADMIN] == frozenset(Permission)
    assert Permission.AUDIT_READ not in caseworker and Permission.ENROLMENTS_REVIEW in caseworker


async def test_a_refusal_names_the_permission_and_the_pages_follow_the_table(api: httpx.AsyncClient) -> None:
    org = await demo_org("中山市总工会")
    caseworker = await login_staff(api, (await make_staff(org)).username)
    refused = await api.get("/api/v1/admin/audit", headers=bearer(caseworker))
    assert assert_error(refused, 403, "auth.role_forbidden")["details"] == {"permission": "admin:audit:read"}
    admin = await login_staff(api, (await make_staff(org, StaffRole.UNION_ADMIN)).username)
    assert (await api.get("/api/v1/admin/audit", headers=bearer(admin))).status_code == 200
