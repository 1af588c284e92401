"""The access log (APPI): who read which worker's personal data, when and why.

One entry per access (one request), naming every worker (and his employer) whose data
it returned; written before the data is returned, so a read that cannot be logged fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

Doc = dict[str, Any]

PURPOSES = {
    "ccus_check": "個人情報利用申請の入力内容とCCUS登録情報の照合",
    "list_consents": "個人情報利用申請（同意状況）の一覧表示",
    "get_consent": "個人情報利用申請の詳細表示",
    "list_granted": "代行申請できる技能者（同意取得済み）の一覧",
    "list_reviews": "個人情報利用申請の審査（審査待ち一覧）",
    "download_signed_form": "署名済み個人情報利用同意書の閲覧・ダウンロード",
}


def entry(
    entry_id: str,
    *,
    action: str,
    endpoint: str,
    actor: str,
    actor_role: str,
    actor_employer_id: str | None,
    subjects: Sequence[Doc],
    at: datetime,
    correlation_id: str | None,
) -> Doc:
    """``subjects`` are the consent documents (or CCUS records) whose data was read."""
    workers = sorted({s["worker_id"] for s in subjects})
    employers = sorted({s["employer_id"] for s in subjects if s.get("employer_id")})
    consents = sorted({s["consent_id"] for s in subjects if s.get("consent_id")})
    return {
        "_id": entry_id,
        "at": at,
        "actor": actor,
        "actor_role": actor_role,
        "actor_employer_id": actor_employer_id,
        "action": action,
        "purpose": PURPOSES[action],
        "endpoint": endpoint,
        "worker_ids": workers,
        "employer_ids": employers,
        "consent_ids": consents,
        "correlation_id": correlation_id,
    }


def view(doc: Doc) -> Doc:
    return {
        "id": doc["_id"],
        "at": doc["at"].isoformat(),
        "actor": doc["actor"],
        "actor_role": doc["actor_role"],
        "actor_employer_id": doc.get("actor_employer_id"),
        "action": doc["action"],
        "purpose": doc["purpose"],
        "endpoint": doc["endpoint"],
        "worker_ids": doc["worker_ids"],
        "employer_ids": doc["employer_ids"],
        "consent_ids": doc["consent_ids"],
        "correlation_id": doc.get("correlation_id"),
    }
