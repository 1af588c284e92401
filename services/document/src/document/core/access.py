"""What the document service logs as personal-data access (APPI), and why.

The log itself is ``shared_kernel.access_log`` (one entry per answer naming a worker). The
public verification page shows a masked 技能者ID and no name: it is not logged.
"""

from __future__ import annotations

LINKED = ("application_id",)
PURPOSES = {
    "list_notices": "結果通知書の一覧表示",
    "download_notice": "結果通知書（PDF）のダウンロード",
}
