"""The API documentation page (/api/docs): the served document rendered as HTML, and any
other OpenAPI 3.1 document rendered as generically (references, alternatives, enums)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from facilities.api import docs
from facilities.api.open311 import openapi
from facilities.settings import get_settings

# An OpenAPI 3.1 document that uses what a document may use: tags, shared parameters,
# $ref everywhere (parameters, bodies, responses, schemas), allOf, oneOf, anyOf, enums,
# nullable types, a recursive schema, security schemes, and names that are not ids.
SAMPLE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Sample API",
        "version": "7.1",
        "summary": "A sample.",
        "description": "Reads **parcels** and their `holders`.",
    },
    "servers": [{"url": "https://api.example.org/v1", "description": "Production"}],
    "externalDocs": {"url": "https://example.org/guide", "description": "The guide"},
    "tags": [{"name": "Parcels", "description": "Things sent."}, {"name": "Empty tag"}],
    "security": [{"key": []}],
    "paths": {
        "/parcels/{parcel_id}.{format}": {
            "summary": "One parcel",
            "parameters": [
                {"$ref": "#/components/parameters/Format"},
                {"name": "parcel_id", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "get": {
                "operationId": "getParcel",
                "tags": ["Parcels"],
                "security": [{}, {"key": []}],
                "parameters": [
                    {
                        "name": "parcel_id",
                        "in": "path",
                        "required": True,
                        "description": "The parcel's **own** id.",
                        "schema": {"type": "string", "pattern": "^P-[0-9]+$"},
                    },
                    {
                        "name": "fields",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                    {"name": "X-Trace", "in": "header", "schema": {"type": ["string", "null"]}},
                ],
                "responses": {
                    "200": {
                        "description": "The parcel.",
                        "headers": {"ETag": {"schema": {"type": "string"}}},
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Parcel"}},
                            "application/xml": {"schema": {"$ref": "#/components/schemas/Parcel"}},
                        },
                    },
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            },
            "delete": {
                "operationId": "dropParcel",
                "deprecated": True,
                "security": [],
                "responses": {"204": {"description": "Gone."}},
            },
        },
        "/parcels.json": {
            "post": {
                "summary": "Send a parcel",
                "tags": ["Parcels"],
                "requestBody": {"$ref": "#/components/requestBodies/NewParcel"},
                "responses": {
                    "201": {
                        "description": "Sent.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Parcel"},
                                }
                            }
                        },
                    },
                    "default": {"$ref": "#/components/responses/NotFound"},
                },
            }
        },
    },
    "components": {
        "parameters": {
            "Format": {
                "name": "format",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": ["json", "xml"], "default": "json"},
            }
        },
        "requestBodies": {
            "NewParcel": {
                "required": True,
                "description": "The parcel to send.",
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "allOf": [
                                {"$ref": "#/components/schemas/ParcelBase"},
                                {
                                    "type": "object",
                                    "required": ["api_key"],
                                    "properties": {"api_key": {"type": "string"}},
                                },
                            ]
                        }
                    },
                    "application/json": {"schema": {"$ref": "#/components/schemas/ParcelBase"}},
                },
            }
        },
        "responses": {
            "NotFound": {
                "description": "No such parcel.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Error"},
                        }
                    }
                },
            }
        },
        "securitySchemes": {
            "key": {
                "type": "apiKey",
                "in": "query",
                "name": "api_key",
                "description": "Ask the admins.",
            }
        },
        "schemas": {
            "ParcelBase": {
                "type": "object",
                "description": "What a parcel is *made of*.",
                "additionalProperties": {"type": "string"},
                "required": ["weight"],
                "properties": {
                    "weight": {"type": "number", "minimum": 0, "maximum": 30},
                    "kind": {"$ref": "#/components/schemas/Kind"},
                },
            },
            "Parcel": {
                "description": "A parcel on its way.",
                "allOf": [
                    {"$ref": "#/components/schemas/ParcelBase"},
                    {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string", "readOnly": True, "examples": ["P-1"]},
                            "sent_at": {"type": "string", "format": "date-time"},
                            "note": {"type": ["string", "null"], "deprecated": True},
                            "holder": {"$ref": "#/components/schemas/Holder"},
                            "address": {
                                "type": "object",
                                "properties": {"street": {"type": "string"}},
                            },
                            "lines": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {"sku": {"type": "string"}},
                                },
                            },
                        },
                    },
                ],
            },
            "Kind": {"type": "string", "enum": ["letter", "box", True, None]},
            "Holder": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Person"},
                    {
                        "type": "object",
                        "properties": {"company": {"type": "string"}},
                    },
                ]
            },
            "Person": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 100},
                    "friend": {"$ref": "#/components/schemas/Person"},  # recursive
                    "contact": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                },
            },
            "Error": {
                "type": "object",
                "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
            },
            "Strange name/with~slash": {"type": "integer", "const": 3},
        },
    },
}


class Anchors(HTMLParser):
    """Collects the page's ids, its in-page links, scripts' and styles' sources and
    elements' lang attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.fragments: list[str] = []
        self.sources: list[str] = []
        self.langs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"] or "")
        href = values.get("href") or ""
        if tag == "a" and href.startswith("#"):
            self.fragments.append(href[1:])
        if tag in ("script", "img", "iframe") and values.get("src"):
            self.sources.append(values["src"] or "")
        if tag == "link" and values.get("rel") == "stylesheet":
            self.sources.append(href)
        if values.get("lang"):
            self.langs.append(values["lang"] or "")


