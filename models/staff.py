"""Staff accounts: login with lockout, creation, password changes. Every action audited."""

from __future__ import annotations

from models.accounts import STAFF_ROLE_LABELS, StaffAccount, StaffRole
from models.audit import Actor, record
from models.errors import Conflict, Invalid, Unauthorized
from models.orgs import Org
from server.auth.lockout import LoginLockout
from server.auth.passwords import check_password_strength, hash_password, verify_password
from server.clock import now


async def authenticate_staff(
    lockout: LoginLockout, username: str, password: str, actor_ip: str, request_id: str
) -> StaffAccount:
    await lockout.ensure_not_locked(username)
    staff = await StaffAccount.get_or_none(username=username.strip())
    valid = await verify_password(staff.password_hash if staff else None, password)
    if staff is None or not valid or not staff.is_active:
        await lockout.record_failure(username)
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
    await lockout.clear(username)
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
    if await StaffAccount.exists(username=username):
        raise Conflict("staff.username_taken", "该用户名已被使用", {"username": username})
    staff = await StaffAccount.create(
        username=username,
        display_name=display_name,
        password_hash=await hash_password(password),
        role=role,
        org=org,
        must_change_password=must_change_password,
    )
    await record(
        actor,
        "staff.create",
        object_type="staff",
        object_id=staff.id,
        org_id=org.id,
        after={"username": username, "role": role.value, "role_label": STAFF_ROLE_LABELS[role], "org_id": org.id},
    )
    return staff


async def change_password(staff: StaffAccount, old_password: str, new_password: str, actor: Actor) -> None:
    if not await verify_password(staff.password_hash, old_password):
        raise Invalid("auth.bad_old_password", "原密码不正确")
    if old_password == new_password:
        raise Invalid("auth.password_unchanged", "新密码不能与原密码相同")
    check_password_strength(new_password)
    staff.password_hash = await hash_password(new_password)
    staff.must_change_password = False
    await staff.save(update_fields=["password_hash", "must_change_password"])
    await record(actor, "staff.change_password", object_type="staff", object_id=staff.id, org_id=staff.org_id)
