"""Errors of the identity core: each a ``DomainError`` with a stable English ``code`` and a
Japanese ``message``.

The HTTP adapter gives each code its status (``adapters/inbound/http.py``, ``STATUS``); the
core knows nothing of HTTP. A refusal that asks the caller to wait carries
``retry_after_seconds`` in its answer and a ``Retry-After`` header.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared_kernel.errors import VALIDATION_MESSAGE, DomainError, FieldError

INVALID = "invalid"
"""The code of a field whose value the core refused (the message says why)."""


class IdentityError(DomainError):
    code = "identity_error"
    message = "処理できませんでした。"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        retry_after_seconds: int | None = None,
    ) -> None:
        details: dict[str, int] = {}
        headers: dict[str, str] = {}
        if retry_after_seconds is not None:
            details["retry_after_seconds"] = retry_after_seconds
            headers["Retry-After"] = str(retry_after_seconds)
        super().__init__(
            self.code,
            self.message if message is None else message,
            list(errors),
            details,
            headers,
        )


def field_error(field: str, message: str) -> FieldError:
    return FieldError(field, INVALID, message)


class ValidationFailed(IdentityError):
    code = "validation_error"
    message = VALIDATION_MESSAGE

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(errors=errors)


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
        super().__init__(retry_after_seconds=retry_after_seconds)


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
        super().__init__(retry_after_seconds=retry_after_seconds)


class RateLimited(IdentityError):
    """Too many requests from one client address, or naming one login ID from it (the
    public endpoints' limits, per process)."""

    code = "rate_limited"
    message = "リクエストが多すぎます。しばらく時間をおいてから再度お試しください。"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds=retry_after_seconds)


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
