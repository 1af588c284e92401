"""The operations screen's arithmetic: metrics text → lag, outbox, dead letters, rates, failures."""

from __future__ import annotations

import pytest

from portal.adapters.outbound.metrics_text import parse_metrics
from portal.core import operations as ops

METRICS = """\
# HELP http_requests_total HTTP requests handled
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/metrics",status="200"} 40.0
http_requests_total{method="GET",route="/healthz",status="200"} 40.0
http_requests_total{method="POST",route="/consent-applications",status="201"} 7.0
http_requests_total{method="GET",route="/consents",status="200"} 12.0
http_requests_total{method="GET",route="/consents/{consent_id}",status="500"} 1.0
# HELP http_requests_created HTTP requests handled
# TYPE http_requests_created gauge
http_requests_created{method="GET",route="/metrics",status="200"} 1.764e+09
# HELP events_consumed_total Consumed events by outcome
# TYPE events_consumed_total counter
events_consumed_total{group="consent",outcome="handled",topic="ccus.worker-snapshots"} 300.0
events_consumed_total{group="consent",outcome="duplicate",topic="ccus.worker-snapshots"} 2.0
events_consumed_total{group="consent",outcome="retried",topic="judgement.judgements"} 4.0
events_consumed_total{group="consent",outcome="dead_lettered",topic="judgement.judgements"} 1.0
# HELP outbox_pending_events Events waiting in an outbox
# TYPE outbox_pending_events gauge
outbox_pending_events{collection="consents"} 3.0
outbox_pending_events{collection="access_log"} 0.0
# HELP outbox_oldest_pending_age_seconds Age of the oldest pending outbox event
# TYPE outbox_oldest_pending_age_seconds gauge
outbox_oldest_pending_age_seconds{collection="consents"} 12.5
# HELP kafka_consumer_lag_total Consumer lag summed over a topic's partitions
# TYPE kafka_consumer_lag_total gauge
kafka_consumer_lag_total{group="consent",topic="judgement.judgements"} 5.0
kafka_consumer_lag_total{group="consent",topic="ccus.worker-snapshots"} 0.0
# HELP http_request_duration_seconds HTTP request latency
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1",method="GET",route="/consents"} 12.0
http_request_duration_seconds_count{method="GET",route="/consents"} 12.0
"""

OK = ops.Probe("ok", 200, {"database": "ok", "kafka": "ok"})


def scrape(at: float, text: str = METRICS, **probes: ops.Probe) -> ops.Scrape:
    return ops.Scrape(
        "consent",
        at,
        probes.get("health", OK),
        probes.get("ready", OK),
        tuple(parse_metrics(text)),
    )


def bump(text: str, line_start: str, value: float) -> str:
    """The metrics text with the sample starting ``line_start`` set to ``value``."""
    lines = [
        f"{line.rsplit(' ', 1)[0]} {value}" if line.startswith(line_start) else line
        for line in text.splitlines()
    ]
    return "\n".join(lines) + "\n"


def test_one_scrape_names_lag_outbox_dead_letters_and_consumption() -> None:
    s = scrape(0)
    assert ops.lag_of(s) == [
        ops.Lag("ccus.worker-snapshots", "consent", 0.0),
        ops.Lag("judgement.judgements", "consent", 5.0),
    ]
    assert ops.outbox_of(s) == [
        ops.Outbox("access_log", 0.0, 0),
        ops.Outbox("consents", 3.0, 12.5),
    ]
    assert ops.dead_letters_of(s) == [
        ops.Consumed("judgement.judgements", "consent", "dead_lettered", 1.0)
    ]
    assert ops.dead_letters_of(s)[0].outcome_ja == "デッドレター"
    assert ops.events_total(s) == 303.0  # handled + duplicate + dead-lettered, not retries
    assert ops.http_total(s) == 20.0  # the sampler's own probes are left out
    assert ops.http_errors(s) == {("GET", "/consents/{consent_id}", "500"): 1.0}
    assert not any(x.name.endswith("_created") for x in s.samples or ())


