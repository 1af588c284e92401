"""deploy/k8s/ checked offline: rendered, validated strictly, and held to what the code needs.

* ``kubectl kustomize`` (or kustomize) renders each overlay;
* kubeconform ``-strict`` validates every object: the core kinds against the Kubernetes JSON
  schemas bundled in PyPI's kubernetes-validate (.deps/k8s-schemas, made by
  scripts/k8s_schemas.py), the custom resources (Strimzi, MongoDB, KEDA, Prometheus operator)
  against our schemas written from their CRDs (deploy/k8s/schemas/); a copy with one field
  misspelt must fail, kind by kind;
* the fields we rely on: topics and their partitions and replication, the ACLs of every
  KafkaUser against docs/asyncapi.json, KEDA's triggers and replica bounds, probes, resources,
  budgets, the network graph the NetworkPolicies allow, MongoDB's replica set, users, SCRAM
  and TLS, every Secret either made by an operator or documented in deploy/README.md, and
  every service's settings loaded from its container's environment (APP_ENV=production: no
  refusal, no loopback address).

The tools come from deploy/local/install.sh (make install); without them the tests skip
locally and fail in CI (CI=true).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError

from shared_kernel.infra.auth import SigningKey
from tests.deploy.settings_env import SETTINGS, load_settings, loopbacks
from tests.deploy.tools import DEPS_BIN, ROOT, missing, tool

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("local", "production")
CRD_SCHEMAS = (
    K8S / "schemas" / "{{ .Group }}" / "{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
)
README = ROOT / "deploy" / "README.md"
ASYNCAPI = ROOT / "docs" / "asyncapi.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
BACKEND = ("identity", "consent", "application", "judgement", "notification", "document")
PARTNER_TOPICS = {"partner.judgement-results", "document.result-notices"}
CCUS_PARTNER = "partner-ccus"
INSTALL = "run deploy/local/install.sh (make install)"

Doc = dict[str, Any]


# --- tools and rendering ----------------------------------------------------------------------


def k8s_version() -> str:
    common = (ROOT / "deploy" / "local" / "common.sh").read_text(encoding="utf-8")
    found = re.search(r'^K8S_SCHEMA_VERSION="([0-9.]+)"', common, re.MULTILINE)
    assert found, "K8S_SCHEMA_VERSION missing from deploy/local/common.sh"
    return found.group(1)


def kustomize_command() -> list[str]:
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    for candidate in (str(DEPS_BIN / "kustomize"), shutil.which("kustomize")):
        if candidate and Path(candidate).exists():
            return [candidate, "build"]
    missing(f"neither kubectl nor kustomize found: {INSTALL} (it builds kustomize without kubectl)")
    raise AssertionError("unreachable")


@cache
def render_text(overlay: str) -> str:
    """An overlay of deploy/k8s/overlays rendered, or ``ops`` (deploy/k8s/ops)."""
    path = K8S / "ops" if overlay == "ops" else K8S / "overlays" / overlay
    done = subprocess.run(
        [*kustomize_command(), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"kustomize {overlay} failed:\n{done.stderr}"
    return done.stdout


def render(overlay: str) -> list[Doc]:
    return [d for d in yaml.safe_load_all(render_text(overlay)) if d]


def schema_dir() -> Path:
    path = ROOT / ".deps" / "k8s-schemas"
    if not (path / f"v{k8s_version()}-standalone-strict").is_dir():
        missing(f"no Kubernetes schemas in .deps/k8s-schemas: {INSTALL}")
    return path


def kubeconform(path: Path) -> subprocess.CompletedProcess[str]:
    binary = tool("kubeconform", "KUBECONFORM", INSTALL)
    args = ["-strict", "-summary", "-verbose", "-output", "json"]
    args += ["-kubernetes-version", k8s_version()]
    args += ["-schema-location", str(schema_dir()), "-schema-location", str(CRD_SCHEMAS)]
    return subprocess.run(
        [binary, *args, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def containers(doc: Doc) -> list[Doc]:
    result: list[Doc] = doc["spec"]["template"]["spec"]["containers"]
    return result


def env_of(container: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container.get("env", [])}


# --- the contract (docs/asyncapi.json) --------------------------------------------------------


@cache
def consumed() -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for name in json.loads(ASYNCAPI.read_text(encoding="utf-8"))["channels"]:
        if name.startswith("consumer group "):
            group, topic = name.removeprefix("consumer group ").split(":", 1)
            groups.setdefault(group, set()).add(topic)
    return groups


@cache
def published_topics() -> set[str]:
    channels = json.loads(ASYNCAPI.read_text(encoding="utf-8"))["channels"]
    return {n.split(":", 1)[0] for n in channels if not n.startswith("consumer group ")}


def writer(topic: str) -> str:
    first = topic.split(".", 1)[0]
    return {"partner": "judgement", "ccus": CCUS_PARTNER}.get(first, first)


# --- rendering and strict validation ----------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_into_one_namespace(overlay: str) -> None:
    docs = render(overlay)
    kinds = {d["kind"] for d in docs}
    assert {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ScaledObject",
        "TriggerAuthentication",
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "KafkaUser",
        "MongoDBCommunity",
        "ServiceMonitor",
        "PrometheusRule",
        "Job",
        "Ingress",
    } <= kinds
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "noryoku", doc["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubeconform_strict(overlay: str, tmp_path: Path) -> None:
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(render_text(overlay), encoding="utf-8")
    done = kubeconform(path)
    assert done.returncode == 0, f"kubeconform {overlay}:\n{done.stdout}\n{done.stderr}"
    report = json.loads(done.stdout)
    statuses = [r["status"] for r in report["resources"]]
    assert statuses == ["statusValid"] * len(render(overlay)), report["summary"]


def _rename(mapping: Doc, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def _first(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    found = [d for d in of_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    return found[0]


def _topic(docs: list[Doc]) -> Doc:
    return _first(docs, "KafkaTopic")


# (kind, name, how to break it): each a misspelt field or value kubeconform must refuse
BROKEN: dict[str, tuple[str, Callable[[list[Doc]], None]]] = {
    "Deployment readinessProbes": (
        "Deployment",
        lambda d: _rename(
            containers(_first(d, "Deployment"))[0], "readinessProbe", "readinessProbes"
        ),
    ),
    "Deployment spec.replica": (
        "Deployment",
        lambda d: _first(d, "Deployment")["spec"].__setitem__("replica", 2),
    ),
    "Service targetPorts": (
        "Service",
        lambda d: _rename(_first(d, "Service")["spec"]["ports"][0], "targetPort", "targetPorts"),
    ),
    "HorizontalPodAutoscaler minReplica": (
        "HorizontalPodAutoscaler",
        lambda d: _rename(
            _first(d, "HorizontalPodAutoscaler")["spec"], "minReplicas", "minReplica"
        ),
    ),
    "NetworkPolicy podSelecter": (
        "NetworkPolicy",
        lambda d: _rename(_first(d, "NetworkPolicy")["spec"], "podSelector", "podSelecter"),
    ),
    "ScaledObject lagTreshold": (
        "ScaledObject",
        lambda d: _rename(
            _first(d, "ScaledObject")["spec"]["triggers"][0]["metadata"],
            "lagThreshold",
            "lagTreshold",
        ),
    ),
    "ScaledObject maxReplicas": (
        "ScaledObject",
        lambda d: _rename(_first(d, "ScaledObject")["spec"], "maxReplicaCount", "maxReplicas"),
    ),
    "TriggerAuthentication paramter": (
        "TriggerAuthentication",
        lambda d: _rename(
            _first(d, "TriggerAuthentication")["spec"]["secretTargetRef"][0],
            "parameter",
            "paramter",
        ),
    ),
    "Kafka authentification": (
        "Kafka",
        lambda d: _rename(
            _first(d, "Kafka")["spec"]["kafka"]["listeners"][0],
            "authentication",
            "authentification",
        ),
    ),
    "KafkaNodePool role brokers": (
        "KafkaNodePool",
        lambda d: _first(d, "KafkaNodePool")["spec"].__setitem__("roles", ["brokers"]),
    ),
    "KafkaTopic partitons": (
        "KafkaTopic",
        lambda d: _rename(_topic(d)["spec"], "partitions", "partitons"),
    ),
    "KafkaUser operation Raed": (
        "KafkaUser",
        lambda d: _first(d, "KafkaUser")["spec"]["authorization"]["acls"][0].__setitem__(
            "operations", ["Raed"]
        ),
    ),
    "MongoDBCommunity member": (
        "MongoDBCommunity",
        lambda d: _rename(_first(d, "MongoDBCommunity")["spec"], "members", "member"),
    ),
    "MongoDBCommunity tls enable": (
        "MongoDBCommunity",
        lambda d: _rename(
            _first(d, "MongoDBCommunity")["spec"]["security"]["tls"], "enabled", "enable"
        ),
    ),
    "ServiceMonitor targetLable": (
        "ServiceMonitor",
        lambda d: _rename(
            _first(d, "ServiceMonitor")["spec"]["endpoints"][0]["relabelings"][0],
            "targetLabel",
            "targetLable",
        ),
    ),
    "PrometheusRule exp": (
        "PrometheusRule",
        lambda d: _rename(
            _first(d, "PrometheusRule")["spec"]["groups"][0]["rules"][0], "expr", "exp"
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_misspelt_field_fails(case: str, tmp_path: Path) -> None:
    kind, breaker = BROKEN[case]
    docs = copy.deepcopy(render("production"))
    breaker(docs)
    same_kind = of_kind(docs, kind)  # the broken one and its siblings: faster than all
    path = tmp_path / "broken.yaml"
    path.write_text(
        yaml.safe_dump_all(same_kind, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    done = kubeconform(path)
    assert done.returncode != 0, f"{case}: kubeconform accepted the broken copy"
    invalid = [r for r in json.loads(done.stdout)["resources"] if r["status"] != "statusValid"]
    assert [r["kind"] for r in invalid] == [kind], invalid


def test_generated_files_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deploy_manifests.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


# --- Kafka: topics, cluster, users ------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_topics_cover_the_contract(overlay: str) -> None:
    docs = render(overlay)
    cluster = named(docs, "Kafka", "noryoku")["metadata"]["name"]
    topics = {d["spec"]["topicName"]: d for d in of_kind(docs, "KafkaTopic")}
    reads = {t for ts in consumed().values() for t in ts}
    assert set(topics) == published_topics() | reads | {t + ".dlq" for t in reads}
    replicas, isr = (3, 2) if overlay == "production" else (1, 1)
    for name, topic in topics.items():
        spec = topic["spec"]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster, name
        assert spec["replicas"] == replicas, name
        assert spec["config"]["min.insync.replicas"] == isr, name
        first = name.split(".", 1)[0]
        if name.endswith(".dlq"):
            continue
        if first in ("judgement", "document", "application"):
            assert spec["partitions"] == 12, name
    ccus = topics["ccus.worker-snapshots"]["spec"]
    assert ccus["partitions"] == 24
    assert ccus["config"]["cleanup.policy"] == "compact"


def test_kafka_cluster_production() -> None:
    docs = render("production")
    kafka = named(docs, "Kafka", "noryoku")["spec"]["kafka"]
    listeners = [
        item
        for item in kafka["listeners"]
        if item["tls"] and item.get("authentication", {}).get("type") == "scram-sha-512"
    ]
    assert listeners and listeners[0]["port"] == 9093 and listeners[0]["type"] == "internal"
    assert kafka["authorization"]["type"] == "simple"
    config = kafka["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    assert config["transaction.state.log.replication.factor"] == 3
    assert config["transaction.state.log.min.isr"] == 2
    assert config["auto.create.topics.enable"] is False
    roles: dict[str, int] = {}
    for pool in of_kind(docs, "KafkaNodePool"):
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "noryoku"
        for volume in pool["spec"]["storage"]["volumes"]:
            assert volume["type"] == "persistent-claim" and volume["deleteClaim"] is False
        for role in pool["spec"]["roles"]:
            roles[role] = roles.get(role, 0) + pool["spec"]["replicas"]
    assert roles == {"controller": 3, "broker": 3}


def grants(user: Doc) -> set[tuple[str, str, str]]:
    """(resource type, name, operation) of a KafkaUser's ACLs (literal allow rules only)."""
    found = set()
    for rule in user["spec"]["authorization"]["acls"]:
        resource = rule["resource"]
        assert rule.get("type", "allow") == "allow"
        assert resource.get("patternType", "literal") == "literal", resource
        assert resource.get("name") not in (None, "*"), resource
        for operation in rule["operations"]:
            found.add((resource["type"], resource["name"], operation))
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_users_have_exactly_what_the_code_needs(overlay: str) -> None:
    docs = render(overlay)
    users = {u["metadata"]["name"]: u for u in of_kind(docs, "KafkaUser")}
    for deployment in of_kind(docs, "Deployment"):
        for container in containers(deployment):
            env = env_of(container)
            if "KAFKA_SASL_USERNAME" not in env:
                continue
            user = env["KAFKA_SASL_USERNAME"]["value"]
            assert user in users, f"{deployment['metadata']['name']}: no KafkaUser {user}"
            ref = env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == (user, "password")
    for service in ("portal", *BACKEND):
        reads = consumed().get(service, set())
        writes = {t for t in published_topics() if writer(t) == service} - reads
        required = {("topic", t, op) for t in reads for op in ("Read", "Describe")}
        required |= {("topic", t + ".dlq", "Write") for t in reads}
        required |= {("topic", t, op) for t in writes for op in ("Write", "Describe")}
        if reads:
            required.add(("group", service, "Read"))
        allowed = required | {("topic", t, "Write") for t in reads}  # a dead letter's replay
        allowed |= {("topic", t + ".dlq", op) for t in reads for op in ("Read", "Describe")}
        allowed |= {("group", service, op) for op in ("Read", "Describe")}
        granted = grants(users[f"kafka-{service}"])
        assert required <= granted, f"{service} lacks {sorted(required - granted)}"
        assert granted <= allowed, f"{service} may do more: {sorted(granted - allowed)}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_partners_read_their_two_topics_with_their_own_group(overlay: str) -> None:
    docs = render(overlay)
    partners = [
        u
        for u in of_kind(docs, "KafkaUser")
        if u["metadata"]["name"].startswith("partner-") and u["metadata"]["name"] != CCUS_PARTNER
    ]
    if overlay == "production":
        assert partners, "production names no partner"
    for user in partners:
        name = user["metadata"]["name"]
        expected = {("topic", t, op) for t in PARTNER_TOPICS for op in ("Read", "Describe")}
        expected |= {("group", name, "Read")}
        granted = grants(user)
        assert expected <= granted <= expected | {("group", name, "Describe")}, name
    feed = grants(named(docs, "KafkaUser", CCUS_PARTNER))
    assert feed == {("topic", "ccus.worker-snapshots", op) for op in ("Write", "Describe")}


