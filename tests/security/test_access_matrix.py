"""Access control of every HTTP endpoint of every service, for every role, as a table.

The routes are read from each FastAPI app, so an endpoint added without a row here fails
``test_every_endpoint_has_a_row``. Each row says what each role gets when it calls the
endpoint; ids in a path are real ones: ``{consent_b}``, ``{application_b}``, ``{line_b}``,
``{notice_b}`` … belong to employer B, so the employer A column is the IDOR check (another
employer's data answers 404, exactly as an id that never existed — see
``test_another_employers_id_answers_like_one_that_never_existed``). B's line is of 配管:
the evaluator of a 配管 body sees it, the evaluator of another body (鉄筋) gets 404 exactly
like employer A (``test_another_trades_data_answers_like_one_that_never_existed``), the
evaluator without a binding sees every 分野; criteria editors and approvers have no access
to applications, consents, CCUS data, judgements or notices.

Expectations: ``OK`` = allowed (any answer but 401, 403 and 404, and never 5xx: the call
reached the handler, which may still refuse the input with 409/422); ``401`` / ``403`` /
``404`` = exactly that status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from .conftest import EMPLOYERS, HTML, PDF, ROLES, SERVICES, Stack, login_id_of

pytestmark = pytest.mark.timeout(600)  # the stack (7 services, a judged application) starts once

OK = "ok"
REACHED = "reached"  # the handler was reached (not 401/403, never 5xx); 404 allowed
Expect = str | int

# Roles, in the column order below (conftest.ROLES): anonymous, employer A, employer B,
# evaluator (a body of B's 分野 配管), evaluator of another body (鉄筋), evaluator without a
# binding (every 分野), operator, criteria editor, criteria approver.
NO_CRITERIA = (403, 403)  # the criteria roles: none of the data below is theirs
PUBLIC = (OK,) * 9
EMPLOYER_OWN = (401, OK, OK, 403, 403, 403, 403, *NO_CRITERIA)  # the caller's own (token)
B_ONLY = (401, 404, OK, 403, 403, 403, 403, *NO_CRITERIA)  # B's resource, employers only
B_OR_EVALUATOR = (401, 404, OK, OK, 404, OK, 403, *NO_CRITERIA)  # B's, its 分野's evaluators
EMPLOYERS_EVALUATOR = (401, OK, OK, OK, OK, OK, 403, *NO_CRITERIA)  # lists (scoped)
ANY_USER = (401, OK, OK, OK, OK, OK, OK, OK, OK)
EVALUATOR = (401, 403, 403, OK, OK, OK, 403, *NO_CRITERIA)
OPERATOR = (401, 403, 403, 403, 403, 403, OK, *NO_CRITERIA)
AUDITORS = (401, 403, 403, OK, OK, OK, OK, *NO_CRITERIA)  # evaluators and operators
EVALUATOR_ON_B = (401, 403, 403, OK, 404, OK, 403, *NO_CRITERIA)  # B's, its 分野's evaluators
SESSION_COOKIE = (401,) * 9  # needs identity's cookie, which no call here sends
OPERATOR_REACHED = (401, 403, 403, 403, 403, 403, REACHED, *NO_CRITERIA)
CRITERIA_STAFF = (401, 403, 403, 403, 403, 403, 403, REACHED, REACHED)  # editor, approver
CRITERIA_EDITOR = (401, 403, 403, 403, 403, 403, 403, REACHED, 403)  # drafts are the bodies'
CRITERIA_APPROVER = (401, 403, 403, 403, 403, 403, 403, 403, REACHED)  # decisions, audit
DRAFT = "/criteria/drafts/CD-20990101-000000"  # an unknown draft: 404 once reached


@dataclass(frozen=True)
class Row:
    expect: tuple[Expect, ...]
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path: str | None = None  # the concrete path, when the route template is not enough


PROBES = {
    ("GET", "/healthz"): Row(PUBLIC),
    ("GET", "/readyz"): Row(PUBLIC),
    ("GET", "/metrics"): Row(PUBLIC),
    ("GET", "/openapi.json"): Row(PUBLIC),
    ("GET", "/docs"): Row(PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Row(PUBLIC),
    ("GET", "/redoc"): Row(PUBLIC),
    ("GET", "/"): Row(PUBLIC),
}

PREVIEW_B = {
    "worker_id": "99000000000008",
    "trade": "配管",
    "requested_level": 2,
    "application_date": "2026-11-25",
}

MATRIX: dict[str, dict[tuple[str, str], Row]] = {
    "identity": {
        ("POST", "/registrations"): Row(PUBLIC, json={}),
        ("POST", "/activations"): Row(PUBLIC, json={}),
        ("POST", "/activations/check"): Row(PUBLIC, json={}),
        ("POST", "/sessions"): Row(PUBLIC, json={}),
        # issue 22: identity's public keys, and the ended sessions (opaque ids, times) every
        # service polls; neither names a user or opens anything
        ("GET", "/.well-known/jwks.json"): Row(PUBLIC),
        ("GET", "/sessions/revocations"): Row(PUBLIC),
        ("POST", "/sessions/token"): Row(SESSION_COOKIE),
        ("DELETE", "/sessions/current"): Row(PUBLIC),
        ("GET", "/me"): Row(ANY_USER),
        ("PUT", "/me/password"): Row(ANY_USER, json={}),
        ("GET", "/employers/me"): Row(EMPLOYER_OWN),
        ("PUT", "/employers/me"): Row(EMPLOYER_OWN, json={}),
        ("GET", "/employers/me/history"): Row(EMPLOYER_OWN),
    },
    "consent": {
        ("POST", "/consent-applications"): Row(EMPLOYER_OWN, json={}),
        ("GET", "/consents"): Row(EMPLOYERS_EVALUATOR),
        ("GET", "/consents/granted"): Row(EMPLOYERS_EVALUATOR),
        ("GET", "/consents/{consent_id}"): Row(B_OR_EVALUATOR, path="/consents/{consent_b}"),
        ("PUT", "/consents/{consent_id}/signed-form"): Row(
            B_ONLY,
            content=PDF,
            headers={"Content-Type": "application/pdf"},
            path="/consents/{consent_b}/signed-form",
        ),
        ("GET", "/consents/{consent_id}/signed-form"): Row(
            B_OR_EVALUATOR, path="/consents/{consent_b}/signed-form"
        ),
        ("GET", "/reviews"): Row(EVALUATOR),
        ("POST", "/consents/{consent_id}/approve"): Row(
            EVALUATOR_ON_B, path="/consents/{consent_b}/approve"
        ),
        ("POST", "/consents/{consent_id}/return"): Row(
            # with a reason, so that the call reaches the consent (approved: 409 for its
            # 分野's evaluators, 404 for another 分野's)
            EVALUATOR_ON_B,
            json={"reason": "確認のため"},
            path="/consents/{consent_b}/return",
        ),
        ("GET", "/access-log"): Row(AUDITORS),
    },
    "application": {
        ("GET", "/options"): Row(EMPLOYER_OWN),
        ("GET", "/workers"): Row(EMPLOYER_OWN),
        ("GET", "/workers/{worker_id}/career-prefill"): Row(
            B_ONLY, path="/workers/{worker_b2}/career-prefill"
        ),
        ("POST", "/applications"): Row(EMPLOYER_OWN, json={"declarations": {"x": 1}}),
        ("GET", "/applications"): Row(EMPLOYER_OWN),
        ("GET", "/results"): Row(EMPLOYER_OWN),
        ("GET", "/applications/{application_id}"): Row(B_ONLY, path="/applications/{draft_b}"),
        ("PATCH", "/applications/{application_id}"): Row(
            B_ONLY, json={}, path="/applications/{draft_b}"
        ),
        ("POST", "/applications/{application_id}/lines"): Row(
            B_ONLY, json={}, path="/applications/{application_b}/lines"
        ),
        ("PUT", "/applications/{application_id}/lines/{line_id}"): Row(
            B_ONLY, json={}, path="/applications/{application_b}/lines/{line_b}"
        ),
        ("DELETE", "/applications/{application_id}/lines/{line_id}"): Row(
            B_ONLY, path="/applications/{application_b}/lines/{line_b}"
        ),
        ("POST", "/applications/{application_id}/lines/{line_id}/preview"): Row(
            B_ONLY, path="/applications/{application_b}/lines/{line_b}/preview"
        ),
        ("POST", "/applications/{application_id}/submit"): Row(
            B_ONLY,
            headers={"Idempotency-Key": "security-employer_b"},
            path="/applications/{application_b}/submit",
        ),
        ("POST", "/applications/{application_id}/withdraw"): Row(
            B_ONLY, path="/applications/{application_b}/withdraw"
        ),
        ("GET", "/access-log"): Row(AUDITORS),
        # last: employer B really deletes its spare draft
        ("DELETE", "/applications/{application_id}"): Row(B_ONLY, path="/applications/{draft_b}"),
    },
    "judgement": {
        ("GET", "/trades"): Row(PUBLIC),
        ("GET", "/rules"): Row(PUBLIC),
        ("GET", "/trades/{name}"): Row(PUBLIC, path="/trades/鉄筋"),
        ("GET", "/qualifications"): Row(PUBLIC),
        ("POST", "/preview"): Row(PUBLIC, json={}),
        ("POST", "/preview/worker"): Row(B_OR_EVALUATOR, json=PREVIEW_B),
        ("GET", "/workers/{worker_id}/ccus"): Row(B_OR_EVALUATOR, path="/workers/{worker_b}/ccus"),
        ("GET", "/judgements"): Row(EMPLOYERS_EVALUATOR),
        ("GET", "/judgements/{line_id}"): Row(B_OR_EVALUATOR, path="/judgements/{line_b}"),
        ("GET", "/reviews"): Row(EVALUATOR),
        ("POST", "/judgements/{line_id}/review"): Row(
            EVALUATOR_ON_B, json={"action": "confirm"}, path="/judgements/{line_b}/review"
        ),
        ("GET", "/access-log"): Row(AUDITORS),
        # レベル診断: the employer's consented workers; one worker like his CCUS data
        ("GET", "/outlook"): Row(EMPLOYER_OWN),
        ("GET", "/workers/{worker_id}/outlook"): Row(
            B_OR_EVALUATOR, path="/workers/{worker_b}/outlook?trade=配管"
        ),
        # 基準管理 (docs/criteria-admin.md): the published criteria are public; drafts are
        # the editors' (bound to 分野), decisions and the audit trail the approvers'
        ("GET", "/criteria/trades"): Row(PUBLIC),
        ("GET", "/criteria/trades/{trade}"): Row(PUBLIC, path="/criteria/trades/鉄筋"),
        ("GET", "/criteria/versions/{version_id}"): Row(
            PUBLIC, path="/criteria/versions/鉄筋@2019-10-08"
        ),
        ("GET", "/criteria/versions/{version_id}.yaml"): Row(
            PUBLIC, path="/criteria/versions/鉄筋@2019-10-08.yaml"
        ),
        ("PUT", "/criteria/versions/{version_id}"): Row(
            CRITERIA_STAFF, path="/criteria/versions/鉄筋@2019-10-08"
        ),
        ("DELETE", "/criteria/versions/{version_id}"): Row(
            CRITERIA_STAFF, path="/criteria/versions/鉄筋@2019-10-08"
        ),
        ("GET", "/criteria/qualifications"): Row(PUBLIC),
        ("POST", "/criteria/drafts"): Row(CRITERIA_EDITOR, json={}),
        ("POST", "/criteria/drafts/upload"): Row(
            CRITERIA_EDITOR, content=b"tables: []\n", headers={"Content-Type": "application/yaml"}
        ),
        ("GET", "/criteria/drafts"): Row(CRITERIA_STAFF),
        ("GET", "/criteria/drafts/{draft_id}"): Row(CRITERIA_STAFF, path=DRAFT),
        ("PUT", "/criteria/drafts/{draft_id}"): Row(CRITERIA_EDITOR, json={}, path=DRAFT),
        ("GET", "/criteria/drafts/{draft_id}/diff"): Row(CRITERIA_STAFF, path=f"{DRAFT}/diff"),
        ("POST", "/criteria/drafts/{draft_id}/submit"): Row(
            CRITERIA_EDITOR, path=f"{DRAFT}/submit"
        ),
        ("POST", "/criteria/drafts/{draft_id}/withdraw"): Row(
            CRITERIA_EDITOR, path=f"{DRAFT}/withdraw"
        ),
        ("POST", "/criteria/drafts/{draft_id}/approve"): Row(
            CRITERIA_APPROVER, json={"reason": "承認", "rejudge": False}, path=f"{DRAFT}/approve"
        ),
        ("POST", "/criteria/drafts/{draft_id}/return"): Row(
            CRITERIA_APPROVER, json={"reason": "差戻し"}, path=f"{DRAFT}/return"
        ),
        ("GET", "/criteria/audit"): Row(CRITERIA_APPROVER),
        # 影響確認: criteria staff only (an unknown draft, or no preview yet: 404)
        ("POST", "/criteria/drafts/{draft_id}/impact"): Row(
            CRITERIA_STAFF, path="/criteria/drafts/CD-20990101-000000/impact"
        ),
        ("GET", "/criteria/drafts/{draft_id}/impact"): Row(
            CRITERIA_STAFF, path="/criteria/drafts/CD-20990101-000000/impact"
        ),
        ("GET", "/criteria/drafts/{draft_id}/impact.csv"): Row(
            CRITERIA_STAFF, path="/criteria/drafts/CD-20990101-000000/impact.csv"
        ),
    },
    "notification": {
        ("GET", "/mails"): Row(OPERATOR),
        ("POST", "/mails/{mail_id}/retry"): Row(OPERATOR_REACHED, path="/mails/no-such-mail/retry"),
    },
    "document": {
        ("GET", "/notices"): Row(EMPLOYERS_EVALUATOR),
        ("GET", "/notices/{notice_id}/pdf"): Row(B_OR_EVALUATOR, path="/notices/{notice_b}/pdf"),
        ("GET", "/verify/{code}"): Row((REACHED,) * 9, path="/verify/AAAA-BBBB-CCCC-DDDD"),
        ("POST", "/verify"): Row(PUBLIC, content=PDF, headers={"Content-Type": "application/pdf"}),
        ("POST", "/consent-forms"): Row(
            EMPLOYER_OWN, json={"worker_name": "安全 次郎", "worker_name_kana": "アンゼン ジロウ"}
        ),
        ("GET", "/access-log"): Row(AUDITORS),
    },
}
DEAD_LETTERS = {
    # the operators' dead-letter endpoints every consuming service has
    ("GET", "/dead-letters"): Row(OPERATOR),
    ("GET", "/dead-letters/{topic}/{partition}/{offset}"): Row(
        OPERATOR_REACHED, path="/dead-letters/no-such-topic.dlq/0/0"
    ),
    ("POST", "/dead-letters/{topic}/{partition}/{offset}/replay"): Row(
        OPERATOR_REACHED, json={}, path="/dead-letters/no-such-topic.dlq/0/0/replay"
    ),
}
SHARED = {**PROBES, **DEAD_LETTERS}  # rows of the shared kernel's endpoints, where present
for table in MATRIX.values():
    for key, row in PROBES.items():
        table.setdefault(key, row)


def routes_of(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every HTTP endpoint of an app (HEAD left out: Starlette adds it).

    Routers included with ``include_router`` are walked through (FastAPI keeps them as one
    entry of ``app.routes`` whose ``effective_route_contexts`` name the real routes)."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            pairs = [(c.original_route, c.path) for c in route.effective_route_contexts()]
        else:
            pairs = [(route, getattr(route, "path", ""))]
        for original, path in pairs:
            if isinstance(original, (APIRoute, Route)):
                for method in original.methods or ():
                    if method != "HEAD":
                        found.add((method, path))
    return found


OWNER_LAST = [i for i, role in enumerate(ROLES) if role != "employer_b"] + [
    ROLES.index("employer_b")
]


def allowed(expect: Expect, status: int) -> bool:
    if expect == OK:
        return status not in (401, 403, 404) and status < 500
    if expect == REACHED:
        return status not in (401, 403) and status < 500
    return status == expect


async def call(stack: Stack, service: str, method: str, row: Row, path: str, role: str) -> int:
    client = stack.client(service)
    client.cookies.clear()
    answer = await client.request(
        method,
        path.format(**stack.ids),
        headers={**stack.headers[role], **row.headers},
        json=row.json,
        content=row.content,
    )
    return answer.status_code


async def test_every_endpoint_has_a_row(stack: Stack) -> None:
    for table in (*MATRIX.values(), DEAD_LETTERS):
        for key, row in table.items():
            assert len(row.expect) == len(ROLES), key  # one expectation per role
    for service in SERVICES:
        actual = routes_of(stack.apps[service])
        table = set(MATRIX[service]) | (set(DEAD_LETTERS) & actual)
        assert actual - table == set(), f"{service}: endpoints without a row in MATRIX"
        assert table - actual == set(), f"{service}: rows for endpoints that do not exist"


async def test_every_role_gets_what_the_matrix_says(stack: Stack) -> None:
    wrong: list[str] = []
    for service, own in MATRIX.items():
        present = routes_of(stack.apps[service])
        table = {**own, **{k: v for k, v in DEAD_LETTERS.items() if k in present}}
        for (method, template), row in table.items():
            path = row.path or template
            # the owner (employer B) last: its calls may change its own data
            for index in OWNER_LAST:
                role = ROLES[index]
                status = await call(stack, service, method, row, path, role)
                if not allowed(row.expect[index], status):
                    wrong.append(
                        f"{service} {method} {path} as {role}: {status}, "
                        f"expected {row.expect[index]}"
                    )
    assert wrong == [], "\n".join(wrong)


GUESSES = {
    # (service, path for B's real id, path for an id that never existed, caller)
    "consent": ("/consents/{consent_b}", "/consents/31000000000001-99000000000002"),
    "consent form": ("/consents/{consent_b}/signed-form", "/consents/1-2/signed-form"),
    "application": ("/applications/{application_b}", "/applications/AP-20261204-ZZZZZZ"),
    "line": (
        "/applications/{application_b}/lines/{line_b}/preview",
        "/applications/AP-20261204-ZZZZZZ/lines/AP-20261204-ZZZZZZ-01/preview",
    ),
    "judgement": ("/judgements/{line_b}", "/judgements/AP-20261204-ZZZZZZ-01"),
    "notice": ("/notices/{notice_b}/pdf", "/notices/RN-AP-20261204-ZZZZZZ-01/pdf"),
    "ccus": ("/workers/{worker_b}/ccus", "/workers/99999999999999/ccus"),
    "prefill": ("/workers/{worker_b2}/career-prefill", "/workers/99999999999999/career-prefill"),
}
SERVICE_OF = {
    "consent": "consent",
    "consent form": "consent",
    "application": "application",
    "line": "application",
    "judgement": "judgement",
    "notice": "document",
    "ccus": "judgement",
    "prefill": "application",
}


async def test_another_employers_id_answers_like_one_that_never_existed(stack: Stack) -> None:
    """No existence leak: B's real id and a guessed one give A the same 404 and body."""
    for what, (real, guessed) in GUESSES.items():
        client = stack.client(SERVICE_OF[what])
        method = "POST" if real.endswith("/preview") else "GET"
        answers = [
            await client.request(method, p.format(**stack.ids), headers=stack.headers["employer_a"])
            for p in (real, guessed)
        ]
        assert [a.status_code for a in answers] == [404, 404], what
        bodies = [a.json() for a in answers]
        assert bodies[0] == bodies[1], what


