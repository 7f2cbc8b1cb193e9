"""Search over requests: Finnish and English words, and never another company's secrets."""

from __future__ import annotations

from sqlmodel import select

from facilities.park.models import Visibility
from facilities.requests.models import ServiceRequest
from facilities.requests.search import search_requests, search_words
from tests import factories
from tests.conftest import csrf_token, sign_in


def _titles(results) -> list[str]:
    return [item.title for item in results]


def test_words_shorter_than_three_letters_are_left_out():
    assert search_words("EV:n lataus ja latauspisteet, lataus!") == ["lataus", "latauspisteet"]


def test_finnish_and_english_word_forms_find_each_other(app, db):
    factories.service_request(db, title="Sähköautojen latauspisteet Sensorin eteen")
    factories.service_request(db, title="Charging points for electric cars at Halli 5")
    factories.service_request(db, title="Katettu pyöräkatos Innovaattorille")
    db.commit()
    assert _titles(search_requests(db, typed="latauspiste", viewer=None)) == [
        "Sähköautojen latauspisteet Sensorin eteen"
    ]
    assert _titles(search_requests(db, typed="latau", viewer=None)) == [
        "Sähköautojen latauspisteet Sensorin eteen"
    ]
    assert _titles(search_requests(db, typed="charging point", viewer=None)) == [
        "Charging points for electric cars at Halli 5"
    ]
    assert search_requests(db, typed="sauna", viewer=None) == []
    assert search_requests(db, typed="", viewer=None) == []


def test_private_requests_stay_in_their_company(app, db):
    company = factories.tenant(db)
    insider = factories.user(db, tenant_id=company.id)
    outsider = factories.user(db)
    staff = factories.staff(db)
    secret = factories.service_request(db, submitter=insider, title="Leaking radiator in our lab")
    secret.visibility = Visibility.private
    factories.service_request(db, title="Radiator noise in the lobby")
    db.commit()
    everyone = _titles(search_requests(db, typed="radiator", viewer=None))
    assert everyone == ["Radiator noise in the lobby"]
    assert _titles(search_requests(db, typed="radiator", viewer=outsider)) == everyone
    assert "Leaking radiator in our lab" in _titles(
        search_requests(db, typed="radiator", viewer=insider)
    )
    assert len(search_requests(db, typed="radiator", viewer=staff)) == 2


def test_a_changed_title_is_found_by_its_new_words(app, db):
    item = factories.service_request(db, title="Old words here")
    db.commit()
    item.title = "Snow ploughing of the bike path"
    db.add(item)
    db.commit()
    assert _titles(search_requests(db, typed="ploughing", viewer=None)) == [item.title]
    assert search_requests(db, typed="old words", viewer=None) == []


def test_similar_requests_appear_while_typing_and_without_javascript(app, client, db):
    from tests.conftest import sign_in

    company = factories.tenant(db)
    member = factories.user(db, tenant_id=company.id, preferred_language="en")
    other_company_secret = factories.service_request(db, title="Secret charger plans of others")
    other_company_secret.visibility = Visibility.private
    public = factories.service_request(db, title="Charger outside Sensori")
    db.commit()
    sign_in(client, member.email)
    typed = client.get("/tenant/requests/similar?title=charger", headers={"HX-Request": "true"})
    html = typed.get_data(as_text=True)
    assert typed.status_code == 200 and public.title in html and "<html" not in html
    assert "Secret charger" not in html
    assert f'formaction="/requests/{public.reference}/support"' in html
    # without JavaScript: the "look for similar" button reloads the form, text kept
    looked = client.get("/tenant/requests/new?title=charger+please&look=1&description=Two+of+them")
    page = looked.get_data(as_text=True)
    assert public.title in page and 'value="charger please"' in page and "Two of them" in page
    assert "Secret charger" not in page


def test_a_link_prefills_the_form(app, client, db, signed_in):
    signed_in()
    building = factories.building(db, code="SENSORI")
    category = factories.category(db, slug="ev-charging")
    db.commit()
    page = client.get(
        "/tenant/requests/new?building=sensori&category=ev-charging&location=Parking+row+B"
    ).get_data(as_text=True)
    assert f'<option value="{building.id}" selected' in page
    assert f'<option value="{category.id}" selected' in page
    assert 'value="Parking row B"' in page


def test_the_public_search_page_pages_and_hides_private_requests(app, client, db):
    for number in range(23):
        factories.service_request(db, title=f"Snow ploughing on path {number:02d}")
    hidden = factories.service_request(db, title="Snow ploughing secret")
    hidden.visibility = Visibility.private
    db.commit()
    client.get("/language/en")
    first = client.get("/search?q=ploughing").get_data(as_text=True)
    assert first.count('class="request-row"') == 20 and 'rel="next"' in first
    second = client.get("/search?q=ploughing&page=2").get_data(as_text=True)
    assert second.count('class="request-row"') == 3 and 'rel="next"' not in second
    assert "secret" not in first + second
    assert "No requests match" in client.get("/search?q=zzzzqqq").get_data(as_text=True)


def test_inflected_finnish_words_find_each_other(app, db):
    factories.service_request(db, title="Sähköautojen latauspisteet Sensorin eteen")
    db.commit()
    found = search_requests(db, typed="Latauspisteitä Sensorille", viewer=None)
    assert _titles(found) == ["Sähköautojen latauspisteet Sensorin eteen"]


def test_the_form_s_own_buttons_post_keep_everything_and_send_nothing(app, client, db):
    member = factories.user(db, preferred_language="en")
    public = factories.service_request(db, title="Charger outside Sensori")
    db.commit()
    sign_in(client, member.email)
    token = csrf_token(client, "/tenant/requests/new")
    form = {
        "csrf_token": token,
        "title": "charger please",
        "description": "Two of them",
        "show_name": "1",
        "category_id": str(public.category_id),
    }
    for _ in range(12):  # more than the submission limit: looking is not sending
        looked = client.post("/tenant/requests/new", data={**form, "look": "1"})
        assert looked.status_code == 200
    page = looked.get_data(as_text=True)
    assert public.title in page and 'value="charger please"' in page and "Two of them" in page
    assert 'id="show_name" name="show_name" type="checkbox" value="1" checked' in page
    assert f'<option value="{public.category_id}" selected' in page
    assert (
        db.exec(select(ServiceRequest).where(ServiceRequest.title == "charger please")).first()
        is None
    )
