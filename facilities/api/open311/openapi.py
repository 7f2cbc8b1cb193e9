"""The OpenAPI 3.1 document of the Open311 GeoReport v2 API (served at /api/openapi.json).

Each resource has a `.json` and a `.xml` path, as the specification names them; the
document describes both, with the JSON schemas for the JSON answers.
"""

from __future__ import annotations

from typing import Any

from facilities.api.open311.resources import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from facilities.api.open311.submission import DESCRIPTION_LENGTH, MAX_PAGE

OPENAPI_VERSION = "3.1.0"
V2 = "/api/open311/v2"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **more: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **more}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {
            "code": {"type": "integer", "description": "The HTTP status."},
            "description": {"type": "string", "description": "What went wrong, and what to do."},
        },
    },
    "Errors": {"type": "array", "items": _ref("Error"), "minItems": 1},
    "Discovery": {
        "type": "object",
        "required": ["changeset", "contact", "key_service", "endpoints"],
        "properties": {
            "changeset": {"type": "string", "description": "When the endpoints last changed."},
            "contact": {"type": "string"},
            "key_service": {"type": "string", "description": "How to get an api_key."},
            "endpoints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["specification", "url", "changeset", "type", "formats"],
                    "properties": {
                        "specification": {"type": "string"},
                        "url": {"type": "string"},
                        "changeset": {"type": "string"},
                        "type": {"type": "string", "enum": ["production", "test"]},
                        "formats": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
    "Service": {
        "type": "object",
        "required": [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ],
        "properties": {
            "service_code": {"type": "string", "description": "The category's slug."},
            "service_name": {"type": "string"},
            "description": {"type": "string"},
            "metadata": {
                "type": "boolean",
                "description": "True when the service asks extra questions (its definition).",
            },
            "type": {
                "type": "string",
                "enum": ["realtime", "batch", "blackbox"],
                "description": "realtime: a new request's id is given at once; batch: a "
                "private category, whose requests are answered with a token only.",
            },
            "keywords": {"type": "string", "description": "Comma-separated."},
            "group": {"type": "string", "enum": ["ideas", "faults", "services"]},
        },
    },
    "Services": {"type": "array", "items": _ref("Service")},
    "AttributeValue": {
        "type": "object",
        "required": ["key", "name"],
        "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
    },
    "Attribute": {
        "type": "object",
        "required": [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values",
        ],
        "properties": {
            "variable": {"type": "boolean"},
            "code": {"type": "string", "description": "Send as attribute[code]."},
            "datatype": {
                "type": "string",
                "enum": [
                    "string",
                    "number",
                    "datetime",
                    "text",
                    "singlevaluelist",
                    "multivaluelist",
                ],
            },
            "required": {"type": "boolean"},
            "datatype_description": _nullable("string"),
            "order": {"type": "integer", "minimum": 1},
            "description": {"type": "string"},
            "values": {"type": "array", "items": _ref("AttributeValue")},
        },
    },
    "ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {
            "service_code": {"type": "string"},
            "attributes": {"type": "array", "items": _ref("Attribute")},
        },
    },
    "ServiceRequest": {
        "type": "object",
        "required": [
            "service_request_id",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url",
        ],
        "properties": {
            "service_request_id": {
                "type": "string",
                "description": "The request's reference, such as DP-2026-0042.",
            },
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": {
                "type": "string",
                "description": "The park's own status, and its latest public update.",
            },
            "service_name": {"type": "string"},
            "service_code": {"type": "string"},
            "description": {"type": "string", "description": "The title, and the text after it."},
            "agency_responsible": {"type": "string"},
            "service_notice": _nullable("string"),
            "requested_datetime": {"type": "string", "format": "date-time"},
            "updated_datetime": {"type": "string", "format": "date-time"},
            "expected_datetime": _nullable(
                "string", format="date-time", description="The end of the public target."
            ),
            "address": _nullable("string", description="The building's address."),
            "address_id": _nullable("string", description="The building's code."),
            "zipcode": _nullable("string"),
            "lat": _nullable("number", minimum=-90, maximum=90),
            "long": _nullable("number", minimum=-180, maximum=180),
            "media_url": _nullable(
                "string", format="uri", description="The request's first public photo."
            ),
        },
    },
    "ServiceRequests": {"type": "array", "items": _ref("ServiceRequest")},
    "CreatedRequest": {
        "type": "object",
        "required": ["token", "service_notice", "account_id"],
        "properties": {
            "service_request_id": {
                "type": "string",
                "description": "Left out when the request is private.",
            },
            "token": {"type": "string", "description": "Look the request up by it later."},
            "service_notice": {"type": "string"},
            "account_id": _nullable("string"),
        },
    },
    "CreatedRequests": {"type": "array", "items": _ref("CreatedRequest"), "minItems": 1},
    "TokenAnswer": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "properties": {
            "service_request_id": _nullable(
                "string", description="Null while the request is private."
            ),
            "token": {"type": "string"},
        },
    },
    "TokenAnswers": {"type": "array", "items": _ref("TokenAnswer"), "minItems": 1},
    "NewRequest": {
        "type": "object",
        "description": "Give a location: lat and long, address_string, or address_id. "
        "Answers to the service's questions go as attribute[code] (attribute[code][] "
        "for each value of a multivaluelist).",
        "required": ["api_key", "service_code", "description"],
        "properties": {
            "api_key": {"type": "string", "description": "A key with the submit scope."},
            "jurisdiction_id": {"type": "string"},
            "service_code": {"type": "string"},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            "address_string": {"type": "string", "maxLength": 300},
            "address_id": {"type": "string", "description": "A building's code."},
            "email": {"type": "string", "maxLength": 254},
            "device_id": {"type": "string", "maxLength": 100},
            "account_id": {"type": "string", "maxLength": 100},
            "first_name": {"type": "string", "maxLength": 100},
            "last_name": {"type": "string", "maxLength": 100},
            "phone": {"type": "string", "maxLength": 40},
            "description": {
                "type": "string",
                "maxLength": DESCRIPTION_LENGTH,
                "description": "Its first line becomes the request's title.",
            },
            "media_url": {"type": "string", "maxLength": 500},
        },
        "additionalProperties": {"type": "string"},
    },
}

