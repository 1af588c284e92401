"""Prometheus metrics of the document service."""

from prometheus_client import Counter, Histogram

PDFS_GENERATED = Counter(
    "pdfs_generated_total", "PDFs generated, by kind (result_notice, consent_form)", ["kind"]
)
PDF_RENDER_SECONDS = Histogram(
    "pdf_render_seconds",
    "Time to render one PDF (template, layout, fonts), by template",
    ["template"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0),
)
NOTICE_VERIFICATIONS = Counter(
    "notice_verifications_total",
    "Public verifications of 結果通知書, by way (code, file) and result",
    ["via", "result"],
)


def count_pdf(kind: str) -> None:
    PDFS_GENERATED.labels(kind).inc()


def observe_render(template: str, seconds: float) -> None:
    PDF_RENDER_SECONDS.labels(template.removesuffix(".html")).observe(seconds)


def count_verification(via: str, result: str) -> None:
    NOTICE_VERIFICATIONS.labels(via, result).inc()
