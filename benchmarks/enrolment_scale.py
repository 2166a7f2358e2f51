"""Enrolment at city scale: the caseworker's pages and the submit/approve path against a city the
size of Zhongshan (10,760 unions, 862,778 members), on PostgreSQL and Redis, through the real server.

    .venv/bin/python -m benchmarks.enrolment_scale [--database-url postgres://...]

It makes its own database beside the one named (and drops it at the end), applies the migrations,
loads the city with COPY, starts the WeChat sandbox, the server and a raw-asyncpg baseline, and
prints latency and throughput figures against the targets. It exits 0 whether or not a target is
met, and non-zero only when something broke. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from benchmarks.common import BenchmarkError, asyncpg_url, forget_redis_keys, run_or_serve, start_baseline
from models.orgs import OrgType
from models.profiles.identity import id_check_char, mask_id_number
from models.profiles.tables import ID_CONTEXT
from server.clock import SHANGHAI
from server.crypto import IdCipher
from server.settings import Settings
from tests.harness import (
    Process,
    base_env,
    create_scratch_database,
    drop_scratch_database,
    free_port,
    run_command,
    wait_until_answering,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

CITY_ORGS = 10_760  # the city root, its towns and districts, and every grassroots union below
MEMBERS = 862_778
GIG_MEMBERS = 62_938
APPROVED_ENROLMENTS = 10_000  # applications that became memberships already loaded
OPEN_AND_CLOSED_ENROLMENTS = {
    "submitted": 30_000,
    "returned": 3_000,
    "resubmitted": 2_000,
    "rejected": 3_000,
    "withdrawn": 2_000,
}
OPEN_STATUSES = {"submitted", "returned", "resubmitted"}

STATS_P95_TARGET_MS = 50.0
LIST_P95_TARGET_MS = 100.0

STAFF_USERNAME = "bench-caseworker"
STAFF_PASSWORD = "bench-caseworker-2025"

# Zhongshan has no districts: 8 subdistricts, 15 towns and the Torch development zone, each with
# the trade it is known for (used for the names of its enterprises).
TOWNS: list[tuple[str, OrgType, str]] = [
    ("石岐街道", OrgType.TOWN, "商贸"),
    ("东区街道", OrgType.TOWN, "电子商务"),
    ("西区街道", OrgType.TOWN, "电器"),
    ("南区街道", OrgType.TOWN, "食品"),
    ("五桂山街道", OrgType.TOWN, "旅游服务"),
    ("中山港街道", OrgType.TOWN, "物流"),
    ("民众街道", OrgType.TOWN, "农产品"),
    ("南朗街道", OrgType.TOWN, "海产品"),
    ("小榄镇", OrgType.TOWN, "五金制品"),
    ("古镇镇", OrgType.TOWN, "灯饰"),
    ("坦洲镇", OrgType.TOWN, "装备制造"),
    ("黄圃镇", OrgType.TOWN, "腊味食品"),
    ("东凤镇", OrgType.TOWN, "小家电"),
    ("三角镇", OrgType.TOWN, "纺织印染"),
    ("三乡镇", OrgType.TOWN, "家具"),
    ("板芙镇", OrgType.TOWN, "智能家居"),
    ("大涌镇", OrgType.TOWN, "红木家具"),
    ("神湾镇", OrgType.TOWN, "游艇制造"),
    ("沙溪镇", OrgType.TOWN, "休闲服装"),
    ("横栏镇", OrgType.TOWN, "照明电器"),
    ("南头镇", OrgType.TOWN, "家用电器"),
    ("阜沙镇", OrgType.TOWN, "精细化工"),
    ("港口镇", OrgType.TOWN, "游戏游艺设备"),
    ("火炬开发区", OrgType.DISTRICT, "电子信息"),
]
TRADES = ["五金制品", "塑料制品", "电子科技", "包装材料", "模具", "印刷", "服装", "家具", "电器", "照明"]
BRAND_CHARS = "华美德宏盛兴隆泰丰源鑫达恒信利嘉诚安顺富荣通益康明"
PARK_KINDS = ["工业园区", "科技园区", "产业园区", "创业园区"]
INDUSTRY_KINDS = ["快递物流行业工会联合会", "餐饮服务行业工会联合会", "货运行业工会联合会", "家政服务行业工会联合会"]
# (platform code, brand, site kind, occupation of its gig members)
PLATFORM_UNIONS = [
    ("meituan", "美团外卖", "配送站点", "delivery_rider"),
    ("eleme", "饿了么", "配送站点", "delivery_rider"),
    ("sf_express", "顺丰速运", "营业部", "courier"),
    ("jd", "京东物流", "营业部", "courier"),
    ("cainiao", "菜鸟驿站", "服务站", "courier"),
    ("dada", "达达秒送", "配送站点", "online_delivery"),
    ("didi", "滴滴出行", "司机之家", "ride_hailing_driver"),
    ("huolala", "货拉拉", "司机之家", "truck_driver"),
]
# (occupation, platform, weight) for gig members outside platform unions and for applicants
GIG_MIX = [
    ("delivery_rider", "meituan", 30),
    ("delivery_rider", "eleme", 15),
    ("courier", "sf_express", 10),
    ("courier", "jd", 6),
    ("courier", "cainiao", 5),
    ("online_delivery", "dada", 5),
    ("ride_hailing_driver", "didi", 10),
    ("truck_driver", "huolala", 8),
    ("designated_driver", "none", 4),
    ("live_streamer", "douyin", 3),
    ("domestic_worker", "none", 4),
]
EMPLOYEE_MIX = [("factory_worker", "none", 92), ("warehouse_worker", "none", 8)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾萧田董袁潘蔡蒋余杜叶程苏魏吕丁"
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力永健志忠国荣俊峰婷雪琳晨宇浩然欣怡佳"

BIRTH_DAYS = 14_600  # 40 years of birth dates; with a 3-digit sequence, every ID number is unique
FIRST_BIRTHDAY = date(1966, 1, 1)
# Sequence digits of the ID numbers by kind of person, so that they never collide.
MEMBER_ID_SEQ, APPLICANT_ID_SEQ, BENCH_WORKER_ID_SEQ = 0, 600, 900
JOINED_FROM = datetime(2012, 1, 1, tzinfo=SHANGHAI)
JOINED_TO = datetime(2026, 11, 1, tzinfo=SHANGHAI)
COPY_CHUNK = 50_000


# --- the city ------------------------------------------------------------------------------


@dataclass
class OrgRow:
    id: int
    name: str
    org_type: OrgType
    region_code: str
    parent_id: int | None
    depth: int
    accepts_members: bool
    lineage: tuple[int, ...]  # ids from the province root down to this org itself
    town: str = ""
    platform: tuple[str, str] | None = None  # (platform code, occupation) of a platform union


@dataclass
class City:
    orgs: list[OrgRow]
    city_id: int
    town_ids: list[int]
    grassroots: list[OrgRow]
    members_per_org: list[int] = field(default_factory=list)


def apportion(total: int, weights: Sequence[float], caps: Sequence[int] | None = None) -> list[int]:
    """Integers proportional to `weights` summing exactly to `total`, none above its cap."""
    limits = list(caps) if caps is not None else [total] * len(weights)
    if sum(limit for weight, limit in zip(weights, limits, strict=True) if weight > 0) < total:
        raise ValueError("the caps leave no room for the total")
    result = [0] * len(weights)
    active = {index for index, weight in enumerate(weights) if weight > 0}
    remaining = total
    while True:
        scale = remaining / sum(weights[index] for index in active)
        over = {index for index in active if weights[index] * scale >= limits[index]}
        if not over:
            break
        for index in over:
            result[index] = limits[index]
            remaining -= limits[index]
        active -= over
    shares = {index: weights[index] * scale for index in active}
    for index, share in shares.items():
        result[index] = math.floor(share)
    short = total - sum(result)
    for index in sorted(shares, key=lambda index: shares[index] - math.floor(shares[index]), reverse=True)[:short]:
        result[index] += 1
    return result


def build_city(rng: random.Random) -> City:
    orgs: list[OrgRow] = []

    def add(name: str, org_type: OrgType, region: str, parent: OrgRow | None, accepts: bool, **extra: Any) -> OrgRow:
        org_id = len(orgs) + 1
        lineage = (*parent.lineage, org_id) if parent else (org_id,)
        row = OrgRow(
            org_id, name, org_type, region, parent.id if parent else None, len(lineage) - 1, accepts, lineage, **extra
        )
        orgs.append(row)
        return row

    province = add("广东省总工会", OrgType.PROVINCE, "440000", None, False)
    city = add("中山市总工会", OrgType.CITY, "442000", province, False)
    grassroots_total = CITY_ORGS - 1 - len(TOWNS)
    # Towns differ a lot in size, hence the log-normal spread (which one is largest is left to chance).
    per_town = apportion(grassroots_total, [rng.lognormvariate(0, 0.5) for _ in TOWNS])
    town_ids: list[int] = []
    grassroots: list[OrgRow] = []
    for number, ((town_name, town_type, trade), count) in enumerate(zip(TOWNS, per_town, strict=True), start=1):
        region = f"442000{number:03d}"
        short = town_name.removesuffix("街道").removesuffix("镇")
        town = add(f"{town_name}总工会", town_type, region, city, False)
        town_ids.append(town.id)
        placed: list[OrgRow] = []
        parks = [
            add(f"{short}{PARK_KINDS[k % len(PARK_KINDS)]}工会", OrgType.PARK, region, town, True, town=town_name)
            for k in range(max(1, count // 120))
        ]
        placed += parks
        for k in range(2):
            placed.append(add(f"{town_name}{INDUSTRY_KINDS[k]}", OrgType.INDUSTRY, region, town, True, town=town_name))
        for k in range(max(2, count // 50)):
            code, brand, site, occupation = PLATFORM_UNIONS[k % len(PLATFORM_UNIONS)]
            suffix = "" if k < len(PLATFORM_UNIONS) else str(k // len(PLATFORM_UNIONS) + 1)
            placed.append(
                add(
                    f"{brand}中山{short}{site}{suffix}工会",
                    OrgType.PLATFORM,
                    region,
                    town,
                    True,
                    town=town_name,
                    platform=(code, occupation),
                )
            )
        while len(placed) < count:
            product = trade if rng.random() < 0.4 else rng.choice(TRADES)
            brand = "".join(rng.sample(BRAND_CHARS, 2))
            # About a third of the enterprises sit in a park, one level deeper.
            parent = rng.choice(parks) if rng.random() < 0.35 else town
            placed.append(
                add(f"中山市{brand}{product}有限公司工会", OrgType.ENTERPRISE, region, parent, True, town=town_name)
            )
        grassroots += placed
    if len(orgs) - 1 != CITY_ORGS:
        raise BenchmarkError(f"built {len(orgs) - 1} orgs in the city, expected {CITY_ORGS}")
    # Members per union: most enterprise unions are small, a few are factories of thousands.
    weights = [
        rng.lognormvariate(0, 1.1) * (3.0 if org.org_type in (OrgType.PLATFORM, OrgType.INDUSTRY) else 1.0)
        for org in grassroots
    ]
    result = City(orgs, city.id, town_ids, grassroots)
    result.members_per_org = apportion(MEMBERS, weights)
    return result


def id_number(seq_base: int, index: int) -> str:
    born = FIRST_BIRTHDAY + timedelta(days=index % BIRTH_DAYS)
    first17 = f"442000{born:%Y%m%d}{seq_base + index // BIRTH_DAYS:03d}"
    return first17 + id_check_char(first17)


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN_CHARS) + (rng.choice(GIVEN_CHARS) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def phone_number(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def joined_at(rng: random.Random) -> datetime:
    span = int((JOINED_TO - JOINED_FROM).total_seconds())
    return JOINED_FROM + timedelta(seconds=rng.randrange(span))


def mix_choices(rng: random.Random, mix: list[tuple[str, str, int]], k: int) -> list[tuple[str, str]]:
    return rng.choices([(occupation, code) for occupation, code, _ in mix], [w for _, _, w in mix], k=k)


# --- loading -------------------------------------------------------------------------------

ORG_COLUMNS = ("id", "name", "org_type", "region_code", "parent_id", "depth", "accepts_members", "created_at")
USER_COLUMNS = ("id", "openid", "unionid", "roles", "created_at", "last_login_at")
# fmt: off
MEMBERSHIP_COLUMNS = (
    "id", "user_id", "org_id", "member_no", "status", "person_key", "active_key", "real_name", "id_masked",
    "phone", "is_gig_worker", "occupation", "platform", "enrolment_id", "previous_id", "joined_at", "ended_at",
)
# fmt: on
# fmt: off
ENROLMENT_COLUMNS = (
    "id", "user_id", "org_id", "status", "open_key", "person_key", "real_name", "phone", "id_key_id",
    "id_ciphertext", "id_masked", "occupation", "occupation_other", "platform", "platform_other",
    "is_gig_worker", "city", "district", "note", "reason", "membership_id", "submitted_at", "updated_at",
    "decided_at", "decided_by_id",
)
# fmt: on
WORKER_ROLES = '["worker"]'

TALLIES_SQL = """
INSERT INTO org_member_tallies (org_id, dimension, value, members, gig_members)
SELECT c.ancestor_id, k.dimension, k.value, sum(m.members), sum(m.gig_members)
FROM (
    SELECT org_id, occupation, platform, count(*) AS members, count(*) FILTER (WHERE is_gig_worker) AS gig_members
    FROM memberships WHERE status = 'active'
    GROUP BY org_id, occupation, platform
) AS m
JOIN org_closure AS c ON c.descendant_id = m.org_id
CROSS JOIN LATERAL (VALUES ('all', ''), ('occupation', m.occupation), ('platform', m.platform)) AS k(dimension, value)
GROUP BY c.ancestor_id, k.dimension, k.value
"""

# next_member_no continues each `<region><year>` sequence from its row, so the rows must start
# where the loaded member numbers end, or the first approval would collide.
SEQUENCES_SQL = """
INSERT INTO member_number_sequences (prefix, last_value)
SELECT left(member_no, 10), max(right(member_no, 7)::bigint) FROM memberships GROUP BY left(member_no, 10)
"""

DANGLING_SQL = """
SELECT
    (SELECT count(*) FROM memberships m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id))
  + (SELECT count(*) FROM memberships m WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = m.org_id))
  + (SELECT count(*) FROM enrolments e WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = e.user_id))
  + (SELECT count(*) FROM enrolments e WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = e.org_id))
  + (SELECT count(*) FROM org_closure c WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = c.descendant_id))
