"""What a roster entry looks like over the API, to union staff and to the expert alike."""

from __future__ import annotations

from pydantic import Field

from models.catalogue import EXPERT_TITLES, INDUSTRIES, SKILLS
from models.experts.tables import Expert
from models.orgs import org_names
from server.http import LocalTime, Shape


class Patents(Shape):
    us_invention: int = Field(0, ge=0, le=10_000, description="美国发明专利")
    cn_invention: int = Field(0, ge=0, le=10_000, description="中国发明专利")
    utility_model: int = Field(0, ge=0, le=10_000, description="实用新型专利")


class Standards(Shape):
    national: int = Field(0, ge=0, le=10_000, description="参与制定的国家标准")
    group: int = Field(0, ge=0, le=10_000, description="参与制定的团体标准")


class Labelled(Shape):
    code: str
    label: str


class OrgRef(Shape):
    id: int
    name: str


class ExpertOut(Shape):
    id: int
    name: str
    org: OrgRef
    titles: list[Labelled]
    industries: list[Labelled]
    skills: list[Labelled]
    years: int
    patents: Patents
    standards: Standards
    regions: list[OrgRef] = Field(description="服务区域（工会组织）")
    max_active_orders: int
    bio: str
    employer_enterprise_id: int | None = Field(description="任职企业（向该企业派单存在利益冲突）")
    active: bool
    bound: bool = Field(description="是否已绑定微信账号")
    invite_expires_at: LocalTime | None = Field(description="未绑定时，当前邀请码的失效时间")
    created_at: LocalTime
    updated_at: LocalTime


def _labelled(codes: list[str], choices: dict[str, str]) -> list[Labelled]:
    return [Labelled(code=code, label=choices.get(code, code)) for code in codes]


async def experts_out(experts: list[Expert]) -> list[ExpertOut]:
    org_ids = {e.org_id for e in experts} | {region for e in experts for region in e.regions}
    names = await org_names(org_ids)
    return [
        ExpertOut(
            id=e.id,
            name=e.name,
            org=OrgRef(id=e.org_id, name=names[e.org_id]),
            titles=_labelled(e.titles, EXPERT_TITLES),
            industries=_labelled(e.industries, INDUSTRIES),
            skills=_labelled(e.skills, SKILLS),
            years=e.years,
            patents=Patents(
                us_invention=e.patents_us_invention,
                cn_invention=e.patents_cn_invention,
                utility_model=e.patents_utility_model,
            ),
            standards=Standards(national=e.standards_national, group=e.standards_group),
            regions=[OrgRef(id=r, name=names[r]) for r in e.regions if r in names],
            max_active_orders=e.max_active_orders,
            bio=e.bio,
            employer_enterprise_id=e.employer_enterprise_id,
            active=e.active,
            bound=e.user_id is not None,
            invite_expires_at=None if e.user_id is not None else e.invite_expires_at,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )
        for e in experts
    ]