async def test_lists_never_show_another_employers_data(stack: Stack) -> None:
    a = stack.headers["employer_a"]
    lists = {
        ("consent", "/consents"): "consent_id",
        ("consent", "/consents/granted"): "consent_id",
        ("consent", "/consents?employer_id=32000000000002"): "consent_id",
        ("application", "/applications"): "application_id",
        ("application", "/workers"): "worker_id",
        ("judgement", "/judgements"): "line_id",
        ("judgement", "/judgements?application_id={application_b}"): "line_id",
        ("document", "/notices"): "notice_id",
        ("document", "/notices?application_id={application_b}"): "notice_id",
    }
    b_values = {v for k, v in stack.ids.items() if k.endswith("_b")}
    for (service, path), key in lists.items():
        answer = await stack.client(service).get(path.format(**stack.ids), headers=a)
        assert answer.status_code == 200, (path, answer.text)
        text = answer.text
        assert not any(value in text for value in b_values), (path, text[:300])
        assert "32000000000002" not in text, path  # employer B's 事業者ID
        assert all(isinstance(item.get(key), str) for item in answer.json()), path


# --- 分野 scoping of evaluators ----------------------------------------------------------------

TRADE_GUESSES = {
    # what: (service, method, B's real one, one that never existed, JSON body)
    "consent": ("consent", "GET", "/consents/{consent_b}", "/consents/1-2", None),
    "consent form": (
        "consent",
        "GET",
        "/consents/{consent_b}/signed-form",
        "/consents/31000000000001-99000000000002/signed-form",
        None,
    ),
    "approve": (
        "consent",
        "POST",
        "/consents/{consent_b}/approve",
        "/consents/31000000000001-99000000000002/approve",
        None,
    ),
    "return": (
        "consent",
        "POST",
        "/consents/{consent_b}/return",
        "/consents/31000000000001-99000000000002/return",
        {"reason": "確認のため"},
    ),
    "judgement": (
        "judgement",
        "GET",
        "/judgements/{line_b}",
        "/judgements/AP-20261204-ZZZZZZ-01",
        None,
    ),
    "review": (
        "judgement",
        "POST",
        "/judgements/{line_b}/review",
        "/judgements/AP-20261204-ZZZZZZ-01/review",
        {"action": "confirm"},
    ),
    "ccus": ("judgement", "GET", "/workers/{worker_b}/ccus", "/workers/99999999999999/ccus", None),
    "notice": (
        "document",
        "GET",
        "/notices/{notice_b}/pdf",
        "/notices/RN-AP-20261204-ZZZZZZ-01/pdf",
        None,
    ),
}


