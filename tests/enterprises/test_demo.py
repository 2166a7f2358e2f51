"""The demo's enterprises and roster, as a newcomer's `make run` shows them."""

from __future__ import annotations

import httpx

from models.accounts import User
from models.enterprises.tables import Enterprise, EnterpriseContact, EnterpriseStatus
from models.experts.tables import Expert
from tests.conftest import DEMO_PASSWORD
from tests.factories.common import bearer, login_staff, login_worker


async def test_the_gaoming_story_is_there(api: httpx.AsyncClient) -> None:
    jianpai = await Enterprise.get(name="广东坚派新材料有限公司")
    assert jianpai.status == EnterpriseStatus.VERIFIED and jianpai.industry == "new_materials"
    contact = await EnterpriseContact.get(enterprise_id=jianpai.id)
    assert (await User.get(id=contact.user_id)).openid == "sandbox-zhang-yuying"

    zhang = await Expert.get(name="张国明")
    assert (zhang.years, zhang.patents_us_invention, zhang.patents_cn_invention) == (29, 3, 12)
    assert (zhang.standards_national, zhang.standards_group, zhang.max_active_orders) == (2, 10, 3)
    assert await Expert.filter(max_active_orders=1).exists()
    assert await Expert.filter(employer_enterprise_id__not_isnull=True).exists()

    # 张国明 logs in through the sandbox as the bound expert.
    token, login = await login_worker(api, "zhang-guoming")
    assert "expert" in login["user"]["roles"]
    assert (await api.get("/api/v1/expert/me", headers=bearer(token))).json()["id"] == zhang.id
    # 高明's union admin finds him by industry and skill.
    admin = await login_staff(api, "gaoming", DEMO_PASSWORD)
    found = await api.get(
        "/api/v1/admin/experts", params={"industry": "new_materials", "skill": "pdca"}, headers=bearer(admin)
    )
    assert zhang.id in [item["id"] for item in found.json()["items"]]
