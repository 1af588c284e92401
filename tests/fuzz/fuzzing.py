"""Schema-driven fuzzing of a service's HTTP API, in process, on the real infrastructure.

Schemathesis generates the requests from the service's own OpenAPI document (valid ones
and, in its negative mode, ones that break the schema). They are sent through
``httpx.ASGITransport`` to the real app, started with its lifespan (Kafka, database) on
the test's event loop. Schemathesis's own ASGI transport is not used: it drives the app
through Starlette's synchronous ``TestClient`` on another event loop, where the app's
Kafka and database clients (bound to the loop that started them) cannot run.

Checks on every response: no 5xx, no Python traceback in the body, and every 4xx in the
stable error shape ``{"code": str, "message": str}`` with a Japanese message. For every
unsafe request (POST, PUT, PATCH, DELETE) that is refused, the service's database must
be unchanged (bookkeeping fields of the outbox left aside).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
BOOKKEEPING = {"_outbox", "_outbox_pending", "_outbox_due"}
# the store's version claims (shared_kernel.infra.mongo): taken and released by any write attempt
# the store's version claims, and the outbox relay's lease (renewed while the service runs)
BOOKKEEPING_COLLECTIONS = {"_version_claims", "leases"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
SUMMARY = ARTIFACTS / "fuzz-summary.json"
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")


@dataclass
class Tally:
    """What one service's fuzzing sent and got."""

    service: str
    operations: int = 0
    requests: int = 0
    refused_unsafe_checked: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "requests": self.requests,
            "refused_unsafe_requests_checked_for_writes": self.refused_unsafe_checked,
            "statuses": dict(sorted(self.statuses.items())),
            "failures": len(self.failures),
            "seconds": {k: round(v, 1) for k, v in sorted(self.seconds.items())},
        }


def record(tally: Tally) -> None:
    """Add a service's counts to ``var/test-artifacts/fuzz-summary.json``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    if SUMMARY.exists():
        try:
            summary = json.loads(SUMMARY.read_text(encoding="utf-8"))
        except ValueError:
            summary = {}
    summary[tally.service] = tally.as_json()
    SUMMARY.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


def draw(operation: Any, mode: GenerationMode, count: int, seed: int, **fixed: Any) -> list[Any]:
    """``count`` generated cases of one operation (generation only; nothing is sent)."""
    cases: list[Any] = []
    strategy = operation.as_strategy(generation_mode=mode, **fixed)

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(strategy)
    def collect(case: Any) -> None:
        cases.append(case)

    collect._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    # a schema part schemathesis cannot generate for: keep what it made
    with contextlib.suppress(Exception):
        collect()
    return cases[:count]


def check(response: httpx.Response, label: str) -> list[str]:
    """The response checks; the problems found (empty when the response is fine)."""
    problems: list[str] = []
    body = response.text
    if response.status_code >= 500:
        problems.append(f"{label}: HTTP {response.status_code}: {body[:300]}")
    if TRACEBACK.search(body):
        problems.append(f"{label}: traceback in the body: {body[:300]}")
    if 400 <= response.status_code < 500:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            problems.append(f"{label}: {response.status_code} is not a JSON object: {body[:200]}")
        else:
            code, message = payload.get("code"), payload.get("message")
            if not isinstance(code, str) or not code:
                problems.append(f"{label}: {response.status_code} without a code: {body[:200]}")
            if not isinstance(message, str) or not JAPANESE.search(message):
                problems.append(
                    f"{label}: {response.status_code} without a Japanese message: {body[:200]}"
                )
    return problems


def _strip(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k not in BOOKKEEPING}
    return doc


async def snapshot(db: Any, skip: Iterable[str] = ()) -> dict[str, list[Any]]:
    """Every document of the database, bookkeeping fields of the outbox removed."""
    skipped = set(skip) | BOOKKEEPING_COLLECTIONS
    names = sorted(n for n in await db.list_collection_names() if n not in skipped)
    out: dict[str, list[Any]] = {}
    for name in names:
        docs = await db[name].find({}).to_list(None)
        out[name] = sorted((_strip(d) for d in docs), key=lambda d: repr(d.get("_id")))
    return out


def to_httpx(case: Any) -> dict[str, Any]:
    """Schemathesis's ``requests``-style keyword arguments as ``httpx`` ones."""
    kwargs = case.as_transport_kwargs(base_url="http://fuzz")
    out: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": {k: str(v) for k, v in (kwargs.get("headers") or {}).items()},
    }
    if kwargs.get("params"):
        out["params"] = kwargs["params"]
    if kwargs.get("cookies"):
        out["cookies"] = kwargs["cookies"]
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        out["content"] = data if isinstance(data, bytes | str) else json.dumps(data)
    if kwargs.get("files"):
        out["files"] = kwargs["files"]
    return out


