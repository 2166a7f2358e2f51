"""The union tree: browsing, search, subtree queries and the staff scope helper."""

from __future__ import annotations

import httpx
import pytest

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.errors import NotFound
from models.orgs import Org, OrgClosure, ancestors, in_subtree, is_within
from models.scope import StaffScope
from tests.factories.common import assert_error, bearer, login_staff, unique
from tests.factories.unions import demo_org, make_org, make_staff


async def test_browse_from_the_province_down(api: httpx.AsyncClient) -> None:
    roots = (await api.get("/api/v1/orgs")).json()
    assert [item["name"] for item in roots["items"]] == ["广东省总工会"]
    province = roots["items"][0]
    assert province["child_count"] >= 4
    cities = (await api.get("/api/v1/orgs", params={"parent_id": province["id"], "page_size": 100})).json()
    names = {item["name"] for item in cities["items"]}
    assert {"深圳市总工会", "佛山市总工会", "中山市总工会", "湛江市总工会"} <= names
    assert all(
        item["org_type"] == "city" and item["org_type_label"] == "市总工会"
        for item in cities["items"]
        if item["name"] in {"深圳市总工会", "中山市总工会"}
    )


async def test_search_by_name_within_a_subtree_and_by_membership(api: httpx.AsyncClient) -> None:
    zhanjiang = await demo_org("湛江市总工会")
    found = (await api.get("/api/v1/orgs", params={"q": "总工会", "parent_id": zhanjiang.id, "page_size": 100})).json()
    names = {item["name"] for item in found["items"]}
    assert names == {"湛江市总工会", "徐闻县总工会", "雷州市总工会", "霞山区总工会"}

    # Other tests add unions that accept members, so the searches name the demo's own.
    async def accepting(q: str) -> dict:
        return (await api.get("/api/v1/orgs", params={"q": q, "accepts_members": "true", "page_size": 100})).json()

    county = await accepting("徐闻")
    assert county["total"] == len(county["items"]) == 1 and county["items"][0]["accepts_members"]
    assert "湛江市总工会" not in {item["name"] for item in (await accepting("湛江市总工会"))["items"]}


async def test_paging_is_consistent(api: httpx.AsyncClient) -> None:
    everything = (await api.get("/api/v1/orgs", params={"q": "工会", "page_size": 100})).json()
    first = (await api.get("/api/v1/orgs", params={"q": "工会", "page_size": 3, "page": 1})).json()
    second = (await api.get("/api/v1/orgs", params={"q": "工会", "page_size": 3, "page": 2})).json()
    assert first["total"] == second["total"] == everything["total"]
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in everything["items"][:6]]


async def test_org_detail_has_its_path(api: httpx.AsyncClient) -> None:
    gaoming_company = await demo_org("广东坚派新材料有限公司工会")
    detail = (await api.get(f"/api/v1/orgs/{gaoming_company.id}")).json()
    assert [step["name"] for step in detail["path"]] == [
        "广东省总工会",
        "佛山市总工会",
        "高明区总工会",
        "荷城街道总工会",
        "广东坚派新材料有限公司工会",
    ]
    assert_error(await api.get("/api/v1/orgs/999999999"), 404, "org.not_found")


async def test_closure_answers_subtrees_at_every_depth(stack) -> None:
    zhongshan = await demo_org("中山市总工会")
    town = await make_org(zhongshan, name=unique("测试镇街工会"))
    grassroots = await make_org(town)
    assert await is_within(zhongshan.id, grassroots.id)
    assert not await is_within(grassroots.id, zhongshan.id)
    assert await OrgClosure.filter(descendant_id=grassroots.id).count() == grassroots.depth + 1
    assert [org.id for org in await ancestors(grassroots.id)][-3:] == [zhongshan.id, town.id, grassroots.id]
    subtree_ids = set(await in_subtree(Org.all(), zhongshan.id, "id").values_list("id", flat=True))
    shenzhen = await demo_org("深圳市总工会")
    assert {zhongshan.id, town.id, grassroots.id} <= subtree_ids
    assert shenzhen.id not in subtree_ids


async def test_scope_confines_a_zhongshan_caseworker(stack) -> None:
    zhongshan, shenzhen = await demo_org("中山市总工会"), await demo_org("深圳市总工会")
    caseworker = await make_staff(zhongshan)
    scope = StaffScope.of(caseworker)
    inside = await make_org(zhongshan)
    outside = await make_org(shenzhen)
    assert (await scope.get(Org.all(), id=inside.id)).id == inside.id
    with pytest.raises(NotFound):
        await scope.get(Org.all(), id=outside.id)
    visible = set(await scope.restrict(Org.all()).values_list("id", flat=True))
    assert inside.id in visible and outside.id not in visible and shenzhen.id not in visible
    superadmin = await make_staff(await demo_org("广东省总工会"), StaffRole.SUPERADMIN)
    assert (await StaffScope.of(superadmin).get(Org.all(), id=outside.id)).id == outside.id


async def test_audit_log_is_confined_to_the_subtree(api: httpx.AsyncClient) -> None:
    zhongshan, shenzhen = await demo_org("中山市总工会"), await demo_org("深圳市总工会")
    zhongshan_worker = await make_staff(zhongshan)
    await login_staff(api, zhongshan_worker.username)
    shenzhen_admin = await make_staff(shenzhen, StaffRole.UNION_ADMIN)
    token = await login_staff(api, shenzhen_admin.username)
    seen = (await api.get("/api/v1/admin/audit", headers=bearer(token), params={"page_size": 100})).json()
    assert seen["total"] > 0
    assert all(item["org_id"] != zhongshan.id for item in seen["items"])
    assert not any(item["actor_name"] == zhongshan_worker.username for item in seen["items"])
    own = (
        await api.get(
            "/api/v1/admin/audit",
            headers=bearer(token),
            params={"actor": shenzhen_admin.username, "action": "staff.login"},
        )
    ).json()
    assert own["total"] == 1 and own["items"][0]["ip"] == "127.0.0.1"
    assert await AuditEntry.exists(actor_name=zhongshan_worker.username, action="staff.login")


async def test_accepts_members_alone_searches_the_whole_tree(api: httpx.AsyncClient) -> None:
    """The mini-program's "which union can I join": no parent, only the filter."""
    joinable = (await api.get("/api/v1/orgs", params={"accepts_members": "true", "page_size": 100})).json()
    names = {item["name"] for item in joinable["items"]}
    assert "中山市新就业形态劳动者工会联合会" in names
    assert all(item["accepts_members"] for item in joinable["items"])
    assert joinable["total"] == await Org.filter(accepts_members=True).count()
    top = (await api.get("/api/v1/orgs")).json()
    assert [item["name"] for item in top["items"]] == ["广东省总工会"]
