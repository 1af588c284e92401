"""The access log (APPI) of every service that shows a worker's personal data."""

from __future__ import annotations

import pytest

from .conftest import EMPLOYERS, Stack

pytestmark = pytest.mark.timeout(600)


async def entries(stack: Stack, **params: str) -> list[dict[str, object]]:
    answer = await stack.client("application").get(
        "/access-log", params=params, headers=stack.headers["evaluator_all"]
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, object]] = answer.json()
    return found


async def test_every_answer_with_a_workers_data_is_logged_before_it_is_returned(
    stack: Stack,
) -> None:
    application = stack.client("application")
    a = stack.headers["employer_a"]
    worker, employer = stack.ids["worker_a"], EMPLOYERS["employer_a"][1]
    read = await application.get(
        f"/applications/{stack.ids['application_a']}",
        headers={**a, "X-Correlation-ID": "security-access-log-1"},
    )
    assert read.status_code == 200
    [entry] = [
        e
        for e in await entries(stack, worker_id=worker)
        if e["correlation_id"] == "security-access-log-1"
    ]
    assert entry["action"] == "get_application"
    assert entry["purpose"] == "代行申請の詳細表示"
    assert entry["endpoint"] == "GET /applications/{application_id}"
    assert (entry["actor"], entry["actor_role"]) == (EMPLOYERS["employer_a"][0], "employer")
    assert entry["actor_employer_id"] == employer and entry["actor_body"] is None
    assert entry["worker_ids"] == [worker] and entry["employer_ids"] == [employer]
    assert entry["application_ids"] == [stack.ids["application_a"]]
    assert set(entry) == {
        "id", "at", "actor", "actor_role", "actor_employer_id", "actor_body", "action", "purpose",
        "endpoint", "worker_ids", "employer_ids", "application_ids", "correlation_id",
    }  # fmt: skip

    # the selectable workers are logged too (one entry per access); the list of
    # applications holds no worker (counts only) and is not
    # (employer B: A's only consent ended with its judgement, so A has no worker to list)
    b = stack.headers["employer_b"]
    for path, actions in (("/workers", ["list_workers"]), ("/applications", [])):
        cid = f"security-{path}"
        assert (
            await application.get(path, headers={**b, "X-Correlation-ID": cid})
        ).status_code == 200
        logged = [e for e in await entries(stack, actor=EMPLOYERS["employer_b"][0])]
        assert [e["action"] for e in logged if e["correlation_id"] == cid] == actions

    # a refused read (another employer's application) shows nothing and logs nothing
    refused = await application.get(
        f"/applications/{stack.ids['application_b']}",
        headers={**a, "X-Correlation-ID": "security-access-log-refused"},
    )
    assert refused.status_code == 404
    everything = await entries(stack, limit="1000")
    assert not [e for e in everything if e["correlation_id"] == "security-access-log-refused"]
    # the setup's submissions were logged too (the journey: lines added, submitted)
    assert {"change_application", "submit", "list_workers"} <= {e["action"] for e in everything}
    # employers cannot read the log
    denied = await application.get("/access-log", headers=a)
    assert denied.status_code == 403


async def test_the_consent_service_logs_its_reads_too(stack: Stack) -> None:
    consent = stack.client("consent")
    read = await consent.get(
        f"/consents/{stack.ids['consent_a']}",
        headers={**stack.headers["employer_a"], "X-Correlation-ID": "security-consent-read"},
    )
    assert read.status_code == 200
    log = await consent.get(
        "/access-log",
        params={"worker_id": stack.ids["worker_a"]},
        headers=stack.headers["operator"],
    )
    assert [e["action"] for e in log.json() if e["correlation_id"] == "security-consent-read"] == [
        "get_consent"
    ]


async def test_judgements_and_notices_are_logged_too(stack: Stack) -> None:
    b = stack.headers["employer_b"]
    for service, path, action in (
        ("judgement", f"/judgements/{stack.ids['line_b']}", "get_judgement"),
        ("judgement", "/judgements", "list_judgements"),
        ("document", f"/notices/{stack.ids['notice_b']}/pdf", "download_notice"),
        ("document", "/notices", "list_notices"),
    ):
        client = stack.client(service)
        cid = f"security-{service}-{action}"
        read = await client.get(path, headers={**b, "X-Correlation-ID": cid})
        assert read.status_code == 200, read.text
        log = await client.get(
            "/access-log",
            params={"actor": EMPLOYERS["employer_b"][0]},
            headers=stack.headers["evaluator_all"],
        )
        assert log.status_code == 200, log.text
        [entry] = [e for e in log.json() if e["correlation_id"] == cid]
        assert entry["action"] == action, entry
        assert entry["employer_ids"] == [EMPLOYERS["employer_b"][1]]
        assert entry["worker_ids"] and entry["purpose"]
        assert (await client.get("/access-log", headers=b)).status_code == 403


async def test_an_evaluators_reads_name_his_body_and_only_his_body_reads_them(
    stack: Stack,
) -> None:
    """Every service logs the evaluator's body (``actor_body``); an evaluator bound to a
    body reads his body's entries only, the unbound evaluator and the operator all of them."""
    from .conftest import login_id_of

    body = "全国管工事業協同組合連合会"
    mine = stack.headers["evaluator"]
    for service, path, action in (
        ("consent", f"/consents/{stack.ids['consent_b']}", "get_consent"),
        ("judgement", f"/judgements/{stack.ids['line_b']}", "get_judgement"),
        ("judgement", f"/workers/{stack.ids['worker_b']}/ccus", "worker_ccus"),
        ("document", f"/notices/{stack.ids['notice_b']}/pdf", "download_notice"),
    ):
        client = stack.client(service)
        cid = f"security-body-{service}-{action}"
        read = await client.get(path, headers={**mine, "X-Correlation-ID": cid})
        assert read.status_code == 200, read.text
        log = await client.get("/access-log", headers=mine)
        assert log.status_code == 200, log.text
        assert log.json() and all(e["actor_body"] == body for e in log.json())
        [entry] = [e for e in log.json() if e["correlation_id"] == cid]
        assert (entry["action"], entry["actor"], entry["actor_role"]) == (
            action,
            login_id_of("evaluator"),
            "evaluator",
        )
        assert entry["worker_ids"] == [stack.ids["worker_b"]]
        for auditor in ("evaluator_all", "operator"):
            everything = await client.get(
                "/access-log", params={"limit": "1000"}, headers=stack.headers[auditor]
            )
            assert [e for e in everything.json() if e["correlation_id"] == cid], auditor
        other = await client.get(
            "/access-log", params={"limit": "1000"}, headers=stack.headers["evaluator_other"]
        )
        assert other.status_code == 200
        assert not [e for e in other.json() if e["correlation_id"] == cid]
        assert all(e["actor_body"] == "公益社団法人全国鉄筋工事業協会" for e in other.json())
