"""Prometheus metrics of the notification service (process registry, like shared_kernel),
and the core's ``Metrics`` port over them (``PrometheusMetrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MAILS_RECORDED = Counter(
    "notification_mails_recorded_total",
    "Mails recorded by event handlers, by template and initial status",
    ["template", "status"],
)
MAILS_SENT = Counter(
    "notification_mails_sent_total", "Mails accepted by the SMTP server", ["template"]
)
MAILS_FAILED = Counter(
    "notification_mails_failed_total",
    "Mails that failed for good (permanent SMTP error, bad address)",
    ["template"],
)
MAIL_RETRIES = Counter(
    "notification_mail_retries_total",
    "Send attempts that failed transiently and will be retried",
    ["template"],
)
MAILS_PENDING = Gauge("notification_mails_pending", "Mails recorded and not yet sent")
OLDEST_PENDING_AGE = Gauge(
    "notification_oldest_pending_mail_age_seconds", "Age of the oldest pending mail"
)
REJUDGEMENT_MAILS_DECIDED = Counter(
    "notification_rejudgement_mails_decided_total",
    "再判定 update mails decided (one per employer and run), by cause: complete (every "
    "planned line arrived) or waited (the fallback after the quiet wait)",
    ["cause"],
)
REJUDGEMENT_LATE_LINES = Counter(
    "notification_rejudgement_late_lines_total",
    "Re-judged lines that arrived after their run's update mail was decided (not mailed)",
)


class PrometheusMetrics:
    """The ``Metrics`` port over the process registry's counters above."""

    def mail_recorded(self, template: str, status: str) -> None:
        MAILS_RECORDED.labels(template, status).inc()

    def mail_sent(self, template: str) -> None:
        MAILS_SENT.labels(template).inc()

    def mail_failed(self, template: str) -> None:
        MAILS_FAILED.labels(template).inc()

    def mail_retry(self, template: str) -> None:
        MAIL_RETRIES.labels(template).inc()

    def pending(self, count: int, oldest_age_seconds: float) -> None:
        MAILS_PENDING.set(count)
        OLDEST_PENDING_AGE.set(oldest_age_seconds)

    def rejudgement_mailed(self, cause: str) -> None:
        REJUDGEMENT_MAILS_DECIDED.labels(cause).inc()

    def rejudgement_late_line(self) -> None:
        REJUDGEMENT_LATE_LINES.inc()
