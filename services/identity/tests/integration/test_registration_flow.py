"""利用者仮申請 → 利用者本申請 → login, end to end through the real database and Kafka.

The activation links are kept by the recording mailer (conftest); the test checks that the
event carries no secret at all (v2), and that neither the links' tokens nor the chosen
password appear in any Kafka record (key, value, headers), any document of any
collection, any log line, or any HTTP response. Registrations are limited per e-mail
address and per client address in the database; never-activated ones are deleted after
their link expired.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from shared_kernel.events.catalogue import (
    TOPIC_IDENTITY,
    UserActivated,
    UserProvisionallyRegisteredV2,
)
from shared_kernel.infra.mongo import delete_older
from shared_kernel.infra.testing import Expected, expect_events

from .conftest import PASSWORD, REGISTRATION, activation

Identity = Any  # the ``identity`` fixture (see conftest.py)
EMPLOYER = {
    "login_id": "Kensetsu01",
    "email": "taro@example.jp",
    "employer_id": "12345678901234",
    "employer_name": "株式会社テスト建設",
}
INVALID_LINK = (
    "本申請用のリンクが正しくないか、既に使用されています。"
    "メールに記載されたリンクをもう一度開くか、再度仮申請を行ってください。"
)


async def test_full_flow_keeps_every_secret_out_of_kafka_db_logs_and_responses(
    logs: Callable[[], list[str]],
    start_identity: Any,
    db: Any,
    records: Callable[..., Any],
    dump: Callable[..., Any],
) -> None:
    async with start_identity(rate_limit_per_login_id=50) as identity:
        await _full_flow(identity, logs, db, records, dump)


async def _full_flow(
    identity: Identity,
    logs: Callable[[], list[str]],
    db: Any,
    records: Callable[..., Any],
    dump: Callable[..., Any],
) -> None:
    client = identity.client()
    responses: list[str] = []

    # 利用者仮申請 — twice: the second replaces the first link
    registered = [Expected(UserProvisionallyRegisteredV2, EMPLOYER)]
    for attempt in range(2):
        async with expect_events(identity.settings, registered) as recorded:
            response = await client.post("/registrations", json=REGISTRATION)
            assert response.status_code == 201, response.text
            responses.append(response.text)
        assert len(identity.mails.sent) == attempt + 1
        [envelope] = recorded.envelopes
        event = envelope.event
        assert isinstance(event, UserProvisionallyRegisteredV2)
        assert set(event.model_dump()) == {
            "login_id",
            "email",
            "employer_id",
            "employer_name",
            "expires_at",
        }
        assert recorded.headers[0]["ce_type"].endswith("user.provisionally-registered.v2")
        assert response.json()["expires_at"].startswith(event.expires_at.strftime("%Y-%m-%dT%H:%M"))
        assert recorded.headers[0]["ce_subject"] == "Kensetsu01"
    mail = identity.mails.sent[-1]
    assert mail.to == "taro@example.jp" and mail.login_id == "Kensetsu01"
    assert mail.link.startswith("http://127.0.0.1:8000/register/activate?token=Kensetsu01.")
    assert mail.link in mail.text() and "ログインID：Kensetsu01" in mail.text()
    tokens = [m.link.partition("token=")[2] for m in identity.mails.sent]
    first, second = tokens
    assert first != second and second.startswith("Kensetsu01.")
    body = response.json()
    assert body["login_id"] == "Kensetsu01" and body["email"] == "taro@example.jp"
    assert set(body) == {"login_id", "email", "expires_at", "message"}

    # the replaced link no longer activates; a made-up one neither
    for token in (first, "Kensetsu01." + "A" * 43, "garbage"):
        stale = await client.post("/activations", json=activation(token))
        assert stale.status_code == 401, token
        assert stale.json() == {"code": "invalid_activation", "message": INVALID_LINK}
    # the portal asks which account a link activates before the password is chosen
    check = await client.post("/activations/check", json={"token": second})
    assert check.json() == {"login_id": "Kensetsu01"}
    assert (await client.post("/activations/check", json={"token": first})).status_code == 401

    # the password policy: a common password, one holding the login ID
    for weak, message in (
        ("Password1", "よく使われている"),
        ("P@ssw0rd!", "よく使われている"),
        ("xKensetsu01!", "ログインIDを含める"),
    ):
        refused = await client.post("/activations", json=activation(second, weak))
        assert refused.status_code == 422, weak
        [error] = refused.json()["errors"]
        assert error["field"] == "new_password" and message in error["message"]

    # 利用者本申請
    async with expect_events(identity.settings, [Expected(UserActivated, EMPLOYER)]):
        activated = await client.post("/activations", json=activation(second))
        assert activated.status_code == 200, activated.text
        responses.append(activated.text)
    assert activated.json()["employer_id"] == "12345678901234"

    # the link is spent
    again = await client.post("/activations", json=activation(second, "Other-Pass1x"))
    assert again.status_code == 401

    # once active, the login ID is taken
    taken = await client.post("/registrations", json=REGISTRATION)
    assert taken.status_code == 409
    assert taken.json() == {
        "code": "login_id_taken",
        "message": "このログインIDは既に使用されています。別のログインIDを指定してください。",
    }

    # login: session cookie + access token with the employer's claims and its session
    login = await client.post("/sessions", json={"login_id": "Kensetsu01", "password": PASSWORD})
    assert login.status_code == 201, login.text
    responses.append(login.text)
    principal = await identity.container.runtime.auth.verify(login.json()["access_token"])
    assert (principal.subject, principal.role, principal.employer_id) == (
        "Kensetsu01",
        "employer",
        "12345678901234",
    )
    assert principal.session == login.json()["session_id"]
    me = await client.get(
        "/me", headers={"authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.json()["employer_name"] == "株式会社テスト建設"
    responses.append(me.text)

    # where the secrets are (not): Kafka, database, logs, responses
    secrets = {"link 1": first, "link 2": second, "password": PASSWORD}
    secrets |= {"link secret 1": first.split(".")[1], "link secret 2": second.split(".")[1]}
    published = await records(identity.settings, TOPIC_IDENTITY)
    assert len(published) == 3  # two registrations, one activation
    assert not any(b"sealed" in record or b"password" in record for record in published)
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


async def test_an_expired_link_is_refused_and_a_new_registration_gives_a_new_one(
    identity: Identity,
) -> None:
    client = identity.client()
    _, token = await identity.register(client)
    service = identity.container.service
    issued = service.clock()
    service.clock = lambda: issued + timedelta(hours=24, seconds=1)
    expired = await client.post("/activations", json=activation(token))
    assert expired.status_code == 410
    assert expired.json() == {
        "code": "activation_expired",
        "message": "本申請用のリンクの有効期限が切れています。再度仮申請を行ってください",
    }
    # 再度仮申請 gives a new, valid link
    _, fresh = await identity.register(client)
    activated = await client.post("/activations", json=activation(fresh))
    assert activated.status_code == 200, activated.text


async def test_one_employer_account_per_employer_id(identity: Identity) -> None:
    client = identity.client()
    await identity.register(client)
    # a pending registration does not hold the 事業者ID: another login ID may apply too
    _, other = await identity.register(client, login_id="Kensetsu02", email="jiro@example.jp")
    await identity.active_employer(client, login_id="Kensetsu03", email="saburo@example.jp")
    refused = await client.post("/registrations", json={**REGISTRATION, "login_id": "Kensetsu04"})
    assert refused.status_code == 409
    assert refused.json() == {
        "code": "employer_already_registered",
        "message": "この事業者IDは既に利用者登録されています。",
    }
    late = await client.post("/activations", json=activation(other))
    assert late.status_code == 409 and late.json()["code"] == "employer_already_registered"


async def test_registrations_are_limited_per_address_and_per_client_across_replicas(
    start_identity: Any,
) -> None:
    limits = {"registrations_per_email": 3, "registrations_per_ip": 5}
    async with start_identity(**limits) as one, start_identity(**limits) as two:
        # two replicas on the same database: the count is shared
        replicas = [one.client("198.51.100.7"), two.client("198.51.100.8")]
        answers = []
        for n in range(8):
            answers.append(
                await replicas[n % 2].post(
                    "/registrations",
                    json={
                        **REGISTRATION,
                        "login_id": f"Bomber{n:04d}",
                        "email": "victim@example.jp",
                    },
                )
            )
        assert [a.status_code for a in answers] == [201] * 3 + [429] * 5
        assert answers[3].json()["code"] == "registration_limited"
        assert 0 < int(answers[3].headers["retry-after"]) <= 3600
        # the same mailbox spelt otherwise is the same victim
        spelt = await replicas[0].post(
            "/registrations",
            json={**REGISTRATION, "login_id": "Bomber0100", "email": "Victim+x@Example.JP"},
        )
        assert spelt.status_code == 429
        assert len(one.mails.sent) + len(two.mails.sent) == 3
        # per client address: 5 per window whatever the addresses
        client = one.client("203.0.113.9")
        codes = []
        for n in range(7):
            answer = await client.post(
                "/registrations",
                json={**REGISTRATION, "login_id": f"Spread{n:04d}", "email": f"a{n}@example.jp"},
            )
            codes.append(answer.status_code)
        assert codes == [201] * 5 + [429] * 2


async def test_a_caller_cannot_pick_its_address_only_a_trusted_proxy_names_it(
    start_identity: Any,
) -> None:
    limits = {"registrations_per_ip": 2, "trusted_proxies": "10.0.0.0/8"}
    async with start_identity(**limits) as identity:
        direct = identity.client("198.51.100.20")
        codes = []
        for n in range(4):  # a made-up X-Forwarded-For each time: still one address
            answer = await direct.post(
                "/registrations",
                headers={"X-Forwarded-For": f"192.0.2.{n}"},
                json={**REGISTRATION, "login_id": f"Spoof{n:04d}", "email": f"s{n}@example.jp"},
            )
            codes.append(answer.status_code)
        assert codes == [201, 201, 429, 429]
        # the portal (a trusted proxy) names each browser: separate buckets
        portal = identity.client("10.1.2.3")
        for n in range(3):
            answer = await portal.post(
                "/registrations",
                headers={"X-Forwarded-For": f"192.0.2.{n}, 10.9.9.9"},
                json={**REGISTRATION, "login_id": f"Proxy{n:04d}", "email": f"p{n}@example.jp"},
            )
            assert answer.status_code == 201, answer.text


async def test_a_mail_server_that_does_not_take_the_link_is_told(identity: Identity) -> None:
    client = identity.client()
    identity.mails.fail = True
    answer = await client.post("/registrations", json=REGISTRATION)
    assert answer.status_code == 503
    assert answer.json()["code"] == "activation_mail_failed"
    identity.mails.fail = False
    _, token = await identity.register(client)  # the applicant simply applies again
    assert (await client.post("/activations", json=activation(token))).status_code == 200


async def test_registrations_never_activated_are_deleted_after_their_link_expired(
    identity: Identity, db: Any
) -> None:
    client = identity.client()
    await identity.register(client)
    await identity.active_employer(client, login_id="Kensetsu05", email="five@example.jp")
    users = db["users"]
    pending = await users.find_one({"_id": "Kensetsu01"})
    assert pending["pending_until"] == pending["activation"]["expires_at"] + timedelta(hours=24)
    # the retention job (Runtime.retain("users", "pending_until", 0)) two days later
    later = datetime.now(UTC) + timedelta(hours=48, seconds=1)
    assert await delete_older(db, "users", "pending_until", later) == 1
    assert await users.find_one({"_id": "Kensetsu01"}) is None
    assert await users.find_one({"_id": "Kensetsu05"}) is not None  # active: kept
    assert "users" in identity.container.runtime.retention
