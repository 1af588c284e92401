"""The event catalogue: every event the services exchange, as versioned pydantic models.

Rules (see docs/events.md): a published schema never changes within a version; a change
makes a new class with ``VERSION`` + 1 that runs beside the old one until consumers move.
The JSON-schema snapshots under ``schemas/`` are checked by a test.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared_kernel.events.envelope import Catalogue, Event

# Logical topic names (physical name = settings.topic_prefix + logical name).
TOPIC_IDENTITY = "identity.users"
TOPIC_CONSENT = "consent.consents"
TOPIC_APPLICATION = "application.applications"
TOPIC_CCUS_SNAPSHOT = "ccus.worker-snapshots"
TOPIC_JUDGEMENT = "judgement.judgements"
TOPIC_REJUDGEMENT = "judgement.rejudgement-requests"  # internal to the judgement service
TOPIC_DOCUMENT = "document.result-notices"
TOPIC_PARTNER_JUDGEMENT = "partner.judgement-results"  # the judgement results partners read

WorkerId = str  # 技能者ID, 14 digits
EmployerId = str  # 事業者ID, 14 digits


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- identity ------------------------------------------------------------------------------


# v1 is retired (issue 22): nobody emits it, it stays as a published schema. Its sealed
# password was readable by every holder of the sealing key on a topic without
# authentication; v2 carries no secret (the activation link goes from identity to the mail
# server directly, never through Kafka: docs/identity.md). Its docstring is its schema's
# description, which must not change within the version.
class UserProvisionallyRegistered(Event):
    """利用者仮申請: a login id was reserved and a temporary password issued.

    The temporary password travels only sealed (encrypted with a key held by the identity
    and notification services), never in plain text.
    """

    TYPE = "user.provisionally-registered"
    VERSION = 1
    TOPIC = TOPIC_IDENTITY
    KEY_FIELD = "login_id"

    login_id: str
    email: str
    employer_id: EmployerId
    employer_name: str
    expires_at: datetime
    sealed_temporary_password: str


class UserProvisionallyRegisteredV2(Event):
    """利用者仮申請: a login id was reserved and an activation link mailed (by identity
    itself) to ``email``, valid until ``expires_at``. No secret: neither the link nor any
    password is in the event.

    v2 drops v1's ``sealed_temporary_password``; identity emits v2 only, the notification
    service (its only consumer) reads v2 for its recipients' read model."""

    TYPE = "user.provisionally-registered"
    VERSION = 2
    TOPIC = TOPIC_IDENTITY
    KEY_FIELD = "login_id"

    login_id: str
    email: str
    employer_id: EmployerId
    employer_name: str
    expires_at: datetime


class UserActivated(Event):
    """利用者本申請: the account is active."""

    TYPE = "user.activated"
    VERSION = 1
    TOPIC = TOPIC_IDENTITY
    KEY_FIELD = "login_id"

    login_id: str
    email: str
    employer_id: EmployerId
    employer_name: str
    activated_at: datetime


# --- consent -------------------------------------------------------------------------------

ConsentScope = Literal["view_ccus_data", "proxy_application", "card_issuance", "fee"]


class ConsentGranted(Event):
    """個人情報利用申請 approved for one worker."""

    TYPE = "consent.granted"
    VERSION = 1
    TOPIC = TOPIC_CONSENT
    KEY_FIELD = "consent_id"

    consent_id: str
    employer_id: EmployerId
    worker_id: WorkerId
    worker_name: str
    worker_name_kana: str
    birth_date: date
    scopes: list[ConsentScope]
    granted_at: datetime
    valid_until: date
    ends_on_first_judgement: bool | None = None
    """The consent's own term: whether the worker's first completed judgement ends it
    (「判定まで又は1年」). Set by the consent service from its policy (the one owner,
    ``CONSENT_END_ON_JUDGEMENT``); ``None`` in events published before the field existed,
    all of which were granted under the default term (ends: true)."""


class ConsentRejected(Event):
    """個人情報利用申請 returned (差戻し) for one worker, with the reason."""

    TYPE = "consent.rejected"
    VERSION = 1
    TOPIC = TOPIC_CONSENT
    KEY_FIELD = "consent_id"

    consent_id: str
    employer_id: EmployerId
    worker_id: WorkerId
    reason: str
    rejected_at: datetime


