"""Sending e-mail: over SMTP, or into the log when no SMTP host is configured (demo)."""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr
from typing import Protocol

from facilities.core.models import Outbox
from facilities.settings import Settings

log = logging.getLogger(__name__)
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def message_id(item: Outbox, *, sender: str) -> str:
    """The Message-ID of one outbox row: the same for every attempt, in every process.

    A receiver that gets a message twice (we resend after a crash between the server's
    acceptance and our commit) can drop the copy by it.
    """
    digest = hashlib.sha256(item.idempotency_key.encode()).hexdigest()[:16]
    _name, address = parseaddr(sender)
    domain = address.rpartition("@")[2] if "@" in address else ""
    if not _DOMAIN.fullmatch(domain):
        domain = "facilities"
    return f"<outbox.{item.id}.{digest}@{domain.lower()}>"


# Headers whose values are lists of <URL>s (RFC 2369): a mail program reads them raw, so
# an encoded word, which Python folds a long URL into, hides the URL from it.
URL_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post", "list-help", "list-post"})
MAX_LINE = 998  # RFC 5322: no line longer, whatever the policy says
_BETWEEN_ENTRIES = re.compile(r"(?<=>)\s*,\s*(?=<)")


class _MailPolicy(EmailPolicy):
    """The default policy, but URL headers go out as written: folded only between their
    entries, never encoded."""

    def fold(self, name: str, value: str) -> str:
        return self._as_written(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        written = self._as_written(name, value)
        return written.encode("ascii") if written else super().fold_binary(name, value)

    def _as_written(self, name: str, value: str) -> str | None:
        text = " ".join(str(value).split())
        if name.lower() not in URL_HEADERS or not text.isascii():
            return None
        first, *others = _BETWEEN_ENTRIES.split(text)
        lines = [f"{name}: {first}"]  # a long URL stays whole: lines may have 998 octets
        for entry in others:
            if len(lines[-1]) + 2 + len(entry) > (self.max_line_length or MAX_LINE):
                lines[-1] += ","
                lines.append(f" {entry}")
            else:
                lines[-1] += f", {entry}"
        return self.linesep.join(lines) + self.linesep


POLICY = _MailPolicy()  # lines end in \n here; smtplib sends them as CRLF


def build_message(item: Outbox, *, sender: str, now: datetime) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = item.recipient
    message["Subject"] = " ".join(item.subject.split())  # a header is one line
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(item, sender=sender)
    for name, value in (item.headers or {}).items():
        message[name] = " ".join(value.split())  # one line each, as the subject
    message.set_content(item.body_text)
    return message


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_use_tls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)


class LogSender:
    """For development and the demo: the e-mail is shown in the console, not sent."""

    def send(self, message: EmailMessage) -> None:
        log.info(
            "e-mail (not sent, no SMTP host configured)\nTo: %s\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            message.get_content(),
        )


def sender_for(settings: Settings) -> MailSender:
    return SmtpSender(settings) if settings.smtp_host else LogSender()