async def test_another_trades_data_answers_like_one_that_never_existed(stack: Stack) -> None:
    """An evaluator of another body (鉄筋) gets B's 配管 data as 404 with the body of an id
    that never existed; the evaluator of a 配管 body and the unbound one get it."""
    other = stack.headers["evaluator_other"]
    for what, (service, method, real, guessed, body) in TRADE_GUESSES.items():
        client = stack.client(service)
        answers = [
            await client.request(method, p.format(**stack.ids), headers=other, json=body)
            for p in (real, guessed)
        ]
        assert [a.status_code for a in answers] == [404, 404], (what, answers[0].text)
        assert answers[0].json() == answers[1].json(), what
        for role in ("evaluator", "evaluator_all"):
            if method == "GET":
                own = await client.get(real.format(**stack.ids), headers=stack.headers[role])
                assert own.status_code == 200, (what, role, own.text)
    # the preview from a worker's CCUS data: another 分野's worker, or his 分野 asked for by
    # an evaluator who does not handle it, answers like an unknown worker
    judgement = stack.client("judgement")
    preview = {"requested_level": 2, "application_date": "2026-11-25"}
    unknown = {**preview, "worker_id": "99999999999999", "trade": "鉄筋"}
    for who, body in (
        ("evaluator_other", {**preview, "worker_id": stack.ids["worker_b"], "trade": "配管"}),
        ("evaluator_other", {**preview, "worker_id": stack.ids["worker_b"], "trade": "鉄筋"}),
        ("evaluator", {**preview, "worker_id": stack.ids["worker_b"], "trade": "鉄筋"}),
        ("evaluator", {**preview, "worker_id": stack.ids["worker_a"], "trade": "鉄筋"}),
    ):
        refused = await judgement.post("/preview/worker", json=body, headers=stack.headers[who])
        guessed = await judgement.post("/preview/worker", json=unknown, headers=stack.headers[who])
        assert (refused.status_code, guessed.status_code) == (404, 404), (who, body)
        assert refused.json() == guessed.json()
    # and the other way round: the 配管 evaluator gets A's 鉄筋 data as 404
    mine = stack.headers["evaluator"]
    for path in (
        "/judgements/{line_a}",
        "/workers/{worker_a}/ccus",
    ):
        assert (await judgement.get(path.format(**stack.ids), headers=mine)).status_code == 404
    for service, path in (
        ("consent", "/consents/{consent_a}"),
        ("document", "/notices/{notice_a}/pdf"),
    ):
        answer = await stack.client(service).get(path.format(**stack.ids), headers=mine)
        assert answer.status_code == 404, path
        answer = await stack.client(service).get(
            path.format(**stack.ids), headers=stack.headers["evaluator_other"]
        )
        assert answer.status_code == 200, path


