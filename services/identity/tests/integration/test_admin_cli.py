"""``python -m identity create-user`` / ``bind-user`` as an administrator runs them (a real
subprocess).

The accounts they create log in through the running service (same database). The criteria
master they resolve 分野 against is a small HTTP server answering ``GET /trades`` as the
judgement service does (tests/security uses the real one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shared_kernel.infra.settings import ServiceSettings

Identity = Any  # the ``identity`` fixture (see conftest.py)
PROG = "python -m identity create-user"


ZENKEN = "全国建設労働組合総連合（全建総連）"
KIKAI = "一般社団法人日本機械土工協会"
TRADES = [  # GET /trades of the judgement service, abridged (other fields are ignored)
    {
        "name": "鉄筋",
        "aliases": [],
        "bodies": ["公益社団法人全国鉄筋工事業協会"],
        "judgeable": True,
    },
    {"name": "電気工事", "bodies": ["一般社団法人日本電設工業協会"], "applications_via": [ZENKEN]},
    {
        "name": "建築大工",
        "aliases": ["大工"],
        "bodies": ["一般社団法人JBN・全国工務店協会", ZENKEN],
        "applications_via": [ZENKEN],
    },
    {"name": "機械土工", "bodies": [KIKAI]},
    {"name": "解体", "bodies": ["公益社団法人全国解体工事業団体連合会"], "judged_by": [KIKAI]},
]


@pytest.fixture(scope="module")
def judgement_url() -> Iterator[str]:
    """A stand-in for the judgement service's public ``GET /trades``."""

    class Master(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(TRADES, ensure_ascii=False).encode()
            status = 200 if self.path.split("?")[0] == "/trades" else 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Master)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def run(settings: ServiceSettings, judgement_url: str) -> Any:
    """The CLI against the test's database (the ``identity`` fixture uses the same one)."""
    env = {
        **os.environ,
        "MONGODB_URL": settings.mongodb_url,
        "IDENTITY_DB_NAME": settings.db_name,
        "IDENTITY_ARGON2_TIME_COST": "1",
        "IDENTITY_ARGON2_MEMORY_KIB": "1024",
        "IDENTITY_ARGON2_PARALLELISM": "1",
        "IDENTITY_JUDGEMENT_URL": judgement_url,
        "IDENTITY_JUDGEMENT_TIMEOUT_SECONDS": "5",
    }

    def run(
        *args: str, stdin: str = "", command: str = "create-user", **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "identity", command, *args],
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**env, **extra_env},
            timeout=60,
            check=False,
        )

    return run


def staff(role: str, login_id: str, email: str, *more: str) -> list[str]:
    """The arguments of ``create-user`` for one staff account (``more`` after them)."""
    return ["--role", role, "--login-id", login_id, "--email", email, *more]


def one_line_error(
    done: subprocess.CompletedProcess[str], message: str, prog: str = PROG, status: int = 2
) -> None:
    assert done.returncode == status, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{prog}: ")
    assert message in done.stderr


