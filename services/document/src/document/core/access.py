"""Who may see which 結果通知書, and what the service logs as personal-data access (APPI).

The log itself is ``shared_kernel.infra.access_log`` (one entry per answer naming a worker). The
public verification page shows a masked 技能者ID and no name: it is not logged.

A notice is seen by its employer and by the evaluators of its 分野: an evaluator bound to
分野 (token claim ``trades``) sees the notices of those 分野 only, an unbound one every
notice (docs/security.md). Anything else answers 404, like another employer's notice.
"""

from __future__ import annotations

from document.core.models import Notice
from shared_kernel.principal import Principal

LINKED = ("application_id",)
PURPOSES = {
    "list_notices": "結果通知書の一覧表示",
    "download_notice": "結果通知書（PDF）のダウンロード",
}


def sees_notice(principal: Principal, notice: Notice) -> bool:
    if principal.role == "evaluator":
        return principal.handles(notice.trade)
    if principal.role == "employer":
        return principal.employer_id is not None and notice.employer_id == principal.employer_id
    return False
