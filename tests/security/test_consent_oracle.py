"""個人情報利用申請 is no CCUS oracle (issue 22, finding 5; and the names part of finding 10).

Before: ``POST /consent-applications`` answered 「技能者IDがCCUSに登録されていません」 for an
unknown 技能者ID and named the kana or the birth date that did not match, without limits
and without a record: 50 guessed IDs in one request told which exist; with a known kana,
one wrong birth date after another found the right one.

Now, through the real stack (tests/security/conftest.py):

* an unknown ID, a wrong kana and a wrong birth date get one and the same answer, on the
  row, naming no field;
* the employer's failures on a 技能者ID lock it for that employer (423, right details too),
  so the birth date is never confirmed; every other employer and ID is unaffected;
* a 技能者ID that failed too often (all employers together) is refused to everyone (429);
* an employer that checked too many rows in the window is refused before any check (429,
  ``Retry-After``, no CCUS record read);
* failed and refused attempts are in the access log (who, which 技能者ID, when);
* the legitimate filing still works, and a match forgets earlier failures.

The limits are lowered on the running service for the test (and restored); the check
documents it wrote are deleted at the end, so the other tests of the package see the
stack as it was.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from .conftest import EMPLOYERS, SECOND_WORKER_B, Stack, _demo_snapshots

UNKNOWN = "99000000000999"  # no such worker in CCUS
WORKER_OF_A = EMPLOYERS["employer_a"][2]  # 99000000000001, 髙橋 健太
WORKER_OF_B = EMPLOYERS["employer_b"][2]  # 99000000000008, 𠮷田 茂
ITEMS = {"view_ccus_data": True, "proxy_application": True, "card_issuance": True, "fee": True}
EMPLOYER_DETAILS = {
    "employer_name": "株式会社安全建設",
    "representative_name": "安全 太郎",
    "address": "東京都千代田区霞が関1-1",
    "phone_number": "03-1234-5678",
}
MISMATCH = "入力内容がCCUSの登録情報と一致しません（技能者ID・氏名カナ・生年月日をご確認ください）"
UNIFORM = re.compile(r"^技能者 \d+：" + re.escape(MISMATCH) + "$")


FOREVER = timedelta(days=10_000)  # one window for the whole test: no hour or day rolls over


def ccus(worker_id: str) -> dict[str, str]:
    snapshot = next(s for s in _demo_snapshots() if s.worker_id == worker_id)
    return {
        "worker_id": worker_id,
        "name": snapshot.name,
        "name_kana": snapshot.name_kana,
        "birth_date": snapshot.birth_date.isoformat(),
    }


def filing(*workers: dict[str, str]) -> dict[str, Any]:
    return {"employer": EMPLOYER_DETAILS, "workers": list(workers), "consent_items": ITEMS}


def other_day(born: str, days: int) -> str:
    return (date.fromisoformat(born) + timedelta(days=days)).isoformat()


@pytest.fixture
async def consent(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The consent service's client; its check limits and documents restored afterwards."""
    service = stack.container("consent").service
    limits = getattr(service, "check_limits", None)  # (a service without limits: the
    store = getattr(service, "ccus_checks", None)  # tests then fail on what it answers)
    before = {d["_id"] for d in await store.find({})} if store is not None else set()
    try:
        yield stack.client("consent")
    finally:
        if store is not None:
            service.check_limits = limits
            for doc in await store.find({}):
                if doc["_id"] not in before:
                    await store.collection.delete_one({"_id": doc["_id"]})


def limit(stack: Stack, **changes: Any) -> None:
    """Lower the running service's check limits for one test (the fixture restores them)."""
    service = stack.container("consent").service
    if hasattr(service, "check_limits"):
        service.check_limits = replace(service.check_limits, **changes)


async def post(
    consent: httpx.AsyncClient, stack: Stack, role: str, body: dict[str, Any], cid: str
) -> httpx.Response:
    return await consent.post(
        "/consent-applications",
        json=body,
        headers={**stack.headers[role], "X-Correlation-ID": cid},
    )


async def log_entries(stack: Stack, cid: str) -> list[dict[str, Any]]:
    found = await stack.client("consent").get(
        "/access-log", params={"limit": 1000}, headers=stack.headers["operator"]
    )
    assert found.status_code == 200
    return [e for e in found.json() if e["correlation_id"] == cid]


