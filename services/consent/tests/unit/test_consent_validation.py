"""Validation of a 個人情報利用申請: IDs, kana, dates, employer details, CCUS checks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from consent.core.ccus import CcusWorker
from consent.core.errors import on_field
from consent.core.validation import (
    MESSAGE_SIMPLE_REGISTRATION,
    ApplicationInput,
    Worker,
    check_against_ccus,
    check_application,
    check_birth_date,
    check_kana,
    check_name,
    check_worker_id,
    name_key,
)

TODAY = date(2026, 11, 20)
EMPLOYER = {
    "employer_name": "株式会社髙橋建設",
    "representative_name": "髙橋 一郎",
    "address": "東京都千代田区千代田1-1",
    "phone_number": "03-1234-5678",
}
ROW = {
    "worker_id": "12345678901234",
    "name": "山田 太郎",
    "name_kana": "ヤマダ タロウ",
    "birth_date": "1980-04-01",
}


def body(**overrides: Any) -> ApplicationInput:
    data: dict[str, Any] = {
        "employer": {
            "employer_name": "株式会社髙橋建設",
            "representative_name": "髙橋 一郎",
            "postal_code": "１００－０００１",
            "address": "東京都千代田区千代田1-1",
            "phone_number": "03-1234-5678",
            "email": "info@takahashi.example.jp",
        },
        "workers": [
            {
                "worker_id": "12345678901234",
                "name": "山田 太郎",
                "name_kana": "ヤマダ タロウ",
                "birth_date": "1980-04-01",
            }
        ],
        "consent_items": {
            "view_ccus_data": True,
            "proxy_application": True,
            "card_issuance": True,
            "fee": True,
        },
    }
    data.update(overrides)
    return ApplicationInput.model_validate(data)


# --- 技能者ID -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12345678901234", "12345678901234"),
        ("１２３４５６７８９０１２３４", "12345678901234"),  # full-width digits
        ("1234 5678 9012 34", "12345678901234"),
        ("1234-5678-9012-34", "12345678901234"),
        (12345678901234, "12345678901234"),
    ],
)
def test_worker_id_accepted_and_normalised(raw: str | int, expected: str) -> None:
    assert check_worker_id(raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "技能者IDを入力してください"),
        ("", "技能者IDを入力してください"),
        ("1234567890123", "技能者IDは14桁の数字で入力してください"),  # 13 digits
        ("123456789012345", "技能者IDは14桁の数字で入力してください"),  # 15 digits
        ("1234567890123A", "技能者IDは14桁の数字で入力してください"),
    ],
)
def test_worker_id_refused(raw: str | None, message: str) -> None:
    assert check_worker_id(raw) == (None, message)


# --- 氏名カナ -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ヤマダ タロウ", "ヤマダ タロウ"),
        ("ヤマダ\u3000タロウ", "ヤマダ タロウ"),  # full-width space
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),  # half-width kana, NFKC-normalised
        ("  ヤマダ   タロウ ", "ヤマダ タロウ"),
        ("ジョン・スミス", "ジョン・スミス"),
        ("ｼﾞｮﾝ･ｽﾐｽ", "ジョン・スミス"),
        ("ヴォーゲル", "ヴォーゲル"),
    ],
)
def test_kana_accepted(raw: str, expected: str) -> None:
    assert check_kana(raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "氏名カナを入力してください"),
        ("やまだ たろう", "氏名カナは全角カタカナで入力してください"),  # hiragana
        ("山田 太郎", "氏名カナは全角カタカナで入力してください"),
        ("YAMADA TARO", "氏名カナは全角カタカナで入力してください"),
        ("ヤマダ1", "氏名カナは全角カタカナで入力してください"),
        ("ア" * 101, "氏名カナは100文字以内で入力してください"),
    ],
)
def test_kana_refused(raw: str | None, message: str) -> None:
    assert check_kana(raw) == (None, message)


def test_names_compare_after_nfkc_without_spaces() -> None:
    assert name_key("ﾔﾏﾀﾞ　ﾀﾛｳ") == name_key("ヤマダタロウ") == "ヤマダタロウ"
    assert name_key("髙橋 一郎") != name_key("高橋 一郎")  # 異体字 are different names


def test_kanji_name_keeps_variant_characters() -> None:
    assert check_name("髙﨑\u3000𠮷男") == ("髙﨑 𠮷男", None)
    assert check_name("") == (None, "氏名を入力してください")
    assert check_name("山田\x00") == (
        None,
        "氏名に使用できない文字（U+0000：制御文字）が含まれています",
    )
    assert check_name("山" * 51) == (None, "氏名は50文字以内で入力してください")


# --- 生年月日 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1980-04-01", date(1980, 4, 1)),
        ("1980/4/1", date(1980, 4, 1)),
        ("１９８０－０４－０１", date(1980, 4, 1)),
        ("2011-11-20", date(2011, 11, 20)),  # exactly 15 today
    ],
)
def test_birth_date_accepted(raw: str, expected: date) -> None:
    assert check_birth_date(raw, TODAY) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "生年月日を入力してください"),
        ("S55.4.1", "生年月日は YYYY-MM-DD の形式で入力してください（例：1980-04-01）"),
        ("01-04-1980", "生年月日は YYYY-MM-DD の形式で入力してください（例：1980-04-01）"),
        ("1980-02-30", "生年月日が正しい日付ではありません"),
        ("1981-02-29", "生年月日が正しい日付ではありません"),
        ("2027-01-01", "生年月日に未来の日付は入力できません"),
        ("1899-12-31", "生年月日を確認してください（1900年より前の日付です）"),
        ("2011-11-21", "生年月日を確認してください（15歳未満です）"),
    ],
)
def test_birth_date_refused(raw: str | None, message: str) -> None:
    assert check_birth_date(raw, TODAY) == (None, message)


# --- the whole application ------------------------------------------------------------------


def test_a_correct_application_has_no_errors() -> None:
    application, errors = check_application(body(), TODAY, max_workers=100)
    assert errors == []
    assert application.employer["postal_code"] == "100-0001"
    assert application.employer["permit_number"] is None  # optional (仕様誤りの修正)
    assert application.workers == [
        Worker(0, "12345678901234", "山田 太郎", "ヤマダ タロウ", date(1980, 4, 1))
    ]
    assert application.scopes == ["view_ccus_data", "proxy_application", "card_issuance", "fee"]


def test_the_identity_profile_can_be_passed_as_the_employer_unchanged() -> None:
    profile = {  # identity's GET /employers/me
        "employer_id": "10000000000001",
        "login_id": "kensetsu01",
        "employer_name": "株式会社髙橋建設",
        "address": "東京都千代田区千代田1-1",
        "representative_name": "髙橋 一郎",
        "phone_number": "０３－１２３４－５６７８",
        "permit_number": "東京都知事許可(般-5)第12345号",
        "permit": {"text": "東京都知事許可(般-5)第12345号"},
        "updated_at": "2026-11-01T00:00:00+00:00",
    }
    application, errors = check_application(body(employer=profile), TODAY, max_workers=100)
    assert errors == []
    assert application.employer == {
        "employer_name": "株式会社髙橋建設",
        "representative_name": "髙橋 一郎",
        "address": "東京都千代田区千代田1-1",
        "contact_name": None,
        "permit_number": "東京都知事許可(般-5)第12345号",
        "postal_code": None,
        "phone_number": "03-1234-5678",
        "email": None,
    }


def test_every_error_names_its_field_in_japanese() -> None:
    bad = body(
        employer={
            "employer_name": " ",
            "phone_number": "abc",
            "postal_code": "12345",
            "email": "x@",
        },
        workers=[
            {"worker_id": "123", "name": "山田", "name_kana": "やまだ", "birth_date": "1980-13-01"},
            {"name": "", "name_kana": "ヤマダ"},
        ],
        consent_items={"view_ccus_data": True, "proxy_application": True, "card_issuance": True},
    )
    _, errors = check_application(bad, TODAY, max_workers=100)
    assert errors == [
        on_field("employer.employer_name", "事業者名を入力してください"),
        on_field("employer.representative_name", "代表者名を入力してください"),
        on_field("employer.address", "所在地を入力してください"),
        on_field("employer.postal_code", "郵便番号は7桁の数字で入力してください（例：100-0001）"),
        on_field(
            "employer.phone_number",
            "電話番号は数字とハイフンで入力してください（例：03-1234-5678）",
        ),
        on_field("employer.email", "メールアドレスの形式が正しくありません"),
        on_field("workers.0.worker_id", "技能者IDは14桁の数字で入力してください"),
        on_field("workers.0.name_kana", "氏名カナは全角カタカナで入力してください"),
        on_field("workers.0.birth_date", "生年月日が正しい日付ではありません"),
        on_field("workers.1.worker_id", "技能者IDを入力してください"),
        on_field("workers.1.name", "氏名を入力してください"),
        on_field("workers.1.birth_date", "生年月日を入力してください"),
        on_field("consent_items.fee", "「手数料」への同意が必要です"),
    ]


def test_no_workers_too_many_workers_and_duplicates() -> None:
    _, errors = check_application(body(workers=[]), TODAY, max_workers=100)
    assert on_field("workers", "技能者を1人以上入力してください") in errors
    one = body().workers[0].model_dump()
    _, errors = check_application(body(workers=[one] * 3), TODAY, max_workers=2)
    assert errors == [on_field("workers", "一度に申請できる技能者は2人までです")]
    spaced = {**one, "worker_id": "1234 5678 9012 34"}
    _, errors = check_application(body(workers=[one, spaced]), TODAY, max_workers=100)
    assert errors == [on_field("workers.1.worker_id", "同じ技能者IDが重複して入力されています")]


def test_no_consent_item_ticked_names_all_four() -> None:
    _, errors = check_application(body(consent_items={}), TODAY, max_workers=100)
    assert [e.field for e in errors] == [
        "consent_items.view_ccus_data",
        "consent_items.proxy_application",
        "consent_items.card_issuance",
        "consent_items.fee",
    ]
    assert errors[0].message == "「CCUS登録情報の閲覧」への同意が必要です"


# --- against CCUS ---------------------------------------------------------------------------

WORKER = Worker(2, "12345678901234", "山田 太郎", "ヤマダ タロウ", date(1980, 4, 1))
RECORD = {
    "worker_id": "12345678901234",
    "name": "山田　太郎",
    "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
    "birth_date": "1980-04-01",
    "registration_type": "detailed",
}


def ccus(**changes: str) -> CcusWorker:
    """The CCUS read model's record of ``WORKER`` (with ``changes``)."""
    return CcusWorker.model_validate(
        {**RECORD, **changes, "_id": RECORD["worker_id"], "taken_at": "2026-11-01T00:00:00Z"}
    )


