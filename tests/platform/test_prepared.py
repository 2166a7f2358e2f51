"""Prepared queries answer what the query sets they stand for answer, for each call's own values,
on the connection the query set would use, and refuse shapes they cannot keep."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import httpx
import pytest
from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models.enrolment.queries import EnrolmentQueue, reviewable_enrolments, reviewable_page
from models.enrolment.tables import EnrolmentStatus
from models.orgs import Org, OrgClosure, OrgType
from models.prepared import Prepared, PreparedGet, counted_page
from models.scope import StaffScope
from models.service_orders.queries import queue as order_queue
from models.service_orders.queries import queue_page as order_queue_page
from models.service_orders.tables import ServiceOrder
from models.warm_requests.queries import queue as warm_queue
from models.warm_requests.queries import queue_page as warm_queue_page
from server.clock import SHANGHAI, now
from tests.factories.common import unique
from tests.factories.enrolment import applicant
from tests.factories.unions import demo_org, make_org, make_staff
from tests.factories.warm_requests import help_request

# The stack's server has migrated the database and loaded the demo; Tortoise is initialised on it.
pytestmark = pytest.mark.usefixtures("stack")

CITY = "中山市总工会"


def _children(parent_id: int | None, limit: int) -> object:
    return Org.filter(parent_id=parent_id).order_by("id").limit(limit)


CHILDREN = Prepared(_children)
ANCESTORS = Prepared(
    lambda org_id: Org.filter(id__in=Subquery(OrgClosure.filter(descendant_id=org_id).values("ancestor_id"))).order_by(
        "depth"
    )
)
CHILD_COUNTS = Prepared(
    lambda ids: (
        Org.filter(parent_id__in=ids)
        .annotate(count=Count("id"))
        .group_by("parent_id")
        .values_list("parent_id", "count")
    )
)
BY_TYPE_COUNT = Prepared(
    lambda parent_id, org_type, accepts: Org.filter(
        parent_id=parent_id, org_type=org_type, accepts_members=accepts
    ).count()
)
NAMED = Prepared(lambda name: Org.get_or_none(name=name))
BY_NAME = PreparedGet(Org, "name", "parent")


async def test_answers_as_the_query_set_for_each_calls_values() -> None:
    city = await demo_org(CITY)
    first = await make_org(city)
    second = await make_org(city)
    grand = await make_org(first)
    for parent in (city, first, second):
        expected = await _children(parent.id, 50)
        found = await CHILDREN(parent.id, 50)
        assert [(o.id, o.name, o.depth, o.created_at) for o in found] == [
            (o.id, o.name, o.depth, o.created_at) for o in expected
        ]
    assert [o.id for o in await CHILDREN(first.id, 1)] == [grand.id]
    assert await CHILDREN(second.id, 5) == []
    assert [o.id for o in await ANCESTORS(grand.id)][-3:] == [city.id, first.id, grand.id]
    assert (await NAMED(second.name)).id == second.id  # type: ignore[union-attr]
    assert await NAMED(unique("没有这个工会")) is None
    found = await BY_NAME.get_or_none(grand.name)
    assert found is not None and found.parent.name == first.name  # select_related came along


async def test_a_joined_row_makes_the_instances_the_query_set_makes() -> None:
    city = await demo_org(CITY)
    child = await make_org(city)
    root = await Org.filter(parent_id=None).order_by("id").first()
    assert root is not None
    for name, parent in ((child.name, city), (root.name, None)):
        expected = await Org.filter(name=name).select_related("parent").limit(2)
        found = await BY_NAME.get_or_none(name)
        assert found is not None and len(expected) == 1
        stored = list(Org._meta.fields_db_projection)
        assert [(f, getattr(found, f)) for f in stored] == [(f, getattr(expected[0], f)) for f in stored]
        assert found._saved_in_db and not found._partial
        if parent is None:
            assert found.parent is None and expected[0].parent is None  # no parent: None, as Tortoise has it
        else:
            assert found.parent.id == expected[0].parent.id == parent.id
            assert found.parent.name == parent.name and found.parent.created_at == expected[0].parent.created_at


async def test_a_plain_row_makes_the_instance_the_query_set_makes() -> None:
    parent = await make_org(await demo_org(CITY))
    await make_org(parent)
    await make_org(parent, org_type=OrgType.PARK, accepts_members=False)
    expected = await _children(parent.id, 10)
    found = await CHILDREN(parent.id, 10)
    stored = list(Org._meta.fields_db_projection)
    assert len(found) == len(expected) == 2
    assert [[(f, getattr(org, f)) for f in stored] for org in found] == [
        [(f, getattr(org, f)) for f in stored] for org in expected
    ]
    assert all(org._saved_in_db and not org._partial for org in found)
    assert [type(org.org_type) for org in found] == [OrgType, OrgType]


async def test_none_bools_enums_and_list_lengths_are_shapes_of_their_own() -> None:
    city = await demo_org(CITY)
    roots = await CHILDREN(None, 100)
    assert roots and all(org.parent_id is None for org in roots)
    parent = await make_org(city)
    await make_org(parent, org_type=OrgType.ENTERPRISE, accepts_members=True)
    await make_org(parent, org_type=OrgType.ENTERPRISE, accepts_members=False)
    await make_org(parent, org_type=OrgType.PARK, accepts_members=True)
    assert await BY_TYPE_COUNT(parent.id, OrgType.ENTERPRISE, True) == 1
    assert await BY_TYPE_COUNT(parent.id, OrgType.ENTERPRISE, False) == 1
    assert await BY_TYPE_COUNT(parent.id, OrgType.PARK, True) == 1
    assert await BY_TYPE_COUNT(parent.id, OrgType.PARK, False) == 0
    other = await make_org(city)
    await make_org(other)
    assert dict(await CHILD_COUNTS([parent.id])) == {parent.id: 3}
    assert dict(await CHILD_COUNTS([parent.id, other.id])) == {parent.id: 3, other.id: 1}
    assert await CHILD_COUNTS([]) == []
    # Longer than the longest prepared list: run as the query set, same answer.
    many = [parent.id, other.id, *range(10**12, 10**12 + 150)]
    assert dict(await CHILD_COUNTS(many)) == {parent.id: 3, other.id: 1}


async def test_runs_inside_the_transaction_it_is_called_in() -> None:
    city = await demo_org(CITY)
    parent = await make_org(city)
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await make_org(parent)
            # Only the transaction's own connection sees the child it has not committed yet.
            assert len(await CHILDREN(parent.id, 10)) == 1
            raise RuntimeError("roll back")
    assert await CHILDREN(parent.id, 10) == []


async def test_many_runs_a_statement_once_per_row_with_that_rows_values() -> None:
    city = await demo_org(CITY)
    parent = await make_org(city)
    first, second, third = [await make_org(parent) for _ in range(3)]
    rename = Prepared(lambda org_id, name, accepts: Org.filter(id=org_id).update(name=name, accepts_members=accepts))
    # Two shapes among the rows (a boolean is a shape), each sent in one executemany.
    rows = [(first.id, unique("甲"), False), (second.id, unique("乙"), True), (third.id, unique("丙"), False)]
    await rename.many(rows)
    stored = {org.id: (org.name, org.accepts_members) for org in await Org.filter(parent_id=parent.id)}
    assert stored == {org_id: (name, accepts) for org_id, name, accepts in rows}
    # Inside a transaction, on its connection: rolled back with it.
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await rename.many([(first.id, "不应留下", True)])
            assert (await Org.get(id=first.id)).name == "不应留下"
            raise RuntimeError("roll back")
    assert (await Org.get(id=first.id)).name == rows[0][1]
    await rename.many([])
    with pytest.raises(TypeError, match="at most 100"):
        await Prepared(lambda ids: Org.filter(id__in=ids).update(accepts_members=True)).many([(list(range(150)),)])


async def test_times_are_sent_as_the_query_set_sends_them() -> None:
    city = await demo_org(CITY)
    org = await make_org(city)
    made_after = Prepared(lambda parent_id, after: Org.filter(parent_id=parent_id, created_at__gte=after))
    # The zone the database holds (what the API hands the domain, server/http.py): right answers.
    moment = org.created_at.astimezone(SHANGHAI)
    assert org.id in {o.id for o in await made_after(city.id, moment - timedelta(seconds=1))}
    assert org.id not in {o.id for o in await made_after(city.id, moment + timedelta(seconds=1))}
    # In any zone, what the query set would answer (SQLite compares times as text, both ways).
    for zone in (SHANGHAI, UTC):
        for shift in (-1, 1):
            after = org.created_at.astimezone(zone) + timedelta(seconds=shift)
            expected = {o.id for o in await Org.filter(parent_id=city.id, created_at__gte=after)}
            assert {o.id for o in await made_after(city.id, after)} == expected


async def test_a_value_rewritten_before_it_reaches_sql_is_refused() -> None:
    searching = Prepared(lambda text: Org.filter(name__icontains=text))
    with pytest.raises(TypeError, match="not a value as given"):
        await searching("中山")
    paged_count = Prepared(lambda parent_id: Org.filter(parent_id=parent_id).offset(5).count())
    with pytest.raises(TypeError, match="limit or an offset"):
        await paged_count(1)


@pytest.mark.parametrize("sees_everything", [False, True], ids=["subtree", "everything"])
async def test_staff_queues_page_as_their_query_sets(api: httpx.AsyncClient, sees_everything: bool) -> None:
    city = await demo_org(CITY)
    scope = StaffScope(org_id=city.id, sees_everything=sees_everything)
    staff = await make_staff(city)
    for _ in range(3):
        await applicant(api)
        await help_request(api, city.id)
    at = now()

    async def same(prepared: tuple[list[Any], int], expected: tuple[list[Any], int]) -> None:
        assert ([row.id for row in prepared[0]], prepared[1]) == ([row.id for row in expected[0]], expected[1])

    for status in (None, EnrolmentStatus.SUBMITTED):
        await same(
            await reviewable_page(scope, sort="-submitted_at", offset=0, limit=5, status=status),
            await counted_page(reviewable_enrolments(scope, status=status), "-submitted_at", "-id", offset=0, limit=5),
        )
    await same(
        await reviewable_page(scope, sort="real_name", offset=1, limit=3, queue=EnrolmentQueue.PENDING),
        await counted_page(
            reviewable_enrolments(scope, queue=EnrolmentQueue.PENDING), "real_name", "-id", offset=1, limit=3
        ),
    )
    for assignee in (None, "me", "none"):
        await same(
            await warm_queue_page(scope, staff, at=at, offset=0, limit=5, assignee=assignee),
            await counted_page(
                warm_queue(scope, staff, at=at, assignee=assignee), "created_at", "id", offset=0, limit=5
            ),
        )
    # The demo's service orders are elsewhere in the tree: the scope over the first one's union.
    demo_order = await ServiceOrder.first()
    assert demo_order is not None
    order_scope = StaffScope(org_id=demo_order.org_id, sees_everything=sees_everything)
    await same(
        await order_queue_page(order_scope, offset=0, limit=5),
        await counted_page(order_queue(order_scope), "created_at", "id", offset=0, limit=5),
    )
    # Rows of each kind are there, or the comparisons above compared nothing.
    assert (await reviewable_page(scope, sort="-submitted_at", offset=0, limit=1))[1] >= 3
    assert (await warm_queue_page(scope, staff, at=at, offset=0, limit=1))[1] >= 3
    assert (await order_queue_page(order_scope, offset=0, limit=1))[1] > 0
