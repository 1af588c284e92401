"""The Grafana dashboard and the alert rules only query series our services define.

Every metric name in a PromQL expression of ``deploy/grafana/dashboards/*.json`` and
``deploy/prometheus/alerts.yml`` must be one that prometheus_client registers once every module
defining metrics is imported (found by scanning the services' and shared_kernel's sources), and
every label an expression matches or groups by must be one of those metrics' labels or a scrape
label. The dashboard must show every series the operations issue names, with unique panel ids,
non-overlapping panels and the provisioned Prometheus datasource.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "noryoku-services.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
SOURCES = [ROOT / "shared" / "src", *sorted((ROOT / "services").glob("*/src"))]

# Labels Prometheus adds at scrape time (prometheus.yml: job, instance and the target's service).
SCRAPE_LABELS = {"job", "instance", "service"}
# Series Prometheus itself produces for every target.
SYNTHETIC = {"up"}
METRIC_KINDS = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}


# --- the metrics our code defines -------------------------------------------------------------


def defines_metrics(path: Path) -> bool:
    """Whether a module builds prometheus_client metrics (``from prometheus_client import
    Counter`` … or ``prometheus_client.Counter(`` …)."""
    text = path.read_text(encoding="utf-8")
    if "prometheus_client" not in text:
        return False
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "prometheus_client"
            and {alias.name for alias in node.names} & METRIC_KINDS
        ):
            return True
        if (
            isinstance(node, ast.Attribute)
            and node.attr in METRIC_KINDS
            and isinstance(node.value, ast.Name)
            and node.value.id == "prometheus_client"
        ):
            return True
    return False


@cache
def metric_modules() -> tuple[str, ...]:
    names = []
    for src in SOURCES:
        for path in sorted(src.rglob("*.py")):
            if defines_metrics(path):
                parts = path.relative_to(src).with_suffix("").parts
                names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return tuple(names)


@cache
def defined_metrics() -> dict[str, frozenset[str]]:
    """Series name → its label names, for every metric registered by our modules."""
    labels: dict[str, frozenset[str]] = {}
    for name in metric_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, MetricWrapperBase):
                # _name is the family name (a counter's without _total), _labelnames the
                # declared labels: prometheus_client has no public accessor for either
                labels[value._name] = frozenset(value._labelnames)
    series: dict[str, frozenset[str]] = {}
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            extra = {"le"} if suffix == "_bucket" else set()
            series[family.name + suffix] = labels.get(family.name, frozenset()) | extra
    return series


# --- PromQL, read just far enough to name its metrics and labels ------------------------------

STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
MATCHERS = re.compile(r"\{([^{}]*)\}")
MATCHER_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)", re.IGNORECASE
)
RANGE = re.compile(r"\[[^\]]*\]")
IDENTIFIER = re.compile(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)\b(?!\s*\()")
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "and", "or", "unless", "inf", "nan", "atan2", "start", "end",
}  # fmt: skip


def parse(expr: str) -> tuple[set[str], set[str]]:
    """(metric names, label names) of a PromQL expression (Grafana variables allowed)."""
    text = STRING.sub('""', expr)
    labels = {m for block in MATCHERS.findall(text) for m in MATCHER_LABEL.findall(block)}
    labels |= {label.strip() for group in GROUPING.findall(text) for label in group.split(",")} - {
        ""
    }
    text = MATCHERS.sub(" ", text)
    text = GROUPING.sub(" ", text)
    text = RANGE.sub(" ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)  # $service, ${__range} outside brackets
    metrics = {name for name in IDENTIFIER.findall(text) if name.lower() not in KEYWORDS}
    return metrics, labels


def test_parse_reads_metrics_and_labels() -> None:
    metrics, labels = parse(
        "histogram_quantile(0.95, sum by (service, route, le) (rate(http_request_duration_"
        'seconds_bucket{service=~"$service", route!~"/a|/b"}[$__rate_interval]))) / on (service)'
        " group_left max without (instance) (up offset 5m) > bool 1000"
    )
    assert metrics == {"http_request_duration_seconds_bucket", "up"}
    assert labels == {"service", "route", "le", "instance"}


def dashboard_exprs(path: Path) -> Iterator[tuple[str, str]]:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    for panel in all_panels(dashboard):
        for target in panel.get("targets", []):
            yield f"{path.name} panel {panel['id']} {panel['title']!r}", target["expr"]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "query" and query:
            # label_values(<series selector>, <label>): the selector is PromQL
            inner = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query)
            yield f"{path.name} variable {variable['name']}", inner.group(1) if inner else query


def alert_exprs() -> Iterator[tuple[str, str]]:
    for group in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]:
        for rule in group["rules"]:
            yield f"alerts.yml {rule.get('alert') or rule.get('record')}", rule["expr"]


def all_exprs() -> list[tuple[str, str]]:
    exprs = [e for path in DASHBOARDS for e in dashboard_exprs(path)]
    return [*exprs, *alert_exprs()]


def all_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels inside


def test_metric_modules_found() -> None:
    modules = set(metric_modules())
    assert {
        "shared_kernel.infra.metrics",
        "notification.metrics",
        "document.adapters.outbound.metrics",
        "judgement.adapters.outbound.metrics",
    } <= modules, modules


@pytest.mark.parametrize(("where", "expr"), all_exprs(), ids=[w for w, _ in all_exprs()])
def test_expression_uses_defined_metrics_and_labels(where: str, expr: str) -> None:
    metrics, labels = parse(expr)
    assert metrics, f"{where}: no metric found in {expr!r}"
    defined = defined_metrics()
    unknown = sorted(metrics - SYNTHETIC - defined.keys())
    assert not unknown, f"{where}: {unknown} is defined by no service's metrics ({expr!r})"
    allowed = SCRAPE_LABELS.union(*(defined.get(m, frozenset()) for m in metrics))
    stray = sorted(labels - allowed)
    assert not stray, f"{where}: label(s) {stray} belong to none of {sorted(metrics)} ({expr!r})"


# --- the dashboard ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.name for p in DASHBOARDS])
def test_dashboard_panels_are_unique_placed_and_on_prometheus(path: Path) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    panels = list(all_panels(dashboard))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(ids)}"
    cells: dict[tuple[int, int], int] = {}
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, f"panel {panel['id']} is off the grid"
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                other = cells.setdefault((x, y), panel["id"])
                assert other == panel["id"], f"panels {other} and {panel['id']} overlap at {x},{y}"
        if panel["type"] == "row":
            continue
        assert panel.get("datasource", {}).get("uid") == "prometheus", panel["title"]
        assert panel["targets"], f"panel {panel['id']} {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target.get("datasource", {}).get("uid") == "prometheus", panel["title"]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            assert variable["datasource"]["uid"] == "prometheus", variable["name"]


# (metric, a fragment its expression must contain) for every series the operations issue names.
REQUIRED = [
    ("http_requests_total", "by (service, route)"),  # request rate per route
    ("http_requests_total", 'status=~"[45].."'),  # errors per route
    ("http_requests_total", 'status=~"5.."'),
    ("http_request_duration_seconds_bucket", "route"),  # latency per route
    ("events_consumed_total", 'outcome="handled"'),
    ("events_consumed_total", "failed"),
    ("events_consumed_total", 'outcome="retried"'),
    ("events_consumed_total", 'outcome="dead_lettered"'),
    ("events_consumed_total", 'outcome="duplicate"'),  # inbox duplicates skipped
    ("event_handler_duration_seconds_bucket", "topic, group"),
    ("kafka_consumer_lag", "partition"),
    ("kafka_consumer_lag_total", "topic, group"),
    ("outbox_pending_events", "collection"),
    ("outbox_oldest_pending_age_seconds", "collection"),
    ("notification_mails_sent_total", "template"),
    ("notification_mails_failed_total", "template"),
    ("pdfs_generated_total", "kind"),
    ("judgements_completed_total", "trade"),
    ("judgements_completed_total", "eligible_level"),
    ("judgements_completed_total", "decision"),
]


@pytest.mark.parametrize(("metric", "fragment"), REQUIRED, ids=[f"{m} {f}" for m, f in REQUIRED])
def test_dashboard_shows_every_named_series(metric: str, fragment: str) -> None:
    exprs = [expr for _, expr in dashboard_exprs(DASHBOARD)]
    assert any(metric in parse(expr)[0] and fragment in expr for expr in exprs), (
        f"no panel of {DASHBOARD.name} queries {metric} with {fragment!r}"
    )


def test_event_panels_are_per_topic_and_group() -> None:
    """Handled, failures, retries, dead letters, duplicates and lag each by topic and group."""
    exprs = [expr for _, expr in dashboard_exprs(DASHBOARD)]
    for outcome in ("handled", "retried", "dead_lettered", "duplicate"):
        assert any(
            f'outcome="{outcome}"' in expr and "by (topic, group)" in expr for expr in exprs
        ), outcome


def test_alerts_cover_lag_outbox_dead_letters_and_errors() -> None:
    exprs = dict(alert_exprs())
    used = {metric for expr in exprs.values() for metric in parse(expr)[0]}
    assert {
        "kafka_consumer_lag_total",
        "outbox_oldest_pending_age_seconds",
        "events_consumed_total",
        "http_requests_total",
        "up",
    } <= used, used
    assert any("dead_lettered" in expr for expr in exprs.values())
    assert any('status=~"5.."' in expr for expr in exprs.values())
