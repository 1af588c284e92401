"""Lookup indexes at start-up (shared_kernel.infra.indexes) on the real database.

On the local stack (FerretDB 1.24 on PostgreSQL) they are GIN indexes on
``(_jsonb -> 'field')`` in FerretDB's table for the collection; on MongoDB plain indexes.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from shared_kernel.infra.indexes import ensure_indexes, index_name, is_ferretdb
from shared_kernel.infra.runtime import build_runtime
from shared_kernel.infra.settings import ServiceSettings

SPEC = {"judgements": ["_id", "employer_id", "status"], "inbox": ["_id"]}


async def _pg_indexes(url: str, schema: str) -> dict[str, str]:
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)
        )
        return {name: definition for name, definition in await cur.fetchall()}


async def _plan(url: str, schema: str, table: str, field: str, value: str) -> str:
    """PostgreSQL's plan for the condition FerretDB pushes down for ``{field: value}``."""
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.cursor() as cur:
        await cur.execute("SET enable_seqscan = off")
        query = f'EXPLAIN SELECT _jsonb FROM "{schema}"."{table}" WHERE _jsonb -> %s @> %s'
        await cur.execute(query.encode(), (field, f'"{value}"'))
        return "\n".join(row[0] for row in await cur.fetchall())


async def test_ferretdb_lookups_get_gin_indexes(settings: ServiceSettings, db: Any) -> None:
    if not await is_ferretdb(db):
        pytest.skip("MongoDB: covered by test_mongodb_gets_plain_indexes")
    url = settings.ferretdb_postgresql_url
    assert url
    await db["judgements"].insert_one({"_id": "A-1-1", "employer_id": "1", "status": "x"})
    created = await ensure_indexes(db, SPEC, postgresql_url=url)
    assert created == {"judgements": ["_id", "employer_id", "status"], "inbox": ["_id"]}
    again = await ensure_indexes(db, SPEC, postgresql_url=url)  # idempotent
    assert again == created
    indexes = await _pg_indexes(url, settings.db_name)
    gin = {name: d for name, d in indexes.items() if "USING gin" in d}
    assert len(gin) == 4, indexes
    table = next(d for d in gin.values() if "employer_id" in d).split(" ON ")[1].split(" ")[0]
    table = table.split(".")[1].strip('"')
    assert index_name(table, "employer_id") in gin
    # no pending list: every lookup would read through it until a vacuum (issue 24)
    assert all("fastupdate=off" in d for d in gin.values()), gin
    # the condition FerretDB sends for find_one({"_id": …}) can use the index
    plan = await _plan(url, settings.db_name, table, "_id", "A-1-1")
    assert "Index Scan" in plan, plan
    # and the documents are still found through FerretDB
    assert (await db["judgements"].find_one({"_id": "A-1-1"}))["status"] == "x"
    assert await db["judgements"].count_documents({"employer_id": "1"}) == 1


async def test_no_postgresql_url_or_unreachable_is_not_fatal(
    settings: ServiceSettings, db: Any
) -> None:
    if not await is_ferretdb(db):
        pytest.skip("FerretDB only")
    assert await ensure_indexes(db, SPEC, postgresql_url=None) == {}
    unreachable = "postgresql://ferretdb:ferretdb@127.0.0.1:9/ferretdb?connect_timeout=2"
    assert await ensure_indexes(db, SPEC, postgresql_url=unreachable) == {}


async def test_mongodb_gets_plain_indexes(settings: ServiceSettings, db: Any) -> None:
    if await is_ferretdb(db):
        pytest.skip("FerretDB: covered by test_ferretdb_lookups_get_gin_indexes")
    await ensure_indexes(db, SPEC, postgresql_url=None)
    info = await db["judgements"].index_information()
    assert {"employer_id_1", "status_1"} <= set(info)


def test_runtime_declares_what_services_read(settings: ServiceSettings) -> None:
    runtime = build_runtime(settings)
    runtime.store("judgements", "employer_id")
    runtime.index("sessions", "login_id")
    assert runtime.indexes == {
        "inbox": {"_id"},
        "_version_claims": {"_id"},
        "judgements": {"_id", "_outbox_due", "employer_id"},
        "sessions": {"_id", "login_id"},
    }
