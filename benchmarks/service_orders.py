"""Service orders (issue 10): the candidates call on a roster of 5,000 experts, and a report of
1,000 items saved and read back, through the real server under wrk, beside a bare Sanic + asyncpg
app doing the same work, in the same run.

    .venv/bin/python -m benchmarks.service_orders [--database-url postgres://...] [--seconds 10]

It makes its own database beside the one named (and drops it at the end), applies the migrations,
loads the city of `benchmarks.enrolment_scale` (10,760 unions), starts the WeChat sandbox, the
server (one worker, PostgreSQL + Redis) and the bare app; sets up through the real API a
caseworker and a union admin at the city's root, an enterprise registered by a worker and
verified, its order, and an expert bound to WeChat who accepts it and saves a report of 1,000
items; then loads 4,999 more experts with COPY (with the orders in their hands, past ratings,
engagements and employers that matching reads). It checks that both sides give the same answer,
times one request alone on each, loads each endpoint with wrk (64 connections) and prints
requests per second, p50/p99 and the ratio to the bare app. It exits 0 whether or not the server
is fast, non-zero only when something broke. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from benchmarks.common import BenchmarkRun, asyncpg_url, run_or_serve
from benchmarks.enrolment_scale import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    BenchmarkError,
    City,
    machine_facts,
    markdown_table,
)
from benchmarks.warm_services import load_city, weighted
from benchmarks.wrk import WrkResult, run_wrk
from models.catalogue import EXPERT_TITLES, INDUSTRIES, OTHER, SKILLS
from models.orgs import OrgType
from models.service_orders.matching import (
    BUSY_AT_COMPETITOR,
    EXPERT_COLUMNS,
    OrderFacts,
    Tie,
    rank,
)
from models.service_orders.report.items import check_items
from models.service_orders.report.summary import Scored, summarise
from models.service_orders.tables import (
    ITEM_STATUS_LABELS,
    REPORT_AREA_LABELS,
    ItemStatus,
    OrderStatus,
    ReportArea,
)
from server.clock import SHANGHAI
from tests.factories.common import bearer
from tests.factories.enterprises import bound_expert, enterprise_with_contact
from tests.factories.service_orders import order_body

ROSTER = 5_000
REPORT_ITEMS = 1_000
SINGLE_CALLS = 10
CASEWORKER = ("bench-orders-caseworker", "bench-orders-caseworker-2025")
UNION_ADMIN = ("bench-orders-admin", "bench-orders-admin-2025")
RIVALS = 400  # other enterprises in the city, in every industry: the orders and engagements of experts
ORDER_INDUSTRY = "new_materials"
ORDER_SKILLS = ["factory_audit", "quality_system"]

INDUSTRY_CODES = [code for code in INDUSTRIES if code != OTHER]
# How many orders an expert takes at once, and how many they hold now: about one in seven is full.
CAPACITY_MIX = ((1, 0.2), (2, 0.45), (3, 0.25), (4, 0.1))
LOAD_MIX = ((0, 0.55), (1, 0.25), (2, 0.13), (3, 0.07))
BUSY_MIX = ((OrderStatus.OFFERED, 0.2), (OrderStatus.ACCEPTED, 0.3), (OrderStatus.IN_PROGRESS, 0.5))
DEPARTMENTS = ("品质部", "研发部", "生产部", "仓储部", "采购部", "设备部", "人事行政部", "销售部", "")
GUIDANCE = (
    "建立来料检验标准与记录表，按批次抽检并留存记录；",
    "关键工序编写标准作业指导书，张贴在工位并培训到人；",
    "校准计量器具并建立台账，到期提醒；",
    "按 PDCA 循环每周复盘不合格品，分析原因、制定对策并跟踪验证；",
    "明确部门职责与接口，更新组织架构图与岗位说明书；",
)

EXPERT_COPY_COLUMNS = (
    "id", "org_id", "name", "titles", "industries", "skills", "regions", "years", "patents_us_invention",
    "patents_cn_invention", "patents_utility_model", "standards_national", "standards_group",
    "max_active_orders", "bio", "employer_enterprise_id", "active", "user_id", "created_at", "updated_at",
)  # fmt: skip
USER_COLUMNS = ("id", "openid", "roles", "created_at")
ENTERPRISE_COLUMNS = (
    "id", "name", "credit_code", "industry", "address", "contact_name", "contact_phone", "status",
    "verified_at", "created_at", "created_by_id", "org_id",
)  # fmt: skip
ORDER_COLUMNS = (
    "id", "category", "title", "description", "deadline", "needs", "status", "outcome", "outcome_note",
    "cancel_reason", "created_at", "created_by_id", "enterprise_id", "expert_id", "org_id",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "case_type", "case_id", "org_id", "assignee_kind", "assignee_id", "assignee_name", "state", "respond_by",
    "created_at", "end_note",
)  # fmt: skip
RATING_COLUMNS = (
    "case_type", "case_id", "rater_user_id", "service_kind", "served_kind", "served_id", "org_id", "score",
    "comment", "tags", "month", "created_at",
)  # fmt: skip
ENGAGEMENT_COLUMNS = (
    "role",
    "starts_on",
    "ends_on",
    "created_by_id",
    "created_at",
    "enterprise_id",
    "expert_id",
    "org_id",
)


# --- the world, through the real API ---------------------------------------------------------


@dataclass(frozen=True)
class World:
    order_id: int
    enterprise_id: int
    order_org_id: int
    expert_id: int
    staff_token: str
    contact_token: str
    expert_token: str


def report_body(rng: random.Random) -> dict[str, Any]:
    """A report as an expert writes one: items over the four areas, scores in half points,
    guidance of one to three sentences, departments that own them."""
    areas = [area.value for area in ReportArea]
    items = []
    for number in range(1, REPORT_ITEMS + 1):
        score = rng.randrange(0, 19) / 2
        items.append(
            {
                "area": rng.choice(areas),
                "title": f"第 {number} 项：{rng.choice(['来料检验', '过程巡检', '成品出货', '设备点检', '文件控制'])}记录不完整",
                "score": score,
                "max_score": 10,
                "target_score": min(10.0, score + rng.randrange(1, 7) / 2),
                "guidance": "".join(rng.sample(GUIDANCE, rng.randint(1, 3))),
                "department": rng.choice(DEPARTMENTS),
            }
        )
    return {"items": items}


async def login(api: httpx.AsyncClient, account: tuple[str, str]) -> str:
    answer = await api.post("/api/v1/admin/auth/login", json={"username": account[0], "password": account[1]})
    if answer.status_code != 200:
        raise BenchmarkError(f"staff login: {answer.status_code} {answer.text[:300]}")
    return str(answer.json()["token"])


async def checked(answer: Any, what: str) -> dict[str, Any]:
    response = await answer
    if response.status_code not in (200, 201):
        raise BenchmarkError(f"{what}: {response.status_code} {response.text[:300]}")
    return dict(response.json())


async def set_up(base_url: str, city: City, rng: random.Random, report: dict[str, Any]) -> World:
    """The 坚派 story's first steps at the city's root: an enterprise of a grassroots union, its
    order, 张国明 bound and accepting it, and his report saved."""
    home = rng.choice([org for org in city.grassroots if org.org_type == OrgType.ENTERPRISE])
    town_id = home.lineage[2]
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as api:
        caseworker, admin = await login(api, CASEWORKER), await login(api, UNION_ADMIN)
        contact, enterprise = await enterprise_with_contact(
            api, home.id, staff_token=caseworker, industry=ORDER_INDUSTRY
        )
        expert_token, expert = await bound_expert(
            api, admin, city.city_id, name="张国明", regions=[town_id], industries=[ORDER_INDUSTRY],
            skills=[*ORDER_SKILLS, "pdca"], years=30, patents={"us_invention": 1, "cn_invention": 3, "utility_model": 5},
            standards={"national": 2, "group": 3}, titles=["national_model_worker", "south_guangdong_craftsman"],
        )  # fmt: skip
        order = await checked(
            api.post("/api/v1/service-orders", json=order_body(enterprise["id"]), headers=bearer(contact)), "order"
        )
        assign = {"expert_id": expert["id"]}
        path = f"/api/v1/admin/service-orders/{order['id']}/assign"
        await checked(api.post(path, json=assign, headers=bearer(caseworker)), "assign")
        path = f"/api/v1/expert/assignments/{order['id']}/accept"
        await checked(api.post(path, headers=bearer(expert_token)), "accept")
        path = f"/api/v1/service-orders/{order['id']}/report"
        await checked(api.put(path, json=report, headers=bearer(expert_token)), "report")
    return World(order["id"], enterprise["id"], home.id, expert["id"], caseworker, contact, expert_token)


# --- the rest of the roster, with COPY -------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    experts: int
    full: int
    bound: int
    busy_orders: int
    ratings: int
    engagements: int
    seconds: float


async def next_id(connection: asyncpg.Connection, table: str) -> int:
    return int(await connection.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))


def pick(rng: random.Random, codes: list[str], low: int, high: int) -> list[str]:
    return rng.sample(codes, rng.randint(low, high))


async def load_roster(url: str, rng: random.Random, city: City, world: World) -> Roster:
    moment = datetime.now(SHANGHAI)
    started = time.perf_counter()
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await connection.execute("SET session_replication_role = replica")
        # Who registered the order's enterprise stands in as the author of the loaded rows.
        author = int(
            await connection.fetchval("SELECT created_by_id FROM enterprises WHERE id = $1", world.enterprise_id)
        )
        first_user, first_enterprise = await next_id(connection, "users"), await next_id(connection, "enterprises")
        first_expert, first_order = await next_id(connection, "experts"), await next_id(connection, "service_orders")
        grassroots = [org.id for org in city.grassroots]
        rivals = [
            (
                first_enterprise + n, f"中山市对标企业{n:03d}有限公司", f"91442000BENCH{n:05d}",
                ORDER_INDUSTRY if n % 8 == 0 else rng.choice(INDUSTRY_CODES), "中山市某路 1 号", "李经理",
                "0760-88880000", "verified", moment, moment, author, rng.choice(grassroots),
            )
            for n in range(RIVALS)
        ]  # fmt: skip
        await connection.copy_records_to_table("enterprises", columns=ENTERPRISE_COLUMNS, records=rivals)

        users, experts, orders, assignments, ratings, engagements = [], [], [], [], [], []
        full = 0
        for n in range(ROSTER - 1):
            expert_id = first_expert + n
            home = rng.choice([city.city_id, *city.town_ids, *city.town_ids])
            towns = rng.sample(city.town_ids, rng.randint(1, 3))
            regions = [city.city_id] if rng.random() < 0.1 else [home] if home != city.city_id else towns
            user_id = None
            if rng.random() < 0.8:
                user_id = first_user + len(users)
                users.append((user_id, f"bench-expert-{uuid.uuid4().hex}", '["worker"]', moment))
            employer = None
            if rng.random() < 0.03:
                employer = world.enterprise_id if rng.random() < 0.1 else rng.choice(rivals)[0]
            capacity = weighted(rng, CAPACITY_MIX)
            industries = pick(rng, INDUSTRY_CODES, 1, 3)
            experts.append(
                (
                    expert_id, home, f"专家{n:04d}", json.dumps(pick(rng, list(EXPERT_TITLES), 1, 2)),
                    json.dumps(industries), json.dumps(pick(rng, list(SKILLS), 2, 5)), json.dumps(regions),
                    rng.randint(3, 40), rng.choice((0,) * 19 + (1, 2)), rng.randint(0, 5), rng.randint(0, 10),
                    rng.choice((0,) * 8 + (1, 2)), rng.randint(0, 4), capacity, "从事生产管理与质量改进多年。",
                    employer, True, user_id, moment, moment,
                )
            )  # fmt: skip
            load = weighted(rng, LOAD_MIX)
            full += load >= capacity
            for _ in range(load):
                status = weighted(rng, BUSY_MIX)
                order_id = first_order + len(orders)
                enterprise = rng.choice(rivals)
                holder = None if status == OrderStatus.OFFERED else expert_id
                orders.append(order_row(order_id, status, enterprise, holder, moment, rng))
                assignments.append(
                    (
                        "service_order", order_id, enterprise[-1], "expert", expert_id, f"专家{n:04d}",
                        "offered" if status == OrderStatus.OFFERED else "active",
                        moment + timedelta(hours=48) if status == OrderStatus.OFFERED else None, moment, "",
                    )
                )  # fmt: skip
            # Past work: a third of the roster has rated orders behind it.
            for _ in range(rng.choice((0, 0, 0, 0, 1, 2, 3, 5, 8))):
                order_id = first_order + len(orders)
                enterprise = rng.choice(rivals)
                orders.append(order_row(order_id, OrderStatus.CLOSED, enterprise, expert_id, moment, rng))
                ratings.append(
                    (
                        "service_order", order_id, author, "service_order", "expert", expert_id,
                        enterprise[-1], weighted(rng, ((5, 0.55), (4, 0.3), (3, 0.1), (2, 0.05))), "", "[]",
                        f"{moment:%Y-%m}", moment,
                    )
                )  # fmt: skip
            if rng.random() < 0.04:
                enterprise = rng.choice(rivals)
                ends = None if rng.random() < 0.5 else moment.date() + timedelta(days=rng.randint(-400, 400))
                engagements.append(
                    ("首席质量官", moment.date() - timedelta(days=500), ends, author, moment,
                     enterprise[0], expert_id, enterprise[-1])
                )  # fmt: skip
        await connection.copy_records_to_table("users", columns=USER_COLUMNS, records=users)
        await connection.copy_records_to_table("experts", columns=EXPERT_COPY_COLUMNS, records=experts)
        await connection.copy_records_to_table("service_orders", columns=ORDER_COLUMNS, records=orders)
        await connection.copy_records_to_table("case_assignments", columns=ASSIGNMENT_COLUMNS, records=assignments)
        await connection.copy_records_to_table("ratings", columns=RATING_COLUMNS, records=ratings)
        await connection.copy_records_to_table("engagements", columns=ENGAGEMENT_COLUMNS, records=engagements)
        await connection.execute("RESET session_replication_role")
        for table in ("users", "enterprises", "experts", "service_orders"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("VACUUM (ANALYZE)")
        experts_now = int(await connection.fetchval("SELECT count(*) FROM experts WHERE active"))
    finally:
        await connection.close()
    busy = len(assignments)
    return Roster(
        experts_now, full, len(users) + 1, busy, len(ratings), len(engagements), time.perf_counter() - started
    )


def order_row(
    order_id: int,
    status: OrderStatus,
    enterprise: tuple[Any, ...],
    expert_id: int | None,
    moment: datetime,
    rng: random.Random,
) -> tuple[Any, ...]:
    needs = {"industries": [enterprise[3]], "skills": rng.sample(list(SKILLS), 2)}
    return (
        order_id, "factory_audit", "客户验厂辅导", "", moment.date() + timedelta(days=14), json.dumps(needs),
        status.value, "", "", "", moment - timedelta(days=rng.randint(1, 400)), enterprise[10], enterprise[0],
        expert_id, enterprise[-1],
    )  # fmt: skip


# --- the bare app ----------------------------------------------------------------------------

ORDER_SQL = """
SELECT o.id, o.org_id, o.enterprise_id, o.needs, o.status, e.industry
FROM service_orders o JOIN enterprises e ON e.id = o.enterprise_id WHERE o.id = $1
"""
CHAIN_SQL = """
SELECT o.id, o.name FROM orgs o
WHERE o.id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = $1) ORDER BY o.depth DESC
"""
EXPERTS_SQL = f"SELECT {', '.join(EXPERT_COLUMNS)} FROM experts WHERE active ORDER BY id"
SUBTREE_SQL = "SELECT descendant_id FROM org_closure WHERE ancestor_id = $1"
LOADS_SQL = """
SELECT assignee_id, count(id) FROM case_assignments
WHERE case_type = 'service_order' AND assignee_kind = 'expert' AND state IN ('offered', 'active')
AND case_id IN (SELECT id FROM service_orders WHERE status IN ('offered', 'accepted', 'in_progress'))
GROUP BY assignee_id
"""
RATINGS_SQL = """
SELECT served_id, count(id), sum(score) FROM ratings
WHERE case_type = 'service_order' AND served_kind = 'expert' GROUP BY served_id
"""
RIVALS_SQL = "SELECT id FROM enterprises WHERE industry = $1 AND id <> $2"
ENGAGED_SQL = f"""
SELECT g.expert_id, e.name, g.ends_on FROM engagements g JOIN enterprises e ON e.id = g.enterprise_id
WHERE g.enterprise_id IN ({RIVALS_SQL})
"""
SERVING_SQL = f"""
SELECT o.expert_id, e.name FROM service_orders o JOIN enterprises e ON e.id = o.enterprise_id
WHERE o.enterprise_id IN ({RIVALS_SQL}) AND o.status = ANY($3::text[]) AND o.expert_id IS NOT NULL
"""
REFUSED_SQL = """
SELECT assignee_id FROM case_assignments
WHERE case_type = 'service_order' AND case_id = $1 AND assignee_kind = 'expert' AND state IN ('declined', 'expired')
"""
ITEMS_SQL = """
SELECT id, position, area, title, score, max_score, target_score, current_score, status, guidance, department,
       updated_at
