"""The mail server misbehaving: down then up, a restart meanwhile, and permanent refusals.

The outage test runs its own instance of ``deploy/local/smtp_sink.py`` on free ports so
that it can stop and start it; the refusal test talks to a small SMTP server of its own
that answers 550 for unknown users, as a real server does (the sink accepts everything).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import REGISTRY

from shared_kernel.infra.testing import eventually


async def mail_to(svc: Any, address: str) -> dict[str, Any] | None:
    found = await svc.service.mails.find({"to": address})
    assert len(found) <= 1
    return found[0].to_document() if found else None


def envelope_recipients(sink: Any) -> list[str]:
    recipients = []
    for path in sink.files():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        recipients.append(str(message["X-Envelope-To"]))
    return sorted(recipients)


async def test_smtp_down_then_up_delivers_once_and_a_restart_resumes(
    notification: Any, publish: Any, sink: Any, samples: Any, db: Any
) -> None:
    first, second = samples.address("first"), samples.address("second")
    async with notification(smtp_port=sink.smtp_port) as svc:
        await publish(samples.activated(email=first))

        async def retrying() -> bool:
            doc = await mail_to(svc, first)
            return doc is not None and doc["attempts"] >= 2

        await eventually(retrying, timeout=30)  # the server is down: backing off
        down = await mail_to(svc, first)
        assert down is not None and down["status"] == "pending"
        assert "SMTPConnectError" in down["last_error"]

        await sink.start()

        async def delivered() -> bool:
            doc = await mail_to(svc, first)
            return doc is not None and doc["status"] == "sent"

        await eventually(delivered, timeout=30)
        await asyncio.sleep(1.0)
        assert envelope_recipients(sink) == [first]
        (path,) = sink.files()
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Subject"] == "【能力評価システム】利用者本登録完了のお知らせ"
        sent = await mail_to(svc, first)
        assert sent is not None and message["Message-ID"] == sent["message_id"]

        # down again: a new mail waits, and the service stops before it could send it
        await sink.stop()
        await publish(samples.activated(email=second, login_id=f"second{samples.run}"))

        async def waiting() -> bool:
            doc = await mail_to(svc, second)
            return doc is not None and doc["attempts"] >= 1

        await eventually(waiting, timeout=30)

    await sink.start()
    async with notification(smtp_port=sink.smtp_port) as svc:  # a new process, same data

        async def resumed() -> bool:
            doc = await mail_to(svc, second)
            return doc is not None and doc["status"] == "sent"

        await eventually(resumed, timeout=30)
        await asyncio.sleep(1.0)
    assert envelope_recipients(sink) == sorted([first, second])


@asynccontextmanager
async def refusing_server() -> AsyncIterator[int]:
    """An SMTP server that refuses ``unknown.*`` recipients with 550 and accepts the rest."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        reply("220 refusing-stub ESMTP")
        while line := await reader.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                reply("250 refusing-stub")
            elif verb == "RCPT" and "unknown." in command:
                reply("550 5.1.1 Recipient address rejected: User unknown")
            elif verb == "DATA":
                reply("354 go ahead")
                await writer.drain()
                while await reader.readline() not in (b".\r\n", b".\n", b""):
                    pass
                reply("250 OK")
            elif verb == "QUIT":
                reply("221 bye")
                await writer.drain()
                break
            else:
                reply("250 OK")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def failed_count() -> float:
    value = REGISTRY.get_sample_value(
        "notification_mails_failed_total", {"template": "account_activated"}
    )
    return value or 0.0


async def test_permanent_failures_are_recorded_and_listed(
    http_service: Any, publish: Any, samples: Any, helpers: Any, settings: Any, db: Any
) -> None:
    unknown = samples.address("unknown")
    malformed = f"bad address.{samples.run}@example.jp"
    good = samples.address("good")
    before = failed_count()
    async with refusing_server() as port, http_service(smtp_port=port) as (svc, client):
        for n, address in enumerate((unknown, malformed, good)):
            await publish(samples.activated(email=address, login_id=f"u{n}{samples.run}"))

        async def settled() -> bool:
            docs = [await mail_to(svc, a) for a in (unknown, malformed, good)]
            return all(d is not None and d["status"] != "pending" for d in docs)

        await eventually(settled, timeout=30)
        operator = helpers.bearer(settings, "operator")
        response = await client.get("/mails", params={"status": "failed"}, headers=operator)

        async def counted() -> bool:  # the counters move just after the mail's status
            text = (await client.get("/metrics")).text
            sent = 'notification_mails_sent_total{template="account_activated"}'
            return sent in text and 'failed_total{template="account_activated"}' in text

        await eventually(counted, timeout=10)
        metrics = (await client.get("/metrics")).text
        good_doc = await mail_to(svc, good)
        refused = await mail_to(svc, unknown)
        assert good_doc is not None and refused is not None
        retried = await client.post(f"/mails/{refused['_id']}/retry", headers=operator)
        not_failed = await client.post(f"/mails/{good_doc['_id']}/retry", headers=operator)
        missing = await client.post("/mails/nothing:here:-/retry", headers=operator)
        forbidden = await client.post(
            f"/mails/{refused['_id']}/retry",
            headers=helpers.bearer(settings, "employer", samples.employer_id),
        )

        async def refused_again() -> bool:
            doc = await mail_to(svc, unknown)
            return doc is not None and doc["status"] == "failed" and doc.get("requeued_at")

        await eventually(refused_again, timeout=30)

    assert response.status_code == 200
    failed = {m["to"]: m for m in response.json()}
    assert set(failed) == {unknown, malformed}
    assert failed[unknown]["last_error"] == (
        f"550 5.1.1 Recipient address rejected: User unknown <{unknown}>"
    )
    assert failed[unknown]["attempts"] == 0  # refused for good at the first try
    assert failed[unknown]["failed_at"] is not None
    assert "not permitted in an SMTP mailbox" in failed[malformed]["last_error"]
    assert all(m["template"] == "account_activated" for m in failed.values())
    assert good_doc["status"] == "sent"
    assert failed_count() - before == 3  # twice, then the retried one again
    assert 'notification_mails_failed_total{template="account_activated"}' in metrics
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert not_failed.status_code == 409 and not_failed.json()["code"] == "mail_not_failed"
    assert missing.status_code == 404 and missing.json()["code"] == "mail_not_found"
    assert forbidden.status_code == 403
