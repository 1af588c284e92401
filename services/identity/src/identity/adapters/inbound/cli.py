"""The admin command line: staff accounts and their 分野 (admins only).

``python -m identity create-user`` creates a staff account::

    uv run python -m identity create-user --role evaluator --login-id hyoka0001 \\
        --email hyoka@example.jp --body 公益社団法人全国鉄筋工事業協会 < password.txt
    uv run python -m identity create-user --role criteria_editor --login-id kijun0001 \\
        --email kijun@example.jp --trade 鉄筋 --trade 型枠 --generate-password
    uv run python -m identity create-user --role criteria_approver --login-id shonin001 \\
        --email shonin@example.jp --generate-password
    uv run python -m identity create-user --role operator --login-id unyo0001 \\
        --email unyo@example.jp --generate-password

Roles: ``evaluator``, ``operator``, ``criteria_editor``, ``criteria_approver``. The 分野 of
``--body`` (every 分野 the body judges or receives applications for) and the names given
with ``--trade`` are resolved from the judgement service's criteria master (``GET /trades``
at ``IDENTITY_JUDGEMENT_URL``) and stored on the account (rules: ``core/binding.py``). An
evaluator created without ``--body`` is not bound (every 分野).

``python -m identity bind-user --login-id … (--body … [--trade …] | --trade … | --unbind)``
replaces the binding of an existing staff account (its next access token carries it).

The password is read from standard input (first line; prompted twice without echo when
standard input is a terminal) and must satisfy the password policy; with
``--generate-password`` a random one is generated and printed once on standard output
(nothing else goes there). The account is active at once. Employers register themselves
(利用者仮申請), so ``--role employer`` is refused.

Exit status: 0 done; 2 invalid input (bad option, login ID, e-mail or password, login ID
already used, unknown body or 分野, invalid settings) with one line on standard error; 1
the database or the judgement service could not be reached (one line on standard error).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from pymongo.errors import PyMongoError

from identity.adapters.outbound.master_http import MasterUnavailable, fetch_trades
from identity.config import Settings
from identity.core import binding as bindings
from identity.core import forms
from identity.core.accounts import STAFF_ROLES, Role, User
from identity.core.binding import UNBOUND, Binding, BindingRefused
from identity.core.errors import AccountNotFound, LoginIdTaken, ValidationFailed
from identity.core.service import bind_staff, create_staff, staff_role
from identity.core.tokens import generate_password
from shared_kernel.cli import InvalidInput, Parser
from shared_kernel.infra.mongo import DocumentStore, connect
from shared_kernel.infra.repository import Repository

PROG = "python -m identity create-user"
BIND_PROG = "python -m identity bind-user"
ARGUMENT_ERROR = "引数が正しくありません: {message}（{prog} --help を参照）"
EXIT_INVALID = 2
EXIT_UNAVAILABLE = 1
GENERATED_LENGTH = 16
ROLE_NAMES = {
    "evaluator": "評価者（能力評価実施団体）",
    "operator": "運用担当者",
    "criteria_editor": "判定基準の編集者",
    "criteria_approver": "判定基準の承認者",
}


def _binding_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--body",
        help="能力評価実施団体 (full name as in the criteria master; evaluators, editors)",
    )
    parser.add_argument(
        "--trade",
        action="append",
        default=[],
        help="a 分野 (repeatable; criteria editors, or to narrow an evaluator's body)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Create a staff account.", error_format=ARGUMENT_ERROR)
    parser.add_argument("--role", required=True, help=", ".join(STAFF_ROLES))
    parser.add_argument("--login-id", required=True, help="half-width letters/digits, 8-16")
    parser.add_argument("--email", required=True)
    _binding_options(parser)
    parser.add_argument(
        "--generate-password",
        action="store_true",
        help="generate a password and print it once on standard output",
    )
    return parser


def _bind_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=BIND_PROG,
        description="Replace a staff account's binding.",
        error_format=ARGUMENT_ERROR,
    )
    parser.add_argument("--login-id", required=True)
    _binding_options(parser)
    parser.add_argument(
        "--unbind", action="store_true", help="remove the binding (an evaluator: every 分野)"
    )
    return parser


def _resolve(settings: Settings, role: str, body: str | None, trades: list[str]) -> Binding:
    """The binding for these options, read against the judgement service's master (only
    fetched when there is something to resolve)."""
    needed = bindings.needs_master(role, body, trades)
    master = (
        fetch_trades(settings.judgement_url, settings.judgement_timeout_seconds) if needed else []
    )
    return bindings.resolve(role, body, trades, master)


def _read_password(stdin: TextIO) -> str:
    if stdin.isatty():
        first = getpass.getpass("パスワード: ")
        second = getpass.getpass("パスワード（確認）: ")
        if first != second:
            raise InvalidInput("確認用のパスワードが一致しません")
        return first
    line = stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


async def _store(
    settings: Settings, role: Role, staff: forms.StaffUser, hashed: str, binding: Binding
) -> None:
    client = connect(settings.mongodb_url, serverSelectionTimeoutMS=3000)
    try:
        users = Repository(DocumentStore(client[settings.db_name], "users"), User)
        await create_staff(
            users,
            role=role,
            login_id=staff.login_id,
            email=staff.email,
            password_hash=hashed,
            now=datetime.now(UTC),
            binding=binding,
        )
    finally:
        await client.close()


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise InvalidInput(f"設定が正しくありません: {exc}") from None


def _invalid(prog: str, message: str) -> int:
    print(f"{prog}: {_one_line(message)}", file=sys.stderr)
    return EXIT_INVALID


def _unavailable(prog: str, exc: Exception) -> int:
    if isinstance(exc, MasterUnavailable):
        what = f"判定サービス（基準マスタ）に接続できません: {_one_line(str(exc))}"
    else:
        what = f"データベースに接続できません: {_one_line(type(exc).__name__)}"
    print(f"{prog}: {what}", file=sys.stderr)
    return EXIT_UNAVAILABLE


def run(argv: Sequence[str], stdin: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    try:
        args = _parser().parse_args(list(argv))
        if args.role not in STAFF_ROLES:
            raise InvalidInput(
                f"--role は {'、'.join(STAFF_ROLES)} のいずれかを指定してください"
                f"（{args.role!r} は不可。事業者は利用者仮申請で登録します）"
            )
        role: Role = args.role
        bindings.check_usage(role, args.body, args.trade)
        password = generate_password(GENERATED_LENGTH) if args.generate_password else None
        if password is None:
            password = _read_password(stdin)
        try:
            staff = forms.parse_staff(args.login_id, args.email, password)
        except ValidationFailed as failed:
            raise InvalidInput("; ".join(e.message for e in failed.errors)) from None
        settings = _settings()
        binding = _resolve(settings, role, args.body, args.trade)
        from identity.inject import make_hasher

        hashed = make_hasher(settings).hash_now(staff.password)
        asyncio.run(_store(settings, role, staff, hashed, binding))
    except InvalidInput as exc:
        return _invalid(PROG, str(exc))
    except (BindingRefused, LoginIdTaken) as exc:
        return _invalid(PROG, exc.message)
    except (MasterUnavailable, PyMongoError, OSError) as exc:
        return _unavailable(PROG, exc)
    if args.generate_password:
        print(password)
    bound = f"（{bindings.describe_ja(binding)}）" if role in bindings.BOUND_ROLES else ""
    print(f"{PROG}: {ROLE_NAMES[role]} {staff.login_id} を作成しました{bound}", file=sys.stderr)
    return 0


async def _rebind(settings: Settings, login_id: str, args: argparse.Namespace) -> Binding:
    client = connect(settings.mongodb_url, serverSelectionTimeoutMS=3000)
    try:
        users = Repository(DocumentStore(client[settings.db_name], "users"), User)
        role = await staff_role(users, login_id)
        if args.unbind:
            if args.body is not None or args.trade:
                raise InvalidInput("--unbind と --body／--trade は同時に指定できません")
            if role == "criteria_editor":
                raise InvalidInput(
                    "criteria_editor の割当は外せません（--trade で指定し直してください）"
                )
            binding = UNBOUND
        elif role not in bindings.BOUND_ROLES:
            raise InvalidInput(f"{role} は分野に割り当てません")
        elif args.body is None and not args.trade:
            raise InvalidInput("--body、--trade または --unbind を指定してください")
        else:
            binding = await asyncio.to_thread(_resolve, settings, role, args.body, args.trade)
        await bind_staff(users, login_id, binding, datetime.now(UTC))
        return binding
    finally:
        await client.close()


def run_bind(argv: Sequence[str]) -> int:
    """``bind-user``: replace the binding of an existing staff account."""
    try:
        args = _bind_parser().parse_args(list(argv))
        settings = _settings()
        binding = asyncio.run(_rebind(settings, args.login_id, args))
    except InvalidInput as exc:
        return _invalid(BIND_PROG, str(exc))
    except BindingRefused as exc:
        return _invalid(BIND_PROG, exc.message)
    except AccountNotFound:
        print(f"{BIND_PROG}: 職員のアカウント {args.login_id} がありません", file=sys.stderr)
        return EXIT_INVALID
    except (MasterUnavailable, PyMongoError, OSError) as exc:
        return _unavailable(BIND_PROG, exc)
    print(
        f"{BIND_PROG}: {args.login_id} の割当を変更しました（{bindings.describe_ja(binding)}）",
        file=sys.stderr,
    )
    return 0