EVALUATOR_LISTS = {
    ("consent", "/consents"): "consent_id",
    ("consent", "/consents/granted"): "consent_id",
    ("consent", "/consents?employer_id=32000000000002"): "consent_id",
    ("consent", "/reviews?include_incomplete=true"): "consent_id",
    ("judgement", "/judgements"): "line_id",
    ("judgement", "/judgements?application_id={application_b}"): "line_id",
    ("judgement", "/reviews"): "line_id",
    ("document", "/notices"): "notice_id",
    ("document", "/notices?application_id={application_b}"): "notice_id",
}


def _values(stack: Stack, who: str) -> set[str]:
    """The ids of one employer's data (``a`` or ``b``, B's second worker included)."""
    return {v for k, v in stack.ids.items() if k.endswith(f"_{who}") or k.endswith(f"_{who}2")}


async def test_lists_show_an_evaluator_only_the_data_of_his_trades(stack: Stack) -> None:
    a, b = _values(stack, "a"), _values(stack, "b")
    seen: dict[str, str] = {}
    for role in ("evaluator", "evaluator_other", "evaluator_all"):
        text = ""
        for (service, path), key in EVALUATOR_LISTS.items():
            answer = await stack.client(service).get(
                path.format(**stack.ids), headers=stack.headers[role]
            )
            assert answer.status_code == 200, (role, path, answer.text)
            assert all(isinstance(item.get(key), str) for item in answer.json()), path
            text += answer.text
        seen[role] = text
    # the 鉄筋 body: A's consent, judgement and notice; nothing of B (配管), not B's 事業者ID
    assert not [v for v in b if v in seen["evaluator_other"]]
    assert EMPLOYERS["employer_b"][1] not in seen["evaluator_other"]
    for key in ("consent_a", "line_a", "notice_a"):
        assert stack.ids[key] in seen["evaluator_other"], key
    # the 配管 body: B's, not A's; B's second worker was never applied for: no 分野, not his
    assert not [v for v in a if v in seen["evaluator"]]
    for key in ("consent_b", "line_b", "notice_b"):
        assert stack.ids[key] in seen["evaluator"], key
    assert stack.ids["consent_b2"] not in seen["evaluator"]
    # without a binding: every 分野, and consents not applied for yet
    for key in ("consent_a", "line_a", "notice_a", "consent_b", "line_b", "notice_b", "consent_b2"):
        assert stack.ids[key] in seen["evaluator_all"], key


