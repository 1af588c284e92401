"""The rendered PDFs, read back with poppler: text (pdftotext), fonts (pdffonts), pages
(pdfinfo), and page 1 as PNG (pdftoppm) in var/test-artifacts/ for people to look at.

No database or broker; WeasyPrint and the Noto CJK fonts (fonts-noto-cjk) are needed.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from weasyprint import HTML

from document.adapters.outbound.pdf import FONT_FAMILY, PdfRenderer, font_installed
from document.core import notice, signing

from ..conftest import DAYS_SHORT, judged, rejudged

KEY = "test-signing-key-0123456789abcdef"
ARTIFACTS = Path(__file__).resolve().parents[4] / "var" / "test-artifacts"
BASE = "http://127.0.0.1:8006"


@pytest.fixture(scope="module")
def renderer() -> Iterator[PdfRenderer]:
    assert font_installed(), f"{FONT_FAMILY} is missing: install fonts-noto-cjk"
    yield PdfRenderer()


def notice_pdf(renderer: PdfRenderer, approved: bool, sequence: int = 1, **update: Any) -> bytes:
    """The notice of the line's first judgement, or of its re-judgement ``sequence``."""
    line = "AP-2026-000042-1"
    first = sequence == 1
    event = (judged(line, approved=approved) if first else rejudged(line, sequence)).model_copy(
        update=update
    )
    number = notice.notice_id(event.line_id, event.sequence)
    code = signing.verification_code(KEY, number)
    url = f"{BASE}/verify/{code}"
    context = notice.context(
        event,
        number=number,
        code=code,
        employer_name="株式会社髙﨑建設",
        verify_url=url,
        previous_number=notice.previous_notice_id(line, sequence),
    )
    return renderer.render_sync("result_notice.html", context, qr_url=url)


def poppler(tool: str, path: Path, *args: str) -> str:
    done = subprocess.run([tool, *args, str(path)], capture_output=True, text=True, check=True)
    return done.stdout