# --- application ---------------------------------------------------------------------------


class ApplicationLine(_Part):
    line_id: str
    worker_id: WorkerId
    worker_name: str
    worker_name_kana: str
    birth_date: date
    trade: str
    requested_level: int = Field(ge=2, le=4)
    career_start: date | None = None
    career_end: date | None = None
    foreman_months: int = Field(default=0, ge=0)
    leader_months: int = Field(default=0, ge=0)
    fee_yen: int = Field(ge=0)


class ApplicationSubmitted(Event):
    """レベル判定代行申請 submitted with every line; the application is frozen."""

    TYPE = "application.submitted"
    VERSION = 1
    TOPIC = TOPIC_APPLICATION
    KEY_FIELD = "application_id"

    application_id: str
    employer_id: EmployerId
    application_date: date
    submitted_at: datetime
    fee_total_yen: int = Field(ge=0)
    lines: list[ApplicationLine] = Field(min_length=1)


class ApplicationDraftReminder(Event):
    """申請ボタンの押し忘れ防止: a draft with lines has not been submitted."""

    TYPE = "application.draft-reminder"
    VERSION = 1
    TOPIC = TOPIC_APPLICATION
    KEY_FIELD = "application_id"

    application_id: str
    employer_id: EmployerId
    line_count: int = Field(ge=0)
    draft_created_at: datetime
    reminded_at: datetime


class ApplicationWithdrawn(Event):
    """取下げ: the employer withdrew a submitted application before its judgement started."""

    TYPE = "application.withdrawn"
    VERSION = 1
    TOPIC = TOPIC_APPLICATION
    KEY_FIELD = "application_id"

    application_id: str
    employer_id: EmployerId
    line_ids: list[str] = Field(min_length=1)
    reason: str | None = None
    withdrawn_at: datetime


# --- CCUS ----------------------------------------------------------------------------------


class CcusOccupation(_Part):
    code: str
    name: str


class CcusQualification(_Part):
    code: str
    name: str
    acquired_on: date | None = None


class CcusWorkRecord(_Part):
    date: date
    site_id: str
    role: Literal["foreman", "leader", "worker"] = "worker"
    occupation_code: str | None = None


class CcusWorkerSnapshot(Event):
    """The CCUS partner system's record of one worker at ``taken_at``."""

    TYPE = "ccus.worker-snapshot"
    VERSION = 1
    TOPIC = TOPIC_CCUS_SNAPSHOT
    KEY_FIELD = "worker_id"

    worker_id: WorkerId
    taken_at: datetime
    registration_type: Literal["detailed", "simple"]
    registered_on: date
    name: str
    name_kana: str
    birth_date: date
    occupations: list[CcusOccupation] = Field(default_factory=list)
    qualifications: list[CcusQualification] = Field(default_factory=list)
    work_history: list[CcusWorkRecord] = Field(default_factory=list)


# --- judgement -----------------------------------------------------------------------------


class JudgementCompleted(Event):
    """One application line judged (after evaluator review where the policy asks for it)."""

    TYPE = "judgement.completed"
    VERSION = 1
    TOPIC = TOPIC_JUDGEMENT
    KEY_FIELD = "judgement_id"

    judgement_id: str
    application_id: str
    line_id: str
    employer_id: EmployerId
    worker_id: WorkerId
    trade: str
    requested_level: int = Field(ge=2, le=4)
    decision: Literal["approved", "rejected"]
    eligible_level: int = Field(ge=1, le=4)
    criteria_version: str
    messages: list[str] = Field(default_factory=list)
    judged_at: datetime


class JudgementStarted(Event):
    """判定中: the judgement service has the line's CCUS data and is judging it.

    Until then (CCUSデータ待ち) the application can still be withdrawn.
    """

    TYPE = "judgement.started"
    VERSION = 1
    TOPIC = TOPIC_JUDGEMENT
    KEY_FIELD = "judgement_id"

    judgement_id: str
    application_id: str
    line_id: str
    employer_id: EmployerId
    worker_id: WorkerId
    started_at: datetime