async def test_criteria_roles_and_evaluators_carry_their_binding(stack: Stack) -> None:
    auth = stack.container("consent").runtime.auth  # a service other than identity
    claims = {
        role: await auth.verify(stack.headers[role]["Authorization"].removeprefix("Bearer "))
        for role in ROLES[3:]
    }
    assert (claims["evaluator"].body, claims["evaluator"].trades) == (
        "全国管工事業協同組合連合会",
        ("配管",),
    )
    assert claims["evaluator_other"].body == "公益社団法人全国鉄筋工事業協会"  # the master's name
    assert claims["evaluator_other"].trades == ("鉄筋",)
    assert (claims["evaluator_all"].trades, claims["evaluator_all"].body) == (None, None)
    assert (claims["criteria_editor"].role, claims["criteria_editor"].trades) == (
        "criteria_editor",
        ("配管",),
    )
    assert (claims["criteria_approver"].trades, claims["operator"].trades) == (None, None)
    for role in ("criteria_editor", "criteria_approver"):
        me = await stack.client("identity").get("/me", headers=stack.headers[role])
        assert me.status_code == 200 and me.json()["role"] == role


# --- the portal ----------------------------------------------------------------------------

LOGIN = "login"  # anonymous: 303 to /login?next=…
PAGE = "page"  # the page or a redirect to another page of the user (not to /login)
PORTAL_PUBLIC = (200,) * 9
PORTAL_EMPLOYER = (LOGIN, 200, 200, 403, 403, 403, 403, 403, 403)
PORTAL_B = (LOGIN, 404, PAGE, 403, 403, 403, 403, 403, 403)
PORTAL_ANONYMOUS = (200,) + (303,) * 8  # logged in: on to the role's home page
PORTAL_EVALUATOR = (LOGIN, 403, 403, 200, 200, 200, 403, 403, 403)
PORTAL_OPERATOR = (LOGIN, 403, 403, 403, 403, 403, 200, 403, 403)
PORTAL_B_OR_EVALUATOR = (LOGIN, 404, 200, 200, 404, 200, 403, 403, 403)  # B's, its 分野's
PORTAL_CRITERIA = (LOGIN, 403, 403, 403, 403, 403, 403, 200, 200)  # 基準管理: both roles
PORTAL_CRITERIA_EDITOR = (LOGIN, 403, 403, 403, 403, 403, 403, 200, 403)
PORTAL_CRITERIA_APPROVER = (LOGIN, 403, 403, 403, 403, 403, 403, 403, 200)
PORTAL_NO_DRAFT = (LOGIN, 403, 403, 403, 403, 403, 403, 404, 404)  # an unknown draft
PORTAL_NO_DRAFT_APPROVER = (LOGIN, 403, 403, 403, 403, 403, 403, 403, 404)
PORTAL_DRAFT = "/criteria/drafts/CD-20990101-000000"