async def test_evaluator_from_stdin_logs_in_with_its_role(identity: Identity, run: Any) -> None:
    done = run(
        *staff("evaluator", "Hyoka0001", "hyoka@example.jp"),
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
    principal = await identity.container.runtime.auth.verify(token)
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
        *staff("operator", "Hyoka0001", "x@example.jp"),
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
        *staff("operator", "Unyou0001", "unyou@example.jp"),
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
            staff("employer", "Jigyou001", "j@example.jp"),
            "Jigyou-Pass1\n",
            "--role は evaluator、operator、criteria_editor、criteria_approver のいずれか",
        ),
        (
            staff("evaluator", "short", "h@example.jp"),
            "Hyouka-Pass1\n",
            "ログインIDは半角英数字8〜16文字で入力してください",
        ),
        (
            staff("evaluator", "Hyoka0002", "nope"),
            "Hyouka-Pass1\n",
            "メールアドレスの形式が正しくありません",
        ),
        (
            staff("evaluator", "Hyoka0002", "h@example.jp"),
            "weakpass\n",
            "パスワードは英大文字・英小文字と、数字または記号を組み合わせて",
        ),
        (
            staff("evaluator", "Hyoka0002", "h@example.jp"),
            "",
            "パスワードを入力してください",
        ),
        (["--role", "evaluator", "--email", "h@example.jp"], "", "--login-id"),
        (
            staff("criteria_editor", "Kijun0009", "k@example.jp"),
            "Kijun-Pass1\n",
            "criteria_editor には --trade で分野を1つ以上指定してください",
        ),
        (
            staff("criteria_approver", "Shonin009", "s@example.jp", "--trade", "鉄筋"),
            "Shonin-Pass1\n",
            "evaluator と criteria_editor にだけ指定できます",
        ),
        (
            staff("operator", "Unyou0009", "u@example.jp", "--body", ZENKEN),
            "Unyou-Pass1\n",
            "evaluator と criteria_editor にだけ指定できます",
        ),
        (
            staff("evaluator", "Hyoka0009", "h@example.jp", "--trade", "鉄筋"),
            "Hyouka-Pass1\n",
            "evaluator に --trade を指定するときは --body も指定してください",
        ),
        (
            staff("evaluator", "Hyoka0009", "h@example.jp", "--body", "日本どこにもない協会"),
            "Hyouka-Pass1\n",
            "能力評価実施団体「日本どこにもない協会」は基準マスタにありません",
        ),
        (
            staff("evaluator", "Hyoka0009", "h@example.jp", "--body", ZENKEN, "--trade", "鉄筋"),
            "Hyouka-Pass1\n",
            f"分野「鉄筋」は能力評価実施団体「{ZENKEN}」の分野ではありません",
        ),
        (
            staff("criteria_editor", "Kijun0009", "k@example.jp", "--trade", "宇宙工事"),
            "Kijun-Pass1\n",
            "分野「宇宙工事」は基準マスタにありません",
        ),
        (
            staff("evaluator", "Hyoka0002", "h@example.jp", "--bogus"),
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
        *staff("evaluator", "Hyoka0003", "h@example.jp"),
        stdin="Hyouka-Pass1\n",
        MONGODB_URL="mongodb://127.0.0.1:1/",
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "データベースに接続できません" in done.stderr


# --- bindings: body and 分野 ---------------------------------------------------------------


async def login_claims(identity: Identity, login_id: str, password: str) -> Any:
    client = identity.client()
    response = await client.post("/sessions", json={"login_id": login_id, "password": password})
    assert response.status_code == 201, response.text
    answer = response.json()
    principal = await identity.container.runtime.auth.verify(answer["access_token"])
    me = await client.get("/me", headers={"authorization": f"Bearer {answer['access_token']}"})
    assert me.status_code == 200, me.text
    return principal, answer, me.json(), client


async def test_an_evaluator_bound_to_a_body_gets_its_trades_in_every_token(
    identity: Identity, run: Any
) -> None:
    done = run(
        *staff("evaluator", "Zenken001", "zenken@example.jp"),
        "--body",
        "全国建設労働組合総連合",  # without its abbreviation: the master's full name is stored
        stdin="Hyouka-Pass1\n",
    )
    assert done.returncode == 0, done.stderr
    assert f"{ZENKEN}：電気工事、建築大工" in done.stderr and done.stdout == ""
    principal, answer, me, client = await login_claims(identity, "Zenken001", "Hyouka-Pass1")
    assert (principal.role, principal.body, principal.trades) == (
        "evaluator",
        ZENKEN,
        ("電気工事", "建築大工"),
    )
    assert (answer["body"], answer["trades"]) == (ZENKEN, ["電気工事", "建築大工"])
    assert (me["body"], me["trades"]) == (ZENKEN, ["電気工事", "建築大工"])
    # the portal's renewal re-reads the account: same claims
    renewed = await client.post("/sessions/token")
    assert renewed.status_code == 200, renewed.text
    again = await identity.container.runtime.auth.verify(renewed.json()["access_token"])
    assert (again.body, again.trades) == (ZENKEN, ("電気工事", "建築大工"))

    # narrowed to one 分野 of a body that judges for another (解体 is judged by 日本機械土工協会)
    narrowed = run(
        *staff("evaluator", "Kikai0001", "kikai@example.jp"),
        "--body",
        "日本機械土工協会",
        "--trade",
        "解体",
        stdin="Hyouka-Pass1\n",
    )
    assert narrowed.returncode == 0, narrowed.stderr
    principal, *_ = await login_claims(identity, "Kikai0001", "Hyouka-Pass1")
    assert (principal.body, principal.trades) == (KIKAI, ("解体",))


async def test_criteria_roles_log_in_with_their_binding(identity: Identity, run: Any) -> None:
    editor = run(
        *staff("criteria_editor", "Kijun0001", "kijun@example.jp"),
        "--trade",
        "鉄筋",
        "--trade",
        "大工",
        "--generate-password",
    )
    assert editor.returncode == 0, editor.stderr
    [password] = editor.stdout.splitlines()
    assert "判定基準の編集者 Kijun0001 を作成しました（鉄筋、建築大工）" in editor.stderr
    principal, answer, me, client = await login_claims(identity, "Kijun0001", password)
    assert (principal.role, principal.body, principal.trades) == (
        "criteria_editor",
        None,
        ("鉄筋", "建築大工"),
    )
    assert (me["role"], me["trades"], me["employer_id"]) == (
        "criteria_editor",
        ["鉄筋", "建築大工"],
        None,
    )
    headers = {"authorization": f"Bearer {answer['access_token']}"}
    assert (await client.get("/employers/me", headers=headers)).status_code == 403

    approver = run(
        *staff("criteria_approver", "Shonin001", "shonin@example.jp"),
        "--generate-password",
    )
    assert approver.returncode == 0, approver.stderr
    [password] = approver.stdout.splitlines()
    principal, answer, me, _ = await login_claims(identity, "Shonin001", password)
    assert (principal.role, principal.body, principal.trades) == ("criteria_approver", None, None)
    assert (answer["trades"], me["trades"], me["body"]) == (None, None, None)


async def test_an_unbound_evaluator_sees_every_trade_until_bound(
    identity: Identity, run: Any
) -> None:
    created = run(
        *staff("evaluator", "Hyoka0100", "h100@example.jp"),
        stdin="Hyouka-Pass1\n",
    )
    assert created.returncode == 0, created.stderr
    assert "分野の割当なし（全分野）" in created.stderr
    principal, *_ = await login_claims(identity, "Hyoka0100", "Hyouka-Pass1")
    assert (principal.trades, principal.body) == (None, None)
    assert principal.handles("鉄筋") and principal.handles("解体")

    bound = run(
        "--login-id", "Hyoka0100", "--body", ZENKEN, "--trade", "電気工事", command="bind-user"
    )
    assert bound.returncode == 0, bound.stderr
    assert f"Hyoka0100 の割当を変更しました（{ZENKEN}：電気工事）" in bound.stderr
    principal, *_ = await login_claims(identity, "Hyoka0100", "Hyouka-Pass1")
    assert (principal.body, principal.trades) == (ZENKEN, ("電気工事",))
    assert not principal.handles("鉄筋")

    unbound = run("--login-id", "Hyoka0100", "--unbind", command="bind-user")
    assert unbound.returncode == 0, unbound.stderr
    principal, *_ = await login_claims(identity, "Hyoka0100", "Hyouka-Pass1")
    assert principal.trades is None

    bind = "python -m identity bind-user"
    for args, message in (
        (
            ["--login-id", "Nobody0001", "--body", ZENKEN],
            "職員のアカウント Nobody0001 がありません",
        ),
        (["--login-id", "Hyoka0100"], "--body、--trade または --unbind を指定してください"),
        (["--login-id", "Hyoka0100", "--trade", "鉄筋"], "--body も指定してください"),
        (["--login-id", "Hyoka0100", "--unbind", "--body", ZENKEN], "同時に指定できません"),
    ):
        one_line_error(run(*args, command="bind-user"), message, prog=bind)


def test_an_unreachable_master_exits_1(run: Any) -> None:
    done = run(
        *staff("evaluator", "Hyoka0004", "h@example.jp"),
        "--body",
        ZENKEN,
        stdin="Hyouka-Pass1\n",
        IDENTITY_JUDGEMENT_URL="http://127.0.0.1:1",
    )
    one_line_error(done, "判定サービス（基準マスタ）に接続できません", status=1)
