"""Limited Markdown for request descriptions and updates, sanitised after rendering."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}

# Raw HTML is off at the parser; headings, images and tables are not part of the limited set.
_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).disable(
    ["image", "heading", "lheading", "html_block", "html_inline"]
)


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for `text`: Markdown rendered, then cleaned by an allow-list."""
    if not text:
        return Markup("")
    html = _parser.render(text)
    return Markup(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )
    )
