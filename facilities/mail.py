"""Sending e-mail: over SMTP, or into the log when no SMTP host is configured (demo)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

from facilities.config import Settings
from facilities.models import Outbox, utcnow

log = logging.getLogger(__name__)


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def build_message(item: Outbox, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = item.recipient
    message["Subject"] = " ".join(item.subject.split())  # a header is one line
    message["Date"] = format_datetime(utcnow())
    # Derived from the idempotency key, so a resend after a crash can be recognised.
    message["Message-ID"] = make_msgid(
        idstring=item.idempotency_key.replace(":", "."), domain="facilities"
    )
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
