"""Composition root of the document service: the one place that wires adapters to the core."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from jinja2 import Environment

from document.adapters.inbound.http import STATUS, get_access_log, get_pages, get_service, router
from document.config import Settings
from document.core import access
from document.core.models import Employer, Notice
from document.core.service import DocumentService
from shared_kernel.events.catalogue import ResultNoticeGenerated
from shared_kernel.infra import access_log
from shared_kernel.infra.access_log import AccessLog
from shared_kernel.infra.http import install_error_translator
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.runtime import Runtime
from shared_kernel.infra.service import service_app

PUBLISHES = (ResultNoticeGenerated,)
"""The events this service publishes (its part of docs/asyncapi.json)."""
TITLE = "帳票サービス"
NOTICES = "notices"


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
    from document.adapters.outbound.migrations import NOTICE_SEQUENCE, number_first_notices
    from document.adapters.outbound.pdf import PdfRenderer

    settings = runtime.settings
    assert isinstance(settings, Settings)
    runtime.publishes(*PUBLISHES)
    renderer = PdfRenderer()  # one Typst compiler per process (fonts, templates)
    runtime.index("pdfs.files")
    runtime.index("pdfs.chunks", "files_id")
    notices = runtime.store(NOTICES, "employer_id", "application_id", "line_id", "code", "sha256")
    service = DocumentService(
        Repository(notices, Notice),
        Repository(runtime.store("employers"), Employer),
        PdfFiles(runtime.db),
        renderer,
        signing_key=settings.signing_key.get_secret_value(),
        public_base_url=settings.public_base_url,
        on_generated=count_pdf,
    )
    subscribe(runtime.consumer, service)

    async def numbered(_: Runtime) -> None:
        await number_first_notices(notices)

    runtime.migration(NOTICE_SEQUENCE, numbered)
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


def service_of(request: Request) -> DocumentService:
    """The wired service (the lifespan put the container on the app)."""
    container: Container = request.app.state.container
    return container.service


def access_log_of(request: Request) -> AccessLog:
    container: Container = request.app.state.container
    return container.access_log


def pages_of(request: Request) -> Environment:
    container: Container = request.app.state.container
    return container.pages


def create_app(settings: Settings | None = None) -> FastAPI:
    app = service_app(TITLE, settings or Settings(), wire, [router, access_log.router])
    install_error_translator(app, STATUS)
    app.dependency_overrides[get_service] = service_of
    app.dependency_overrides[get_access_log] = access_log_of
    app.dependency_overrides[get_pages] = pages_of
    return app
