"""Calling a charge point operator's OCPI 2.2.1 interface: our token in, the envelope out.

Every request carries `Authorization: Token <base64 of the token>` and fresh
`X-Request-ID` / `X-Correlation-ID` headers (transport_and_format.asciidoc). Every
answer must be an OCPI envelope with status_code 1000; anything else (an HTTP error, no
answer within the timeout, no JSON, another status code) is an `OcpiClientError` that
says what went wrong in a line fit for a log or an admin page. Tokens never appear in it.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import httpx

SUCCESS = 1000
TIMEOUT_SECONDS = 10.0
MESSAGE_LENGTH = 200  # of the other side's status_message, quoted in our errors


class OcpiClientError(Exception):
    """A call to the other party failed, or its answer cannot be used."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status  # None: no HTTP answer at all
        self.status_code = status_code  # the OCPI status code, when there was an envelope


@dataclass(frozen=True)
class OcpiAnswer:
    data: Any
    next_url: str | None  # the `Link: <…>; rel="next"` of a paginated answer


def authorization(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


class OcpiClient:
    """One HTTP connection pool for a series of calls; close it (or use `with`) after."""

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect must not take our token elsewhere
            headers={"Accept": "application/json"},
        )
        self.timeout = timeout

    def __enter__(self) -> OcpiClient:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(
        self,
        url: str,
        *,
        token: str,
        params: dict[str, str | int] | None = None,
        headers: dict[str, str] | None = None,
    ) -> OcpiAnswer:
        return self._call("GET", url, token=token, params=params, headers=headers)

    def post(self, url: str, *, token: str, body: dict[str, Any]) -> OcpiAnswer:
        return self._call("POST", url, token=token, json=body)

    def _call(
        self,
        method: str,
        url: str,
        *,
        token: str,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> OcpiAnswer:
        where = f"{method} {url}"
        request_id = str(uuid.uuid4())
        try:
            response = self._http.request(
                method,
                url,
                headers={
                    "Authorization": authorization(token),
                    "X-Request-ID": request_id,
                    "X-Correlation-ID": request_id,
                    **(headers or {}),
                },
                **options,
            )
        except httpx.TimeoutException:
            raise OcpiClientError(f"{where}: no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise OcpiClientError(f"{where}: {type(error).__name__}: {error}") from None
        return _answer(where, response)


def _answer(where: str, response: httpx.Response) -> OcpiAnswer:
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep to parse
        body = None
    envelope = body if isinstance(body, dict) and "status_code" in body else None
    status_message = ""
    if envelope is not None:
        status_message = str(envelope.get("status_message") or "")[:MESSAGE_LENGTH]
    said = f" ({status_message})" if status_message else ""
    if response.is_error or response.is_redirect:
        raise OcpiClientError(
            f"{where}: HTTP {response.status_code} {response.reason_phrase}{said}",
            http_status=response.status_code,
            status_code=_int(envelope.get("status_code")) if envelope else None,
        )
    if envelope is None:
        what = "not JSON" if body is None else "JSON without an OCPI status_code"
        raise OcpiClientError(
            f"{where}: the answer is {what}, not an OCPI envelope",
            http_status=response.status_code,
        )
    status_code = _int(envelope.get("status_code"))
    if status_code != SUCCESS:
        raise OcpiClientError(
            f"{where}: OCPI status {envelope.get('status_code')!r}{said}",
            http_status=response.status_code,
            status_code=status_code,
        )
    next_link = response.links.get("next", {}).get("url")
    next_url = urljoin(str(response.url), next_link) if next_link else None
    return OcpiAnswer(data=envelope.get("data"), next_url=next_url)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
