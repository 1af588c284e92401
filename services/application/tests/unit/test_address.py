"""カード送付先: postal code, prefecture, phone, lengths, completeness."""

from __future__ import annotations

import pytest

from application import data
from application.core import address

PREFECTURES = data.prefectures()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("100-0001", "100-0001"),
        ("１００－０００１", "100-0001"),  # full-width digits and hyphen (NFKC)
        ("1000001", "100-0001"),
        ("１０００００１", "100-0001"),
        ("100ー0001", "100-0001"),  # katakana long mark typed for a hyphen
        ("100−0001", "100-0001"),  # minus sign
        (" 100-0001 ", "100-0001"),
    ],
)
def test_postal_code_accepted_and_normalised(raw: str, expected: str) -> None:
    assert address.normalise_postal_code(raw) == expected


@pytest.mark.parametrize(
    "raw", ["100-001", "10-00001", "1000-001", "100-00011", "abc-defg", "100_0001", "", "〒"]
)
def test_postal_code_refused(raw: str) -> None:
    assert address.normalise_postal_code(raw) is None


def test_the_47_prefectures_are_data() -> None:
    assert len(PREFECTURES) == 47
    assert (
        PREFECTURES[0] == "北海道" and PREFECTURES[12] == "東京都" and PREFECTURES[-1] == "沖縄県"
    )
    for name in PREFECTURES:
        assert address.normalise_prefecture(name, PREFECTURES) == name


@pytest.mark.parametrize("raw", ["東京", "Tokyo", "東京市", "大阪県", "", "北海"])
def test_unknown_prefecture_refused(raw: str) -> None:
    assert address.normalise_prefecture(raw, PREFECTURES) is None


def test_prefecture_whitespace_is_tidied() -> None:
    assert address.normalise_prefecture("　東京都 ", PREFECTURES) == "東京都"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03-1234-5678", "03-1234-5678"),
        ("０３－１２３４－５６７８", "03-1234-5678"),
        ("090-1234-5678", "090-1234-5678"),
        ("0312345678", "0312345678"),
        ("03(1234)5678", "03-1234-5678"),
        ("0120-123-456", "0120-123-456"),
    ],
)
def test_phone_accepted(raw: str, expected: str) -> None:
    assert address.normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["3-1234-5678", "03-1234-567", "090-1234-56789", "abc", "03-1234-567８9x", ""]
)
def test_phone_refused(raw: str) -> None:
    assert address.normalise_phone(raw) is None


def full() -> dict[str, str]:
    return {
        "postal_code": "１００－０００１",
        "prefecture": "東京都",
        "city_address": "千代田区千代田１－１",
        "building": "",
        "addressee": "株式会社髙橋建設　総務部",
        "phone": "03-1234-5678",
    }


def test_validate_normalises_every_field() -> None:
    checked, errors = address.validate(full(), "delivery_address", PREFECTURES)
    assert errors == []
    assert checked == {
        "postal_code": "100-0001",
        "prefecture": "東京都",
        "city_address": "千代田区千代田1-1",
        "building": None,
        "addressee": "株式会社髙橋建設 総務部",
        "phone": "03-1234-5678",
    }
    assert address.complete_errors(checked, "delivery_address") == []
    assert (
        address.one_line(checked) == "〒100-0001 東京都千代田区千代田1-1 株式会社髙橋建設 総務部 様"
    )


def test_validate_reports_each_bad_field_in_japanese() -> None:
    raw = {**full(), "postal_code": "100-001", "prefecture": "東京", "phone": "1234"}
    _, errors = address.validate(raw, "delivery_address", PREFECTURES)
    assert [(e.field, e.code) for e in errors] == [
        ("delivery_address.postal_code", "invalid_postal_code"),
        ("delivery_address.prefecture", "invalid_prefecture"),
        ("delivery_address.phone", "invalid_phone"),
    ]
    assert errors[0].message == "郵便番号は「123-4567」の形式（半角数字7桁）で入力してください"
    assert errors[1].message == "都道府県は47都道府県の中から選択してください（例：東京都）"


def test_lengths_are_limited() -> None:
    raw = {**full(), "city_address": "あ" * 101, "addressee": "い" * 61, "building": "う" * 100}
    _, errors = address.validate(raw, "a", PREFECTURES)
    assert [(e.field, e.code) for e in errors] == [
        ("a.city_address", "too_long"),
        ("a.addressee", "too_long"),
    ]


def test_a_draft_may_be_incomplete_but_a_submission_may_not() -> None:
    checked, errors = address.validate({"prefecture": "大阪府"}, "delivery_address", PREFECTURES)
    assert errors == []
    missing = address.complete_errors(checked, "delivery_address")
    assert [e.field for e in missing] == [
        "delivery_address.postal_code",
        "delivery_address.city_address",
        "delivery_address.addressee",
        "delivery_address.phone",
    ]  # 建物名 is optional
    assert missing[0].message == "郵便番号を入力してください"
    assert [e.field for e in address.complete_errors(None, "x")] == [
        "x.postal_code",
        "x.prefecture",
        "x.city_address",
        "x.addressee",
        "x.phone",
    ]
