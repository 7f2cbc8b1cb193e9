"""E-mailed single-use links: sign in by link, reset a password, accept an invitation.

A link carries a random token; only its SHA-256 is kept. Redeeming claims the row with
one conditional UPDATE (unused and unexpired), so a link works once, even clicked twice
at the same moment. Asking for a link never tells whether an address has an account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from facilities.accounts.models import TENANT_ROLES, AccessToken, Role, TokenPurpose, User
from facilities.accounts.users import create_user, is_valid_email, normalize_email
from facilities.core import audit, outbox
from facilities.core.errors import ServiceError, ValidationFailed
from facilities.core.outbox import Email, Recipient, absolute_url
from facilities.settings import SUPPORTED_LOCALES

LIFETIMES = {
    TokenPurpose.magic_link: timedelta(minutes=15),
    TokenPurpose.password_reset: timedelta(hours=1),
    TokenPurpose.invitation: timedelta(days=7),
}
PATHS = {
    TokenPurpose.magic_link: "/login/link/",
    TokenPurpose.password_reset: "/password/reset/",
    TokenPurpose.invitation: "/invitations/",
}


class LinkNotValid(ServiceError):
    """The link is unknown, used already, or expired; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "unknown", "used", "expired", or "joined" (an invitation)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _issue(session: Session, *, purpose: TokenPurpose, now: datetime, **fields: object) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            purpose=purpose,
            token_hash=_hash(raw),
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
            **fields,  # type: ignore[arg-type]
        )
    )
    session.flush()
    return raw


def look_up(session: Session, *, purpose: TokenPurpose, raw: str, now: datetime) -> AccessToken:
    """The link's row if it can still be used; raises LinkNotValid otherwise."""
    if not raw or len(raw) > 100:
        raise LinkNotValid("unknown")
    token = session.exec(
        select(AccessToken).where(
            AccessToken.token_hash == _hash(raw), AccessToken.purpose == purpose
        )
    ).first()
    if token is None:
        raise LinkNotValid("unknown")
    if token.used_at is not None:
        raise LinkNotValid("used")
    if token.expires_at <= now:
        raise LinkNotValid("expired")
    return token