"""


@dataclass
class Approved:
    """What an application that became a loaded membership needs from that membership."""

    enrolment_id: int
    membership_id: int
    user_id: int
    org: OrgRow
    number: str
    person_key: str
    real_name: str
    phone: str
    occupation: str
    platform: str
    is_gig: bool
    joined: datetime


@dataclass
class LoadFacts:
    city: City
    seconds: dict[str, float]


@contextlib.contextmanager
def timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    print(f"  {name} ...", end="", flush=True)
    started = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - started
    print(f" {seconds[name]:.1f} s", flush=True)


def member_rows(
    city: City, rng: random.Random, cipher: IdCipher, approved: list[Approved]
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """(users, memberships) in chunks, members spread over the grassroots unions; gig members
    are concentrated in platform and industry unions, as in the real figures."""
    gig_share = {OrgType.PLATFORM: 0.9, OrgType.INDUSTRY: 0.5}
    gig_weights = [
        count * gig_share.get(org.org_type, 0.03)
        for org, count in zip(city.grassroots, city.members_per_org, strict=True)
    ]
    gig_counts = apportion(GIG_MEMBERS, gig_weights, city.members_per_org)
    approval_stride = MEMBERS // APPROVED_ENROLMENTS
    sequence_by_year: dict[int, int] = {}
    users: list[tuple[Any, ...]] = []
    memberships: list[tuple[Any, ...]] = []
    index = 0
    for org, count, gig_count in zip(city.grassroots, city.members_per_org, gig_counts, strict=True):
        # A platform union's gig members all work for its platform.
        gig_kinds = (
            [(org.platform[1], org.platform[0])] * gig_count
            if org.platform is not None
            else mix_choices(rng, GIG_MIX, gig_count)
        )
        kinds = gig_kinds + mix_choices(rng, EMPLOYEE_MIX, count - gig_count)
        for position, (occupation, platform_code) in enumerate(kinds):
            member_id = index + 1
            number = id_number(MEMBER_ID_SEQ, index)
            person_key = cipher.blind_index(number)
            joined = joined_at(rng)
            sequence_by_year[joined.year] = sequence = sequence_by_year.get(joined.year, 0) + 1
            name, phone, is_gig = person_name(rng), phone_number(rng), position < gig_count
            enrolment_id = None
            if index % approval_stride == 0 and len(approved) < APPROVED_ENROLMENTS:
                enrolment_id = len(approved) + 1
                # fmt: off
                approved.append(Approved(
                    enrolment_id, member_id, member_id, org, number, person_key, name, phone,
                    occupation, platform_code, is_gig, joined,
                ))
                # fmt: on
            users.append((member_id, f"bench-m{member_id}", None, WORKER_ROLES, joined, None))
            # fmt: off
            memberships.append((
                member_id, member_id, org.id, f"{org.region_code[:6]}{joined.year}{sequence:07d}", "active",
                person_key, person_key, name, mask_id_number(number), phone,
                is_gig, occupation, platform_code, enrolment_id, None, joined, None,
            ))
            # fmt: on
            index += 1
            if len(memberships) >= COPY_CHUNK:
                yield users, memberships
                users, memberships = [], []
    if memberships:
        yield users, memberships


def enrolment_rows(
    city: City, rng: random.Random, cipher: IdCipher, approved: list[Approved]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(new users, enrolments): the approved ones behind loaded memberships, then applications
    still open or closed without a membership, from people who are not members."""
    users: list[tuple[Any, ...]] = []
    rows: list[tuple[Any, ...]] = []
    key_id = cipher.seal("0", ID_CONTEXT).key_id
    for item in approved:
        submitted = item.joined - timedelta(days=rng.randint(1, 10), seconds=rng.randrange(86400))
        # fmt: off
        rows.append((
            item.enrolment_id, item.user_id, item.org.id, "approved", None, item.person_key, item.real_name,
            item.phone, key_id, cipher.seal(item.number, ID_CONTEXT).ciphertext, mask_id_number(item.number),
            item.occupation, "", item.platform, "", item.is_gig, "中山市", item.org.town, "", "",
            item.membership_id, submitted, item.joined, item.joined, None,
        ))
        # fmt: on
    statuses = [status for status, count in OPEN_AND_CLOSED_ENROLMENTS.items() for _ in range(count)]
    rng.shuffle(statuses)
    orgs = rng.choices(city.grassroots, city.members_per_org, k=len(statuses))
    now = JOINED_TO + timedelta(days=20)
    for index, (status, org) in enumerate(zip(statuses, orgs, strict=True)):
        enrolment_id = len(approved) + index + 1
        user_id = MEMBERS + index + 1
        number = id_number(APPLICANT_ID_SEQ, index)
        person_key = cipher.blind_index(number)
        is_gig = rng.random() < 0.6
        ((occupation, platform_code),) = mix_choices(rng, GIG_MIX if is_gig else EMPLOYEE_MIX, 1)
        is_open = status in OPEN_STATUSES
        # Open applications are recent; closed ones spread over the last two years.
        age = timedelta(seconds=rng.randrange((90 if is_open else 720) * 86400))
        submitted = now - age
        decided = None if status in {"submitted", "resubmitted"} else submitted + timedelta(hours=rng.randint(2, 240))
        reason = {"returned": "请补充劳动合同或工作证明照片", "rejected": "所在单位已成立工会，请向本单位工会申请"}.get(
            status, ""
        )
        users.append((user_id, f"bench-a{user_id}", None, WORKER_ROLES, submitted, submitted))
        # fmt: off
        rows.append((
            enrolment_id, user_id, org.id, status, person_key if is_open else None, person_key, person_name(rng),
            phone_number(rng), key_id, cipher.seal(number, ID_CONTEXT).ciphertext, mask_id_number(number),
            occupation, "", platform_code, "", is_gig, "中山市", org.town, "", reason,
            None, submitted, decided or submitted, decided, None,
        ))
        # fmt: on
    return users, rows


