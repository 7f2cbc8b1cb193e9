"""Demo data: an invented but believable day in a technology park in Kemi."""

from __future__ import annotations

import io
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from sqlmodel import Session, select

from facilities.accounts.api_keys import ApiKeyCreate, issue_key, record_use, revoke_key
from facilities.accounts.models import ApiScope, Role, User
from facilities.accounts.users import create_user
from facilities.channels.channels import ChannelForm, save_channel
from facilities.channels.models import ChannelFormat
from facilities.core.models import utcnow
from facilities.core.storage import Storage
from facilities.core.uploads import read_upload
from facilities.demo_charging import load_charging
from facilities.park.models import (
    Building,
    Category,
    CategoryKind,
    QuestionKind,
    Site,
    Tenant,
    Visibility,
)
from facilities.park.queries import business_id
from facilities.park.questions import QuestionForm, save_question
from facilities.requests.entry import EnteredRequest, enter_requests
from facilities.requests.intake import submit_from_api, submit_request
from facilities.requests.models import (
    Priority,
    RequestSource,
    ServiceRequest,
    ServiceRequestCreate,
    ServiceRequestTriage,
    Status,
)
from facilities.requests.responses import ResponseTemplateForm, save_template
from facilities.requests.saved_views import save_view
from facilities.requests.supports import support_request
from facilities.requests.targets import quarter_choices, quarter_of
from facilities.requests.triage import triage_request
from facilities.requests.works import ScheduledWorkForm, add_work
from facilities.subscriptions.models import Frequency, Subscription, SubscriptionScope
from facilities.subscriptions.subscribing import new_token

SITE_CODE = "DIGIPOLIS"
DEMO_PASSWORD = "kemi-demo-2026"


@dataclass(frozen=True)
class DemoSignIn:
    role: str
    email: str
    password: str
    name: str


BUILDINGS = [
    ("SENSORI", "Sensori", "Tietokatu 1, 94600 Kemi", 65.7395, 24.5826),
    ("INNOVAATTORI", "Innovaattori", "Tietokatu 3, 94600 Kemi", 65.7401, 24.5841),
    ("TEKNOLOGIATALO", "Teknologiatalo", "Tietokatu 5, 94600 Kemi", 65.7408, 24.5860),
    ("HALLI5", "Halli 5", "Teollisuustie 12, 94600 Kemi", 65.7389, 24.5885),
]
CATEGORIES = [
    (
        "ev-charging",
        CategoryKind.idea,
        Visibility.public,
        {"fi": "Sähköautojen lataus", "en": "EV charging", "sv": "Laddning av elbilar"},
    ),
    (
        "parking-traffic",
        CategoryKind.idea,
        Visibility.public,
        {"fi": "Pysäköinti ja liikenne", "en": "Parking and traffic", "sv": "Parkering och trafik"},
    ),
    (
        "heating-ventilation",
        CategoryKind.fault,
        Visibility.private,
        {
            "fi": "Lämmitys ja ilmanvaihto",
            "en": "Heating and ventilation",
            "sv": "Värme och ventilation",
        },
    ),
    (
        "cleaning-waste",
        CategoryKind.service,
        Visibility.private,
        {"fi": "Siivous ja jätehuolto", "en": "Cleaning and waste", "sv": "Städning och avfall"},
    ),
    (
        "outdoor-lighting",
        CategoryKind.fault,
        Visibility.public,
        {
            "fi": "Ulkoalueet ja valaistus",
            "en": "Outdoor areas and lighting",
            "sv": "Utomhusområden och belysning",
        },
    ),
    (
        "connectivity",
        CategoryKind.service,
        Visibility.private,
        {
            "fi": "Tietoliikenne ja digipalvelut",
            "en": "Connectivity and digital services",
            "sv": "Uppkoppling och digitala tjänster",
        },
    ),
    (
        "circular-economy",
        CategoryKind.idea,
        Visibility.public,
        {"fi": "Kiertotalous", "en": "Circular economy", "sv": "Cirkulär ekonomi"},
    ),
    (
        "networking-events",
        CategoryKind.idea,
        Visibility.public,
        {
            "fi": "Verkostoituminen ja tapahtumat",
            "en": "Networking and events",
            "sv": "Nätverk och evenemang",
        },
    ),
    (
        "meeting-rooms",
        CategoryKind.service,
        Visibility.public,
        {
            "fi": "Neuvotteluhuoneet ja yhteiset tilat",
            "en": "Meeting rooms and shared spaces",
            "sv": "Mötesrum och gemensamma utrymmen",
        },
    ),
]
TENANTS = [
    ("Arktinen Anturi Oy", "2874501", ["SENSORI"]),
    ("Perämeren Automaatio Oy", "3012876", ["INNOVAATTORI", "HALLI5"]),
    ("Kemin Datapaja Oy", "2650893", ["TEKNOLOGIATALO"]),
    ("Lumo Circular Oy", "3144027", ["HALLI5"]),
    ("Pohjoisen Prosessianalytiikka Oy", "2788315", ["SENSORI", "TEKNOLOGIATALO"]),
    ("Kaamos Design Oy", "3275569", ["INNOVAATTORI"]),
]
USERS = [
    ("admin@digipolis.example", "Kaisa Pelkonen", Role.admin, None),
    ("huolto@digipolis.example", "Mikko Rautio", Role.staff, None),
    ("aino.virtanen@arktinenanturi.example", "Aino Virtanen", Role.member, "Arktinen Anturi Oy"),
    (
        "jari.kemppainen@perameri.example",
        "Jari Kemppainen",
        Role.tenant_admin,
        "Perämeren Automaatio Oy",
    ),
    ("laura.niemi@datapaja.example", "Laura Niemi", Role.member, "Kemin Datapaja Oy"),
    ("oskari.heikkila@lumo.example", "Oskari Heikkilä", Role.member, "Lumo Circular Oy"),
    ("satu.lehto@ppa.example", "Satu Lehto", Role.member, "Pohjoisen Prosessianalytiikka Oy"),
    ("emma.salmi@kaamos.example", "Emma Salmi", Role.member, "Kaamos Design Oy"),
]


