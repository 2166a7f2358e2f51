"""What the worker reads at each step of their application."""

from __future__ import annotations

from models.enrolment.tables import Enrolment
from models.kernel.machine import Step
from models.notifications.outbox import Event, notify
from models.orgs import Org

EVENT_TEXT = {
    "submit": ("入会申请已提交", "您向{org}提交的入会申请已受理，工会将尽快审核。", "已提交"),
    "resubmit": ("入会申请已重新提交", "您补充后的入会申请已提交给{org}，请等待审核。", "已重新提交"),
    "approve": ("入会申请已通过", "欢迎加入{org}！您的会员号为 {member_no}，电子会员卡已生成。", "已通过"),
    "reject": ("入会申请未通过", "您向{org}提交的入会申请未通过，原因：{reason}", "未通过"),
    "return": ("入会申请需补充材料", "{org}退回了您的入会申请，请按要求补充后重新提交：{reason}", "需补充材料"),
    "withdraw": ("入会申请已撤回", "您已撤回向{org}提交的入会申请。", "已撤回"),
}


async def notice(enrolment: Enrolment, step: Step, member_no: str = "") -> None:
    """The worker hears of every step; WeChat carries only what someone else did."""
    org = await Org.get(id=enrolment.org_id)
    title, body, status_text = EVENT_TEXT[step.action]
    text = body.format(org=org.name, reason=enrolment.reason, member_no=member_no)
    values = {
        "status": status_text,
        "org": org.name,
        "applicant": enrolment.real_name,
        "time": step.at.isoformat(),
        "note": enrolment.reason or (f"会员号{member_no}" if member_no else title),
    }
    await notify(
        enrolment.user_id,
        Event(
            f"enrolment.{enrolment.status.value}",
            title,
            text,
            "enrolment",
            enrolment.id,
            org.id,
            f"pages/enrolment/detail?id={enrolment.id}",
            values,
            push=step.actor.kind == "staff",
        ),
    )
