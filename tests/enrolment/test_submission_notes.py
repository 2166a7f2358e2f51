"""A resubmission keeps the applicant's first note: each submission's note is kept with its step
and the caseworker reads them all, in order."""

from __future__ import annotations

import httpx

from models.enrolment.tables import Enrolment
from tests.factories.common import bearer, login_staff
from tests.factories.enrolment import apply
from tests.factories.pages import page_session
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, make_staff


async def test_every_submissions_note_is_kept_in_order(stack, api: httpx.AsyncClient) -> None:
    org = await demo_org("湛江市货车司机工会")
    token, _ = await worker_with_profile(api, occupation="truck_driver", platform="huolala")
    enrolment_id = (await apply(api, token, org.id, note="我在货拉拉跑了三年车")).json()["id"]
    caseworker = await make_staff(await demo_org("湛江市总工会"))
    staff_token = await login_staff(api, caseworker.username)
    for note in ("已补充从业证明", "又补充了居住证"):
        returned = await api.post(
            f"/api/v1/admin/enrolments/{enrolment_id}/return", json={"reason": "请补充"}, headers=bearer(staff_token)
        )
        assert returned.status_code == 200, returned.text
        resubmitted = await api.post(
            f"/api/v1/enrolments/{enrolment_id}/resubmit", json={"note": note}, headers=bearer(token)
        )
        assert resubmitted.status_code == 200, resubmitted.text
    assert (await Enrolment.get(id=enrolment_id)).note == "我在货拉拉跑了三年车"
    own = (await api.get(f"/api/v1/enrolments/{enrolment_id}", headers=bearer(token))).json()
    assert own["note"] == "我在货拉拉跑了三年车"
    assert [s["reason"] for s in own["history"] if s["action"] in ("submit", "resubmit")] == [
        "我在货拉拉跑了三年车",
        "已补充从业证明",
        "又补充了居住证",
    ]
    session = await page_session(stack.base_url, caseworker)
    page = (await session.client.get(f"/admin/enrolments/{enrolment_id}")).text
    await session.close()
    notes = page[page.index('<ol class="notes">') : page.index("</ol>", page.index('<ol class="notes">'))]
    positions = [notes.index(text) for text in ("我在货拉拉跑了三年车", "已补充从业证明", "又补充了居住证")]
    assert positions == sorted(positions) and notes.count("重新提交") == 2 and "首次提交" in notes