@dataclass(frozen=True)
class DemoRequest:
    key: str
    submitter: str
    category: str
    building: str | None
    title: str
    description: str
    days_ago: int
    steps: tuple[dict, ...] = ()  # triage forms applied in order, each a day apart


REQUESTS = [
    DemoRequest(
        "ev",
        "aino.virtanen@arktinenanturi.example",
        "ev-charging",
        "SENSORI",
        "Sähköautojen latauspisteet Sensorin eteen",
        "Sensorissa työskentelee nyt yli 80 henkeä, ja yhä useampi tulee töihin sähköautolla. "
        "Lähin latauspiste on kaupungin keskustassa.\n\n"
        "Ehdotamme **4–6 latauspistettä** Sensorin pääoven eteiselle pysäköintialueelle:\n\n"
        "- 11 kW AC riittää työpäivän aikana\n- maksu lähimaksulla tai sovelluksella\n"
        "- yksi paikka esteettömäksi",
        120,
        (
            {
                "status": "review",
                "public_update": "Kiitos ehdotuksesta! Selvitämme sähköliittymän "
                "kapasiteetin ja kustannukset yhdessä verkkoyhtiön kanssa.",
            },
            {
                "status": "planned",
                "target": 1,
                "public_update": "Latauspisteet on hyväksytty "
                "ensi vuoden investointisuunnitelmaan. Kilpailutus alkaa tammikuussa.",
            },
        ),
    ),
    DemoRequest(
        "bikes",
        "emma.salmi@kaamos.example",
        "parking-traffic",
        "INNOVAATTORI",
        "Katettu pyöräkatos Innovaattorin sisäänkäynnille",
        "Kesäisin pyöriä on kaiteissa ja nurmikolla. Katos ja runkolukittavat telineet "
        "saisivat useamman pyöräilemään myös syksyllä.",
        40,
        (
            {"status": "review"},
            {
                "status": "planned",
                "target": 2,
                "public_update": "Katos on mukana puolen vuoden päästä alkavassa "
                "pihatöiden urakassa.",
            },
        ),
    ),
    DemoRequest(
        "lights",
        "satu.lehto@ppa.example",
        "outdoor-lighting",
        None,
        "Kävelytien valot Sensorin ja Halli 5:n välillä eivät toimi",
        "Kolme pylvästä on pimeänä. Aamulla kulkiessa väylä on täysin pimeä ja liukas.",
        9,
        (
            {
                "status": "in-progress",
                "priority": "high",
                "public_update": "Sähköurakoitsija on tilattu. "
                "Viallinen syöttökaapeli vaihdetaan tällä viikolla.",
            },
        ),
    ),
    DemoRequest(
        "hvac",
        "aino.virtanen@arktinenanturi.example",
        "heating-ventilation",
        "SENSORI",
        "Neuvotteluhuone Kaamos on liian kuuma iltapäivisin",
        "Lämpötila nousee iltapäivällä 27 asteeseen, kun huoneessa on yli kuusi henkeä.",
        14,
        (
            {"status": "review", "internal_note": "Tarkistettu: tuloilman säätöpelti jumissa."},
            {
                "status": "waiting",
                "public_update": "Odotamme varaosaa toimittajalta, arvio kaksi viikkoa.",
            },
        ),
    ),
    DemoRequest(
        "ewaste",
        "oskari.heikkila@lumo.example",
        "circular-economy",
        "HALLI5",
        "Elektroniikkaromun keräyspiste puiston yrityksille",
        "Moni yritys säilyttää vanhoja näyttöjä ja kaapeleita varastossa. Yhteinen keräyspiste "
        "ja kierrätyspäivä kahdesti vuodessa helpottaisi.",
        200,
        (
            {
                "status": "planned",
                "public_update": "Kokeilemme keräyspistettä Halli 5:n lastauslaiturilla.",
            },
            {"status": "in-progress"},
            {
                "status": "done",
                "public_update": "Keräyspiste on käytössä. Ensimmäisenä kuukautena "
                "kertyi 1,2 tonnia elektroniikkaa.",
            },
        ),
    ),
    DemoRequest(
        "sauna",
        "laura.niemi@datapaja.example",
        "networking-events",
        "TEKNOLOGIATALO",
        "Yhteinen saunavuoro perjantaisin",
        "Teknologiatalon saunan voisi varata puiston yhteiseksi saunavuoroksi perjantai-iltaisin.",
        60,
        (
            {
                "status": "not-planned",
                "public_update": "Teknologiatalon sauna kuuluu vuokrasopimuksella "
                "yhdelle yritykselle, joten yhteistä vuoroa ei voida järjestää. Kehityshanke selvittää "
                "muita kohtaamispaikkoja.",
            },
        ),
    ),
    DemoRequest(
        "ev-dup",
        "jari.kemppainen@perameri.example",
        "ev-charging",
        "SENSORI",
        "Latauspaikkoja työntekijöiden autoille",
        "Voisiko Sensorin parkkipaikalle tulla latausmahdollisuus?",
        30,
        (
            {
                "status": "duplicate",
                "duplicate_of": "ev",
                "public_update": "Sama asia on jo suunnitteilla.",
            },
        ),
    ),
    DemoRequest(
        "coverage",
        "jari.kemppainen@perameri.example",
        "connectivity",
        "HALLI5",
        "Mobiiliverkon kuuluvuus Halli 5:n takaosassa",
        "Puhelut katkeavat hallin takaosassa. Tarvitsisimme sisäverkon toistimen tai WLAN-puhelut.",
        2,
    ),
    DemoRequest(
        "breakfast",
        "emma.salmi@kaamos.example",
        "networking-events",
        "INNOVAATTORI",
        "Kuukausittainen yritysaamiainen",
        "Kerran kuussa aamiainen, jossa yksi yritys esittelee itsensä viidessä minuutissa.",
        25,
        (
            {
                "status": "planned",
                "target": 0,
                "public_update": "Ensimmäinen aamiainen pidetään "
                "Innovaattorin aulassa. Kehityshanke hoitaa ilmoittautumiset.",
            },
        ),
    ),
    DemoRequest(
        "room-displays",
        "satu.lehto@ppa.example",
        "meeting-rooms",
        "TEKNOLOGIATALO",
        "Varausnäytöt neuvotteluhuoneiden oviin",
        "Huoneiden varaustilanne ei näy ovella, ja palaverit keskeytyvät.",
        50,
        (
            {"status": "planned"},
            {
                "status": "in-progress",
                "public_update": "Näytöt on tilattu, asennus kerroksittain joulukuussa.",
            },
        ),
    ),
    DemoRequest(
        "cardboard",
        "oskari.heikkila@lumo.example",
        "cleaning-waste",
        "HALLI5",
        "Lisää pahvinkeräysastioita jätekatokseen",
        "Astiat ovat täynnä jo tiistaina.",
        1,
    ),
    DemoRequest(
        "ploughing",
        "laura.niemi@datapaja.example",
        "parking-traffic",
        None,
        "Pysäköintialueen aurausjärjestys",
        "Aurataan ensin henkilökunnan pysäköinti ja vasta sitten lastausalue, niin aamun "
        "ruuhka ei jää lumen alle.",
        300,
        ({"status": "done", "public_update": "Aurausjärjestys on muutettu urakkasopimukseen."},),
    ),
    DemoRequest(
        "workshop",
        "aino.virtanen@arktinenanturi.example",
        "networking-events",
        None,
        "Työpaja: millainen on puiston liikkuminen vuonna 2030?",
        "Kehityshanke voisi koota yritykset työpajaan liikkumisen ja pysäköinnin tulevaisuudesta.",
        20,
        (
            {
                "status": "in-progress",
                "public_update": "Kysely on auki joulukuun loppuun, työpaja "
                "pidetään tammikuussa Sensorissa.",
            },
        ),
    ),
    DemoRequest(
        "news",
        "laura.niemi@datapaja.example",
        "connectivity",
        None,
        "Tilapäivitykset puiston uutiskanavaan",
        "Uutiskanava voisi näyttää, mitä parannuksia on tulossa, ilman että kenenkään "
        "tarvitsee kirjautua.",
        6,
        ({"status": "review", "visibility": "public"},),
    ),
]