# --- workloads --------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_deployment_per_service_and_role_with_probes_and_resources(overlay: str) -> None:
    docs = render(overlay)
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    expected = {"portal-http"} | {f"{s}-{r}" for s in BACKEND for r in ("http", "consume")}
    assert expected <= set(deployments)
    services = of_kind(docs, "Service")
    budgets = of_kind(docs, "PodDisruptionBudget")
    for name in sorted(expected):
        deployment = deployments[name]
        service, role = name.rsplit("-", 1)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(deployment["spec"]["selector"]["matchLabels"], labels)
        (container,) = containers(deployment)
        args = container["args"]
        assert args[:2] == [service, "serve"], name
        if service != "portal":
            assert args[2:] == ["--role", role], name
        port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
        assert env_of(container)[f"{service.upper()}_HTTP_PORT"]["value"] == str(port)
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            assert container[probe]["httpGet"] == {"path": path, "port": "http"}, name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][part]), (name, part)
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert any(
            selects(s["spec"]["selector"], labels)
            and any(p["targetPort"] in ("http", port) for p in s["spec"]["ports"])
            for s in services
        ), f"{name}: no Service"
        assert any(selects(b["spec"]["selector"]["matchLabels"], labels) for b in budgets), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_http_roles_scale_on_cpu_and_consume_roles_on_lag(overlay: str) -> None:
    docs = render(overlay)
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(docs, "HorizontalPodAutoscaler")
    }
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in of_kind(docs, "ScaledObject")}
    partitions = {
        t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(docs, "KafkaTopic")
    }
    auths = {a["metadata"]["name"] for a in of_kind(docs, "TriggerAuthentication")}
    kafka = named(docs, "Kafka", "noryoku")["metadata"]["name"]
    assert set(hpas) == {"portal-http"} | {f"{s}-http" for s in BACKEND}
    assert set(scaled) == {f"{s}-consume" for s in BACKEND if s in consumed()}
    for name, hpa in hpas.items():
        assert hpa["spec"]["minReplicas"] >= (2 if overlay == "production" else 1), name
    for name, so in scaled.items():
        service = name.removesuffix("-consume")
        spec = so["spec"]
        triggers = spec["triggers"]
        topics = {t["metadata"]["topic"] for t in triggers}
        assert topics == consumed()[service], name
        for trigger in triggers:
            meta = trigger["metadata"]
            assert trigger["type"] == "kafka"
            assert meta["consumerGroup"] == service
            assert meta["bootstrapServers"] == f"{kafka}-kafka-bootstrap:9093"
            assert (meta["sasl"], meta["tls"]) == ("scram_sha512", "enable")
            assert int(meta["lagThreshold"]) > 0
            assert trigger["authenticationRef"]["name"] in auths
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert spec["maxReplicaCount"] <= max(partitions[t] for t in topics), name
    # KEDA's own user may read the offsets of every group it scales and the ends of its topics
    keda = grants(named(docs, "KafkaUser", "kafka-keda"))
    for service in scaled:
        group = service.removesuffix("-consume")
        assert ("group", group, "Describe") in keda
        assert {("topic", t, "Describe") for t in consumed()[group]} <= keda
    username = named(docs, "Secret", "keda-kafka-username")
    assert username.get("data", {}).get("username") or username.get("stringData")


