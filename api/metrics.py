"""`GET /metrics`: the operator's health figures in the Prometheus text format (A192).

The figures are read from the database at each scrape (`engine/store/vitals.py`), so every API
process exposes the same aggregate of all API and worker processes, with nothing shared between
them (no multi-process directory): scrape any one. Families:

    accrual_events_recent{status}              events received in the last hour, by status now
    accrual_queue_depth{status}                open events: PENDING, PROCESSING
    accrual_oldest_pending_event_age_seconds   0 with nothing pending
    accrual_event_processing_seconds           receive to processed, the last hour's events (gauge histogram)
    accrual_webhook_attempts_24h{outcome}      success, failure
    accrual_webhook_backlog                    deliveries PENDING or SENDING
    accrual_webhook_circuits_open              endpoints paused by their circuit breaker
    accrual_rule_errors_last_hour{program_id, rule_id, rule_name, kind}   kind: error, timeout
    accrual_ledger_rollup_behind               journal entries not yet in the reports' rollup
"""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Response, get
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.auth import PUBLIC
from engine.store.db import database_proxy, utcnow
from engine.store.vitals import Vitals, vitals

TEXT_FORMAT = "text/plain; version=0.0.4"


def families(figures: Vitals) -> Iterator[Metric]:
    recent = GaugeMetricFamily(
        "accrual_events_recent", "Events received in the last hour, by status", labels=["status"]
    )
    for status in ("PENDING", "PROCESSING", "COMPLETED", "FAILED"):
        recent.add_metric([status], figures.events_by_status.get(status, 0))
    yield recent
    depth = GaugeMetricFamily("accrual_queue_depth", "Open events, by status", labels=["status"])
    for status in ("PENDING", "PROCESSING"):
        depth.add_metric([status], figures.queue_depth.get(status, 0))
    yield depth
    yield GaugeMetricFamily(
        "accrual_oldest_pending_event_age_seconds",
        "Age of the oldest PENDING event",
        value=figures.oldest_pending_age_s or 0.0,
    )
    latency = figures.latency
    yield GaugeHistogramMetricFamily(
        "accrual_event_processing_seconds",
        "Receive to processed, events of the last hour",
        buckets=[*((str(bound), count) for bound, count in latency.buckets), ("+Inf", latency.count)],
        gsum_value=latency.total_s,
    )
    attempts = GaugeMetricFamily("accrual_webhook_attempts_24h", "Webhook attempts, last 24 hours", labels=["outcome"])
    for outcome, count in sorted(figures.webhook_attempts.items()):
        attempts.add_metric([outcome], count)
    yield attempts
    yield GaugeMetricFamily("accrual_webhook_backlog", "Deliveries PENDING or SENDING", value=figures.webhook_backlog)
    yield GaugeMetricFamily(
        "accrual_webhook_circuits_open", "Endpoints paused by their circuit", value=figures.webhook_circuits_open
    )
    errors = GaugeMetricFamily(
        "accrual_rule_errors_last_hour",
        "Rule evaluations that errored or timed out, last hour",
        labels=["program_id", "rule_id", "rule_name", "kind"],
    )
    for rule in figures.rule_errors:
        errors.add_metric([rule.program_id, rule.rule_id, rule.rule_name, "error"], rule.errors)
        errors.add_metric([rule.program_id, rule.rule_id, rule.rule_name, "timeout"], rule.timeouts)
    yield errors
    yield GaugeMetricFamily(
        "accrual_ledger_rollup_behind", "Journal entries not yet in the rollup", value=figures.rollup_behind
    )


class VitalsCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        with database_proxy.connection_context():
            figures = vitals(utcnow())
        yield from families(figures)


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VitalsCollector())
    return generate_latest(registry)


@get(
    "/metrics",
    sync_to_thread=True,
    opt={PUBLIC: True},
    security=[{}],
    summary="Prometheus metrics",
    tags=["health"],
    media_type=TEXT_FORMAT,
)
def metrics() -> Response[bytes]:
    """The Prometheus text format; figures from the database, the same from every process."""
    return Response(content=exposition(), media_type=TEXT_FORMAT)  # the charset is added by the framework
