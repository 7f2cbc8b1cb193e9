"""The default views' queries are served by indexes on both databases: no full scan of
the requests, and no sort of them where an index gives the order.

A few rows suffice: the plans are checked for what they may do, and on PostgreSQL
sequential scans are priced out, as they would be at 100,000 rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import literal_column, select, text
from sqlmodel import Session

from facilities.core.db import get_engine
from facilities.core.models import utcnow
from facilities.requests.queries import (
    QueueFilter,
    queue_statement,
    status_ids_by_kind,
    tenant_statement,
)
from facilities.requests.roadmap import RoadmapColumn, column_statement
from facilities.requests.workflow import StatusKind
from tests import factories


def _column(column: RoadmapColumn, ids: dict[StatusKind, list[int]]) -> Any:
    now = utcnow()
    return column_statement(column, ids, today=now.date(), now=now)


def _views(db: Session) -> dict[str, tuple[Any, bool]]:
    """Each default view's page query, and whether an index must also give its order."""
    ids = status_ids_by_kind(db)
    member = factories.user(db)
    for number in range(5):
        factories.service_request(db, submitter=member, title=f"Improvement number {number}")
    db.commit()
    return {
        # Now mixes in progress and planned, Next and Later go by target: small, sorted
        "roadmap, now": (_column(RoadmapColumn.now, ids), False),
        "roadmap, next": (_column(RoadmapColumn.next, ids), False),
        "roadmap, later": (_column(RoadmapColumn.later, ids), False),
        "roadmap, done": (_column(RoadmapColumn.done, ids), True),
        "our requests": (tenant_statement(member.tenant_id), True),
        # most urgent first is an expression: the open requests are sorted, not the history
        "work queue": (queue_statement(QueueFilter(), ids), False),
    }


def _queries(statement: Any) -> Iterator[tuple[str, Any]]:
    yield "page", statement.limit(20)
    rows = (
        statement.with_only_columns(literal_column("1"), maintain_column_froms=True)
        .order_by(None)
        .limit(1000)
    )
    yield "count", select(literal_column("count(*)")).select_from(rows.subquery())


def _sql(db: Session, statement: Any) -> str:
    dialect = db.get_bind().dialect
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _sqlite_plan(db: Session, sql: str) -> list[str]:
    return [row[-1] for row in db.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def _postgres_nodes(db: Session, sql: str) -> list[dict]:
    connection = db.connection()
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


@pytest.mark.parametrize(
    "view",
    [
        "roadmap, now",
        "roadmap, next",
        "roadmap, later",
        "roadmap, done",
        "our requests",
        "work queue",
    ],
)
def test_default_views_use_an_index(app, db, view):
    statement, ordered_by_index = _views(db)[view]
    for kind, query in _queries(statement):
        sql = _sql(db, query)
        if db.get_bind().dialect.name == "sqlite":
            plan = _sqlite_plan(db, sql)
            on_requests = [step for step in plan if " service_request" in f" {step}"]
            assert on_requests and all(step.startswith("SEARCH") for step in on_requests), (
                f"{view} ({kind}) scans the requests: {plan}"
            )
            if kind == "page" and ordered_by_index:
                assert not any("TEMP B-TREE" in step for step in plan), (
                    f"{view} sorts the requests: {plan}"
                )
        else:
            nodes = _postgres_nodes(db, sql)
            scans = [
                node["Node Type"]
                for node in nodes
                if node.get("Relation Name") == "service_request"
            ]
            assert scans and "Seq Scan" not in scans, f"{view} ({kind}) scans: {nodes}"
            if kind == "page" and ordered_by_index:
                assert not any("Sort" in node["Node Type"] for node in nodes), (
                    f"{view} sorts the requests: {[node['Node Type'] for node in nodes]}"
                )
        db.rollback()


def test_the_plans_are_read_from_the_right_engine(app, db):
    assert db.get_bind() is get_engine(app)