PORTAL_PAGES: dict[str, tuple[Expect, ...]] = {
    "/": PORTAL_PUBLIC,
    "/help": PORTAL_PUBLIC,
    "/register": PORTAL_PUBLIC,
    "/register/activate": PORTAL_PUBLIC,
    "/login": PORTAL_ANONYMOUS,
    "/menu": PORTAL_EMPLOYER,
    "/consents": PORTAL_EMPLOYER,
    "/consents/{consent_b}/signed-form": PORTAL_B_OR_EVALUATOR,
    "/consents/{consent_b}/consent-form.pdf": PORTAL_B,
    "/applications": PORTAL_EMPLOYER,
    "/applications/{application_b}": PORTAL_B,
    "/applications/{application_b}/lines/new": PORTAL_B,
    "/applications/{application_b}/lines/{line_b}": PORTAL_B,
    "/applications/{application_b}/confirm": PORTAL_B,
    "/applications/{application_b}/done": PORTAL_B,
    "/results": PORTAL_EMPLOYER,
    "/results/{application_b}": PORTAL_B,
    "/results/{application_b}/notices/{notice_b}": PORTAL_B_OR_EVALUATOR,
    "/review": PORTAL_EVALUATOR,
    "/review/consents": PORTAL_EVALUATOR,
    "/review/judgements": PORTAL_EVALUATOR,
    "/ops": PORTAL_OPERATOR,
    "/outlook": PORTAL_EMPLOYER,
    "/outlook.csv": PORTAL_EMPLOYER,
    "/criteria": PORTAL_CRITERIA,
    "/criteria/trades": PORTAL_CRITERIA,
    "/criteria/trades/配管": PORTAL_CRITERIA,
    "/criteria/versions/鉄筋@2019-10-08.yaml": PORTAL_CRITERIA,
    "/criteria/audit": PORTAL_CRITERIA_APPROVER,
    "/criteria/approvals": PORTAL_CRITERIA_APPROVER,
    "/criteria/approvals/CD-20990101-000000": PORTAL_NO_DRAFT_APPROVER,
    "/criteria/drafts": PORTAL_CRITERIA,
    "/criteria/drafts/new": (LOGIN, 403, 403, 403, 403, 403, 403, PAGE, 403),  # → its 分野
    "/criteria/drafts/upload": PORTAL_CRITERIA_EDITOR,
    PORTAL_DRAFT: PORTAL_NO_DRAFT,
    f"{PORTAL_DRAFT}/diff": PORTAL_NO_DRAFT,
    f"{PORTAL_DRAFT}/impact": PORTAL_NO_DRAFT,
    f"{PORTAL_DRAFT}/impact.csv": PORTAL_NO_DRAFT,
    # the notices' public verification, passed to the document service: no login for anyone
    # (a code of no notice: the document's own 404 page)
    "/verify/AAAA-BBBB-CCCC-DDDD": (404,) * 9,
}
PORTAL_OPTIONAL = {  # operator pages of the dead-letter screens, where present
    "/ops/dead-letters": PORTAL_OPERATOR,
}
PORTAL_TEMPLATES = {
    "/verify/AAAA-BBBB-CCCC-DDDD": "/verify/{code}",
    "/consents/{consent_b}/signed-form": "/consents/{consent_id}/signed-form",
    "/consents/{consent_b}/consent-form.pdf": "/consents/{consent_id}/consent-form.pdf",
    "/applications/{application_b}": "/applications/{application_id}",
    "/applications/{application_b}/lines/new": "/applications/{application_id}/lines/new",
    "/applications/{application_b}/lines/{line_b}": (
        "/applications/{application_id}/lines/{line_id}"
    ),
    "/applications/{application_b}/confirm": "/applications/{application_id}/confirm",
    "/applications/{application_b}/done": "/applications/{application_id}/done",
    "/results/{application_b}": "/results/{application_id}",
    "/results/{application_b}/notices/{notice_b}": "/results/{application_id}/notices/{notice_id}",
    "/criteria/trades/配管": "/criteria/trades/{trade}",
    "/criteria/versions/鉄筋@2019-10-08.yaml": "/criteria/versions/{version_id}.yaml",
    "/criteria/approvals/CD-20990101-000000": "/criteria/approvals/{draft_id}",
    PORTAL_DRAFT: "/criteria/drafts/{draft_id}",
    f"{PORTAL_DRAFT}/diff": "/criteria/drafts/{draft_id}/diff",
    f"{PORTAL_DRAFT}/impact": "/criteria/drafts/{draft_id}/impact",
    f"{PORTAL_DRAFT}/impact.csv": "/criteria/drafts/{draft_id}/impact.csv",
}


