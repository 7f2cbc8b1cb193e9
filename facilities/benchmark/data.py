"""A park with years of history: the demo park plus N requests, bulk-loaded."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, text
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.demo import load_demo_data
from facilities.park.models import Building, Category, Site, Tenant, Visibility
from facilities.requests.models import (
    Priority,
    RequestCounter,
    RequestUpdate,
    ServiceRequest,
    Status,
    UpdateKind,
)
from facilities.requests.workflow import CLOSED_KINDS

YEARS_OF_HISTORY = 6
RECENT_DAYS = 90  # older requests are closed; newer ones spread over every status

CLOSED = [("done", 0.88), ("not-planned", 0.08), ("duplicate", 0.04)]
RECENT = [
    ("new", 0.10),
    ("review", 0.12),
    ("planned", 0.18),
    ("in-progress", 0.14),
    ("waiting", 0.04),
    ("done", 0.36),
    ("not-planned", 0.04),
    ("duplicate", 0.02),
]
PRIORITIES = [
    (Priority.normal, 0.70),
    (Priority.low, 0.10),
    (Priority.high, 0.15),
    (Priority.urgent, 0.05),
]
SUBJECTS = [
    "Ulkovalo ei pala",
    "Lisää pyörätelineitä",
    "Sähköautojen latauspiste",
    "Ilmanvaihto on tunkkainen",
    "Liukas piha-alue",
    "Roska-astiat täynnä",
    "Neuvotteluhuoneen näyttö rikki",
    "Hissi pysähtelee",
    "Parkkipaikan valaistus",
    "Kahvihuoneen vesihana vuotaa",
    "Ovikoodi ei toimi",
    "Lumet auraamatta",
    "Opastekyltit sisäänkäynnille",
    "Lämpötila liian matala",
    "Aurinkopaneelit katolle",
]
PLACES = ["Sensorin", "Innovaattorin", "Teknologiatalon", "Halli 5:n", "pääoven", "pihan"]
UPDATE_TEXTS = [
    "Kiitos pyynnöstä, asia on käsittelyssä.",
    "Huoltoyhtiö on käynyt paikalla ja tilannut varaosat.",
    "Työ on tilattu urakoitsijalta, aloitus ensi viikolla.",
    "Korjattu. Kertokaa, jos ongelma toistuu.",
]


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def request_count(engine: Engine) -> int:
    """Requests in an existing benchmark database; -1 when it is not one."""
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(ServiceRequest)).one()
    except Exception:  # no such database or tables yet
        return -1


def load(engine: Engine, total: int, *, seed: int = 2026) -> None:
    """Load the demo park, then requests up to `total`, most of them long done."""
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(seed)
    with Session(engine, expire_on_commit=False) as session:
        load_demo_data(session, now=now)
        session.commit()
        site = session.exec(select(Site)).one()
        statuses = {status.slug: status for status in session.exec(select(Status)).all()}
        categories = list(session.exec(select(Category)).all())
        building_ids = [building.id for building in session.exec(select(Building)).all()]
        tenants = list(session.exec(select(Tenant)).all())
        members = {
            user.tenant_id: user.id
            for user in session.exec(select(User).where(col(User.tenant_id).is_not(None))).all()
        }
        staff = session.exec(select(User).where(User.email == "huolto@digipolis.example")).one()
        assert staff.id is not None
        staff_id: int = staff.id
        existing = session.exec(select(func.count()).select_from(ServiceRequest)).one()
        counters = {
            counter.year: counter.last_number
            for counter in session.exec(select(RequestCounter)).all()
        }

    start = now - timedelta(days=365 * YEARS_OF_HISTORY)
    span = (now - start).total_seconds()
    moments = sorted(
        start + timedelta(seconds=rng.uniform(0, span)) for _ in range(total - existing)
    )
    requests: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    with engine.begin() as connection:
        next_id = connection.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM service_request"))
        request_id = next_id.scalar_one()
    for created in moments:
        recent = (now - created).days < RECENT_DAYS
        status = statuses[_pick(rng, RECENT if recent else CLOSED)]
        category = rng.choice(categories)
        tenant = rng.choice(tenants)
        year = created.year
        counters[year] = counters.get(year, 0) + 1
        changed = min(now, created + timedelta(hours=rng.uniform(2, 24 * (5 if recent else 60))))
        target_start: date | None = None
        if status.slug in ("planned", "in-progress"):
            quarter_start = date(now.year, 3 * ((now.month - 1) // 3) + 1, 1)
            target_start = quarter_start + timedelta(days=91 * rng.randint(0, 4))
        requests.append(
            {
                "id": request_id,
                "reference": f"{site.reference_prefix}-{year}-{counters[year]:04d}",
                "site_id": site.id,
                "ref_year": year,
                "ref_number": counters[year],
                "title": f"{rng.choice(SUBJECTS)} {rng.choice(PLACES)} luona",
                "description": "Havaittu useana päivänä. " * rng.randint(1, 6),
                "location_note": "",
                "category_id": category.id,
                "building_id": rng.choice([*building_ids, None]),
                "submitter_id": members.get(tenant.id),
                "tenant_id": tenant.id,
                "status_id": status.id,
                "priority": _pick(rng, PRIORITIES).value,
                "assignee_id": None,
                "visibility": (
                    Visibility.public if rng.random() < 0.7 else Visibility.private
                ).value,
                "target_start": target_start,
                "target_end": target_start + timedelta(days=90) if target_start else None,
                "sla_due_at": None,
                # what the dashboard counts: the first answer, and when it was closed
                "responded_at": changed if status.slug != "new" else None,
                "resolved_at": changed if status.kind in CLOSED_KINDS else None,
                "duplicate_of_id": None,
                "version": 3,
                "created_at": created,
                "updated_at": changed,
            }
        )
        updates.append(_update(request_id, UpdateKind.public_update, created, rng, staff_id))
        if status.slug != "new":
            entry = _update(request_id, UpdateKind.status_change, changed, rng, staff_id)
            entry.update(from_status_id=statuses["new"].id, to_status_id=status.id)
            updates.append(entry)
        if rng.random() < 0.5:
            updates.append(_update(request_id, UpdateKind.internal_note, changed, rng, staff_id))
        request_id += 1

    with engine.begin() as connection:
        for chunk in range(0, len(requests), 5_000):
            connection.execute(insert(ServiceRequest), requests[chunk : chunk + 5_000])
        for chunk in range(0, len(updates), 10_000):
            connection.execute(insert(RequestUpdate), updates[chunk : chunk + 10_000])
        for year, number in counters.items():
            connection.execute(
                text(
                    "UPDATE request_counter SET last_number = :number "
                    "WHERE site_id = :site AND year = :year"
                ),
                {"number": number, "site": site.id, "year": year},
            )
            connection.execute(
                text(
                    "INSERT INTO request_counter (site_id, year, last_number) "
                    "SELECT :site, :year, :number WHERE NOT EXISTS "
                    "(SELECT 1 FROM request_counter WHERE site_id = :site AND year = :year)"
                ),
                {"number": number, "site": site.id, "year": year},
            )
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('service_request', 'id'), "
                    "(SELECT MAX(id) FROM service_request))"
                )
            )
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('request_update', 'id'), "
                    "(SELECT MAX(id) FROM request_update))"
                )
            )
    # What a live database has: statistics for the planner (autovacuum on PostgreSQL).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


def _update(
    request_id: int, kind: UpdateKind, moment: datetime, rng: random.Random, author_id: int
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "kind": kind.value,
        "body": rng.choice(UPDATE_TEXTS) if kind is not UpdateKind.status_change else "",
        "author_id": author_id,
        "from_status_id": None,
        "to_status_id": None,
        "created_at": moment,
        "publish_at": None,
        "published_at": moment,
    }