async def test_an_unknown_id_a_wrong_kana_and_a_wrong_birth_date_answer_alike(
    stack: Stack, consent: httpx.AsyncClient
) -> None:
    right = ccus(WORKER_OF_A)
    theirs = ccus(WORKER_OF_B)
    rows = [
        {**right, "worker_id": UNKNOWN},  # no such 技能者ID
        {**right, "name_kana": "タカハシ ケンジ"},  # a real ID, another kana
        {**theirs, "birth_date": other_day(theirs["birth_date"], 1)},  # another birth date
        {**right, "worker_id": SECOND_WORKER_B},  # a real ID with someone else's details
        # 50 guessed IDs in the same request: the same answer for each
        *({**right, "worker_id": f"99000003{n:06d}"} for n in range(50)),
    ]
    answer = await post(consent, stack, "employer_a", filing(*rows), "oracle-uniform")
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [e["field"] for e in errors] == [f"workers.{n}" for n in range(len(rows))]
    assert all(UNIFORM.fullmatch(e["message"]) for e in errors), errors
    assert {re.sub(r"^技能者 \d+：", "", e["message"]) for e in errors} == {MISMATCH}
    # no field of a row is named: nothing tells the ID from the kana or the birth date
    text = answer.text
    for leak in ("worker_id", "name_kana", "birth_date", "登録されていません"):
        assert leak not in text
    # every tried ID is in the access log as a failed check, with who tried
    [failed] = [
        e for e in await log_entries(stack, "oracle-uniform") if e["action"] != "ccus_check"
    ]
    assert failed["action"] == "ccus_check_failed"
    assert failed["actor"] == EMPLOYERS["employer_a"][0]
    assert failed["employer_ids"] == [EMPLOYERS["employer_a"][1]]
    assert set(failed["worker_ids"]) == {r["worker_id"] for r in rows}


async def test_guessing_a_birth_date_locks_the_worker_for_that_employer(
    stack: Stack, consent: httpx.AsyncClient
) -> None:
    limit(stack, lock_after=5, failures_per_worker=1000)
    right = ccus(WORKER_OF_A)  # employer B guesses the birth date of A's worker
    statuses = []
    for day in range(1, 20):  # the 19 requests of the report, one wrong date each
        guess = {**right, "birth_date": other_day(right["birth_date"], -day)}
        answer = await post(consent, stack, "employer_b", filing(guess), f"oracle-guess-{day}")
        statuses.append(answer.status_code)
        if answer.status_code == 422:
            assert UNIFORM.fullmatch(answer.json()["errors"][0]["message"])
    assert statuses == [422] * 5 + [423] * 14
    # the right birth date now: still locked, so a guess is never confirmed
    locked = await post(consent, stack, "employer_b", filing(right), "oracle-guess-right")
    assert locked.status_code == 423, locked.text
    body = locked.json()
    assert body["code"] == "ccus_check_locked"
    assert re.search(r"[ぁ-んァ-ヶ一-龯]", body["message"])
    assert body["errors"][0]["field"] == "workers.0.worker_id"
    assert 0 < int(locked.headers["Retry-After"]) <= 24 * 3600
    # the failures and the refusals are in the access log, with who tried which ID
    assert sorted(e["action"] for e in await log_entries(stack, "oracle-guess-1")) == [
        "ccus_check",  # the CCUS record was read to compare (as before)
        "ccus_check_failed",
    ]
    [refused] = await log_entries(stack, "oracle-guess-right")
    assert refused["action"] == "ccus_check_refused"
    assert refused["worker_ids"] == [WORKER_OF_A]
    assert refused["actor"] == EMPLOYERS["employer_b"][0]

    # the lock is the employer's: employer A still files for that ID, and B for another
    other = ccus(WORKER_OF_B)
    wrong_for_a = {**right, "name_kana": "タカハシ ケンジ"}
    assert (await post(consent, stack, "employer_a", filing(wrong_for_a), "x")).status_code == 422
    b_elsewhere = {**other, "birth_date": other_day(other["birth_date"], 1)}
    assert (await post(consent, stack, "employer_b", filing(b_elsewhere), "y")).status_code == 422


