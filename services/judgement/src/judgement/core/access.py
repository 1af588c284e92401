"""What the judgement service logs as personal-data access (APPI), and why.

The log itself is ``shared_kernel.access_log`` (one entry per answer naming a worker).
"""

from __future__ import annotations

LINKED = ("application_id",)
PURPOSES = {
    "worker_ccus": "技能者のCCUS登録情報（就業履歴・保有資格）の表示",
    "preview_worker": "CCUS登録情報による判定の試算",
    "list_judgements": "レベル判定の一覧表示",
    "get_judgement": "レベル判定の詳細表示（判定の入力・基準・結果）",
    "list_reviews": "審査待ちのレベル判定の一覧表示",
    "review": "レベル判定の審査（確認・変更）",
}
