"""Every e-mail template, rendered in every language with each of its branches: the
request's title starts its own line, never glued to the sentence before it, and a
message's text stands a paragraph apart (with the app's trim_blocks an `{% endif %}`
eats the newline after it unless told not to with `+%}`)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import render_template
from flask_babel import force_locale

from facilities.core.outbox import Recipient
from facilities.settings import REGIONAL_LOCALES

TEMPLATES = sorted(
    path.name for path in (Path(__file__).parents[2] / "templates" / "email").iterdir()
)
TITLE = "Sähköautojen latauspisteet Sensorin pihaan"
URL = "https://palvelut.example.fi/requests/DP-2026-0042"
_URLS = re.compile(r"https?://\S+")
_GLUED = re.compile(r"[:.,](?=[^\W\d_])")  # punctuation then a letter, no space between


def _contexts():
    """Each branch the templates have: a context per combination of their switches."""
    for first, second in itertools.product((True, False), repeat=2):
        service_request = SimpleNamespace(
            reference="DP-2026-0042",
            title=TITLE,
            assignee=SimpleNamespace(name="Sami Staff") if first else None,
        )
        status = SimpleNamespace(names={"fi": "Suunniteltu", "en": "Planned", "sv": "Planerad"})
        entry = SimpleNamespace(
            kind=SimpleNamespace(value="status_change" if first else "public_update"),
            to_status=status,
            body="Urakoitsija on valittu." if second else "",
            request=service_request,
        )
        yield {
            "recipient": Recipient(address="aino@example.com", name="Aino", language="fi"),
            "park_name": "Digipolis",
            "service_request": service_request,
            "entry": entry,
            "entries": [(entry, URL), (entry, URL)],
            "more": second,
            "roadmap_url": URL,
            "url": URL,
            "yes_url": URL,
            "no_url": URL,
            "unsubscribe_url": URL,
            "manage_url": URL if second else "",
            "followed": "EV charging",
            "frequency": "weekly" if first else "daily",
            "confirmed": first,
            "following": second,
            "author_name": "Aino",
            "author_company": "Kide Oy" if first else "",
            "files": 2 if second else 0,
            "deadline": SimpleNamespace(
                kind="response" if first else "resolution",
                due=datetime(2026, 12, 7, 10, 30, tzinfo=UTC),
            ),
            "purpose": "password_reset" if first else "magic_link",
            "days": 5,
            "minutes": 15,
            "inviter": "Aino",
            "company": "Kide Oy",
            "charger": SimpleNamespace(code="SEN-01", name="Sensori A"),
        }


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("language", ["fi", "en", "sv"])
def test_every_e_mail_starts_the_title_on_its_own_line(app, name, language):
    with app.app_context(), force_locale(REGIONAL_LOCALES[language]):
        for context in _contexts():
            body = render_template(f"email/{name}/body.txt", **context)
            subject = render_template(f"email/{name}/subject.txt", **context)
            assert "\n" not in subject.strip()
            lines = body.splitlines()
            for number, line in enumerate(lines):
                if line == "Urakoitsija on valittu.":  # a message's text: a paragraph apart
                    assert lines[number - 1] == "", (name, lines[number - 1])
                assert not _GLUED.search(_URLS.sub("URL", line)), (name, line)
                if TITLE in line:
                    assert line.startswith(TITLE) or line.startswith("* "), (name, line)
