"""The API's documentation page (/api/docs): server-rendered HTML from the OpenAPI document.

`describe(document)` reads any OpenAPI 3.1 document into plain rows (operations with their
parameters, request bodies and responses; component schemas with their properties) that
the template shows; nothing here knows Open311. References are followed only inside the
document (`#/...`); a reference to a component schema becomes a link to its section rather
than being expanded, so recursive schemas end.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, render_template, url_for
from werkzeug.routing import BuildError

from facilities.settings import get_settings
from facilities.web.access import public
from facilities.web.caching import shared_page

blueprint = Blueprint("api_docs", __name__, url_prefix="/api")

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_PREFIX = "#/components/schemas/"
NESTING_LIMIT = 4  # inline objects in objects: deeper levels are named, not listed
CONSTRAINTS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)


@dataclass(frozen=True)
class TypePart:
    """A piece of a type's label: a JSON Schema type (`string`), a schema's name with the
    anchor of its section, or a connecting word (`array of`, `or`) in the page's language."""

    text: str
    anchor: str = ""
    keyword: bool = False  # a connecting word, translated by the template


@dataclass(frozen=True)
class TypeInfo:
    parts: tuple[TypePart, ...] = ()
    format: str = ""
    enum: tuple[str, ...] = ()
    default: str = ""
    constraints: tuple[str, ...] = ()  # `maxLength: 100`, as the document says it
    example: str = ""


@dataclass(frozen=True)
class Field:
    """A parameter, a property or a request body's field."""

    name: str
    type: TypeInfo
    required: bool = False
    location: str = ""  # parameters: path, query, header, cookie
    description: str = ""
    deprecated: bool = False
    read_only: bool = False
    write_only: bool = False


@dataclass(frozen=True)
class Content:
    """One media type of a request body or a response."""

    media_type: str
    type: TypeInfo
    fields: tuple[Field, ...] = ()  # an object's properties, listed
    description: str = ""  # the schema's own, when it is a named one the reader would miss
    additional: TypeInfo | None = None  # what other fields may be (additionalProperties)


@dataclass(frozen=True)
class Body:
    description: str
    required: bool
    contents: tuple[Content, ...]


@dataclass(frozen=True)
class Reply:
    status: str
    description: str
    contents: tuple[Content, ...]
    headers: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    operation_id: str
    tags: tuple[str, ...]
    deprecated: bool
    security: tuple[tuple[str, str], ...]  # (scheme name, its anchor); () means none needed
    optional_security: bool  # `{}` among the alternatives: credentials may be left out
    parameters: tuple[Field, ...]
    body: Body | None
    replies: tuple[Reply, ...]


@dataclass(frozen=True)
class Variant:
    """One alternative of a oneOf / anyOf schema, its properties listed when it has any."""

    type: TypeInfo
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Schema:
    name: str
    anchor: str
    description: str
    type: TypeInfo
    fields: tuple[Field, ...]
    variants: tuple[Variant, ...] = ()  # oneOf / anyOf alternatives
    variant_keyword: str = ""  # "oneOf" or "anyOf"
    additional: TypeInfo | None = None  # what other properties may be (additionalProperties)


@dataclass(frozen=True)
class Scheme:
    name: str
    anchor: str
    kind: str
    description: str
    details: tuple[tuple[str, str], ...]  # (keyword, value): in, name, scheme, flows …


@dataclass(frozen=True)
class Tag:
    name: str
    description: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Description:
    """What the page shows of one document."""

    title: str
    version: str
    openapi: str
    summary: str
    description: str
    servers: tuple[tuple[str, str], ...]  # (url, description)
    tags: tuple[Tag, ...]
    schemas: tuple[Schema, ...]
    schemes: tuple[Scheme, ...]
    external_docs: tuple[str, str] | None = None  # (url, description)

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(operation for tag in self.tags for operation in tag.operations)


