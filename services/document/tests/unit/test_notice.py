"""The 結果通知書: contents, signature, verification code, and the rendered PDF's text."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from document.adapters.outbound.pdf import PdfRenderer, qr_data_uri
from document.core import notice

from ..conftest import judged

KEY = "test-signing-key-0123456789abcdef"
ARTIFACTS = Path(__file__).resolve().parents[4] / "var" / "test-artifacts"


def test_signature_verifies_only_the_signed_hash() -> None:
    digest = notice.content_hash(b"%PDF-1.7 notice")
    signature = notice.sign(KEY, digest)
    assert notice.verifies(KEY, digest, signature)
    assert not notice.verifies(KEY, notice.content_hash(b"%PDF-1.7 altered"), signature)
    assert not notice.verifies("another-key-0123456789abcdef0000", digest, signature)


def test_verification_code_is_stable_and_per_notice() -> None:
    code = notice.verification_code(KEY, "RN-AP-1-1")
    assert code == notice.verification_code(KEY, "RN-AP-1-1")
    assert code != notice.verification_code(KEY, "RN-AP-1-2")
    assert len(code) == 19 and code.count("-") == 3


def test_context_card_colour_basis_and_unmet() -> None:
    issued = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)  # 2026-11-22 in Japan
    ok = notice.context(
        judged(),
        number="RN-AP-1-1",
        code="C",
        employer_name="株式会社髙﨑建設",
        verify_url="u",
        issued_at=issued,
    )
    assert (ok["card_colour"], ok["decision_ja"], ok["issued_on"]) == (
        "シルバー",
        "承認",
        "令和8年11月22日",
    )
    assert ok["qualifications"] == ["第一種電気工事士免状取得者（2015-04-01取得）"]
    assert ok["unmet"] == []
    no = notice.context(
        judged(approved=False),
        number="N",
        code="C",
        employer_name=None,
        verify_url="u",
        issued_at=issued,
    )
    assert no["card_colour"] == "ブルー" and no["employer_name"] == "事業者ID 12345678901234"
    assert no["unmet"] == [
        {
            "level": 3,
            "kind": "就業日数",
            "message": "就業日数が不足しています（必要 1,075日、現在 900日）",
        }
    ]
    assert notice.mask_worker_id("99000000000002") == "9900******0002"


def test_rendered_notice_text_and_page_image(tmp_path: Path) -> None:
    context = notice.context(
        judged(approved=False),
        number="RN-AP-1-1",
        code="ABCD-EFGH-IJKL-MNOP",
        employer_name="株式会社髙﨑建設",
        verify_url="http://127.0.0.1:8006/verify/ABCD-EFGH-IJKL-MNOP",
        issued_at=datetime(2026, 11, 21, tzinfo=UTC),
    )
    pdf = PdfRenderer().render_sync(
        "result_notice.html", {**context, "qr": qr_data_uri(context["verify_url"])}
    )
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    compact = "".join(text.split())
    for expected in (
        "結果通知書",
        "𠮷野翔太",
        "株式会社髙﨑建設",
        "不承認",
        "レベル2",
        "ブルー",
        "就業日数が不足しています（必要1,075日、現在900日）",
        "電気工事@2020-02-05",
        "ABCD-EFGH-IJKL-MNOP",
        "起算点はCCUSに登録された最も古い資格の取得日です",
    ):
        assert expected in compact, expected
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.MULTILINE), info.stdout  # one page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / "result-notice.pdf")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "70",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(ARTIFACTS / "result-notice-page1"),
        ],
        check=True,
    )
    assert (ARTIFACTS / "result-notice-page1.png").stat().st_size > 10_000
