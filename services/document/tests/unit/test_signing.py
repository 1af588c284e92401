"""Signature, verification code and the public verdict of a notice (pure)."""

from __future__ import annotations

import pytest

from document.core import lineage, signing

from .test_lineage import STORED, Notice

KEY = "test-signing-key-0123456789abcdef"
OTHER_KEY = "another-key-0123456789abcdef0000"


def test_sha256_of_the_pdf_bytes() -> None:
    assert signing.content_hash(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_signature_verifies_only_the_signed_hash_under_the_same_key() -> None:
    digest = signing.content_hash(b"%PDF-1.7 notice")
    signature = signing.sign(KEY, digest)
    assert len(signature) == 64
    assert signing.verifies(KEY, digest, signature)
    assert not signing.verifies(KEY, signing.content_hash(b"%PDF-1.7 altered"), signature)
    assert not signing.verifies(OTHER_KEY, digest, signature)
    assert not signing.verifies(KEY, digest, "0" * 64)


def test_verification_code_is_stable_per_notice_and_key() -> None:
    code = signing.verification_code(KEY, "RN-AP-1-1")
    assert code == signing.verification_code(KEY, "RN-AP-1-1")
    assert code != signing.verification_code(KEY, "RN-AP-1-2")
    assert code != signing.verification_code(OTHER_KEY, "RN-AP-1-1")
    assert len(code) == 19 and [len(g) for g in code.split("-")] == [4, 4, 4, 4]
    assert signing.normalise_code(code) == code


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("abcd-efgh-ijkl-mnop", "ABCD-EFGH-IJKL-MNOP"),
        (" ABCDEFGH IJKLMNOP ", "ABCD-EFGH-IJKL-MNOP"),
        ("ABCD－EFGH－IJKL－MNOP", "ABCD-EFGH-IJKL-MNOP"),  # full-width hyphens
        ("0BCD-1FGH-8JKL-MNOP", "OBCD-IFGH-BJKL-MNOP"),  # 0/1/8 read as O/I/B
        ("ABCD-EFGH-IJKL", None),
        ("ABCD-EFGH-IJKL-MNO9", None),
        ("", None),
    ],
)
def test_typed_codes_are_normalised(typed: str, normalised: str | None) -> None:
    assert signing.normalise_code(typed) == normalised


def test_worker_id_is_partly_masked() -> None:
    assert signing.mask_worker_id("99000000000002") == "9900******0002"
    assert signing.mask_worker_id("1234") == "****"


def stored_notice(pdf: bytes, key: str = KEY) -> Notice:
    digest = signing.content_hash(pdf)
    fields = {
        **STORED,
        "_id": "RN-AP-1-1",
        "line_id": "AP-1-1",
        "code": "ABCD-EFGH-IJKL-MNOP",
        "sha256": digest,
        "signature": signing.sign(key, digest),
        "worker_id": "99000000000002",
        "trade": "電気工事",
        "decision": "approved",
        "requested_level": 3,
        "eligible_level": 3,
        "card_colour": "シルバー",
        "issued_on": "2026-11-21",
        "evaluation_body": "一般社団法人日本電設工業協会",
    }
    return Notice.model_validate(fields)


CURRENT = lineage.Standing(
    sequence=1,
    superseded_by=None,
    current_notice_id="RN-AP-1-1",
    current_issued_on="2026-11-21",
)
SUPERSEDED = lineage.Standing(
    sequence=1,
    superseded_by="RN-AP-1-1-2",
    current_notice_id="RN-AP-1-1-3",
    current_issued_on="2026-12-01",
)


def test_verdict_authentic_when_signed_and_unchanged() -> None:
    doc = stored_notice(b"%PDF notice")
    result = signing.verdict(KEY, doc, signing.content_hash(b"%PDF notice"))
    assert (result.authentic, result.signature_valid, result.file_intact) == (True, True, True)
    view = signing.public_view(doc, result, CURRENT)
    assert view == {
        "notice_id": "RN-AP-1-1",
        "verification_code": "ABCD-EFGH-IJKL-MNOP",
        "authentic": True,
        "signature_valid": True,
        "file_intact": True,
        "current": True,
        "sequence": 1,
        "superseded_by": None,
        "current_notice_id": "RN-AP-1-1",
        "current_issued_on": "2026-11-21",
        "message": "この結果通知書は本システムが発行したもので、発行後に改変されていません。",
        "worker_id": "9900******0002",
        "trade": "電気工事",
        "decision": "approved",
        "requested_level": 3,
        "eligible_level": 3,
        "card_colour": "シルバー",
        "issued_on": "2026-11-21",
        "evaluation_body": "一般社団法人日本電設工業協会",
        "sha256": doc.sha256,
    }


def test_verdict_when_the_stored_file_was_changed_or_lost() -> None:
    doc = stored_notice(b"%PDF notice")
    changed = signing.verdict(KEY, doc, signing.content_hash(b"%PDF changed"))
    assert (changed.authentic, changed.signature_valid, changed.file_intact) == (
        False,
        True,
        False,
    )
    assert changed.message_ja == "保管されている結果通知書が発行時の内容と一致しません。"
    assert signing.verdict(KEY, doc, None).file_intact is False


def test_verdict_when_the_signature_is_not_ours() -> None:
    doc = stored_notice(b"%PDF notice", key=OTHER_KEY)
    result = signing.verdict(KEY, doc, doc.sha256)
    assert (result.authentic, result.signature_valid, result.file_intact) == (False, False, True)
    assert result.message_ja.startswith("署名を検証できません")


def test_a_superseded_notice_is_genuine_but_names_the_current_one() -> None:
    doc = stored_notice(b"%PDF notice")
    result = signing.verdict(KEY, doc, doc.sha256)
    view = signing.public_view(doc, result, SUPERSEDED)
    assert (view["authentic"], view["current"], view["sequence"]) == (True, False, 1)
    assert (view["superseded_by"], view["current_notice_id"], view["current_issued_on"]) == (
        "RN-AP-1-1-2",
        "RN-AP-1-1-3",
        "2026-12-01",
    )
    assert view["message"] == (
        "この結果通知書は再判定により更新されています。"
        "現在の結果通知書は通知番号 RN-AP-1-1-3（令和8年12月1日付け）です。"
        "この結果通知書自体は本システムが発行したもので、発行後に改変されていませんが、"
        "現在の判定結果ではありません。"
    )
    # of the current notice only its number and date: not its result
    assert view["eligible_level"] == 3 and view["issued_on"] == "2026-11-21"


def test_a_superseded_notice_that_is_not_authentic_says_both() -> None:
    doc = stored_notice(b"%PDF notice")
    changed = signing.verdict(KEY, doc, signing.content_hash(b"%PDF changed"))
    message = signing.public_view(doc, changed, SUPERSEDED)["message"]
    assert message.startswith("保管されている結果通知書が発行時の内容と一致しません。")
    assert "この結果通知書は再判定により更新されています。" in message
    assert "RN-AP-1-1-3" in message and "改変されていません" not in message
