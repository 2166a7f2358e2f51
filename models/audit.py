"""The audit log: who did what to which object, when, from where, and what changed.

Every caseworker action writes one entry through `record`, inside the transaction of the action
itself, so an action and its audit entry exist together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    actor_kind = fields.CharField(max_length=8)
    actor_id = fields.BigIntField(null=True)
    actor_name = fields.CharField(max_length=64, default="")
    action = fields.CharField(max_length=64, db_index=True)
    object_type = fields.CharField(max_length=32, default="")
    object_id = fields.CharField(max_length=64, default="")
    org_id = fields.BigIntField(null=True, db_index=True)
    ip = fields.CharField(max_length=64, default="")
    request_id = fields.CharField(max_length=64, default="")
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_entries"


@dataclass(frozen=True)
class Actor:
    """Who is acting, and from where: built once per request by the auth layer."""

    kind: str
    id: int | None
    name: str
    ip: str = ""
    request_id: str = ""


async def record(
    actor: Actor,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    org_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    return await AuditEntry.create(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        org_id=org_id,
        ip=actor.ip,
        request_id=actor.request_id,
        before=before,
        after=after,
    )


# What the audit log shows for each action the code writes (`record`, the kernel's transitions as
# `<case_type>.<action>`, the identity repair); tests/platform/test_audit_labels.py fails on a new
# action without its label here.
ACTION_LABELS = {
    "alert.read": "标记提醒已读",
    "appeal.follow_up": "跟进诉求",
    "appeal.reply": "答复诉求",
    "appeal.take_up": "纳入协商",
    "broadcast.create": "发送通知",
    "calendar.override_removed": "删除工作日调整",
    "calendar.override_set": "设置工作日调整",
    "engagement.create": "新增长期合作",
    "engagement.training_add": "添加培训记录",
    "enrolment.approve": "通过入会申请",
    "enrolment.reject": "驳回入会申请",
    "enrolment.return": "退回补充材料",
    "enrolment.reveal_id": "查看完整身份证号",
    "enterprise.verify": "核验企业",
    "expert.create": "新增劳模工匠",
    "expert.invite": "生成绑定码",
    "expert.update": "修改劳模工匠信息",
    "export": "导出 Excel",
    "identity.key_rotated": "轮换身份证加密密钥",
    "identity.needs_review": "身份信息待人工核对",
    "identity.normalised": "统一身份信息数字写法",
    "job_failure.resolve": "标记后台任务已处理",
    "job_failure.retry": "重试后台任务",
    "membership.transfer_approved": "同意转会",
    "membership.transfer_rejected": "驳回转会",
    "membership.transfer_requested": "申请转会",
    "membership.withdrawal_approved": "同意退会",
    "membership.withdrawal_rejected": "驳回退会",
    "membership.withdrawal_requested": "申请退会",
    # The kernel's default names for the membership steps; the domain names them by kind instead.
    "membership_change.approve": "同意会籍变更",
    "membership_change.reject": "驳回会籍变更",
    "notification.resend": "重发消息",
    "org.create": "新增工会组织",
    "org.service_set": "设置服务范围",
    "org.update": "修改工会组织",
    "profile.save": "保存个人信息",
    "reason.add": "新增常用原因",
    "reason.delete": "删除常用原因",
    "reason.edit": "修改常用原因",
    "reason.move": "调整常用原因顺序",
    "saved_filter.delete": "删除我的筛选",
    "saved_filter.save": "保存我的筛选",
    "service_order.cancel_by_union": "工会取消订单",
    "service_order.offer": "派单给专家",
    "sla.policy_set": "设置服务时限",
    "staff.change_password": "修改密码",
    "staff.change_role": "修改账号角色",
    "staff.create": "新增账号",
    "staff.disable": "停用账号",
    "staff.enable": "启用账号",
    "staff.login": "登录后台",
    "staff.login_failed": "登录失败",
    "station.activate": "启用驿站",
    "station.code_issued": "生成驿站二维码",
    "station.create": "新增驿站",
    "station.deactivate": "停用驿站",
    "station.update": "修改驿站",
    "user.login": "职工登录",
    "user.register": "职工注册",
    "warm_request.assign": "分派暖心服务",
    "warm_request.escalate": "上报上级工会",
    "warm_request.reassign": "改派暖心服务",
    "warm_request.reply": "回复职工",
    "warm_request.request_info": "请职工补充信息",
    "warm_request.resolve": "办结暖心服务",
    "warm_request.transfer": "转交其他工会",
}

OBJECT_LABELS = {
    "alert": "提醒",
    "appeal": "职工诉求",
    "broadcast": "通知",
    "calendar_day": "工作日",
    "engagement": "长期合作",
    "enrolment": "入会申请",
    "enrolments": "入会申请",
    "enterprise": "企业",
    "expert": "劳模工匠",
    "id_encryption_key": "加密密钥",
    "job_failure": "后台任务",
    "membership_change": "会籍变更",
    "memberships": "会籍",
    "notification_delivery": "消息发送",
    "org": "工会组织",
    "orgs": "工会组织",
    "person": "职工身份",
    "preset_reason": "常用原因",
    "saved_filter": "我的筛选",
    "service_order": "服务订单",
    "service_order_report": "整改报告",
    "sla_policy": "服务时限",
    "staff": "工作人员账号",
    "station": "驿站",
    "user": "职工",
    "warm_request": "暖心服务",
    "worker_profiles": "职工信息",
}

ACTOR_KIND_LABELS = {"staff": "工作人员", "user": "职工", "system": "系统"}


def action_label(action: str) -> str:
    """The action in Chinese; an unknown one (an entry older than its label) as written."""
    return ACTION_LABELS.get(action, action)


def object_label(object_type: str) -> str:
    """The object type in Chinese; exports already name theirs in Chinese (会员, 入会申请)."""
    return OBJECT_LABELS.get(object_type, object_type)
