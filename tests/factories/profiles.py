"""Workers with profiles: valid ID numbers and phones."""

from __future__ import annotations

import random

import httpx

from tests.factories.common import bearer, login_worker


def make_id_number(region: str = "442000", born: str | None = None) -> str:
    """A valid, random 18-character national ID number."""
    from models.profiles.identity import id_check_char

    born = born or f"{random.randint(1965, 2004)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    first17 = f"{region}{born}{random.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def make_phone() -> str:
    return f"13{random.randint(0, 9)}{random.randint(0, 10**8 - 1):08d}"


def profile_body(**overrides: object) -> dict:
    body = {
        "real_name": "张余英",
        "id_number": make_id_number(),
        "phone": make_phone(),
        "occupation": "delivery_rider",
        "platform": "meituan",
        "city": "中山市",
        "district": "东区",
    }
    body.update(overrides)
    return body


async def worker_with_profile(api: httpx.AsyncClient, **overrides: object) -> tuple[str, dict]:
    """A logged-in worker with a saved profile; returns (token, the profile body sent)."""
    token, _ = await login_worker(api)
    body = profile_body(**overrides)
    answer = await api.put("/api/v1/me/profile", json=body, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return token, body
