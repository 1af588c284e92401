"""利用者仮申請 → 利用者本申請 → login, end to end through the real database and Kafka.

The temporary passwords are captured by wrapping the generator; the test then checks the
sealed copy in the event opens to exactly that value, and that neither the temporary
passwords nor the chosen password appear in any Kafka record (key, value, headers), any
document of any collection, any log line, or any HTTP response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from shared_kernel.auth import verify_token
from shared_kernel.events.catalogue import (
    TOPIC_IDENTITY,
    UserActivated,
    UserProvisionallyRegistered,
)
from shared_kernel.sealing import unseal
from shared_kernel.testing import Expected, expect_events

Identity = Any  # the ``identity`` fixture (see conftest.py)
REGISTRATION = {
    "login_id": "Kensetsu01",
    "email": "taro@example.jp",
    "employer_id": "12345678901234",
    "employer_name": "株式会社テスト建設",
    "address": "東京都千代田区霞が関1-1",
    "representative_name": "山田 太郎",
    "phone_number": "03-1234-5678",
    "permit_number": "東京都知事許可（般－１９）第１２３４号",
}
PASSWORD = "Sekkei-2026"
EMPLOYER = {
    "login_id": "Kensetsu01",
    "email": "taro@example.jp",
    "employer_id": "12345678901234",
    "employer_name": "株式会社テスト建設",
}


async def test_full_flow_keeps_every_secret_out_of_kafka_db_logs_and_responses(
    logs: Callable[[], list[str]],
    identity: Identity,
    db: Any,
    records: Callable[..., Any],
    dump: Callable[..., Any],
) -> None:
    client = identity.client()
    captured = identity.capture_temporary_passwords()
    key = identity.settings.mail_sealing_key.get_secret_value()
    responses: list[str] = []

    # 利用者仮申請 — twice: the second replaces the first temporary password
    registered = [Expected(UserProvisionallyRegistered, EMPLOYER)]
    for attempt in range(2):
        async with expect_events(identity.settings, registered) as recorded:
            response = await client.post("/registrations", json=REGISTRATION)
            assert response.status_code == 201, response.text
            responses.append(response.text)
        assert len(captured) == attempt + 1
        [envelope] = recorded.envelopes
        event = envelope.event
        assert isinstance(event, UserProvisionallyRegistered)
        assert unseal(key, event.sealed_temporary_password) == captured[-1]
        assert response.json()["expires_at"].startswith(event.expires_at.strftime("%Y-%m-%dT%H:%M"))
        assert recorded.headers[0]["ce_subject"] == "Kensetsu01"
    first, second = captured
    assert first != second
    body = response.json()
    assert body["login_id"] == "Kensetsu01" and body["email"] == "taro@example.jp"
    assert set(body) == {"login_id", "email", "expires_at", "message"}

    # the replaced temporary password no longer activates
    stale = await client.post(
        "/activations",
        json={
            "login_id": "Kensetsu01",
            "temporary_password": first,
            "new_password": PASSWORD,
            "new_password_confirmation": PASSWORD,
        },
    )
    assert stale.status_code == 401
    assert stale.json() == {
        "code": "invalid_temporary_credentials",
        "message": "ログインIDまたは仮パスワードが正しくありません。",
    }

    # 利用者本申請
    async with expect_events(identity.settings, [Expected(UserActivated, EMPLOYER)]):
        activated = await client.post(
            "/activations",
            json={
                "login_id": "Kensetsu01",
                "temporary_password": second,
                "new_password": PASSWORD,
                "new_password_confirmation": PASSWORD,
            },
        )
        assert activated.status_code == 200, activated.text
        responses.append(activated.text)
    assert activated.json()["employer_id"] == "12345678901234"

    # the temporary password is spent
    again = await client.post(
        "/activations",
        json={
            "login_id": "Kensetsu01",
            "temporary_password": second,
            "new_password": "Other-Pass1",
            "new_password_confirmation": "Other-Pass1",
        },
    )
    assert again.status_code == 401

    # once active, the login ID is taken
    taken = await client.post("/registrations", json=REGISTRATION)
    assert taken.status_code == 409
    assert taken.json() == {
        "code": "login_id_taken",
        "message": "このログインIDは既に使用されています。別のログインIDを指定してください。",
    }

    # login: session cookie + access token with the employer's claims
    login = await client.post("/sessions", json={"login_id": "Kensetsu01", "password": PASSWORD})
    assert login.status_code == 201, login.text
    responses.append(login.text)
    principal = verify_token(
        identity.settings.jwt_secret.get_secret_value(), login.json()["access_token"]
    )
    assert (principal.subject, principal.role, principal.employer_id) == (
        "Kensetsu01",
        "employer",
        "12345678901234",
    )
    me = await client.get(
        "/me", headers={"authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.json()["employer_name"] == "株式会社テスト建設"
    responses.append(me.text)

    # where the secrets are (not): Kafka, database, logs, responses
    secrets = {"temporary password 1": first, "temporary password 2": second, "password": PASSWORD}
    published = await records(identity.settings, TOPIC_IDENTITY)
    assert len(published) == 3  # two registrations, one activation
    stored = await dump(db)
    assert "users" in stored and "$argon2id$" in stored
    lines = logs()
    assert any('"message": "identity.activated"' in line for line in lines)
    assert all(json.loads(line)["service"] == "identity" for line in lines)
    for name, secret in secrets.items():
        assert not any(secret.encode() in record for record in published), f"{name} in Kafka"
        assert secret not in stored, f"{name} in the database"
        assert not any(secret in line for line in lines), f"{name} in a log line"
        assert not any(secret in text for text in responses), f"{name} in a response"


async def test_expired_temporary_password_is_refused_with_the_seed_message(
    identity: Identity,
) -> None:
    client = identity.client()
    _, temporary = await identity.register(client)
    service = identity.container.service
    issued = service.clock()
    service.clock = lambda: issued + timedelta(hours=24, seconds=1)
    body = {
        "login_id": "Kensetsu01",
        "temporary_password": temporary,
        "new_password": PASSWORD,
        "new_password_confirmation": PASSWORD,
    }
    expired = await client.post("/activations", json=body)
    assert expired.status_code == 410
    assert expired.json() == {
        "code": "temporary_password_expired",
        "message": "仮パスワードの有効期限が切れています。再度仮申請を行ってください",
    }
    # 再度仮申請 gives a new, valid temporary password
    _, fresh = await identity.register(client)
    activated = await client.post("/activations", json={**body, "temporary_password": fresh})
    assert activated.status_code == 200, activated.text


async def test_one_employer_account_per_employer_id(identity: Identity) -> None:
    client = identity.client()
    await identity.register(client)
    # a pending registration does not hold the 事業者ID: another login ID may apply too
    _, other_temporary = await identity.register(client, login_id="Kensetsu02")
    await identity.active_employer(client, login_id="Kensetsu03")
    refused = await client.post("/registrations", json={**REGISTRATION, "login_id": "Kensetsu04"})
    assert refused.status_code == 409
    assert refused.json() == {
        "code": "employer_already_registered",
        "message": "この事業者IDは既に利用者登録されています。",
    }
    late = await client.post(
        "/activations",
        json={
            "login_id": "Kensetsu02",
            "temporary_password": other_temporary,
            "new_password": PASSWORD,
            "new_password_confirmation": PASSWORD,
        },
    )
    assert late.status_code == 409 and late.json()["code"] == "employer_already_registered"
