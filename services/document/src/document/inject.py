"""Composition root of the document service: the one place that wires adapters to the core."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from jinja2 import Environment

from document.config import Settings
from document.core import access
from document.core.service import DocumentService
from shared_kernel.events.catalogue import ResultNoticeGenerated
from shared_kernel.infra import access_log
from shared_kernel.infra.access_log import AccessLog
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.runtime import Runtime
from shared_kernel.infra.service import service_app

PUBLISHES = (ResultNoticeGenerated,)
"""The events this service publishes (its part of docs/asyncapi.json)."""
TITLE = "帳票サービス"


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    service: DocumentService
    access_log: AccessLog
    pages: Environment  # the HTML pages (the public verification page)


def wire(runtime: Runtime) -> Container:
    from document.adapters.inbound.events import subscribe
    from document.adapters.inbound.pages import html_environment
    from document.adapters.outbound.files import PdfFiles
    from document.adapters.outbound.metrics import count_pdf
    from document.adapters.outbound.pdf import PdfRenderer

    settings = runtime.settings
    assert isinstance(settings, Settings)
    runtime.publishes(*PUBLISHES)
    renderer = PdfRenderer()  # one Typst compiler per process (fonts, templates)
    runtime.index("pdfs.files")
    runtime.index("pdfs.chunks", "files_id")
    service = DocumentService(
        runtime.store("notices", "employer_id", "application_id", "line_id", "code", "sha256"),
        runtime.store("employers"),
        PdfFiles(runtime.db),
        renderer,
        signing_key=settings.signing_key.get_secret_value(),
        public_base_url=settings.public_base_url,
        on_generated=count_pdf,
    )
    subscribe(runtime.consumer, service)
    runtime.index(access_log.COLLECTION, *access_log.INDEXED)
    log = AccessLog(
        DocumentStore(runtime.db, access_log.COLLECTION), access.PURPOSES, linked=access.LINKED
    )
    return Container(
        runtime=runtime,
        settings=settings,
        service=service,
        pages=html_environment(),
        access_log=log,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    from document.adapters.inbound.http import router

    return service_app(TITLE, settings or Settings(), wire, [router, access_log.router])
