"""GET /metrics: request counts and latency by route and status, queue figures from the database,
and who may read it (METRICS_TOKEN, or loopback clients only)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from models.kernel.calendar import CalendarKind
from models.kernel.jobs import record_failure
from models.kernel.timers import start_timer
from server.clock import now
from tests.conftest import Stack, start_servers
from tests.factories.common import assert_error, bearer, login_staff, unique
from tests.factories.enrolment import applicant
from tests.factories.unions import demo_org, make_staff

ORG_ROUTE = "/api/v1/orgs/<org_id:int>"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(figures: dict, name: str, **labels: str) -> float:
    return figures.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient, **headers: str) -> dict:
    answer = await client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return samples(answer.text)


async def test_requests_are_counted_by_route_and_status(api: httpx.AsyncClient, stack: Stack) -> None:
    before = await scrape(api)
    for _ in range(3):
        assert (await api.get("/api/v1/orgs/1")).status_code == 200
    assert (await api.get("/api/v1/orgs/999999999")).status_code == 404
    assert (await api.get(f"/{unique('no-such-page-')}")).status_code == 404
    after = await scrape(api)
    counted = "gonghui_http_requests_total"
    assert (
        value(after, counted, route=ORG_ROUTE, method="GET", status="200")
        - value(before, counted, route=ORG_ROUTE, method="GET", status="200")
        == 3
    )
    assert (
        value(after, counted, route=ORG_ROUTE, method="GET", status="404")
        - value(before, counted, route=ORG_ROUTE, method="GET", status="404")
        == 1
    )
    # A path that matched no route is one series, whatever the path was.
    assert value(after, counted, route="unmatched", method="GET", status="404") >= 1
    assert not any("no-such-page" in str(labels) for _, labels in after)
    timed = "gonghui_http_request_duration_seconds_count"
    assert value(after, timed, route=ORG_ROUTE, method="GET") - value(before, timed, route=ORG_ROUTE, method="GET") == 4
    assert value(after, "gonghui_database_up") == 1
    if stack.backend == "production":
        assert value(after, "gonghui_redis_up") == 1


async def test_queue_figures_follow_the_database(api: httpx.AsyncClient) -> None:
    """No job runner runs in this module: what the approval queues stays pending."""
    job, case_type = unique("metrics-job-"), unique("metrics-case-")[:32]
    before = await scrape(api)
    _, _, enrolment_id = await applicant(api)
    caseworker = await make_staff(await demo_org("中山市总工会"))
    approved = await api.post(
        f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(await login_staff(api, caseworker.username))
    )
    assert approved.status_code == 200, approved.text
    await record_failure(job, "item", 1, "boom")
    await record_failure(job, "item", 2, "boom")
    moment = now()
    # 24x7 timers: one past its due time (breached), one past 80 % of its target (at risk).
    await start_timer(
        case_type=case_type,
        case_id=1,
        kind="k",
        target_minutes=60,
        calendar=CalendarKind.ALWAYS,
        at=moment - timedelta(hours=2),
    )
    await start_timer(
        case_type=case_type,
        case_id=2,
        kind="k",
        target_minutes=100,
        calendar=CalendarKind.ALWAYS,
        at=moment - timedelta(minutes=90),
    )
    after = await scrape(api)
    pending = "gonghui_notification_deliveries"
    assert value(after, pending, status="pending") - value(before, pending, status="pending") >= 1
    assert value(after, "gonghui_job_failures_open", job=job) == 2
    assert value(after, "gonghui_sla_timers", case_type=case_type, state="breached") == 1
    assert value(after, "gonghui_sla_timers", case_type=case_type, state="at_risk") == 1
    assert value(after, "gonghui_notification_oldest_due_seconds") >= 0


async def test_without_a_token_only_loopback_clients_may_read(stack: Stack) -> None:
    """Behind a trusted proxy a client's real address decides: a public one is refused."""
    servers, (url,) = start_servers(stack, "metrics-proxied", TRUSTED_PROXIES="127.0.0.1")
    try:
        async with httpx.AsyncClient(base_url=url, timeout=20) as client:
            await scrape(client)
            relayed = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
            assert_error(relayed, 403, "metrics.forbidden")
            await scrape(client, **{"X-Forwarded-For": "127.0.0.1"})
    finally:
        for server in servers:
            server.stop()


async def test_with_a_token_only_its_bearer_may_read(stack: Stack) -> None:
    token = unique("metrics-token-")
    servers, (url,) = start_servers(stack, "metrics-token", METRICS_TOKEN=token)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=20) as client:
            assert_error(await client.get("/metrics"), 403, "metrics.forbidden")
            assert_error(await client.get("/metrics", headers=bearer(token + "x")), 403, "metrics.forbidden")
            assert_error(await client.get("/metrics", headers={"Authorization": token}), 403, "metrics.forbidden")
            figures = await scrape(client, **bearer(token))
            assert value(figures, "gonghui_database_up") == 1
    finally:
        for server in servers:
            server.stop()


async def test_several_workers_are_summed(stack: Stack) -> None:
    """WORKERS=2: each worker process counts its own answers, a scrape reaches one and shows all."""
    if stack.backend != "production":
        pytest.skip("WORKERS>1 needs REDIS_URL, which the embedded back end does not have")
    servers, (url,) = start_servers(stack, "metrics-workers", WORKERS="2")
    try:
        async with httpx.AsyncClient(
            base_url=url, timeout=20, limits=httpx.Limits(max_keepalive_connections=0)
        ) as client:
            before = await scrape(client)
            for _ in range(20):
                assert (await client.get("/api/v1/orgs/1")).status_code == 200
            for _ in range(4):  # whichever worker answers the scrape, the sum is the same
                after = await scrape(client)
                counted = value(after, "gonghui_http_requests_total", route=ORG_ROUTE, method="GET", status="200")
                assert (
                    counted - value(before, "gonghui_http_requests_total", route=ORG_ROUTE, method="GET", status="200")
                    == 20
                )
    finally:
        for server in servers:
            server.stop()
