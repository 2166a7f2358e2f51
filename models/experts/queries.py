"""Finding experts."""

from __future__ import annotations

from models.experts.tables import Expert


async def expert_of_user(user_id: int) -> Expert | None:
    """The roster entry a WeChat account is bound to, if it is an active expert's."""
    return await Expert.get_or_none(user_id=user_id, active=True)