async def test_an_id_that_failed_too_often_is_refused_to_every_employer(
    stack: Stack, consent: httpx.AsyncClient
) -> None:
    limit(stack, failures_per_worker=3, lock_after=100, failure_window=FOREVER)
    guess = {**ccus(WORKER_OF_A), "worker_id": "99000000000777"}
    for n, role in enumerate(("employer_a", "employer_b", "employer_a")):
        answer = await post(consent, stack, role, filing(guess), f"spread-{n}")
        assert answer.status_code == 422, answer.text
    for role in ("employer_a", "employer_b"):
        answer = await post(consent, stack, role, filing(guess), f"spread-{role}")
        assert answer.status_code == 429, answer.text
        assert answer.json()["code"] == "ccus_check_rate_limited"
        assert answer.json()["errors"][0]["field"] == "workers.0.worker_id"
        assert int(answer.headers["Retry-After"]) > 0


async def test_an_employer_checking_too_many_rows_is_refused_before_any_check(
    stack: Stack, consent: httpx.AsyncClient
) -> None:
    limit(stack, per_employer=3, window=FOREVER)
    rows = [{**ccus(WORKER_OF_A), "worker_id": f"990000001{n:05d}"} for n in range(2)]
    first = await post(consent, stack, "employer_b", filing(*rows), "rate-1")
    assert first.status_code == 422  # 2 of 3 rows checked
    second = await post(consent, stack, "employer_b", filing(*rows), "rate-2")
    assert second.status_code == 429, second.text
    assert second.json()["code"] == "ccus_check_rate_limited"
    assert re.search(r"[ぁ-んァ-ヶ一-龯]", second.json()["message"])
    assert int(second.headers["Retry-After"]) > 0
    # refused before the check: no CCUS record was read, the attempt is recorded
    assert [e["action"] for e in await log_entries(stack, "rate-2")] == ["ccus_check_refused"]


async def test_the_legitimate_filing_still_works_and_a_match_forgets_earlier_failures(
    stack: Stack, consent: httpx.AsyncClient
) -> None:
    service = stack.container("consent").service
    limit(stack, lock_after=3, failures_per_worker=1000)
    right = ccus(WORKER_OF_B)  # employer A files for B's worker: a consent of its own
    typo = {**right, "birth_date": other_day(right["birth_date"], 1)}
    for n in range(2):
        assert (
            await post(consent, stack, "employer_a", filing(typo), f"ok-{n}")
        ).status_code == 422
    filed = await post(consent, stack, "employer_a", filing(right), "ok-right")
    assert filed.status_code == 201, filed.text
    assert [c["worker_id"] for c in filed.json()["consents"]] == [WORKER_OF_B]
    pair = await service.ccus_checks.get(f"pair|{EMPLOYERS['employer_a'][1]}|{WORKER_OF_B}")
    assert pair is not None and pair["failures"] == [] and pair["locked_until"] is None
    # corrected again (申請中 → data corrected): the earlier failures no longer count
    for n in range(2):
        again = await post(consent, stack, "employer_a", filing(typo), f"ok-again-{n}")
        assert again.status_code == 422
    assert (await post(consent, stack, "employer_a", filing(right), "ok-2")).status_code == 201


@pytest.mark.parametrize(
    ("field", "value", "described"),
    [
        ("name", "髙橋\u202e太健", "U+202E：書字方向の制御文字"),  # RLO
        ("name", "髙橋\u202d健太", "U+202D：書字方向の制御文字"),  # LRO
        ("name", "髙橋\u2066健太\u2069", "U+2066：書字方向の制御文字"),  # LRI … PDI
        ("name", "髙橋\u2028健太", "U+2028：行区切り文字"),
        ("name_kana", "タカハシ\u202cケンタ", "U+202C：書字方向の制御文字"),  # PDF
        ("name_kana", "タカハシ\u2029ケンタ", "U+2029：段落区切り文字"),
        ("name_kana", "タカハシ\x85ケンタ", "U+0085：制御文字"),  # C1
        ("name", "髙橋\x07健太", "U+0007：制御文字"),  # C0
    ],
)
async def test_control_and_bidi_characters_in_names_are_refused(
    stack: Stack, consent: httpx.AsyncClient, field: str, value: str, described: str
) -> None:
    """Issue 22, finding 10: a Japanese 422 on the field, nothing filed, nothing checked."""
    row = {**ccus(WORKER_OF_A), field: value}
    answer = await post(consent, stack, "employer_b", filing(row), "bidi")
    assert answer.status_code == 422, answer.text
    label = "氏名" if field == "name" else "氏名カナ"
    assert answer.json()["errors"] == [
        {
            "field": f"workers.0.{field}",
            "message": f"{label}に使用できない文字（{described}）が含まれています",
        }
    ]
