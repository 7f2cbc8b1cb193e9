"""Every OCPI 2.2.1 example body of Versions, Credentials and Locations, sent the way the
specification sends it, as an outside certification check would.

The example files are used as published (tests/api/ocpi_examples/README.md); where a body
must change (URLs that point at this test's own server), the test changes a copy.
The spec's PATCH and PUT examples address location 1012 / EVSE 3255 of NL/TNM, which none
of its location examples defines: here they go to the objects of `location_example.json`
(BE/BEC, LOC1, EVSEs 3256 and 3257), the base each test PUTs first.
"""

from __future__ import annotations

import base64
import copy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from facilities.charging import ocpi
from facilities.charging.models import OcpiParty
from tests.api.test_ocpi_locations import SPECS, auth, example, registered
from tests.charging.fake_operator import served

EXAMPLES = Path(__file__).parent / "ocpi_examples"
LOCATIONS = "/ocpi/2.2.1/locations"
CREDENTIALS = "/ocpi/2.2.1/credentials"
ENVELOPE_KEYS = {"data", "status_code", "status_message", "timestamp"}
CPO_TOKEN = "token-of-the-example-cpo"  # token C of the example's CPO
IDS = {"X-Request-ID": "req-example-1", "X-Correlation-ID": "corr-example-1"}


def spec(name: str) -> Any:
    """An example file: ours (tests/api/ocpi_examples) or the eight in /work/shared/specs."""
    path = EXAMPLES / name
    return json.loads(path.read_text()) if path.exists() else example(name)


def test_the_saved_examples_are_json_and_not_the_shared_ones_again():
    saved = sorted(path.name for path in EXAMPLES.glob("*.json"))
    assert len(saved) == 19
    for name in saved:
        json.loads((EXAMPLES / name).read_text())
    assert not set(saved) & {path.name for path in SPECS.glob("*.json")}


# --- comparing -------------------------------------------------------------------------


