"""Test data: each function makes one thing with sensible defaults, overridable by keyword."""

from __future__ import annotations

import functools
import io
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image
from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from facilities.accounts import api_keys
from facilities.accounts.models import ApiKey, ApiScope, Role, User
from facilities.accounts.users import create_user
from facilities.charging.models import Charger, ChargerLifecycle
from facilities.core.models import utcnow
from facilities.core.storage import get_storage
from facilities.core.uploads import read_upload
from facilities.park.models import (
    Building,
    Category,
    CategoryKind,
    CategoryQuestion,
    QuestionKind,
    Site,
    Tenant,
    Visibility,
)
from facilities.park.queries import business_id
from facilities.park.questions import QuestionForm, save_question
from facilities.requests.attachments import attach
from facilities.requests.intake import submit_request
from facilities.requests.models import (
    Attachment,
    Priority,
    RequestUpdate,
    ServiceRequest,
    ServiceRequestCreate,
    ServiceRequestTriage,
    Status,
)
from facilities.requests.triage import triage_request

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)


def site(session: Session, **fields) -> Site:
    existing = session.exec(select(Site)).first()
    if existing is not None and not fields:
        return existing
    item = Site(**{"code": f"PARK{next(_sequence)}", "name": "Test park", **fields})
    session.add(item)
    session.flush()
    return item


def building(session: Session, **fields) -> Building:
    number = next(_sequence)
    item = Building(
        **{
            "site_id": site(session).id,
            "code": f"B{number}",
            "name": f"Building {number}",
            **fields,
        }
    )
    session.add(item)
    session.flush()
    return item


def category(session: Session, **fields) -> Category:
    number = next(_sequence)
    item = Category(
        **{
            "site_id": site(session).id,
            "slug": f"category-{number}",
            "names": {"fi": f"Kategoria {number}", "en": f"Category {number}"},
            "kind": CategoryKind.idea,
            "default_visibility": Visibility.public,
            **fields,
        }
    )
    session.add(item)
    session.flush()
    return item


def tenant(session: Session, **fields) -> Tenant:
    number = next(_sequence)
    base = f"{2000000 + number * 7:07d}"
    try:
        identifier = business_id(base)
    except ValueError:
        identifier = business_id(f"{int(base) + 1:07d}")
    item = Tenant(
        **{
            "site_id": site(session).id,
            "name": f"Company {number} Oy",
            "business_id": identifier,
            **fields,
        }
    )
    session.add(item)
    session.flush()
    return item


@functools.cache
def _hash_of_the_test_password() -> str:
    """Hashing is slow by design: the test password is hashed once per run, not per user."""
    return generate_password_hash(PASSWORD)


def user(
    session: Session,
    *,
    role: Role = Role.member,
    tenant_id: int | None = None,
    password: str | None = PASSWORD,
    **fields,
) -> User:
    """A user; `password=None` for one who never signs in (no hash at all)."""
    number = next(_sequence)
    if role in (Role.member, Role.tenant_admin) and tenant_id is None:
        tenant_id = tenant(session).id
    made = create_user(
        session,
        **{
            "email": f"user{number}@example.com",
            "name": f"User {number}",
            "password": password if password not in (None, PASSWORD) else None,
            "role": role,
            "tenant_id": tenant_id,
            **fields,
        },
    )
    if password == PASSWORD:
        made.password_hash = _hash_of_the_test_password()
    return made


def staff(session: Session, **fields) -> User:
    return user(session, role=Role.staff, **fields)


def status(session: Session, slug: str) -> Status:
    return session.exec(select(Status).where(Status.slug == slug)).one()


def service_request(
    session: Session,
    *,
    submitter: User | None = None,
    category_: Category | None = None,
    now: datetime | None = None,
    **fields,
) -> ServiceRequest:
    submitter = submitter or user(session)
    category_ = category_ or category(session)
    data = ServiceRequestCreate(
        **{
            "title": "EV charging points outside Sensori",
            "description": "Please.",
            "category_id": category_.id,
            **fields,
        }
    )
    return submit_request(session, submitter=submitter, data=data, now=now)


