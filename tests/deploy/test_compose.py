"""docker-compose.yml (+ compose.ha.yml) rendered with .env.example, checked against the code.

The files are rendered by the real Compose client where one works offline (``docker compose
config --format json``, else Debian's ``docker-compose config``), and always by a small
renderer of our own (YAML, ``${VAR…}`` substitution, override merge), which is compared with
the client's result when there is one. Every service's pydantic settings class is then loaded
from its rendered environment with APP_ENV=production:

* with .env.example's secrets filled in: no refusal, no loopback address anywhere, every
  service URL names a compose service on its port;
* with .env.example as it is: every service refuses its placeholders.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError

from shared_kernel.infra.auth import SigningKey
from tests.deploy.settings_env import SETTINGS, load_settings, loopbacks
from tests.deploy.tools import ROOT, missing

COMPOSE = ROOT / "docker-compose.yml"
HA = ROOT / "compose.ha.yml"
ENV_EXAMPLE = ROOT / ".env.example"
IMAGE = "noryoku-hyoka"

# --- rendering --------------------------------------------------------------------------------


def env_file(values: dict[str, str], tmp_path: Path) -> Path:
    path = tmp_path / "compose.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def read_env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


def filled(values: dict[str, str]) -> dict[str, str]:
    """.env.example with every placeholder secret replaced by a fresh random one."""
    return {k: (_secret(k) if v.startswith("changethis") else v) for k, v in values.items()}


def _secret(name: str) -> str:
    if name == "IDENTITY_SIGNING_KEYS":  # a PEM key on one line, as .env.example says
        return SigningKey.generate().pem().replace("\n", "\\n")
    return secrets.token_hex(32)


_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_]\w*)")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's substitution: ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, $V and $$."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        value = env.get(name)
        if op in (":-", ":?") and not value:
            value = None
        if value is not None:
            return value
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            raise ValueError(f"required variable {name} is missing: {arg}")
        return ""

    return _VAR.sub(one, text)


def _substitute(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_substitute(n, env) for n in node]
    if isinstance(node, dict):
        return {k: _substitute(v, env) for k, v in node.items()}
    return node


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return override


def _normalise(config: dict[str, Any]) -> dict[str, Any]:
    for service in config["services"].values():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        service["environment"] = {
            k: "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in environment.items()
        }
    return config


def render_python(files: list[Path], env: dict[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data = {k: v for k, v in data.items() if not k.startswith("x-")}
        config = _merge(config, _substitute(data, env))
    return _normalise(config)


def _clean_env() -> dict[str, str]:
    """The client's own environment: nothing of ours leaks in from the shell."""
    return {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}


