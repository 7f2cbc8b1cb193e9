"""The park's reference data: buildings, categories, statuses, tenants."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from facilities.park.models import Building, Category, Tenant

_BUSINESS_ID = re.compile(r"^(\d{7})-(\d)$")
_BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def business_id_check_digit(digits: str) -> int | None:
    """The check digit of a Y-tunnus's seven digits; None when no digit can be valid."""
    remainder = sum(int(d) * w for d, w in zip(digits, _BUSINESS_ID_WEIGHTS, strict=True)) % 11
    if remainder == 1:
        return None
    return 0 if remainder == 0 else 11 - remainder


def valid_business_id(value: str) -> bool:
    """Whether `value` is a Finnish business ID (Y-tunnus) with a correct check digit."""
    match = _BUSINESS_ID.match(value.strip())
    return match is not None and business_id_check_digit(match[1]) == int(match[2])


def business_id(base: str) -> str:
    """A valid Y-tunnus for a seven-digit base, e.g. for invented companies."""
    check = business_id_check_digit(base)
    if check is None:
        raise ValueError(f"{base} has no valid check digit")
    return f"{base}-{check}"


def active_categories(session: Session) -> list[Category]:
    return list(
        session.exec(
            select(Category)
            .where(col(Category.active).is_(True))
            .order_by(col(Category.position), col(Category.slug))
        ).all()
    )


def buildings(session: Session) -> list[Building]:
    return list(session.exec(select(Building).order_by(Building.name)).all())


def localized(names: dict[str, str], locale: str, fallback: str = "fi") -> str:
    """A name in the reader's language, else the park's default, else any."""
    return names.get(locale) or names.get(fallback) or next(iter(names.values()), "")


def companies(session: Session) -> list[Tenant]:
    """Every tenant company by name: a park has tens, not thousands."""
    return list(session.exec(select(Tenant).order_by(col(Tenant.name), col(Tenant.id))).all())
