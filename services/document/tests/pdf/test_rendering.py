"""The rendered PDFs, read back with poppler: text (pdftotext), fonts (pdffonts), pages
and dates (pdfinfo), and page 1 as PNG (pdftoppm) in var/test-artifacts/ for people to
look at.

No database or broker; Typst (the ``typst`` package) and the Noto CJK fonts
(fonts-noto-cjk) are needed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from document.adapters.outbound import typst_markup
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


def notice_context(
    approved: bool,
    sequence: int = 1,
    employer_name: str = "株式会社髙﨑建設",
    **update: Any,
) -> tuple[dict[str, Any], str, datetime]:
    """What the service renders for the notice of the line's first judgement, or of its
    re-judgement ``sequence``: the context, the QR code's address, the judgement's time."""
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
        employer_name=employer_name,
        verify_url=url,
        previous_number=notice.previous_notice_id(line, sequence),
    )
    return context, url, event.judged_at


def notice_pdf(renderer: PdfRenderer, approved: bool, sequence: int = 1, **update: Any) -> bytes:
    """The notice of the line's first judgement, or of its re-judgement ``sequence``."""
    context, url, judged_at = notice_context(approved, sequence, **update)
    return renderer.render_sync("result_notice.typ", context, qr_url=url, created=judged_at)


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
    """The embedded fonts, without the subset tag (``ABCDEF+``) and CID encoding suffix."""
    lines = poppler("pdffonts", path).splitlines()[2:]
    return [line.split()[0].split("+", 1)[-1].removesuffix("-Identity-H") for line in lines]


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
    assert re.search(r"^Title:\s+結果通知書 RN-AP-2026-000042-1$", info, re.MULTILINE), info


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
    face only (each face is a subset of the CJK font in every PDF: no bold)."""
    path = tmp_path / "n.pdf"
    path.write_bytes(notice_pdf(renderer, approved=True))
    assert fonts(path) == ["NotoSansCJKjp-Regular"]
    assert "yes yes yes" in poppler("pdffonts", path)  # embedded, subset, unicode map
    consent = tmp_path / "c.pdf"
    consent.write_bytes(renderer.render_sync("consent_form.typ", CONSENT))
    assert fonts(consent) == ["NotoSansCJKjp-Regular"]


def test_typst_has_nothing_to_warn_about(renderer: PdfRenderer) -> None:
    """No unknown font, no missing glyph, no layout trouble: Typst compiles the notice, the
    re-judgement's notice and the consent form without a warning."""
    context, url, _ = notice_context(approved=False, sequence=2)
    for template, data, qr in (
        ("result_notice.typ", context, url),
        ("consent_form.typ", CONSENT, None),
        ("consent_form.typ", {**CONSENT, "employer_name": None, "worker_id": None}, None),
    ):
        source = renderer.source(template, data, qr).encode()
        pdf, warnings = renderer.compiler().compile_with_warnings(input=source, format="pdf")
        assert isinstance(pdf, bytes) and warnings == [], (template, warnings)


MISSING = "\ue000"  # no glyph in the font: Typst draws the font's box (.notdef), no text


def test_font_has_distinct_glyphs_for_the_jis_level_3_and_4_kanji(
    renderer: PdfRenderer, tmp_path: Path
) -> None:
    """𠮷 is not drawn as 吉, 髙 not as 高, 﨑 not as 崎 (no normalisation), nor as the
    box of a missing glyph (U+E000 has none), and no other font is used."""

    def raster(char: str) -> bytes:
        pdf = tmp_path / f"{ord(char):x}.pdf"
        source = (
            f'#set text(font: "{FONT_FAMILY}", size: 48pt, fallback: false)\n'
            f"{typst_markup.escape(char)}\n"
        )
        drawn = renderer.compiler().compile(input=source.encode(), format="pdf", timestamp=0)
        assert isinstance(drawn, bytes)
        pdf.write_bytes(drawn)
        assert pdftotext(pdf) == ("" if char == MISSING else char)
        assert fonts(pdf) in ([], ["NotoSansCJKjp-Regular"]), fonts(pdf)
        out = tmp_path / f"{ord(char):x}"
        subprocess.run(
            ["pdftoppm", "-gray", "-r", "60", "-singlefile", str(pdf), str(out)], check=True
        )
        return out.with_suffix(".pgm").read_bytes()

    missing = raster(MISSING)
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


def test_same_judgement_renders_the_same_bytes(renderer: PdfRenderer, tmp_path: Path) -> None:
    """Rendered again (later, by another compiler, after other notices): the same bytes;
    the PDF's date is the judgement's time (2026-11-21 01:00 UTC), not the clock's."""
    first = notice_pdf(renderer, approved=True)
    notice_pdf(renderer, approved=False)  # something else in between
    assert notice_pdf(renderer, approved=True) == first
    assert notice_pdf(PdfRenderer(), approved=True) == first  # a new process's compiler
    again = notice_pdf(renderer, approved=True, sequence=2)
    assert again == notice_pdf(renderer, approved=True, sequence=2) != first
    path = tmp_path / "n.pdf"
    path.write_bytes(first)
    info = poppler("pdfinfo", "-isodates", path)
    assert re.search(r"^CreationDate:\s+2026-11-21T01:00:00(Z|\+00)", info, re.MULTILINE), info
    path.write_bytes(again)  # the re-judgement's: its own judgement's time
    info = poppler("pdfinfo", "-isodates", path)
    assert re.search(r"^CreationDate:\s+2026-12-01T01:00:00(Z|\+00)", info, re.MULTILINE), info


