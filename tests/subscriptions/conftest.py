"""The outbox tests' real SMTP server (aiosmtpd) and app, a client, and a small park."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import IsolatedClient
from tests.core import test_outbox

# The outbox tests' fixtures, shared here by name.
inbox = test_outbox.inbox
mail_app = test_outbox.mail_app
mail_db = test_outbox.mail_db


@pytest.fixture
def client(mail_app):
    mail_app.test_client_class = IsolatedClient
    return mail_app.test_client()


@pytest.fixture
def park(mail_db):
    category = factories.category(
        mail_db, slug="ev-charging", names={"fi": "Sähköautojen lataus", "en": "EV charging"}
    )
    building = factories.building(mail_db, code="SENSORI", name="Sensori")
    staff = factories.staff(mail_db)
    item = factories.service_request(
        mail_db, category_=category, building_id=building.id, title="Chargers at Sensori"
    )
    mail_db.commit()
    return {"category": category, "building": building, "staff": staff, "item": item}