# --- network ----------------------------------------------------------------------------------


Source = tuple[str, dict[str, str], dict[str, str]]  # (namespace, namespace labels, pod labels)
NAMESPACE = "noryoku"


def _peer_matches(peer: Doc, source: Source) -> bool:
    namespace, namespace_labels, pod_labels = source
    for selector in (peer.get("podSelector"), peer.get("namespaceSelector")):
        assert selector is None or not selector.get("matchExpressions"), peer
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"].get("matchLabels", {}), namespace_labels):
            return False
    elif namespace != NAMESPACE:
        return False
    return selects(peer.get("podSelector", {}).get("matchLabels", {}), pod_labels)


def _port_matches(rule: Doc, port: int) -> bool:
    ports = rule.get("ports")
    return not ports or any(p.get("port") in (port, None) for p in ports)


def _allowed(
    policies: list[Doc], pod: dict[str, str], direction: str, peer: Source, port: int
) -> bool:
    kind = direction.capitalize()
    selecting = [
        p
        for p in policies
        if kind in p["spec"].get("policyTypes", ["Ingress"])
        and selects(p["spec"]["podSelector"].get("matchLabels", {}), pod)
    ]
    if not selecting:
        return True
    key = "from" if direction == "ingress" else "to"
    return any(
        _port_matches(rule, port)
        and (key not in rule or any(_peer_matches(p, peer) for p in rule[key]))
        for policy in selecting
        for rule in policy["spec"].get(direction, [])
    )