def parse(html: str) -> Anchors:
    parser = Anchors()
    parser.feed(html)
    return parser


@pytest.fixture
def sample(monkeypatch):
    monkeypatch.setattr(openapi, "document", lambda *, server_url: SAMPLE)
    return SAMPLE


def _main(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def test_the_page_is_public_and_shows_the_served_document(app, client):
    document = client.get("/api/openapi.json").get_json()
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'href="/api/openapi.json"' in html
    assert get_settings(app).base_url.rstrip("/") in html  # the server, as the document says
    description = docs.describe(document)
    for operation in description.operations:
        assert f'id="{operation.anchor}"' in html
        assert f'href="#{operation.anchor}"' in html  # in the contents
        assert operation.path.replace("{", "&#123;") in html or operation.path in html
    for schema in description.schemas:
        assert f'id="{schema.anchor}"' in html
    for path, item in document.get("paths", {}).items():
        for method in item:
            if method in docs.METHODS:
                assert re.search(
                    rf">{method.upper()}</span>\s*<code class=\"api-path\">{re.escape(path)}</code>",
                    html,
                ), f"{method} {path} is not on the page"


def test_the_intro_says_what_readers_and_senders_need(client):
    html = client.get("/api/docs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    main = _main(html)
    assert "Open311 GeoReport v2" in main
    assert "Reading needs no key" in main and "Only public requests" in main
    assert "api_key" in main and "administrators issue" in main
    assert ".json" in main and ".xml" in main
    assert "ISO 8601" in main
    # the document declares no security schemes (the key is a form field): no claims
    assert "No key needed" not in main


def test_every_operation_parameter_body_response_and_schema_of_a_document_is_shown(client, sample):
    html = client.get("/api/docs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    main = _main(html)
    # operations, with their summaries and ids; the path-level summary fills in
    for text in (
        '<code class="api-path">/parcels/{parcel_id}.{format}</code>',
        '<code class="api-path">/parcels.json</code>',
        "One parcel",
        "Send a parcel",
        "<code>getParcel</code>",
        "<code>dropParcel</code>",
    ):
        assert text in main, text
    assert main.count('class="api-method api-method--get"') == 2  # contents and body
    assert main.count('class="api-method api-method--delete"') == 2
    # parameters: the path's (a $ref) and the operation's, the operation's description winning
    assert "<code>format</code>" in main and "<code>X-Trace</code>" in main
    assert "<strong>own</strong> id." in main  # Markdown rendered
    assert "<code>json</code>, <code>xml</code>" in main  # enum
    assert "default: <code>json</code>" in main
    assert "<code>pattern: ^P-[0-9]+$</code>" in main
    assert "query string" in main and ">header<" in main
    assert main.count("<code>parcel_id</code>") == 2  # once per operation of the path
    # a nullable type, an array of strings
    assert '<code>string</code> <span class="api-type__keyword">or</span> <code>null</code>' in main
    assert "array of</span> <code>string</code>" in main
    # the request body from components, its allOf merged into fields
    assert "The parcel to send." in main
    assert "<code>application/x-www-form-urlencoded</code>" in main
    for name in ("weight", "kind", "api_key"):
        assert f"<code>{name}</code>" in main
    # responses: statuses, a referenced response, media types, headers
    for status in ("200", "404", "201", "204", "default"):
        assert f'<th scope="row"><code>{status}</code></th>' in main, status
    assert "No such parcel." in main and "<code>ETag</code>" in main
    assert "<code>application/xml</code>" in main
    # schemas: allOf merged, nested objects listed, references linked to their sections
    for name in ("id", "sent_at", "note", "holder", "address.street", "lines[].sku"):
        assert f"<code>{name}</code>" in main, name
    assert '<a href="#schema-holder"><code>Holder</code></a>' in main
    assert '<a href="#schema-parcel"><code>Parcel</code></a>' in main  # in a response
    assert "format: <code>date-time</code>" in main
    assert "<code>letter</code>, <code>box</code>, <code>true</code>, <code>null</code>" in main
    assert "Exactly one of these alternatives:" in main and "<code>company</code>" in main
    assert 'any of</span> <code>string</code> <span class="api-type__keyword">or</span>' in main
    assert "example: <code>P-1</code>" in main
    assert "read only" in main and "deprecated" in main
    # security: the scheme, and who needs it
    assert 'id="security-key"' in main and "Ask the admins." in main
    assert '<a href="#security-key"><code>key</code></a>' in main
    assert "(optional)" in main  # getParcel may be called without a key
    assert main.count("No key needed") == 1  # dropParcel overrides the document's rule
    assert "Production" in main and 'href="https://example.org/guide"' in main
    assert "Reads <strong>parcels</strong>" in main
    # untagged operations get a heading of their own beside the tags'; empty tags none
    assert "Other endpoints" in main and "Empty tag" not in main
    # a named schema in a body: its description and its other fields, there and in its section
    assert main.count("What a parcel is <em>made of</em>.") == 2
    assert main.count('Other fields: <span class="api-type"><code>string</code></span>') == 2


def test_every_link_on_the_page_has_its_target_and_every_id_is_unique(client, sample):
    page = parse(client.get("/api/docs").get_data(as_text=True))
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    missing = set(page.fragments) - set(page.ids)
    assert not missing, f"links to nothing: {missing}"
    assert "schema-strange-name-with-slash" in page.ids
    assert {"introduction", "operations", "schemas", "authentication"} <= set(page.fragments)


def test_the_page_loads_nothing_from_another_host(client, sample):
    page = parse(client.get("/api/docs").get_data(as_text=True))
    assert page.sources, "no stylesheet?"
    assert all(source.startswith("/static/") for source in page.sources), page.sources
    assert "/static/css/api-docs.css" in page.sources


def test_texts_from_the_document_are_marked_english_in_a_finnish_page(client, sample):
    html = client.get("/api/docs", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert '<html lang="fi">' in html
    assert '<p class="api-operation__summary" lang="en">Send a parcel</p>' in html
    assert 'lang="en"><p>The parcel to send.</p>' in html


def test_the_document_text_is_escaped(client, monkeypatch):
    hostile = {
        "openapi": "3.1.0",
        "info": {"title": "<script>alert(1)</script>", "version": "1"},
        "paths": {
            "/x<img src=x>": {
                "get": {
                    "summary": "<b onmouseover=alert(1)>hi</b>",
                    "description": "<script>alert(2)</script> [link](javascript:alert(3))",
                    "parameters": [
                        {"name": '"><svg onload=alert(4)>', "in": "query", "schema": {}}
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {"schemas": {"<i>": {"type": "object"}}},
    }
    monkeypatch.setattr(openapi, "document", lambda *, server_url: hostile)
    html = client.get("/api/docs").get_data(as_text=True)
    main = _main(html)
    assert "<script" not in main and "<img" not in main and "<svg" not in main
    assert "<b " not in main and 'href="javascript' not in main
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in main


@pytest.mark.parametrize(
    "document",
    [
        {"openapi": "3.1.0", "info": {"title": "Bare", "version": "1"}},
        {"openapi": "3.1.0", "info": {}, "paths": {}, "components": {}},
        {
            "openapi": "3.1.0",
            "info": {"title": "Broken references", "version": "1"},
            "paths": {
                "/a": {
                    "parameters": [{"$ref": "#/components/parameters/Nowhere"}],
                    "get": {
                        "parameters": [{"$ref": "https://elsewhere.example/p.json"}],
                        "requestBody": {"$ref": "#/nothing/here"},
                        "responses": {
                            "200": {"$ref": "#/components/responses/Gone"},
                            "500": {
                                "description": "x",
                                "content": {"application/json": {"schema": {"$ref": "#/a/b"}}},
                            },
                        },
                    },
                },
                "/loop": {"$ref": "#/paths/~1loop"},
            },
            "components": {
                "schemas": {
                    "A": {"$ref": "#/components/schemas/B"},
                    "B": {"$ref": "#/components/schemas/A"},
                    "Deep": {
                        "type": "object",
                        "properties": {
                            "a": {
                                "type": "object",
                                "properties": {
                                    "b": {
                                        "type": "object",
                                        "properties": {
                                            "c": {
                                                "type": "object",
                                                "properties": {
                                                    "d": {
                                                        "type": "object",
                                                        "properties": {
                                                            "e": {
                                                                "type": "object",
                                                                "properties": {
                                                                    "f": {"type": "string"}
                                                                },
                                                            }
                                                        },
                                                    }
                                                },
                                            }
                                        },
                                    }
                                },
                            }
                        },
                    },
                }
            },
        },
    ],
    ids=["no paths", "empty", "broken and circular references"],
)
def test_odd_documents_still_render(client, monkeypatch, document):
    monkeypatch.setattr(openapi, "document", lambda *, server_url: document)
    response = client.get("/api/docs", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert not set(page.fragments) - set(page.ids)
    if not document.get("paths"):
        assert "No endpoints are described yet." in response.get_data(as_text=True)


def test_describe_reads_references_and_alternatives():
    api = docs.describe(SAMPLE)
    assert [tag.name for tag in api.tags] == ["Parcels", ""]  # the empty tag left out
    assert [op.method for op in api.tags[0].operations] == ["GET", "POST"]
    get = api.tags[0].operations[0]
    assert [(p.name, p.location, p.required) for p in get.parameters] == [
        ("format", "path", True),
        ("parcel_id", "path", True),
        ("fields", "query", False),
        ("X-Trace", "header", False),
    ]
    assert get.security == (("key", "security-key"),) and get.optional_security
    post = api.tags[0].operations[1]
    assert post.security == (("key", "security-key"),) and not post.optional_security
    assert post.body is not None and post.body.required
    assert [(f.name, f.required) for f in post.body.contents[0].fields] == [
        ("weight", True),
        ("kind", False),
        ("api_key", True),
    ]
    schemas = {schema.name: schema for schema in api.schemas}
    assert schemas["Kind"].type.enum == ("letter", "box", "true", "null")
    holder = schemas["Holder"]
    assert holder.variant_keyword == "oneOf"
    assert [part.text for part in holder.variants[0].type.parts] == ["Person"]
    assert [f.name for f in holder.variants[1].fields] == ["company"]
    person = {f.name: f for f in schemas["Person"].fields}
    assert person["friend"].type.parts[0].anchor == "schema-person"  # linked, not expanded
    assert schemas["Strange name/with~slash"].type.enum == ("3",)


def test_anonymous_visitors_get_a_kept_page_and_a_304(client):
    first = client.get("/api/docs")
    assert first.status_code == 200 and first.headers.get("ETag")
    again = client.get("/api/docs", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_signed_in_users_see_the_page_too(client, signed_in):
    signed_in(preferred_language="en")
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "API documentation" in response.get_data(as_text=True)