# Business hours to the first answer and to the fix, per priority (the SLA): faults are
# fixed against the clock, ideas get an answer.
SLA_TARGETS: dict[CategoryKind, dict[str, dict[str, float]]] = {
    CategoryKind.fault: {
        "urgent": {"response": 1, "resolution": 4},
        "high": {"response": 2, "resolution": 8},
        "normal": {"response": 4, "resolution": 24},
        "low": {"response": 8, "resolution": 40},
    },
    CategoryKind.service: {
        "high": {"response": 4, "resolution": 16},
        "normal": {"response": 8, "resolution": 40},
        "low": {"response": 16, "resolution": 80},
    },
    CategoryKind.idea: {
        "high": {"response": 8},
        "normal": {"response": 16},
        "low": {"response": 24},
    },
}

# The categories' extra questions (Open311 attributes): what the property manager needs
# to know to weigh an idea or find a fault.
QUESTIONS = {
    "ev-charging": [
        QuestionForm(
            code="vehicles",
            kind=QuestionKind.number,
            prompt_fi="Montako sähköautoa yrityksessänne latatisi täällä?",
            prompt_en="How many electric cars in your company would charge here?",
            prompt_sv="Hur många elbilar i ert företag skulle laddas här?",
            hint_fi="Arvio riittää: henkilöstön ja yrityksen autot yhteensä.",
            hint_en="An estimate will do: staff and company cars together.",
            hint_sv="En uppskattning räcker: personalens och företagets bilar tillsammans.",
            required=True,
            position=1,
        ),
        QuestionForm(
            code="charging-time",
            kind=QuestionKind.single_choice,
            prompt_fi="Milloin autot latautuisivat?",
            prompt_en="When would the cars charge?",
            prompt_sv="När skulle bilarna laddas?",
            choices_fi="Työpäivän aikana\nIltaisin ja öisin\nMolempina",
            choices_en="During the working day\nEvenings and nights\nBoth",
            choices_sv="Under arbetsdagen\nKvällar och nätter\nBåda",
            position=2,
        ),
    ],
    "heating-ventilation": [
        QuestionForm(
            code="room",
            kind=QuestionKind.text,
            prompt_fi="Huone tai tila",
            prompt_en="Room or space",
            prompt_sv="Rum eller utrymme",
            hint_fi="Esimerkiksi huoneen numero tai nimi ovessa.",
            hint_en="For example the room number or the name on the door.",
            hint_sv="Till exempel rummets nummer eller namnet på dörren.",
            required=True,
            position=1,
        ),
        QuestionForm(
            code="symptoms",
            kind=QuestionKind.multiple_choice,
            prompt_fi="Mitä huomasit?",
            prompt_en="What did you notice?",
            prompt_sv="Vad märkte du?",
            choices_fi="Liian kuuma\nLiian kylmä\nTunkkainen ilma\nVeto\nÄäni",
            choices_en="Too hot\nToo cold\nStuffy air\nDraught\nNoise",
            choices_sv="För varmt\nFör kallt\nInstängd luft\nDrag\nLjud",
            position=2,
        ),
    ],
}
ANSWERS = {
    "ev": {"vehicles": ["14"], "charging-time": ["during-the-working-day"]},
    "ev-dup": {"vehicles": ["3"], "charging-time": ["both"]},
    "hvac": {"room": ["Neuvotteluhuone Kaamos, 2. krs"], "symptoms": ["too-hot", "stuffy-air"]},
}
NAMED = {"ev"}  # the sender chose to be named on the public page