def _inside(labels: dict[str, str]) -> Source:
    return (NAMESPACE, {"kubernetes.io/metadata.name": NAMESPACE}, labels)


def _namespace(name: str) -> Source:
    return (name, {"kubernetes.io/metadata.name": name}, {"app": "anything"})


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_only_the_calls_the_services_make(overlay: str) -> None:
    docs = render(overlay)
    policies = of_kind(docs, "NetworkPolicy")
    pods = {
        d["metadata"]["name"]: (
            d["spec"]["template"]["metadata"]["labels"],
            containers(d)[0]["ports"][0]["containerPort"],
        )
        for d in of_kind(docs, "Deployment")
        if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/part-of")
    }
    edges = set()
    for src, (src_labels, _) in pods.items():
        for dst, (dst_labels, port) in pods.items():
            if src == dst:
                continue
            ingress = _allowed(policies, dst_labels, "ingress", _inside(src_labels), port)
            egress = _allowed(policies, src_labels, "egress", _inside(dst_labels), port)
            if ingress and egress:
                edges.add((src_labels["app.kubernetes.io/name"], dst))
    expected = {("portal", f"{s}-http") for s in BACKEND} | {("application", "judgement-http")}
    # every service reads identity's public keys and ended sessions (issue 22)
    expected |= {(s, "identity-http") for s in BACKEND if s != "identity"}
    assert edges == expected
    for name, (labels, port) in pods.items():
        from_ingress = _allowed(policies, labels, "ingress", _namespace("ingress-nginx"), port)
        assert from_ingress == (name == "portal-http"), name
        assert _allowed(policies, labels, "ingress", _namespace("monitoring"), port), name
        assert not _allowed(policies, labels, "ingress", _namespace("elsewhere"), port), name
        broker = {"strimzi.io/cluster": "noryoku", "strimzi.io/broker-role": "true"}
        assert _allowed(policies, labels, "egress", _inside(broker), 9093), name
        member = {"app": "noryoku-mongodb-svc"}
        assert _allowed(policies, labels, "egress", _inside(member), 27017), name
        assert _allowed(policies, member, "ingress", _inside(labels), 27017), name
        dns = (
            "kube-system",
            {"kubernetes.io/metadata.name": "kube-system"},
            {"k8s-app": "kube-dns"},
        )
        assert _allowed(policies, labels, "egress", dns, 53), name


