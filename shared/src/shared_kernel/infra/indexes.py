"""Indexes for the fields services look documents up by, created at start-up.

Each service declares, as data, the collections it reads and the top-level fields it
filters on by equality (``Runtime.index``; every collection gets ``_id``, every aggregate
collection ``_outbox_due``). :func:`ensure_indexes` makes them exist:

* on **MongoDB** (production): ``create_index`` per field (``_id`` is always indexed);
* on **FerretDB 1.24** (the local stack, CI): FerretDB hands an equality filter to
  PostgreSQL as ``_jsonb -> 'field' @> '"value"'``, which its own btree indexes (what
  ``createIndexes`` makes) cannot serve, so every lookup, even by ``_id``, was a sequential
  scan (129 ms per ``find_one`` at 10,000 documents). A GIN index on the expression
  ``(_jsonb -> 'field')`` serves exactly that operator (3.2 ms, bench/README.md). They are
  created in the PostgreSQL database behind FerretDB (``FERRETDB_POSTGRESQL_URL``), in the
  table FerretDB keeps for the collection (read from its ``_ferretdb_database_metadata``).
  They are made with ``fastupdate = off``: with it on (PostgreSQL's default) a write adds its
  keys to a pending list that every lookup reads through until a vacuum merges it, and under
  the pipeline's steady writes a ``find_one`` by ``_id`` read ~960 blocks (10.7 ms) where the
  merged index needs 2 (issue 24, bench/README.md).

Indexes are an optimisation: a failure is logged (``indexes.failed``) and the service
starts anyway, answering from scans.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, PyMongoError

from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)

Spec = Mapping[str, Sequence[str]]
METADATA_TABLE = "_ferretdb_database_metadata"


async def is_ferretdb(db: AsyncDatabase[Any]) -> bool:
    info = await db.client.admin.command("buildInfo")
    return "ferretdbVersion" in info


async def ensure_indexes(
    db: AsyncDatabase[Any], spec: Spec, *, postgresql_url: str | None
) -> dict[str, list[str]]:
    """Create the declared indexes; returns what exists now per collection (for the log)."""
    try:
        if await is_ferretdb(db):
            if not postgresql_url:
                log.warning("indexes.skipped", reason="FERRETDB_POSTGRESQL_URL not set")
                return {}
            return await _on_ferretdb(db, spec, postgresql_url)
        return await _on_mongodb(db, spec)
    except Exception as exc:  # an optimisation: never a reason not to start
        log.warning("indexes.failed", error=repr(exc)[:300])
        return {}


async def _on_mongodb(db: AsyncDatabase[Any], spec: Spec) -> dict[str, list[str]]:
    done: dict[str, list[str]] = {}
    for collection, fields in spec.items():
        for field in fields:
            if field != "_id":
                await db[collection].create_index(field)
        done[collection] = sorted(set(fields))
    return done


async def _on_ferretdb(db: AsyncDatabase[Any], spec: Spec, url: str) -> dict[str, list[str]]:
    import psycopg

    for collection in spec:  # FerretDB makes the table on first use: make it now
        with contextlib.suppress(CollectionInvalid, PyMongoError):  # exists already
            await db.create_collection(collection)
    done: dict[str, list[str]] = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        tables = await _tables(conn, db.name)
        for collection, fields in spec.items():
            table = tables.get(collection)
            if table is None:
                log.warning("indexes.no_table", collection=collection, database=db.name)
                continue
            for field in sorted(set(fields)):
                await _gin(conn, db.name, table, field)
            done[collection] = sorted(set(fields))
    return done


async def _tables(conn: Any, schema: str) -> dict[str, str]:
    """FerretDB's collection → table map of one database (a PostgreSQL schema)."""
    from psycopg import sql

    query = sql.SQL("SELECT _jsonb->>'_id', _jsonb->>'table' FROM {}.{}").format(
        sql.Identifier(schema), sql.Identifier(METADATA_TABLE)
    )
    async with conn.cursor() as cur:
        await cur.execute(query)
        return {name: table for name, table in await cur.fetchall()}


def index_name(table: str, field: str) -> str:
    """A PostgreSQL index name (≤ 63 bytes), stable per table and field."""
    digest = hashlib.sha1(f"{table}/{field}".encode()).hexdigest()[:10]
    return f"{table[:40]}_gin_{digest}"


async def _gin(conn: Any, schema: str, table: str, field: str) -> None:
    from psycopg import errors, sql

    name = index_name(table, field)
    statement = sql.SQL(
        "CREATE INDEX IF NOT EXISTS {} ON {}.{} USING gin ((_jsonb -> {})) WITH (fastupdate = off)"
    ).format(
        sql.Identifier(name), sql.Identifier(schema), sql.Identifier(table), sql.Literal(field)
    )
    # another instance of the service may create it at the same moment
    with contextlib.suppress(errors.UniqueViolation, errors.DuplicateTable):
        await conn.execute(statement)
    # an index made before fastupdate was turned off: off now, and its pending list merged
    qualified = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))
    await conn.execute(sql.SQL("ALTER INDEX {} SET (fastupdate = off)").format(qualified))
    await conn.execute(
        sql.SQL("SELECT gin_clean_pending_list({}::regclass)").format(
            sql.Literal(f'"{schema}"."{name}"')
        )
    )


async def purge_version_claims(
    db: AsyncDatabase[Any], collection: str, before: datetime, *, postgresql_url: str | None
) -> int:
    """Delete the version claims (``shared_kernel.infra.mongo``) taken before ``before`` in
    one statement in FerretDB's table; how many. Nothing on MongoDB, where no claims are
    taken, or without ``postgresql_url``."""
    if not postgresql_url or not await is_ferretdb(db):
        return 0
    import psycopg
    from psycopg import sql

    async with await psycopg.AsyncConnection.connect(postgresql_url, autocommit=True) as conn:
        table = (await _tables(conn, db.name)).get(collection)
        if table is None:
            return 0
        # FerretDB keeps a date as milliseconds in the jsonb (``{"at": 1796688613957}``)
        statement = sql.SQL("DELETE FROM {}.{} WHERE (_jsonb -> 'at')::numeric < %s").format(
            sql.Identifier(db.name), sql.Identifier(table)
        )
        async with conn.cursor() as cur:
            await cur.execute(statement, (int(before.timestamp() * 1000),))
            return int(cur.rowcount or 0)
