"""One page of a list: two queries (count and rows) whatever the list's length."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

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
    session: Session, statement: SelectOfScalar[T], *, page: int, per_page: int
) -> Page[T]:
    """Run `statement` for one page; a page past the end shows the last one."""
    count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
    total = session.exec(count_statement).one()
    last_page = max(1, math.ceil(total / per_page))
    number = min(max(1, page), last_page)
    items = list(session.exec(statement.limit(per_page).offset((number - 1) * per_page)).all())
    return Page(items=items, number=number, per_page=per_page, total=total)
