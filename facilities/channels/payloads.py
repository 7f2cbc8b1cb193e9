"""What a channel receives: one post, shaped for the channel's format.

A `Post` is written once, in the park's language; `payload_for` gives the JSON for a
generic receiver (our own, signed), a Slack incoming webhook ({"text", "blocks"}) or a
Microsoft Teams incoming webhook (a message with one Adaptive Card, the format Teams'
Workflows webhooks accept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from facilities.channels.models import ChannelFormat

SLACK_SECTION_LIMIT = 3000  # characters in one Slack section's text


@dataclass(frozen=True)
class Post:
    event: str  # request.updated, request.status_changed, roadmap.weekly, channel.test
    headline: str  # one line, plain text
    text: str  # plain text, lines separated by "\n"
    url: str  # where to read more
    link_label: str
    details: dict[str, Any] = field(default_factory=dict)  # for generic receivers


def payload_for(format: ChannelFormat, post: Post, *, key: str, park: str) -> dict[str, Any]:
    if format == ChannelFormat.slack:
        return slack(post)
    if format == ChannelFormat.teams:
        return teams(post)
    return generic(post, key=key, park=park)


def generic(post: Post, *, key: str, park: str) -> dict[str, Any]:
    return {
        "event": post.event,
        "id": key,  # the idempotency key again, for receivers that keep bodies only
        "park": park,
        "language": "fi",
        "headline": post.headline,
        "text": post.text,
        "url": post.url,
        **post.details,
    }


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn reads &, < and > as markup: escaped, user text stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(post: Post) -> dict[str, Any]:
    headline = f"*<{post.url}|{_slack_escape(post.headline)}>*"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
    ]
    if post.text:
        body = _slack_escape(post.text)[:SLACK_SECTION_LIMIT]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
    return {"text": f"{post.headline}\n{post.url}", "blocks": blocks}


def teams(post: Post) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": post.headline,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    if post.text:
        body.append({"type": "TextBlock", "text": post.text, "wrap": True})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                    "actions": [
                        {"type": "Action.OpenUrl", "title": post.link_label, "url": post.url}
                    ],
                },
            }
        ],
    }