# Ready-made replies staff start a public update from (a category's, or for every request).
RESPONSE_TEMPLATES = [
    (
        "Kiitos, selvitämme",
        None,
        "Kiitos pyynnöstä {reference}! Olemme ottaneet sen käsittelyyn ja kerromme tällä "
        "sivulla, kun asia etenee.",
        "Thank you for request {reference}! We are looking into it and will post here as "
        "soon as there is news.",
        "Tack för begäran {reference}! Vi har tagit den till behandling och berättar här "
        "när ärendet går framåt.",
    ),
    (
        "Suunnitteilla ensi neljännekselle",
        None,
        "Hyvä ehdotus: ”{title}” on otettu mukaan ensi neljänneksen suunnitelmaan. "
        "Aikataulu tarkentuu, kun työt on kilpailutettu.",
        "Good suggestion: “{title}” is now part of the plan for next quarter. The timetable "
        "becomes clearer once the work has been put out to tender.",
        "Bra förslag: ”{title}” ingår nu i planen för nästa kvartal. Tidtabellen preciseras "
        "när arbetet har konkurrensutsatts.",
    ),
    (
        "Vaatii vuokranantajan päätöksen",
        None,
        "Tämä muutos vaatii kiinteistön omistajan päätöksen. Olemme vieneet asian "
        "omistajalle, ja päätöstä odotetaan seuraavassa hallituksen kokouksessa.",
        "This change needs the property owner's decision. We have taken it to the owner, "
        "and a decision is expected at the next board meeting.",
        "Ändringen kräver fastighetsägarens beslut. Vi har fört ärendet vidare till ägaren, "
        "och ett beslut väntas vid nästa styrelsemöte.",
    ),
    (
        "Latauspisteet: kysyntäkartoitus",
        "ev-charging",
        "Kiitos! Kartoitamme latauspisteiden kysyntää koko kampuksella. Kertokaa "
        "yrityksenne sähköautojen määrä latauksen sivulla, niin se painaa päätöksessä.",
        "Thank you! We are mapping the demand for charging points across the campus. Tell us "
        "how many electric cars your company has on the charging page, so that it counts "
        "in the decision.",
        "Tack! Vi kartlägger efterfrågan på laddplatser på hela campus. Berätta hur många "
        "elbilar ert företag har på laddningssidan, så väger det in i beslutet.",
    ),
]


