"""A cache of rendered public pages, retired by the commit that changes what they show.

Domains name their tables with `watch()`. Any flush or bulk statement that writes one
of them bumps the single `cache_generation` row in the same transaction, and cached
pages are stored under the generation they were made at: once the change commits,
the next request in any process reads the new number and misses. Entries live in this
process's memory, or in Redis when FACILITIES_CACHE_URL names one.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from itertools import chain
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session

logger = logging.getLogger(__name__)

CACHE_KEY = "facilities.page_cache"
READER_KEY = "facilities.cache_generation"
WATCHED_TABLES: set[str] = set()
_INHERITED: list[Any] = []  # a forked child's copies of its parent's connections
BUMP = text("UPDATE cache_generation SET value = value + 1 WHERE id = 1")
READ = "SELECT value FROM cache_generation WHERE id = 1"
PREPARED_NAME = b"facilities_cache_generation"


def watch(*models: Any) -> None:
    """Writes to these models' tables change what public pages show."""
    WATCHED_TABLES.update(model.__table__.name for model in models)


@event.listens_for(Session, "after_flush")
def _bump_after_flush(session: Session, _context: Any) -> None:
    changed = chain(session.new, session.dirty, session.deleted)
    if any(
        getattr(getattr(item, "__table__", None), "name", None) in WATCHED_TABLES
        for item in changed
    ):
        session.connection().execute(BUMP)


@event.listens_for(Session, "do_orm_execute")
def _bump_on_bulk_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in WATCHED_TABLES:
            state.session.connection().execute(BUMP)


def _missing_row() -> OperationalError:
    """As a database outage (503): the schema is not what this code expects."""
    return OperationalError(
        READ, None, Exception("no cache_generation row; run `facilities db upgrade`")
    )


@dataclass
class _Kept:
    """A connection of the reader's, and whether the read is prepared on it."""

    connection: Any
    prepared: bool = False


class GenerationReader:
    """Reads the generation on connections of its own, in autocommit mode.

    A pooled connection would cost a checkout and, on PostgreSQL, a ROLLBACK round trip
    on its return; this read is made before every cached page, so it is one round trip.
    The connections are shared by the process's threads (a thread takes one, reads,
    gives it back), so a server that starts a thread per request opens no more of them
    than it runs at once; a forked child never uses its parent's.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._idle: list[_Kept] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def read(self, engine: Engine) -> int:
        if engine is not self.engine or os.getpid() != self._pid:
            self.close()  # another engine (tests), or a forked child: start afresh
            self.engine, self._pid = engine, os.getpid()
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        for attempt in range(2):  # a broken connection (server restarted): one new try
            kept = None
            try:
                kept = self._take()
                value = self._read(kept)
            except dbapi_error as error:
                if kept is not None:
                    self._discard(kept)
                if attempt:  # as SQLAlchemy would raise it, so the outage page answers
                    raise DBAPIError.instance(READ, None, error, dbapi_error) from error
                continue
            except BaseException:
                if kept is not None:
                    self._discard(kept)
                raise
            with self._lock:
                self._idle.append(kept)
            return value
        raise AssertionError("unreachable")

    def _take(self) -> _Kept:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        connection = self.engine.raw_connection()
        connection.detach()  # ours for good, not the pool's
        kept = _Kept(connection)
        if self.engine.dialect.name == "postgresql":
            try:
                raw: Any = connection.dbapi_connection
                raw.rollback()  # the pool's ping may have opened a transaction
                raw.autocommit = True
            except BaseException:
                self._discard(kept)
                raise
        return kept

    def _read(self, kept: _Kept) -> int:
        if self.engine.dialect.name == "postgresql":
            return self._read_from_postgresql(kept)
        cursor = kept.connection.cursor()
        try:
            cursor.execute(READ)
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            raise _missing_row()
        return int(row[0])

    def _read_from_postgresql(self, kept: _Kept) -> int:
        """Straight through libpq, as a prepared statement: psycopg's cursor costs more
        than the round trip, and PostgreSQL then neither parses nor plans it again.
        (Behind PgBouncer in transaction mode before 1.21 a prepared statement does
        not survive; connect the web processes to PostgreSQL directly.)"""
        from psycopg import pq

        pgconn = kept.connection.dbapi_connection.pgconn
        if not kept.prepared:
            self._check(pgconn.prepare(PREPARED_NAME, READ.encode()), pq.ExecStatus.COMMAND_OK)
            kept.prepared = True
        result = pgconn.exec_prepared(PREPARED_NAME, [])
        self._check(result, pq.ExecStatus.TUPLES_OK)
        if not result.ntuples:
            raise _missing_row()
        return int(result.get_value(0, 0))

    @staticmethod
    def _check(result: Any, expected: Any) -> None:
        import psycopg

        if result.status != expected:
            message = (result.error_message or b"").decode(errors="replace")
            raise psycopg.OperationalError(message or "no answer from PostgreSQL")

    def _discard(self, kept: _Kept) -> None:
        try:
            kept.connection.close()
        except Exception:  # already broken; nothing left to close
            logger.debug("closing a broken generation connection", exc_info=True)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        if os.getpid() != self._pid:
            # The parent's connections: closing them here would end them for the parent
            # too (they share the socket), so they are kept, unused, for good.
            _INHERITED.extend(idle)
            return
        for kept in idle:
            self._discard(kept)


def generation(app: Flask | None = None) -> int:
    """The current generation of the app's database."""
    from facilities.core.db import get_engine

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.extensions[READER_KEY].read(get_engine(app))


