"""Which 分野 a staff account is bound to (pure: the master comes in as data).

Evaluators and criteria editors are bound to 分野 (trades); an evaluator also to his
能力評価実施団体 (body). The criteria master belongs to the judgement service, so the admin
command line reads its ``GET /trades`` and hands the answer to :func:`parse_master`; the
resolved binding is stored on the account and put into its tokens (claims ``trades`` and
``body``).

A body *handles* a 分野 when the master names it as one of the 分野's bodies, as the
organisation that judges for one of them (``judged_by``: 解体 and 計装工事 are judged by
日本機械土工協会) or as an organisation that receives its applications
(``applications_via``: 全建総連 receives applications for 14 分野).

Rules per role (:func:`check_usage` before any I/O, :func:`resolve` with the master):

* ``evaluator``: ``--body`` with no ``--trade`` → every 分野 the body handles;
  ``--body`` with ``--trade``s → those 分野, each one the body handles; neither → not bound
  (every 分野: the scheme's secretariat, and the accounts created before bindings existed);
  ``--trade`` without ``--body`` is refused;
* ``criteria_editor``: one ``--trade`` at least; ``--body`` optional (then each 分野 must be
  one the body handles);
* ``operator`` and ``criteria_approver``: never bound (``--body``/``--trade`` refused).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

BOUND_ROLES = ("evaluator", "criteria_editor")
LEGAL_FORMS = (
    "公益社団法人",
    "一般社団法人",
    "公益財団法人",
    "一般財団法人",
    "(一社)",
    "(公社)",
    "(一財)",
    "(公財)",
)
TRAILING_NOTE = re.compile(r"\([^()]*\)$")


class BindingRefused(Exception):
    """The requested binding is not possible; ``message`` is one Japanese line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MasterTrade:
    """One 分野 of the criteria master, as ``GET /trades`` answers it."""

    name: str
    aliases: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    judged_by: tuple[str, ...] = ()
    applications_via: tuple[str, ...] = ()

    @property
    def handlers(self) -> tuple[str, ...]:
        """Every organisation that handles this 分野 (bodies, judging, receiving)."""
        return tuple(dict.fromkeys((*self.bodies, *self.judged_by, *self.applications_via)))


@dataclass(frozen=True)
class Binding:
    """What an account is bound to; ``trades is None``: not bound (every 分野)."""

    body: str | None = None
    trades: tuple[str, ...] | None = None

    @property
    def bound(self) -> bool:
        return self.trades is not None


UNBOUND = Binding()


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str) and v)


def parse_master(answer: Any) -> list[MasterTrade]:
    """The 分野 of a ``GET /trades`` answer (a list of objects with at least ``name``)."""
    if not isinstance(answer, list):
        raise ValueError("GET /trades did not answer a list")
    found = []
    for item in answer:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError("GET /trades answered an entry without a name")
        found.append(
            MasterTrade(
                name=item["name"],
                aliases=_strings(item.get("aliases")),
                bodies=_strings(item.get("bodies")),
                judged_by=_strings(item.get("judged_by")),
                applications_via=_strings(item.get("applications_via")),
            )
        )
    if not found:
        raise ValueError("GET /trades answered no 分野")
    return found


def _text(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value).split())


def body_key(name: str) -> str:
    """A body's name for matching: NFKC, no spaces, no legal form in front, no trailing
    abbreviation in parentheses (「全国建設労働組合総連合（全建総連）」 → the name without
    「（全建総連）」)."""
    text = _text(name)
    for form in LEGAL_FORMS:
        if text.startswith(form):
            text = text[len(form) :]
            break
    return TRAILING_NOTE.sub("", text) or text


def check_usage(role: str, body: str | None, trades: Sequence[str]) -> None:
    """The options that make sense for ``role`` (before anything is looked up)."""
    if role not in BOUND_ROLES:
        if body is not None or trades:
            raise BindingRefused(
                f"--body と --trade は evaluator と criteria_editor にだけ指定できます（{role} は"
                "分野に割り当てません）"
            )
        return
    if body is not None and not _text(body):
        raise BindingRefused("--body に能力評価実施団体の名称を指定してください")
    if role == "criteria_editor" and not trades:
        raise BindingRefused("criteria_editor には --trade で分野を1つ以上指定してください")
    if role == "evaluator" and trades and body is None:
        raise BindingRefused("evaluator に --trade を指定するときは --body も指定してください")


def needs_master(role: str, body: str | None, trades: Sequence[str]) -> bool:
    return role in BOUND_ROLES and (body is not None or bool(trades))


def find_body(name: str, master: Iterable[MasterTrade]) -> str:
    """The full name the master gives the body ``name`` (matched by :func:`body_key`)."""
    wanted = body_key(name)
    names = {h for trade in master for h in trade.handlers}
    exact = [n for n in names if _text(n) == _text(name)]
    if exact:
        return exact[0]
    matches = sorted(n for n in names if body_key(n) == wanted)
    if not matches:
        raise BindingRefused(
            f"能力評価実施団体「{name}」は基準マスタにありません（判定サービスの GET /trades の"
            "bodies を正式名称で指定してください）"
        )
    if len(matches) > 1:
        raise BindingRefused(
            f"能力評価実施団体「{name}」に当たる団体が複数あります: {'、'.join(matches)}"
        )
    return matches[0]


def find_trade(name: str, master: Sequence[MasterTrade]) -> MasterTrade:
    wanted = _text(name)
    for trade in master:
        if wanted == _text(trade.name) or wanted in (_text(a) for a in trade.aliases):
            return trade
    raise BindingRefused(f"分野「{name}」は基準マスタにありません")


def trades_of_body(body: str, master: Sequence[MasterTrade]) -> tuple[str, ...]:
    """The 分野 ``body`` (a full name) handles, in the master's order."""
    return tuple(t.name for t in master if body in t.handlers)


def resolve(
    role: str, body: str | None, trades: Sequence[str], master: Sequence[MasterTrade]
) -> Binding:
    """The binding to store for ``role`` with these options (see the module's rules)."""
    check_usage(role, body, trades)
    if not needs_master(role, body, trades):
        return UNBOUND
    chosen = [find_trade(t, master).name for t in trades]
    full_body = find_body(body, master) if body is not None else None
    if full_body is not None:
        handled = trades_of_body(full_body, master)
        for trade in chosen:
            if trade not in handled:
                raise BindingRefused(
                    f"分野「{trade}」は能力評価実施団体「{full_body}」の分野ではありません"
                    f"（この団体の分野: {'、'.join(handled)}）"
                )
        if not chosen:
            chosen = list(handled)
    order = [t.name for t in master]
    unique = sorted(set(chosen), key=order.index)
    return Binding(body=full_body, trades=tuple(unique))


def describe_ja(binding: Binding) -> str:
    """For the CLI's confirmation line."""
    if binding.trades is None:
        return "分野の割当なし（全分野）"
    where = f"{binding.body}：" if binding.body else ""
    return f"{where}{'、'.join(binding.trades)}"
