"""Membership for workers (card, transfer, withdrawal) and the public member-card check."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.errors import NotFound
from models.membership.actions import request_change
from models.membership.card import issue_card, verify_card
from models.membership.queries import active_membership
from models.membership.tables import MEMBERSHIP_STATUS_LABELS, ChangeKind, ChangeStatus, MembershipStatus
from models.orgs import Org
from server.auth.guards import client_ip, worker_required
from server.http import DbId, LocalTime, Shape, documented, parse_body, respond
from server.idempotency import idempotent

bp = Blueprint("membership", url_prefix="/api/v1")


class OrgRef(Shape):
    id: int
    name: str


class CardOut(Shape):
    member_no: str
    holder: str = Field(description="脱敏姓名")
    org_name: str
    issued_at: LocalTime
    expires_at: LocalTime
    qr_payload: str = Field(description="服务器签名（Ed25519）的二维码内容，过期前有效")


class MembershipOut(Shape):
    member_no: str
    org: OrgRef
    status: MembershipStatus
    status_label: str
    joined_at: LocalTime
    card: CardOut


class TransferIn(Shape):
    org_id: DbId
    reason: str = Field("", max_length=200)


class WithdrawalIn(Shape):
    reason: str = Field("", max_length=200)


class ChangeOut(Shape):
    id: int
    kind: ChangeKind
    status: ChangeStatus
    target_org_id: int | None
    reason: str
    created_at: LocalTime


class VerifyIn(Shape):
    payload: str = Field(max_length=2000)


class VerifyOut(Shape):
    valid: bool
    code: str
    message: str
    holder: str | None = None
    org_name: str | None = None
    expires_at: str | None = None


class PublicKeyOut(Shape):
    algorithm: str
    public_key: str
    format: str


@bp.get("/me/membership")
@documented(
    "我的会员资格与电子会员卡；入会审核通过前为 404", tag="membership", response=MembershipOut, secured="worker"
)
@worker_required
async def my_membership(request: Request) -> HTTPResponse:
    membership = await active_membership(request.ctx.user.id)
    if membership is None:
        raise NotFound("membership.not_found", "您还不是工会会员，入会申请通过后即可查看会员卡")
    org = await Org.get(id=membership.org_id)
    card = issue_card(request.app.ctx.card_signer, membership, org, request.app.ctx.settings.member_card_ttl_seconds)
    return respond(
        MembershipOut(
            member_no=membership.member_no,
            org=OrgRef(id=org.id, name=org.name),
            status=membership.status,
            status_label=MEMBERSHIP_STATUS_LABELS[membership.status],
            joined_at=membership.joined_at,
            card=CardOut(**card),
        )
    )


@bp.post("/me/membership/transfer")
@documented(
    "申请转会，由接收工会审核", tag="membership", body=TransferIn, response=ChangeOut, status=201, secured="worker"
)
@worker_required
@idempotent
async def transfer(request: Request) -> HTTPResponse:
    body = parse_body(request, TransferIn)
    change = await request_change(request.ctx.user, ChangeKind.TRANSFER, body.org_id, body.reason, request.ctx.actor)
    return respond(ChangeOut.model_validate(change), status=201)


@bp.post("/me/membership/withdrawal")
@documented(
    "申请退会，由所在工会审核", tag="membership", body=WithdrawalIn, response=ChangeOut, status=201, secured="worker"
)
@worker_required
@idempotent
async def withdrawal(request: Request) -> HTTPResponse:
    body = parse_body(request, WithdrawalIn)
    change = await request_change(request.ctx.user, ChangeKind.WITHDRAWAL, None, body.reason, request.ctx.actor)
    return respond(ChangeOut.model_validate(change), status=201)


@bp.post("/member-cards/verify")
@documented(
    "核验电子会员卡（驿站、合作方使用）：只返回脱敏姓名与所属工会", tag="membership", body=VerifyIn, response=VerifyOut
)
async def verify(request: Request) -> HTTPResponse:
    await request.app.ctx.limits.card_verify.hit(client_ip(request))
    body = parse_body(request, VerifyIn)
    return respond(VerifyOut(**await verify_card(request.app.ctx.card_signer, body.payload)))


@bp.get("/member-cards/public-key")
@documented("会员卡签名公钥，供离线核验", tag="membership", response=PublicKeyOut)
async def public_key(request: Request) -> HTTPResponse:
    return respond(
        PublicKeyOut(
            algorithm="Ed25519",
            public_key=request.app.ctx.card_signer.public_key_base64,
            format="base64url(JSON claims) + '.' + base64url(Ed25519 signature over the first part); "
            "claims: v, mid, no, name (masked), org, iat, exp (Unix seconds)",
        )
    )
