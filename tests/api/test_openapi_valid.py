"""/api/openapi.json is a valid OpenAPI 3.1 document, and it describes every route the
app serves under /api/open311/v2/ (and nothing the app does not serve)."""

from __future__ import annotations

import itertools
import re

from openapi_spec_validator import OpenAPIV31SpecValidator, validate

PREFIX = "/api/open311/v2/"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# <name>, <converter:name>, <converter(arguments):name>
VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<arguments>[^)]*)\))?:)?(?P<name>\w+)>")


def _document(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _template(path: str) -> str:
    """A path with its variables' names left out: `{format}` and `{fmt}` are one place."""
    return re.sub(r"\{[^}/]+\}", "{}", path)


def route_paths(rule: str) -> tuple[str, set[str]]:
    """The OpenAPI paths one Flask rule answers: the path with a variable for each of its
    variables, and the paths with each word of its `<any(json, xml):fmt>` written out
    (the same one path when it has no `any`)."""
    variable_parts: list[str] = []
    word_parts: list[list[str]] = []
    position = 0
    for match in VARIABLE.finditer(rule):
        static = rule[position : match.start()]
        variable = "{" + match["name"] + "}"
        variable_parts += [static, variable]
        word_parts.append([static])
        if match["converter"] == "any":
            word_parts.append([word.strip().strip("'\"") for word in match["arguments"].split(",")])
        else:
            word_parts.append([variable])
        position = match.end()
    variable_parts.append(rule[position:])
    word_parts.append([rule[position:]])
    return "".join(variable_parts), {"".join(parts) for parts in itertools.product(*word_parts)}


def _documented(document: dict) -> set[tuple[str, str]]:
    return {
        (_template(path), method)
        for path, item in (document.get("paths") or {}).items()
        for method in item
        if method in METHODS
    }


def test_route_paths_reads_converters():
    assert route_paths("/v2/requests/<service_request_id>.<any(json, xml):fmt>") == (
        "/v2/requests/{service_request_id}.{fmt}",
        {"/v2/requests/{service_request_id}.json", "/v2/requests/{service_request_id}.xml"},
    )
    assert route_paths("/v2/x/<int:id>/<path:rest>") == ("/v2/x/{id}/{rest}", {"/v2/x/{id}/{rest}"})
    assert route_paths("/v2/discovery.json") == ("/v2/discovery.json", {"/v2/discovery.json"})


def test_the_document_is_valid_openapi_3_1(client):
    document = _document(client)
    assert document["openapi"].startswith("3.1.")
    validate(document)  # raises OpenAPISpecValidatorError with the first problem
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_every_route_under_the_prefix_is_documented_and_every_documented_path_served(app, client):
    document = _document(client)
    documented = _documented(document)
    served: set[tuple[str, str]] = set()
    undocumented: list[str] = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        variable, words = route_paths(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            as_variable = (_template(variable), method.lower())
            as_words = {(_template(path), method.lower()) for path in words}
            served |= {as_variable, *as_words}
            # documented as one path with a variable, or as each of its words
            if as_variable not in documented and not as_words <= documented:
                undocumented.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert served, f"no routes under {PREFIX}"
    assert undocumented == [], "routes missing from /api/openapi.json: " + ", ".join(undocumented)
    not_served = sorted(
        f"{method.upper()} {path}"
        for path, method in documented
        if path.startswith(PREFIX) and (path, method) not in served
    )
    assert not_served == [], "documented but not served: " + ", ".join(not_served)


def test_every_operation_has_a_summary_responses_and_a_unique_id(client):
    document = _document(client)
    ids: list[str] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert operation.get("responses"), f"{method} {path} has no responses"
            if "operationId" in operation:
                ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))
