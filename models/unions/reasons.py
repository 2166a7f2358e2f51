"""Preset reasons (常用原因): the texts a union keeps ready for its caseworkers forms, so that a
rejection or a return reads the same across the team and takes one click.

Each union keeps its own list per kind. A union with no reasons of a kind uses the list of its
nearest ancestor that has one, whole: a city's list serves every district and street below it
until one of them writes its own, which then replaces it (lists are not merged, so a union can
drop a reason it does not want). The province's list is the default for everyone.

Union admins keep the lists of their subtree (`admin:preset_reasons:manage`); every change is
audited. Caseworkers only read them, on the forms of cases of their subtree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.errors import Invalid
from models.orgs import Org, OrgClosure
from models.scope import StaffScope
from models.unions.tables import PresetReason

MAX_REASONS = 30
MAX_LENGTH = 200


class ReasonKind(StrEnum):
    REJECT = "reject"
    RETURN = "return"
    OTHER = "other"


KIND_LABELS = {
    ReasonKind.REJECT: "驳回原因",
    ReasonKind.RETURN: "退回补充原因",
    ReasonKind.OTHER: "其他原因（取消、上报等）",
}


@dataclass(frozen=True)
class ReasonList:
    kind: ReasonKind
    own: list[PresetReason]
    inherited: list[str]
    inherited_from: Org | None


async def _nearest(org_id: int, kind: ReasonKind) -> tuple[int | None, list[str]]:
    """The texts of the nearest union at or above `org_id` that has reasons of `kind`."""
    distances = dict(await OrgClosure.filter(descendant_id=org_id).values_list("ancestor_id", "distance"))
    rows = (
        await PresetReason.filter(kind=kind, org_id__in=list(distances))
        .order_by("position", "id")
        .values_list("org_id", "text")
    )
    if not rows:
        return None, []
    source = min({org for org, _ in rows}, key=lambda org: distances[org])
    return source, [text for org, text in rows if org == source]


async def reasons_for(org_id: int, kind: ReasonKind) -> list[str]:
    """What a case of `org_id` offers on its form for `kind`: the union's own list, else its
    nearest ancestor's."""
    return (await _nearest(org_id, kind))[1]


async def lists_of(scope: StaffScope, org_id: int) -> list[ReasonList]:
    """For the admin page: per kind, the union's own reasons and what it inherits when it has none."""
    await scope.require(org_id)
    found = []
    for kind in ReasonKind:
        own = await PresetReason.filter(org_id=org_id, kind=kind).order_by("position", "id")
        source, texts = (None, []) if own else await _nearest(org_id, kind)
        found.append(ReasonList(kind, own, texts, await Org.get(id=source) if source is not None else None))
    return found


async def _audit(actor: Actor, action: str, reason_id: int, org_id: int, **change: dict[str, object]) -> None:
    await record(actor, action, object_type="preset_reason", object_id=reason_id, org_id=org_id, **change)


def _text(text: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_LENGTH:
        raise Invalid("reason.text", f"原因须为 1 到 {MAX_LENGTH} 个字", {"field": "text"})
    return text


def _kind(kind: str) -> ReasonKind:
    if kind not in set(ReasonKind):
        raise Invalid("reason.kind", "原因类别无效", {"field": "kind"})
    return ReasonKind(kind)


async def add(scope: StaffScope, org_id: int, kind: str, text: str, actor: Actor) -> PresetReason:
    await scope.require(org_id)
    chosen, text = _kind(kind), _text(text)
    async with in_transaction():
        # Lock the union's row: two admins adding at once get distinct positions and the cap holds.
        await Org.filter(id=org_id).select_for_update().first()
        siblings = PresetReason.filter(org_id=org_id, kind=chosen)
        if await siblings.count() >= MAX_REASONS:
            raise Invalid("reason.too_many", f"每类最多 {MAX_REASONS} 条常用原因", {"field": "text"})
        last = await siblings.order_by("-position").first()
        created = await PresetReason.create(
            org_id=org_id, kind=chosen, text=text, position=(last.position + 1) if last else 0
        )
        await _audit(actor, "reason.add", created.id, org_id, after={"kind": chosen.value, "text": text})
    return created


async def edit(scope: StaffScope, reason_id: int, text: str, actor: Actor) -> PresetReason:
    text = _text(text)
    async with in_transaction():
        reason = await scope.get(PresetReason.all().select_for_update(), id=reason_id)
        before = reason.text
        reason.text = text
        await reason.save(update_fields=["text", "updated_at"])
        await _audit(actor, "reason.edit", reason.id, reason.org_id, before={"text": before}, after={"text": text})
    return reason


async def delete(scope: StaffScope, reason_id: int, actor: Actor) -> None:
    async with in_transaction():
        reason = await scope.get(PresetReason.all().select_for_update(), id=reason_id)
        await reason.delete()
        await _audit(
            actor, "reason.delete", reason_id, reason.org_id, before={"kind": reason.kind, "text": reason.text}
        )


async def move(scope: StaffScope, reason_id: int, up: bool, actor: Actor) -> None:
    """Swap the reason with its neighbour above (`up`) or below; at either end nothing moves."""
    async with in_transaction():
        reason = await scope.get(PresetReason.all().select_for_update(), id=reason_id)
        siblings = await (
            PresetReason.filter(org_id=reason.org_id, kind=reason.kind).select_for_update().order_by("position", "id")
        )
        index = [r.id for r in siblings].index(reason.id)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(siblings):
            return
        siblings[index], siblings[other] = siblings[other], siblings[index]
        for position, sibling in enumerate(siblings):
            if sibling.position != position:
                sibling.position = position
                await sibling.save(update_fields=["position", "updated_at"])
        await _audit(
            actor, "reason.move", reason.id, reason.org_id, before={"position": index}, after={"position": other}
        )
