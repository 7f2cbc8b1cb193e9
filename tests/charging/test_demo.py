"""The demo's charging: its chargers, demand and open fault, and its operator pushing
status changes through the real OCPI receiver."""

from __future__ import annotations

from sqlmodel import select

from facilities.charging.models import Charger, ChargerFault, ChargingInterest, OcpiEvse
from facilities.core.models import utcnow
from facilities.demo import load_demo_data
from facilities.demo_charging import DemoOperator
from tests.charging.fake_operator import served


def test_the_demo_operator_pushes_through_the_receiver(app, db):
    assert load_demo_data(db, operator_token="demo-token") is True
    db.commit()
    [fault] = db.exec(select(ChargerFault).where(ChargerFault.open)).all()
    assert db.get(Charger, fault.charger_id).code == "SEN-4" and fault.automatic
    assert len(db.exec(select(ChargingInterest)).all()) == 6
    before = {evse.uid: evse.status for evse in db.exec(select(OcpiEvse))}

    with served(app) as base_url:
        operator = DemoOperator(base_url=base_url, token="demo-token", seed=7)
        pushed = sum(operator(db, utcnow()) for _ in range(5))
        wrong = DemoOperator(base_url=base_url, token="not-the-token", seed=7)
        try:
            wrong(db, utcnow())
        except Exception as error:  # the receiver refuses it: 401
            assert "401" in str(error)
        else:
            raise AssertionError("a wrong token was accepted")
    db.expire_all()
    after = {evse.uid: evse.status for evse in db.exec(select(OcpiEvse))}
    assert pushed == 5
    assert before != after  # five pushes changed something
    assert after["SEN4"] == before["SEN4"]  # the broken one stays broken