class JudgedDays(_Part):
    pre_ccus: int
    ccus: int
    total: int


class JudgedForemanDays(_Part):
    foreman: int
    leader: int
    foreman_or_leader: int


class JudgedCriterion(_Part):
    level: int
    kind: str
    met: bool
    required: int | str
    actual: int | str | None = None
    message_ja: str | None = None


class JudgedReconciliation(_Part):
    field: str
    declared: str | None = None
    adopted: str | None = None
    reason_ja: str


class JudgementCompletedV2(Event):
    """One application line judged, with the basis of the result (what a 結果通知書 shows).

    v2 adds the worker's name, the application date, the evaluation body and the basis
    (days, foreman and leader days, every criterion, the reconciliation notes, warnings).
    The judgement service emits v2 only; v1 was never released to partners.
    """

    TYPE = "judgement.completed"
    VERSION = 2
    TOPIC = TOPIC_JUDGEMENT
    KEY_FIELD = "judgement_id"

    judgement_id: str
    application_id: str
    line_id: str
    employer_id: EmployerId
    worker_id: WorkerId
    worker_name: str
    trade: str
    evaluation_body: str
    application_date: date
    requested_level: int = Field(ge=2, le=4)
    decision: Literal["approved", "rejected"]
    eligible_level: int = Field(ge=1, le=4)
    criteria_version: str
    messages: list[str] = Field(default_factory=list)
    days: JudgedDays | None = None
    foreman_days: JudgedForemanDays | None = None
    criteria: list[JudgedCriterion] = Field(default_factory=list)
    reconciliation: list[JudgedReconciliation] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    reviewed_by: str | None = None
    judged_at: datetime
    sequence: int = Field(default=1, ge=1)
    """The judgement's place among the line's judgements: 1 for the first, n + 1 for each
    re-judgement (再判定). The line's current judgement is the one with the highest sequence;
    a consumer applies an event only if its sequence is higher than the one it holds."""
    supersedes: str | None = None
    """The ``judgement_id`` of the line's previous judgement (a re-judgement only)."""
    previous_decision: Literal["approved", "rejected"] | None = None
    previous_eligible_level: int | None = Field(default=None, ge=1, le=4)
    rejudgement_run_id: str | None = None
    """The 再判定 run that made this judgement (``python -m judgement rejudge``)."""
    rejudgement_reason: str | None = None
    """Why the line was judged again (shown to the employer and partners)."""


class PartnerJudgementCompleted(Event):
    """One application line judged: the result as partner systems receive it.

    Data minimisation: the identifiers a partner needs to file the result (judgement, line,
    application, 事業者ID, 技能者ID) and the result itself, nothing more. The worker's name,
    the CCUS records, the counted days, the criteria and the reconciliation notes stay in the
    internal JudgementCompleted v2. The judgement service raises both together from the same
    judgement; this one's ``ce_id`` is derived from the internal event's, so a republished
    pair keeps both ids. A line judged again (再判定) gets a new ``judgement_id`` with the same
    ``line_id``: the latest ``judged_at`` of a line is its current result.
    """

    TYPE = "partner.judgement.completed"
    VERSION = 1
    TOPIC = TOPIC_PARTNER_JUDGEMENT
    KEY_FIELD = "judgement_id"

    judgement_id: str
    application_id: str
    line_id: str
    employer_id: EmployerId
    worker_id: WorkerId
    trade: str
    evaluation_body: str
    application_date: date
    requested_level: int = Field(ge=2, le=4)
    decision: Literal["approved", "rejected"]
    eligible_level: int = Field(ge=1, le=4)
    criteria_version: str
    judged_at: datetime
    sequence: int = Field(default=1, ge=1)
    supersedes: str | None = None
    rejudgement_reason: str | None = None


