"""Unit tests of the input policies: login ID, password, 事業者 details, 建設業許可番号."""

from __future__ import annotations

import pytest

from identity.core import forms
from identity.core.errors import ValidationFailed, field_error
from identity.core.policies import (
    LOGIN_ID_MESSAGE,
    PERMIT_NUMBER_MESSAGE,
    FieldProblem,
    PermitNumber,
    check_email,
    check_employer_id,
    check_login_id,
    check_password,
    check_permit_number,
    check_phone,
    check_text,
    parse_permit_number,
)

# --- login ID ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abcd1234", "ABCDEFGH", "12345678", "Kensetsu01", "a" * 16])
def test_login_id_accepts_8_to_16_half_width_letters_and_digits(value: str) -> None:
    assert check_login_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "abc1234",  # 7
        "a" * 17,  # 17
        "ａｂｃｄ１２３４",  # full-width
        "abcd-1234",  # symbol
        "abcd 1234",  # space
        " abcd1234",  # not trimmed
        "abcd1234\n",  # trailing newline ($ would have matched)
        "abcdé123",  # non-ASCII letter
        "テスト12345",
    ],
)
def test_login_id_refuses_anything_else_with_the_japanese_message(value: str) -> None:
    with pytest.raises(FieldProblem) as raised:
        check_login_id(value)
    assert (
        raised.value.message
        == LOGIN_ID_MESSAGE
        == "ログインIDは半角英数字8〜16文字で入力してください"
    )


@pytest.mark.parametrize("value", ["", None])
def test_login_id_is_required(value: str | None) -> None:
    with pytest.raises(FieldProblem, match=r"^ログインIDを入力してください$"):
        check_login_id(value)


def test_login_id_is_case_sensitive_and_not_normalised() -> None:
    assert check_login_id("Kensetsu01") != check_login_id("kensetsu01")


# --- password ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["Genba-K4nri", "Tekkin!Hashira", "aB3aB3aB", "Ab!" + "x" * 5, "Zz9" + "y" * 125]
)
def test_password_policy_accepts(value: str) -> None:
    assert check_password(value, "Kensetsu01") == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Pass0rd", "パスワードは8文字以上で入力してください"),
        (
            "password1",
            "パスワードは英大文字・英小文字と、数字または記号を組み合わせて入力してください",
        ),
        (
            "PASSWORD1",
            "パスワードは英大文字・英小文字と、数字または記号を組み合わせて入力してください",
        ),
        (
            "Passwordx",
            "パスワードは英大文字・英小文字と、数字または記号を組み合わせて入力してください",
        ),
        ("Pass word1", "パスワードは半角の英字・数字・記号で入力してください（空白は使えません）"),
        ("Ｐassword1", "パスワードは半角の英字・数字・記号で入力してください（空白は使えません）"),
        ("Ab1" + "x" * 126, "パスワードは128文字以内で入力してください"),
        ("", "パスワードを入力してください"),
    ],
)
def test_password_policy_refuses(value: str, message: str) -> None:
    with pytest.raises(FieldProblem) as raised:
        check_password(value, "Kensetsu01")
    assert raised.value.message == message


@pytest.mark.parametrize("value", ["Kensetsu01", "KenSetSu01", "kENSETSU01", "My-Kensetsu01!"])
def test_password_must_not_hold_the_login_id_in_any_case(value: str) -> None:
    with pytest.raises(FieldProblem) as raised:
        check_password(value, "Kensetsu01")
    assert raised.value.message == "パスワードにログインIDを含めることはできません"


COMMON = (
    "パスワードはよく使われているため使用できません。"
    "推測されにくい、ほかのサービスで使っていないものを設定してください"
)


@pytest.mark.parametrize(
    "value",
    [
        "Password1",  # the review's example
        "Passw0rd",
        "P@ssw0rd!",
        "Password!",
        "Welcome2026!",
        "1Qaz2wsx",
        "Qwerty123",
        "Iloveyou1",
        "Sakura2026",
        "Tokyo-2026",
        "Kensetsu2026",  # words of this system
        "Noryoku1!",
        "Zaq12wsx!",
        "Abcd1234",
        "Dragon99",
        "!!Monkey!!",
    ],
)
def test_common_passwords_are_refused_however_decorated(value: str) -> None:
    with pytest.raises(FieldProblem) as raised:
        check_password(value, "Genbakan01")
    assert raised.value.message == COMMON


def test_the_common_password_list_ships_with_the_package() -> None:
    from identity.core.policies import common_passwords

    listed = common_passwords()
    assert 3000 <= len(listed) <= 10000
    assert {"password", "qwerty", "iloveyou", "sakura", "noryoku", "1qaz2wsx"} <= listed
    assert all(entry == entry.lower() and len(entry) >= 4 for entry in listed)


