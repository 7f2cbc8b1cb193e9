"""E-mails about chargers: each says who gets it and with what; templates say the rest."""

from __future__ import annotations

from sqlmodel import Session, col, select

from facilities.charging.models import Charger, FaultReport
from facilities.core.outbox import Email, Recipient, absolute_url
from facilities.requests.models import ServiceRequest


def report_confirmation(*, report: FaultReport, charger: Charger, token: str) -> list[Email]:
    """To whoever left an address with a QR report: confirm it before anything else."""
    if not report.email:
        return []
    return [
        Email(
            name="fault_report_confirm",
            key=f"fault-report:{report.id}:confirm",
            to=Recipient(address=report.email, name="", language=report.language),
            context={
                "charger": charger,
                "url": absolute_url(f"/charging/reports/confirm/{token}"),
            },
        )
    ]


def fault_fixed(
    session: Session, *, service_request: ServiceRequest, charger: Charger
) -> list[Email]:
    """To each confirmed reporter of the fault: the charger works again."""
    reports = session.exec(
        select(FaultReport).where(
            FaultReport.request_id == service_request.id,
            col(FaultReport.confirmed_at).is_not(None),
            FaultReport.email != "",
        )
    ).all()
    seen: set[str] = set()
    emails = []
    for report in reports:
        if report.email.lower() in seen:
            continue
        seen.add(report.email.lower())
        emails.append(
            Email(
                name="fault_fixed",
                key=f"fault:{service_request.id}:fixed:{report.id}",
                to=Recipient(address=report.email, name="", language=report.language),
                context={
                    "charger": charger,
                    "service_request": service_request,
                    "url": absolute_url(f"/requests/{service_request.reference}"),
                },
            )
        )
    return emails