def demo_photo() -> bytes:
    """A sketch of the parking area in front of Sensori, as a sender might attach."""
    image = Image.new("RGB", (960, 600), (92, 98, 104))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 960, 140), fill=(186, 196, 204))  # the building's front
    draw.text((24, 54), "SENSORI", fill=(40, 48, 56), font_size=48)
    for number in range(8):
        left = 40 + number * 112
        draw.rectangle((left, 300, left + 6, 560), fill=(235, 235, 235))
        draw.text((left + 36, 520), f"P{number + 1}", fill=(235, 235, 235), font_size=28)
    draw.rectangle((40, 300, 950, 306), fill=(235, 235, 235))
    draw.rectangle((600, 200, 930, 290), outline=(46, 160, 90), width=6)
    draw.text((616, 222), "4-6 x 11 kW?", fill=(200, 240, 210), font_size=40)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def load_demo_data(
    session: Session,
    *,
    now: datetime | None = None,
    operator_token: str | None = None,
    storage: Storage | None = None,
    api_key_file: Path | None = None,
) -> bool:
    """Load the demo park once; returns False when it was already there. The demo charge
    point operator calls the OCPI receiver with `operator_token` (random when not given);
    with a `storage` the requests get their photos too. The city's API key is shown once,
    as to an admin: written to `api_key_file` when given."""
    if session.exec(select(Site).where(Site.code == SITE_CODE)).first() is not None:
        return False
    now = now or utcnow()
    site = Site(code=SITE_CODE, name="Digipolis", reference_prefix="DP")
    session.add(site)
    session.flush()
    assert site.id is not None
    buildings = {}
    for code, name, address, latitude, longitude in BUILDINGS:
        buildings[code] = Building(
            site_id=site.id,
            code=code,
            name=name,
            address=address,
            latitude=latitude,
            longitude=longitude,
        )
        session.add(buildings[code])
    categories = {}
    for position, (slug, kind, visibility, names) in enumerate(CATEGORIES):
        categories[slug] = Category(
            site_id=site.id,
            slug=slug,
            names=names,
            kind=kind,
            default_visibility=visibility,
            position=position,
            sla_targets=SLA_TARGETS[kind],
        )
        session.add(categories[slug])
    tenants = {}
    for name, base, occupied in TENANTS:
        tenants[name] = Tenant(
            site_id=site.id,
            name=name,
            business_id=business_id(base),
            buildings=[buildings[code] for code in occupied],
        )
        session.add(tenants[name])
    session.flush()
    for slug, questions in QUESTIONS.items():
        for question in questions:
            save_question(session, actor=None, category=categories[slug], data=question)
    for position, (name, only_in, fi, en, sv) in enumerate(RESPONSE_TEMPLATES):
        template = ResponseTemplateForm(
            name=name,
            body_fi=fi,
            body_en=en,
            body_sv=sv,
            category=str(categories[only_in].id) if only_in else "",
            position=position,
        )
        save_template(session, actor=None, data=template)
    users = {}
    for email, name, role, tenant_name in USERS:
        users[email] = create_user(
            session,
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            role=role,
            tenant_id=tenants[tenant_name].id if tenant_name else None,
        )
    # the caretaker takes faults and services first; ideas wait for the manager's triage
    for category in categories.values():
        if category.kind != CategoryKind.idea:
            category.default_assignee_id = users["huolto@digipolis.example"].id
    ev = _load_requests(
        session,
        users=users,
        categories=categories,
        buildings=buildings,
        now=now,
        storage=storage,
    )
    load_charging(
        session,
        now=now,
        token=operator_token or secrets.token_urlsafe(32),
        users=users,
        ev_request=ev,
    )
    _add_api_keys(
        session,
        admin=users["admin@digipolis.example"],
        categories=categories,
        buildings=buildings,
        now=now,
        api_key_file=api_key_file,
    )
    _add_subscribers(session, categories=categories, now=now)
    _add_news_channel(session)
    return True


