"""Who is asking: the verified claims of a bearer token (``shared_kernel.infra.auth``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Role = Literal["employer", "evaluator", "operator", "criteria_editor", "criteria_approver"]


class Principal(BaseModel):
    subject: str
    role: Role
    employer_id: str | None = None
    session: str | None = None
    """The identity session the token was issued for (claim ``sid``; every service refuses a
    token whose session was ended by logout or a password change)."""
    trades: tuple[str, ...] | None = None
    """The 分野 a staff member is bound to (claim ``trades``): a criteria editor edits, an
    evaluator sees, only these. ``None``: not bound (employers, operators, approvers)."""
    body: str | None = None
    """The 能力評価実施団体 a staff member belongs to (claim ``body``), where bound."""

    def handles(self, trade: str) -> bool:
        """Whether this principal's 分野 binding covers ``trade`` (unbound: every 分野)."""
        return self.trades is None or trade in self.trades