@dataclass(frozen=True)
class CachedPage:
    status: int
    body: str
    headers: list[tuple[str, str]]
    etag: str  # of the body as stored: the same page gets the same tag in every process
    placeholder: str = ""  # where each reader's CSRF token goes; empty: no form


class PageCache(Protocol):
    def get(self, key: str) -> CachedPage | None: ...

    def set(self, key: str, page: CachedPage) -> None: ...


class MemoryPageCache:
    """This process's pages, least recently used out first, each for `seconds` at most,
    all of them within `max_bytes` (the web worker's memory is budgeted)."""

    def __init__(self, *, seconds: int, max_bytes: int = 24 * 1024 * 1024) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[str, tuple[float, CachedPage]] = OrderedDict()
        self._lock = threading.Lock()  # the demo serves from threads

    def get(self, key: str) -> CachedPage | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._entries[key]
                self._bytes -= len(found[1].body)
                return None
            self._entries.move_to_end(key)
            return found[1]

    def set(self, key: str, page: CachedPage) -> None:
        with self._lock:
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self._bytes -= len(replaced[1].body)
            self._entries[key] = (time.monotonic() + self.seconds, page)
            self._bytes += len(page.body)
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _key, (_expiry, dropped) = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)


class RedisPageCache:
    """Pages shared by every web process; Redis being away means a miss, never an error."""

    def __init__(self, url: str, *, seconds: int) -> None:
        import redis

        self.seconds = seconds
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def get(self, key: str) -> CachedPage | None:
        import redis

        try:
            raw = self._redis.get(key)
        except redis.RedisError as error:
            logger.warning("page cache unavailable: %s", error)
            return None
        if raw is None:
            return None
        stored = json.loads(raw)  # type: ignore[arg-type]  # a sync client: bytes
        return CachedPage(
            status=stored["status"],
            body=stored["body"],
            headers=[(name, value) for name, value in stored["headers"]],
            etag=stored["etag"],
            placeholder=stored.get("placeholder", ""),
        )

    def set(self, key: str, page: CachedPage) -> None:
        import redis

        value = json.dumps(
            {
                "status": page.status,
                "body": page.body,
                "headers": page.headers,
                "etag": page.etag,
                "placeholder": page.placeholder,
            }
        )
        try:
            self._redis.set(key, value, ex=self.seconds)
        except redis.RedisError as error:
            logger.warning("page cache unavailable: %s", error)


class NoPageCache:
    """`FACILITIES_CACHE_URL=off`: every page rendered afresh (to measure what a miss costs)."""

    def get(self, key: str) -> CachedPage | None:
        return None

    def set(self, key: str, page: CachedPage) -> None:
        return None


def init_app(app: Flask, engine: Engine, *, url: str, seconds: int) -> None:
    app.extensions[READER_KEY] = GenerationReader(engine)
    store: PageCache
    if url == "off":
        store = NoPageCache()
    elif url:
        store = RedisPageCache(url, seconds=seconds)
    else:
        store = MemoryPageCache(seconds=seconds)
    app.extensions[CACHE_KEY] = store


def page_cache(app: Flask | None = None) -> PageCache:
    return (app or current_app).extensions[CACHE_KEY]
