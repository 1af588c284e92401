"""``python -m identity create-user`` as an administrator runs it (a real subprocess).

The accounts it creates log in through the running service (same database).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from shared_kernel.auth import verify_token
from shared_kernel.settings import ServiceSettings

Identity = Any  # the ``identity`` fixture (see conftest.py)
PROG = "python -m identity create-user"


@pytest.fixture
def run(settings: ServiceSettings) -> Any:
    """The CLI against the test's database (the ``identity`` fixture uses the same one)."""
    env = {
        **os.environ,
        "MONGODB_URL": settings.mongodb_url,
        "IDENTITY_DB_NAME": settings.db_name,
        "IDENTITY_ARGON2_TIME_COST": "1",
        "IDENTITY_ARGON2_MEMORY_KIB": "1024",
        "IDENTITY_ARGON2_PARALLELISM": "1",
    }

    def run(*args: str, stdin: str = "", **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "identity", "create-user", *args],
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**env, **extra_env},
            timeout=60,
            check=False,
        )

    return run


def one_line_error(done: subprocess.CompletedProcess[str], message: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{PROG}: ")
    assert message in done.stderr


async def test_evaluator_from_stdin_logs_in_with_its_role(identity: Identity, run: Any) -> None:
    done = run(
        "--role",
        "evaluator",
        "--login-id",
        "Hyoka0001",
        "--email",
        "hyoka@example.jp",
        stdin="Hyouka-Pass1\n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "Hyoka0001" in done.stderr and "Hyouka-Pass1" not in done.stderr
    client = identity.client()
    response = await client.post(
        "/sessions", json={"login_id": "Hyoka0001", "password": "Hyouka-Pass1"}
    )
    assert response.status_code == 201, response.text
    token = response.json()["access_token"]
    principal = verify_token(identity.settings.jwt_secret.get_secret_value(), token)
    assert (principal.subject, principal.role, principal.employer_id) == (
        "Hyoka0001",
        "evaluator",
        None,
    )
    headers = {"authorization": f"Bearer {token}"}
    me = (await client.get("/me", headers=headers)).json()
    assert (me["role"], me["employer_id"], me["email"]) == ("evaluator", None, "hyoka@example.jp")
    forbidden = await client.get("/employers/me", headers=headers)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    # the login ID is now taken, for staff and for 利用者仮申請 alike
    again = run(
        "--role",
        "operator",
        "--login-id",
        "Hyoka0001",
        "--email",
        "x@example.jp",
        stdin="Other-Pass1\n",
    )
    one_line_error(again, "このログインIDは既に使用されています")
    taken = await client.post(
        "/registrations",
        json={**identity.REGISTRATION, "login_id": "Hyoka0001"},
    )
    assert taken.status_code == 409


async def test_generated_password_is_printed_once_and_works(identity: Identity, run: Any) -> None:
    done = run(
        "--role",
        "operator",
        "--login-id",
        "Unyou0001",
        "--email",
        "unyou@example.jp",
        "--generate-password",
    )
    assert done.returncode == 0, done.stderr
    [password] = done.stdout.splitlines()
    assert len(password) == 16 and password not in done.stderr
    response = await identity.client().post(
        "/sessions", json={"login_id": "Unyou0001", "password": password}
    )
    assert response.status_code == 201 and response.json()["role"] == "operator"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["--role", "employer", "--login-id", "Jigyou001", "--email", "j@example.jp"],
            "Jigyou-Pass1\n",
            "--role は evaluator または operator",
        ),
        (
            ["--role", "evaluator", "--login-id", "short", "--email", "h@example.jp"],
            "Hyouka-Pass1\n",
            "ログインIDは半角英数字8〜16文字で入力してください",
        ),
        (
            ["--role", "evaluator", "--login-id", "Hyoka0002", "--email", "nope"],
            "Hyouka-Pass1\n",
            "メールアドレスの形式が正しくありません",
        ),
        (
            ["--role", "evaluator", "--login-id", "Hyoka0002", "--email", "h@example.jp"],
            "weakpass\n",
            "パスワードは英大文字・英小文字と、数字または記号を組み合わせて",
        ),
        (
            ["--role", "evaluator", "--login-id", "Hyoka0002", "--email", "h@example.jp"],
            "",
            "パスワードを入力してください",
        ),
        (["--role", "evaluator", "--email", "h@example.jp"], "", "--login-id"),
        (
            [
                "--role",
                "evaluator",
                "--login-id",
                "Hyoka0002",
                "--email",
                "h@example.jp",
                "--bogus",
            ],
            "",
            "引数が正しくありません",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    run: Any, args: list[str], stdin: str, message: str
) -> None:
    one_line_error(run(*args, stdin=stdin), message)


def test_unreachable_database_exits_1(run: Any) -> None:
    done = run(
        "--role",
        "evaluator",
        "--login-id",
        "Hyoka0003",
        "--email",
        "h@example.jp",
        stdin="Hyouka-Pass1\n",
        MONGODB_URL="mongodb://127.0.0.1:1/",
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "データベースに接続できません" in done.stderr
