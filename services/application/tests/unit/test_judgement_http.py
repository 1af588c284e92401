"""The judgement service over its pooled HTTP client (``httpx.MockTransport``: no network):
the caller's token and the correlation id go with each call, the pool follows the
settings, and every outage is ``JudgementUnavailable``."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from application.adapters.outbound.judgement_http import HttpJudgement
from application.config import Settings
from application.core.career import CareerRules
from application.core.errors import CcusNotFound, JudgementUnavailable, TradeNotAvailable
from shared_kernel.infra.http_client import PoolSettings
from shared_kernel.infra.logging import correlation_scope


class Script:
    """Answers in order (an ``httpx`` error is raised as the network would)."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def judgement(script: Script, **kw: float) -> HttpJudgement:
    return HttpJudgement(
        "http://judgement.test/", transport=httpx.MockTransport(script), clock=lambda: 0.0, **kw
    )


async def test_a_call_carries_the_token_the_correlation_id_and_the_body() -> None:
    script = Script(httpx.Response(200, json={"eligible_level": 2}))
    client = judgement(script)
    with correlation_scope("corr-7"):
        found = await client.preview({"worker_id": "99000000000001"}, "Bearer t-1")
    assert found == {"eligible_level": 2}
    [request] = script.seen
    assert (request.method, str(request.url)) == ("POST", "http://judgement.test/preview/worker")
    assert request.headers["Authorization"] == "Bearer t-1"
    assert request.headers["X-Correlation-ID"] == "corr-7"
    assert request.headers["User-Agent"] == "noryoku-application"
    await client.aclose()


async def test_answers_the_port_knows() -> None:
    script = Script(
        httpx.Response(404, json={"code": "not_found"}),
        httpx.Response(
            422, json={"code": "trade_not_available", "message": "判定基準がありません"}
        ),
        httpx.Response(404),
        httpx.Response(200, json=[{"name": "鉄筋", "judgeable": True}, {"name": "とび"}]),
    )
    client = judgement(script)
    with pytest.raises(CcusNotFound):
        await client.preview({"worker_id": "99000000000009"}, "Bearer t")
    with pytest.raises(TradeNotAvailable, match="判定基準がありません"):
        await client.preview({"worker_id": "99000000000001"}, "Bearer t")
    assert await client.ccus_summary("99000000000009", "Bearer t") is None
    assert await client.judgeable_trades() == frozenset({"鉄筋", "とび"})
    assert await client.judgeable_trades() == frozenset({"鉄筋", "とび"})  # cached
    assert len(script.seen) == 4
    await client.aclose()


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("no connection"),
        httpx.ReadTimeout("no answer"),
        httpx.PoolTimeout("no free connection"),
        httpx.RemoteProtocolError("not HTTP"),
        httpx.Response(503, json={}),
        httpx.Response(200, content=b"not json"),
    ],
)
async def test_an_outage_is_judgement_unavailable(answer: httpx.Response | Exception) -> None:
    client = judgement(Script(answer))
    with pytest.raises(JudgementUnavailable):
        await client.preview({"worker_id": "99000000000001"}, "Bearer t")
    await client.aclose()


async def test_the_pool_follows_the_settings() -> None:
    settings = Settings(
        judgement_timeout_seconds=2.5,
        judgement_connect_timeout_seconds=1.0,
        judgement_max_connections=7,
        judgement_max_keepalive_connections=4,
        judgement_keepalive_seconds=3.0,
    )
    pool = settings.judgement_pool()
    assert pool == PoolSettings(2.5, 1.0, 7, 4, 3.0)
    client = HttpJudgement(settings.judgement_url, pool=pool)
    assert client.client.timeout == httpx.Timeout(2.5, connect=1.0)
    assert str(client.client.base_url) == "http://127.0.0.1:8004"
    await client.aclose()
    # defaults: below uvicorn's 5 s keep-alive, so that no call picks a closing connection
    assert Settings().judgement_pool().keepalive_seconds < 5
    plain = HttpJudgement("http://x", timeout=9)
    assert plain.client.timeout == httpx.Timeout(9, connect=3.0)
    await plain.aclose()


RULES_ANSWER = {
    "master_version": "2026-11-01",
    "career": {"cap_from": "2024-04-01", "cap_end": "2024-03-31", "none_from": "2029-04-01"},
    "management_levels": [3, 4],
}


async def test_the_rules_are_the_masters_fetched_once_and_cached() -> None:
    script = Script(httpx.Response(200, json=RULES_ANSWER))
    client = judgement(script)
    rules = await client.rules()
    assert rules == CareerRules(
        cap_from=date(2024, 4, 1),
        cap_end=date(2024, 3, 31),
        none_from=date(2029, 4, 1),
        management_levels=(3, 4),
        master_version="2026-11-01",
    )
    assert await client.rules() == rules  # cached
    [request] = script.seen
    assert (request.method, str(request.url)) == ("GET", "http://judgement.test/rules")
    await client.aclose()


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"career": {"cap_from": "2024-04-01"}}),
        httpx.Response(200, json={**RULES_ANSWER, "management_levels": None}),
        httpx.Response(200, json=[]),
        httpx.Response(404, json={}),
    ],
)
async def test_rules_the_adapter_cannot_read_are_an_outage(answer: httpx.Response) -> None:
    client = judgement(Script(answer))
    with pytest.raises(JudgementUnavailable):
        await client.rules()
    await client.aclose()