def triage(session: Session, item: ServiceRequest, *, actor: User, to: str | None = None, **fields):
    data = ServiceRequestTriage(
        **{
            "version": item.version,
            "status_id": status(session, to).id if to else item.status_id,
            "priority": item.priority or Priority.normal,
            "visibility": item.visibility,
            **fields,
        }
    )
    return triage_request(session, service_request=item, actor=actor, data=data)


def timeline_for(session: Session, item: ServiceRequest, viewer: User | None):
    """The timeline as `viewer` reads it, by the access policy."""
    from facilities import policy
    from facilities.requests.timeline import timeline

    return timeline(session, item, kinds=policy.for_request(viewer, item).timeline_kinds)


def scheduled_update(
    session: Session,
    *,
    item: ServiceRequest | None = None,
    actor: User | None = None,
    body: str = "Contractor chosen.",
    after: timedelta = timedelta(minutes=5),
) -> ServiceRequest:
    """A request with a public update scheduled `after` from now; returns the request."""
    item = item or service_request(session)
    triage(
        session,
        item,
        actor=actor or staff(session),
        public_update=body,
        publish_at=utcnow() + after,
    )
    return item


def charger(session: Session, **fields) -> Charger:
    number = next(_sequence)
    item = Charger(
        **{
            "building_id": fields.pop("building_id", None) or building(session).id,
            "code": f"CH-{number}",
            "name": f"Charger {number}",
            "power_kw": 22.0,
            "connectors": ["IEC_62196_T2"],
            "operator": "Test Charge Oy",
            "lifecycle": ChargerLifecycle.operational,
            **fields,
        }
    )
    session.add(item)
    session.flush()
    return item


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (10, 95, 115)) -> bytes:
    """A small real PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def attachment(
    session: Session,
    item: ServiceRequest,
    *,
    entry: RequestUpdate | None = None,
    data: bytes | None = None,
    filename: str = "photo.png",
) -> Attachment:
    """A file on a request (or on one of its comments), stored as the app stores files."""
    file = read_upload(data or png(), filename=filename, max_bytes=10**7)
    (stored,) = attach(
        session, get_storage(), service_request=item, uploader=None, files=[file], entry=entry
    )
    return stored


def question(session: Session, category_: Category, **fields) -> CategoryQuestion:
    data = QuestionForm(**{"kind": QuestionKind.text, "prompt_fi": "Kysymys", **fields})
    return save_question(session, actor=None, category=category_, data=data)


@dataclass
class Open311Park:
    """What the Open311 tests read and send against (tests/api)."""

    sensori: Building
    charging: Category
    secret: Category
    public: ServiceRequest
    private: ServiceRequest
    admin: User
    key: ApiKey
    raw: str  # the key's secret

    def __getitem__(self, name: str):
        return getattr(self, name)


def open311_park(session: Session, *, rate_limit_per_minute: int = 100) -> Open311Park:
    """The Sensori building with its pin; an EV-charging category with two questions (a
    choice and a text); a private security category; a public and a private request; and
    a key that may read and send."""
    sensori = building(
        session,
        code="SENSORI",
        name="Sensori",
        address="Tietokatu 6, 94600 Kemi",
        latitude=65.7369,
        longitude=24.5637,
    )
    charging = category(
        session, slug="ev-charging", names={"fi": "Sähköautojen lataus", "en": "EV charging"}
    )
    question(
        session,
        charging,
        code="spaces",
        kind=QuestionKind.single_choice,
        prompt_fi="Kuinka monta paikkaa?",
        prompt_en="How many spaces?",
        choices_fi="Kaksi\nNeljä",
        choices_en="Two\nFour",
    )
    question(session, charging, code="note", prompt_en="Anything else?", position=1)
    secret = category(
        session,
        slug="security",
        names={"fi": "Turvallisuus", "en": "Security"},
        default_visibility=Visibility.private,
    )
    public = service_request(
        session,
        category_=charging,
        building_id=sensori.id,
        title="EV charging points outside Sensori",
    )
    private = service_request(session, category_=secret, title="A broken lock in Sensori")
    admin = user(session, role=Role.admin)
    key, raw = api_keys.issue_key(
        session,
        admin=admin,
        data=api_keys.ApiKeyCreate(
            name="Kemi city",
            scopes=[ApiScope.read, ApiScope.submit],
            rate_limit_per_minute=rate_limit_per_minute,
        ),
    )
    return Open311Park(sensori, charging, secret, public, private, admin, key, raw)
