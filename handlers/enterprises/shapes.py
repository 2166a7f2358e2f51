"""What an enterprise looks like over the API, to its contacts and to caseworkers alike."""

from __future__ import annotations

from pydantic import Field

from models.catalogue import INDUSTRIES
from models.enterprises.queries import ContactView
from models.enterprises.tables import ENTERPRISE_STATUS_LABELS, Enterprise, EnterpriseStatus
from models.orgs import org_names
from server.http import LocalTime, Shape


class OrgRef(Shape):
    id: int
    name: str


class EnterpriseOut(Shape):
    id: int
    name: str
    credit_code: str = Field(description="统一社会信用代码（18 位）")
    industry: str = Field(description="行业代码，见 /api/v1/catalogue 的 industries")
    industry_label: str
    org: OrgRef
    address: str
    contact_name: str
    contact_phone: str
    status: EnterpriseStatus = Field(description="pending 待核验 | verified 已核验")
    status_label: str
    verified_at: LocalTime | None
    created_at: LocalTime


class ContactOut(Shape):
    user_id: int
    real_name: str
    joined_at: LocalTime
    invited: bool = Field(description="true：经邀请码加入；false：登记企业的联系人")


async def enterprises_out(enterprises: list[Enterprise]) -> list[EnterpriseOut]:
    names = await org_names({e.org_id for e in enterprises})
    return [
        EnterpriseOut(
            id=e.id,
            name=e.name,
            credit_code=e.credit_code,
            industry=e.industry,
            industry_label=INDUSTRIES.get(e.industry, e.industry),
            org=OrgRef(id=e.org_id, name=names[e.org_id]),
            address=e.address,
            contact_name=e.contact_name,
            contact_phone=e.contact_phone,
            status=e.status,
            status_label=ENTERPRISE_STATUS_LABELS[e.status],
            verified_at=e.verified_at,
            created_at=e.created_at,
        )
        for e in enterprises
    ]


def contact_out(contact: ContactView) -> ContactOut:
    return ContactOut(
        user_id=contact.user_id, real_name=contact.real_name, joined_at=contact.joined_at, invited=contact.invited
    )