async def portal_login(stack: Stack, client: httpx.AsyncClient, role: str) -> None:
    from .conftest import PASSWORD

    login_id = login_id_of(role)
    page = await client.get("/login", headers=HTML)
    token = csrf_of(page)
    done = await client.post(
        "/login",
        data={"csrf_token": token, "login_id": login_id, "password": PASSWORD},
        headers=HTML,
    )
    assert done.status_code == 303, done.text[:500]


def csrf_of(page: httpx.Response) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


async def test_every_portal_page_has_a_row(stack: Stack) -> None:
    pages = {
        path
        for method, path in routes_of(stack.portal)
        if method == "GET" and path not in {p for (_, p) in PROBES}
    }
    listed = {PORTAL_TEMPLATES.get(p, p) for p in PORTAL_PAGES} | {"/"}
    optional = set(PORTAL_OPTIONAL) | {"/ops/dead-letters/{service}/{topic}/{partition}/{offset}"}
    assert pages - listed - optional == set(), "portal pages without a row in PORTAL_PAGES"
    assert listed - pages - {"/"} == set()


async def test_portal_pages_for_every_role(stack: Stack) -> None:
    wrong: list[str] = []
    present = {p for _, p in routes_of(stack.portal)}
    pages = {**PORTAL_PAGES, **{k: v for k, v in PORTAL_OPTIONAL.items() if k in present}}
    for index, role in enumerate(ROLES):
        async with stack.portal_client() as client:
            if role != "anonymous":
                await portal_login(stack, client, role)
            for template, expect in pages.items():
                path = template.format(**stack.ids)
                page = await client.get(path, headers=HTML)
                wanted = expect[index]
                if wanted == LOGIN:
                    good = page.status_code == 303 and page.headers["location"].startswith(
                        "/login?next="
                    )
                elif wanted == PAGE:
                    good = page.status_code == 200 or (
                        page.status_code == 303
                        and not page.headers["location"].startswith("/login")
                    )
                else:
                    good = page.status_code == wanted
                if not good:
                    wrong.append(f"{path} as {role}: {page.status_code}, expected {wanted}")
    assert wrong == [], "\n".join(wrong)


async def test_a_bodys_trades_come_from_the_real_master(stack: Stack) -> None:
    """What ``create-user --body`` resolves against the judgement service's ``GET /trades``:
    the 分野 a body judges, judges for another body, or receives applications for."""
    from identity.core.binding import parse_master, resolve

    master = parse_master((await stack.client("judgement").get("/trades")).json())
    zenken = resolve("evaluator", "全国建設労働組合総連合", [], master)
    assert zenken.body == "全国建設労働組合総連合（全建総連）"
    assert zenken.trades is not None and len(zenken.trades) >= 14  # receives for 14 分野
    assert {"建築大工", "電気工事", "住宅建築関連"} <= set(zenken.trades)
    kikai = resolve("evaluator", "日本機械土工協会", [], master)
    assert kikai.trades is not None and {"機械土工", "解体", "計装工事"} <= set(kikai.trades)