def test_text_that_is_not_prometheus_is_refused() -> None:
    with pytest.raises(ops.MetricsFormatError):
        parse_metrics('metric{label="unterminated} 1\n')
    assert parse_metrics("") == []


def test_new_dead_letters_retries_and_server_errors_become_failures() -> None:
    history = ops.History(max_points=10)
    assert history.add([scrape(100)], 100) == []
    later = bump(METRICS, 'events_consumed_total{group="consent",outcome="dead_lettered"', 3)
    later = bump(later, 'events_consumed_total{group="consent",outcome="retried"', 6)
    later = bump(later, 'http_requests_total{method="GET",route="/consents/{consent_id}"', 2)
    found = history.add([scrape(105, later)], 105)
    assert [(f.kind, f.count, f.message) for f in found] == [
        ("dead_lettered", 2.0, "judgement.judgements（consent）: デッドレター 2件"),
        ("retried", 2.0, "judgement.judgements（consent）: 再試行 2件"),
        ("http_5xx", 1.0, "HTTP 500: GET /consents/{consent_id} 1件"),
    ]
    assert [f.kind for f in history.failures] == ["http_5xx", "retried", "dead_lettered"]
    assert history.add([scrape(110, later)], 110) == []  # nothing new


def test_a_probe_going_down_and_up_is_recorded_once_each() -> None:
    history = ops.History(max_points=10)
    history.add([scrape(0)], 0)
    down = ops.Probe("failing", 503, {"database": "ok", "kafka": "unavailable"})
    gone = ops.Probe("unreachable", detail="ConnectionRefusedError")
    first = history.add([scrape(5, ready=down)], 5)
    assert [(f.kind, f.message) for f in first] == [
        ("probe", "/readyz が異常になりました（kafka: unavailable）")
    ]
    assert history.add([scrape(10, ready=down)], 10) == []
    back = history.add([scrape(15)], 15)
    assert [(f.kind, f.message, f.count) for f in back] == [
        ("recovered", "/readyz が正常に戻りました", 0)
    ]
    unreachable = ops.Scrape("consent", 20, gone, gone, None, "ConnectionRefusedError")
    kinds = [(f.kind, f.message) for f in history.add([unreachable], 20)]
    assert kinds == [
        ("probe", "/healthz が応答なしになりました（ConnectionRefusedError）"),
        ("probe", "/readyz が応答なしになりました（ConnectionRefusedError）"),
    ]


def test_throughput_per_minute_from_counter_increases_with_restarts() -> None:
    history = ops.History(max_points=4)
    handled = 'events_consumed_total{group="consent",outcome="handled"'
    for at, value in ((0, 300), (10, 310), (20, 340), (30, 5)):  # the last: a restart
        history.add([scrape(at, bump(METRICS, handled, value))], at)
    points = list(history.points)
    rates = ops.rates(points, "consent", "events")
    # totals 303, 313, 343, then 8 after the restart (a reset: the new total is the increase)
    assert [(r.at, r.per_minute) for r in rates] == [(10, 60.0), (20, 180.0), (30, 48.0)]
    assert ops.total_over(rates) == 10 + 30 + 8
    assert [r.per_minute for r in ops.rates(points, "consent", "requests")] == [0.0, 0.0, 0.0]
    assert ops.rates(points, "unknown", "events")[0].per_minute is None
    history.add([scrape(40)], 40)
    assert len(history.points) == 4  # a ring: the oldest point dropped


def test_sparkline_and_age_wording() -> None:
    assert ops.sparkline([]) == ""
    assert ops.sparkline([0, 10, None, 5], width=30, height=12) == (
        "0.0,11.0 10.0,1.0 20.0,11.0 30.0,6.0"
    )
    assert ops.sparkline([0, 0]) == "0.0,39.0 240.0,39.0"
    assert [ops.age_ja(s) for s in (0, 59.9, 60, 3599, 3600, 7500)] == [
        "0秒",
        "59秒",
        "1分",
        "59分",
        "1時間0分",
        "2時間5分",
    ]
