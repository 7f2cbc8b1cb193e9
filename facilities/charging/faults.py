"""Charger faults: opened by the operator's status or by a QR report, closed on recovery.

A charger has at most one open fault (a unique constraint, not only a check), so pushes
arriving together, a report and the job never open two.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from facilities.charging import emails
from facilities.charging.models import Charger, ChargerFault, ChargerLifecycle, EvseStatus
from facilities.charging.status import FAULTY, charger_states
from facilities.core import audit, outbox
from facilities.core.models import utcnow
from facilities.park.models import Building, Category, CategoryKind, Site, Visibility
from facilities.requests.intake import open_request
from facilities.requests.models import (
    RequestSource,
    RequestUpdate,
    ServiceRequest,
    Status,
    UpdateKind,
)
from facilities.requests.triage import claim_version
from facilities.requests.workflow import CLOSED_KINDS, StatusKind
from facilities.settings import REGIONAL_LOCALES, get_settings

FAULT_CATEGORY = "ev-charging-fault"
FAULT_CATEGORY_NAMES = {
    "fi": "Latauspisteen vika",
    "en": "EV charging fault",
    "sv": "Fel på laddpunkt",
}


def fault_category(session: Session) -> Category:
    """The "EV charging fault" category, made the first time a fault needs it."""
    category = session.exec(select(Category).where(Category.slug == FAULT_CATEGORY)).first()
    if category is None:
        site = session.exec(select(Site).order_by(col(Site.id))).first()
        if site is None:
            raise LookupError("no site: load the park first")
        assert site.id is not None
        category = Category(
            site_id=site.id,
            slug=FAULT_CATEGORY,
            names=dict(FAULT_CATEGORY_NAMES),
            kind=CategoryKind.fault,
            default_visibility=Visibility.public,
            position=90,
        )
        session.add(category)
        session.flush()
    return category


def open_fault_of(session: Session, charger: Charger) -> ChargerFault | None:
    return session.exec(
        select(ChargerFault).where(
            ChargerFault.charger_id == charger.id, col(ChargerFault.open).is_(True)
        )
    ).first()


def N_(message: str) -> str:  # the name babel extracts by default
    """Mark a message for translation without translating it here."""
    return message


def park_text(message: str, **values: object) -> str:
    """A text the park itself posts, in the park's language (public updates have one).
    Pass the message through N_() so that it is extracted for translation."""
    locale = get_settings().default_locale
    with force_locale(REGIONAL_LOCALES.get(locale, "fi_FI")):
        return _(message, **values)


def open_fault(
    session: Session,
    *,
    charger: Charger,
    title: str,
    automatic: bool,
    now: datetime,
) -> tuple[ChargerFault, bool]:
    """The charger's open fault, opening one (with its request) if there is none.
    Returns it and whether it was opened now."""
    existing = open_fault_of(session, charger)
    if existing is not None:
        return existing, False
    building = session.get(Building, charger.building_id)
    with session.begin_nested():
        try:
            request = open_request(
                session,
                category=fault_category(session),
                building=building,
                title=title,
                location_note=charger.location_note,
                submitter=None,
                now=now,
                source=RequestSource.charger,
            )
            assert request.id is not None and charger.id is not None
            fault = ChargerFault(
                charger_id=charger.id, request_id=request.id, automatic=automatic, opened_at=now
            )
            session.add(fault)
            session.flush()
        except IntegrityError:
            existing = None  # opened at the same moment elsewhere: use theirs
        else:
            audit.record(
                session,
                actor=None,
                action="charger.fault_opened",
                entity="charger",
                entity_id=charger.id,
                after={"request": request.reference, "automatic": automatic},
            )
            return fault, True
    existing = open_fault_of(session, charger)
    assert existing is not None
    return existing, False


def _status_of_kind(session: Session, kind: StatusKind) -> Status:
    status = session.exec(
        select(Status)
        .where(Status.kind == kind, col(Status.active).is_(True))
        .order_by(col(Status.position))
    ).first()
    if status is None:
        raise LookupError(f"no active status of kind {kind}")
    return status


def close_fault(
    session: Session, *, fault: ChargerFault, charger: Charger, now: datetime, fixed: bool
) -> None:
    """Close the fault. `fixed`: the charger works again, so its request is posted a
    public update and moved to Done (unless staff closed it already)."""
    request = session.get_one(ServiceRequest, fault.request_id)
    fault.open, fault.closed_at = None, now
    session.add(fault)
    current = session.get_one(Status, request.status_id)
    if fixed and current.kind not in CLOSED_KINDS:
        done = _status_of_kind(session, StatusKind.done)
        claim_version(session, request, expected=request.version, now=now)
        assert request.id is not None and done.id is not None
        entry = RequestUpdate(
            request_id=request.id,
            kind=UpdateKind.status_change,
            body=park_text(
                N_(
                    "Charger %(code)s works again: the operator reports it available. "
                    "Thank you for your patience."
                ),
                code=charger.code,
            ),
            from_status_id=current.id,
            to_status_id=done.id,
            created_at=now,
            published_at=now,
        )
        request.status_id = done.id
        session.add_all([request, entry])
        session.flush()
        outbox.queue(
            session, emails.fault_fixed(session, service_request=request, charger=charger), now=now
        )
    audit.record(
        session,
        actor=None,
        action="charger.fault_closed",
        entity="charger",
        entity_id=charger.id,
        after={"request": request.reference, "fixed": fixed},
    )
    session.flush()


def sync_faults(session: Session, now: datetime | None = None) -> int:
    """Open a fault for each charger out of order longer than the setting, close the
    automatic ones whose charger is available again, and let go of faults whose request
    staff have closed. Returns how many faults were opened or closed."""
    now = now or utcnow()
    settings = get_settings()
    fault_after = timedelta(minutes=settings.charging_fault_after_minutes)
    states = charger_states(
        session,
        stale_after=timedelta(minutes=settings.charging_stale_after_minutes),
        public_requests_only=False,
        now=now,
    )
    open_faults = {
        fault.charger_id: fault
        for fault in session.exec(select(ChargerFault).where(col(ChargerFault.open).is_(True)))
    }
    closed_kinds = [kind.value for kind in CLOSED_KINDS]
    handled = {
        request_id
        for request_id in session.exec(
            select(ServiceRequest.id)
            .join(Status, col(Status.id) == ServiceRequest.status_id)
            .where(
                col(ServiceRequest.id).in_([fault.request_id for fault in open_faults.values()]),
                col(Status.kind).in_(closed_kinds),
            )
        )
    }
    # A fault closed during an outage (staff judged it) is not reopened for the same
    # outage: only a new one, whose status changed after the close, opens a fault again.
    last_closed = dict(
        session.exec(
            select(ChargerFault.charger_id, func.max(ChargerFault.closed_at)).group_by(
                col(ChargerFault.charger_id)
            )
        ).all()
    )
    changes = 0
    for charger_id, handled_fault in list(open_faults.items()):
        if handled_fault.request_id in handled:  # staff closed the request themselves
            charger = session.get_one(Charger, charger_id)
            close_fault(session, fault=handled_fault, charger=charger, now=now, fixed=False)
            del open_faults[charger_id]
            last_closed[charger_id] = now
            changes += 1
    for state in states:
        charger, evse = state.charger, state.evse
        if charger.lifecycle is not ChargerLifecycle.operational or evse is None or state.stale:
            continue
        fault = open_faults.get(charger.id or 0)
        changed_at = evse.status_changed_at
        closed = last_closed.get(charger.id or 0)
        if evse.status in FAULTY and now - changed_at >= fault_after:
            if fault is None:
                if closed is None or changed_at > closed:
                    title = park_text(
                        N_("Charger %(code)s is out of order (%(building)s)"),
                        code=charger.code,
                        building=state.building.name,
                    )
                    _, opened = open_fault(
                        session, charger=charger, title=title, automatic=True, now=now
                    )
                    changes += int(opened)
            elif not fault.automatic:
                # a person reported it and the operator confirms: recovery closes it
                fault.automatic = True
                session.add(fault)
        elif evse.status is EvseStatus.AVAILABLE and fault is not None and fault.automatic:
            close_fault(session, fault=fault, charger=charger, now=now, fixed=True)
            changes += 1
    session.flush()
    return changes
