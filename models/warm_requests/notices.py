"""What the worker reads when the union acts on their request."""

from __future__ import annotations

from models.kernel.machine import Step
from models.notifications.outbox import Event, notify
from models.orgs import Org
from models.warm_requests.catalogue import request_type
from models.warm_requests.tables import STATUS_LABELS, WarmRequest

TEXT = {
    "submit": ("求助已提交", "您的{kind}求助已提交给{org}，工会将尽快联系您。"),
    "reply": ("工会回复了您的求助", "{org}：{note}"),
    "request_info": ("请补充求助信息", "{org}需要您补充：{note}"),
    "resolve": ("求助已办结", "{org}已办结您的{kind}求助：{note}。请对服务进行评价。"),
    "escalate": ("求助已转至上级工会", "您的{kind}求助已转至{org}继续办理。"),
    "transfer": ("求助已转交", "您的{kind}求助已转交{org}办理。"),
}


async def notice(request: WarmRequest, step: Step, note: str = "") -> None:
    title, body = TEXT[step.action]
    org = await Org.get(id=request.org_id)
    kind = request_type(request.request_type).label
    text = body.format(org=org.name, kind=kind, note=note)
    await notify(
        request.user_id,
        Event(
            f"warm_request.{step.action}",
            title,
            text[:500],
            "warm_request",
            request.id,
            org.id,
            f"pages/warm/detail?id={request.id}",
            {"status": STATUS_LABELS[request.status], "org": org.name, "note": note or title},
            push=step.actor.kind != "user",
        ),
    )