def render_cli(files: list[Path], env_path: Path) -> dict[str, Any] | None:
    """The real client's rendering, or None when no client works here."""
    args = [a for f in files for a in ("-f", str(f))]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, env=_clean_env()
        )
        if probe.returncode == 0:
            done = subprocess.run(
                [
                    docker,
                    "compose",
                    "--env-file",
                    str(env_path),
                    *args,
                    "config",
                    "--format",
                    "json",
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env=_clean_env(),
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
            return _normalise(json.loads(done.stdout))
    legacy = shutil.which("docker-compose")
    if legacy:
        done = subprocess.run(
            [legacy, "--env-file", str(env_path), *args, "config"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_clean_env(),
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return _normalise(yaml.safe_load(done.stdout))
    return None


_RENDERED: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = {}


def rendering(which: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(which, our rendering, the client's or None) of the base file or base + HA."""
    if which not in _RENDERED:
        files = [COMPOSE] if which == "base" else [COMPOSE, HA]
        values = filled(read_env_example())
        path = env_file(values, tmp_path_factory.mktemp("compose"))
        _RENDERED[which] = (which, render_python(files, values), render_cli(files, path))
    return _RENDERED[which]


@pytest.fixture(params=["base", "ha"])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return rendering(request.param, tmp_path_factory)


def our_services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: s
        for name, s in config["services"].items()
        if str(s.get("image", "")).split(":")[0].endswith(IMAGE)
    }


# --- tests ------------------------------------------------------------------------------------


def test_every_container_of_our_image_has_a_settings_class(rendered: Any) -> None:
    _, config, _ = rendered
    assert set(our_services(config)) == set(SETTINGS)


def test_our_renderer_agrees_with_the_compose_client(rendered: Any) -> None:
    which, ours, theirs = rendered
    if theirs is None:
        missing(
            "no Compose client (`docker compose` or docker-compose; deploy/local/install.sh "
            "installs Debian's docker-compose): only our own renderer checked the files"
        )
    assert set(ours["services"]) == set(theirs["services"]), which
    for name, service in ours["services"].items():
        assert service["environment"] == theirs["services"][name]["environment"], name


def test_each_service_accepts_its_environment_in_production(
    rendered: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    which, ours, theirs = rendered
    config = theirs or ours
    services = our_services(config)
    ports = {
        name: s["environment"].get(f"{name.upper()}_HTTP_PORT")
        for name, s in services.items()
        if name in SETTINGS and name != "demo-data"
    }
    problems: list[str] = []
    for name, service in sorted(services.items()):
        environment = service["environment"]
        assert environment.get("APP_ENV") == "production", name
        with monkeypatch.context() as m:
            try:
                settings = load_settings(name, environment, m)
            except ValidationError as exc:
                problems.append(f"{which}/{name} refuses its environment: {exc}")
                continue
        assert getattr(settings, "environment") == "production"  # noqa: B009
        problems += [f"{which}/{name}: loopback {item}" for item in loopbacks(settings)]
        if name != "demo-data" and getattr(settings, "http_host") != "0.0.0.0":  # noqa: B009
            problems.append(f"{which}/{name}: http_host must be 0.0.0.0 in a container")
        for field, value in settings:
            if not (field.endswith("_url") and isinstance(value, str) and "://" in value):
                continue
            url = urlsplit(value)
            if url.hostname in ports and str(url.port) != ports[url.hostname]:
                problems.append(f"{which}/{name}: {field}={value}: not the service's port")
    assert not problems, "\n".join(problems)


def test_the_placeholders_of_env_example_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    config = render_python([COMPOSE], read_env_example())
    accepted = []
    holders = []
    for name, service in our_services(config).items():
        environment = service["environment"]
        if not any(str(v).startswith("changethis") for v in environment.values()):
            continue  # a service without any secret (issue 22: no shared token secret)
        holders.append(name)
        with monkeypatch.context() as m:
            try:
                load_settings(name, service["environment"], m)
            except ValidationError:
                continue
        accepted.append(name)
    assert not accepted, f"production settings accept .env.example's placeholders: {accepted}"
    assert sorted(holders) == ["document", "identity", "portal"]  # each its own secret


def test_env_example_names_every_variable_the_compose_files_read() -> None:
    documented = set(read_env_example())
    used = {
        m.group(1)
        for path in (COMPOSE, HA)
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
        for m in _VAR.finditer(line)
        if m.group(1)
    }
    assert used <= documented, f"not in .env.example: {sorted(used - documented)}"


def test_without_env_the_compose_file_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match=r"copy \.env\.example to \.env and set [A-Z_]+"):
        render_python([COMPOSE], {})


def test_infrastructure_start_order(rendered: Any) -> None:
    _, ours, theirs = rendered
    config = theirs or ours
    services = config["services"]
    assert "--replSet" in services["mongodb"]["command"]
    assert "rs0" in services["mongodb"]["command"]
    assert "rs.initiate" in " ".join(services["mongodb-init"]["command"])
    for name in our_services(config):
        depends = services[name]["depends_on"]
        assert depends["kafka-init"]["condition"] == "service_completed_successfully", name
        if name != "demo-data":
            assert depends["mongodb-init"]["condition"] == "service_completed_successfully"
        assert "replicaSet=rs0" in services[name]["environment"]["MONGODB_URL"], name
    demo = " ".join(services["demo-data"]["command"])
    assert "python -m judgement feed demo" in demo
    assert "python -m judgement feed synthetic" in demo
    for name in ("kafka", "mongodb", "prometheus", "grafana", "mailpit"):
        assert name in services


def test_ha_runs_three_brokers_replication_3_min_isr_2(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _, ours, theirs = rendering("ha", tmp_path_factory)
    config = theirs or ours
    services = config["services"]
    brokers = [n for n in services if n == "kafka" or re.fullmatch(r"kafka-\d", n)]
    assert len(brokers) == 3
    ids = {services[b]["environment"]["KAFKA_NODE_ID"] for b in brokers}
    assert len(ids) == 3
    for broker in brokers:
        env = services[broker]["environment"]
        voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
        assert sorted(v.split("@")[1].split(":")[0] for v in voters) == sorted(brokers)
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
    init = services["kafka-init"]["environment"]
    assert (init["TOPIC_REPLICATION_FACTOR"], init["TOPIC_MIN_ISR"]) == ("3", "2")
    for name in our_services(config):
        servers = services[name]["environment"]["KAFKA_BOOTSTRAP_SERVERS"].split(",")
        assert sorted(s.split(":")[0] for s in servers) == sorted(brokers), name