FROM service_order_report_items WHERE order_id = $1 ORDER BY position, id
"""
LOCK_SQL = "SELECT status FROM service_orders WHERE id = $1 FOR UPDATE"
DELETE_SQL = "DELETE FROM service_order_report_items WHERE order_id = $1"
INSERT_SQL = """
INSERT INTO service_order_report_items
    (order_id, position, area, title, score, max_score, target_score, guidance, department, status)
SELECT $1, u.*, 'open' FROM unnest($2::int[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[],
                                   $8::text[], $9::text[]) AS u
"""
JSON_LISTS = ("titles", "industries", "skills", "regions")


async def bare_candidates(connection: asyncpg.Connection, order_id: int, staff_org_id: int) -> dict[str, Any]:
    order = await connection.fetchrow(ORDER_SQL, order_id)
    needs = json.loads(order["needs"])
    chain = await connection.fetch(CHAIN_SQL, order["org_id"])
    facts = OrderFacts(
        order_id=order_id,
        enterprise_id=order["enterprise_id"],
        industries=list(needs.get("industries") or [order["industry"]]),
        skills=list(needs.get("skills") or []),
        region_chain=[(row["id"], row["name"]) for row in chain],
    )
    experts = []
    for row in await connection.fetch(EXPERTS_SQL):
        expert = dict(row)
        for column in JSON_LISTS:
            expert[column] = json.loads(expert[column])
        experts.append(expert)
    subtree = {row[0] for row in await connection.fetch(SUBTREE_SQL, staff_org_id)}
    region = {org_id for org_id, _ in facts.region_chain}
    eligible = [e for e in experts if e["org_id"] in subtree or region.intersection(e["regions"])]
    loads = {row[0]: row[1] for row in await connection.fetch(LOADS_SQL)}
    ratings = {row[0]: (round(row[2] / row[1], 2), row[1]) for row in await connection.fetch(RATINGS_SQL) if row[1]}
    rivals = (order["industry"], order["enterprise_id"])
    ties = [Tie(e, name, "engagement", ends) for e, name, ends in await connection.fetch(ENGAGED_SQL, *rivals)]
    serving = await connection.fetch(SERVING_SQL, *rivals, [status.value for status in BUSY_AT_COMPETITOR])
    ties += [Tie(e, name, "order") for e, name in serving]
    declined = frozenset(row[0] for row in await connection.fetch(REFUSED_SQL, order_id))
    found = rank(facts, eligible, loads=loads, ratings=ratings, ties=ties, declined=declined, at=datetime.now(SHANGHAI))
    items = [
        {
            "expert_id": c.expert_id,
            "name": c.name,
            "titles": [{"code": code, "label": EXPERT_TITLES.get(code, code)} for code in c.titles],
            "score": c.score,
            "reasons": [{"code": r.code, "label": r.label, "points": r.points} for r in c.reasons],
            "warnings": [{"code": w.code, "label": w.label} for w in c.warnings],
            "active_orders": c.active_orders,
            "max_active_orders": c.max_active_orders,
            "rating": c.rating,
            "rating_count": c.rating_count,
            "full": c.full,
            "bound": c.bound,
        }
        for c in found[:20]
    ]
    return {"items": items, "total": len(found)}


async def bare_report(connection: asyncpg.Connection, order_id: int, status: str) -> dict[str, Any]:
    rows = await connection.fetch(ITEMS_SQL, order_id)
    items = [
        {
            **dict(row),
            "area_label": REPORT_AREA_LABELS[ReportArea(row["area"])],
            "status_label": ITEM_STATUS_LABELS[ItemStatus(row["status"])],
            "updated_at": row["updated_at"].isoformat() if row["updated_at"] else None,
        }
        for row in rows
    ]
    figures = summarise(
        Scored(r["area"], r["department"], r["score"], r["target_score"], r["current_score"], r["status"]) for r in rows
    )
    return {"order_id": order_id, "order_status": status, "items": items, "total": len(items), **figures}


async def bare_save(connection: asyncpg.Connection, order_id: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    drafts = check_items(raw["items"])
    async with connection.transaction():
        status = await connection.fetchval(LOCK_SQL, order_id)
        await connection.execute(DELETE_SQL, order_id)
        columns = (
            list(range(len(drafts))),
            [d.area.value for d in drafts],
            [d.title for d in drafts],
            [d.score for d in drafts],
            [d.max_score for d in drafts],
            [d.target_score for d in drafts],
            [d.guidance for d in drafts],
            [d.department for d in drafts],
        )
        await connection.execute(INSERT_SQL, order_id, *columns)
        return await bare_report(connection, order_id, status)


def serve_baseline(port: int, database_url: str) -> None:
    """The ceiling: Sanic and an asyncpg pool issuing the statements matching and the report need,
    with the same pure ranking, item rules and summary, but no ORM, no auth, no response model."""
    app = Sanic("service_orders_baseline", configure_logging=False)
    app.config.AUTO_EXTEND = False  # sanic-ext would otherwise attach itself to this app too
    app.config.REQUEST_MAX_SIZE = 16 * 1024 * 1024  # the report route's own limit

    @app.before_server_start
    async def open_pool(app: Sanic) -> None:
        app.ctx.pool = await asyncpg.create_pool(asyncpg_url(database_url), min_size=1, max_size=5)

    @app.get("/candidates")
    async def candidates(request: Request) -> HTTPResponse:
        order_id, org_id = int(request.args["order_id"][0]), int(request.args["org_id"][0])
        async with request.app.ctx.pool.acquire() as connection:
            found = await bare_candidates(connection, order_id, org_id)
        return json_response(found, ensure_ascii=False)

    @app.get("/report")
    async def report(request: Request) -> HTTPResponse:
        order_id = int(request.args["order_id"][0])
        async with request.app.ctx.pool.acquire() as connection:
            status = await connection.fetchval("SELECT status FROM service_orders WHERE id = $1", order_id)
            found = await bare_report(connection, order_id, status)
        return json_response(found, ensure_ascii=False, default=str)

    @app.put("/report")
    async def save(request: Request) -> HTTPResponse:
        order_id = int(request.args["order_id"][0])
        async with request.app.ctx.pool.acquire() as connection:
            found = await bare_save(connection, order_id, json.loads(request.body))
        return json_response(found, ensure_ascii=False, default=str)

    app.prepare(host="127.0.0.1", port=port, motd=False, access_log=False, single_process=True)
    Sanic.serve_single(app)


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    name: str
    method: str
    product_path: str
    baseline_path: str
    token: str
    body: bytes = b""
    heavy: bool = False  # hundreds of milliseconds a request: loaded with fewer connections


@dataclass(frozen=True)
class Measured:
    pair: Pair
    alone_ms: float
    bare_alone_ms: float
    product: WrkResult
    baseline: WrkResult


def pairs(world: World, city: City, body: bytes) -> list[Pair]:
    return [
        Pair(
            f"candidates, roster of {ROSTER:,}",
            "GET",
            f"/api/v1/admin/service-orders/{world.order_id}/candidates",
            f"/candidates?order_id={world.order_id}&org_id={city.city_id}",
            world.staff_token,
            heavy=True,
        ),
        Pair(
            f"report, {REPORT_ITEMS:,} items, read",
            "GET",
            f"/api/v1/service-orders/{world.order_id}/report",
            f"/report?order_id={world.order_id}",
            world.contact_token,
        ),
        Pair(
            f"report, {REPORT_ITEMS:,} items, saved",
            "PUT",
            f"/api/v1/service-orders/{world.order_id}/report",
            f"/report?order_id={world.order_id}",
            world.expert_token,
            body,
            heavy=True,
        ),
    ]


def call(client: httpx.Client, url: str, pair: Pair, *, authorised: bool) -> httpx.Response:
    headers = {"Content-Type": "application/json", **(bearer(pair.token) if authorised else {})}
    answer = client.request(pair.method, url, headers=headers, content=pair.body or None)
    if answer.status_code != 200:
        raise BenchmarkError(f"{pair.name}: {answer.status_code} {answer.text[:300]}")
    return answer


def same_answers(base_url: str, baseline_url: str, pair: Pair) -> str:
    """Both sides must give the same candidates in the same order, or the same items and figures,
    or the comparison means nothing."""
    with httpx.Client(timeout=60) as client:
        product = call(client, base_url + pair.product_path, pair, authorised=True).json()
        bare = call(client, baseline_url + pair.baseline_path, pair, authorised=False).json()
    if product["total"] != bare["total"] or not product["items"]:
        raise BenchmarkError(f"{pair.name}: totals differ or nothing found ({product['total']} / {bare['total']})")
    if "expert_id" in product["items"][0]:
        ids = [(c["expert_id"], c["score"]) for c in product["items"]]
        if ids != [(c["expert_id"], c["score"]) for c in bare["items"]]:
            raise BenchmarkError(f"{pair.name}: the server and the bare app rank differently")
        top = product["items"][0]
        reasons = "; ".join(f"{r['label']} +{r['points']}" for r in top["reasons"])
        return f"{product['total']:,} candidates; first {top['name']} ({top['score']}: {reasons})"
    titles = [item["title"] for item in product["items"]]
    if titles != [item["title"] for item in bare["items"]]:
        raise BenchmarkError(f"{pair.name}: the server and the bare app hold different items")
    for key in ("summary", "by_department", "overall"):
        if product[key] != bare[key]:
            raise BenchmarkError(f"{pair.name}: the {key} differs")
    overall = product["overall"]
    return f"{product['total']:,} items; average {overall['average_score']}, gap to target {overall['gap_to_target']}"


def alone_ms(url: str, pair: Pair, *, authorised: bool) -> float:
    """One request at a time on a kept-alive connection: the median of ten, in milliseconds."""
    times = []
    with httpx.Client(timeout=60) as client:
        call(client, url, pair, authorised=authorised)  # open the connection, warm the caches
        for _ in range(SINGLE_CALLS):
            started = time.perf_counter()
            call(client, url, pair, authorised=authorised)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def lua_script(directory: Path, name: str, pair: Pair, *, authorised: bool) -> str:
    """wrk's request for a write: method, headers and the body read from a file beside it."""
    body = directory / f"{name}.json"
    body.write_bytes(pair.body)
    lines = [
        f'wrk.method = "{pair.method}"',
        'wrk.headers["Content-Type"] = "application/json"',
        *([f'wrk.headers["Authorization"] = "Bearer {pair.token}"'] if authorised else []),
        f'local file = io.open("{body}", "rb")',
        'wrk.body = file:read("*a")',
        "file:close()",
    ]
    script = directory / f"{name}.lua"
    script.write_text("\n".join(lines) + "\n")
    return str(script)


def load(url: str, pair: Pair, directory: Path, name: str, args: argparse.Namespace, *, authorised: bool) -> WrkResult:
    connections = args.heavy_connections if pair.heavy else args.connections
    options: dict[str, Any] = {"connections": connections, "timeout_s": 30}
    if pair.body:
        options["script"] = lua_script(directory, name, pair, authorised=authorised)
    elif authorised:
        options["headers"] = bearer(pair.token)
    run_wrk(url, seconds=2, **options)  # warm-up
    settle(url, pair, authorised=authorised)
    result = run_wrk(url, seconds=args.seconds, **options)
    settle(url, pair, authorised=authorised)
    return result


def settle(url: str, pair: Pair, *, authorised: bool) -> None:
    """Wait out the requests wrk left in flight when it stopped (a save holds the order's row lock,
    which the next side would queue behind), by queueing one more behind them."""
    headers = {"Content-Type": "application/json", **(bearer(pair.token) if authorised else {})}
    started = time.perf_counter()
    with httpx.Client(timeout=120) as client:
        answer = client.request(pair.method, url, headers=headers, content=pair.body or None)
    waited = time.perf_counter() - started
    if answer.status_code != 200 or waited > 5:
        # Not a broken run: what a request met after the load is a figure too.
        print(f"    a request after wrk stopped: {answer.status_code} after {waited:.1f} s", flush=True)


def measure(
    base_url: str, baseline_url: str, chosen: list[Pair], directory: Path, args: argparse.Namespace
) -> list[Measured]:
    results = []
    for number, pair in enumerate(chosen):
        print(f"  {pair.name}: {same_answers(base_url, baseline_url, pair)}", flush=True)
        alone = alone_ms(base_url + pair.product_path, pair, authorised=True)
        bare_alone = alone_ms(baseline_url + pair.baseline_path, pair, authorised=False)
        print(f"    alone {alone:.1f} ms (bare {bare_alone:.1f} ms); wrk {args.seconds:.0f} s per side", flush=True)
        product = load(base_url + pair.product_path, pair, directory, f"product{number}", args, authorised=True)
        baseline = load(baseline_url + pair.baseline_path, pair, directory, f"bare{number}", args, authorised=False)
        results.append(Measured(pair, alone, bare_alone, product, baseline))
    return results


def print_report(
    machine: list[tuple[str, str]], roster: Roster, body: bytes, results: list[Measured], args: argparse.Namespace
) -> None:
    print()
    print(f"# Service orders ({datetime.now(SHANGHAI):%Y-%m-%d})")
    print()
    for key, value in machine:
        print(f"- {key}: {value}")
    print(
        f"- data: {roster.experts:,} active experts on the city's rosters ({roster.full:,} full, {roster.bound:,} bound), "
        f"{roster.busy_orders:,} orders in hand, {roster.ratings:,} past ratings, {roster.engagements:,} engagements, "
        f"{RIVALS} other enterprises; loaded in {roster.seconds:.1f} s"
    )
    print(f"- report: {REPORT_ITEMS:,} items, {len(body) / 1024:,.0f} KiB of JSON")
    print(
        f"- load: wrk, 1 thread, {args.seconds:.0f} s per side after a 2 s warm-up, {args.connections} connections "
        f"({args.heavy_connections} for the candidates and the save); server WORKERS=1"
    )
    print()
    rows = []
    for result in results:
        product, baseline = result.product, result.baseline
        rows.append(
            [
                result.pair.name,
                f"{result.alone_ms:.1f}",
                f"{result.bare_alone_ms:.1f}",
                f"{product.requests_per_second:,.1f}",
                f"{product.p50_ms:.0f} / {product.p99_ms:.0f}",
                f"{baseline.requests_per_second:,.1f}",
                f"{baseline.p50_ms:.0f} / {baseline.p99_ms:.0f}",
                f"{product.requests_per_second / baseline.requests_per_second:.0%}"
                if baseline.requests_per_second
                else "n/a",
                "yes" if product.clean and baseline.clean else f"no ({product.non_2xx + product.socket_errors})",
            ]
        )
    headers = [
        "request", "alone ms", "bare alone ms", "server req/s", "p50 / p99 ms", "bare req/s", "bare p50 / p99 ms",
        "ratio", "clean",
    ]  # fmt: skip
    print("\n".join(markdown_table(headers, rows)))


def run(args: argparse.Namespace) -> None:
    with BenchmarkRun(args.database_url, args.redis_url, keep_database=args.keep_database) as bench:
        print("loading the city", flush=True)
        rng = random.Random(args.seed)
        city = asyncio.run(load_city(bench.database_url, rng))
        for (username, password), role in ((CASEWORKER, "caseworker"), (UNION_ADMIN, "union_admin")):
            bench.command(
                "create-staff",
                *("--username", username, "--password", password),
                *("--role", role, "--org-id", str(city.city_id), "--permanent"),
            )
        bench.start_sandbox()
        base_url = bench.start_server()
        report = report_body(rng)
        world = asyncio.run(set_up(base_url, city, rng, report))
        print(f"order {world.order_id} accepted by expert {world.expert_id}; loading the roster", flush=True)
        roster = asyncio.run(load_roster(bench.database_url, rng, city, world))
        print(f"roster loaded in {roster.seconds:.1f} s", flush=True)
        baseline_url = bench.start_baseline("benchmarks.service_orders", f"/report?order_id={world.order_id}")
        body = json.dumps(report, ensure_ascii=False).encode()
        quiet = os.getloadavg()[0]
        print("measuring:", flush=True)
        results = measure(base_url, baseline_url, pairs(world, city, body), bench.logs, args)
        machine = [
            *machine_facts(args.database_url),
            ("load average", f"{quiet:.2f} before measuring, {os.getloadavg()[0]:.2f} after (1 min)"),
        ]
        print_report(machine, roster, body, results, args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service_orders", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk's measured time per endpoint and side")
    parser.add_argument("--connections", type=int, default=64)
    # At a few hundred milliseconds a request one worker answers a few a second: 64 connections
    # would queue each request longer than wrk measures, and wrk would count none.
    parser.add_argument("--heavy-connections", type=int, default=8, help="wrk's connections for the slow requests")
    parser.add_argument("--seed", type=int, default=442010)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--serve-baseline", nargs=2, metavar=("PORT", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    run_or_serve(args, run, serve_baseline)


if __name__ == "__main__":
    main()
