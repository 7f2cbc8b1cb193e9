"""The channels' scheduled job: the weekly "what changed on the roadmap" post.

Due from Monday 08:00 in the park's time zone and posted once per channel and ISO week:
the outbox key `channel:<id>:weekly:<year>-W<week>` is the claim, so a second run (or
a second scheduler) queues nothing. It covers the seven days before that Monday 08:00;
a channel added later in the week waits for the next Monday. A week without changes
posts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from facilities.channels.channels import PARK_LOCALE, queue_post
from facilities.channels.models import Channel
from facilities.channels.payloads import Post
from facilities.channels.posts import status_name
from facilities.core.jobs import Job
from facilities.core.models import AuditEvent, Outbox
from facilities.core.outbox import absolute_url
from facilities.park.models import Visibility
from facilities.requests.models import (
    RequestUpdate,
    ServiceRequest,
    Status,
    StatusKind,
    UpdateKind,
)
from facilities.requests.targets import quarter_of
from facilities.settings import get_settings

POST_TIME = time(8, 0)  # Monday, park time
MAX_LISTED = 50  # requests per section of one post


@dataclass(frozen=True)
class Week:
    starts: datetime  # the previous Monday 08:00, aware
    ends: datetime  # this Monday 08:00, aware: the post is due from here

    @property
    def label(self) -> str:
        year, week, _day = self.ends.isocalendar()
        return f"{year}-W{week:02d}"


def week_due(now: datetime) -> Week:
    """The week whose post is due at `now` (or, before Monday 08:00, the one before)."""
    zone = ZoneInfo(get_settings().timezone)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    ends = datetime.combine(monday, POST_TIME, tzinfo=zone)
    if local < ends:
        ends = datetime.combine(monday - timedelta(days=7), POST_TIME, tzinfo=zone)
    return Week(starts=ends - timedelta(days=7), ends=ends)


@dataclass
class Changes:
    done: list[tuple[ServiceRequest, str]] = field(default_factory=list)
    moved: list[tuple[ServiceRequest, str]] = field(default_factory=list)  # "A → B"
    targets: list[tuple[ServiceRequest, str]] = field(default_factory=list)  # "2027-Q2"

    def __bool__(self) -> bool:
        return bool(self.done or self.moved or self.targets)


def roadmap_changes(session: Session, week: Week) -> Changes:
    """What changed for public requests in `week`, as they stand now (public ones only)."""
    before, after = aliased(Status), aliased(Status)
    rows = session.exec(
        select(ServiceRequest, before, after)
        .join(RequestUpdate, col(RequestUpdate.request_id) == ServiceRequest.id)
        .outerjoin(before, col(before.id) == RequestUpdate.from_status_id)
        .join(after, col(after.id) == RequestUpdate.to_status_id)
        .where(
            RequestUpdate.kind == UpdateKind.status_change,
            col(RequestUpdate.published_at) >= week.starts,
            col(RequestUpdate.published_at) < week.ends,
            ServiceRequest.visibility == Visibility.public,
        )
        .order_by(col(RequestUpdate.published_at), col(RequestUpdate.id))
    ).all()
    # Per request, where the week started and where it ended (several changes: one line).
    first: dict[str, Status | None] = {}
    last: dict[str, tuple[ServiceRequest, Status]] = {}
    for service_request, from_status, to_status in rows:
        first.setdefault(service_request.reference, from_status)
        last[service_request.reference] = (service_request, to_status)
    changes = Changes()
    for reference, (service_request, to_status) in last.items():
        started = first[reference]
        if to_status.kind == StatusKind.done:
            changes.done.append((service_request, status_name(to_status)))
        elif started is None or started.id != to_status.id:
            moved = f"{status_name(started) or '–'} → {status_name(to_status)}"
            changes.moved.append((service_request, moved))
    # Targets set in the week: triage records them in the audit trail.
    targeted = session.exec(
        select(AuditEvent.entity_id, AuditEvent.after).where(
            AuditEvent.entity == "service_request",
            AuditEvent.action == "request.triaged",
            col(AuditEvent.at) >= week.starts,
            col(AuditEvent.at) < week.ends,
        )
    ).all()
    target_ids = {entity_id for entity_id, after in targeted if (after or {}).get("target")}
    if target_ids:
        for service_request in session.exec(
            select(ServiceRequest)
            .where(
                col(ServiceRequest.id).in_(target_ids),
                ServiceRequest.visibility == Visibility.public,
                col(ServiceRequest.target_start).is_not(None),
            )
            .order_by(col(ServiceRequest.target_start), col(ServiceRequest.id))
        ).all():
            target = quarter_of(service_request.target_start, service_request.target_end)
            changes.targets.append((service_request, target or str(service_request.target_start)))
    for listed in (changes.done, changes.moved, changes.targets):
        listed.sort(key=lambda pair: pair[0].reference)
        del listed[MAX_LISTED:]
    return changes


def weekly_post(week: Week, changes: Changes) -> Post:
    def line(service_request: ServiceRequest, note: str) -> str:
        url = absolute_url(f"/requests/{service_request.reference}")
        return f"• {service_request.reference} {service_request.title} ({note}) {url}"

    def item(service_request: ServiceRequest, note: str) -> dict[str, str]:
        return {
            "reference": service_request.reference,
            "title": service_request.title,
            "url": absolute_url(f"/requests/{service_request.reference}"),
            "note": note,
        }

    with force_locale(PARK_LOCALE):
        sections = [
            (_("Done"), changes.done),
            (_("Moved on"), changes.moved),
            (_("New targets"), changes.targets),
        ]
        headline = _("What changed on the roadmap, week %(week)s", week=week.label)
        link_label = _("Open the roadmap")
    text = "\n\n".join(
        "\n".join([f"{title}:", *(line(*pair) for pair in pairs)])
        for title, pairs in sections
        if pairs
    )
    return Post(
        event="roadmap.weekly",
        headline=headline,
        text=text,
        url=absolute_url("/"),
        link_label=link_label,
        details={
            "week": week.label,
            "from": week.starts.isoformat(),
            "until": week.ends.isoformat(),
            "done": [item(*pair) for pair in changes.done],
            "moved": [item(*pair) for pair in changes.moved],
            "new_targets": [item(*pair) for pair in changes.targets],
        },
    )


def weekly_key(channel: Channel, week: Week) -> str:
    return f"channel:{channel.id}:weekly:{week.label}"


def post_weekly_roadmap(session: Session, now: datetime) -> int:
    """Queue the week's roadmap post to each channel that wants it; returns how many."""
    week = week_due(now)
    channels = session.exec(
        select(Channel).where(
            col(Channel.active).is_(True),
            col(Channel.wants_weekly).is_(True),
            col(Channel.created_at) < week.ends,
        )
    ).all()
    keys = {weekly_key(channel, week): channel for channel in channels}
    posted = set(
        session.exec(
            select(Outbox.idempotency_key).where(col(Outbox.idempotency_key).in_(keys))
        ).all()
    )
    waiting = {key: channel for key, channel in keys.items() if key not in posted}
    if not waiting:
        return 0
    changes = roadmap_changes(session, week)
    if not changes:
        return 0
    post = weekly_post(week, changes)
    queued = sum(
        queue_post(session, channel=channel, post=post, key=key, now=now) is not None
        for key, channel in waiting.items()
    )
    session.commit()
    return queued


# Every five minutes rather than at 08:00 sharp: a scheduler down at 08:00 posts when it
# is back, and the key makes every later run of the week a no-op.
JOBS: tuple[Job, ...] = (
    Job(id="post-weekly-roadmap", function=post_weekly_roadmap, interval_seconds=300),
)
