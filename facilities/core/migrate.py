"""Schema changes through Alembic only: `facilities db upgrade` and friends."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from facilities.settings import PACKAGE_ROOT


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PACKAGE_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


# Search structures the models do not describe (migration 0010): FTS5 tables on SQLite,
# an expression index on PostgreSQL. Autogenerate and the schema test leave them alone.
UNMODELLED_PREFIXES = ("service_request_fts", "ix_service_request_search")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's include_name hook: skip what the models do not describe."""
    return not (name or "").startswith(UNMODELLED_PREFIXES)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction for Alembic. On SQLite, foreign keys are off while it
    runs: a batch migration copies a table and drops the old one, and with them on, the
    drop would cascade to the rows that refer to it. Before the commit, SQLite checks
    that every reference still holds."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # only outside a transaction
            connection.commit()
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke references: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _migrating(engine) as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _migrating(engine) as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@functools.cache
def head_revisions() -> frozenset[str]:
    """The revisions the code's models expect (read from the migration files once)."""
    config = Config()
    config.set_main_option("script_location", str(PACKAGE_ROOT / "migrations"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def schema_state(connection: Connection) -> str:
    """ "current", "behind" (migrations to run) or "missing" (never migrated)."""
    try:
        with connection.begin_nested():
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except Exception:  # no such table: the database was never migrated
        return "missing"
    return "current" if {row[0] for row in rows} == head_revisions() else "behind"
