"""A charge point operator's OCPI 2.2.1 platform for tests: a real HTTP server on
127.0.0.1 in a thread (stdlib), and our app served the same way for it to call back.

The operator hands out token A, answers our credentials POST with token C after calling
our versions endpoint with token B (as the spec requires of it), and has a Locations
sender that pages its answers (`Link`, `X-Total-Count`, `X-Limit`) and honours
`date_from` / `date_to`.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from werkzeug.serving import make_server

TOKEN_A = "token-a-from-the-operator"
TOKEN_C = "token-c-for-calling-the-operator"
LOCATIONS_PATH = "/ocpi/cpo/2.2.1/locations"


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    token: str
    headers: dict[str, str]
    body: Any = None


@dataclass
class FakeOperator:
    country_code: str = "FI"
    party_id: str = "KLO"
    name: str = "Kemin Lataus Oy"
    page_size: int = 2  # X-Limit: the most it sends per page, whatever we ask for
    versions: tuple[str, ...] = ("2.1.1", "2.2.1")
    has_locations_sender: bool = True
    locations: list[dict[str, Any]] = field(default_factory=list)
    # How the Locations sender fails: None, "500", "envelope" (status 2001 in an HTTP 200),
    # "not-json", "deep" (JSON nested past any parser's recursion), or "other-host" (its next
    # page link names another host).
    failure: str | None = None
    received: list[Received] = field(default_factory=list)
    callbacks: list[int] = field(default_factory=list)  # HTTP statuses of calls to us
    token_b: str | None = None  # ours, once we registered
    # Tokens it accepts besides A and C: the one it gives us when it registers with us.
    tokens: tuple[str, ...] = ()
    more_roles: list[dict[str, Any]] = field(default_factory=list)  # in its credentials
    locations_path: str = LOCATIONS_PATH

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    def endpoints(self) -> list[dict[str, str]]:
        endpoints = [
            {
                "identifier": "credentials",
                "role": "SENDER",
                "url": f"{self.base_url}/ocpi/2.2.1/credentials",
            }
        ]
        if self.has_locations_sender:
            endpoints.append(
                {
                    "identifier": "locations",
                    "role": "SENDER",
                    "url": f"{self.base_url}{self.locations_path}",
                }
            )
        return endpoints

    def location_requests(self) -> list[Received]:
        return [r for r in self.received if r.path == self.locations_path]

    def __enter__(self) -> FakeOperator:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def envelope(data: Any = None, *, status_code: int = 1000, message: str = "Success") -> dict:
    body = {
        "status_code": status_code,
        "status_message": message,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if data is not None:
        body["data"] = data
    return body


def _token(header: str) -> str:
    scheme, _, value = header.partition(" ")
    if scheme != "Token":
        return ""
    try:
        return base64.b64decode(value, validate=True).decode()
    except ValueError:
        return ""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _handler(operator: FakeOperator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            token = _token(self.headers.get("Authorization", ""))
            operator.received.append(
                Received(method, url.path, query, token, dict(self.headers.items()), body)
            )
            # Token A opens versions and credentials until we register; token C after.
            registered = operator.token_b is not None
            allowed = ({TOKEN_C} if registered else {TOKEN_A}) | set(operator.tokens)
            if token not in allowed:
                return self._send(401, envelope(status_code=2000, message="Unknown token"))
            if (method, url.path) == ("GET", "/ocpi/versions"):
                return self._send(
                    200,
                    envelope(
                        [
                            {"version": v, "url": f"{operator.base_url}/ocpi/{v}"}
                            for v in operator.versions
                        ]
                    ),
                )
            if (method, url.path) == ("GET", "/ocpi/2.2.1"):
                return self._send(
                    200, envelope({"version": "2.2.1", "endpoints": operator.endpoints()})
                )
            if (method, url.path) == ("POST", "/ocpi/2.2.1/credentials"):
                return self._register(body)
            if (method, url.path) == ("GET", operator.locations_path) and registered:
                return self._locations(query)
            return self._send(404, envelope(status_code=2000, message="Not found"))

        def _register(self, body: dict[str, Any]) -> None:
            # As the spec asks of a server: read the client's endpoints with its token B.
            try:
                headers = {
                    "Authorization": "Token " + base64.b64encode(body["token"].encode()).decode()
                }
                versions = httpx.get(body["url"], headers=headers, timeout=5)
                operator.callbacks.append(versions.status_code)
                (ours,) = [v for v in versions.json()["data"] if v["version"] == "2.2.1"]
                details = httpx.get(ours["url"], headers=headers, timeout=5)
                operator.callbacks.append(details.status_code)
                details.raise_for_status()
            except (httpx.HTTPError, KeyError, ValueError) as error:
                return self._send(
                    200,
                    envelope(status_code=3001, message=f"Unable to use the client's API: {error}"),
                )
            operator.token_b = body["token"]
            return self._send(
                200,
                envelope(
                    {
                        "token": TOKEN_C,
                        "url": operator.versions_url,
                        "roles": [
                            {
                                "role": "CPO",
                                "country_code": operator.country_code,
                                "party_id": operator.party_id,
                                "business_details": {"name": operator.name},
                            },
                            *operator.more_roles,
                        ],
                    }
                ),
            )

        def _locations(self, query: dict[str, str]) -> None:
            if operator.failure == "500":
                return self._send_raw(500, b"Internal Server Error", "text/plain")
            if operator.failure == "not-json":
                return self._send_raw(200, b"<html>maintenance</html>", "text/html")
            if operator.failure == "deep":
                deep = b"[" * 100_000 + b"]" * 100_000
                return self._send_raw(200, deep, "application/json")
            if operator.failure == "envelope":
                return self._send(200, envelope(status_code=2001, message="Invalid parameters"))
            matching = [
                location
                for location in operator.locations
                if (
                    "date_from" not in query
                    or _time(location["last_updated"]) >= _time(query["date_from"])
                )
                and (
                    "date_to" not in query
                    or _time(location["last_updated"]) < _time(query["date_to"])
                )
            ]
            offset = int(query.get("offset", 0))
            limit = min(int(query.get("limit", operator.page_size)), operator.page_size)
            page = matching[offset : offset + limit]
            headers = {"X-Total-Count": str(len(matching)), "X-Limit": str(operator.page_size)}
            if offset + limit < len(matching):
                filters = {k: v for k, v in query.items() if k in ("date_from", "date_to")}
                next_query = urlencode({**filters, "offset": offset + limit, "limit": limit})
                base = operator.base_url
                if operator.failure == "other-host":
                    base = base.replace("127.0.0.1", "localhost")
                headers["Link"] = f'<{base}{operator.locations_path}?{next_query}>; rel="next"'
            return self._send(200, envelope(page), headers)

        def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
            self._send_raw(status, json.dumps(body).encode(), "application/json", headers)

        def _send_raw(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def location(
    number: int,
    last_updated: str,
    *,
    status: str = "AVAILABLE",
    country_code: str = "FI",
    party_id: str = "KLO",
) -> dict[str, Any]:
    """A Location as the operator's sender lists it, with two EVSEs."""
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": f"LOC{number}",
        "publish": True,
        "name": f"Sensori P{number}",
        "address": "Tekniikantie 1",
        "city": "Kemi",
        "country": "FIN",
        "coordinates": {"latitude": "65.736", "longitude": "24.564"},
        "time_zone": "Europe/Helsinki",
        "evses": [
            {
                "uid": f"{number}-{side}",
                "evse_id": f"FI*{party_id}*E{number}{side}",
                "status": status,
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "format": "SOCKET",
                        "power_type": "AC_3_PHASE",
                        "max_voltage": 230,
                        "max_amperage": 16,
                        "last_updated": last_updated,
                    }
                ],
                "last_updated": last_updated,
            }
            for side in (1, 2)
        ],
        "last_updated": last_updated,
    }


@contextmanager
def served(app) -> Iterator[str]:
    """Our app on 127.0.0.1 in a thread, for the operator to call back; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
