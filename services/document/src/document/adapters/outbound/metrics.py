"""Prometheus metrics of the document service."""

from prometheus_client import Counter

PDFS_GENERATED = Counter("pdfs_generated_total", "結果通知書 PDFs generated and stored")


def count_pdf() -> None:
    PDFS_GENERATED.inc()
