"""The electronic member card: a signed, expiring payload that partners verify."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.membership.tables import Membership, MembershipStatus
from models.orgs import Org
from models.profiles.identity import mask_name
from server.clock import SHANGHAI, now
from server.crypto import CardSigner


def issue_card(signer: CardSigner, membership: Membership, org: Org, ttl_seconds: int) -> dict[str, object]:
    issued = now()
    expires = issued + timedelta(seconds=ttl_seconds)
    claims = {
        "v": 1,
        "mid": membership.id,
        "no": membership.member_no,
        "name": mask_name(membership.real_name),
        "org": org.name,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return {
        "member_no": membership.member_no,
        "holder": claims["name"],
        "org_name": org.name,
        "issued_at": issued,
        "expires_at": expires,
        "qr_payload": signer.sign(claims),
    }


async def verify_card(signer: CardSigner, payload: str) -> dict[str, object]:
    """A verdict a rest station can act on, revealing only the masked name and the union."""
    claims = signer.verify(payload.strip())
    if claims is None or claims.get("v") != 1:
        return {"valid": False, "code": "card.forged", "message": "会员卡无效：签名校验失败"}
    expires_at = datetime.fromtimestamp(int(claims["exp"]), SHANGHAI)  # type: ignore[arg-type]
    if expires_at <= now():
        return {"valid": False, "code": "card.expired", "message": "会员卡二维码已过期，请会员刷新后重新出示"}
    membership = await Membership.get_or_none(id=claims["mid"])
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        return {"valid": False, "code": "card.not_current", "message": "该会员资格已失效"}
    return {
        "valid": True,
        "code": "card.valid",
        "message": "会员卡有效",
        "holder": claims["name"],
        "org_name": claims["org"],
        "expires_at": expires_at.isoformat(),
    }