def test_password_label_names_the_field() -> None:
    with pytest.raises(FieldProblem, match=r"^新しいパスワードは8文字以上で入力してください$"):
        check_password("Ab1", None, label="新しいパスワード")


# --- 事業者 details ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12345678901234", "12345678901234"),
        ("１２３４５６７８９０１２３４", "12345678901234"),
        (" 1234-5678-9012-34 ", "12345678901234"),
    ],
)
def test_employer_id_is_14_digits(value: str, expected: str) -> None:
    assert check_employer_id(value) == expected


@pytest.mark.parametrize("value", ["1234567890123", "123456789012345", "1234567890123a"])
def test_employer_id_refuses_other_lengths(value: str) -> None:
    with pytest.raises(FieldProblem, match=r"^事業者IDは14桁の数字で入力してください$"):
        check_employer_id(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("03-1234-5678", "03-1234-5678"),
        ("０９０－１２３４－５６７８", "090-1234-5678"),
        ("03(1234)5678", "03-1234-5678"),
        ("0312345678", "0312345678"),
    ],
)
def test_phone_number(value: str, expected: str) -> None:
    assert check_phone(value) == expected


@pytest.mark.parametrize("value", ["3-1234-5678", "03-1234-567", "090-1234-56789", "03-abcd-5678"])
def test_phone_number_refused(value: str) -> None:
    with pytest.raises(FieldProblem, match=r"^電話番号は0から始まる10桁または11桁"):
        check_phone(value)


def test_email_is_normalised_and_checked() -> None:
    assert check_email(" Taro.Yamada@Example.JP ") == "Taro.Yamada@example.jp"
    assert check_email("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ") == "taro@example.jp"
    for bad in ("taro", "taro@", "@example.jp", "taro@example", "ta ro@example.jp"):
        with pytest.raises(FieldProblem, match=r"^メールアドレスの形式が正しくありません$"):
            check_email(bad)


def test_text_fields_are_trimmed_and_bounded() -> None:
    assert check_text("  株式会社 髙橋建設 ", "商号又は名称", 100) == "株式会社 髙橋建設"
    with pytest.raises(FieldProblem, match=r"^商号又は名称を入力してください$"):
        check_text("  ", "商号又は名称", 100)
    with pytest.raises(FieldProblem, match=r"^代表者名は50文字以内で入力してください$"):
        check_text("山" * 51, "代表者名", 50)
    with pytest.raises(
        FieldProblem, match=r"^所在地に使用できない文字（U\+0000：制御文字）が含まれています$"
    ):
        check_text("東京都\x00千代田区", "所在地", 200)


# --- 建設業許可番号 ------------------------------------------------------------------------


def test_permit_number_minister_form() -> None:
    permit = parse_permit_number("国土交通大臣許可(特-25)第123号")
    assert permit == PermitNumber("国土交通大臣", "00", "特", 25, 123, None)
    assert permit.text == "国土交通大臣許可(特-25)第123号"
    assert permit.code == "00-000123"


def test_permit_number_governor_form() -> None:
    permit = parse_permit_number("東京都知事許可(般-19)第1234号")
    assert (permit.authority, permit.authority_code, permit.kind) == ("東京都知事", "13", "般")
    assert (permit.year, permit.number) == (19, 1234)
    assert permit.text == "東京都知事許可(般-19)第1234号"
    assert permit.code == "13-001234"


@pytest.mark.parametrize(
    "value",
    [
        "東京都知事許可（般－１９）第１２３４号",  # full-width parentheses, hyphen, digits
        "東京都知事許可（般ー19）第1234号",  # katakana long mark as dash
        "東京都知事許可(般−19)第1234号",  # minus sign
        " 東京都知事 許可 (般-19) 第 1234 号 ",  # spaces
        "東京都知事許可(般-19)第001234号",  # zero-padded number
    ],
)
def test_permit_number_variants_normalise_to_the_canonical_text(value: str) -> None:
    assert parse_permit_number(value).text == "東京都知事許可(般-19)第1234号"


def test_permit_number_one_digit_year_is_padded_and_hokkaido_office_kept() -> None:
    permit = parse_permit_number("北海道知事許可(般-1)石第56789号")
    assert permit.text == "北海道知事許可(般-01)石第56789号"
    assert (permit.office, permit.authority_code, permit.code) == ("石", "01", "01-056789")
    assert parse_permit_number("沖縄県知事許可(特-6)第999999号").code == "47-999999"