UNIFORM = on_field(
    "workers.2",
    (
        "技能者 3：入力内容がCCUSの登録情報と一致しません"
        "（技能者ID・氏名カナ・生年月日をご確認ください）"
    ),
)


def test_matching_worker_passes_names_compared_after_nfkc() -> None:
    assert check_against_ccus(WORKER, ccus()) == ([], [])


@pytest.mark.parametrize(
    "record",
    [
        None,  # unknown 技能者ID
        ccus(name_kana="ヤマダ ジロウ"),
        ccus(birth_date="1980-04-02"),
        ccus(name_kana="ヤマダ ジロウ", birth_date="1980-04-02"),
        ccus(name_kana="ヤマダ ジロウ", registration_type="simple"),
    ],
)
def test_an_unknown_id_and_wrong_details_get_one_and_the_same_answer(
    record: CcusWorker | None,
) -> None:
    """Issue 22, finding 5: the answer never says which field is wrong (no CCUS oracle)."""
    assert check_against_ccus(WORKER, record) == ([UNIFORM], [])


@pytest.mark.parametrize(
    ("raw", "described"),
    [
        ("ヤマダ\u202eウロタ", "U+202E：書字方向の制御文字"),  # RLO
        ("ヤマダ\u202dタロウ", "U+202D：書字方向の制御文字"),  # LRO
        ("ヤマダ\u202cタロウ", "U+202C：書字方向の制御文字"),  # PDF
        ("ヤマダ\u2066タロウ\u2069", "U+2066：書字方向の制御文字"),  # isolates
        ("ヤマダ\u200fタロウ", "U+200F：書字方向の制御文字"),  # RLM
        ("ヤマダ\u2028タロウ", "U+2028：行区切り文字"),
        ("ヤマダ\u2029タロウ", "U+2029：段落区切り文字"),
        ("ヤマダ\x85タロウ", "U+0085：制御文字"),  # C1
        ("ヤマダ\x1bタロウ", "U+001B：制御文字"),  # C0
        ("ヤマダ\u200bタロウ", "U+200B：書式制御文字"),  # zero width space
    ],
)
def test_control_and_bidi_characters_are_refused_in_names_and_kana(
    raw: str, described: str
) -> None:
    """Issue 22, finding 10: shown to an evaluator or printed, they reverse or hide text."""
    assert check_kana(raw) == (None, f"氏名カナに使用できない文字（{described}）が含まれています")
    name = raw.replace("ヤマダ", "山田").replace("タロウ", "太郎")
    assert check_name(name) == (None, f"氏名に使用できない文字（{described}）が含まれています")
    _, errors = check_application(
        body(workers=[{**ROW, "name": name}], employer={**EMPLOYER, "address": raw}),
        TODAY,
        max_workers=100,
    )
    assert {e.field for e in errors} == {"workers.0.name", "employer.address"}


def test_variation_selectors_of_kanji_are_kept() -> None:
    assert check_name("葛\U000e0100城 太郎") == ("葛\U000e0100城 太郎", None)


def test_simple_registration_and_other_kanji_warn_only() -> None:
    errors, warnings = check_against_ccus(
        WORKER, ccus(registration_type="simple", name="山田 太朗")
    )
    assert errors == []
    assert [(w["field"], w["code"]) for w in warnings] == [
        ("workers.2.worker_id", "simple_registration"),
        ("workers.2.name", "name_differs"),
    ]
    assert warnings[0]["message"] == MESSAGE_SIMPLE_REGISTRATION
    assert MESSAGE_SIMPLE_REGISTRATION == (
        "簡略型の技能者はレベル判定を受けられません（詳細型での登録が必要です）"
    )
