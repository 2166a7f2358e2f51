"""The union tree, for the mini-program: browse level by level or search by name."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.errors import NotFound
from models.orgs import ORG_TYPE_LABELS, Org, OrgType, ancestors, browse, child_counts
from server.auth.guards import client_ip
from server.http import DbId, LocalTime, PageQuery, Shape, documented, parse_query, respond

bp = Blueprint("orgs", url_prefix="/api/v1/orgs")


class OrgQuery(PageQuery):
    parent_id: DbId | None = None
    q: str | None = Field(None, max_length=100, description="按名称搜索")
    accepts_members: bool | None = None


class OrgOut(Shape):
    id: int
    name: str
    org_type: OrgType
    org_type_label: str
    region_code: str
    parent_id: int | None
    depth: int
    accepts_members: bool
    child_count: int
    created_at: LocalTime


class OrgPage(Shape):
    items: list[OrgOut]
    total: int


class OrgPathItem(Shape):
    id: int
    name: str


class OrgDetail(OrgOut):
    path: list[OrgPathItem]


def org_out(org: Org, child_count: int) -> OrgOut:
    return OrgOut(
        id=org.id,
        name=org.name,
        org_type=org.org_type,
        org_type_label=ORG_TYPE_LABELS[org.org_type],
        region_code=org.region_code,
        parent_id=org.parent_id,
        depth=org.depth,
        accepts_members=org.accepts_members,
        child_count=child_count,
        created_at=org.created_at,
    )


@bp.get("")
@documented(
    "工会组织树：按上级逐层浏览（parent_id；都不传为顶层）；传 q 或 accepts_members 而不传 parent_id 时在整棵树中查找",
    tag="orgs",
    query=OrgQuery,
    response=OrgPage,
)
async def list_orgs(request: Request) -> HTTPResponse:
    query = parse_query(request, OrgQuery)
    if query.q:
        await request.app.ctx.limits.org_search.hit(client_ip(request))
    orgs, total = await browse(
        parent_id=query.parent_id,
        q=query.q.strip() if query.q else None,
        accepts_members=query.accepts_members,
        offset=query.offset,
        limit=query.page_size,
    )
    counts = await child_counts([org.id for org in orgs])
    return respond(OrgPage(items=[org_out(org, counts.get(org.id, 0)) for org in orgs], total=total))


@bp.get("/<org_id:int>")
@documented("工会组织详情，含从省总工会到本级的路径", tag="orgs", response=OrgDetail)
async def get_org(request: Request, org_id: int) -> HTTPResponse:
    # The path ends with the org itself: one statement finds both.
    lineage = await ancestors(org_id)
    if not lineage or lineage[-1].id != org_id:
        raise NotFound("org.not_found", "该工会组织不存在", {"org_id": org_id})
    org = lineage[-1]
    counts = await child_counts([org.id])
    path = [OrgPathItem(id=item.id, name=item.name) for item in lineage]
    return respond(OrgDetail(**org_out(org, counts.get(org.id, 0)).model_dump(), path=path))
