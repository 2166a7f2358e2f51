"""Consent, what the sandbox received, and signed WeChat callbacks."""

from __future__ import annotations

import hashlib
import time
import uuid

import httpx

from tests.factories.common import bearer


def signed_callback_params(token: str, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The query WeChat signs a callback with: sha1 over the sorted token, timestamp and nonce."""
    timestamp_text, nonce = str(timestamp or int(time.time())), nonce or uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, timestamp_text, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp_text, "nonce": nonce}


async def consent(api: httpx.AsyncClient, token: str, template_id: str = "sbx-review-result", times: int = 1) -> None:
    for _ in range(times):
        answer = await api.post(
            "/api/v1/me/subscriptions", json={"results": {template_id: "accept"}}, headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text


async def sandbox_messages(sandbox: httpx.AsyncClient, openid: str) -> list[dict]:
    return (await sandbox.get("/_sandbox/messages", params={"touser": openid})).json()["items"]