async def copy_org_tree(connection: asyncpg.Connection, orgs: list[OrgRow]) -> None:
    """The orgs and their closure rows (self rows included), as the tree code writes them."""
    await connection.copy_records_to_table(
        "orgs",
        columns=ORG_COLUMNS,
        records=[
            (o.id, o.name, o.org_type.value, o.region_code, o.parent_id, o.depth, o.accepts_members, JOINED_FROM)
            for o in orgs
        ],
    )
    await connection.copy_records_to_table(
        "org_closure",
        columns=("ancestor_id", "descendant_id", "distance"),
        records=[(ancestor, org.id, org.depth - depth) for org in orgs for depth, ancestor in enumerate(org.lineage)],
    )


async def load_city(url: str, cipher: IdCipher, seed: int) -> LoadFacts:
    rng = random.Random(seed)
    seconds: dict[str, float] = {}
    connection = await asyncpg.connect(asyncpg_url(url))
    second = await asyncpg.connect(asyncpg_url(url))
    try:
        # Every key is generated here, consistent by construction (and checked below); skipping
        # the per-row foreign-key triggers during COPY makes the load several times faster. Only
        # a superuser may; anyone else loads more slowly with the checks on.
        for each in (connection, second):
            with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
                await each.execute("SET session_replication_role = replica")
        with timed(seconds, "orgs and closure"):
            city = build_city(rng)
            await copy_org_tree(connection, city.orgs)
        approved: list[Approved] = []
        with timed(seconds, "members and their users"):
            chunks = member_rows(city, rng, cipher, approved)
            # Python makes the next chunk in a thread while PostgreSQL takes in the last one on
            # two connections (users and memberships), so the three overlap.
            pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
            while (chunk := await pending) is not None:
                pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
                users, memberships = chunk
                await asyncio.gather(
                    second.copy_records_to_table("users", columns=USER_COLUMNS, records=users),
                    connection.copy_records_to_table("memberships", columns=MEMBERSHIP_COLUMNS, records=memberships),
                )
        with timed(seconds, "enrolments and applicants"):
            users, enrolments = enrolment_rows(city, rng, cipher, approved)
            await connection.copy_records_to_table("users", columns=USER_COLUMNS, records=users)
            await connection.copy_records_to_table("enrolments", columns=ENROLMENT_COLUMNS, records=enrolments)
        with timed(seconds, "tallies and sequences"):
            await connection.execute(TALLIES_SQL)
            await connection.execute(SEQUENCES_SQL)
            for table in ("orgs", "org_closure", "users", "memberships", "enrolments"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        await connection.execute("RESET session_replication_role")
        # VACUUM, not only ANALYZE: it sets the visibility map, as autovacuum would have long
        # since done in production, so index-only scans behave as they would there.
        with timed(seconds, "VACUUM ANALYZE"):
            await connection.execute("VACUUM (ANALYZE)")
        dangling = await connection.fetchval(DANGLING_SQL)
        if dangling:
            raise BenchmarkError(f"{dangling} loaded rows point at nothing")
    finally:
        await second.close()
        await connection.close()
    return LoadFacts(city, seconds)


# --- the baseline --------------------------------------------------------------------------


def serve_baseline(port: int, database_url: str) -> None:
    """The ceiling: Sanic and an asyncpg pool (as large as Tortoise's) reading one org by primary
    key, with no ORM, no auth and no response model."""
    app = Sanic("enrolment_scale_baseline", configure_logging=False)
    # sanic-ext, installed for the real server, would otherwise attach itself to this app too.
    app.config.AUTO_EXTEND = False

    @app.before_server_start
    async def open_pool(app: Sanic) -> None:
        app.ctx.pool = await asyncpg.create_pool(asyncpg_url(database_url), min_size=1, max_size=5)

    @app.after_server_stop
    async def close_pool(app: Sanic) -> None:
        await app.ctx.pool.close()

    @app.get("/orgs/<org_id:int>")
    async def org(request: Request, org_id: int) -> HTTPResponse:
        row = await request.app.ctx.pool.fetchrow(
            "SELECT id, name, org_type, region_code, parent_id, depth, accepts_members FROM orgs WHERE id = $1",
            org_id,
        )
        if row is None:
            return json({"error": "not found"}, status=404)
        return json(dict(row), ensure_ascii=False)

    app.prepare(host="127.0.0.1", port=port, motd=False, access_log=False, single_process=True)
    Sanic.serve_single(app)


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    requests: int
    p50_ms: float
    p95_ms: float
    per_second: float
    alone_p50_ms: float
    target_ms: float | None = None

    @property
    def verdict(self) -> str:
        if self.target_ms is None:
            return ""
        return "PASS" if self.p95_ms < self.target_ms else "MISS"


def percentile(sorted_values: list[float], fraction: float) -> float:
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[round(fraction * 100) - 1]


async def hammer(
    send: Callable[[int], Awaitable[httpx.Response]],
    count: int,
    concurrency: int,
    max_seconds: float,
    expect: int = 200,
) -> tuple[list[float], float, list[httpx.Response]]:
    """Send `count` requests (fewer if `max_seconds` runs out), `concurrency` at a time; each
    request's latency as the client saw it, the wall time, and the answers."""
    latencies: list[float] = []
    answers: list[httpx.Response] = []
    issued = 0
    started = time.perf_counter()
    deadline = started + max_seconds

    async def worker() -> None:
        nonlocal issued
        while issued < count and time.perf_counter() < deadline:
            number = issued
            issued += 1
            sent = time.perf_counter()
            answer = await send(number)
            latencies.append(time.perf_counter() - sent)
            if answer.status_code != expect:
                raise BenchmarkError(
                    f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text[:300]}"
                )
            answers.append(answer)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, answers


