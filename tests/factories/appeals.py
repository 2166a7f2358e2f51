"""Workers' demands."""

from __future__ import annotations

import httpx

from tests.factories.common import bearer


async def file_appeal(
    api: httpx.AsyncClient, token: str, org_id: int | None, headers: dict[str, str] | None = None, **overrides: object
) -> httpx.Response:
    body: dict[str, object] = {
        "topic": "delivery_time",
        "content": "高峰期配送时间太短，希望延长",
        "platform": "meituan",
        "anonymous": False,
        **overrides,
    }
    if org_id is not None:
        body["org_id"] = org_id
    return await api.post("/api/v1/appeals", json=body, headers={**bearer(token), **(headers or {})})
