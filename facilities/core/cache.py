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
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from itertools import chain
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import ORMExecuteState, Session

logger = logging.getLogger(__name__)

CACHE_KEY = "facilities.page_cache"
WATCHED_TABLES: set[str] = set()
BUMP = text("UPDATE cache_generation SET value = value + 1 WHERE id = 1")
READ = "SELECT value FROM cache_generation WHERE id = 1"


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


def generation(engine: Engine) -> int:
    """The current generation: one primary-key read, outside the request's session."""
    with engine.connect() as connection:
        value = connection.exec_driver_sql(READ).scalar()
    return int(value or 0)


@dataclass(frozen=True)
class CachedPage:
    status: int
    body: str
    headers: list[tuple[str, str]]
    etag: str  # of the body as stored: the same page gets the same tag in every process


class PageCache(Protocol):
    def get(self, key: str) -> CachedPage | None: ...

    def set(self, key: str, page: CachedPage) -> None: ...


class MemoryPageCache:
    """This process's pages, least recently used out first, each for `seconds` at most."""

    def __init__(self, *, seconds: int, max_entries: int = 1_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, CachedPage]] = OrderedDict()
        self._lock = threading.Lock()  # the demo serves from threads

    def get(self, key: str) -> CachedPage | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def set(self, key: str, page: CachedPage) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, page)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


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
        stored = json.loads(raw)
        return CachedPage(
            status=stored["status"],
            body=stored["body"],
            headers=[tuple(pair) for pair in stored["headers"]],  # type: ignore[misc]
            etag=stored["etag"],
        )

    def set(self, key: str, page: CachedPage) -> None:
        import redis

        value = json.dumps(
            {"status": page.status, "body": page.body, "headers": page.headers, "etag": page.etag}
        )
        try:
            self._redis.set(key, value, ex=self.seconds)
        except redis.RedisError as error:
            logger.warning("page cache unavailable: %s", error)


def init_app(app: Flask, *, url: str, seconds: int) -> None:
    app.extensions[CACHE_KEY] = (
        RedisPageCache(url, seconds=seconds) if url else MemoryPageCache(seconds=seconds)
    )


def page_cache(app: Flask | None = None) -> PageCache:
    return (app or current_app).extensions[CACHE_KEY]