async def measure_read(
    client: httpx.AsyncClient,
    name: str,
    url: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    target_ms: float | None = None,
) -> Figures:
    async def send(_: int) -> httpx.Response:
        return await client.get(url, headers=headers)

    await hammer(send, args.warmup, args.concurrency, args.max_seconds)
    latencies, wall, _ = await hammer(send, args.requests, args.concurrency, args.max_seconds)
    # One request at a time: what a request costs by itself, apart from waiting behind others.
    alone, _, _ = await hammer(send, args.alone, 1, args.max_seconds)
    latencies.sort()
    figures = Figures(
        name,
        len(latencies),
        percentile(latencies, 0.50) * 1000,
        percentile(latencies, 0.95) * 1000,
        len(latencies) / wall,
        statistics.median(alone) * 1000,
        target_ms,
    )
    print(
        f"  {name}: p50 {figures.p50_ms:.1f} ms, p95 {figures.p95_ms:.1f} ms, {figures.per_second:.0f}/s; "
        f"alone p50 {figures.alone_p50_ms:.1f} ms",
        flush=True,
    )
    return figures


@dataclass
class Phase:
    label: str
    seconds: float
    latencies: list[float]  # seconds, one per request

    def percentile_ms(self, fraction: float) -> float:
        return percentile(sorted(self.latencies), fraction) * 1000