def test_permit_number_round_trips_through_its_document() -> None:
    permit = parse_permit_number("北海道知事許可(特-30)オ第12号")
    doc = permit.to_document()
    assert doc["text"] == "北海道知事許可(特-30)オ第12号" and doc["code"] == "01-000012"
    assert PermitNumber.from_document(doc) == permit


@pytest.mark.parametrize(
    "value",
    [
        "東京都知事(般-19)第1234号",  # no 許可
        "東京都知事許可(一-19)第1234号",  # kind must be 般 or 特
        "東京都知事許可(般-123)第1234号",  # 3-digit year
        "東京都知事許可(般-00)第1234号",  # year 0
        "東京都知事許可(般-19)第1234567号",  # 7-digit number
        "東京都知事許可(般-19)第0号",
        "東京都知事許可(般-19)1234号",  # no 第
        "東京都知事許可(般-19)第1234",  # no 号
        "東京都知事許可般-19第1234号",  # no parentheses
        "東京都知事許可(般19)第1234号",  # no dash
        "東京都知事許可(般-19)石第1234号",  # office mark outside Hokkaido
        "北海道知事許可(般-19)X第1234号",  # unknown Hokkaido office
        "13-001234",  # the machine form is not what users type
        "第1234号",
    ],
)
def test_permit_number_bad_forms(value: str) -> None:
    with pytest.raises(FieldProblem) as raised:
        parse_permit_number(value)
    assert raised.value.message == PERMIT_NUMBER_MESSAGE


@pytest.mark.parametrize("value", ["東京府知事許可(般-19)第1234号", "建設大臣許可(特-25)第123号"])
def test_permit_number_unknown_authority(value: str) -> None:
    with pytest.raises(FieldProblem, match=r"^建設業許可番号の許可権者は"):
        parse_permit_number(value)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_permit_number_is_optional(value: str | None) -> None:
    assert check_permit_number(value) is None


# --- forms: every field at once ------------------------------------------------------------


def test_registration_reports_every_bad_field_at_once() -> None:
    with pytest.raises(ValidationFailed) as raised:
        forms.parse_registration(
            {
                "login_id": "short",
                "email": "nope",
                "employer_id": "123",
                "employer_name": "",
                "address": "東京都千代田区",
                "representative_name": "山田 太郎",
                "phone_number": "03-1234-5678",
                "permit_number": "許可番号なし",
            }
        )
    assert raised.value.errors == [
        field_error("login_id", "ログインIDは半角英数字8〜16文字で入力してください"),
        field_error("email", "メールアドレスの形式が正しくありません"),
        field_error("employer_id", "事業者IDは14桁の数字で入力してください"),
        field_error("employer_name", "商号又は名称を入力してください"),
        field_error("permit_number", PERMIT_NUMBER_MESSAGE),
    ]


def test_registration_without_permit_number() -> None:
    registration = forms.parse_registration(
        {
            "login_id": "Kensetsu01",
            "email": "a@example.jp",
            "employer_id": "12345678901234",
            "employer_name": "株式会社テスト建設",
            "address": "東京都千代田区1-1",
            "representative_name": "山田 太郎",
            "phone_number": "03-1234-5678",
        }
    )
    assert registration.profile.permit is None
    assert registration.profile.to_document()["permit_number"] is None


def test_activation_checks_the_link_token_and_the_confirmation() -> None:
    with pytest.raises(ValidationFailed) as raised:
        forms.parse_activation("Kensetsu01", "Kensetsu01.x", "Genba-K4nri!", "Genba-K4nri?")
    assert raised.value.errors == [
        field_error(
            "new_password_confirmation", "確認用のパスワードが新しいパスワードと一致しません"
        )
    ]
    with pytest.raises(ValidationFailed) as raised:
        forms.parse_activation(None, None, "kensetsu01", None)
    assert [e.field for e in raised.value.errors] == [
        "token",
        "new_password",
        "new_password_confirmation",
    ]
    done = forms.parse_activation("Kensetsu01", "Kensetsu01.x", "Genba-K4nri!", "Genba-K4nri!")
    assert done.new_password == "Genba-K4nri!"


def test_password_change_must_differ_from_the_current_one() -> None:
    with pytest.raises(ValidationFailed) as raised:
        forms.parse_password_change("Kensetsu01", "Genba-K4nri!", "Genba-K4nri!", "Genba-K4nri!")
    assert raised.value.errors == [
        field_error(
            "new_password", "新しいパスワードには現在のパスワードと異なるものを設定してください"
        )
    ]
    change = forms.parse_password_change("Kensetsu01", "Password1", "N3w-Genba-K4", "N3w-Genba-K4")
    assert (change.current_password, change.new_password) == ("Password1", "N3w-Genba-K4")
