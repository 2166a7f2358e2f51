"""Workers with help requests."""

from __future__ import annotations

import httpx

from tests.factories.common import bearer, login_worker

LEGAL_AID = {
    "type": "legal_aid",
    "description": "平台拖欠我三个月的配送费",
    "fields": {"dispute_kind": "unpaid_wages", "employer": "某配送站", "amount_owed": 8600, "since": "2026-08-01"},
    "location": {"lat": 22.517, "lng": 113.392},
}


async def help_request(api: httpx.AsyncClient, org_id: int, **overrides: object) -> tuple[str, dict]:
    """A worker who asked `org_id` for legal aid; (token, the request as answered)."""
    token, _ = await login_worker(api)
    answer = await api.post(
        "/api/v1/warm-requests", json={**LEGAL_AID, "org_id": org_id, **overrides}, headers=bearer(token)
    )
    assert answer.status_code == 201, answer.text
    return token, answer.json()