class RejudgementLine(_Part):
    """One completed line to judge again, with everything the judgement needs."""

    line_id: str
    previous_judgement_id: str
    application_id: str
    employer_id: EmployerId
    application_date: date
    line: ApplicationLine
    snapshot_id: str
    ccus_json: str
    """The cited snapshot's §5 ``ccus`` part as JSON, as stored; empty when ``ccus_compact``
    is given (the re-judgement command sends only the compact form). When present, the
    judgement service validates it; one string is far cheaper to carry than nested records."""
    ccus_compact: str | None = None
    """The cited snapshot's compact form as stored (``ccus_compact``, format version 1 of
    ``judgement.core.compact``), when the sender has it: the judgement service then judges
    from it without reading ``ccus_json``, which stays the record of what was received."""
    previous_sequence: int = Field(default=1, ge=1)
    """The sequence of the line's current judgement when the run selected it; the new
    judgement gets the next one (its stored ``_id`` is ``<line>#<sequence>``)."""
    previous_decision: Literal["approved", "rejected"] | None = None
    previous_eligible_level: int | None = Field(default=None, ge=1, le=4)


class RejudgementRequested(Event):
    """再判定: an operator asked to judge completed lines again (e.g. after a criteria fix).

    Internal to the judgement service (``python -m judgement rejudge`` publishes, the service
    consumes). One event carries a chunk of lines with their inputs, so that the consumer
    needs no database reads; see docs/judgement.md "Re-judgement".
    """

    TYPE = "judgement.rejudgement-requested"
    VERSION = 1
    TOPIC = TOPIC_REJUDGEMENT
    KEY_FIELD = "chunk_id"

    run_id: str
    chunk_id: str
    reason: str
    requested_by: str
    requested_at: datetime
    lines: list[RejudgementLine] = Field(min_length=1)


class RejudgementPlanned(Event):
    """再判定: the lines of one employer that a run judges again (published before the run).

    The notification service gathers the run's new judgements per employer and sends one
    「レベル判定結果が更新されました」 mail when every planned line has arrived. A resumed run
    publishes its plan again (the union counts); a large employer's plan may come in parts.
    """

    TYPE = "judgement.rejudgement-planned"
    VERSION = 1
    TOPIC = TOPIC_JUDGEMENT
    KEY_FIELD = "employer_id"

    run_id: str
    employer_id: EmployerId
    line_ids: list[str] = Field(min_length=1)
    reason: str
    requested_at: datetime


class CriteriaPublished(Event):
    """基準管理: a criteria table version was approved and published (docs/criteria-admin.md).

    From ``effective_from`` on, judgements of the 分野 use it and record ``version`` as their
    ``criteria_version``. A correction of a published table keeps its effective date and is
    the next ``revision`` (``<trade>@<effective_from>-r<n>``); a published version never
    changes. No personal data: the login ids of the body's editor and the approver only.
    """

    TYPE = "judgement.criteria-published"
    VERSION = 1
    TOPIC = TOPIC_JUDGEMENT
    KEY_FIELD = "version"

    trade: str
    version: str
    """The table's version id: ``<trade>@<effective_from>`` or ``…-r<revision>``."""
    revision: int = Field(ge=1)
    effective_from: date
    approved_by: str
    drafted_by: str
    reason: str
    published_at: datetime


# --- document ------------------------------------------------------------------------------


class ResultNoticeGenerated(Event):
    """結果通知書 PDF stored for one judgement."""

    TYPE = "result-notice.generated"
    VERSION = 1
    TOPIC = TOPIC_DOCUMENT
    KEY_FIELD = "notice_id"

    notice_id: str
    judgement_id: str
    application_id: str
    line_id: str
    employer_id: EmployerId
    worker_id: WorkerId
    document_id: str
    sha256: str
    generated_at: datetime
    sequence: int = Field(default=1, ge=1)
    """The sequence of the judgement this notice prints (1: the line's first judgement)."""
    supersedes_notice_id: str | None = None
    """The line's previous notice, now superseded (a re-judgement's notice only)."""


CATALOGUE = Catalogue(
    UserProvisionallyRegistered,
    UserProvisionallyRegisteredV2,
    UserActivated,
    ConsentGranted,
    ConsentRejected,
    ApplicationSubmitted,
    ApplicationDraftReminder,
    ApplicationWithdrawn,
    CcusWorkerSnapshot,
    JudgementStarted,
    JudgementCompleted,
    JudgementCompletedV2,
    PartnerJudgementCompleted,
    RejudgementRequested,
    RejudgementPlanned,
    CriteriaPublished,
    ResultNoticeGenerated,
)
