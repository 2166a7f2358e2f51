"""Prometheus figures of the API: requests by route, method and status with their latency, kept
by prometheus-client, and gauges computed for each scrape (the queue figures).

With `WORKERS>1` each Sanic worker is a process of its own and a scrape reaches one of them:
`python -m server run` then points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory before this
module is first imported (prometheus-client reads it at import), every worker keeps its counts in
files there, and a scrape sums them all (`http_exposition`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sanic import Request, Sanic
from sanic.response import HTTPResponse

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# `*_created` series double the output and tell an operator nothing a restart does not.
disable_created_metrics()

REQUESTS = Counter(
    "gonghui_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "gonghui_http_request_duration_seconds",
    "Time from the request's arrival to its answer, by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def install(app: Sanic) -> None:
    """Count every answer. The route's template keeps the series few (`/api/v1/orgs/<org_id:int>`,
    not one per id); what matched no route is `unmatched`."""

    counters: dict[tuple[str, str, int], Any] = {}
    timers: dict[tuple[str, str], Any] = {}

    @app.on_response
    async def count_request(request: Request, response: HTTPResponse) -> None:
        # The labelled series are looked up once each: `labels()` takes a lock and builds a key.
        route = f"/{request.route.path}" if request.route else "unmatched"
        counter = counters.get((route, request.method, response.status))
        if counter is None:
            counter = counters[route, request.method, response.status] = REQUESTS.labels(
                route, request.method, str(response.status)
            )
        counter.inc()
        started = getattr(request.ctx, "started", None)
        if started is not None:
            timer = timers.get((route, request.method))
            if timer is None:
                timer = timers[route, request.method] = LATENCY.labels(route, request.method)
            timer.observe(time.perf_counter() - started)


def http_exposition() -> bytes:
    """This process's request figures, or with several workers all workers' summed."""
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


class _Gauges(Collector):
    def __init__(self, families: Iterable[GaugeMetricFamily]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self.families


def gauges_exposition(gauges: Iterable[tuple[str, str, dict[str, str], float]]) -> bytes:
    """Gauges computed for this scrape, given as (name, help, labels, value); one family per name."""
    families: dict[str, GaugeMetricFamily] = {}
    for name, about, labels, value in gauges:
        family = families.get(name)
        if family is None:
            family = families[name] = GaugeMetricFamily(name, about, labels=list(labels))
        family.add_metric(list(labels.values()), value)
    registry = CollectorRegistry()
    registry.register(_Gauges(families.values()))
    return generate_latest(registry)
