"""Open311 answers in JSON and XML, errors included, as GeoReport v2 shapes them.

The XML has a root element per resource (`services`, `service_requests`, ...) with an
element per list item (`service`, `request`, ...); a None is an empty element, a bool
`true`/`false`, and a list inside an item (a service's attribute values) is wrapped in
its own container, as the specification's examples show.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Response

FORMATS = ("json", "xml")
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
CONTENT_TYPES = {"json": "application/json", "xml": "text/xml"}
# Lists inside items: the container's element name -> each entry's element name
NESTED = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


class Open311Error(Exception):
    """Answered as the specification's error list, with this HTTP status."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after  # seconds, for 429


# Characters XML 1.0 cannot carry at all, even escaped (C0 controls but tab and newlines,
# lone surrogates, U+FFFE/U+FFFF): left out so that the document always parses.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: Element, value: Any, name: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(SubElement(element, key), item, key)
    elif isinstance(value, list):
        child_name = NESTED.get(name, "item")
        for item in value:
            _fill(SubElement(element, child_name), item, child_name)
    elif value is not None:
        element.text = _text(value)


def to_xml(root: str, item: str, data: list[Any] | dict[str, Any]) -> bytes:
    """`data` as the spec's XML: a list becomes <root><item>…</item>…</root>, a dict
    (discovery, a service definition) becomes <root>…</root>."""
    element = Element(root)
    if isinstance(data, list):
        for entry in data:
            _fill(SubElement(element, item), entry, item)
    else:
        _fill(element, data, root)
    # the declaration as the specification writes it (ElementTree's uses single quotes)
    return XML_DECLARATION + tostring(element, encoding="unicode").encode()


def encode(fmt: str, data: list[Any] | dict[str, Any], *, root: str, item: str) -> bytes:
    if fmt == "xml":
        return to_xml(root, item, data)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def answer(fmt: str, body: bytes, *, status: int = 200) -> Response:
    return Response(body, status=status, content_type=f"{CONTENT_TYPES[fmt]}; charset=utf-8")


def respond(
    fmt: str, data: list[Any] | dict[str, Any], *, root: str, item: str, status: int = 200
) -> Response:
    return answer(fmt, encode(fmt, data, root=root, item=item), status=status)


def error_response(fmt: str, status: int, description: str) -> Response:
    """[{"code": 400, "description": "..."}] or <errors><error>…</error></errors>."""
    return respond(
        fmt,
        [{"code": status, "description": description}],
        root="errors",
        item="error",
        status=status,
    )
