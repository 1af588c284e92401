"""Who may see which judgement data, and what the service logs as personal-data access.

The log itself is ``shared_kernel.infra.access_log`` (one entry per answer naming a worker).

分野 scoping (docs/security.md): an evaluator bound to 分野 (token claim ``trades``) sees
the judgements of those 分野 only, and a worker's CCUS data only when the worker has a
judgement line of one of them; anything else answers 404 exactly like another employer's
data. An evaluator without a binding sees every 分野. An employer sees his own judgements.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from judgement.core.lines import JudgementSummary
from shared_kernel.principal import Principal

LINKED = ("application_id",)
PURPOSES = {
    "worker_ccus": "技能者のCCUS登録情報（就業履歴・保有資格）の表示",
    "preview_worker": "CCUS登録情報による判定の試算",
    "list_judgements": "レベル判定の一覧表示",
    "get_judgement": "レベル判定の詳細表示（判定の入力・基準・結果）",
    "list_reviews": "審査待ちのレベル判定の一覧表示",
    "review": "レベル判定の審査（確認・変更）",
}


def scoped(principal: Principal) -> bool:
    """Whether ``principal`` is an evaluator bound to some 分野."""
    return principal.role == "evaluator" and principal.trades is not None


def judgement_filter(principal: Principal) -> dict[str, Any]:
    """The selection of judgements ``principal`` may list (merged into the caller's)."""
    if principal.role == "employer":
        return {"employer_id": principal.employer_id}
    if scoped(principal):
        return {"trade": {"$in": list(principal.trades or ())}}
    return {}


def sees_judgement(principal: Principal, doc: JudgementSummary) -> bool:
    """A line's judgement: its employer, or an evaluator of its 分野."""
    if principal.role == "employer":
        return principal.employer_id is not None and doc.employer_id == principal.employer_id
    if principal.role == "evaluator":
        return principal.handles(doc.trade)
    return False


def evaluator_sees_worker(principal: Principal, trades_of_worker: Iterable[str]) -> bool:
    """An evaluator reads a worker's CCUS data when the worker has a judgement line of one
    of his 分野 (``trades_of_worker``: the 分野 of the worker's lines, of any employer);
    an unbound evaluator reads any worker."""
    if principal.role != "evaluator":
        return False
    if not scoped(principal):
        return True
    return any(principal.handles(trade) for trade in trades_of_worker)
