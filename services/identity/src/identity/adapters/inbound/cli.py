"""``python -m identity create-user``: create an evaluator or operator account (admins only).

    uv run python -m identity create-user --role evaluator --login-id hyoka0001 \\
        --email hyoka@example.jp < password.txt
    uv run python -m identity create-user --role operator --login-id unyo0001 \\
        --email unyo@example.jp --generate-password

The password is read from standard input (first line; prompted twice without echo when
standard input is a terminal) and must satisfy the password policy; with
``--generate-password`` a random one is generated and printed once on standard output
(nothing else goes there). The account is active at once. Employers register themselves
(利用者仮申請), so ``--role employer`` is refused.

Exit status: 0 created; 2 invalid input (bad option, login ID, e-mail or password, login ID
already used, invalid settings) with one line on standard error; 1 the database could not
be reached (one line on standard error).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn, TextIO

from pymongo.errors import PyMongoError

from identity.config import Settings
from identity.core import forms
from identity.core.accounts import STAFF_ROLES, Role
from identity.core.errors import LoginIdTaken, ValidationFailed
from identity.core.service import create_staff
from identity.core.tokens import generate_password
from shared_kernel.mongo import DocumentStore, connect

PROG = "python -m identity create-user"
EXIT_INVALID = 2
EXIT_UNAVAILABLE = 1
GENERATED_LENGTH = 16
ROLE_NAMES = {"evaluator": "評価者（能力評価実施団体）", "operator": "運用担当者"}


class InvalidInput(Exception):
    """One line for standard error."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InvalidInput(f"引数が正しくありません: {message}（{PROG} --help を参照）")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Create an evaluator or operator account.")
    parser.add_argument("--role", required=True, help="evaluator or operator")
    parser.add_argument("--login-id", required=True, help="half-width letters/digits, 8-16")
    parser.add_argument("--email", required=True)
    parser.add_argument(
        "--generate-password",
        action="store_true",
        help="generate a password and print it once on standard output",
    )
    return parser


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


async def _store(settings: Settings, role: Role, staff: forms.StaffUser, hashed: str) -> None:
    client = connect(settings.mongodb_url, serverSelectionTimeoutMS=3000)
    try:
        users = DocumentStore(client[settings.db_name], "users")
        await create_staff(
            users,
            role=role,
            login_id=staff.login_id,
            email=staff.email,
            password_hash=hashed,
            now=datetime.now(UTC),
        )
    finally:
        await client.close()


def run(argv: Sequence[str], stdin: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    try:
        args = _parser().parse_args(list(argv))
        if args.role not in STAFF_ROLES:
            raise InvalidInput(
                f"--role は evaluator または operator を指定してください（{args.role!r} は不可。"
                "事業者は利用者仮申請で登録します）"
            )
        role: Role = args.role
        password = generate_password(GENERATED_LENGTH) if args.generate_password else None
        if password is None:
            password = _read_password(stdin)
        try:
            staff = forms.parse_staff(args.login_id, args.email, password)
        except ValidationFailed as failed:
            raise InvalidInput("; ".join(e.message for e in failed.errors)) from None
        try:
            settings = Settings()
        except ValueError as exc:
            raise InvalidInput(f"設定が正しくありません: {exc}") from None
        from identity.inject import make_hasher

        hashed = make_hasher(settings).hash_now(staff.password)
        asyncio.run(_store(settings, role, staff, hashed))
    except InvalidInput as exc:
        print(f"{PROG}: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_INVALID
    except LoginIdTaken as exc:
        print(f"{PROG}: {exc.message}", file=sys.stderr)
        return EXIT_INVALID
    except (PyMongoError, OSError) as exc:
        print(
            f"{PROG}: データベースに接続できません: {_one_line(type(exc).__name__)}",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    if args.generate_password:
        print(password)
    print(f"{PROG}: {ROLE_NAMES[role]} {staff.login_id} を作成しました", file=sys.stderr)
    return 0