# --- MongoDB ----------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_mongodb_replica_set_users_and_connection_strings(overlay: str) -> None:
    docs = render(overlay)
    (mongo,) = of_kind(docs, "MongoDBCommunity")
    spec = mongo["spec"]
    assert spec["type"] == "ReplicaSet"
    assert spec["members"] == (3 if overlay == "production" else 1)
    assert "SCRAM" in spec["security"]["authentication"]["modes"]
    tls = spec["security"]["tls"]
    if overlay == "production":
        assert tls["enabled"] is True
        assert tls["certificateKeySecretRef"]["name"]
        assert tls.get("caConfigMapRef") or tls.get("caCertificateSecretRef")
        ca_file = spec["additionalConnectionStringConfig"]["tlsCAFile"]
        mounted = [
            m["mountPath"]
            for d in of_kind(docs, "Deployment")
            for c in containers(d)
            for m in c.get("volumeMounts", [])
        ]
        assert any(ca_file.startswith(path + "/") for path in mounted)
    users = {u.get("connectionStringSecretName"): u for u in spec["users"]}
    for deployment in of_kind(docs, "Deployment"):
        for container in containers(deployment):
            env = env_of(container)
            if "MONGODB_URL" not in env:
                continue
            ref = env["MONGODB_URL"]["valueFrom"]["secretKeyRef"]
            assert ref["key"] == "connectionString.standard"
            user = users[ref["name"]]
            db = next(v["value"] for k, v in env.items() if k.endswith("_DB_NAME"))
            assert {"name": "readWrite", "db": db} in user["roles"], deployment["metadata"]


