"""What the screens submit, checked field by field (every problem at once, in Japanese).

The HTTP adapter passes the raw strings; each ``parse_*`` returns a value object or raises
:class:`ValidationFailed` listing one Japanese message per field in error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from identity.core.errors import ValidationFailed, field_error
from identity.core.policies import (
    FieldProblem,
    PermitNumber,
    check_email,
    check_employer_id,
    check_login_id,
    check_password,
    check_permit_number,
    check_phone,
    check_text,
)
from shared_kernel.errors import FieldError

T = TypeVar("T")

LABELS = {
    "login_id": "ログインID",
    "email": "メールアドレス",
    "employer_id": "事業者ID",
    "employer_name": "商号又は名称",
    "address": "所在地",
    "representative_name": "代表者名",
    "phone_number": "電話番号",
    "permit_number": "建設業許可番号",
    "password": "パスワード",
    "token": "本申請用のリンク",
    "new_password": "新しいパスワード",
    "new_password_confirmation": "新しいパスワード（確認）",
    "current_password": "現在のパスワード",
    "role": "ロール",
}
"""Japanese labels of the API fields (also used for errors found before the core runs)."""

NAME_MAX = 100
ADDRESS_MAX = 200
REPRESENTATIVE_MAX = 50
CONFIRMATION_MISMATCH = "確認用のパスワードが新しいパスワードと一致しません"


class _Checks:
    """Runs each field's check and collects the problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def field(self, name: str, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except FieldProblem as problem:
            self.errors.append(field_error(name, problem.message))
            return None

    def fail(self, name: str, message: str) -> None:
        self.errors.append(field_error(name, message))

    def failed(self, name: str) -> bool:
        return any(e.field == name for e in self.errors)

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def _required(value: str | None, field: str) -> str:
    if not value:
        raise FieldProblem(f"{LABELS[field]}を入力してください")
    return value


@dataclass(frozen=True)
class EmployerProfile:
    """The 事業者 details a user may read and change (not the login ID or 事業者ID)."""

    employer_name: str  # 商号又は名称
    address: str  # 所在地
    representative_name: str  # 代表者名
    phone_number: str  # 電話番号
    permit: PermitNumber | None = None  # 建設業許可番号 (optional)

    def to_document(self) -> dict[str, Any]:
        return {
            "employer_name": self.employer_name,
            "address": self.address,
            "representative_name": self.representative_name,
            "phone_number": self.phone_number,
            "permit_number": self.permit.to_document() if self.permit else None,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> EmployerProfile:
        permit = doc.get("permit_number")
        return cls(
            employer_name=doc["employer_name"],
            address=doc["address"],
            representative_name=doc["representative_name"],
            phone_number=doc["phone_number"],
            permit=PermitNumber.from_document(permit) if permit else None,
        )


@dataclass(frozen=True)
class Registration:
    """利用者仮申請."""

    login_id: str
    email: str
    employer_id: str
    profile: EmployerProfile


@dataclass(frozen=True)
class Activation:
    """利用者本申請 (the login ID comes from the link's token)."""

    login_id: str | None
    new_password: str


@dataclass(frozen=True)
class PasswordChange:
    current_password: str
    new_password: str


@dataclass(frozen=True)
class Credentials:
    login_id: str
    password: str


def _profile_checks(checks: _Checks, raw: dict[str, str | None]) -> EmployerProfile | None:
    name = checks.field(
        "employer_name", lambda: check_text(raw.get("employer_name"), "商号又は名称", NAME_MAX)
    )
    address = checks.field("address", lambda: check_text(raw.get("address"), "所在地", ADDRESS_MAX))
    representative = checks.field(
        "representative_name",
        lambda: check_text(raw.get("representative_name"), "代表者名", REPRESENTATIVE_MAX),
    )
    phone = checks.field("phone_number", lambda: check_phone(raw.get("phone_number")))
    permit = checks.field("permit_number", lambda: check_permit_number(raw.get("permit_number")))
    if name is None or address is None or representative is None or phone is None:
        return None
    if checks.failed("permit_number"):
        return None
    return EmployerProfile(name, address, representative, phone, permit)


def parse_registration(raw: dict[str, str | None]) -> Registration:
    checks = _Checks()
    login_id = checks.field("login_id", lambda: check_login_id(raw.get("login_id")))
    email = checks.field("email", lambda: check_email(raw.get("email")))
    employer_id = checks.field("employer_id", lambda: check_employer_id(raw.get("employer_id")))
    profile = _profile_checks(checks, raw)
    checks.done()
    assert login_id is not None and email is not None and employer_id is not None
    assert profile is not None
    return Registration(login_id, email, employer_id, profile)


def parse_profile(raw: dict[str, str | None]) -> EmployerProfile:
    checks = _Checks()
    profile = _profile_checks(checks, raw)
    checks.done()
    assert profile is not None
    return profile


def _new_password_checks(
    checks: _Checks,
    new_password: str | None,
    confirmation: str | None,
    login_id: str | None,
    previous: str | None,
    previous_label: str,
) -> str | None:
    new = checks.field(
        "new_password",
        lambda: check_password(new_password, login_id, label="新しいパスワード"),
    )
    if not confirmation:
        checks.fail("new_password_confirmation", "新しいパスワード（確認）を入力してください")
    elif new is not None and confirmation != new:
        checks.fail("new_password_confirmation", CONFIRMATION_MISMATCH)
    if new is not None and previous and new == previous:
        message = f"新しいパスワードには{previous_label}と異なるものを設定してください"
        checks.fail("new_password", message)
        return None
    return new


def parse_activation(
    login_id: str | None,
    token: str | None,
    new_password: str | None,
    confirmation: str | None,
) -> Activation:
    """利用者本申請: the link's token and the new password (checked against the login ID
    the token names)."""
    checks = _Checks()
    checks.field("token", lambda: _required(token, "token"))
    new = _new_password_checks(checks, new_password, confirmation, login_id, None, "")
    checks.done()
    assert new is not None
    return Activation(login_id, new)


def parse_activation_check(token: str | None) -> None:
    """The link's token must be there (which account it activates is the service's to say)."""
    checks = _Checks()
    checks.field("token", lambda: _required(token, "token"))
    checks.done()


def parse_password_change(
    login_id: str,
    current_password: str | None,
    new_password: str | None,
    confirmation: str | None,
) -> PasswordChange:
    checks = _Checks()
    current = checks.field(
        "current_password", lambda: _required(current_password, "current_password")
    )
    new = _new_password_checks(
        checks, new_password, confirmation, login_id, current, "現在のパスワード"
    )
    checks.done()
    assert current is not None and new is not None
    return PasswordChange(current, new)


def parse_credentials(login_id: str | None, password: str | None) -> Credentials:
    """Login: only presence is checked (a malformed ID simply fails like an unknown one)."""
    checks = _Checks()
    login = checks.field("login_id", lambda: _required(login_id, "login_id"))
    secret = checks.field("password", lambda: _required(password, "password"))
    checks.done()
    assert login is not None and secret is not None
    return Credentials(login, secret)


@dataclass(frozen=True)
class StaffUser:
    login_id: str
    email: str
    password: str


def parse_staff(login_id: str | None, email: str | None, password: str | None) -> StaffUser:
    """An evaluator or operator created by the admin CLI: the same policies as employers."""
    checks = _Checks()
    login = checks.field("login_id", lambda: check_login_id(login_id))
    mail = checks.field("email", lambda: check_email(email))
    secret = checks.field("password", lambda: check_password(password, login or login_id))
    checks.done()
    assert login is not None and mail is not None and secret is not None
    return StaffUser(login, mail, secret)
