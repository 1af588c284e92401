"""What the document service stores: one :class:`Notice` per 結果通知書 and the employers'
names (:class:`Employer`, a read model of the identity events)."""

from __future__ import annotations

from datetime import datetime

from shared_kernel.aggregate import Aggregate, StoredDate


class Notice(Aggregate):
    """One 結果通知書 (``_id``: the notice number): its signed hash, its file and what it
    says. Which notice of a line is current is never stored (``lineage``)."""

    code: str
    """The verification code printed on it (and in its QR code)."""
    sha256: str
    signature: str
    file_id: str
    size: int
    application_id: str
    line_id: str
    judgement_id: str
    sequence: int = 1
    supersedes_notice_id: str | None = None
    supersedes_judgement_id: str | None = None
    rejudgement_run_id: str | None = None
    rejudgement_reason: str | None = None
    employer_id: str
    worker_id: str
    trade: str
    evaluation_body: str
    requested_level: int
    eligible_level: int
    card_colour: str
    decision: str
    issued_on: StoredDate
    """The judgement's day in Japan (the notice's date)."""
    criteria_version: str | None = None
    generated_at: datetime


class Employer(Aggregate):
    """An employer's name as printed on its notices (``_id``: the 事業者ID)."""

    employer_name: str
