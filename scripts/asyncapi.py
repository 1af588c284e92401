"""Write docs/asyncapi.json from the services' FastStream apps (or check it is current).

    uv run python scripts/asyncapi.py --write
    uv run python scripts/asyncapi.py --check     # exit 1 if docs/asyncapi.json is stale

Every service is wired as it is at start-up (``inject.wire`` on a fresh runtime; nothing
connects): its broker then holds the publications it declared (``Runtime.publishes``) and its
consumer group's subscriptions. The two commands that publish on their own (the CCUS feed
and 再判定) add theirs. The document lists what the running system really publishes and reads.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import generated
from faststream.kafka import KafkaBroker

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.json"
SERVICES = ["identity", "consent", "application", "judgement", "notification", "document"]
COMMANDS = {  # module holding PUBLISHES: the settings the command runs with
    "judgement.feed.publish": "judgement-feed",
    "judgement.rejudge.cli": "judgement-rejudge",
}


def brokers() -> list[KafkaBroker]:
    from shared_kernel.infra.kafka import EventPublisher, make_broker
    from shared_kernel.infra.runtime import build_runtime
    from shared_kernel.infra.settings import ServiceSettings

    os.environ["TOPIC_PREFIX"] = ""  # the contract names the logical topics
    os.environ.setdefault("APP_ENV", "development")
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = "kafka:9092"
    found = []
    for service in SERVICES:
        settings = importlib.import_module(f"{service}.config").Settings()
        runtime = build_runtime(settings)
        importlib.import_module(f"{service}.inject").wire(runtime)
        runtime.consumer.subscribe()
        found.append(runtime.broker)
    for module, name in COMMANDS.items():
        settings = ServiceSettings(service_name=name)
        broker = make_broker(settings)
        EventPublisher(broker, settings, *importlib.import_module(module).PUBLISHES)
        found.append(broker)
    return found


def render() -> str:
    from shared_kernel.infra.asyncapi import render as render_brokers

    return render_brokers(*brokers())


def main(argv: list[str]) -> int:
    return generated.main(argv, DOCUMENT, render, "python scripts/asyncapi.py")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
