"""People who use Gonghui: workers (WeChat users) and staff (caseworkers and admins).

Both log in to an `AuthSession`; a token names its session, so that logging out or disabling an
account revokes every token at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from models.orgs import Org


class UserRole(StrEnum):
    WORKER = "worker"
    ENTERPRISE_CONTACT = "enterprise_contact"
    EXPERT = "expert"


def default_user_roles() -> list[str]:
    return [UserRole.WORKER.value]


class User(Model):
    """A person who signed in through the mini-program, known by their openid."""

    id = fields.BigIntField(primary_key=True)
    openid = fields.CharField(max_length=64, unique=True)
    unionid = fields.CharField(max_length=64, null=True, db_index=True)
    roles: list[str] = fields.JSONField(default=default_user_roles)  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "users"


class StaffRole(StrEnum):
    CASEWORKER = "caseworker"
    UNION_ADMIN = "union_admin"
    SUPERADMIN = "superadmin"


STAFF_ROLE_LABELS: dict[StaffRole, str] = {
    StaffRole.CASEWORKER: "工会工作人员",
    StaffRole.UNION_ADMIN: "工会管理员",
    StaffRole.SUPERADMIN: "超级管理员",
}


class StaffAccount(Model):
    """A caseworker or admin, who sees and acts on the subtree of their org only."""

    id = fields.BigIntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=64)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(StaffRole, max_length=16)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="staff", on_delete=fields.RESTRICT
    )
    is_active = fields.BooleanField(default=True)
    must_change_password = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    org_id: int

    class Meta:
        table = "staff_accounts"


class SubjectKind(StrEnum):
    USER = "user"
    STAFF = "staff"


class AuthSession(Model):
    id = fields.UUIDField(primary_key=True)
    subject_kind = fields.CharEnumField(SubjectKind, max_length=8)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    staff: fields.ForeignKeyNullableRelation[StaffAccount] = fields.ForeignKeyField(
        "models.StaffAccount", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=255, default="")

    user_id: int | None
    staff_id: int | None

    class Meta:
        table = "auth_sessions"


async def find_or_create_worker(openid: str, unionid: str | None, now: datetime) -> tuple[User, bool]:
    """The user behind an openid; a first login creates them. Safe under racing logins."""
    user = await User.get_or_none(openid=openid)
    if user is None:
        try:
            return await User.create(openid=openid, unionid=unionid, last_login_at=now), True
        except IntegrityError:
            user = await User.get(openid=openid)
    if unionid:
        user.unionid = unionid
    user.last_login_at = now
    await user.save(update_fields=["unionid", "last_login_at"])
    return user, False


async def grant_role(user_id: int, role: UserRole) -> None:
    """Add a role to a worker (a contact, an expert), inside the caller's transaction; the row is
    locked so two grants at once cannot drop each other's role."""
    user = await User.filter(id=user_id).select_for_update().get()
    if role.value not in user.roles:
        user.roles = [*user.roles, role.value]
        await user.save(update_fields=["roles"])


async def staff_names(ids: Iterable[int | None]) -> dict[int, str]:
    """Staff display names by id, for pages that show who acted (entries keep the login name)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(await StaffAccount.filter(id__in=wanted).values_list("id", "display_name"))
