"""A category's extra questions: defined by admins, validated like the rest of the form,
shown to staff and the sender's company, never to the public."""

from __future__ import annotations

import pytest
from sqlmodel import select

from facilities.accounts.models import Role
from facilities.core.errors import ValidationFailed
from facilities.park.models import CategoryQuestion, QuestionKind
from facilities.park.questions import QuestionForm, check_answers, save_question
from facilities.requests.models import ServiceRequest
from tests import factories
from tests.conftest import csrf_token, sign_in


@pytest.fixture
def ev(db):
    category = factories.category(db, slug="ev-charging")
    vehicles = factories.question(
        db,
        category,
        code="vehicles",
        kind=QuestionKind.number,
        prompt_fi="Montako autoa?",
        prompt_en="How many cars?",
        required=True,
    )
    when = factories.question(
        db,
        category,
        code="when",
        kind=QuestionKind.single_choice,
        prompt_fi="Milloin?",
        prompt_en="When?",
        choices_fi="Päivällä\nYöllä",
        choices_en="By day\nAt night",
        position=2,
    )
    plugs = factories.question(
        db,
        category,
        code="plugs",
        kind=QuestionKind.multiple_choice,
        prompt_fi="Liittimet",
        prompt_en="Plugs",
        choices_fi="Tyyppi 2\nCCS\nSchuko",
        choices_en="Type 2\nCCS\nSchuko",
        position=3,
    )
    db.commit()
    return category, vehicles, when, plugs


def test_choices_get_stable_keys_from_the_english_words(ev):
    _category, _vehicles, when, plugs = ev
    assert [choice["key"] for choice in when.choices] == ["by-day", "at-night"]
    assert plugs.choices[2] == {"key": "schuko", "names": {"fi": "Schuko", "en": "Schuko"}}


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        ({}, {"q_vehicles": "This question needs an answer."}),
        ({"vehicles": ["  "]}, {"q_vehicles": "This question needs an answer."}),
        ({"vehicles": ["many"]}, {"q_vehicles": "Enter a number, for example 12 or 12,5."}),
        ({"vehicles": ["1e309"]}, {"q_vehicles": "Enter a number, for example 12 or 12,5."}),
        ({"vehicles": ["NaN"]}, {"q_vehicles": "Enter a number, for example 12 or 12,5."}),
        ({"vehicles": ["3"], "when": ["sometimes"]}, {"q_when": "Choose one of the options."}),
        ({"vehicles": ["3"], "plugs": ["ccs", "x"]}, {"q_plugs": "Choose one of the options."}),
    ],
)
def test_answers_are_checked(app, db, ev, raw, errors):
    _category, *questions = ev
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ValidationFailed) as failure:
            check_answers(questions, raw)
        assert {key: str(value) for key, value in failure.value.errors.items()} == errors


def test_good_answers_are_kept_in_their_own_shape(db, ev):
    _category, *questions = ev
    answers = check_answers(
        questions,
        {"vehicles": ["1 200,5"], "when": ["at-night"], "plugs": ["schuko", "type-2"], "x": ["?"]},
    )
    # numbers as numbers (Finnish comma and spaces), choices in the question's order,
    # and nothing that was not asked
    assert answers == {"vehicles": 1200.5, "when": "at-night", "plugs": ["type-2", "schuko"]}