def test_same_consent_form_renders_the_same_bytes_without_a_date(
    renderer: PdfRenderer, tmp_path: Path
) -> None:
    pdf = renderer.render_sync("consent_form.typ", CONSENT)
    assert renderer.render_sync("consent_form.typ", CONSENT) == pdf
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    assert "CreationDate" not in poppler("pdfinfo", path)


CONSENT = {
    "employer_name": "株式会社髙﨑建設",
    "worker_name": "𠮷田 茂",
    "worker_name_kana": "ヨシダ シゲル",
    "worker_id": "99000000000008",
}


def test_consent_form(renderer: PdfRenderer) -> None:
    pdf = renderer.render_sync("consent_form.typ", CONSENT)
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


async def test_rendering_runs_beside_the_event_loop(
    renderer: PdfRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``render`` compiles in a worker thread, not on the event loop's: other coroutines
    keep running meanwhile (the first document of a process takes ~0.5 s)."""
    threads: list[int] = []
    render_sync = renderer.render_sync

    def recorded(*args: Any, **kwargs: Any) -> bytes:
        threads.append(threading.get_ident())
        return render_sync(*args, **kwargs)

    monkeypatch.setattr(renderer, "render_sync", recorded)
    pdf = await renderer.render(
        "consent_form.typ",
        {
            "employer_name": None,
            "worker_name": "髙橋 健太",
            "worker_name_kana": "タカハシ ケンタ",
            "worker_id": None,
        },
    )
    assert pdf.startswith(b"%PDF-")
    assert threads and threading.get_ident() not in threads


HOSTILE = (
    '#import "x"',
    "*bold* _emph_ `raw`",
    "$math$ = x^2",
    "<b>株式会社</b> @ref <label>",
    "] #set page(width: 1cm) [",
    '#{"\\u{0}"} \\ back\\slash // not a comment /* nor this */',
    "- not a list + nor = heading / term: 1. enum",
    "~ -- --- ... 'single' \"double\" http://example.com/x",
)


@pytest.mark.parametrize("name", HOSTILE)
def test_names_and_reasons_print_literally(
    renderer: PdfRenderer, tmp_path: Path, name: str
) -> None:
    """Typst markup in a worker's name, an employer's name, a reason or a message is
    text: it prints as typed (whitespace aside), changes nothing else on the page, and
    runs nothing."""
    context, url, judged_at = notice_context(
        approved=False,
        sequence=2,
        employer_name=f"株式会社{name}",
        worker_name=name,
        rejudgement_reason=f"理由{name}",
        messages=[f"注記{name}"],
        warnings=[f"確認{name}"],
    )
    path = tmp_path / "n.pdf"
    path.write_bytes(
        renderer.render_sync("result_notice.typ", context, qr_url=url, created=judged_at)
    )
    text = pdftotext(path)
    literal = "".join(name.split())
    for expected in (
        f"株式会社{literal}御中",
        f"氏名{literal}",
        f"理由：理由{literal}",
        f"注記{literal}",
        f"確認{literal}",
        "判定結果承認",
    ):
        assert expected in text, (expected, text)
    assert pages(path) == 1
    info = poppler("pdfinfo", path)
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    consent = tmp_path / "c.pdf"
    consent.write_bytes(
        renderer.render_sync(
            "consent_form.typ",
            {**CONSENT, "employer_name": name, "worker_name": name, "worker_name_kana": name},
        )
    )
    assert f"フリガナ{literal}氏名{literal}" in pdftotext(consent)


def test_control_characters_in_a_name_do_not_break_the_notice(
    renderer: PdfRenderer, tmp_path: Path
) -> None:
    context, url, judged_at = notice_context(
        approved=True, worker_name="𠮷野\n\n= 見出し\r\n翔太\x00\x1b\u2028\ud800"
    )
    path = tmp_path / "n.pdf"
    path.write_bytes(
        renderer.render_sync("result_notice.typ", context, qr_url=url, created=judged_at)
    )
    assert "氏名𠮷野=見出し翔太" in pdftotext(path)  # U+FFFD: a box (not in the font)
    assert pages(path) == 1


def test_notice_prints_the_employer_id_when_the_name_is_unknown(
    renderer: PdfRenderer, tmp_path: Path
) -> None:
    context, url, judged_at = notice_context(approved=True)
    context = {**context, "employer_name": "事業者ID 12345678901234"}
    path = tmp_path / "n.pdf"
    path.write_bytes(
        renderer.render_sync("result_notice.typ", context, qr_url=url, created=judged_at)
    )
    assert "事業者ID12345678901234御中" in pdftotext(path)


def test_rejudged_notice_without_reason_or_previous_result(
    renderer: PdfRenderer, tmp_path: Path
) -> None:
    path = tmp_path / "n.pdf"
    path.write_bytes(
        notice_pdf(
            renderer,
            approved=True,
            sequence=2,
            rejudgement_reason="  ",
            previous_decision=None,
            previous_eligible_level=None,
        )
    )
    text = pdftotext(path)
    assert "再判定により前回の結果通知書（RN-AP-2026-000042-1）を更新したものです。" in text
    assert "理由：" not in text and "前回の判定結果" not in text


def test_several_qualifications_are_listed(renderer: PdfRenderer, tmp_path: Path) -> None:
    context, url, judged_at = notice_context(approved=True)
    context = {**context, "qualifications": ["1級電気工事施工管理技士", "第一種電気工事士"]}
    path = tmp_path / "n.pdf"
    path.write_bytes(
        renderer.render_sync("result_notice.typ", context, qr_url=url, created=judged_at)
    )
    assert "判定に用いた保有資格•1級電気工事施工管理技士•第一種電気工事士" in pdftotext(path)
