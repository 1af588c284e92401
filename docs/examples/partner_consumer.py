"""Example partner consumer: print every judgement result of 能力評価システム as a JSON line.

Needs only aiokafka (pip install aiokafka); it does not use this repository's code.

    python docs/examples/partner_consumer.py --bootstrap 127.0.0.1:9092 --group my-company

It reads ``partner.judgement-results``, the topic published for partners (add the
deployment's prefix with --topic-prefix), keeps the events whose ``ce_type`` it understands
(jp.ccus.level.partner.judgement.completed.v1: JudgementCompleted as partners receive it,
without the worker's name or CCUS records), and commits its offset after printing, so a
restart resumes where it stopped. Events are delivered at least once: deduplicate on
``ce_id`` if printing twice matters.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from aiokafka import AIOKafkaConsumer

UNDERSTOOD = {"jp.ccus.level.partner.judgement.completed.v1"}


async def run(args: argparse.Namespace) -> None:
    consumer = AIOKafkaConsumer(
        f"{args.topic_prefix}partner.judgement-results",
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    printed = 0
    try:
        async for record in consumer:
            headers = {k: v.decode() for k, v in record.headers}
            if headers.get("ce_type") in UNDERSTOOD:
                event = json.loads(record.value)
                print(
                    json.dumps(
                        {
                            "ce_id": headers["ce_id"],
                            "correlation_id": headers.get("ce_correlationid"),
                            "judgement_id": event["judgement_id"],
                            "line_id": event["line_id"],
                            "employer_id": event["employer_id"],
                            "worker_id": event["worker_id"],
                            "trade": event["trade"],
                            "requested_level": event["requested_level"],
                            "decision": event["decision"],
                            "eligible_level": event["eligible_level"],
                            "criteria_version": event["criteria_version"],
                            "judged_at": event["judged_at"],
                        },
                        ensure_ascii=False,
                    ),
                    flush=True,
                )
                printed += 1
            await consumer.commit()
            if args.max_messages and printed >= args.max_messages:
                break
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--group", default="partner-example")
    parser.add_argument("--topic-prefix", default="")
    parser.add_argument("--max-messages", type=int, default=0, help="stop after N (0: never)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
