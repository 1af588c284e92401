"""What the consent service logs as personal-data access (APPI), and why; which
consents an evaluator bound to 分野 may see.

The log itself is ``shared_kernel.infra.access_log`` (one entry per answer naming a worker).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from shared_kernel.aggregate import Aggregate
from shared_kernel.events import Envelope
from shared_kernel.principal import Principal

TRADES_COLLECTION = "worker_trades"

LINKED = ("consent_id",)
PURPOSES = {
    "ccus_check": "個人情報利用申請の入力内容とCCUS登録情報の照合",
    # no personal data is shown by these two: they record who tried which 技能者ID
    "ccus_check_failed": "個人情報利用申請の照合の失敗（入力内容がCCUS登録情報と一致しない）",
    "ccus_check_refused": "個人情報利用申請の照合の拒否（照合回数の上限・一時的なロック）",
    "list_consents": "個人情報利用申請（同意状況）の一覧表示",
    "get_consent": "個人情報利用申請の詳細表示",
    "list_granted": "代行申請できる技能者（同意取得済み）の一覧",
    "list_reviews": "個人情報利用申請の審査（審査待ち一覧）",
    "download_signed_form": "署名済み個人情報利用同意書の閲覧・ダウンロード",
}


# --- 分野 scoping of evaluators ----------------------------------------------------------
#
# A consent has no 分野 of its own. It concerns the 分野 of the lines its worker has been
# applied for (ApplicationSubmitted, by any employer; a withdrawn or judged line still
# counts), kept per worker in ``worker_trades``. An evaluator bound to 分野 (token claim
# ``trades``) sees a consent only when one of them is among its worker's 分野; a consent
# whose worker was never applied for concerns no 分野 and is seen only by evaluators without
# a binding. Anything else answers 404, like another employer's consent (docs/security.md).


def scoped(principal: Principal) -> bool:
    """Whether ``principal`` is an evaluator bound to some 分野."""
    return principal.role == "evaluator" and principal.trades is not None


def sees_worker(principal: Principal, worker_trades: Iterable[str]) -> bool:
    """Whether an evaluator sees the consents of a worker applied for in ``worker_trades``."""
    if principal.role != "evaluator":
        return False
    return not scoped(principal) or any(principal.handles(t) for t in worker_trades)


class WorkerTrades(Aggregate):
    """The 分野 a worker was applied for (``_id`` = 技能者ID)."""

    trades: list[str] = Field(default_factory=list)


def trades_added(
    trades: Iterable[str], current: WorkerTrades | None, *, worker_id: str
) -> tuple[WorkerTrades, list[Envelope]] | None:
    """The worker's 分野 with ``trades`` added (``None``: nothing new)."""
    known = current.trades if current else []
    new = [t for t in dict.fromkeys(trades) if t not in known]
    if not new:
        return None
    return WorkerTrades(id=worker_id, trades=sorted([*known, *new])), []
