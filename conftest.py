"""Fixtures for every test tier (unit, integration, end-to-end).

Integration and end-to-end tests use the running infrastructure named by
``KAFKA_BOOTSTRAP_SERVERS`` and ``MONGODB_URL`` (default: the local stack that
``make infra-up`` starts); each test gets its own database and topic prefix. Where a
Docker engine is reachable and ``USE_TESTCONTAINERS=1``, the session starts Kafka and
MongoDB with testcontainers instead.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlparse

import pytest

from shared_kernel.infra.mongo import Document, connect
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import TEST_PREFIXES, delete_topics, isolated


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[dict[str, str]]:
    """Addresses of Kafka and the database; fails (never skips) if they are not running."""
    if os.environ.get("USE_TESTCONTAINERS") == "1":
        from testcontainers.kafka import KafkaContainer
        from testcontainers.mongodb import MongoDbContainer

        with KafkaContainer().with_kraft() as kafka, MongoDbContainer("mongo:7") as mongo:
            env = {
                "KAFKA_BOOTSTRAP_SERVERS": kafka.get_bootstrap_server(),
                "MONGODB_URL": mongo.get_connection_url(),
            }
            os.environ.update(env)
            yield env
        return
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        "MONGODB_URL": os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"),
    }
    kafka_host, kafka_port = env["KAFKA_BOOTSTRAP_SERVERS"].split(",")[0].rsplit(":", 1)
    mongo = urlparse(env["MONGODB_URL"])
    for what, host, port in (
        ("Kafka", kafka_host, int(kafka_port)),
        ("MongoDB-wire database", mongo.hostname or "127.0.0.1", mongo.port or 27017),
    ):
        if not _reachable(host, port):
            pytest.fail(f"{what} is not reachable at {host}:{port}: run `make infra-up` first")
    yield env
    # the session's topics go with it (the databases are dropped test by test)
    try:
        asyncio.run(delete_topics(env["KAFKA_BOOTSTRAP_SERVERS"], TEST_PREFIXES))
    except Exception as exc:  # a broker gone by now must not fail the run
        print(f"\nleft the test topics in Kafka: {exc!r}")


@pytest.fixture
def settings(infrastructure: dict[str, str]) -> ServiceSettings:
    """Service settings with a database and topic prefix of this test's own."""
    return isolated(ServiceSettings, service_name="test", environment="test")


@pytest.fixture
async def db(settings: ServiceSettings) -> AsyncIterator[object]:
    client = connect(settings.mongodb_url)
    try:
        yield client[settings.db_name]
    finally:
        await client.drop_database(settings.db_name)
        await client.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tier markers from the folder: tests/faults, tests/integration, tests/e2e, else by use."""
    for item in items:
        path = str(item.path)
        if "/faults/" in path:  # own infrastructure, `make test-faults` only
            item.add_marker(pytest.mark.faults)
        elif "/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
        elif "/integration/" in path or "infrastructure" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)


__all__ = ["Document"]
