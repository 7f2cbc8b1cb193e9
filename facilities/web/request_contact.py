"""What staff read about a request sent through the API: the client, whom to contact, the pin.

Personal data (Open311's contact fields): only the staff detail page shows it, and the
retention job (requests.follow_up) clears it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask import request
from flask_babel import lazy_gettext as _l

from facilities import policy
from facilities.accounts.models import ApiKey, User
from facilities.requests.models import RequestSource, ServiceRequest

# Open311's fields beside the name, e-mail and phone; any others are shown by their key.
OTHER_FIELD_LABELS = {
    "device_id": _l("Device ID"),
    "account_id": _l("Account ID"),
    "media_url": _l("Photo address (not opened)"),
}
NAME_FIELDS = ("first_name", "last_name")


@dataclass(frozen=True)
class ContactRow:
    label: str
    text: str
    href: str | None = None  # mailto: or tel:, never an address that loads anything


@dataclass(frozen=True)
class Pin:
    latitude: float
    longitude: float

    @property
    def text(self) -> str:
        return f"{self.latitude:.6f}, {self.longitude:.6f}"

    @property
    def map_url(self) -> str:
        """OpenStreetMap with a marker: a link staff click, nothing the page loads."""
        return "https://www.openstreetmap.org/?" + urlencode(
            {"mlat": f"{self.latitude:.6f}", "mlon": f"{self.longitude:.6f}"}
        )


@dataclass(frozen=True)
class ApiSender:
    key: ApiKey | None  # None once the key is gone
    key_href: str | None  # the key's admin page, for admins only
    contact: list[ContactRow]
    pin: Pin | None


def contact_rows(contact: Mapping[str, object]) -> list[ContactRow]:
    """The contact fields as labelled rows: name, e-mail, phone, then the rest by key."""
    values = {str(key): str(value).strip() for key, value in contact.items() if value is not None}
    rows: list[ContactRow] = []
    name = " ".join(values[field] for field in NAME_FIELDS if values.get(field))
    if name:
        rows.append(ContactRow(str(_l("Name")), name))
    if email := values.get("email"):
        rows.append(ContactRow(str(_l("E-mail")), email, "mailto:" + quote(email, safe="@")))
    if phone := values.get("phone"):
        dialled = re.sub(r"[^0-9+]", "", phone)  # what a phone dials; the text stays as given
        rows.append(ContactRow(str(_l("Phone")), phone, f"tel:{dialled}" if dialled else None))
    for key in sorted(values):
        if key in (*NAME_FIELDS, "email", "phone") or not values[key]:
            continue
        rows.append(ContactRow(str(OTHER_FIELD_LABELS.get(key, key)), values[key]))
    return rows


def api_sender(service_request: ServiceRequest, viewer: User | None) -> ApiSender | None:
    """What the staff page shows of the API client; None for requests from elsewhere
    without a contact or pin."""
    pin = (
        Pin(service_request.latitude, service_request.longitude)
        if service_request.latitude is not None and service_request.longitude is not None
        else None
    )
    contact = contact_rows(service_request.contact or {})
    if service_request.source != RequestSource.api and not contact and pin is None:
        return None
    key = service_request.api_key
    key_href = None
    if key is not None and policy.may_administer(viewer):
        # a plain address: the admin screens of keys live in their own blueprint
        key_href = f"{request.script_root}/admin/api-keys/{key.id}"
    return ApiSender(key=key, key_href=key_href, contact=contact, pin=pin)
