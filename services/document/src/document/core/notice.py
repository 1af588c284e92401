"""The 結果通知書 (result notice): its number, contents, signature and verification code.

Pure functions; rendering to PDF and storage are adapters. A notice's authenticity rests
on HMAC-SHA256 over the PDF's SHA-256 with the service's signing key: the verification
code printed on the notice (and in its QR code) names the notice, and ``/verify`` recomputes
the signature of the stored hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared_kernel.events.catalogue import JudgementCompletedV2

JST = ZoneInfo("Asia/Tokyo")
CARD_COLOURS = {1: "ホワイト", 2: "ブルー", 3: "シルバー", 4: "ゴールド"}
KIND_JA = {
    "registration_type": "技能者登録の種別",
    "days": "就業日数",
    "foreman_days": "職長としての就業日数",
    "foreman_or_leader_days": "職長又は班長としての就業日数",
    "qualification": "保有資格",
    "lower_level_qualifications": "下位レベルの保有資格",
}


def notice_id(line_id: str) -> str:
    return f"RN-{line_id}"


def content_hash(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def sign(key: str, digest: str) -> str:
    return hmac.new(key.encode(), digest.encode(), hashlib.sha256).hexdigest()


def verifies(key: str, digest: str, signature: str) -> bool:
    return hmac.compare_digest(sign(key, digest), signature)


def verification_code(key: str, notice: str) -> str:
    """A short, unguessable code naming one notice (printed and encoded in the QR code)."""
    mac = hmac.new(key.encode(), f"code:{notice}".encode(), hashlib.sha256).digest()
    text = base64.b32encode(mac[:10]).decode()
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def mask_worker_id(worker_id: str) -> str:
    return worker_id[:4] + "*" * 6 + worker_id[-4:]


def wareki(day: date) -> str:
    """令和 date as printed on Japanese notices (令和元年 = 2019)."""
    year = day.year - 2018
    return f"令和{'元' if year == 1 else year}年{day.month}月{day.day}日"


def context(
    event: JudgementCompletedV2,
    *,
    number: str,
    code: str,
    employer_name: str | None,
    verify_url: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """Everything the notice template prints."""
    met = [c for c in event.criteria if c.met and c.kind == "qualification" and c.actual]
    unmet = [c for c in event.criteria if not c.met and c.level <= event.requested_level]
    return {
        "number": number,
        "code": code,
        "verify_url": verify_url,
        "issued_on": wareki(issued_at.astimezone(JST).date()),
        "application_date": wareki(event.application_date),
        "body": event.evaluation_body,
        "employer_name": employer_name or f"事業者ID {event.employer_id}",
        "employer_id": event.employer_id,
        "worker_id": event.worker_id,
        "worker_name": event.worker_name,
        "trade": event.trade,
        "requested_level": event.requested_level,
        "eligible_level": event.eligible_level,
        "approved": event.decision == "approved",
        "decision_ja": "承認" if event.decision == "approved" else "不承認",
        "card_colour": CARD_COLOURS[event.eligible_level],
        "days": event.days,
        "foreman_days": event.foreman_days,
        "qualifications": [str(c.actual) for c in met],
        "unmet": [
            {"level": c.level, "kind": KIND_JA.get(c.kind, c.kind), "message": c.message_ja}
            for c in unmet
        ],
        "reconciliation": [
            r.reason_ja + _adopted(r.declared, r.adopted) for r in event.reconciliation
        ],
        "warnings": event.warnings,
        "criteria_version": event.criteria_version,
    }


def _adopted(declared: str | None, adopted: str | None) -> str:
    if declared is None and adopted is None:
        return ""
    return f"（申告 {declared or '—'} → 採用 {adopted or '—'}）"