@dataclass
class Target:
    """One running service to fuzz."""

    service: str
    app: Any
    client: httpx.AsyncClient
    db: Any
    tokens: Mapping[str, str]  # role → bearer token
    path_seeds: Mapping[str, list[str]] = field(default_factory=dict)  # parameter → real ids
    skip_collections: tuple[str, ...] = ()
    skip_operations: tuple[str, ...] = ("GET /metrics",)
    examples: int = 12
    seed: int = 20261204
    before_each: Callable[[], Any] | None = None


def _label(case: Any) -> str:
    return f"{case.method.upper()} {case.formatted_path}"


def _on(case: Any, names: list[str], seeds: Mapping[str, list[str]], i: int) -> Any:
    """A copy of ``case`` whose path parameters ``names`` are real ids."""
    return case.operation.Case(
        method=case.method,
        path_parameters={
            **(case.path_parameters or {}),
            **{n: seeds[n][i % len(seeds[n])] for n in names},
        },
        headers=dict(case.headers or {}),
        cookies=case.cookies,
        query=case.query,
        body=case.body,
        media_type=case.media_type,
    )


async def _roles_for(target: Target, cases: list[Any]) -> list[str | None]:
    """Roles whose token gets past authentication for this operation (probed once)."""
    if not cases:
        return [None]
    allowed: list[str | None] = []
    for role, token in target.tokens.items():
        kwargs = to_httpx(cases[0])
        kwargs["headers"]["Authorization"] = f"Bearer {token}"
        try:
            response = await target.client.request(**kwargs)
        except Exception:
            continue
        if response.status_code not in (401, 403):
            allowed.append(role)
    return allowed or [None]


async def _timed_snapshot(target: Target, tally: Tally) -> dict[str, list[Any]]:
    started = time.perf_counter()
    try:
        return await snapshot(target.db, target.skip_collections)
    finally:
        tally.seconds["snapshots"] += time.perf_counter() - started


async def _send(target: Target, tally: Tally, case: Any, role: str | None) -> int | None:
    """Send one case and check the response; its status (None when not sent)."""
    try:
        kwargs = to_httpx(case)
    except Exception:  # not serialisable (schemathesis's negative mode): not sent
        return None
    if role is not None:
        kwargs["headers"]["Authorization"] = f"Bearer {target.tokens[role]}"
    label = f"{_label(case)} as {role or 'anonymous'}"
    started = time.perf_counter()
    try:
        response = await target.client.request(**kwargs)
    except httpx.HTTPError as exc:
        tally.failures.append(f"{label}: transport error {exc!r}")
        return None
    except Exception as exc:  # an exception out of the app: a 500 for a real client
        tally.failures.append(f"{label}: unhandled {exc!r} for {kwargs!r:.300}")
        return None
    finally:
        tally.seconds["sending"] += time.perf_counter() - started
    tally.requests += 1
    tally.statuses[f"{response.status_code // 100}xx"] += 1
    tally.failures += [f"{p} (request {kwargs!r:.300})" for p in check(response, label)]
    return response.status_code


async def fuzz(target: Target) -> Tally:
    """Fuzz every operation of the target's OpenAPI document; return the tally."""
    schema = schemathesis.openapi.from_dict(target.app.openapi())
    tally = Tally(target.service)
    for result in schema.get_all_operations():
        operation = result.ok()
        name = f"{operation.method.upper()} {operation.path}"
        if name in target.skip_operations:
            continue
        tally.operations += 1
        started = time.perf_counter()
        positive = draw(operation, GenerationMode.POSITIVE, target.examples, target.seed)
        negative = draw(operation, GenerationMode.NEGATIVE, target.examples, target.seed)
        tally.seconds["generating"] += time.perf_counter() - started
        roles = await _roles_for(target, positive[:1])
        names = [p.name for p in operation.path_parameters if p.name in target.path_seeds]
        batches: list[list[Any]] = [positive, negative]
        if names:  # the same cases again on real ids, to get past the lookups
            for cases in (positive, negative):
                batches.append(
                    [
                        _on(case, names, target.path_seeds, i)
                        for i, case in enumerate(cases[: max(2, len(cases) // 2)])
                    ]
                )
        unsafe = operation.method.upper() in UNSAFE
        for batch in batches:
            if not batch:
                continue
            before = await _timed_snapshot(target, tally) if unsafe else None
            statuses = [
                await _send(target, tally, case, roles[i % len(roles)])
                for i, case in enumerate(batch)
            ]
            if before is None:
                continue
            sent = [s for s in statuses if s is not None]
            if sent and all(400 <= s < 500 for s in sent):
                # a batch of refused writes: the stored data must be exactly as before
                tally.refused_unsafe_checked += len(sent)
                after = await _timed_snapshot(target, tally)
                if after != before:
                    changed = sorted(
                        k for k in after.keys() | before.keys() if after.get(k) != before.get(k)
                    )
                    tally.failures.append(
                        f"{name}: {len(sent)} refused requests, yet the data changed in {changed}"
                    )
    record(tally)
    return tally
