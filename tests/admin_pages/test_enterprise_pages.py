"""企业核验 in Chromium: the pending list, a search, an enterprise's contacts, and verification
with a confirmation that names the enterprise."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import BrowserContext, Dialog

from models.audit import AuditEntry
from models.enterprises.tables import Enterprise, EnterpriseStatus
from tests.admin_pages.conftest import log_in
from tests.factories.common import STAFF_PASSWORD
from tests.factories.enterprises import enterprise_with_contact
from tests.factories.unions import demo_org, make_org, make_staff


async def test_a_caseworker_verifies_an_enterprise_from_the_list(
    api: httpx.AsyncClient, context: BrowserContext, screenshots: Path
) -> None:
    org = await make_org(await demo_org("高明区总工会"))
    _, enterprise = await enterprise_with_contact(api, org.id)
    _, other = await enterprise_with_contact(api, org.id)
    caseworker = await make_staff(org)
    page = await context.new_page()
    await log_in(page, caseworker.username, STAFF_PASSWORD)
    await page.click("nav >> text=企业核验")
    await page.wait_for_selector("h1 >> text=企业核验")
    listed = await page.locator("table.list tbody").inner_text()
    assert enterprise["name"] in listed and other["name"] in listed
    # Search by credit code, typed in lower case.
    await page.fill("input[name=q]", enterprise["credit_code"].lower())
    await page.click("form.filters button")
    rows = page.locator("table.list tbody tr")
    assert await rows.count() == 1 and enterprise["name"] in await rows.inner_text()
    await page.screenshot(path=screenshots / "enterprises.png", full_page=True)

    # Declining the confirmation changes nothing; accepting it verifies.
    asked: list[str] = []

    async def decline(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    page.once("dialog", decline)
    await rows.locator("button", has_text="核验通过").click()
    assert enterprise["name"] in asked[0] and enterprise["credit_code"] in asked[0]
    assert (await Enterprise.get(id=enterprise["id"])).status == EnterpriseStatus.PENDING

    page.once("dialog", lambda dialog: dialog.accept())
    await rows.locator("button", has_text="核验通过").click()
    await page.wait_for_selector("text=已核验通过")
    assert (await Enterprise.get(id=enterprise["id"])).status == EnterpriseStatus.VERIFIED
    assert await AuditEntry.exists(action="enterprise.verify", object_id=str(enterprise["id"]), actor_id=caseworker.id)
    # Back on the same pending list, which no longer has it.
    assert "status=pending" in page.url and enterprise["name"] not in await page.locator("table.list").inner_text()

    # The detail page shows the contact, and no verify button any more.
    await page.goto(f"/admin/enterprises/{enterprise['id']}")
    assert "登记企业" in await page.locator("section.card", has_text="企业联系人").inner_text()
    assert await page.locator("button", has_text="核验通过").count() == 0
    await page.screenshot(path=screenshots / "enterprise-detail.png", full_page=True)

    # Verified from its own page too; another union's caseworker is told it does not exist.
    await page.goto(f"/admin/enterprises/{other['id']}")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("button:has-text('核验通过')")
    await page.wait_for_selector("text=已核验通过")
    assert (await Enterprise.get(id=other["id"])).status == EnterpriseStatus.VERIFIED
    outsider = await make_staff(await demo_org("湛江市总工会"))
    elsewhere = await context.browser.new_context(base_url=page.url.split("/admin")[0])  # type: ignore[union-attr]
    other_page = await elsewhere.new_page()
    await log_in(other_page, outsider.username, STAFF_PASSWORD)
    answer = await other_page.goto(f"/admin/enterprises/{enterprise['id']}")
    assert answer is not None and answer.status == 404
    await elsewhere.close()
