"""Staff accounts: login with growing delays, creation, password changes. Every action audited."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import STAFF_ROLE_LABELS, AuthSession, StaffAccount, StaffRole
from models.audit import Actor, record
from models.errors import Conflict, Forbidden, Invalid, Unauthorized
from models.orgs import Org
from models.scope import StaffScope
from server.auth.passwords import check_password_strength, hash_password, verify_password
from server.auth.rate_limits import StaffLoginThrottle
from server.clock import now


async def authenticate_staff(
    throttle: StaffLoginThrottle, username: str, password: str, actor_ip: str, request_id: str
) -> StaffAccount:
    async with throttle.attempt(actor_ip, username):
        staff = await StaffAccount.get_or_none(username=username.strip())
        valid = await verify_password(staff.password_hash if staff else None, password)
        if staff is None or not valid or not staff.is_active:
            await record(
                Actor("staff", staff.id if staff else None, username[:64], actor_ip, request_id),
                "staff.login_failed",
                object_type="staff",
                object_id=staff.id if staff else "",
                org_id=staff.org_id if staff else None,
            )
            if staff is not None and valid and not staff.is_active:
                raise Unauthorized("auth.account_disabled", "账号已停用，请联系管理员")
            raise Unauthorized("auth.bad_credentials", "用户名或密码错误")
    staff.last_login_at = now()
    await staff.save(update_fields=["last_login_at"])
    await record(
        Actor("staff", staff.id, staff.username, actor_ip, request_id),
        "staff.login",
        object_type="staff",
        object_id=staff.id,
        org_id=staff.org_id,
    )
    return staff


async def create_staff(
    *,
    username: str,
    display_name: str,
    password: str,
    role: StaffRole,
    org: Org,
    must_change_password: bool,
    actor: Actor,
) -> StaffAccount:
    check_password_strength(password)
    password_hash = await hash_password(password)
    after = {"username": username, "role": role.value, "role_label": STAFF_ROLE_LABELS[role], "org_id": org.id}
    try:
        async with in_transaction():
            staff = await StaffAccount.create(
                username=username,
                display_name=display_name,
                password_hash=password_hash,
                role=role,
                org=org,
                must_change_password=must_change_password,
            )
            await record(actor, "staff.create", object_type="staff", object_id=staff.id, org_id=org.id, after=after)
    except IntegrityError:
        raise Conflict("staff.username_taken", "该用户名已被使用", {"username": username}) from None
    return staff


async def change_password(
    staff: StaffAccount, old_password: str, new_password: str, actor: Actor, keep_session_id: object = None
) -> None:
    """A new password ends every other session of the account (a stolen one included)."""
    if not await verify_password(staff.password_hash, old_password):
        raise Invalid("auth.bad_old_password", "原密码不正确")
    if old_password == new_password:
        raise Invalid("auth.password_unchanged", "新密码不能与原密码相同")
    check_password_strength(new_password)
    staff.password_hash = await hash_password(new_password)
    staff.must_change_password = False
    async with in_transaction():
        await staff.save(update_fields=["password_hash", "must_change_password"])
        await _end_sessions(staff.id, keep_session_id)
        await record(actor, "staff.change_password", object_type="staff", object_id=staff.id, org_id=staff.org_id)


async def _end_sessions(staff_id: int, keep_session_id: object = None) -> None:
    sessions = AuthSession.filter(staff_id=staff_id, revoked_at=None)
    if keep_session_id is not None:
        sessions = sessions.exclude(id=keep_session_id)
    await sessions.update(revoked_at=now())


# --- union admins manage the accounts of their subtree ----------------------------------------


# The roles a manager may ever grant (the account pages offer these); `_may_hold` says where.
ASSIGNABLE_ROLES = {
    StaffRole.UNION_ADMIN: {StaffRole.CASEWORKER, StaffRole.UNION_ADMIN},
    StaffRole.SUPERADMIN: {StaffRole.CASEWORKER, StaffRole.UNION_ADMIN, StaffRole.SUPERADMIN},
}


def _may_hold(manager: StaffAccount, role: StaffRole, org_id: int) -> bool:
    """Whether the manager may give an account of `org_id` (in their subtree) this role, and
    manage it afterwards: a superadmin any; a union admin caseworkers, and union admins of the
    unions strictly below their own, never a peer of their own union. Granting and managing
    follow one rule, so no one can create an account they cannot take back."""
    if manager.role == StaffRole.SUPERADMIN:
        return True
    if manager.role != StaffRole.UNION_ADMIN:
        return False
    return role == StaffRole.CASEWORKER or (role == StaffRole.UNION_ADMIN and org_id != manager.org_id)


def _check_assignable(manager: StaffAccount, role: StaffRole, org_id: int) -> None:
    if not _may_hold(manager, role, org_id):
        raise Forbidden(
            "staff.role_not_assignable", "您无权授予该角色：工会管理员只能设置工作人员和下级工会的工会管理员"
        )


async def create_in_scope(
    manager: StaffAccount,
    scope: StaffScope,
    username: str,
    display_name: str,
    role: StaffRole,
    org_id: int,
    temporary_password: str,
    actor: Actor,
) -> StaffAccount:
    org = await scope.get(Org.all(), id=org_id)
    _check_assignable(manager, role, org.id)
    username = username.strip()
    if not username or not username.replace("_", "").replace("-", "").isalnum() or len(username) > 64:
        raise Invalid("staff.username", "用户名只能包含字母、数字、下划线和连字符", {"field": "username"})
    return await create_staff(
        username=username,
        display_name=display_name.strip() or username,
        password=temporary_password,
        role=role,
        org=org,
        must_change_password=True,
        actor=actor,
    )


async def _managed(scope: StaffScope, manager: StaffAccount, staff_id: int) -> StaffAccount:
    """An account the manager may change: in their subtree, not their own, one they may hold."""
    staff = await scope.get(StaffAccount.all(), id=staff_id)
    if staff.id == manager.id:
        raise Invalid("staff.self", "不能停用自己的账号或修改自己的角色")
    if not _may_hold(manager, staff.role, staff.org_id):
        raise Forbidden("staff.not_manageable", "不能修改与您同级或更高级别的账号")
    return staff


async def set_active(
    scope: StaffScope, manager: StaffAccount, staff_id: int, active: bool, actor: Actor
) -> StaffAccount:
    staff = await _managed(scope, manager, staff_id)
    staff.is_active = active
    async with in_transaction():
        await staff.save(update_fields=["is_active"])
        if not active:
            await _end_sessions(staff.id)
        await record(
            actor,
            "staff.enable" if active else "staff.disable",
            object_type="staff",
            object_id=staff.id,
            org_id=staff.org_id,
            after={"is_active": active},
        )
    return staff


async def change_role(
    scope: StaffScope, manager: StaffAccount, staff_id: int, role: StaffRole, actor: Actor
) -> StaffAccount:
    staff = await _managed(scope, manager, staff_id)
    _check_assignable(manager, role, staff.org_id)
    before = {"role": staff.role.value}
    staff.role = role
    async with in_transaction():
        await staff.save(update_fields=["role"])
        await record(
            actor,
            "staff.change_role",
            object_type="staff",
            object_id=staff.id,
            org_id=staff.org_id,
            before=before,
            after={"role": role.value},
        )
    return staff