@dataclass
class _Reader:
    document: dict[str, Any]
    schema_anchors: dict[str, str] = field(default_factory=dict)
    scheme_anchors: dict[str, str] = field(default_factory=dict)
    used_anchors: set[str] = field(default_factory=set)

    def anchor(self, prefix: str, name: str) -> str:
        """A unique, valid id from any name (a schema may be called `Service Request`)."""
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower() or "item"
        anchor, number = f"{prefix}-{slug}", 1
        while anchor in self.used_anchors:
            number += 1
            anchor = f"{prefix}-{slug}-{number}"
        self.used_anchors.add(anchor)
        return anchor

    def resolve(self, node: Any, seen: frozenset[str] = frozenset()) -> Any:
        """`node` with its `$ref` followed (inside the document only); a reference that
        points nowhere, outside, or in a circle is left as it is."""
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#") or ref in seen:
            return node
        target: Any = self.document
        for token in ref[1:].split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and token in target:
                target = target[token]
            elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
                target = target[int(token)]
            else:
                return node
        if not isinstance(target, dict):
            return node
        # 3.1 allows siblings of $ref (description, summary): they override the target's
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**self.resolve(target, seen | {ref}), **siblings}

    # ---- types ----

    def type_of(self, schema: Any, depth: int = 0) -> TypeInfo:
        if schema is True or schema == {}:
            return TypeInfo(parts=(TypePart("any", keyword=True),))
        if not isinstance(schema, dict):
            return TypeInfo()
        return TypeInfo(
            parts=tuple(self._label(schema, depth)),
            format=str(schema.get("format", "")),
            enum=self._enum(schema),
            default=_show(schema["default"]) if "default" in schema else "",
            constraints=tuple(
                f"{keyword}: {_show(schema[keyword])}"
                for keyword in CONSTRAINTS
                if keyword in schema
            ),
            example=self._example(schema),
        )

    def _enum(self, schema: dict[str, Any]) -> tuple[str, ...]:
        if isinstance(schema.get("enum"), list):
            return tuple(_show(value) for value in schema["enum"])
        if "const" in schema:
            return (_show(schema["const"]),)
        return ()

    @staticmethod
    def _example(schema: dict[str, Any]) -> str:
        if "example" in schema:
            return _show(schema["example"])
        examples = schema.get("examples")
        if isinstance(examples, list) and examples:
            return _show(examples[0])
        return ""

    def _label(self, schema: dict[str, Any], depth: int) -> list[TypePart]:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref.startswith(SCHEMA_PREFIX):
                name = _unescape(ref.removeprefix(SCHEMA_PREFIX))
                return [TypePart(name, self.schema_anchors.get(name, ""))]
            resolved = self.resolve(schema)
            if resolved is schema or depth > NESTING_LIMIT:
                return [TypePart(ref)]
            return self._label(resolved, depth + 1)
        for keyword, connector, joint in (
            ("oneOf", "one of", "or"),
            ("anyOf", "any of", "or"),
            ("allOf", "all of", "and"),
        ):
            variants = schema.get(keyword)
            if isinstance(variants, list) and variants:
                parts: list[TypePart] = [TypePart(connector, keyword=True)]
                for number, variant in enumerate(variants):
                    if number:
                        parts.append(TypePart(joint, keyword=True))
                    parts.extend(
                        self._label(variant, depth + 1) if isinstance(variant, dict) else []
                    )
                return parts
        types = schema.get("type")
        names = [types] if isinstance(types, str) else list(types or [])
        if not names:
            if "properties" in schema:
                names = ["object"]
            elif "const" in schema or "enum" in schema:
                return [TypePart("enum", keyword=True)] if "enum" in schema else [TypePart("const")]
            else:
                return [TypePart("any", keyword=True)]
        parts = []
        for number, name in enumerate(names):
            if number:
                parts.append(TypePart("or", keyword=True))
            if name == "array":
                items = schema.get("items")
                if isinstance(items, dict) and items and depth <= NESTING_LIMIT:
                    parts.append(TypePart("array of", keyword=True))
                    parts.extend(self._label(items, depth + 1))
                else:
                    parts.append(TypePart("array"))
            else:
                parts.append(TypePart(str(name)))
        return parts

    # ---- fields ----

    def properties(self, schema: Any, prefix: str = "", depth: int = 0) -> list[Field]:
        """An object's properties (allOf members merged), inline nested objects listed
        under dotted names (`address.street`, `items[].name`)."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or depth > NESTING_LIMIT:
            return []
        fields: list[Field] = []
        for member in schema.get("allOf") or []:
            fields.extend(self.properties(member, prefix, depth + 1))
        required = set(schema.get("required") or [])
        for name, raw in (schema.get("properties") or {}).items():
            prop = self.resolve(raw) if not _is_schema_ref(raw) else raw
            described = self.resolve(raw) if isinstance(raw, dict) else {}
            full_name = f"{prefix}{name}"
            fields.append(
                Field(
                    name=full_name,
                    type=self.type_of(raw, depth),
                    required=name in required,
                    description=str(described.get("description", "")),
                    deprecated=bool(described.get("deprecated")),
                    read_only=bool(described.get("readOnly")),
                    write_only=bool(described.get("writeOnly")),
                )
            )
            if _is_schema_ref(raw) or not isinstance(prop, dict):
                continue  # a named schema has its own section
            if "properties" in prop or "allOf" in prop:
                fields.extend(self.properties(prop, f"{full_name}.", depth + 1))
            items = prop.get("items")
            if isinstance(items, dict) and not _is_schema_ref(items):
                items = self.resolve(items)
                if "properties" in items or "allOf" in items:
                    fields.extend(self.properties(items, f"{full_name}[].", depth + 1))
        return fields

    def parameter(self, raw: Any) -> Field | None:
        parameter = self.resolve(raw)
        if not isinstance(parameter, dict) or "name" not in parameter:
            return None
        schema = parameter.get("schema")
        if schema is None:  # 3.x allows `content` instead of `schema`
            content = parameter.get("content")
            media: Any = next(iter(content.values()), None) if isinstance(content, dict) else None
            schema = media.get("schema") if isinstance(media, dict) else None
        return Field(
            name=str(parameter["name"]),
            location=str(parameter.get("in", "")),
            required=bool(parameter.get("required")) or parameter.get("in") == "path",
            type=self.type_of(schema),
            description=str(parameter.get("description", "")),
            deprecated=bool(parameter.get("deprecated")),
        )

    def contents(self, content: Any) -> tuple[Content, ...]:
        if not isinstance(content, dict):
            return ()
        found = []
        for media_type, raw in content.items():
            media = self.resolve(raw) if isinstance(raw, dict) else {}
            schema = media.get("schema")
            resolved = self.resolve(schema) if isinstance(schema, dict) else {}
            fields = (
                tuple(self.properties(resolved))
                if isinstance(resolved, dict) and ("properties" in resolved or "allOf" in resolved)
                else ()
            )
            found.append(
                Content(
                    str(media_type),
                    self.type_of(schema),
                    fields,
                    description=str(resolved.get("description", "")) if fields else "",
                    additional=self.additional(resolved),
                )
            )
        return tuple(found)

    def additional(self, schema: Any) -> TypeInfo | None:
        """additionalProperties that allows something: its type (`true` is any value)."""
        if not isinstance(schema, dict):
            return None
        extra = schema.get("additionalProperties")
        if extra is None or extra is False:
            return None
        return self.type_of(extra)

    # ---- operations ----

    def operation(self, path: str, method: str, item: dict[str, Any], raw: dict[str, Any]):
        by_key: dict[tuple[str, str], Field] = {}
        for source in (item.get("parameters") or [], raw.get("parameters") or []):
            for entry in source:  # the operation's own override the path's (by name and place)
                parameter = self.parameter(entry)
                if parameter is not None:
                    by_key[(parameter.name, parameter.location)] = parameter
        body = None
        raw_body = self.resolve(raw.get("requestBody"))
        if isinstance(raw_body, dict) and raw_body:
            body = Body(
                description=str(raw_body.get("description", "")),
                required=bool(raw_body.get("required")),
                contents=self.contents(raw_body.get("content")),
            )
        replies = []
        for status, raw_reply in (raw.get("responses") or {}).items():
            reply = self.resolve(raw_reply)
            if not isinstance(reply, dict):
                continue
            headers = [
                self.parameter({**self.resolve(header), "name": name, "in": "header"})
                for name, header in (reply.get("headers") or {}).items()
                if isinstance(self.resolve(header), dict)
            ]
            replies.append(
                Reply(
                    status=str(status),
                    description=str(reply.get("description", "")),
                    contents=self.contents(reply.get("content")),
                    headers=tuple(header for header in headers if header is not None),
                )
            )
        security = raw.get("security", self.document.get("security")) or []
        names = tuple(
            (str(name), self.scheme_anchors.get(str(name), ""))
            for name in dict.fromkeys(
                name
                for requirement in security
                if isinstance(requirement, dict)
                for name in requirement
            )
        )
        label = str(raw.get("operationId") or f"{method}-{path}")
        return Operation(
            anchor=self.anchor("operation", label),
            method=method.upper(),
            path=path,
            summary=str(raw.get("summary") or item.get("summary") or ""),
            description=str(raw.get("description") or item.get("description") or ""),
            operation_id=str(raw.get("operationId", "")),
            tags=tuple(str(tag) for tag in raw.get("tags") or ()),
            deprecated=bool(raw.get("deprecated")),
            security=names,
            optional_security=any(requirement == {} for requirement in security),
            parameters=tuple(sorted(by_key.values(), key=_parameter_order)),
            body=body,
            replies=tuple(replies),
        )


def _parameter_order(parameter: Field) -> tuple[int, bool]:
    places = ("path", "query", "header", "cookie")
    place = places.index(parameter.location) if parameter.location in places else len(places)
    return (place, not parameter.required)


def _is_schema_ref(node: Any) -> bool:
    return isinstance(node, dict) and str(node.get("$ref", "")).startswith(SCHEMA_PREFIX)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _show(value: Any) -> str:
    """A value from the document as JSON shows it (`true`, `null`, `"x"` as x)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def describe(document: dict[str, Any]) -> Description:
    """What the page shows of `document` (any OpenAPI 3.x document as a dict)."""
    reader = _Reader(document)
    components = document.get("components") or {}
    raw_schemas = components.get("schemas") or {}
    for name in raw_schemas:
        reader.schema_anchors[str(name)] = reader.anchor("schema", str(name))
    raw_schemes = components.get("securitySchemes") or {}
    for name in raw_schemes:
        reader.scheme_anchors[str(name)] = reader.anchor("security", str(name))

    operations: list[Operation] = []
    for path, raw_item in (document.get("paths") or {}).items():
        item = reader.resolve(raw_item)
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            if isinstance(item.get(method), dict):
                operations.append(reader.operation(str(path), method, item, item[method]))

    info = document.get("info") or {}
    declared = [
        tag for tag in document.get("tags") or [] if isinstance(tag, dict) and "name" in tag
    ]
    tag_names = [str(tag["name"]) for tag in declared]
    for operation in operations:
        tag_names.extend(tag for tag in operation.tags if tag not in tag_names)
    tag_texts = {str(tag["name"]): str(tag.get("description", "")) for tag in declared}
    tags = [  # a declared tag without operations would be an empty heading
        Tag(
            name,
            tag_texts.get(name, ""),
            tuple(op for op in operations if op.tags and op.tags[0] == name),
        )
        for name in tag_names
    ]
    tags = [tag for tag in tags if tag.operations]
    untagged = tuple(op for op in operations if not op.tags)
    if untagged:
        tags.append(Tag("", "", untagged))

    schemas = []
    for name, raw in raw_schemas.items():
        schema = reader.resolve(raw) if isinstance(raw, dict) else {}
        variant_keyword = next(
            (key for key in ("oneOf", "anyOf") if isinstance(schema.get(key), list)), ""
        )
        schemas.append(
            Schema(
                name=str(name),
                anchor=reader.schema_anchors[str(name)],
                description=str(schema.get("description", "")),
                type=reader.type_of(raw),
                fields=tuple(reader.properties(schema)),
                variants=tuple(
                    Variant(
                        reader.type_of(variant),
                        () if _is_schema_ref(variant) else tuple(reader.properties(variant)),
                    )
                    for variant in (schema.get(variant_keyword) if variant_keyword else None) or []
                ),
                variant_keyword=variant_keyword,
                additional=reader.additional(schema),
            )
        )

    schemes = []
    for name, raw in raw_schemes.items():
        scheme = reader.resolve(raw)
        if not isinstance(scheme, dict):
            continue
        details = tuple(
            (keyword, _show(scheme[keyword]))
            for keyword in ("in", "name", "scheme", "bearerFormat", "openIdConnectUrl")
            if keyword in scheme
        )
        schemes.append(
            Scheme(
                name=str(name),
                anchor=reader.scheme_anchors[str(name)],
                kind=str(scheme.get("type", "")),
                description=str(scheme.get("description", "")),
                details=details,
            )
        )

    external = document.get("externalDocs")
    return Description(
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        openapi=str(document.get("openapi", "")),
        summary=str(info.get("summary", "")),
        description=str(info.get("description", "")),
        servers=tuple(
            (str(server.get("url", "")), str(server.get("description", "")))
            for server in document.get("servers") or []
            if isinstance(server, dict)
        ),
        tags=tuple(tags),
        schemas=tuple(schemas),
        schemes=tuple(schemes),
        external_docs=(str(external.get("url", "")), str(external.get("description", "")))
        if isinstance(external, dict) and external.get("url")
        else None,
    )


def api_document() -> dict[str, Any]:
    """The served document, as /api/openapi.json gives it."""
    from facilities.api.open311 import openapi  # the module, so a test may swap `document`

    return openapi.document(server_url=get_settings().base_url.rstrip("/"))


def document_url() -> str:
    try:
        return url_for("open311.openapi_document")
    except BuildError:  # the document's route is not there (yet): its documented address
        return "/api/openapi.json"


@blueprint.get("/docs")
@public
@shared_page
def docs_page() -> str:
    """The API's documentation for developers of apps that read or send requests."""
    return render_template(
        "api/docs.html",
        api=describe(api_document()),
        document_url=document_url(),
    )