_JURISDICTION = {
    "name": "jurisdiction_id",
    "in": "query",
    "required": False,
    "description": "The park's code (see discovery). Leave out for every park.",
    "schema": {"type": "string", "minLength": 1},
}
_API_KEY = {
    "name": "api_key",
    "in": "query",
    "required": False,
    "description": "Optional for reading: calls count against the key's own rate limit. "
    "An unknown or revoked key is refused.",
    "schema": {"type": "string"},
}


def _path_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


LIST_PARAMETERS = [
    {
        "name": "service_request_id",
        "in": "query",
        "description": "Comma-separated references; when given, the other filters are ignored.",
        "schema": {"type": "string", "minLength": 1},
    },
    {
        "name": "service_code",
        "in": "query",
        "description": "Comma-separated service codes.",
        "schema": {"type": "string", "minLength": 1},
    },
    {
        "name": "start_date",
        "in": "query",
        "description": "Earliest requested_datetime (ISO 8601). Without dates, the last 90 "
        "days; the range may not be longer.",
        "schema": {"type": "string", "format": "date-time"},
    },
    {
        "name": "end_date",
        "in": "query",
        "description": "Latest requested_datetime (ISO 8601).",
        "schema": {"type": "string", "format": "date-time"},
    },
    {
        "name": "status",
        "in": "query",
        "description": "open, closed, or both comma-separated.",
        "schema": {"type": "string", "minLength": 1},
    },
    {
        "name": "page",
        "in": "query",
        "description": "The page, from 1. A Link header with rel=next points to the next one.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    },
    {
        "name": "page_size",
        "in": "query",
        "description": f"Requests per page (default {DEFAULT_PAGE_SIZE}).",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    },
]


_FORMAT = {
    "name": "format",
    "in": "path",
    "required": True,
    "description": "json or xml: the answer's format (errors too).",
    "schema": {"type": "string", "enum": ["json", "xml"]},
}


def _answers(schema: str, description: str) -> dict[str, Any]:
    """JSON by its schema; XML as the same fields in elements (the specification's)."""
    return {
        "description": description,
        "content": {
            "application/json": {"schema": _ref(schema)},
            "text/xml": {
                "schema": {"type": "string", "description": "The same fields as XML elements."}
            },
        },
    }


def _errors(*codes: int) -> dict[str, Any]:
    descriptions = {
        400: "Bad input: the description says which parameter and why.",
        403: "The api_key is missing, unknown, revoked or lacks the scope.",
        404: "No such resource: an unknown id, code, token, format or jurisdiction_id.",
        429: "Too many calls: wait for Retry-After seconds.",
    }
    return {str(code): _answers("Errors", descriptions[code]) for code in codes}


def _operation(
    *,
    operation_id: str,
    summary: str,
    description: str,
    answer: str,
    answer_description: str,
    parameters: list[dict[str, Any]],
    errors: tuple[int, ...],
    status: int = 200,
    body: bool = False,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": ["Open311 GeoReport v2"],
        "parameters": [_FORMAT, *parameters],
        "responses": {
            str(status): _answers(answer, answer_description),
            **_errors(*errors),
        },
    }
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _ref("NewRequest")}},
        }
    return operation


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    paths[f"{V2}/discovery.{{format}}"] = {
        "get": _operation(
            operation_id="discovery",
            summary="Service discovery",
            description="Where the API is, which formats it speaks and whom to ask for a key.",
            answer="Discovery",
            answer_description="The discovery document.",
            parameters=[_API_KEY],
            errors=(400, 403, 404, 429),
        )
    }
    paths[f"{V2}/services.{{format}}"] = {
        "get": _operation(
            operation_id="services",
            summary="Services",
            description="The request categories one may send, with their group and keywords.",
            answer="Services",
            answer_description="The services.",
            parameters=[_JURISDICTION, _API_KEY],
            errors=(400, 403, 404, 429),
        )
    }
    paths[f"{V2}/services/{{service_code}}.{{format}}"] = {
        "get": _operation(
            operation_id="service_definition",
            summary="Service definition",
            description="A service's extra questions, answered as attribute[code] in a new request.",
            answer="ServiceDefinition",
            answer_description="The service's attributes.",
            parameters=[
                _path_parameter("service_code", "A service_code from the services list."),
                _JURISDICTION,
                _API_KEY,
            ],
            errors=(400, 403, 404, 429),
        )
    }
    paths[f"{V2}/requests.{{format}}"] = {
        "get": _operation(
            operation_id="requests",
            summary="Service requests",
            description="Public requests, newest first, one page at a time. Private "
            "requests are never listed. A filter given empty (start_date=) is a 400: leave "
            "out a filter not wanted.",
            answer="ServiceRequests",
            answer_description="One page of public requests.",
            parameters=[*LIST_PARAMETERS, _JURISDICTION, _API_KEY],
            errors=(400, 403, 404, 429),
        ),
        "post": _operation(
            operation_id="create_request",
            summary="Send a service request",
            description="A new request into the park's queue, checked as the web form "
            "checks one, and marked with the key's client.",
            answer="CreatedRequests",
            answer_description="Received: the request's id (if public) and a token.",
            parameters=[],
            errors=(400, 403, 404, 429),
            status=201,
            body=True,
        ),
    }
    paths[f"{V2}/requests/{{service_request_id}}.{{format}}"] = {
        "get": _operation(
            operation_id="request",
            summary="One service request",
            description="A public request by its id. A private one is a 404.",
            answer="ServiceRequests",
            answer_description="A list of the one request.",
            parameters=[
                _path_parameter("service_request_id", "The request's reference."),
                _JURISDICTION,
                _API_KEY,
            ],
            errors=(400, 403, 404, 429),
        )
    }
    paths[f"{V2}/tokens/{{token}}.{{format}}"] = {
        "get": _operation(
            operation_id="token",
            summary="Request id from a token",
            description="The id of a request sent earlier, by the token its POST returned.",
            answer="TokenAnswers",
            answer_description="The token and the request's id (null if private).",
            parameters=[_path_parameter("token", "The token from POST requests."), _API_KEY],
            errors=(400, 403, 404, 429),
        )
    }
    return paths


def document(*, server_url: str) -> dict[str, Any]:
    """The whole document; `server_url` is the app's base URL (no trailing slash)."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Open311 GeoReport v2",
            "version": "2",
            "summary": "The park's public requests to read, and new requests to send.",
            "description": "Reading needs no key and returns public requests only. Sending "
            "needs an api_key with the submit scope, issued by the park's admins. Every "
            "resource answers JSON or XML by its suffix; times are ISO 8601 in the park's "
            "time zone. Errors are a list of {code, description}.",
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": "Open311 GeoReport v2", "description": "http://wiki.open311.org/GeoReport_v2"}
        ],
        "paths": _paths(),
        "components": {"schemas": SCHEMAS},
    }