def redeem(session: Session, *, purpose: TokenPurpose, raw: str, now: datetime) -> AccessToken:
    """Use the link: valid once. Raises LinkNotValid."""
    token = look_up(session, purpose=purpose, raw=raw, now=now)
    claimed = session.exec(
        update(AccessToken)
        .where(col(AccessToken.id) == token.id, col(AccessToken.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise LinkNotValid("used")
    token.used_at = now
    return token


def _active_user(session: Session, email: str) -> User | None:
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    return user if user is not None and user.active else None


def send_sign_in_link(session: Session, *, email: str, language: str, now: datetime) -> None:
    """E-mail a sign-in link if the address has an active account, and word that it has
    none otherwise (the caller says the same either way)."""
    _send_to_user(
        session,
        email=email,
        language=language,
        purpose=TokenPurpose.magic_link,
        mail="sign_in_link",
        now=now,
    )


def send_password_reset(session: Session, *, email: str, language: str, now: datetime) -> None:
    _send_to_user(
        session,
        email=email,
        language=language,
        purpose=TokenPurpose.password_reset,
        mail="password_reset",
        now=now,
    )


def _send_to_user(
    session: Session,
    *,
    email: str,
    language: str,
    purpose: TokenPurpose,
    mail: str,
    now: datetime,
) -> None:
    """The same work whether the address has an account or not (a token issued, one
    e-mail rendered and queued), so the answer's time tells nobody which it is. Without
    an account the token names nobody and is not sent: the e-mail says there is none."""
    address = normalize_email(email)
    if not is_valid_email(address):
        return
    user = _active_user(session, address)
    raw = _issue(
        session, purpose=purpose, now=now, user_id=user.id if user else None, email=address
    )
    if user is not None:
        to = Recipient(address=user.email, name=user.name, language=user.preferred_language)
        context: dict[str, object] = {
            "url": absolute_url(PATHS[purpose] + raw),
            "minutes": int(LIFETIMES[purpose].total_seconds() // 60),
        }
    else:
        to = Recipient(address=address, name="", language=language)
        context = {"purpose": purpose.value, "url": absolute_url("/login")}
    outbox.queue(
        session,
        [
            Email(
                name=mail if user is not None else "no_account",
                key=f"{purpose.value}:{_hash(raw)[:16]}",
                to=to,
                context=context,
            )
        ],
        now=now,
    )


def user_of(session: Session, token: AccessToken) -> User | None:
    user = session.get(User, token.user_id) if token.user_id else None
    return user if user is not None and user.active else None


def invite(
    session: Session, *, inviter: User, email: str, name: str, language: str, now: datetime
) -> AccessToken:
    """A tenant admin invites a colleague into their company (a link for 7 days)."""
    if inviter.role != Role.tenant_admin or inviter.tenant_id is None:
        raise ValidationFailed({"email": _l("Only a company's admin invites colleagues.")})
    email = normalize_email(email)
    errors: dict[str, str] = {}
    if not is_valid_email(email):
        errors["email"] = _l("Enter an e-mail address like name@example.com.")
    elif (existing := session.exec(select(User).where(User.email == email)).first()) is not None:
        # Only a colleague's account is the admin's business; of any other, say no more
        # than that the address cannot be invited (staff can see to it).
        errors["email"] = (
            _l("%(email)s is already a member of your company.", email=email)
            if existing.tenant_id == inviter.tenant_id
            else _l("This address cannot be invited. Ask the park's staff.")
        )
    if not name.strip() or len(name) > 200:
        errors["name"] = _l("Enter a name.")
    if language not in SUPPORTED_LOCALES:
        errors["language"] = _l("Choose one of the options.")
    if errors:
        raise ValidationFailed(errors)
    raw = _issue(
        session,
        purpose=TokenPurpose.invitation,
        now=now,
        email=email,
        tenant_id=inviter.tenant_id,
        name=name.strip(),
        language=language,
        created_by_id=inviter.id,
    )
    token = session.exec(select(AccessToken).where(AccessToken.token_hash == _hash(raw))).one()
    audit.record(
        session,
        actor=inviter,
        action="user.invited",
        entity="access_token",
        entity_id=token.id,
        after={"email": email, "tenant_id": inviter.tenant_id},
    )
    outbox.queue(
        session,
        [
            Email(
                name="invitation",
                key=f"invitation:{token.id}",
                to=Recipient(address=email, name=token.name, language=language),
                context={
                    "url": absolute_url(PATHS[TokenPurpose.invitation] + raw),
                    "inviter": inviter.name,
                    "company": inviter.tenant.name if inviter.tenant else "",
                },
            )
        ],
        now=now,
    )
    return token


def accept_invitation(
    session: Session, *, raw: str, name: str, password: str, now: datetime
) -> User:
    """Join the company: the link spent, the account made. Raises LinkNotValid (reason
    "joined" once its account exists) or ValidationFailed (roll back: the link works).

    The link is claimed first: of two presses at once (a double click, two tabs) the
    second waits on the claim's row lock and finds it spent, so it never tries to make
    the account a second time."""
    try:
        token = redeem(session, purpose=TokenPurpose.invitation, raw=raw, now=now)
    except LinkNotValid as error:
        raise _joined_or(session, raw, error) from None
    try:
        with session.begin_nested():
            user = create_user(
                session,
                email=token.email,
                name=name,
                password=password,
                role=Role.member,
                tenant_id=token.tenant_id,
                preferred_language=token.language,
                actor=None,
            )
    except IntegrityError:  # the address got an account meanwhile, another way
        raise LinkNotValid("joined") from None
    assert user.role in TENANT_ROLES
    return user


def _joined_or(session: Session, raw: str, error: LinkNotValid) -> LinkNotValid:
    """A spent invitation whose address has an account was pressed again: "joined"."""
    if error.reason != "used":
        return error
    token = session.exec(
        select(AccessToken).where(
            AccessToken.token_hash == _hash(raw), AccessToken.purpose == TokenPurpose.invitation
        )
    ).first()
    if token is not None and _active_user(session, token.email) is not None:
        return LinkNotValid("joined")
    return error


def look_up_invitation(session: Session, *, raw: str, now: datetime) -> AccessToken:
    """The invitation a link is for, if it can still be used; raises LinkNotValid (with
    "joined" once it was used to make its account)."""
    try:
        return look_up(session, purpose=TokenPurpose.invitation, raw=raw, now=now)
    except LinkNotValid as error:
        raise _joined_or(session, raw, error) from None


def pending_invitations(session: Session, *, tenant_id: int, now: datetime) -> list[AccessToken]:
    return list(
        session.exec(
            select(AccessToken)
            .where(
                AccessToken.purpose == TokenPurpose.invitation,
                AccessToken.tenant_id == tenant_id,
                col(AccessToken.used_at).is_(None),
                col(AccessToken.expires_at) > now,
            )
            .order_by(col(AccessToken.created_at).desc())
        ).all()
    )
