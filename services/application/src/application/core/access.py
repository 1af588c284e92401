"""What the application service logs as personal-data access (APPI), and why.

The log itself is ``shared_kernel.infra.access_log`` (one entry per answer naming a worker).
"""

from __future__ import annotations

LINKED = ("application_id",)
PURPOSES = {
    "list_workers": "代行申請で選択できる技能者（同意取得済み）の一覧表示",
    "career_prefill": "就業期間の初期表示（CCUS登録情報の参照）",
    "list_applications": "代行申請の一覧表示",
    "get_application": "代行申請の詳細表示",
    "list_results": "レベル判定結果の一覧表示（申請済の技能者ごと）",
    "change_application": "代行申請の作成・変更（技能者明細を含む応答）",
    "preview": "判定プレビュー（CCUS登録情報による判定の試算）",
    "submit": "代行申請の申請",
    "withdraw": "代行申請の取下げ",
}