def _add_api_keys(
    session: Session,
    *,
    admin: User,
    categories: dict[str, Category],
    buildings: dict[str, Building],
    now: datetime,
    api_key_file: Path | None,
) -> None:
    """The city's feedback system (reads and sends, with a request it sent yesterday and
    its calls), the park's news channel (reads) and an old test key, revoked."""
    city, secret = issue_key(
        session,
        admin=admin,
        data=ApiKeyCreate(
            name="Kemin kaupungin palautejärjestelmä",
            scopes=[ApiScope.read, ApiScope.submit],
            rate_limit_per_minute=120,
        ),
        now=now - timedelta(days=21),
    )
    if api_key_file is not None:  # so that a newcomer can send a request with it
        api_key_file.write_text(secret + "\n")
        api_key_file.chmod(0o600)
    issue_key(
        session,
        admin=admin,
        data=ApiKeyCreate(
            name="Puiston uutiskanava", scopes=[ApiScope.read], rate_limit_per_minute=60
        ),
        now=now - timedelta(days=14),
    )
    old, _secret = issue_key(
        session,
        admin=admin,
        data=ApiKeyCreate(name="Vanha testiavain", scopes=[ApiScope.read]),
        now=now - timedelta(days=200),
    )
    revoke_key(session, admin=admin, key=old, now=now - timedelta(days=90))

    # A resident's report from the city's feedback service: a street light out on the path
    # to Sensori, sent as the Open311 API sends requests (no submitter; the key, the pin
    # and whom to contact).
    sent = now - timedelta(days=1, hours=3)
    light = submit_from_api(
        session,
        key=city,
        category=categories["outdoor-lighting"],
        building=buildings["SENSORI"],
        title="Katuvalo pimeänä Sensorille vievällä kävelytiellä",
        description="Kävelytien toinen valaisin Tietokadun bussipysäkiltä Sensorin "
        "pääovelle päin ei syty. Aamulla kahdeksalta tie on pilkkopimeä, ja kohdassa on "
        "liukas alamäki.",
        location_note="Kävelytie Tietokadun pysäkiltä Sensorin pääovelle, toinen valaisin",
        latitude=65.7391,
        longitude=24.5818,
        contact={
            "first_name": "Maija",
            "last_name": "Kallio",
            "email": "maija.kallio@kemi.example",
            "phone": "+358 40 123 4567",
        },
        answers={},
        now=sent,
    )
    base = "/api/open311/v2"
    first = now - timedelta(days=20, hours=2)  # the city's developer tries the API out
    calls = [  # (when, method, path, status, what it did)
        (first, "GET", f"{base}/discovery.json", 200, ""),
        (first + timedelta(minutes=1), "GET", f"{base}/services.json", 200, ""),
        (first + timedelta(minutes=9), "POST", f"{base}/requests.json", 400, ""),
        (now - timedelta(days=6, hours=5), "GET", f"{base}/requests.json", 200, ""),
        (sent, "POST", f"{base}/requests.json", 201, light.reference),
        (sent + timedelta(seconds=2), "GET", f"{base}/requests/{light.reference}.json", 200, ""),
        (now - timedelta(hours=4), "GET", f"{base}/requests.json", 200, ""),
    ]
    for moment, method, path, status_code, detail in calls:
        record_use(
            session,
            key=city,
            method=method,
            path=path,
            status_code=status_code,
            remote_addr="198.51.100.23",
            detail=detail,
            now=moment,
        )
    session.flush()


def _add_news_channel(session: Session) -> None:
    """The park's news channel, added last so that the demo's history queues no posts.

    Inactive, at an address that resolves nowhere (.invalid, never asked of DNS): an
    active channel would fill the outbox with failed posts. An admin points it at a
    receiver and activates it; "Send a test post" shows the format. (Posts go to public
    addresses only: a receiver on this machine needs FACILITIES_WEBHOOK_ALLOWED_NETWORKS.)"""
    channel = save_channel(
        session,
        actor=None,
        data=ChannelForm(
            name="Digipolis-uutiskanava",
            url="https://uutiset.digipolis.invalid/facilities",
            format=ChannelFormat.generic,
            wants_updates=True,
            wants_status_changes=True,
            wants_weekly=True,
            note="Yrityselämän uutiskanava. Aktivoi, kun vastaanotin on käynnissä.",
        ),
    )
    channel.active = False


def _add_subscribers(session: Session, *, categories: dict[str, Category], now: datetime) -> None:
    """People following the park by e-mail without an account, added after the history so
    that it mails nobody: neighbours follow EV charging as it happens or daily, the news
    editor gets everything in a weekly digest (all confirmed already; the e-mails appear
    in the console)."""
    ev_charging = categories["ev-charging"].id or 0
    followers = [
        ("naapuri@example.fi", SubscriptionScope.category, ev_charging, Frequency.immediate, "fi"),
        ("uutiset@digipolis.example", SubscriptionScope.everything, 0, Frequency.weekly, "fi"),
        ("neighbour@example.com", SubscriptionScope.category, ev_charging, Frequency.daily, "en"),
    ]
    for email, scope, target_id, frequency, language in followers:
        subscription = Subscription(
            email=email,
            scope=scope,
            target_id=target_id,
            frequency=frequency,
            language=language,
            token_salt="",
            token_hash="",
            created_at=now,
            confirmed_at=now,
        )
        new_token(subscription)
        session.add(subscription)
    session.flush()


