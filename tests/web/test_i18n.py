import gettext
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests import factories
from tests.conftest import csrf_token, sign_in

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "facilities" / "translations"


def _source_messages() -> set[str]:
    method_map = [
        ("facilities/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", ["fi", "en", "sv"])
def test_every_user_visible_string_is_translated(locale):
    with (CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]  # plurals: (singular, plural)
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(_source_messages() - translated)
    assert missing == [], f"{locale} lacks translations; run `facilities translations update`"


@pytest.mark.parametrize("locale", ["fi", "en", "sv"])
def test_compiled_catalogs_match_their_sources(locale):
    folder = CATALOGS / locale / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as file:
        catalog = read_po(file)
    with (folder / "messages.mo").open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    stale = [
        m.id
        for m in catalog
        if m.id
        and m.string
        and (
            [compiled.ngettext(*m.id, n) for n in (1, 2)] != list(m.string)[:2]
            if isinstance(m.id, tuple)
            else compiled.gettext(m.id) != m.string
        )
    ]
    assert stale == [], "run `facilities translations update` to compile the catalogs"


def test_finnish_is_the_default_and_the_switch_changes_language(client):
    finnish = client.get("/").get_data(as_text=True)
    assert '<html lang="fi">' in finnish and "Tiekartta" in finnish

    response = client.post(
        "/language", data={"locale": "en", "next": "/", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english and "Roadmap" in english

    client.post("/language", data={"locale": "sv", "csrf_token": csrf_token(client)})
    assert '<html lang="sv">' in client.get("/").get_data(as_text=True)


def test_signed_in_users_keep_their_language(client, db):
    member = factories.user(db, preferred_language="en")
    db.commit()
    sign_in(client, member.email)
    assert '<html lang="en">' in client.get("/tenant/requests").get_data(as_text=True)


def test_times_are_shown_in_helsinki_time(client, db):
    from datetime import UTC, datetime

    item = factories.service_request(db, now=datetime(2026, 7, 1, 21, 30, tzinfo=UTC))
    db.commit()
    html = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert "2.7.2026 0.30" in html  # 21:30 UTC is 00:30 the next day in Helsinki (EEST)


def test_language_switch_returns_to_the_page_in_the_address_bar(client):
    token = csrf_token(client)
    # htmx changed the address bar to a filtered list; the page was rendered without filters
    response = client.post(
        "/language",
        data={"locale": "en", "next": "/", "csrf_token": token},
        headers={"Referer": "http://localhost/?planned_page=2"},
    )
    assert response.headers["Location"] == "/?planned_page=2"


def test_language_switch_after_a_failed_post_returns_to_a_page_not_the_form_action(client):
    token = csrf_token(client)
    response = client.post(
        "/language",
        data={"locale": "sv", "next": "http://localhost/login", "csrf_token": token},
        headers={"Referer": "http://localhost/staff/requests/DP-2026-0001/triage"},
    )
    assert response.headers["Location"] == "/login"


def test_language_switch_never_leaves_the_site(client):
    response = client.post(
        "/language",
        data={"locale": "sv", "next": "https://evil.example/", "csrf_token": csrf_token(client)},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert response.headers["Location"] == "/"


def test_the_first_visit_follows_the_browser_until_a_language_is_chosen(client):
    swedish = client.get("/", headers={"Accept-Language": "sv-FI,sv;q=0.9,en;q=0.5"})
    assert '<html lang="sv">' in swedish.get_data(as_text=True)
    assert "Accept-Language" in swedish.headers["Vary"]
    english = client.get("/", headers={"Accept-Language": "de-DE, en;q=0.7"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    none_of_ours = client.get("/", headers={"Accept-Language": "de-DE, ru;q=0.7"})
    assert '<html lang="fi">' in none_of_ours.get_data(as_text=True)
    client.get("/language/fi")  # the switch wins from then on
    chosen = client.get("/", headers={"Accept-Language": "sv"})
    assert '<html lang="fi">' in chosen.get_data(as_text=True)