@dataclass
class WriteFigures:
    workers: int
    phases: list[Phase]
    members_before: int
    members_after: int


async def member_count(client: httpx.AsyncClient, staff: dict[str, str]) -> int:
    answer = await client.get("/api/v1/admin/stats", headers=staff)
    if answer.status_code != 200:
        raise BenchmarkError(f"stats: {answer.status_code} {answer.text[:300]}")
    return int(answer.json()["member_count"])


async def submit_and_approve(
    client: httpx.AsyncClient, staff: dict[str, str], city: City, args: argparse.Namespace
) -> WriteFigures:
    count, concurrency, run = args.workers, args.concurrency, uuid.uuid4().hex[:8]
    # Applications go to a handful of unions in different towns, as a day's intake would.
    enterprises = [org for org in city.grassroots if org.org_type == OrgType.ENTERPRISE]
    targets = enterprises[:: len(enterprises) // 12][:12]
    rng = random.Random(args.seed + 1)
    tokens: list[str] = [""] * count

    async def set_up(number: int) -> httpx.Response:
        login = await client.post("/api/v1/auth/wechat-login", json={"code": f"dev:bench-{run}-{number}"})
        if login.status_code != 200:
            return login
        tokens[number] = login.json()["token"]
        occupation, platform_code = GIG_MIX[number % 2][:2]
        profile = {
            "real_name": person_name(rng),
            "id_number": id_number(BENCH_WORKER_ID_SEQ, number),
            "phone": phone_number(rng),
            "occupation": occupation,
            "platform": platform_code,
            "city": "中山市",
            "district": targets[number % len(targets)].town,
        }
        return await client.put(
            "/api/v1/me/profile", json=profile, headers={"Authorization": f"Bearer {tokens[number]}"}
        )

    setup_latencies, setup_seconds, _ = await hammer(set_up, count, concurrency, math.inf)
    before = await member_count(client, staff)

    async def submit(number: int) -> httpx.Response:
        return await client.post(
            "/api/v1/enrolments",
            json={"org_id": targets[number % len(targets)].id},
            headers={"Authorization": f"Bearer {tokens[number]}"},
        )

    submit_latencies, submit_seconds, answers = await hammer(submit, count, concurrency, math.inf, expect=201)
    enrolment_ids = [answer.json()["id"] for answer in answers]

    async def approve(number: int) -> httpx.Response:
        return await client.post(f"/api/v1/admin/enrolments/{enrolment_ids[number]}/approve", headers=staff)

    approve_latencies, approve_seconds, _ = await hammer(approve, count, concurrency, math.inf)
    after = await member_count(client, staff)
    if after - before != count:
        raise BenchmarkError(f"member_count went from {before} to {after} after {count} approvals")
    phases = [
        Phase("log in + save profile (set-up)", setup_seconds, setup_latencies),
        Phase("POST /api/v1/enrolments (submit)", submit_seconds, submit_latencies),
        Phase("POST /api/v1/admin/enrolments/{id}/approve", approve_seconds, approve_latencies),
    ]
    return WriteFigures(count, phases, before, after)


# --- reporting -----------------------------------------------------------------------------


async def postgres_facts(url: str) -> str:
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        version = await connection.fetchval("SHOW server_version")
        buffers = await connection.fetchval("SHOW shared_buffers")
        work_mem = await connection.fetchval("SHOW work_mem")
    finally:
        await connection.close()
    return f"{version} (shared_buffers {buffers}, work_mem {work_mem}), same machine, over loopback"


def machine_facts(url: str) -> list[tuple[str, str]]:
    def first(path: str, prefix: str) -> str:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
        return "unknown"

    memory_gib = int(first("/proc/meminfo", "MemTotal").split()[0]) / 1024 / 1024
    return [
        ("CPUs (nproc)", str(len(os.sched_getaffinity(0)))),
        ("CPU model", first("/proc/cpuinfo", "model name")),
        ("memory", f"{memory_gib:.1f} GiB"),
        ("PostgreSQL", asyncio.run(postgres_facts(url))),
        ("Python", platform.python_version()),
    ]


def display_width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def markdown_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table (first column left-aligned, the rest right-aligned), to paste as it is."""
    widths = [max(map(display_width, column)) for column in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        gaps = [" " * (width - display_width(cell)) for cell, width in zip(cells, widths, strict=True)]
        padded = [cells[0] + gaps[0]] + [gap + cell for cell, gap in zip(cells[1:], gaps[1:], strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "|:" + "-" * (widths[0] + 1) + "|" + "|".join("-" * (width + 1) + ":" for width in widths[1:]) + "|"
    return [line(headers), rule, *(line(row) for row in rows)]


def print_report(
    machine: list[tuple[str, str]],
    load: LoadFacts,
    reads: list[Figures],
    baseline: Figures,
    writes: WriteFigures,
    args: argparse.Namespace,
) -> None:
    enrolments = APPROVED_ENROLMENTS + sum(OPEN_AND_CLOSED_ENROLMENTS.values())
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in load.seconds.items())
    facts = [
        *machine,
        (
            "data",
            f"{CITY_ORGS:,} orgs in the city, {MEMBERS:,} active members ({GIG_MEMBERS:,} gig), {enrolments:,} "
            f"enrolments ({OPEN_AND_CLOSED_ENROLMENTS['submitted']:,} submitted)",
        ),
        ("load", f"{sum(load.seconds.values()):.1f} s ({steps})"),
        (
            "client",
            f"httpx over loopback, concurrency {args.concurrency}, {args.warmup} warm-up then up to "
            f"{args.requests} requests (at most {args.max_seconds:.0f} s) per line, then {args.alone} one at a "
            "time; server WORKERS=1",
        ),
    ]
    print("\n== Enrolment at city scale ==")
    for label, value in facts:
        print(f"{label:<13} {value}")
    print()
    read_rows = [
        [
            figures.name,
            str(figures.requests),
            f"{figures.p50_ms:.1f}",
            f"{figures.p95_ms:.1f}",
            f"{figures.per_second:.0f}",
            f"{figures.per_second / baseline.per_second:.1%}",
            f"{figures.alone_p50_ms:.1f}",
            f"< {figures.target_ms:.0f} ms" if figures.target_ms is not None else "",
            figures.verdict,
        ]
        for figures in [*reads, baseline]
    ]
    headers = [
        "endpoint",
        "requests",
        "p50 ms",
        "p95 ms",
        "req/s",
        "of baseline",
        "alone p50 ms",
        "target p95",
        "verdict",
    ]
    print("\n".join(markdown_table(headers, read_rows)))
    print()
    write_rows = [
        [
            phase.label,
            f"{phase.seconds:.1f}",
            f"{writes.workers / phase.seconds:.1f}",
            f"{phase.percentile_ms(0.50):.1f}",
            f"{phase.percentile_ms(0.95):.1f}",
            f"{max(phase.latencies) * 1000:.1f}",
        ]
        for phase in writes.phases
    ]
    headers = [f"write path, {writes.workers} workers", "seconds", "per second", "p50 ms", "p95 ms", "max ms"]
    print("\n".join(markdown_table(headers, write_rows)))
    print(
        f"\nmember_count at the city root: {writes.members_before:,} -> {writes.members_after:,} "
        f"(+{writes.members_after - writes.members_before}, expected +{writes.workers})"
    )
    missed = [figures.name for figures in reads if figures.verdict == "MISS"]
    print("targets: " + ("all met" if not missed else "MISSED for " + "; ".join(missed)))


# --- the run -------------------------------------------------------------------------------


async def expect_city(client: httpx.AsyncClient, staff: dict[str, str], city_id: int) -> None:
    """The loaded tallies must say what adjust_tallies would have made them say."""
    answer = await client.get("/api/v1/admin/stats", headers=staff)
    figures = answer.json()
    expected = {"org_id": city_id, "org_count": CITY_ORGS, "member_count": MEMBERS, "gig_member_count": GIG_MEMBERS}
    found = {key: figures.get(key) for key in expected}
    if answer.status_code != 200 or found != expected:
        raise BenchmarkError(f"the city's figures after loading: {found}, expected {expected}")


def biggest_town(city: City) -> OrgRow:
    members = dict.fromkeys(city.town_ids, 0)
    for org, count in zip(city.grassroots, city.members_per_org, strict=True):
        members[org.lineage[2]] += count
    return city.orgs[max(members, key=members.__getitem__) - 1]


async def measure(
    base_url: str, baseline_url: str, city: City, args: argparse.Namespace
) -> tuple[list[Figures], Figures, WriteFigures]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        login = await client.post(
            "/api/v1/admin/auth/login", json={"username": STAFF_USERNAME, "password": STAFF_PASSWORD}
        )
        if login.status_code != 200:
            raise BenchmarkError(f"staff login: {login.status_code} {login.text[:300]}")
        staff = {"Authorization": f"Bearer {login.json()['token']}"}
        await expect_city(client, staff, city.city_id)
        town = biggest_town(city)
        print("measuring reads:", flush=True)
        baseline = await measure_read(client, "baseline: raw asyncpg, one org by primary key", baseline_url, {}, args)
        pages = [
            ("GET /admin/stats (city root)", "/api/v1/admin/stats", STATS_P95_TARGET_MS),
            (f"GET /admin/stats?org_id= ({town.name})", f"/api/v1/admin/stats?org_id={town.id}", None),
            (
                "GET /admin/enrolments?status=submitted page 1",
                "/api/v1/admin/enrolments?status=submitted&page=1&page_size=20",
                LIST_P95_TARGET_MS,
            ),
            (
                "GET /admin/enrolments?status=submitted page 50",
                "/api/v1/admin/enrolments?status=submitted&page=50&page_size=20",
                LIST_P95_TARGET_MS,
            ),
            ("GET /admin/members page 1", "/api/v1/admin/members?page_size=20", LIST_P95_TARGET_MS),
        ]
        reads = [await measure_read(client, name, url, staff, args, target) for name, url, target in pages]
        print(f"submitting and approving {args.workers} enrolments:", flush=True)
        writes = await submit_and_approve(client, staff, city, args)
    return reads, baseline, writes


def create_staff(env: dict[str, str], city_id: int) -> None:
    done = run_command(
        env,
        "create-staff",
        *("--username", STAFF_USERNAME, "--password", STAFF_PASSWORD),
        *("--role", "caseworker", "--org-id", str(city_id), "--permanent"),
    )
    if done.returncode != 0:
        raise BenchmarkError("create-staff failed: " + done.stdout + done.stderr)


def run(args: argparse.Namespace) -> None:
    """Process management is plain blocking code; each stage that talks to a database or over HTTP
    runs in its own event loop."""
    logs = Path(tempfile.mkdtemp(prefix="gonghui-bench-"))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    cipher = IdCipher(settings.id_encryption_keys, settings.id_blind_index_key)
    redis_prefix = f"gonghui-bench-{uuid.uuid4().hex[:8]}:"
    processes: list[Process] = []
    database_name = ""
    succeeded = False
    print(f"logs of the processes: {logs}", flush=True)
    try:
        database_name, database_url = asyncio.run(create_scratch_database(args.database_url, "gonghui_bench"))
        print(f"database {database_name}", flush=True)
        env = base_env(
            DATA_DIR=str(logs),
            DATABASE_URL=database_url,
            REDIS_URL=args.redis_url,
            REDIS_PREFIX=redis_prefix,
            # The loader sealed and indexed ID numbers with these keys; the server must use the
            # same ones whatever a .env file in the working directory says.
            ID_ENCRYPTION_KEYS=settings.id_encryption_keys,
            ID_BLIND_INDEX_KEY=settings.id_blind_index_key,
        )
        started = time.perf_counter()
        done = run_command(env, "migrate")
        if done.returncode != 0:
            raise BenchmarkError("migrate failed: " + done.stdout + done.stderr)
        print(f"migrations applied in {time.perf_counter() - started:.1f} s; loading the city:", flush=True)
        load = asyncio.run(load_city(database_url, cipher, args.seed))
        print(f"loaded in {sum(load.seconds.values()):.1f} s", flush=True)
        create_staff(env, load.city.city_id)

        sandbox_port, server_port, baseline_port = free_port(), free_port(), free_port()
        sandbox = Process("sandbox", {**env, "SANDBOX_PORT": str(sandbox_port)}, logs / "sandbox.log")
        processes.append(sandbox.start("sandbox"))
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        wait_until_answering(f"{sandbox_url}/_sandbox/healthz", sandbox.process)  # type: ignore[arg-type]
        server_env = {**env, "PORT": str(server_port), "WECHAT_API_BASE_URL": sandbox_url}
        server = Process("server", server_env, logs / "server.log")
        processes.append(server.start("run"))
        baseline = start_baseline("benchmarks.enrolment_scale", env, logs / "baseline.log", baseline_port, database_url)
        processes.append(baseline)
        base_url = f"http://127.0.0.1:{server_port}"
        baseline_url = f"http://127.0.0.1:{baseline_port}/orgs/{load.city.city_id}"
        wait_until_answering(f"{base_url}/readyz", server.process)  # type: ignore[arg-type]
        wait_until_answering(baseline_url, baseline.process)  # type: ignore[arg-type]

        # Anything else busy on the machine skews the figures; the load average says whether it was.
        quiet = os.getloadavg()[0]
        reads, baseline_figures, writes = asyncio.run(measure(base_url, baseline_url, load.city, args))
        machine = [
            *machine_facts(args.database_url),
            ("load average", f"{quiet:.2f} before measuring, {os.getloadavg()[0]:.2f} after (1 min)"),
        ]
        print_report(machine, load, reads, baseline_figures, writes, args)
        succeeded = True
    finally:
        for process in reversed(processes):
            process.stop()
        if database_name and not args.keep_database:
            asyncio.run(drop_scratch_database(args.database_url, database_name))
        elif database_name:
            print(f"database kept: {database_name}", flush=True)
        asyncio.run(forget_redis_keys(args.redis_url, redis_prefix))
        if succeeded:
            shutil.rmtree(logs)
        else:
            print(f"logs kept in {logs}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.enrolment_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="a PostgreSQL database on the server to use; the benchmark makes and drops its own beside it",
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="measured requests per endpoint")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests per endpoint first")
    parser.add_argument("--alone", type=int, default=20, help="requests per endpoint sent one at a time, last")
    parser.add_argument("--max-seconds", type=float, default=45.0, help="cap on the measured time per endpoint")
    parser.add_argument("--workers", type=int, default=300, help="workers who submit and are approved")
    parser.add_argument("--seed", type=int, default=442000)
    parser.add_argument("--keep-database", action="store_true", help="leave the database behind, to investigate")
    parser.add_argument("--serve-baseline", nargs=2, metavar=("PORT", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    run_or_serve(args, run, serve_baseline)


if __name__ == "__main__":
    main()
