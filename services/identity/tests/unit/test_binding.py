"""Unit tests of staff bindings: a body's 分野 from the master, the rules per role, the
binding on the account and in the token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from identity.core import accounts
from identity.core.binding import (
    UNBOUND,
    Binding,
    BindingRefused,
    body_key,
    describe_ja,
    parse_master,
    resolve,
    trades_of_body,
)
from identity.core.errors import AccountNotFound
from identity.migrations import with_binding_fields
from shared_kernel.infra.auth import Authenticator, NoRevocations, StaticKeys, issue_token
from shared_kernel.infra.testing import generated_signing_key
from shared_kernel.principal import Principal

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ZENKEN = "全国建設労働組合総連合（全建総連）"
KIKAI = "一般社団法人日本機械土工協会"

# what GET /trades answers (the fields identity reads; the rest is ignored)
ANSWER: list[dict[str, Any]] = [
    {
        "name": "鉄筋",
        "aliases": [],
        "bodies": ["公益社団法人全国鉄筋工事業協会"],
        "status": "table",
    },
    {
        "name": "電気工事",
        "bodies": ["一般社団法人日本電設工業協会"],
        "applications_via": [ZENKEN],
    },
    {
        "name": "建築大工",
        "aliases": ["大工"],
        "bodies": ["一般社団法人JBN・全国工務店協会", ZENKEN],
        "judged_by": [],
        "applications_via": [ZENKEN],
    },
    {"name": "機械土工", "bodies": [KIKAI]},
    {
        "name": "解体",
        "bodies": ["公益社団法人全国解体工事業団体連合会"],
        "judged_by": [KIKAI],
    },
    {"name": "圧接", "bodies": ["全国圧接業協同組合連合会（全圧連）"]},
    {"name": "コンクリート圧送", "bodies": ["全国コンクリート圧送事業団体連合会（全圧連）"]},
]
MASTER = parse_master(ANSWER)


def refused(role: str, body: str | None, trades: list[str], message: str) -> None:
    with pytest.raises(BindingRefused) as raised:
        resolve(role, body, trades, MASTER)
    assert message in raised.value.message, raised.value.message
    assert "\n" not in raised.value.message


def test_a_body_handles_what_it_judges_judges_for_or_receives() -> None:
    assert trades_of_body(ZENKEN, MASTER) == ("電気工事", "建築大工")  # receives / is a body
    assert trades_of_body(KIKAI, MASTER) == ("機械土工", "解体")  # its own and judged for
    assert MASTER[4].handlers == ("公益社団法人全国解体工事業団体連合会", KIKAI)


def test_an_evaluator_with_a_body_gets_every_trade_of_the_body() -> None:
    binding = resolve("evaluator", ZENKEN, [], MASTER)
    assert binding == Binding(body=ZENKEN, trades=("電気工事", "建築大工"))
    assert describe_ja(binding) == f"{ZENKEN}：電気工事、建築大工"
    # the name without its abbreviation, without the legal form, full-width or spaced
    for typed in (
        "全国建設労働組合総連合",
        "全国建設労働組合総連合(全建総連)",
        " 全国建設労働組合総連合 ",
    ):
        assert resolve("evaluator", typed, [], MASTER).body == ZENKEN
    assert resolve("evaluator", "日本機械土工協会", [], MASTER).body == KIKAI
    assert body_key("（一社）日本機械土工協会") == body_key(KIKAI) == "日本機械土工協会"


def test_an_evaluator_may_be_narrowed_to_some_trades_of_his_body() -> None:
    binding = resolve("evaluator", ZENKEN, ["大工", "建築大工"], MASTER)
    assert binding == Binding(body=ZENKEN, trades=("建築大工",))  # alias resolved, once
    refused("evaluator", ZENKEN, ["鉄筋"], "分野「鉄筋」は能力評価実施団体「" + ZENKEN)


def test_an_evaluator_without_a_body_is_unbound_and_trades_need_a_body() -> None:
    assert resolve("evaluator", None, [], MASTER) is UNBOUND
    assert describe_ja(UNBOUND) == "分野の割当なし（全分野）"
    refused("evaluator", None, ["鉄筋"], "--body も指定してください")


def test_criteria_editor_needs_trades_and_a_body_is_optional() -> None:
    assert resolve("criteria_editor", None, ["鉄筋", "大工"], MASTER) == (
        Binding(body=None, trades=("鉄筋", "建築大工"))
    )
    assert resolve("criteria_editor", KIKAI, ["解体"], MASTER) == Binding(KIKAI, ("解体",))
    refused("criteria_editor", None, [], "--trade で分野を1つ以上指定してください")
    refused("criteria_editor", KIKAI, ["鉄筋"], "分野「鉄筋」は能力評価実施団体")


@pytest.mark.parametrize("role", ["operator", "criteria_approver"])
def test_operators_and_approvers_are_never_bound(role: str) -> None:
    assert resolve(role, None, [], []) is UNBOUND  # no master needed
    refused(role, ZENKEN, [], "evaluator と criteria_editor にだけ指定できます")
    refused(role, None, ["鉄筋"], "evaluator と criteria_editor にだけ指定できます")


def test_unknown_or_ambiguous_names_are_refused() -> None:
    refused(
        "evaluator",
        "日本どこにもない協会",
        [],
        "能力評価実施団体「日本どこにもない協会」は基準マスタにありません",
    )
    refused("criteria_editor", None, ["宇宙工事"], "分野「宇宙工事」は基準マスタにありません")
    refused("evaluator", "   ", [], "--body に能力評価実施団体の名称を指定してください")
    # 「全圧連」 names two bodies: the abbreviation alone matches neither
    refused("evaluator", "全圧連", [], "基準マスタにありません")
    twins = parse_master(
        [
            {"name": "A", "bodies": ["一般社団法人X協会"]},
            {"name": "B", "bodies": ["公益社団法人X協会"]},
        ]
    )
    with pytest.raises(BindingRefused, match="に当たる団体が複数あります"):
        resolve("evaluator", "X協会", [], twins)
    assert resolve("evaluator", "公益社団法人X協会", [], twins).trades == ("B",)  # exact name


def test_the_master_answer_is_checked() -> None:
    for bad in ({}, [], [{"bodies": []}], ["鉄筋"]):
        with pytest.raises(ValueError):
            parse_master(bad)


async def verified(principal: Principal) -> Principal:
    key = generated_signing_key()
    auth = Authenticator(StaticKeys.of([key]), NoRevocations())
    return await auth.verify(issue_token(key, principal.model_copy(update={"session": "s"})))


async def test_the_binding_is_stored_on_the_account_and_travels_in_the_token() -> None:
    binding = resolve("evaluator", ZENKEN, [], MASTER)
    user = accounts.staff_user("Hyoka0001", "evaluator", "h@example.jp", "p", NOW, binding)
    assert (user.body, user.trades, user.bound_at) == (
        ZENKEN,
        ["電気工事", "建築大工"],
        NOW,
    )
    assert user.binding == binding
    view = accounts.account_view(user)
    assert (view.body, view.trades) == (ZENKEN, ["電気工事", "建築大工"])
    principal = Principal(
        subject="Hyoka0001", role="evaluator", trades=binding.trades, body=binding.body
    )
    claims = await verified(principal)
    assert claims.trades == ("電気工事", "建築大工") and claims.body == ZENKEN
    assert claims.handles("建築大工") and not claims.handles("鉄筋")


async def test_accounts_created_before_bindings_are_unbound() -> None:
    stored = accounts.staff_user("Hyoka0002", "evaluator", "h@example.jp", "p", NOW).to_document()
    old = {k: v for k, v in stored.items() if k not in ("body", "trades", "bound_at")}
    with pytest.raises(ValidationError):  # a format the model does not read ...
        accounts.User.model_validate(old)
    rewritten = with_binding_fields(old)  # ... migrated (0002-user-binding-fields)
    assert rewritten is not None
    assert accounts.User.model_validate(rewritten).binding == UNBOUND
    assert with_binding_fields(rewritten) is None  # done once
    bound = {**stored, "body": ZENKEN, "trades": ["鉄筋"]}
    assert with_binding_fields(bound) is None  # a stored binding is kept
    unbound = Principal(subject="Hyoka0002", role="evaluator")
    assert (await verified(unbound)).trades is None


def test_rebinding_an_account() -> None:
    user = accounts.staff_user("Hyoka0003", "evaluator", "h@example.jp", "p", NOW)
    assert user.status == accounts.ACTIVE
    bound, events = accounts.rebound(user, Binding(KIKAI, ("解体",)), now=NOW)
    assert (bound.body, bound.trades, bound.bound_at, events) == (
        KIKAI,
        ["解体"],
        NOW,
        [],
    )
    unbound, _ = accounts.rebound(bound, UNBOUND, now=NOW)
    assert (unbound.body, unbound.trades, unbound.bound_at) == (None, None, None)
    employer = user.model_copy(update={"role": "employer"})
    with pytest.raises(AccountNotFound):
        accounts.rebound(employer, UNBOUND, now=NOW)
    with pytest.raises(AccountNotFound):
        accounts.rebound(None, UNBOUND, now=NOW)