def _load_requests(session, *, users, categories, buildings, now, storage) -> ServiceRequest:
    statuses = {status.slug: status for status in session.exec(select(Status)).all()}
    staff = users["huolto@digipolis.example"]
    quarters = quarter_choices(now.date())
    created: dict[str, ServiceRequest] = {}
    for item in REQUESTS:
        moment = now - timedelta(days=item.days_ago)
        service_request = submit_request(
            session,
            submitter=users[item.submitter],
            data=ServiceRequestCreate(
                title=item.title,
                description=item.description,
                category_id=categories[item.category].id,
                building_id=buildings[item.building].id if item.building else None,
                show_name=item.key in NAMED,
            ),
            answers=ANSWERS.get(item.key),
            files=[
                read_upload(demo_photo(), filename="pysakointialue-sensori.png", max_bytes=10**7)
            ]
            if item.key == "ev" and storage is not None
            else (),
            storage=storage,
            now=moment,
            notify=False,
        )
        created[item.key] = service_request
        for step_number, step in enumerate(item.steps, start=1):
            triage_request(
                session,
                service_request=service_request,
                actor=staff,
                data=_step_form(service_request, step, statuses, quarters, created),
                now=moment + timedelta(days=step_number * item.days_ago / (len(item.steps) + 1)),
                notify=False,
            )
    _load_history(session, users=users, categories=categories, buildings=buildings, now=now)
    _schedule_posts(session, created["ev"], staff=staff, now=now)
    _schedule_works(session, created, staff=staff, now=now)
    _support(session, created=created, users=users, now=now)
    _enter_workshop(session, users=users, categories=categories, buildings=buildings, now=now)
    for name, query in SAVED_VIEWS:
        save_view(session, user=staff, name=name, query=query)
    return created["ev"]


# The development project's workshop a fortnight ago and an interview last week: ideas
# staff entered for the companies (company, category, building, title, description).
WORKSHOP = [
    (
        "Kemin Datapaja Oy",
        "networking-events",
        "TEKNOLOGIATALO",
        "Aamukahvit yrityksille kerran kuussa",
        "Työpajassa toivottiin vapaamuotoista tapaamista, jossa puiston yritykset "
        "tutustuvat toisiinsa.",
    ),
    (
        "Lumo Circular Oy",
        "circular-economy",
        "HALLI5",
        "Yhteinen kierrätyspiste pakkausmateriaaleille",
        "Pahvi ja kuplamuovi kiertämään yritykseltä toiselle.",
    ),
    (
        "Kaamos Design Oy",
        "meeting-rooms",
        "INNOVAATTORI",
        "Hiljainen huone etätyöpuheluille",
        "",
    ),
    (
        "Arktinen Anturi Oy",
        "ev-charging",
        "SENSORI",
        "Latauspaikat myös vieraspysäköintiin",
        "Asiakkaat tulevat usein sähköautolla Oulusta ja Rovaniemeltä.",
    ),
]
INTERVIEW = [
    (
        "Pohjoisen Prosessianalytiikka Oy",
        "parking-traffic",
        "SENSORI",
        "Pyöräpysäköinti katokseen Sensorin pääoven viereen",
        "Haastattelussa kerrottiin, että kymmenkunta työntekijää pyöräilee ympäri vuoden.",
    ),
]
# The caretaker's saved views of the queue.
SAVED_VIEWS = [
    ("Omat myöhässä", "assignee=mine&overdue=1"),
    ("Työpajan ideat", "source=workshop&status=all"),
    ("Eniten tuetut ideat", "sort=support"),
]


def _enter_workshop(session, *, users, categories, buildings, now) -> None:
    tenants = {tenant.name: tenant for tenant in session.exec(select(Tenant)).all()}
    for source, days_ago, rows in (
        (RequestSource.workshop, 14, WORKSHOP),
        (RequestSource.interview, 6, INTERVIEW),
    ):
        day = now - timedelta(days=days_ago)
        enter_requests(
            session,
            actor=users["admin@digipolis.example"],
            source=source,
            source_date=day.date(),
            rows={
                number: EnteredRequest(
                    tenant_id=tenants[company].id,
                    category_id=categories[category].id,
                    building_id=buildings[building].id,
                    title=title,
                    description=description,
                )
                for number, (company, category, building, title, description) in enumerate(rows)
            },
            now=day + timedelta(hours=3),
        )


# A year of the caretaker's routine jobs, done, so that the staff dashboard has months to
# compare and the public changelog a year of months (every third job is public):
# (category, title). Heating asks for the room.
ROUTINE = [
    ("heating-ventilation", "Toimistossa on liian kylmä"),
    ("heating-ventilation", "Ilmanvaihto pitää kovaa ääntä"),
    ("cleaning-waste", "Biojäteastia on täynnä"),
    ("cleaning-waste", "Porraskäytävä kaipaa siivousta"),
    ("outdoor-lighting", "Pihavalo ei syty"),
    ("connectivity", "Vierasverkko ei toimi"),
    ("meeting-rooms", "Neuvotteluhuoneen näyttö ei käynnisty"),
]


