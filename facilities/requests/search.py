"""Full-text search over requests, one function for both databases.

PostgreSQL stems Finnish and English words (`latauspisteet` finds `latauspiste`) over
an indexed document (migration 0010); SQLite's FTS5 has no Finnish stemmer, so each
word is matched as a prefix (`latau` finds `latauspisteet`), accents aside. Words
typed so far are ORed: a title being typed finds requests sharing any of its words,
best matches first.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Float, column, func, literal_column, or_, table
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.core.db import joined
from facilities.park.models import Visibility
from facilities.requests.models import ServiceRequest
from facilities.requests.queries import status_ids_by_kind, status_is
from facilities.requests.workflow import StatusKind

MIN_WORD = 3  # shorter words match too much while someone is still typing
MAX_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)
PG_DOCUMENT = (
    "to_tsvector('finnish', coalesce(service_request.title, '') || ' ' || "
    "coalesce(service_request.description, '')) || to_tsvector('english', "
    "coalesce(service_request.title, '') || ' ' || coalesce(service_request.description, ''))"
)


FTS = table("service_request_fts", column("rowid"), column("rank"))  # SQLite, migration 0010


def _rough_stem(word: str) -> str:
    """Without a Finnish stemmer, drop the last letters of a long word, where Finnish
    inflects (latauspisteitä → latauspiste, Sensorille → sensori) and English too
    (charging → charg): the rest is matched as a prefix."""
    return word[: max(5, len(word) - 3)] if len(word) > 6 else word


def search_words(typed: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(typed or "") if len(w) >= MIN_WORD]
    unique = list(dict.fromkeys(words))
    return [w for w in unique if not w.isdigit() or len(w) >= 4][:MAX_WORDS]


def search_requests(
    session: Session,
    *,
    typed: str,
    viewer: User | None,
    limit: int = 5,
    offset: int = 0,
    open_only: bool = False,
) -> list[ServiceRequest]:
    """Requests matching the words typed, best first: public ones for everyone, and the
    viewer's own company's private ones (staff see all). Never another company's private
    request."""
    words = search_words(typed)
    if not words:
        return []
    statement = select(ServiceRequest)
    if session.get_bind().dialect.name == "postgresql":
        # each word as a prefix, stemmed by both configurations; any word may match
        query: ColumnElement[Any] | None = None
        for word in words:
            part = func.to_tsquery(literal_column("'finnish'"), word + ":*").op("||")(
                func.to_tsquery(literal_column("'english'"), word + ":*")
            )
            query = part if query is None else query.op("||")(part)
        document: ColumnElement[Any] = literal_column(PG_DOCUMENT)  # as indexed, word for word
        statement = statement.where(document.op("@@")(query)).order_by(
            func.ts_rank(document, query, type_=Float).desc(),
            col(ServiceRequest.updated_at).desc(),
        )
    else:
        match = " OR ".join('"' + _rough_stem(word).replace('"', "") + '"*' for word in words)
        statement = (
            statement.join(FTS, FTS.c.rowid == ServiceRequest.id)
            .where(literal_column(FTS.name).op("MATCH")(match))
            .order_by(FTS.c.rank, col(ServiceRequest.updated_at).desc())
        )
    if viewer is None or not viewer.is_authenticated or not viewer.is_staff:
        allowed = col(ServiceRequest.visibility) == Visibility.public
        if viewer is not None and viewer.is_authenticated and viewer.tenant_id is not None:
            allowed = or_(allowed, col(ServiceRequest.tenant_id) == viewer.tenant_id)
        statement = statement.where(allowed)
    if open_only:
        ids = status_ids_by_kind(session)
        closed = {StatusKind.done, StatusKind.declined, StatusKind.duplicate}
        statement = statement.where(
            status_is([i for kind, values in ids.items() if kind not in closed for i in values])
        )
    statement = statement.options(
        *joined(ServiceRequest.status, ServiceRequest.category, ServiceRequest.building)
    )
    return list(session.exec(statement.offset(offset).limit(limit)).unique().all())
