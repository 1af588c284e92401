"""Errors of the identity core: each has a stable ``code`` and a Japanese ``message``.

The HTTP adapter maps each class to a status code; the core knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class IdentityError(Exception):
    code: str = "identity_error"
    message: str = "処理できませんでした。"

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(IdentityError):
    code = "validation_error"
    message = "入力内容に誤りがあります。"

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__()
        self.errors = list(errors)


class LoginIdTaken(IdentityError):
    code = "login_id_taken"
    message = "このログインIDは既に使用されています。別のログインIDを指定してください。"


class EmployerAlreadyRegistered(IdentityError):
    code = "employer_already_registered"
    message = "この事業者IDは既に利用者登録されています。"


class InvalidCredentials(IdentityError):
    """Login failed. Same message whether or not the login ID exists."""

    code = "invalid_credentials"
    message = (
        "ログインIDまたはパスワードが正しくありません。"
        "（利用者本申請がお済みでない場合は、先に本申請を行ってください）"
    )


class InvalidActivation(IdentityError):
    """利用者本申請 refused: the link is wrong, used already, or replaced by a newer one."""

    code = "invalid_activation"
    message = (
        "本申請用のリンクが正しくないか、既に使用されています。"
        "メールに記載されたリンクをもう一度開くか、再度仮申請を行ってください。"
    )


class ActivationExpired(IdentityError):
    code = "activation_expired"
    message = "本申請用のリンクの有効期限が切れています。再度仮申請を行ってください"


class RegistrationLimited(IdentityError):
    """Too many 利用者仮申請 for one e-mail address or from one client address."""

    code = "registration_limited"
    message = (
        "仮申請が多すぎるため、受け付けられませんでした。"
        "しばらく時間をおいてから再度お試しください。"
    )

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


class ActivationMailFailed(IdentityError):
    """The activation mail could not be handed to the mail server."""

    code = "activation_mail_failed"
    message = (
        "本申請用のメールを送信できませんでした。"
        "しばらく時間をおいてから、もう一度仮申請を行ってください。"
    )


class LoginThrottled(IdentityError):
    """Too many failures of this login ID from this source (or everywhere, for an unknown
    source): the source waits. Whether or not the login ID exists."""

    code = "login_throttled"
    message = (
        "ログインに続けて失敗したため、しばらくログインできません。"
        "時間をおいてから再度お試しください。"
    )

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


class SessionInvalid(IdentityError):
    code = "session_invalid"
    message = "セッションが無効か期限切れです。再度ログインしてください。"


class CurrentPasswordWrong(IdentityError):
    code = "invalid_current_password"
    message = "現在のパスワードが正しくありません。"


class AccountNotFound(IdentityError):
    code = "not_found"
    message = "利用者情報が見つかりません。"


class EmployerNotFound(IdentityError):
    code = "not_found"
    message = "事業者情報が見つかりません。"
