"""Schema changes through Alembic only: `facilities db upgrade` and friends."""

from __future__ import annotations

import functools

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


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
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
