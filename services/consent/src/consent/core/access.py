"""What the consent service logs as personal-data access (APPI), and why.

The log itself is ``shared_kernel.access_log`` (one entry per answer naming a worker).
"""

from __future__ import annotations

LINKED = ("consent_id",)
PURPOSES = {
    "ccus_check": "個人情報利用申請の入力内容とCCUS登録情報の照合",
    "list_consents": "個人情報利用申請（同意状況）の一覧表示",
    "get_consent": "個人情報利用申請の詳細表示",
    "list_granted": "代行申請できる技能者（同意取得済み）の一覧",
    "list_reviews": "個人情報利用申請の審査（審査待ち一覧）",
    "download_signed_form": "署名済み個人情報利用同意書の閲覧・ダウンロード",
}
