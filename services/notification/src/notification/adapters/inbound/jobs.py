"""Background jobs (``runtime.background``): the sender of pending mails, and the sweep that
decides the 再判定 update mails nobody completed."""

from __future__ import annotations

import asyncio
import contextlib

from notification.core.service import NotificationService
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)


class Sender:
    """Sends what is due, then sleeps until woken (a mail was recorded) or the poll time.

    At start it sends at once whatever earlier runs left pending, so a restart picks up
    every mail recorded but not sent.
    """

    def __init__(self, service: NotificationService, poll_seconds: float) -> None:
        self.service = service
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def kick(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                while await self.service.send_due() > 0:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("mail.sender_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)


class RejudgementSweep:
    """Every ``every_seconds``: the re-judgement digests to which nothing new came for the
    wait get their update mail with the lines that arrived (the fallback of ``rejudgements``).

    The wait counts from this job's start at the earliest, so that a restart first reads
    what arrived during the outage.
    """

    def __init__(self, service: NotificationService, every_seconds: float) -> None:
        self.service = service
        self.every_seconds = every_seconds

    async def run(self) -> None:
        listening_since = self.service.clock()
        while True:
            await asyncio.sleep(self.every_seconds)
            try:
                await self.service.close_waited_digests(listening_since)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("rejudgement.sweep_failed")
