"""The migrations and the models agree, and renaming the timeline table keeps every row."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import facilities.channels.models
import facilities.core.models
import facilities.requests.models
import facilities.subscriptions.models  # noqa: F401  (every table on the metadata)
from facilities.core.db import make_engine
from facilities.core.migrate import downgrade, include_name, upgrade


def test_the_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def _timeline_rows(connection, table):
    return connection.execute(sa.text(f'SELECT id, kind, body FROM "{table}" ORDER BY id')).all()


def test_renaming_the_timeline_table_keeps_its_rows_both_ways(database_url):
    engine = make_engine(database_url)
    downgrade(engine, "0003")  # the schema before the rename, as a deployed park has it
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO site (id, code, name, reference_prefix) VALUES (1, 'P', 'Park', 'DP');"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO category (id, site_id, slug, names, kind, default_visibility,"
                " position, active) VALUES (1, 1, 'c', '{}', 'idea', 'public', 0, true)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO service_request (id, reference, site_id, ref_year, ref_number, title,"
                " description, location_note, category_id, status_id, priority, visibility,"
                " version, created_at, updated_at) VALUES (1, 'DP-2026-0001', 1, 2026, 1,"
                " 'Chargers', '', '', 1, 1, 'normal', 'public', 1, :now, :now)"
            ),
            {"now": "2026-11-28 10:00:00"},
        )
        for number, kind in enumerate(["status_change", "public_update", "internal_note"], 1):
            connection.execute(
                sa.text(
                    'INSERT INTO "update" (request_id, kind, body, created_at)'
                    " VALUES (1, :kind, :body, :now)"
                ),
                {"kind": kind, "body": f"entry {number}", "now": "2026-11-28"},
            )
        before = _timeline_rows(connection, "update")

    upgrade(engine)
    with engine.connect() as connection:
        assert _timeline_rows(connection, "request_update") == before
        assert "update" not in sa.inspect(connection).get_table_names()
        indexes = {index["name"] for index in sa.inspect(connection).get_indexes("request_update")}
        assert indexes == {"ix_request_update_due", "ix_request_update_request_created"}
        # new rows get the next id from the renamed sequence
        connection.execute(
            sa.text(
                "INSERT INTO request_update (request_id, kind, body, created_at)"
                " VALUES (1, 'comment', 'after', '2026-11-29')"
            )
        )
        assert connection.execute(sa.text("SELECT max(id) FROM request_update")).scalar() == 4
        connection.rollback()

    downgrade(engine, "0003")
    with engine.connect() as connection:
        assert _timeline_rows(connection, "update") == before
    upgrade(engine)
    engine.dispose()


def test_the_search_index_survives_every_migration(database_url):
    """SQLite's batch mode copies a table and drops its triggers: the full-text index
    (0010) would then silently miss every new request. PostgreSQL's is an index."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            expected = {f"service_request_fts_{event}" for event in ("insert", "delete", "update")}
        else:
            query = "SELECT indexname FROM pg_indexes WHERE tablename = 'service_request'"
            expected = {"ix_service_request_search"}
        names = set(connection.execute(sa.text(query)).scalars())
    engine.dispose()
    assert expected <= names


def test_webhook_errors_lose_the_receiver_s_answer_and_keep_the_status(database_url):
    engine = make_engine(database_url)
    downgrade(engine, "0022")  # as a deployed park has them
    errors = {
        "hook:1": ("webhook", "WebhookRefused: HTTP 500: Traceback ... password=hunter2"),
        "hook:2": ("webhook", "WebhookRefused: HTTP 599: whatever"),
        "hook:3": ("webhook", "ConnectError: [Errno 111] Connection refused"),
        "mail:1": ("email", "SMTPDataError: HTTP 500: kept as it is"),
    }
    with engine.begin() as connection:
        for key, (kind, error) in errors.items():
            connection.execute(
                sa.text(
                    "INSERT INTO outbox (idempotency_key, kind, recipient, subject, body_text,"
                    " status, attempts, next_attempt_at, last_error, created_at, url, format,"
                    " signing_secret) VALUES (:key, :kind, 'r', 's', '', 'failed', 6,"
                    " '2026-12-01', :error, '2026-12-01', '', '', '')"
                ),
                {"key": key, "kind": kind, "error": error},
            )
    upgrade(engine)
    with engine.connect() as connection:
        found = dict(
            connection.execute(sa.text("SELECT idempotency_key, last_error FROM outbox")).all()
        )
    engine.dispose()
    assert found == {
        "hook:1": "WebhookRefused: HTTP 500 Internal Server Error",
        "hook:2": "WebhookRefused: HTTP 599",
        "hook:3": "ConnectError: [Errno 111] Connection refused",
        "mail:1": "SMTPDataError: HTTP 500: kept as it is",
    }