def save(pdf: bytes, name: str) -> Path:
    """Keep the PDF and a PNG of its page 1 (80 dpi) in var/test-artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(pdf)
    png = ARTIFACTS / f"{name}-page1"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(path), str(png)],
        check=True,
    )
    assert png.with_suffix(".png").stat().st_size > 20_000
    return path


def pages(path: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", poppler("pdfinfo", path), re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def fonts(path: Path) -> list[str]:
    lines = poppler("pdffonts", path).splitlines()[2:]
    return [line.split()[0].split("+", 1)[-1] for line in lines]


def pdftotext(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return "".join(done.stdout.split())


def test_approved_notice(renderer: PdfRenderer) -> None:
    path = save(notice_pdf(renderer, approved=True), "result-notice-approved")
    text = pdftotext(path)
    code = signing.verification_code(KEY, "RN-AP-2026-000042-1")
    for expected in (
        "結果通知書",
        "通知番号RN-AP-2026-000042-1",
        "令和8年11月21日",
        "株式会社髙﨑建設御中",
        "能力評価実施団体一般社団法人日本電設工業協会",
        "技能者ID99000000000002",
        "氏名𠮷野翔太",
        "分野電気工事",
        "申請レベルレベル3",
        "判定結果承認",
        "判定レベルレベル3カード色：シルバー",
        "CCUS登録以前（経歴証明）0日＋CCUS1,414日＝合計1,414日",
        "職長300日、班長317日（職長又は班長617日）",
        "第一種電気工事士免状取得者（2015-04-01取得）",
        "起算点はCCUSに登録された最も古い資格の取得日です（申告2010-04-01→採用2015-04-01）",
        "電気工事@2020-02-05",
        f"検証コード{code}",
        f"{BASE}/verify/{code}",
    ):
        assert expected in text, expected
    assert "満たしていない基準" not in text
    assert pages(path) == 1
    info = poppler("pdfinfo", path)
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info


def test_rejected_notice_lists_the_unmet_criteria(renderer: PdfRenderer) -> None:
    path = save(notice_pdf(renderer, approved=False), "result-notice-rejected")
    text = pdftotext(path)
    for expected in (
        "𠮷野翔太",
        "判定結果不承認",
        "判定レベルレベル2カード色：ブルー",
        "満たしていない基準",
        "レベル3・就業日数：" + "".join(DAYS_SHORT.split()),
    ):
        assert expected in text, expected
    assert "2,150" not in text  # level 4 was not requested
    assert pages(path) == 1


def test_rejudged_notice_says_it_replaces_the_previous_one(
    renderer: PdfRenderer, tmp_path: Path
) -> None:
    path = save(notice_pdf(renderer, approved=True, sequence=2), "result-notice-rejudged")
    text = pdftotext(path)
    code = signing.verification_code(KEY, "RN-AP-2026-000042-1-2")
    for expected in (
        "通知番号RN-AP-2026-000042-1-2",
        "令和8年12月1日",
        "再判定により前回の結果通知書（RN-AP-2026-000042-1）を更新したものです。"
        "理由：判定基準の改定（電気工事@2026-12-01）",
        "前回の判定結果：不承認・レベル2",
        "判定結果承認",
        "判定レベルレベル3カード色：シルバー",
        f"検証コード{code}",
    ):
        assert expected in text, expected
    assert pages(path) == 1
    first = tmp_path / "first.pdf"
    first.write_bytes(notice_pdf(renderer, approved=True))
    assert "再判定" not in pdftotext(first)


def test_names_print_with_the_noto_cjk_glyphs_only(renderer: PdfRenderer, tmp_path: Path) -> None:
    """No fallback font: 𠮷, 髙, 﨑 come from Noto Sans CJK JP (embedded, subset), and one
    face only (each face costs a subset of the whole CJK font per PDF: no bold)."""
    path = tmp_path / "n.pdf"
    path.write_bytes(notice_pdf(renderer, approved=True))
    assert fonts(path) == ["Noto-Sans-CJK-JP"]
    assert "yes yes yes" in poppler("pdffonts", path)  # embedded, subset, unicode map


def test_font_has_distinct_glyphs_for_the_jis_level_3_and_4_kanji(tmp_path: Path) -> None:
    """𠮷 is not drawn as 吉, 髙 not as 高, 﨑 not as 崎 (no normalisation), nor as the
    box of a missing glyph (U+E000 has none), and no other font is used."""

    def raster(char: str) -> bytes:
        pdf = tmp_path / f"{ord(char):x}.pdf"
        html = f"<p style=\"font-family: '{FONT_FAMILY}'; font-size: 48pt\">{char}</p>"
        HTML(string=html).write_pdf(pdf)
        assert pdftotext(pdf) == char
        assert all(name.startswith("Noto-Sans-CJK-JP") for name in fonts(pdf)), fonts(pdf)
        out = tmp_path / f"{ord(char):x}"
        subprocess.run(
            ["pdftoppm", "-gray", "-r", "60", "-singlefile", str(pdf), str(out)], check=True
        )
        return out.with_suffix(".pgm").read_bytes()

    missing = raster("\ue000")
    for rare, common in (("𠮷", "吉"), ("髙", "高"), ("﨑", "崎")):
        drawn = raster(rare)
        assert drawn != raster(common) and drawn != missing, rare


def test_a_long_notice_stays_on_one_page(renderer: PdfRenderer, tmp_path: Path) -> None:
    warnings = [f"保有資格（コード4{n:04d}）の名称がCCUSの登録名と一致しません。" for n in range(8)]
    pdf = notice_pdf(renderer, approved=False, warnings=warnings, messages=["評価者確認済み"] * 3)
    path = save(pdf, "result-notice-long")
    assert pages(path) == 1
    assert "保有資格（コード40007）" in pdftotext(path)
    rejudged_long = notice_pdf(  # the same, judged again (a reason of a usual length)
        renderer, approved=False, sequence=3, warnings=warnings, messages=["評価者確認済み"] * 3
    )
    (tmp_path / "rejudged-long.pdf").write_bytes(rejudged_long)
    assert pages(tmp_path / "rejudged-long.pdf") == 1


def test_qr_code_reads_back_as_the_verification_address(
    renderer: PdfRenderer, tmp_path: Path
) -> None:
    assert shutil.which("zbarimg"), "zbarimg missing: deploy/local/install.sh installs zbar-tools"
    path = tmp_path / "n.pdf"
    path.write_bytes(notice_pdf(renderer, approved=True))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(path), str(tmp_path / "p")],
        check=True,
    )
    read = subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "p.png")], capture_output=True, text=True
    )
    code = signing.verification_code(KEY, "RN-AP-2026-000042-1")
    assert read.stdout.strip() == f"{BASE}/verify/{code}"


def test_same_judgement_renders_the_same_bytes(renderer: PdfRenderer) -> None:
    assert notice_pdf(renderer, approved=True) == notice_pdf(renderer, approved=True)
    again = notice_pdf(renderer, approved=True, sequence=2)
    assert again == notice_pdf(renderer, approved=True, sequence=2)


def test_consent_form(renderer: PdfRenderer) -> None:
    pdf = renderer.render_sync(
        "consent_form.html",
        {
            "employer_name": "株式会社髙﨑建設",
            "worker_name": "𠮷田 茂",
            "worker_name_kana": "ヨシダ シゲル",
            "worker_id": "99000000000008",
        },
    )
    path = save(pdf, "consent-form")
    text = pdftotext(path)
    for expected in (
        "個人情報利用同意書",
        "株式会社髙﨑建設御中",
        "技能者ID99000000000008",
        "フリガナヨシダシゲル",
        "氏名𠮷田茂",
        "CCUS情報の閲覧",
        "代行申請",
        "カードの交付",
        "手数料",
        "署名（自署）",
        "同意日令和年月日",
    ):
        assert expected in text, expected
    assert pages(path) == 1


async def test_rendering_runs_beside_the_event_loop(renderer: PdfRenderer) -> None:
    """``render`` works in a worker thread: other coroutines keep running meanwhile."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        pdf = await renderer.render(
            "consent_form.html",
            {
                "employer_name": None,
                "worker_name": "髙橋 健太",
                "worker_name_kana": "タカハシ ケンタ",
                "worker_id": None,
            },
        )
    finally:
        task.cancel()
    assert pdf.startswith(b"%PDF-") and ticks >= 3, ticks
