"""The public 結果通知書 verification passed through to the document service (``pages_verify``).

Scripted document answers (``httpx.MockTransport``) for what is passed on and back, the body
limit, the Japanese 503; then the real document service (its app over ASGI, with its
database and Kafka) behind the portal: an unknown code (JSON and the page), a PDF it never
issued (multipart, as its own page's form sends it) and a body that is no PDF.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from document.config import Settings as DocumentSettings
from document.inject import create_app as document_app
from portal.adapters.inbound.body_limit import MULTIPART_ALLOWANCE, VERIFY_PDF_BYTES
from portal.config import Settings
from portal.inject import create_app
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import isolated

from .conftest import HTML, Portal, Services, reply, serving

CODE = "ABCD-EFGH-IJKL-MNOP"
PDF = b"%PDF-1.4\n% not a notice we issued\n%%EOF\n"


async def test_a_code_is_passed_on_with_the_accept_header_and_answered_as_it_came(
    portal: Portal,
) -> None:
    client, services = portal
    body = {"authentic": True, "current": True, "notice_id": "RN-AP-1-1"}
    services.routes[("GET", f"/verify/{CODE}")] = reply(200, body)
    answer = await client.get(f"/verify/{CODE}", headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.json() == body
    method, url, headers, _ = services.sent[-1]
    assert (method, url) == ("GET", f"http://127.0.0.1:8006/verify/{CODE}")
    assert headers["accept"] == "application/json"
    assert "authorization" not in headers and "cookie" not in headers  # public: no login
    assert "set-cookie" not in answer.headers  # no session for a QR code's visitor
    assert answer.headers["cache-control"] == "no-store"

    page = "<!doctype html><style>h1{}</style><h1>結果通知書の真正性の確認</h1>"
    services.routes[("GET", "/verify/UNKNOWN")] = httpx.Response(
        404, headers={"content-type": "text/html; charset=utf-8"}, content=page.encode()
    )
    answer = await client.get("/verify/UNKNOWN", headers=HTML)
    assert answer.status_code == 404 and answer.text == page
    assert services.sent[-1][2]["accept"] == HTML["Accept"]
    policy = answer.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in policy and "script-src" not in policy
    assert "default-src 'none'" in policy and "form-action 'self'" in policy


async def test_a_code_cannot_reach_another_document_path(portal: Portal) -> None:
    client, services = portal
    services.routes[("GET", "/verify/a?b#c")] = reply(404, {"message": "x"})
    await client.get("/verify/a%3Fb%23c")
    _, url, _, _ = services.sent[-1]
    assert url == "http://127.0.0.1:8006/verify/a%3Fb%23c"


async def test_an_upload_is_passed_on_as_it_came(portal: Portal) -> None:
    client, services = portal
    not_ours = {"authentic": False, "message": "一致しません"}
    services.routes[("POST", "/verify")] = reply(200, not_ours)
    answer = await client.post("/verify", files={"file": ("notice.pdf", PDF, "application/pdf")})
    assert answer.status_code == 200 and answer.json()["message"] == "一致しません"
    _, url, headers, body = services.sent[-1]
    assert url == "http://127.0.0.1:8006/verify"
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert body is not None and PDF in body  # the multipart body, untouched

    services.routes[("POST", "/verify")] = reply(
        422, {"code": "not_a_pdf", "message": "PDFファイルを送信してください。"}
    )
    answer = await client.post("/verify", content=b"hello", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 422 and answer.json()["code"] == "not_a_pdf"


async def test_a_body_over_the_documents_limit_is_refused_before_it_is_sent(
    portal: Portal,
) -> None:
    client, services = portal
    services.routes[("POST", "/verify")] = reply(200, {})
    big = b"%PDF" + b"0" * (VERIFY_PDF_BYTES + MULTIPART_ALLOWANCE)
    answer = await client.post("/verify", content=big, headers={"Content-Type": "application/pdf"})
    assert answer.status_code == 413
    assert "10MB" in answer.json()["message"]
    assert not services.sent  # nothing reached the document service
    # the form limit of the other routes does not apply: a 1 MB PDF goes through
    ok = await client.post(
        "/verify", content=b"%PDF" + b"0" * 1024 * 1024, headers={"Content-Type": "application/pdf"}
    )
    assert ok.status_code == 200


@pytest.mark.parametrize("down", ["refused", "5xx"])
async def test_a_document_service_down_is_a_japanese_503(portal: Portal, down: str) -> None:
    client, services = portal
    if down == "5xx":
        services.routes[("GET", f"/verify/{CODE}")] = reply(500, {"message": "boom"})
    page = await client.get(f"/verify/{CODE}", headers=HTML)
    assert page.status_code == 503 and "帳票サービスに接続できない" in page.text
    answer = await client.get(f"/verify/{CODE}")
    assert answer.status_code == 503 and "帳票サービス" in answer.json()["message"]


# --- the real document service behind the portal --------------------------------------------


@pytest.fixture
async def through_document(settings: ServiceSettings, db: object) -> AsyncIterator[Portal]:
    doc = document_app(
        isolated(
            DocumentSettings,
            topic_prefix=settings.topic_prefix,
            db_name=settings.db_name,
            environment="test",
            public_base_url="http://portal.test",
            DOCUMENT_SIGNING_KEY="integration-signing-key-0123456789abcdef",
        )
    )
    async with doc.router.lifespan_context(doc):
        app = create_app(
            isolated(
                Settings, environment="test", ops_sample_seconds=3600, document_url="http://doc:80"
            ),
            http_transport=httpx.ASGITransport(app=doc),
        )
        async with serving(app) as client:
            yield client, Services()


async def test_the_real_document_service_answers_through_the_portal(
    through_document: Portal,
) -> None:
    client, _ = through_document
    answer = await client.get(f"/verify/{CODE}")
    assert answer.status_code == 404
    assert answer.json()["code"] == "unknown_code" and "検証コード" in answer.json()["message"]

    page = await client.get(f"/verify/{CODE}", headers=HTML)
    assert page.status_code == 404 and "結果通知書の真正性の確認" in page.text
    # the page's upload form posts back to the portal (the public base URL)
    assert 'action="http://portal.test/verify"' in page.text

    upload = await client.post(
        "/verify", files={"file": ("notice.pdf", PDF, "application/pdf")}, headers=HTML
    )
    assert upload.status_code == 200 and "一致しません" in upload.text

    raw = await client.post("/verify", content=PDF, headers={"Content-Type": "application/pdf"})
    assert raw.status_code == 200 and raw.json()["authentic"] is False

    garbage = await client.post("/verify", content=b"hello", headers={"Content-Type": "text/plain"})
    assert garbage.status_code in (400, 415, 422) and garbage.json()["message"]
