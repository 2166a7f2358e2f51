"""A real headless Chromium (Debian's, at /usr/bin/chromium) driven by Playwright."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without these, Chromium reaches for Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


# The caseworkers' screens: a desk at 1366×768 and a tablet held upright.
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "tablet": {"width": 768, "height": 1024}}
DESK_SCREEN = {"viewport": VIEWPORTS["desktop"], "locale": "zh-CN", "accept_downloads": True}


@pytest.fixture
async def context(browser: Browser, stack) -> AsyncIterator[BrowserContext]:
    created = await browser.new_context(base_url=stack.base_url, **DESK_SCREEN)
    yield created
    await created.close()


@pytest.fixture
async def no_script(browser: Browser, stack) -> AsyncIterator[BrowserContext]:
    """The same screen with JavaScript off: the essentials must work without it."""
    created = await browser.new_context(base_url=stack.base_url, java_script_enabled=False, **DESK_SCREEN)
    yield created
    await created.close()


@pytest.fixture
def screenshots(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "screenshots"
    path.mkdir(exist_ok=True)
    return path


async def log_in(page: Page, username: str, password: str) -> None:
    await page.goto("/admin/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()


# axe-core as the PyPI package axe-playwright-python ships it (the test extra): injected into the
# page from the test environment, never fetched from a CDN.
AXE = Axe()
SEVERE = {"serious", "critical"}


async def accessibility_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is, one line per element."""
    results = await AXE.run(page, options={"resultTypes": ["violations"]})
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in SEVERE
        for node in violation["nodes"]
    ]


async def list_total(page: Page) -> int:
    """The row count a list page states in its pager ("共 N 条")."""
    return int(re.search(r"共 (\d+) 条", await page.inner_text("nav.pager")).group(1))  # type: ignore[union-attr]


async def desk_cards(page: Page) -> dict[str, tuple[int, str]]:
    """The desk's queue cards on the page: label -> (count shown, the list it links to)."""
    cards = page.locator("main a.queue")
    found = {}
    for index in range(await cards.count()):
        card = cards.nth(index)
        label = await card.locator("span").inner_text()
        found[label] = (int(await card.locator("strong").inner_text()), await card.get_attribute("href") or "")
    return found
