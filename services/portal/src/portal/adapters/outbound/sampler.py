"""The operations screen's sampler: reads every service's probes and /metrics periodically.

Runs as a background job of the portal (started by ``inject.py``). Each round reads, for every
service at once, ``/healthz``, ``/readyz`` and ``/metrics`` (the portal's own metrics are
read in-process) and adds the round to the :class:`~portal.core.operations.History` ring
buffer. No Prometheus server is needed: the screen works on the local stack as it is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from prometheus_client import generate_latest

from portal.adapters.outbound.services import Services, ServiceUnavailable
from portal.core.operations import (
    History,
    MetricsFormatError,
    Probe,
    Scrape,
)
from portal.ports.metrics import MetricsParser
from portal.ports.transport import Reply
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)
PROBE_TIMEOUT = 3.0


def _probe(reply: Reply | None, error: str | None) -> Probe:
    if reply is None:
        return Probe("unreachable", detail=error)
    checks: dict[str, str] = {}
    try:
        body = reply.json()
        if isinstance(body, dict) and isinstance(body.get("checks"), dict):
            checks = {str(k): str(v) for k, v in body["checks"].items()}
    except ValueError:
        pass
    return Probe("ok" if reply.status == 200 else "failing", reply.status, checks)


class Sampler:
    def __init__(
        self,
        services: Services,
        history: History,
        names: Sequence[str],
        every: float,
        parse_metrics: MetricsParser,
    ) -> None:
        self.services = services
        self.parse_metrics = parse_metrics
        self.history = history
        self.names = list(names)
        self.every = every
        self.rounds = 0
        self._lock = asyncio.Lock()

    async def _get(self, service: str, path: str) -> tuple[Reply | None, str | None]:
        try:
            reply = await self.services.send(
                service, "GET", path, timeout=PROBE_TIMEOUT, quiet=True
            )
            return reply, None
        except ServiceUnavailable as exc:
            return None, exc.detail

    async def scrape(self, service: str) -> Scrape:
        at = time.time()
        if service == "portal":
            ok = Probe("ok", 200)
            text = generate_latest().decode()
            return Scrape(service, at, ok, ok, tuple(self.parse_metrics(text)))
        (health, herr), (ready, rerr), (metrics, merr) = await asyncio.gather(
            self._get(service, "/healthz"),
            self._get(service, "/readyz"),
            self._get(service, "/metrics"),
        )
        samples = None
        error = merr
        if metrics is not None:
            if metrics.status != 200:
                error = f"HTTP {metrics.status}"
            else:
                try:
                    samples = tuple(self.parse_metrics(metrics.body.decode("utf-8", "replace")))
                except MetricsFormatError as exc:
                    error = f"形式が正しくありません: {exc}"
        return Scrape(service, at, _probe(health, herr), _probe(ready, rerr), samples, error)

    async def sample(self) -> None:
        """One round over every service (one at a time: the screen may also ask for one)."""
        async with self._lock:
            scrapes = await asyncio.gather(*(self.scrape(name) for name in self.names))
            failures = self.history.add(scrapes, time.time())
            self.rounds += 1
        for failure in failures:
            log.info(
                "ops.failure",
                failed_service=failure.service,
                kind=failure.kind,
                detail=failure.message,
            )

    async def run(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception:
                log.exception("ops.sample_failed")
            await asyncio.sleep(self.every)
