"""Kafka settings of issue 23: topic partitions, replication, min ISR and compaction from
the settings (the same as the deployment's topics), TLS/SASL for every client, topic
creation only where allowed."""

import ssl
from pathlib import Path
from typing import ClassVar

import aiokafka.admin as admin_module
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from faststream.security import SASLScram512

from shared_kernel.infra import kafka
from shared_kernel.infra.kafka import TopicsMissing, ensure_topics, kafka_options, topic_plan
from shared_kernel.infra.settings import ServiceSettings

TOPICS_TXT = Path(__file__).parents[2] / "deploy" / "compose" / "topics.txt"


def test_the_plan_is_the_deployments_topics() -> None:
    settings = ServiceSettings(environment="test")
    lines = [ln.split() for ln in TOPICS_TXT.read_text().splitlines() if ln and ln[0] != "#"]
    assert lines
    for name, partitions, *config in lines:
        wanted = dict(c.split("=", 1) for c in config)
        assert topic_plan(settings, name) == (int(partitions), wanted), name
    assert topic_plan(settings, "ccus.worker-snapshots")[0] == 24
    assert topic_plan(settings, "judgement.judgements")[0] == 12


def test_partitions_replication_and_min_isr_come_from_the_settings() -> None:
    settings = ServiceSettings(
        environment="test",
        topic_prefix="t.",
        topic_partitions={"ccus.worker-snapshots": 48, "judgement": 3},
        topic_partitions_default=2,
        topic_min_isr=2,
    )
    assert topic_plan(settings, "t.ccus.worker-snapshots") == (
        48,
        {"min.insync.replicas": "2", **kafka.TOPIC_CONFIG["ccus.worker-snapshots"]},
    )
    assert topic_plan(settings, "t.judgement.judgements")[0] == 3
    assert topic_plan(settings, "t.identity.users")[0] == 2
    assert settings.topic_replication_factor == -1  # the broker's default


def test_topics_are_created_only_in_development_and_test_unless_told() -> None:
    assert ServiceSettings(environment="test").creates_topics
    assert ServiceSettings(environment="development").creates_topics
    production = ServiceSettings(environment="production", jwt_secret="x" * 40)
    assert not production.creates_topics
    assert ServiceSettings(environment="test", kafka_create_topics=False).creates_topics is False


def test_sasl_scram_over_tls_for_every_client(tmp_path: Path) -> None:
    settings = ServiceSettings(
        environment="test",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="kafka-judgement",
        kafka_sasl_password="p" * 32,
    )
    options = kafka_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "kafka-judgement"
    assert options["sasl_plain_password"] == "p" * 32
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    security = kafka.broker_security(settings)
    assert isinstance(security, SASLScram512) and security.use_ssl
    assert kafka_options(ServiceSettings(environment="test")) == {
        "bootstrap_servers": "127.0.0.1:9092"
    }
    with pytest.raises(ValueError, match="KAFKA_SASL_MECHANISM"):
        ServiceSettings(environment="test", kafka_security_protocol="SASL_SSL")


async def test_ensure_topics_creates_them_by_the_plan(settings: ServiceSettings) -> None:
    snapshots = settings.topic("ccus.worker-snapshots")
    await ensure_topics(settings, [snapshots])
    admin = AIOKafkaAdminClient(**kafka_options(settings))
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics([snapshots])}
        partitions = described[snapshots]["partitions"]
        assert len(partitions) == 24
        assert all(len(p["replicas"]) == 1 for p in partitions)  # the local broker's default
        configs = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, snapshots)]
        )
        values = {c[0]: c[1] for c in configs[0].resources[0][4]}
        assert values["cleanup.policy"] == "compact"
    finally:
        await admin.close()


async def test_without_creation_a_missing_topic_fails_the_start(
    settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka, "TOPIC_READY_SECONDS", 0.5)
    strict = settings.model_copy(update={"kafka_create_topics": False})
    with pytest.raises(TopicsMissing, match=r"consent\.consents"):
        await ensure_topics(strict, [strict.topic("consent.consents")])


def test_min_insync_replicas_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOPIC_MIN_ISR", raising=False)
    monkeypatch.delenv("TOPIC_MIN_INSYNC_REPLICAS", raising=False)
    unset = ServiceSettings(environment="test")
    assert unset.topic_min_isr is None  # the broker's min.insync.replicas
    assert "min.insync.replicas" not in topic_plan(unset, "judgement.judgements")[1]
    for name in ("TOPIC_MIN_ISR", "TOPIC_MIN_INSYNC_REPLICAS"):
        monkeypatch.setenv(name, "2")
        settings = ServiceSettings(environment="test")
        assert settings.topic_min_isr == 2
        assert topic_plan(settings, "judgement.judgements")[1] == {"min.insync.replicas": "2"}
        monkeypatch.delenv(name)


class _RecordingAdmin:
    """Stands in for aiokafka's admin client: no topics yet, records what is created."""

    created: ClassVar[list[NewTopic]] = []

    def __init__(self, **options: object) -> None:
        self.topics: dict[str, int] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def list_topics(self) -> list[str]:
        return list(self.topics)

    async def create_topics(self, new: list[NewTopic]) -> None:
        type(self).created.extend(new)
        self.topics.update({t.name: t.num_partitions for t in new})

    async def describe_topics(self, names: list[str]) -> list[dict[str, object]]:
        return [
            {
                "topic": name,
                "error_code": 0,
                "partitions": [
                    {"partition": p, "error_code": 0, "leader": 1} for p in range(self.topics[name])
                ],
            }
            for name in names
        ]


async def test_ensure_topics_sets_min_insync_replicas_and_replication(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin_module, "AIOKafkaAdminClient", _RecordingAdmin)
    _RecordingAdmin.created = []
    cluster = ServiceSettings(environment="test", topic_min_isr=2, topic_replication_factor=3)
    await ensure_topics(cluster, ["judgement.judgements"])
    created = {t.name: t for t in _RecordingAdmin.created}
    assert set(created) == {"judgement.judgements", "judgement.judgements.dlq"}
    for topic in created.values():
        assert topic.replication_factor == 3
        assert topic.topic_configs["min.insync.replicas"] == "2"
    assert created["judgement.judgements"].num_partitions == 12

    _RecordingAdmin.created = []
    await ensure_topics(ServiceSettings(environment="test"), ["judgement.judgements"])
    for topic in _RecordingAdmin.created:  # unset: the broker's replication and min ISR
        assert topic.replication_factor == -1
        assert "min.insync.replicas" not in topic.topic_configs


def test_every_broker_of_the_bootstrap_list_reaches_the_services_clients() -> None:
    cluster = ServiceSettings(
        environment="test", kafka_bootstrap_servers="127.0.0.1:9092, 127.0.0.1:9094,127.0.0.1:9096"
    )
    # FastStream would take the string as one host; each address is one item
    assert kafka.make_broker(cluster)._connection_kwargs["bootstrap_servers"] == [
        "127.0.0.1:9092",
        "127.0.0.1:9094",
        "127.0.0.1:9096",
    ]
    single = kafka.make_broker(ServiceSettings(environment="test"))
    assert single._connection_kwargs["bootstrap_servers"] == ["127.0.0.1:9092"]
