"""運用状況 (role ``operator``): health, lag, outbox, dead letters, failures, throughput.

Everything comes from the sampler's in-memory history (``Container.history``), which reads
the services' own ``/healthz``, ``/readyz`` and ``/metrics``; no Prometheus server is needed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from portal.adapters.inbound.deps import PortalDep
from portal.adapters.inbound.web import login_as, render
from portal.core import operations as ops
from portal.core.formatting import jp_datetime
from shared_kernel.time import JST

router = APIRouter(dependencies=[login_as("operator")])
SERVICE_JA = {
    "identity": "利用者管理",
    "consent": "個人情報利用申請",
    "application": "代行申請",
    "judgement": "レベル判定",
    "notification": "通知",
    "document": "帳票",
    "portal": "ポータル",
}


def _time(at: float) -> str:
    return jp_datetime(datetime.fromtimestamp(at, UTC).isoformat())


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, JST).strftime("%m/%d %H:%M:%S")


def latest_rate(rates: list[ops.Rate]) -> float | None:
    return next((r.per_minute for r in reversed(rates) if r.per_minute is not None), None)


def overview(history: ops.History, now: float) -> dict[str, Any]:
    points = list(history.points)
    services: list[dict[str, Any]] = []
    lags: list[dict[str, Any]] = []
    outboxes: list[dict[str, Any]] = []
    dead: list[dict[str, Any]] = []
    consumed: list[dict[str, Any]] = []
    for name, scrape in history.latest.items():
        events = ops.rates(points, name, "events")
        requests = ops.rates(points, name, "requests")
        last_events = latest_rate(events)
        last_requests = latest_rate(requests)
        services.append(
            {
                "name": name,
                "name_ja": SERVICE_JA.get(name, name),
                "health": scrape.health,
                "ready": scrape.ready,
                "metrics_error": scrape.metrics_error,
                "events_now": last_events,
                "requests_now": last_requests,
                "events_window": ops.total_over(events),
                "requests_window": ops.total_over(requests),
                "events_line": ops.sparkline([r.per_minute for r in events]),
                "requests_line": ops.sparkline([r.per_minute for r in requests]),
                "events_max": max((r.per_minute or 0 for r in events), default=0),
                "requests_max": max((r.per_minute or 0 for r in requests), default=0),
            }
        )
        lags += [{"service": name, **vars(x)} for x in ops.lag_of(scrape)]
        outboxes += [
            {"service": name, **vars(x), "age_ja": ops.age_ja(x.oldest_age_seconds)}
            for x in ops.outbox_of(scrape)
        ]
        dead += [{"service": name, **vars(x)} for x in ops.dead_letters_of(scrape)]
        consumed += [
            {"service": name, **vars(x), "outcome_ja": x.outcome_ja}
            for x in ops.consumed_of(scrape)
        ]
    window = (points[-1].at - points[0].at) / 60 if len(points) > 1 else 0
    return {
        "services": services,
        "lags": lags,
        "lag_total": sum(x["lag"] for x in lags),
        "outboxes": outboxes,
        "outbox_total": sum(x["pending"] for x in outboxes),
        "dead_letters": dead,
        "dead_total": sum(x["count"] for x in dead),
        "consumed": consumed,
        "failures": [
            {**vars(f), "time": _clock(f.at), "service_ja": SERVICE_JA.get(f.service, f.service)}
            for f in history.failures
        ],
        "failure_count": sum(1 for f in history.failures if f.kind != "recovered"),
        "window_minutes": round(window, 1),
        "sampled_at": _time(points[-1].at) if points else None,
        "now": _time(now),
    }


@router.get("/ops", summary="運用状況", response_model=None)
async def operations(request: Request, portal: PortalDep, refresh: int = 1) -> Response:
    container = portal
    if not container.history.points:
        await container.sampler.sample()
    view = overview(container.history, time.time())
    return render(
        request,
        "ops.html",
        {
            **view,
            "every": container.settings.ops_sample_seconds,
            "auto_refresh": bool(refresh),
        },
    )