# --- secrets ----------------------------------------------------------------------------------


def referenced_secrets(docs: list[Doc]) -> set[tuple[str, str | None]]:
    """(Secret or ConfigMap name, key) every object refers to; key None for a whole one."""
    found: set[tuple[str, str | None]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("secretKeyRef", "configMapKeyRef"):
                if key in node:
                    found.add((node[key]["name"], node[key]["key"]))
            if "secretName" in node:
                found.add((node["secretName"], None))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            walk(doc["spec"]["template"]["spec"])
            for volume in doc["spec"]["template"]["spec"].get("volumes", []):
                if "configMap" in volume and not volume["configMap"].get("optional"):
                    found.add((volume["configMap"]["name"], None))
        elif doc["kind"] == "TriggerAuthentication":
            found |= {(r["name"], r["key"]) for r in doc["spec"]["secretTargetRef"]}
        elif doc["kind"] == "MongoDBCommunity":
            security = doc["spec"]["security"]
            if security["tls"]["enabled"]:
                for key in ("certificateKeySecretRef", "caConfigMapRef", "caCertificateSecretRef"):
                    if key in security["tls"]:
                        found.add((security["tls"][key]["name"], None))
            for user in doc["spec"]["users"]:
                found.add((user["passwordSecretRef"]["name"], user["passwordSecretRef"]["key"]))
        elif doc["kind"] == "Ingress":
            found |= {(t["secretName"], None) for t in doc["spec"].get("tls", [])}
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_is_made_by_an_operator_or_documented(overlay: str) -> None:
    docs = render(overlay)
    made = {d["metadata"]["name"] for d in docs if d["kind"] in ("Secret", "ConfigMap")}
    made |= {u["metadata"]["name"] for u in of_kind(docs, "KafkaUser")}  # Strimzi: password
    made |= {f"{k['metadata']['name']}-cluster-ca-cert" for k in of_kind(docs, "Kafka")}
    made |= {
        u["connectionStringSecretName"]
        for m in of_kind(docs, "MongoDBCommunity")
        for u in m["spec"]["users"]
        if "connectionStringSecretName" in u
    }
    readme = README.read_text(encoding="utf-8")
    loop = re.search(r"for user in ([a-z -]+); do", readme)
    undocumented = []
    for name, key in sorted(referenced_secrets(docs), key=str):
        if name in made:
            continue
        mongo = re.fullmatch(r"mongodb-([a-z]+)-password", name)
        if mongo and loop and mongo.group(1) in loop.group(1).split() and key == "password":
            continue
        if name not in readme or (key is not None and f"{key}=" not in readme):
            undocumented.append(f"{name}:{key}")
    assert not undocumented, f"not made by an operator nor in deploy/README.md: {undocumented}"


# --- settings ---------------------------------------------------------------------------------


def container_environment(docs: list[Doc], container: Doc) -> dict[str, str]:
    """A container's environment as the cluster would give it; secrets made up (strong)."""
    mongo = of_kind(docs, "MongoDBCommunity")[0]
    name, members = mongo["metadata"]["name"], mongo["spec"]["members"]
    hosts = ",".join(
        f"{name}-{i}.{name}-svc.{NAMESPACE}.svc.cluster.local:27017" for i in range(members)
    )
    tls = str(mongo["spec"]["security"]["tls"]["enabled"]).lower()
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config = named(docs, "ConfigMap", source["configMapRef"]["name"])
        environment.update(config.get("data", {}))
    for item in container.get("env", []):
        if "value" in item:
            environment[item["name"]] = item["value"]
        elif item["name"] == "MONGODB_URL":
            environment[item["name"]] = f"mongodb://u:p@{hosts}/admin?replicaSet={name}&ssl={tls}"
        elif item["name"] == "IDENTITY_SIGNING_KEYS":
            environment[item["name"]] = SigningKey.generate().pem()
        else:
            environment[item["name"]] = secrets.token_hex(32)
    return environment


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_accepts_its_container_environment(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = render(overlay)
    ports = {
        s["metadata"]["name"]: s["spec"]["ports"][0]["port"]
        for s in of_kind(docs, "Service")
        if s["spec"].get("clusterIP") != "None"
    }
    workloads = [d for d in of_kind(docs, "Deployment") if d["metadata"]["name"] != "mailpit"]
    workloads += [d for d in of_kind(docs, "Job") if d["metadata"]["name"] == "noryoku-migrate"]
    problems: list[str] = []
    checked = 0
    for workload in workloads:
        for container in containers(workload):
            service = container["name"]
            where = f"{overlay}/{workload['metadata']['name']}/{service}"
            environment = container_environment(docs, container)
            with monkeypatch.context() as m:
                try:
                    settings = load_settings(service, environment, m)
                except ValidationError as exc:
                    problems.append(f"{where} refuses its environment: {exc}")
                    continue
            checked += 1
            assert getattr(settings, "environment") == "production"  # noqa: B009
            problems += [f"{where}: loopback {item}" for item in loopbacks(settings)]
            if getattr(settings, "http_host") != "0.0.0.0":  # noqa: B009
                problems.append(f"{where}: http_host is not 0.0.0.0")
            for field, value in settings:
                if not (field.endswith("_url") and isinstance(value, str)):
                    continue
                url = urlsplit(value)
                internal = url.scheme == "http" and url.hostname in SETTINGS
                if internal and ports.get(url.hostname) != url.port:
                    problems.append(f"{where}: {field}={value}: no such Service port")
    assert checked >= 14
    assert not problems, "\n".join(problems)


# --- monitoring -------------------------------------------------------------------------------


def test_prometheus_rule_is_alerts_yml_and_every_service_is_scraped() -> None:
    docs = render("production")
    (rule,) = of_kind(docs, "PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    (monitor,) = of_kind(docs, "ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["path"] == "/metrics"
    assert {r["targetLabel"] for r in endpoint["relabelings"]} >= {"service"}
    scraped = {
        s["metadata"]["labels"]["app.kubernetes.io/name"]
        + "-"
        + s["metadata"]["labels"]["app.kubernetes.io/component"]
        for s in of_kind(docs, "Service")
        if selects(selector, s["metadata"].get("labels", {}))
        and any(p["name"] == endpoint["port"] for p in s["spec"]["ports"])
    }
    deployments = {
        d["metadata"]["name"]
        for d in of_kind(docs, "Deployment")
        if d["metadata"]["labels"].get("app.kubernetes.io/part-of")
    }
    assert scraped == deployments


def test_local_overlay_loads_the_demo_workers() -> None:
    docs = render("local")
    job = named(docs, "Job", "demo-data")
    (container,) = containers(job)
    script = " ".join(container["args"])
    assert "python -m judgement feed demo" in script
    assert "python -m judgement feed synthetic" in script
    assert env_of(container)["KAFKA_SASL_USERNAME"]["value"] == CCUS_PARTNER
    pools = of_kind(docs, "KafkaNodePool")
    assert [sorted(p["spec"]["roles"]) for p in pools] == [["broker", "controller"]]


def test_ops_one_offs_validate(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(render_text("ops"), encoding="utf-8")
    done = kubeconform(path)
    assert done.returncode == 0, f"kubeconform ops:\n{done.stdout}\n{done.stderr}"
    docs = render("ops")
    job = named(docs, "Job", "judgement-rejudge")
    (container,) = containers(job)
    assert container["args"][:2] == ["judgement", "rejudge"]
    env = env_of(container)
    assert env["MONGODB_URL"]["valueFrom"]["secretKeyRef"]["name"] == "mongodb-judgement"
    assert env["KAFKA_SASL_USERNAME"]["value"] == "kafka-judgement"
    assert container["resources"]["limits"]["memory"] == "8Gi"
    egress = named(docs, "NetworkPolicy", "identity-admin-cli-egress")
    assert egress["spec"]["podSelector"]["matchLabels"]["noryoku-hyoka/admin-cli"] == "true"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_notices_verification_address_is_the_portals(overlay: str) -> None:
    """Only the portal is reachable from outside: the address printed in every notice (and
    its QR code) is the portal's host, which passes /verify on to the document service."""
    docs = render(overlay)
    hosts = {
        rule["host"] for ingress in of_kind(docs, "Ingress") for rule in ingress["spec"]["rules"]
    }
    urls = {
        d["data"]["DOCUMENT_PUBLIC_BASE_URL"]
        for d in of_kind(docs, "ConfigMap")
        if "DOCUMENT_PUBLIC_BASE_URL" in d.get("data", {})
    }
    assert urls and hosts
    for url in urls:
        assert urlsplit(url).hostname in hosts, (url, hosts)
        assert urlsplit(url).path in ("", "/"), url