def test_a_tenant_answers_and_staff_read_the_answers_but_the_public_does_not(app, db, ev):
    category, *_questions = ev
    member = factories.user(db, preferred_language="en")
    staff = factories.staff(db, preferred_language="en")
    db.commit()
    client = app.test_client()
    sign_in(client, member.email)
    form_page = client.get(f"/tenant/requests/new?category={category.slug}").get_data(as_text=True)
    assert "How many cars?" in form_page and 'name="q_plugs"' in form_page
    fragment = client.get(f"/tenant/requests/questions?category_id={category.id}")
    assert "How many cars?" in fragment.get_data(as_text=True)

    token = csrf_token(client, "/tenant/requests/new")
    base = {"csrf_token": token, "title": "Chargers for Halli 5", "category_id": str(category.id)}
    refused = client.post(
        "/tenant/requests/new", data={**base, "q_vehicles": "lots", "q_plugs": ["ccs"]}
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "How many cars?: Enter a number" in page  # in the summary, by the question's words
    assert 'value="lots"' in page and 'value="ccs" checked' in page  # the input comes back

    sent = client.post(
        "/tenant/requests/new",
        data={**base, "q_vehicles": "12", "q_when": "by-day", "q_plugs": ["ccs", "type-2"]},
    )
    assert sent.status_code == 302
    item = db.exec(select(ServiceRequest).where(ServiceRequest.title == base["title"])).one()
    assert item.answers == {"vehicles": 12, "when": "by-day", "plugs": ["type-2", "ccs"]}

    own = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert "How many cars?" in own and "Type 2, CCS" in own
    public = app.test_client().get(f"/requests/{item.reference}", headers={"Accept-Language": "en"})
    assert "How many cars?" not in public.get_data(as_text=True)
    desk = app.test_client()
    sign_in(desk, staff.email)
    staff_page = desk.get(f"/staff/requests/{item.reference}").get_data(as_text=True)
    assert "How many cars?" in staff_page and "By day" in staff_page


def test_a_retired_question_is_not_asked_but_its_answers_stay(app, db, ev):
    category, vehicles, _when, _plugs = ev
    admin = factories.user(db, role=Role.admin, preferred_language="en")
    member = factories.user(db, preferred_language="en")
    db.commit()
    client = app.test_client()
    sign_in(client, member.email)
    data = {
        "csrf_token": csrf_token(client, "/tenant/requests/new"),
        "title": "Four cars at Sensori",
        "category_id": str(category.id),
        "q_vehicles": "4",
    }
    assert client.post("/tenant/requests/new", data=data).status_code == 302
    item = db.exec(select(ServiceRequest).where(ServiceRequest.title == data["title"])).one()

    desk = app.test_client()
    sign_in(desk, admin.email)
    retired = desk.post(
        f"/admin/categories/{category.slug}/questions/{vehicles.id}/active",
        data={"csrf_token": csrf_token(desk, "/admin/categories"), "active": "0"},
    )
    assert retired.status_code == 302
    form_page = client.get(f"/tenant/requests/new?category={category.slug}").get_data(as_text=True)
    assert "How many cars?" not in form_page
    staff_page = desk.get(f"/staff/requests/{item.reference}").get_data(as_text=True)
    assert "How many cars?" in staff_page


def test_an_admin_defines_a_question_with_choices_in_three_languages(app, db):
    category = factories.category(db)
    admin = factories.user(db, role=Role.admin, preferred_language="en")
    db.commit()
    client = app.test_client()
    sign_in(client, admin.email)
    url = f"/admin/categories/{category.slug}/questions"
    token = csrf_token(client, url)
    form = {
        "csrf_token": token,
        "kind": "single_choice",
        "prompt_fi": "Kerros",
        "prompt_en": "Floor",
        "choices_fi": "1. kerros\n2. kerros",
        "choices_en": "Ground floor\nFirst floor\nSecond floor",
        "required": "1",
    }
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert "Write as many options as in Finnish (2), in the same order." in refused.get_data(
        as_text=True
    )
    assert "Ground floor" in refused.get_data(as_text=True)  # the input comes back

    form["choices_en"] = "Ground floor\nFirst floor"
    assert client.post(url, data=form).status_code == 302
    question = db.exec(
        select(CategoryQuestion).where(CategoryQuestion.category_id == category.id)
    ).one()
    assert (question.code, question.required) == ("floor", True)
    assert [c["key"] for c in question.choices] == ["ground-floor", "first-floor"]

    duplicate = client.post(url, data={**form, "code": "floor"})
    assert "already has a question with this code" in duplicate.get_data(as_text=True)

    # rewording keeps the keys, so answers already given keep their meaning
    edit = f"{url}/{question.id}"
    form["choices_en"] = "Street level\nFirst floor"
    assert client.post(edit, data=form).status_code == 302
    db.refresh(question)
    assert question.choices[0] == {
        "key": "ground-floor",
        "names": {"fi": "1. kerros", "en": "Street level"},
    }


def test_one_answer_for_a_choice_question_needs_two_options(db):
    category = factories.category(db)
    with pytest.raises(ValidationFailed) as failure:
        save_question(
            db,
            actor=None,
            category=category,
            data=QuestionForm(
                kind=QuestionKind.single_choice, prompt_fi="Kyllä?", choices_fi="Kyllä"
            ),
        )
    assert "choices_fi" in failure.value.errors


def _save(db, category, question=None, **fields):
    data = QuestionForm(**{"kind": QuestionKind.single_choice, "prompt_fi": "Kerros", **fields})
    return save_question(db, actor=None, category=category, data=data, question=question)


def test_options_keep_their_keys_when_moved_reworded_or_joined_by_new_ones(db):
    category = factories.category(db)
    question = _save(db, category, choices_fi="Yksi\nKaksi\nKolme")
    assert [c["key"] for c in question.choices] == ["yksi", "kaksi", "kolme"]
    # moved: the key follows the words; reworded in its place: the key stays; new: a key
    # of its own, never one an option has
    question = _save(db, category, question, choices_fi="Kolme\nKaksi ja puoli\nUusi")
    assert [c["key"] for c in question.choices] == ["kolme", "kaksi", "uusi"]
    question = _save(db, category, question, choices_fi="Kolme\nKaksi ja puoli\nUusi\nUusi!")
    assert [c["key"] for c in question.choices] == ["kolme", "kaksi", "uusi", "uusi-2"]


def test_a_question_keeps_its_kind_of_answer_apart_from_one_or_several_choices(db):
    category = factories.category(db)
    question = _save(db, category, choices_fi="A\nB")
    question = _save(db, category, question, kind=QuestionKind.multiple_choice, choices_fi="A\nB")
    assert question.kind == QuestionKind.multiple_choice
    with pytest.raises(ValidationFailed) as failure:
        _save(db, category, question, kind=QuestionKind.text)
    assert "kind" in failure.value.errors


def test_the_same_option_twice_and_two_answers_to_one_question_are_refused(app, db, ev):
    category = factories.category(db)
    with pytest.raises(ValidationFailed) as failure:
        _save(db, category, choices_fi="Kyllä\nkyllä")
    assert "choices_fi" in failure.value.errors
    _category, *questions = ev
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ValidationFailed) as refused:
            check_answers(questions, {"vehicles": ["3", "abc"]})
        assert str(refused.value.errors["q_vehicles"]) == "Give one answer."


