"""One URL, two representations: the full page, or for htmx the fragment the page includes."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template
from markupsafe import Markup

from facilities.extensions import htmx


def wants_fragment() -> bool:
    """htmx asks for the part it swaps; restoring history (the Back button) asks with
    HX-Request too, but needs the page."""
    return bool(htmx and not htmx.boosted and not htmx.history_restore_request)


def render(page: str, fragment: str, /, *, status: int = 200, **context: Any) -> Response:
    """Render `page`, or only `fragment` (which `page` includes) for an htmx request."""
    if wants_fragment():
        return render_fragment(fragment, status=status, **context)
    response = make_response(render_template(page, **context), status)
    response.vary.add("HX-Request")
    return response


def render_with_part(page: str, part: Markup, /, **context: Any) -> Response:
    """`page` with `part` already rendered in it, or for htmx `part` alone."""
    if wants_fragment():
        response = make_response(part + render_template("_flashes.html", oob=True))
    else:
        response = make_response(render_template(page, part=part, **context))
    response.vary.add("HX-Request")
    return response


def render_fragment(fragment: str, /, *, status: int = 200, **context: Any) -> Response:
    """A fragment plus the flash messages, swapped out of band into the page's message area."""
    body = render_template(fragment, **context) + render_template("_flashes.html", oob=True)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
