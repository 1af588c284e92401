"""The refusals of the document service's use cases (translated to HTTP by the inbound
adapter's ``STATUS`` table)."""

from __future__ import annotations

from shared_kernel.errors import DomainError

NOT_FOUND = "該当する結果通知書がありません。"
UNKNOWN_CODE = "この検証コードの結果通知書はありません。検証コードをご確認ください。"
PDF_WANTED = "PDFファイル（10MB以下）を送信してください。"


class NoticeNotFound(DomainError):
    """No such notice, or one the caller may not see (its existence is not disclosed)."""

    def __init__(self) -> None:
        super().__init__("not_found", NOT_FOUND)


class NoEmployer(DomainError):
    def __init__(self) -> None:
        super().__init__("forbidden", "事業者に紐づかない利用者は結果通知書を参照できません。")


class UnknownCode(DomainError):
    def __init__(self) -> None:
        super().__init__("unknown_code", UNKNOWN_CODE)


class FileTooLarge(DomainError):
    def __init__(self) -> None:
        super().__init__("file_too_large", PDF_WANTED)


class NotAPdf(DomainError):
    def __init__(self) -> None:
        super().__init__("not_a_pdf", PDF_WANTED)
