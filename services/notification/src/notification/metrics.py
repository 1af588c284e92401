"""Prometheus metrics of the notification service (process registry, like shared_kernel)."""

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