def test_an_admin_sets_a_category_s_deadlines_and_default_assignee(app, db):
    category = factories.category(db, names={"fi": "Viat", "en": "Faults"})
    admin = factories.user(db, role=Role.admin, preferred_language="en")
    caretaker = factories.staff(db, name="Mikko Rautio")
    tenant_user = factories.user(db)
    db.commit()
    client = app.test_client()
    sign_in(client, admin.email)
    url = f"/admin/categories/{category.slug}"
    page = client.get(url).get_data(as_text=True)
    assert "Mikko Rautio" in page and 'name="response_urgent"' in page
    form = {
        "csrf_token": csrf_token(client, url),
        "name_fi": "Viat",
        "name_en": "Faults",
        "kind": "fault",
        "default_visibility": "private",
        "default_assignee": str(tenant_user.id),
        "active": "1",
        "response_urgent": "1",
        "resolution_urgent": "abc",
        "response_normal": "4,5",
    }
    refused = client.post(url, data=form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Enter hours as a number above zero" in text
    assert 'value="4,5"' in text  # the input comes back
    form.update(resolution_urgent="4")
    refused = client.post(url, data=form)  # a tenant's user cannot be the assignee
    assert "Choose a member of staff, or nobody." in refused.get_data(as_text=True)
    form.update(default_assignee=str(caretaker.id))
    assert client.post(url, data=form).status_code == 302
    db.refresh(category)
    assert category.sla_targets == {
        "urgent": {"response": 1, "resolution": 4},
        "normal": {"response": 4.5},
    }
    assert (category.default_assignee_id, category.kind.value) == (caretaker.id, "fault")
    assert category.default_visibility.value == "private"
    assert factories.service_request(db, category_=category).assignee_id == caretaker.id