def missing(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where `actual` lacks what `expected` says: every key and value of the example must
    be there (lists element by element); keys we add are allowed."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path or '.'}: {actual!r} is not an object"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += missing(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: {actual!r} is not {expected!r}"]
        return [
            p for i, item in enumerate(expected) for p in missing(item, actual[i], f"{path}[{i}]")
        ]
    return [] if expected == actual else [f"{path}: {actual!r} is not {expected!r}"]


def ok(response, *, ids: bool = True) -> Any:
    """HTTP 200 with status 1000 in the envelope (and our ids back); returns its data."""
    body = response.get_json()
    assert (response.status_code, body.get("status_code")) == (200, 1000), body
    assert set(body) <= ENVELOPE_KEYS and body["timestamp"].endswith("Z"), body
    if ids:
        assert response.headers["X-Request-ID"] == IDS["X-Request-ID"]
        assert response.headers["X-Correlation-ID"] == IDS["X-Correlation-ID"]
    return body.get("data")


def headers(token: str) -> dict[str, str]:
    return auth(token) | IDS


def party_for(db, body: dict[str, Any], token: str = CPO_TOKEN) -> OcpiParty:
    """The example's own CPO: our rule is that an object belongs to the party that sent it."""
    return registered(db, country_code=body["country_code"], party_id=body["party_id"], token=token)


def location_url(body: dict[str, Any], suffix: str = "") -> str:
    return f"{LOCATIONS}/{body['country_code']}/{body['party_id']}/{body['id']}{suffix}"


def assert_read_back(client, token: str, location: dict[str, Any]) -> None:
    """GET the location, each EVSE and each connector: the example's fields come back."""
    url = location_url(location)
    assert missing(location, ok(client.get(url, headers=headers(token)))) == []
    for evse in location.get("evses", []):
        got = ok(client.get(f"{url}/{evse['uid']}", headers=headers(token)))
        assert missing(evse, got) == []
        for connector in evse.get("connectors", []):
            address = f"{url}/{evse['uid']}/{connector['id']}"
            assert missing(connector, ok(client.get(address, headers=headers(token)))) == []


# --- Locations: whole locations --------------------------------------------------------

FULL_LOCATIONS = [
    "location_example.json",
    "location_example_parking_garage_opening_hours.json",
    "location_example_uc2_destination_charger.json",
    "location_example_uc3_destination_charger_not_published.json",
    "location_example_uc4_limited_visibility.json",
    "location_example_uc5_home_charge_point.json",
]


@pytest.mark.parametrize("name", FULL_LOCATIONS)
def test_a_location_example_is_put_and_read_back(client, db, name):
    location = spec(name)
    party_for(db, location)
    assert ok(client.put(location_url(location), json=location, headers=headers(CPO_TOKEN))) is None
    assert_read_back(client, CPO_TOKEN, location)


# Fragments of a Location (EnergyMix, Hours, RegularHours): put into the base location
# where the Location object has them.
FRAGMENTS = [
    ("location_energymix_example_simple.json", None),
    ("location_energymix_example_energy_provider.json", None),
    ("location_energymix_example_complete.json", None),
    ("location_regularhours_example.json", None),
    ("location_hours_247_open_exception_closing.json", "opening_times"),
    ("location_hours_opening_hours_with_exceptional_closing.json", "opening_times"),
    ("location_hours_opening_hours_with_exceptional_opening.json", "opening_times"),
]


@pytest.mark.parametrize(("name", "field"), FRAGMENTS)
def test_a_location_fragment_example_is_stored_in_a_location(client, db, name, field):
    fragment = spec(name)
    location = example("location_example.json") | (fragment if field is None else {field: fragment})
    party_for(db, location)
    ok(client.put(location_url(location), json=location, headers=headers(CPO_TOKEN)))
    assert_read_back(client, CPO_TOKEN, location)


# --- Locations: an EVSE and a connector PUT --------------------------------------------


@pytest.mark.parametrize("base_has_it", [False, True], ids=["add", "replace"])
def test_the_evse_put_example_adds_or_replaces_an_evse(client, db, base_has_it):
    base = example("location_example.json")
    if not base_has_it:  # the spec's case: the uid is new to the receiver
        base["evses"] = [evse for evse in base["evses"] if evse["uid"] != "3256"]
    party_for(db, base)
    token = CPO_TOKEN
    ok(client.put(location_url(base), json=base, headers=headers(token)))
    evse = spec("location_put_example_add_evse.json")
    assert ok(client.put(location_url(base, "/3256"), json=evse, headers=headers(token))) is None
    assert missing(evse, ok(client.get(location_url(base, "/3256"), headers=headers(token)))) == []
    stored = ok(client.get(location_url(base), headers=headers(token)))
    assert [e["uid"] for e in stored["evses"]].count("3256") == 1
    # The spec: a PUT of an EVSE sets the parent Location's last_updated too.
    assert stored["last_updated"] == evse["last_updated"]


def test_a_connector_of_the_location_example_is_put_on_its_own(client, db):
    base = example("location_example.json")
    party_for(db, base)
    token = CPO_TOKEN
    ok(client.put(location_url(base), json=base, headers=headers(token)))
    connector = copy.deepcopy(base["evses"][0]["connectors"][1])  # id 2 of EVSE 3256
    address = location_url(base, "/3256/2")
    assert ok(client.put(address, json=connector, headers=headers(token))) is None
    assert missing(connector, ok(client.get(address, headers=headers(token)))) == []


# --- Locations: PATCH ------------------------------------------------------------------

PATCHES = [
    ("location_patch_example_location.json", ""),
    ("location_patch_example_status.json", "/3256"),
    ("location_patch_example_remove_evse.json", "/3257"),
    ("location_patch_example_tariff.json", "/3256/2"),
]


@pytest.mark.parametrize(("name", "suffix"), PATCHES)
def test_a_patch_example_changes_its_object_and_its_parents(client, db, name, suffix):
    base = example("location_example.json")
    party_for(db, base)
    token = CPO_TOKEN
    ok(client.put(location_url(base), json=base, headers=headers(token)))
    patch = spec(name)
    assert ok(client.patch(location_url(base, suffix), json=patch, headers=headers(token))) is None
    changed = ok(client.get(location_url(base, suffix), headers=headers(token)))
    assert missing(patch, changed) == []
    # The spec: a PATCH of an EVSE or connector sets its parents' last_updated too.
    parts = suffix.strip("/").split("/") if suffix else []
    for depth in range(len(parts)):
        parent = "".join(f"/{part}" for part in parts[:depth])
        got = ok(client.get(location_url(base, parent), headers=headers(token)))
        assert got["last_updated"] == patch["last_updated"], parent or "location"
    # Nothing else of the object was lost.
    before = base if not parts else next(e for e in base["evses"] if e["uid"] == parts[0])
    if len(parts) == 2:
        before = next(c for c in before["connectors"] if c["id"] == parts[1])
    unchanged = {k: v for k, v in before.items() if k not in patch and k != "last_updated"}
    assert missing(unchanged, changed) == []


def raw_file(name: str) -> bytes:
    """An example file's bytes, exactly as published."""
    path = EXAMPLES / name
    return path.read_bytes() if path.exists() else (SPECS / name).read_bytes()


def _raw(base_url: str, method: str, path: str, token: str, payload: bytes) -> tuple[bytes, bytes]:
    """One request on the wire; the answer's head and body as bytes."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: {auth(token)['Authorization']}\r\n"
        f"X-Request-ID: raw-{method}\r\nX-Correlation-ID: raw-corr\r\n"
        "Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head.encode() + payload)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    answer_head, _, answer = received.partition(b"\r\n\r\n")
    return answer_head, answer


def test_every_location_example_goes_over_the_wire_as_published_and_the_ids_come_back(app, db):
    """The files' own bytes (UTF-8, as the spec prints them), not a re-encoding."""
    tokens: dict[tuple[str, str], str] = {}
    requests = []
    for name in FULL_LOCATIONS:
        location = spec(name)
        pair = (location["country_code"], location["party_id"])
        if pair not in tokens:
            tokens[pair] = f"token-of-{pair[0]}-{pair[1]}"
            party_for(db, location, tokens[pair])
        requests.append(("PUT", location_url(location), tokens[pair], raw_file(name)))
    base = example("location_example.json")
    token = tokens[(base["country_code"], base["party_id"])]
    requests += [
        ("PATCH", location_url(base, suffix), token, raw_file(name)) for name, suffix in PATCHES
    ]
    requests.append(
        ("PUT", location_url(base, "/3256"), token, raw_file("location_put_example_add_evse.json"))
    )
    with served(app) as base_url:
        for method, path, party_token, payload in requests:
            head, answer = _raw(base_url, method, path, party_token, payload)
            assert head.startswith(b"HTTP/1.1 200"), (path, head, answer)
            assert f"\r\nX-Request-ID: raw-{method}\r\n".encode() in head + b"\r\n"
            assert b"\r\nX-Correlation-ID: raw-corr\r\n" in head + b"\r\n"
            assert json.loads(answer)["status_code"] == 1000, answer


# --- Versions and the envelope ---------------------------------------------------------


def test_our_versions_and_details_have_the_shape_of_the_examples(client, db):
    token = CPO_TOKEN
    party_for(db, example("location_example.json"))
    listed = client.get("/ocpi/versions", headers=headers(token))
    envelope = spec("transport_and_format_version_info_example.json")
    assert set(listed.get_json()) == set(envelope)
    versions = ok(listed)
    assert {tuple(sorted(v)) for v in versions} == {tuple(sorted(v)) for v in envelope["data"]}
    assert [v["version"] for v in versions] == ["2.2.1"]

    answer = client.get(urlsplit(versions[0]["url"]).path, headers=headers(token))
    envelope = spec("transport_and_format_version_details_example.json")
    assert set(answer.get_json()) == set(envelope)
    details = ok(answer)
    assert set(details) == set(envelope["data"]) == set(spec("version_details_example2.json"))
    for endpoint in details["endpoints"]:
        assert set(endpoint) == set(envelope["data"]["endpoints"][0])
        assert endpoint["role"] in {"SENDER", "RECEIVER"}


# --- Credentials -----------------------------------------------------------------------


class SpecPlatform:
    """The client's platform as the spec's examples describe it: its versions and version
    details, the URLs moved to this server. The examples label their version "2.2", a
    leftover of OCPI 2.2 which 2.2.1 deprecates ("do not use, use 2.2.1 instead"): the
    copy served here says 2.2.1, the version both sides speak."""

    def __init__(self, versions: str, details: str, token: str) -> None:
        self.token = token
        self.received: list[tuple[str, str, str]] = []
        self.ids: list[tuple[str | None, str | None]] = []  # what our requests carried
        self._sources = (versions, details)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self.pages: dict[str, dict[str, Any]] = {}

    def moved(self, url: str) -> str:
        return self.base_url + urlsplit(url).path

    def load(self) -> None:
        versions, details = (_as_envelope(spec(name)) for name in self._sources)
        for version in versions["data"]:
            version["version"] = _label(version["version"])
            version["url"] = self.moved(version["url"])
        details["data"]["version"] = _label(details["data"]["version"])
        for endpoint in details["data"]["endpoints"]:
            endpoint["url"] = self.moved(endpoint["url"])
        self.versions_url = self.base_url + "/ocpi/versions/"
        self.endpoints = details["data"]["endpoints"]
        (ours,) = [v for v in versions["data"] if v["version"] == "2.2.1"]
        self.pages = {"/ocpi/versions/": versions, urlsplit(ours["url"]).path: details}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                scheme, _, value = self.headers.get("Authorization", "").partition(" ")
                token = base64.b64decode(value).decode() if scheme == "Token" else ""
                platform.received.append(("GET", self.path, token))
                platform.ids.append(
                    (self.headers.get("X-Request-ID"), self.headers.get("X-Correlation-ID"))
                )
                page = platform.pages.get(self.path)
                status = 200 if page is not None and token == platform.token else 404
                body = json.dumps(page or {"status_code": 2000, "status_message": "no"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    @contextmanager
    def running(self) -> Iterator[SpecPlatform]:
        self.load()
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()


def _label(version: str) -> str:
    return "2.2.1" if version == "2.2" else version


def _as_envelope(body: Any) -> dict[str, Any]:
    """The transport examples are whole envelopes; the others are their data."""
    if isinstance(body, dict) and "status_code" in body:
        return body
    return {
        "data": body,
        "status_code": 1000,
        "status_message": "Success",
        "timestamp": "2015-06-30T21:59:59Z",
    }


CREDENTIALS_EXAMPLES = [
    "credentials_example.json",
    "credentials_example2.json",
    "credentials_example3.json",
    "credentials_example4.json",
]
PLATFORMS = {
    "versions+details": ("versions_info_example.json", "version_details_example.json"),
    "versions+details2": ("versions_info_example.json", "version_details_example2.json"),
    "transport-envelopes": (
        "transport_and_format_version_info_example.json",
        "transport_and_format_version_details_example.json",
    ),
}


@pytest.mark.parametrize("platform_name", list(PLATFORMS))
@pytest.mark.parametrize("name", CREDENTIALS_EXAMPLES)
def test_a_credentials_example_registers_updates_and_pushes(client, db, name, platform_name):
    theirs = spec(name)
    first = theirs["roles"][0]
    token_a = "token-a-we-gave-" + first["party_id"]
    party, _token = ocpi.add_party(
        db,
        name=first["business_details"]["name"],
        country_code=first["country_code"],
        party_id=first["party_id"],
        token=token_a,
    )
    db.commit()
    platform = SpecPlatform(*PLATFORMS[platform_name], token=theirs["token"])
    with platform.running():
        body = theirs | {"url": platform.versions_url}
        ours = ok(client.post(CREDENTIALS, json=body, headers=headers(token_a)))
        assert set(ours) == {"token", "url", "roles"}
        # Before answering, we read their versions and details with their token.
        assert [path for _method, path, _token in platform.received] == list(platform.pages)
        assert {token for _method, _path, token in platform.received} == {theirs["token"]}
        assert all(request_id and correlation_id for request_id, correlation_id in platform.ids)
        db.expire_all()
        stored = db.get(OcpiParty, party.id)
        assert stored.registered and stored.roles == theirs["roles"]
        assert stored.endpoints == platform.endpoints
        token_c = ours["token"]
        assert ok(client.get(CREDENTIALS, headers=headers(token_c)))["token"] == token_c

        # Each CPO role of the credentials pushes its own locations; an eMSP role alone
        # sends none (example 2 names NL/EXA as both). A location id is unique within
        # the platform, its sub-operators included (mod_locations: Location.id), so each
        # role's location has its own.
        cpo = {(r["country_code"], r["party_id"]) for r in theirs["roles"] if r["role"] == "CPO"}
        for role in theirs["roles"]:
            pair = (role["country_code"], role["party_id"])
            location = example("location_example.json") | {
                "country_code": pair[0],
                "party_id": pair[1],
                "id": f"LOC-{role['role']}-{pair[1]}",
            }
            answer = client.put(location_url(location), json=location, headers=headers(token_c))
            if pair in cpo:
                ok(answer)
                assert_read_back(client, token_c, location)
            else:
                assert answer.status_code == 403
        # PUT: the same credentials again (as after a token or URL change).
        token_d = ok(client.put(CREDENTIALS, json=body, headers=headers(token_c)))["token"]
        assert token_d != token_c
        assert ok(client.get(CREDENTIALS, headers=headers(token_d)))["token"] == token_d
