"""What the core counts (Prometheus in ``adapters.outbound.metrics``)."""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    def mail_recorded(self, template: str, status: str) -> None: ...

    def mail_sent(self, template: str) -> None: ...

    def mail_failed(self, template: str) -> None:
        """Failed for good (permanent SMTP error, bad address)."""
        ...

    def mail_retry(self, template: str) -> None:
        """A send attempt failed transiently and will be retried."""
        ...

    def pending(self, count: int, oldest_age_seconds: float) -> None:
        """Mails recorded and not yet sent, and the age of the oldest."""
        ...

    def rejudgement_mailed(self, cause: str) -> None:
        """A 再判定 update mail decided (``complete`` or ``waited``)."""
        ...

    def rejudgement_late_line(self) -> None:
        """A re-judged line arrived after its run's update mail was decided."""
        ...


class NoMetrics:
    """Counts nothing (unit tests)."""

    def mail_recorded(self, template: str, status: str) -> None:
        pass

    def mail_sent(self, template: str) -> None:
        pass

    def mail_failed(self, template: str) -> None:
        pass

    def mail_retry(self, template: str) -> None:
        pass

    def pending(self, count: int, oldest_age_seconds: float) -> None:
        pass

    def rejudgement_mailed(self, cause: str) -> None:
        pass

    def rejudgement_late_line(self) -> None:
        pass
