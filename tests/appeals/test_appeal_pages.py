"""The caseworkers' demands page: list and tally of the subtree, anonymity, reply and take-up
through the forms (with CSRF), and 404 outside the subtree."""

from __future__ import annotations

import httpx

from models.appeals.tables import Appeal
from models.orgs import OrgType
from tests.factories.appeals import file_appeal
from tests.factories.common import STAFF_PASSWORD, bearer, login_worker
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, make_org, make_staff


async def test_the_page_lists_tallies_replies_and_takes_up(api: httpx.AsyncClient, stack) -> None:
    org = await make_org(await demo_org("中山市总工会"), org_type=OrgType.PLATFORM)
    elsewhere = await make_org(await demo_org("深圳市总工会"))
    token, profile = await worker_with_profile(api, real_name="邝志明")
    hidden = (await file_appeal(api, token, org.id, anonymous=True, content="匿名的诉求内容")).json()["id"]
    named = (await file_appeal(api, token, org.id, topic="rest", platform="eleme")).json()["id"]
    other_token, _ = await login_worker(api)
    outside = (await file_appeal(api, other_token, elsewhere.id)).json()["id"]

    staff = await make_staff(org)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=20, follow_redirects=False) as page:
        opened = await page.post(
            "/api/v1/admin/auth/session", json={"username": staff.username, "password": STAFF_PASSWORD}
        )
        csrf = opened.json()["csrf_token"]
        listed = await page.get("/admin/appeals")
        assert listed.status_code == 200, listed.text
        html = listed.text
        hidden_row = html[html.index(f'id="appeal-{hidden}"') :].split("</tr>")[0]
        assert "匿名的诉求内容" in hidden_row and "匿名" in hidden_row and "邝志明" not in hidden_row
        assert profile["phone"][-4:] not in hidden_row
        named_row = html[html.index(f'id="appeal-{named}"') :].split("</tr>")[0]
        assert "邝志明" in named_row
        assert f'id="appeal-{outside}"' not in html
        tally = html[html.index('id="tally"') :].split("</table>")[0]
        assert "<th>2</th>" in tally  # the total of the two demands in the subtree

        missing = await page.post(f"/admin/appeals/{hidden}/reply", data={"content": "无令牌"})
        assert missing.status_code == 403
        replied = await page.post(f"/admin/appeals/{hidden}/reply", data={"content": "已转平台", "csrf_token": csrf})
        assert replied.status_code == 302 and "notice=reply" in replied.headers["location"]
        taken = await page.post(f"/admin/appeals/{hidden}/take-up", data={"csrf_token": csrf})
        assert "notice=take-up" in taken.headers["location"]
        again = await page.post(f"/admin/appeals/{hidden}/take-up", data={"csrf_token": csrf})
        assert "notice=appeal.invalid_transition" in again.headers["location"]
        foreign = await page.post(f"/admin/appeals/{outside}/take-up", data={"csrf_token": csrf})
        assert foreign.status_code == 404
    assert (await Appeal.get(id=hidden)).status == "taken_up"
    assert (await Appeal.get(id=outside)).status == "submitted"
    own = (await api.get(f"/api/v1/appeals/{hidden}", headers=bearer(token))).json()
    assert [reply["content"] for reply in own["replies"]] == ["已转平台"]
