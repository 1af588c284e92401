"""The dead-letter API for operators, the same on every consuming service.

Each service answers for its own consumer group (the events *it* failed to handle):

    GET  /dead-letters                                    list (with earlier replays)
    GET  /dead-letters/{topic}/{partition}/{offset}       headers, error, masked payload
    POST /dead-letters/{topic}/{partition}/{offset}/replay  {"reason": "..."}

Only the ``operator`` role may call it; a replay is what ``python -m shared_kernel.infra.dlq
replay``
does (same bytes, same ``ce_id`` and correlation id, audited in ``dlq_replays`` with the
operator's id and reason); the portal's 運用状況 screen is built on this API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from shared_kernel.infra import dlq
from shared_kernel.infra.auth import require
from shared_kernel.infra.http import ApiError
from shared_kernel.infra.kafka import DLQ_SUFFIX
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.principal import Principal

router = APIRouter(prefix="/dead-letters", tags=["運用（デッドレター）"])
Operator = Annotated[Principal, Depends(require("operator"))]


class Replay(BaseModel):
    operator: str
    reason: str | None = None
    replayed_at: datetime


class DeadLetterSummary(BaseModel):
    topic: str
    partition: int
    offset: int
    original_topic: str | None
    ce_type: str | None
    ce_id: str | None
    correlation_id: str | None
    consumer_group: str | None
    failed_at: str | None
    error: str
    replays: list[Replay] = []


class DeadLetterDetail(DeadLetterSummary):
    key: str | None
    headers: dict[str, str]
    payload: Any = Field(
        description="個人情報（氏名・生年月日・連絡先など）は *** に置き換えています"
    )


class ReplayRequest(BaseModel):
    reason: str = Field(
        min_length=1, max_length=500, description="再投入の理由（監査記録に残ります）"
    )


class ReplayResult(BaseModel):
    audit_id: str
    original_topic: str
    ce_id: str | None
    correlation_id: str | None
    operator: str
    replayed_at: datetime


def _runtime(request: Request) -> tuple[ServiceSettings, str]:
    runtime = request.app.state.container.runtime
    return runtime.settings, runtime.consumer.group


def _replays(
    audits: dict[tuple[str, int, int], list[dict[str, Any]]], key: tuple[str, int, int]
) -> list[Replay]:
    return [Replay.model_validate(a) for a in audits.get(key, [])]


async def _letter(
    settings: ServiceSettings, group: str, topic: str, partition: int, offset: int
) -> dlq.DeadLetter:
    if not topic.endswith(DLQ_SUFFIX) or not topic.startswith(settings.topic_prefix):
        raise ApiError(
            400, "not_a_dead_letter_topic", f"{topic} はデッドレターのトピックではありません。"
        )
    try:
        letter = await dlq.find(settings, topic, partition, offset)
    except LookupError:
        letter = None
    if letter is None or letter.headers.get("dlq_consumer_group") != group:
        raise ApiError(
            404, "dead_letter_not_found", "指定されたデッドレターは見つかりませんでした。"
        )
    return letter


def _kafka_down(exc: Exception) -> ApiError:
    return ApiError(503, "kafka_unavailable", f"Kafka に接続できません（{type(exc).__name__}）。")


@router.get("", summary="デッドレター一覧（このサービスの処理に失敗したイベント）")
async def list_dead_letters(request: Request, _: Operator) -> list[DeadLetterSummary]:
    settings, group = _runtime(request)
    try:
        found = await dlq.letters(settings, group)
    except (KafkaError, OSError) as exc:
        raise _kafka_down(exc) from exc
    audits = await dlq.replays(settings)
    return [
        DeadLetterSummary(
            **letter.summary(),
            replays=_replays(audits, (letter.topic, letter.partition, letter.offset)),
        )
        for letter in found
    ]


@router.get("/{topic}/{partition}/{offset}", summary="デッドレターの詳細（個人情報は伏せ字）")
async def show_dead_letter(
    request: Request, topic: str, partition: int, offset: int, _: Operator
) -> DeadLetterDetail:
    settings, group = _runtime(request)
    try:
        letter = await _letter(settings, group, topic, partition, offset)
    except (KafkaError, OSError) as exc:
        raise _kafka_down(exc) from exc
    audits = await dlq.replays(settings)
    return DeadLetterDetail(
        **letter.inspect(), replays=_replays(audits, (topic, partition, offset))
    )


@router.post(
    "/{topic}/{partition}/{offset}/replay",
    status_code=202,
    summary="デッドレターを元のトピックへ再投入（監査記録あり）",
)
async def replay_dead_letter(
    request: Request,
    topic: str,
    partition: int,
    offset: int,
    body: ReplayRequest,
    operator: Operator,
) -> ReplayResult:
    settings, group = _runtime(request)
    reason = body.reason.strip()
    if not reason:
        raise ApiError(422, "reason_required", "再投入の理由を入力してください。")
    try:
        letter = await _letter(settings, group, topic, partition, offset)
        audit = await dlq.replay(settings, letter, operator.subject, reason)
    except (KafkaError, OSError) as exc:
        raise _kafka_down(exc) from exc
    except LookupError as exc:
        raise ApiError(
            409,
            "no_original_topic",
            "このデッドレターには元のトピックの記録がないため再投入できません。",
        ) from exc
    return ReplayResult(
        audit_id=audit["_id"],
        original_topic=str(audit["original_topic"]),
        ce_id=audit["ce_id"],
        correlation_id=audit["correlation_id"],
        operator=audit["operator"],
        replayed_at=audit["replayed_at"],
    )
