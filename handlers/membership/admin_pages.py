"""Members: the list (filters, search, paging, export) and a member's detail with card status,
transfers and withdrawal."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from tortoise.queryset import QuerySet

from handlers.pages import (
    EXPORT_ROW_LIMIT,
    args_of,
    listing,
    optional_bool,
    optional_int,
    page_guard,
    render,
    with_query,
    xlsx,
)
from models.catalogue import OCCUPATIONS, PLATFORMS, label_of
from models.desk.saved_filters import saved_by
from models.kernel.permissions import Permission
from models.membership.queries import MemberFilter, member_list
from models.membership.tables import MEMBERSHIP_STATUS_LABELS, Membership, MembershipChange, MembershipStatus
from models.orgs import Org, org_names
from models.profiles.identity import mask_phone
from models.profiles.search import person_match

bp = Blueprint("admin_pages_members")
FILTERS = ("status", "org_id", "gig", "occupation", "platform", "q", "sort")
SORTS = {"-joined_at": "最近入会", "joined_at": "最早入会", "member_no": "会员号"}


async def _filtered(request: Request) -> tuple[dict[str, str], QuerySet[Membership], int]:
    chosen = args_of(request, FILTERS)
    chosen["status"] = chosen["status"] or MembershipStatus.ACTIVE.value
    status = MembershipStatus(chosen["status"]) if chosen["status"] in {s.value for s in MembershipStatus} else None
    query, total = await member_list(
        request.ctx.scope,
        MemberFilter(
            status,
            optional_int(chosen["org_id"]),
            optional_bool(chosen["gig"]),
            chosen["occupation"] or None,
            chosen["platform"] or None,
            chosen["q"] or None,
            person_match(chosen["q"], request.app.ctx.cipher) if chosen["q"] else None,
        ),
    )
    return chosen, query.order_by(chosen["sort"] if chosen["sort"] in SORTS else "-joined_at", "-id"), total


@bp.get("/members")
@page_guard(Permission.MEMBERS_READ)
async def member_page(request: Request) -> HTTPResponse:
    chosen, query, total = await _filtered(request)
    page_of = await listing(request, query, total)
    items = page_of["items"]
    names = await org_names({m.org_id for m in items})
    return render(
        request,
        "admin/members.html",
        **page_of,
        chosen=chosen,
        org_names=names,
        status_labels=MEMBERSHIP_STATUS_LABELS,
        statuses=list(MembershipStatus),
        occupations=OCCUPATIONS,
        platforms=PLATFORMS,
        sorts=SORTS,
        mask_phone=mask_phone,
        label_of=label_of,
        export_url=with_query(request, page=None).replace("/admin/members", "/admin/members/export", 1),
        scoped_org=await Org.get_or_none(id=optional_int(chosen["org_id"])) if chosen["org_id"] else None,
        unscoped_url=with_query(request, org_id=None, page=None),
        saved=await saved_by(request.ctx.staff, "/admin/members"),
        back=with_query(request, notice=None),
        notice=request.args.get("notice", ""),
    )


@bp.get("/members/export")
@page_guard(Permission.MEMBERS_READ)
async def member_export(request: Request) -> HTTPResponse:
    _, query, _ = await _filtered(request)
    items = await query.limit(EXPORT_ROW_LIMIT)
    names = await org_names({m.org_id for m in items})
    rows = (
        [
            m.member_no,
            m.real_name,
            m.id_masked,
            mask_phone(m.phone),
            names.get(m.org_id, ""),
            label_of(OCCUPATIONS, m.occupation),
            label_of(PLATFORMS, m.platform),
            "是" if m.is_gig_worker else "否",
            MEMBERSHIP_STATUS_LABELS[m.status],
            m.joined_at,
        ]
        for m in items
    )
    header = ["会员号", "姓名", "身份证号", "手机号", "所属工会", "职业", "平台", "新就业形态", "状态", "入会时间"]
    return await xlsx(request, "会员名册.xlsx", "会员", header, rows)


@bp.get("/members/<member_id:int>")
@page_guard(Permission.MEMBERS_READ)
async def member_detail(request: Request, member_id: int) -> HTTPResponse:
    member = await request.ctx.scope.get(Membership.all(), id=member_id)
    org = await Org.get(id=member.org_id)
    scope = request.ctx.scope
    history = await scope.restrict(Membership.filter(person_key=member.person_key)).order_by("joined_at")
    orgs = await org_names({m.org_id for m in history})
    changes = await scope.restrict(MembershipChange.filter(membership_id__in=[m.id for m in history])).order_by("-id")
    return render(
        request,
        "admin/member_detail.html",
        member=member,
        org=org,
        history=history,
        orgs=orgs,
        changes=changes,
        status_labels=MEMBERSHIP_STATUS_LABELS,
        phone=mask_phone(member.phone),
        occupation=label_of(OCCUPATIONS, member.occupation),
        platform=label_of(PLATFORMS, member.platform),
    )
