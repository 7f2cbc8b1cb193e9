"""The engine, one session per request, and the SQLite pragmas."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.strategy_options import _AbstractLoad
from sqlmodel import Session

ENGINE_KEY = "facilities.engine"


def make_engine(database_url: str, *, create: bool = False) -> Engine:
    """An engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (psycopg 3).

    An SQLite file is only made when `create` is set (migrations, development, the demo):
    a web process pointed at a missing file must fail, not serve an empty database.
    """
    if database_url.startswith("sqlite"):
        url = make_url(database_url)
        path = url.database or ""
        if path and path != ":memory:" and not path.startswith("file:"):
            if create:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            else:
                url = url.set(
                    database=f"file:{quote(str(Path(path).absolute()))}",
                    query={"mode": "rw", "uri": "true"},
                )
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(database_url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask, engine: Engine) -> None:
    app.extensions[ENGINE_KEY] = engine
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions[ENGINE_KEY]


def get_session() -> Session:
    """The session of the current request or app context, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session outside requests (jobs, CLI): the caller commits; errors roll back."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


def joined(*relationships: Any) -> list[_AbstractLoad]:
    """joinedload() for SQLModel relationships, which are declared as the related class
    and so unknown to SQLAlchemy's types as attributes."""
    return [joinedload(relationship) for relationship in relationships]


def like_pattern(words: str) -> str:
    """A LIKE pattern that finds `words` anywhere, its own % and _ taken literally."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
