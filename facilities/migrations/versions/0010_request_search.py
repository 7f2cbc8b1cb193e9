"""Full-text search over requests: SQLite FTS5 kept by triggers; PostgreSQL GIN index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 06:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Finnish and English words, both: the park writes in both (requests.search matches it).
PG_DOCUMENT = (
    "to_tsvector('finnish', coalesce(title, '') || ' ' || coalesce(description, ''))"
    " || to_tsvector('english', coalesce(title, '') || ' ' || coalesce(description, ''))"
)

SQLITE = [
    # external content: the text stays in service_request; FTS keeps only its index
    "CREATE VIRTUAL TABLE service_request_fts USING fts5(title, description,"
    " content='service_request', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO service_request_fts(rowid, title, description)"
    " SELECT id, title, description FROM service_request",
    "CREATE TRIGGER service_request_fts_insert AFTER INSERT ON service_request BEGIN"
    " INSERT INTO service_request_fts(rowid, title, description)"
    " VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER service_request_fts_delete AFTER DELETE ON service_request BEGIN"
    " INSERT INTO service_request_fts(service_request_fts, rowid, title, description)"
    " VALUES ('delete', old.id, old.title, old.description); END",
    "CREATE TRIGGER service_request_fts_update AFTER UPDATE OF title, description"
    " ON service_request BEGIN"
    " INSERT INTO service_request_fts(service_request_fts, rowid, title, description)"
    " VALUES ('delete', old.id, old.title, old.description);"
    " INSERT INTO service_request_fts(rowid, title, description)"
    " VALUES (new.id, new.title, new.description); END",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
    else:
        op.execute(
            f"CREATE INDEX ix_service_request_search ON service_request USING gin (({PG_DOCUMENT}))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS service_request_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS service_request_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_service_request_search")