def _load_history(session, *, users, categories, buildings, now) -> None:
    rng = random.Random(2026)
    staff = users["huolto@digipolis.example"]
    members = [email for email, _name, role, _tenant in USERS if role == Role.member]
    statuses = {status.slug: status for status in session.exec(select(Status)).all()}
    for number in range(48):
        category, title = rng.choice(ROUTINE)
        sent = now - timedelta(days=rng.uniform(10, 360))
        service_request = submit_request(
            session,
            submitter=users[rng.choice(members)],
            data=ServiceRequestCreate(
                title=title,
                category_id=categories[category].id,
                building_id=rng.choice(list(buildings.values())).id,
            ),
            answers={"room": ["2.14"]} if category == "heating-ventilation" else None,
            now=sent,
            notify=False,
        )
        answered = sent + timedelta(hours=rng.uniform(0.3, 12))
        done = answered + timedelta(hours=rng.uniform(1, 120))
        for step, moment in (
            (
                {"status": "in-progress", "visibility": "public" if number % 3 == 0 else "private"},
                answered,
            ),
            ({"status": "done"}, done),
        ):
            triage_request(
                session,
                service_request=service_request,
                actor=staff,
                data=_step_form(service_request, step, statuses, [], {}),
                now=moment,
                notify=False,
            )


# Who backs what: the property manager prioritises by companies, then people.
SUPPORTS = {
    "ev": [
        "satu.lehto@ppa.example",
        "laura.niemi@datapaja.example",
        "jari.kemppainen@perameri.example",
        "oskari.heikkila@lumo.example",
        "emma.salmi@kaamos.example",
    ],
    "bikes": ["aino.virtanen@arktinenanturi.example", "laura.niemi@datapaja.example"],
    "sauna": ["aino.virtanen@arktinenanturi.example", "oskari.heikkila@lumo.example"],
    "ewaste": ["emma.salmi@kaamos.example"],
}


def _support(session, *, created, users, now) -> None:
    for key, emails in SUPPORTS.items():
        if key not in created or not created[key].is_public:
            continue
        for email in emails:
            support_request(session, user=users[email], service_request=created[key], now=now)


def _step_form(service_request, step, statuses, quarters, created) -> ServiceRequestTriage:
    """One step of a demo request's history as the triage form staff would have sent."""
    return ServiceRequestTriage(
        version=service_request.version,
        status_id=statuses[step["status"]].id,
        priority=Priority(step.get("priority", service_request.priority)),
        visibility=Visibility(step.get("visibility", service_request.visibility)),
        target_quarter=quarters[step["target"]] if "target" in step else "",
        public_update=step.get("public_update", ""),
        internal_note=step.get("internal_note", ""),
        duplicate_of_reference=created[step["duplicate_of"]].reference
        if "duplicate_of" in step
        else "",
    )


def _schedule_posts(session, ev: ServiceRequest, *, staff, now) -> None:
    """Scheduled posts: one the scheduler publishes a couple of minutes after the demo
    starts, one in two weeks."""
    for delay, text in (
        (
            timedelta(minutes=2),
            "Latauspisteiden kilpailutusasiakirjat on julkaistu. "
            "Tarjoukset pyydetään joulukuun loppuun mennessä.",
        ),
        (timedelta(days=14), "Urakoitsija on valittu. Asennus alkaa, kun maa sulaa."),
    ):
        triage_request(
            session,
            service_request=ev,
            actor=staff,
            data=ServiceRequestTriage(
                version=ev.version,
                status_id=ev.status_id,
                priority=ev.priority,
                visibility=ev.visibility,
                target_quarter=quarter_of(ev.target_start, ev.target_end),
                public_update=text,
                publish_at=now + delay,
            ),
            now=now,
        )


def _schedule_works(session, created: dict[str, ServiceRequest], *, staff, now) -> None:
    """Works in the coming spring, for the request pages and the works calendar."""
    spring = now.year + (1 if now.month >= 4 else 0)
    for key, names, days, note in (
        (
            "ev",
            {
                "fi": "Sensorin pysäköintialue suljettu latauspisteiden asennuksen ajan",
                "en": "Sensori's parking area closed for the chargers' installation",
                "sv": "Sensoris parkeringsområde stängt medan laddpunkterna installeras",
            },
            (date(spring, 4, 12), date(spring, 4, 14)),
            "Pääoven edusta; pysäköi Halli 5:n taakse",
        ),
        (
            "bikes",
            {
                "fi": "Pyöräkatoksen perustustyöt Innovaattorin sisäänkäynnillä",
                "en": "Foundations for the bike shelter at Innovaattori's entrance",
            },
            (date(spring, 5, 4), date(spring, 5, 6)),
            "Sisäänkäynti kiertää pohjoispäädyn kautta",
        ),
    ):
        add_work(
            session,
            actor=staff,
            service_request=created[key],
            data=ScheduledWorkForm(
                name_fi=names["fi"],
                name_en=names.get("en", ""),
                name_sv=names.get("sv", ""),
                starts_on=days[0],
                ends_on=days[1],
                location_note=note,
            ),
        )


DEMO_SIGN_INS = [
    DemoSignIn(role.value, email, DEMO_PASSWORD, name)
    for email, name, role, _tenant in USERS
    if email
    in {
        "admin@digipolis.example",
        "huolto@digipolis.example",
        "aino.virtanen@arktinenanturi.example",
        "jari.kemppainen@perameri.example",
    }
]
