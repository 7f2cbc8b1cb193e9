"""One page of a list: two queries (count and rows) whatever the list's length.

The count stops at COUNT_LIMIT rows, so a list over years of history costs the same as
a young one: past the limit a list says "1000+" and pages through its first 1,000
(filters narrow it), and no address can ask for a deeper, costlier page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func, literal_column
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")

COUNT_LIMIT = 1_000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int
    exact: bool = True  # False: there are at least `total` items

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def total_label(self) -> str:
        return str(self.total) if self.exact else f"{self.total}+"

    @property
    def pages_label(self) -> str:
        return str(self.pages) if self.exact else f"{self.pages}+"

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.number * self.per_page, self.total)


def page_number(raw: Any) -> int:
    """A page number from a query string; anything odd means the first page."""
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


def paginate(
    session: Session,
    statement: SelectOfScalar[T],
    *,
    page: int,
    per_page: int,
    count_limit: int = COUNT_LIMIT,
) -> Page[T]:
    """Run `statement` for one page; a page past the end shows the last one."""
    page = max(1, page)
    rows: Any = (  # the same FROM and WHERE, selecting only a constant
        statement.with_only_columns(literal_column("1"), maintain_column_froms=True)
        .order_by(None)
        .limit(count_limit + 1)
    )
    counted = session.exec(select(func.count()).select_from(rows.subquery())).one()
    exact = counted <= count_limit
    total = min(counted, count_limit)
    last_page = max(1, math.ceil(total / per_page))
    number = min(page, last_page)  # a page past the end, or past the limit, shows the last
    items = list(session.exec(statement.limit(per_page).offset((number - 1) * per_page)).all())
    return Page(items=items, number=number, per_page=per_page, total=total, exact=exact)
