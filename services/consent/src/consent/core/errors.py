"""Refusals of the consent service: :class:`~shared_kernel.errors.DomainError`s with a
stable English ``code`` and a Japanese message. The inbound HTTP adapter maps each code to
its status (``adapters/inbound/http.py``, ``STATUS``) through the one shared translator."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared_kernel.errors import VALIDATION_MESSAGE, DomainError, FieldError

FIELD_CODE = "invalid"
"""The code of a field's problem (the answer names the field and its message only)."""


class ConsentError(DomainError):
    """A refused request of the consent service. Its field errors are answered as
    ``{"field", "message"}`` (what the portal and the tests read), without a code."""

    def body(self) -> dict[str, Any]:
        out = super().body()
        if self.errors:
            out["errors"] = [
                {k: v for k, v in e.as_dict().items() if k != "code"} for e in self.errors
            ]
        return out


def on_field(field: str, message: str) -> FieldError:
    return FieldError(field, FIELD_CODE, message)


def invalid(errors: Iterable[FieldError]) -> ConsentError:
    """The request's fields are wrong (``validation_error``)."""
    return ConsentError("validation_error", VALIDATION_MESSAGE, list(errors))


def not_found() -> ConsentError:
    return ConsentError("not_found", "該当する個人情報利用申請がありません。")
