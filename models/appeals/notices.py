"""What the worker reads when the union answers their demand or takes it up."""

from __future__ import annotations

from models.appeals.tables import STATUS_LABELS, Appeal
from models.catalogue import APPEAL_TOPICS
from models.kernel.machine import Step
from models.notifications.outbox import Event, notify
from models.orgs import Org

EVENT_TEXT = {
    "reply": ("诉求已获答复", "{org}答复了您关于“{topic}”的诉求：{reply}"),
    "follow_up": ("诉求有新答复", "{org}就您关于“{topic}”的诉求有新答复：{reply}"),
    "take_up": ("诉求已纳入集体协商", "{org}已将您关于“{topic}”的诉求纳入与企业的集体协商。"),
}


async def notice(appeal: Appeal, step: Step, reply: str = "") -> None:
    org = await Org.get(id=appeal.org_id)
    title, body = EVENT_TEXT[step.action]
    topic = APPEAL_TOPICS.get(appeal.topic, appeal.topic)
    await notify(
        appeal.user_id,
        Event(
            f"appeal.{step.action}",
            title,
            body.format(org=org.name, topic=topic, reply=reply),
            "appeal",
            appeal.id,
            # An anonymous demand's notices belong to no union: the union's delivery log (which
            # names the recipient) must not pair the worker with the demand it just answered.
            None if appeal.anonymous else org.id,
            f"pages/appeals/detail?id={appeal.id}",
            {
                "status": STATUS_LABELS[appeal.status],
                "org": org.name,
                "time": step.at.isoformat(),
                "note": reply or title,
            },
        ),
    )
